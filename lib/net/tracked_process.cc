// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/net/tracked_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "pmmha/core/owned_fd.h"
#include "pmmha/core/pidfd.h"
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

std::optional<ProcessIdentity> IdentifyProcess(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  auto stat = ReadSmallFile(fmt::format("/proc/{}/stat", pid));
  if (!stat) return std::nullopt;
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so
  // the fields are counted from the last ')'.
  auto close = stat->rfind(')');
  if (close == std::string::npos || close + 2 >= stat->size()) return std::nullopt;
  std::string_view rest(*stat);
  rest.remove_prefix(close + 2);
  if (rest.front() == 'Z' || rest.front() == 'X') return std::nullopt;  // exited
  // After the state (field 3), start time is field 22: 19 more spaces.
  std::size_t pos = 0;
  for (int field = 3; field < 22; ++field) {
    pos = rest.find(' ', pos);
    if (pos == std::string_view::npos) return std::nullopt;
    ++pos;
  }
  unsigned long long start = 0;
  if (std::sscanf(std::string(rest.substr(pos)).c_str(), "%llu", &start) != 1) {
    return std::nullopt;
  }
  return ProcessIdentity{pid, start};
}

Status SaveProcessIdentity(const std::string& path, const ProcessIdentity& id) {
  // HA_RSCTMP is made at boot by resource-agents' tmpfiles; by hand it may
  // be missing.
  if (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
    mkdir(path.substr(0, slash).c_str(), 0755);
  }
  std::string tmp = path + ".tmp";
  std::string text = fmt::format("{} {}\n", id.pid, id.start_time);
  OwnedFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid() ||
      write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    int err = errno;
    unlink(tmp.c_str());
    return Status::Error("cannot write {}: {}", Quote(tmp), Errno(err));
  }
  fd.reset();
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return Status::Error("cannot write {}: {}", Quote(path), Errno(err));
  }
  return Status::Ok();
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
