// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/storage/escalation.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include <fmt/format.h>

#include "pmmha/core/pidfd.h"

namespace pmmha {

namespace {

using std::chrono::milliseconds;

constexpr milliseconds kFirstPause{20};
constexpr milliseconds kLongestPause{500};

std::string_view SignalName(int sig) { return sig == SIGTERM ? "SIGTERM" : "SIGKILL"; }

}  // namespace

ForceUnmount ParseForceUnmount(std::string_view value) {
  if (value == "false") return ForceUnmount::kNo;
  if (value == "safe") return ForceUnmount::kSafe;
  return ForceUnmount::kYes;
}

Status Escalate(std::string_view what, const EscalationStep& step, ProcessControl& control,
                const EscalationPolicy& policy, const Deadline& deadline, const Logger& log) {
  const Deadline term_end = deadline.Fraction(policy.term_share);
  std::set<pid_t> termed, killed;
  milliseconds pause = kFirstPause;
  auto next_pause = [&pause](const Deadline& until) {
    Deadline d = until.Within(pause);
    pause = std::min(pause * 2, kLongestPause);
    return d;
  };
  bool signalled = false;
  bool logged_search = false;
  for (;;) {
    Attempt attempt = step.attempt();
    if (attempt.kind == Attempt::Kind::kDone) return Status::Ok();
    if (attempt.kind == Attempt::Kind::kFailed) {
      // An attempt cut short by the deadline says less than who holds the
      // mount: report that instead.
      if (deadline.HasExpired()) break;
      return Status::Error("{} failed: {}", what, attempt.error);
    }
    if (deadline.HasExpired()) break;
    if (policy.force == ForceUnmount::kNo) {
      control.Pause(next_pause(deadline));
      if (deadline.HasExpired()) break;
      continue;
    }
    const bool term_phase = !term_end.HasExpired();
    const int sig = term_phase ? SIGTERM : SIGKILL;
    std::set<pid_t>& sent = term_phase ? termed : killed;
    UserSearch search = step.users();
    if (!logged_search && !search.open_files.empty()) {
      log.Debug("{} is busy: searching its users with {}", what, search.open_files);
      logged_search = true;
    }
    const std::vector<ProcUser>& users = search.users;
    std::vector<pid_t> pids;
    for (const ProcUser& u : users) {
      pids.push_back(u.pid);
      if (!sent.insert(u.pid).second) continue;
      log.Info("{} is busy: sending {} to {} ({}, {})", what, SignalName(sig), u.pid, u.comm,
               u.how);
      control.Signal(u.pid, sig);
      signalled = true;
    }
    const Deadline& phase_end = term_phase ? term_end : deadline;
    if (pids.empty()) {
      control.Pause(next_pause(phase_end));
    } else {
      control.WaitExit(pids, phase_end);
    }
    // No time left for another try: its own deadline would fail it anyway.
    if (deadline.HasExpired()) break;
  }
  UserSearch left = step.users();
  const std::string unfinished = left.unfinished.empty() ? "" : "; " + left.unfinished;
  if (left.users.empty()) {
    return Status::Error(
        "{} did not succeed before the stop timeout: still busy, no process "
        "using it found{}{}",
        what, signalled ? " (after killing its users)" : "", unfinished);
  }
  return Status::Error("{} did not succeed before the stop timeout: still used by {}{}{}", what,
                       DescribeUsers(left.users),
                       policy.force == ForceUnmount::kNo ? " (force_unmount=false)" : "",
                       unfinished);
}

void SystemProcessControl::Signal(pid_t pid, int signal) { kill(pid, signal); }

bool SystemProcessControl::WaitExit(const std::vector<pid_t>& pids, const Deadline& until) {
  std::vector<pollfd> fds;
  for (pid_t pid : pids) {
    int fd = PidfdOpen(pid);
    if (fd >= 0) fds.push_back({fd, POLLIN, 0});
    // ESRCH: already gone. Other errors (no pidfd support): judged by kill(0).
    else if (errno != ESRCH && kill(pid, 0) == 0)
      fds.push_back({-1, 0, 0});
  }
  bool all_gone = false;
  for (;;) {
    fds.erase(std::remove_if(fds.begin(), fds.end(),
                             [](const pollfd& p) {
                               if (p.fd >= 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
                                 close(p.fd);
                                 return true;
                               }
                               return false;
                             }),
              fds.end());
    if (fds.empty()) {
      all_gone = true;
      break;
    }
    long long left = until.Remaining().count();
    if (left <= 0) break;
    bool have_fallback =
        std::any_of(fds.begin(), fds.end(), [](const pollfd& p) { return p.fd < 0; });
    int timeout = static_cast<int>(have_fallback ? std::min(left, 50LL) : std::min(left, 60000LL));
    int r = poll(fds.data(), fds.size(), timeout);
    if (r < 0 && errno != EINTR) break;
    if (have_fallback) break;  // without pidfds the caller's next try decides
  }
  for (const pollfd& p : fds) {
    if (p.fd >= 0) close(p.fd);
  }
  return all_gone;
}

void SystemProcessControl::Pause(const Deadline& until) {
  long long left = until.Remaining().count();
  if (left > 0) poll(nullptr, 0, static_cast<int>(left));
}

}  // namespace pmmha
