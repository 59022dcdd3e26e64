// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/server/container_process.h"

#include <poll.h>
#include <signal.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "pmmha/core/owned_fd.h"
#include "pmmha/core/pidfd.h"

namespace pmmha {

using std::chrono::milliseconds;

std::string FormatIdentity(const ContainerIdentity& identity) {
  // An id is never empty in an engine's answer; "-" keeps the line parseable.
  if (identity.conmon_pid > 0) {
    return fmt::format("{} {} {} {} {}\n", identity.id.empty() ? "-" : identity.id, identity.pid,
                       identity.start_time, identity.conmon_pid, identity.conmon_start_time);
  }
  return fmt::format("{} {} {}\n", identity.id.empty() ? "-" : identity.id, identity.pid,
                     identity.start_time);
}

std::optional<ContainerIdentity> ParseIdentity(std::string_view text) {
  std::istringstream in{std::string(text)};
  ContainerIdentity identity;
  if (!(in >> identity.id >> identity.pid >> identity.start_time) || identity.pid <= 0) {
    return std::nullopt;
  }
  // A record of an older version has no conmon: none known.
  if (!(in >> identity.conmon_pid >> identity.conmon_start_time) || identity.conmon_pid <= 0) {
    identity.conmon_pid = 0;
    identity.conmon_start_time = 0;
  }
  return identity;
}

namespace {

constexpr milliseconds kPoll{50};

class RealProcessControl final : public ProcessControl {
 public:
  std::optional<unsigned long long> StartTime(int pid) const override {
    auto id = IdentifyProcess(pid);
    if (!id) return std::nullopt;
    return id->start_time;
  }

  std::optional<int> Conmon(int pid) const override {
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string line;
    if (!std::getline(stat, line)) return std::nullopt;
    // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
    auto close = line.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream rest(line.substr(close + 1));
    std::string state;
    int ppid = 0;
    if (!(rest >> state >> ppid) || ppid <= 1) return std::nullopt;
    std::ifstream comm(fmt::format("/proc/{}/comm", ppid));
    std::string name;
    if (!std::getline(comm, name) || name != "conmon") return std::nullopt;
    return ppid;
  }

  Status Terminate(const ContainerIdentity& identity, std::chrono::seconds grace,
                   const Deadline& deadline) override {
    // Opened before the start time is compared: if the pid was reused after
    // the comparison, the pidfd still refers to the process we compared.
    OwnedFd pidfd(PidfdOpen(identity.pid));
    if (pidfd.get() < 0 && errno == ESRCH) return Status::Ok();
    if (!IsAlive(identity)) return Status::Ok();
    if (!Signal(pidfd.get(), identity, SIGTERM)) return Status::Ok();
    if (WaitGone(pidfd.get(), identity, deadline.Within(grace))) return Status::Ok();
    if (!Signal(pidfd.get(), identity, SIGKILL)) return Status::Ok();
    if (WaitGone(pidfd.get(), identity, deadline)) return Status::Ok();
    return Status::Error("process {} is still alive after SIGKILL", identity.pid);
  }

 private:
  // False when the process is already gone.
  bool Signal(int pidfd, const ContainerIdentity& identity, int sig) const {
    if (pidfd >= 0) return PidfdSendSignal(pidfd, sig) == 0 || errno != ESRCH;
    // No pidfd (a kernel before 5.3): the start time was just compared.
    return kill(identity.pid, sig) == 0 || errno != ESRCH;
  }

  bool WaitGone(int pidfd, const ContainerIdentity& identity, const Deadline& deadline) const {
    while (IsAlive(identity)) {
      if (deadline.HasExpired()) return false;
      milliseconds wait = std::min(deadline.Remaining(), kPoll);
      if (pidfd >= 0) {
        // Readable when the process exits. Polled in short steps anyway, so
        // a zombie nobody reaps counts as gone (StartTime skips zombies).
        struct pollfd p {
          pidfd, POLLIN, 0
        };
        poll(&p, 1, static_cast<int>(wait.count()));
      } else {
        std::this_thread::sleep_for(wait);
      }
    }
    return true;
  }
};

}  // namespace

std::unique_ptr<ProcessControl> MakeProcessControl() {
  return std::make_unique<RealProcessControl>();
}

}  // namespace pmmha
