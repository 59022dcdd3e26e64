// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/net/tracked_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include <fmt/format.h>

#include "pmmha/core/owned_fd.h"
#include "pmmha/core/pidfd.h"
#include "pmmha/core/state_file.h"
#include "pmmha/core/text.h"

namespace pmmha {

namespace {

std::optional<std::string> ReadSmallFile(const std::string& path) {
  OwnedFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  char buf[1024];
  ssize_t n = read(fd.get(), buf, sizeof buf - 1);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace

Status SaveProcessIdentity(const std::string& path, const ProcessIdentity& id) {
  return ReplaceFile(path, fmt::format("{} {}\n", id.pid, id.start_time));
}

std::optional<ProcessIdentity> LoadProcessIdentity(const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text) return std::nullopt;
  long long pid = 0;
  unsigned long long start = 0;
  if (std::sscanf(text->c_str(), "%lld %llu", &pid, &start) != 2 || pid <= 0 || pid > 0x3fffffff) {
    return std::nullopt;
  }
  return ProcessIdentity{static_cast<pid_t>(pid), start};
}

bool TrackedProcessRunning(const std::string& path) {
  auto recorded = LoadProcessIdentity(path);
  return recorded && IdentifyProcess(recorded->pid) == recorded;
}

Status EndTrackedProcess(const std::string& path, const Deadline& deadline) {
  auto recorded = LoadProcessIdentity(path);
  if (!recorded) {
    unlink(path.c_str());
    return Status::Ok();
  }
  // The pidfd pins the process: once it is open and the identity still
  // matches, the signal cannot reach a process that reused the pid.
  OwnedFd pidfd(PidfdOpen(recorded->pid));
  if (!pidfd.valid() || IdentifyProcess(recorded->pid) != recorded) {
    unlink(path.c_str());
    return Status::Ok();
  }
  if (PidfdSendSignal(pidfd.get(), SIGKILL) != 0 && errno != ESRCH) {
    return Status::Error("cannot end process {}: {}", recorded->pid, Errno(errno));
  }
  // A pidfd becomes readable when the process has exited, whoever reaps it.
  for (;;) {
    pollfd p{pidfd.get(), POLLIN, 0};
    int timeout = static_cast<int>(std::min<long long>(deadline.Remaining().count(), 60000));
    int ready = poll(&p, 1, timeout);
    if (ready < 0 && errno == EINTR) continue;
    if (ready > 0) break;
    if (ready == 0 && !deadline.HasExpired()) continue;
    return Status::Error("process {} did not end in time", recorded->pid);
  }
  unlink(path.c_str());
  return Status::Ok();
}

}  // namespace pmmha
