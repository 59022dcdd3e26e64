// SPDX-License-Identifier: GPL-2.0-or-later
// Running a program: argv, never a shell.
//
// The child gets stdin from /dev/null, default SIGPIPE and signal mask, no
// inherited descriptors beyond 0-2 (everything we open is O_CLOEXEC), and
// stays in our process group so that Pacemaker's SIGKILL of the group at the
// operation timeout reaches it too. Output is captured up to a cap. The wait
// is bounded by the deadline: then SIGTERM, a grace period, SIGKILL, reap.
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
  std::chrono::milliseconds kill_grace{1000};  // SIGTERM -> SIGKILL at the deadline
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
