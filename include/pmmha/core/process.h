// SPDX-License-Identifier: GPL-2.0-or-later
// Running a program: argv, never a shell.
//
// The child gets stdin from /dev/null, default SIGPIPE and signal mask, no
// inherited descriptors beyond 0-2 (everything we open is O_CLOEXEC), and
// stays in our process group so that Pacemaker's SIGKILL of the group at the
// operation timeout reaches it too. Output is captured up to a cap. The wait
// is bounded by the deadline, and so is its end: a program that would outlive
// the deadline gets SIGTERM, a grace period and SIGKILL before it, so that the
// agent still answers with its own reason before Pacemaker's timeout.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pmmha/core/deadline.h"
#include "pmmha/core/status.h"

namespace pmmha {

struct ProcessOptions {
  std::size_t output_cap = 64 * 1024;          // per stream; the rest is discarded
  std::chrono::milliseconds kill_grace{1000};  // SIGTERM -> SIGKILL (see PlanKill)
  // Extra "NAME=value" entries added to (or replacing in) our environment.
  std::vector<std::string> extra_env = {};
};

struct ProcessResult {
  bool exited = false;  // exited normally; exit_code is valid
  int exit_code = -1;
  int term_signal = 0;     // the signal that ended it, when not exited
  bool timed_out = false;  // the deadline passed and we ended it
  std::string out;
  std::string err;
  bool out_truncated = false;
  bool err_truncated = false;

  bool Succeeded() const { return exited && exit_code == 0; }
  // "exit 3", "killed by SIGKILL", "timed out, killed by SIGTERM".
  std::string Describe() const;
};

// When a run that would outlive its deadline is ended, counted back from the
// deadline: SIGTERM `term_before` it, SIGKILL `kill_before` it, and at the
// deadline the runner stops waiting (a process in uninterruptible sleep does
// not die even from SIGKILL until its I/O ends). The whole tail is
// kill_grace plus 500 ms for SIGKILL to act, but never more than a quarter of
// the time the run has, so a short operation still gives the program most of
// its budget; the grace shrinks in proportion.
struct KillPlan {
  std::chrono::milliseconds term_before;
  std::chrono::milliseconds kill_before;
};
KillPlan PlanKill(std::chrono::milliseconds remaining, std::chrono::milliseconds kill_grace);

// Runs programs. The real runner forks; tests substitute a fake.
class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // On success the program ran (whatever its exit status). Fails with
  // kErrInstalled when argv[0] cannot be found or executed, kErrGeneric when
  // the deadline had passed before it started or the system refused a fork.
  virtual Result<ProcessResult> Run(const std::vector<std::string>& argv, const Deadline& deadline,
                                    const ProcessOptions& options = {}) = 0;
};

// fork/exec with pidfd-based waiting.
std::unique_ptr<ProcessRunner> MakeProcessRunner();

// The absolute path of an executable `name` (searching PATH when it has no
// '/'); nothing when it does not exist or is not executable.
std::optional<std::string> FindExecutable(std::string_view name, std::string_view path_env);

}  // namespace pmmha
