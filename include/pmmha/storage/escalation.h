// SPDX-License-Identifier: GPL-2.0-or-later
// Stop is a force operation: the escalation that frees a busy mount within
// the stop budget. Explicit phases, each bounded by a deadline:
//
//   try  -> done
//   busy -> SIGTERM every user found, wait for them to exit (until the TERM
//           share of the budget is used up), try again
//        -> SIGKILL every user still found, wait, try again (until the deadline)
//        -> fail, naming the users left: the cluster then fences the node,
//           which is the right recovery for a filesystem that cannot be freed.
//
// With force "false" nobody is signalled: the attempt is only repeated.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pmmha/core/deadline.h"
#include "pmmha/core/log.h"
#include "pmmha/core/status.h"
#include "pmmha/storage/proc_users.h"

namespace pmmha {

enum class ForceUnmount { kNo, kSafe, kYes };

// "true" / "safe" / "false" as the force_unmount parameter spells them.
ForceUnmount ParseForceUnmount(std::string_view value);

struct EscalationPolicy {
  ForceUnmount force = ForceUnmount::kYes;
  double term_share = 0.5;  // of the budget, for SIGTERM before SIGKILL
};

// One try at the goal (an unmount, "no namespace holds the device").
struct Attempt {
  enum class Kind { kDone, kBusy, kFailed };
  Kind kind = Kind::kDone;
  std::string error;  // kFailed: why; the escalation stops there

  static Attempt Done() { return {Kind::kDone, {}}; }
  static Attempt Busy() { return {Kind::kBusy, {}}; }
  static Attempt Failed(std::string why) { return {Kind::kFailed, std::move(why)}; }
};

// Signals and waits, the OS side of the escalation.
class ProcessControl {
 public:
  virtual ~ProcessControl() = default;
  virtual void Signal(pid_t pid, int signal) = 0;
  // Waits until every pid has exited or `until` passes; true when all have.
  virtual bool WaitExit(const std::vector<pid_t>& pids, const Deadline& until) = 0;
  // Waits until `until`: the retry pause when the goal is not reached and no
  // process to wait for is known (the kernel offers no "mount became free"
  // event to wait on).
  virtual void Pause(const Deadline& until) = 0;
};

struct EscalationStep {
  std::function<Attempt()> attempt;
  std::function<UserSearch()> users;
};

// Repeats `step.attempt` until it is done, escalating against `step.users`
// as described above. `what` names the goal in messages ("unmount of
// '/srv'"). Success: kSuccess. Failure: kErrGeneric with the users left.
Status Escalate(std::string_view what, const EscalationStep& step, ProcessControl& control,
                const EscalationPolicy& policy, const Deadline& deadline, const Logger& log);

// The real ProcessControl: kill(2), pidfd polling.
class SystemProcessControl final : public ProcessControl {
 public:
  void Signal(pid_t pid, int signal) override;
  bool WaitExit(const std::vector<pid_t>& pids, const Deadline& until) override;
  void Pause(const Deadline& until) override;
};

}  // namespace pmmha
