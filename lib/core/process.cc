// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "pmmha/core/owned_fd.h"
#include "pmmha/core/pidfd.h"
#include "pmmha/core/text.h"

extern char** environ;

namespace pmmha {

namespace {

using std::chrono::milliseconds;

struct Pipe {
  OwnedFd read, write;
};

bool MakePipe(Pipe& p) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  p.read.reset(fds[0]);
  p.write.reset(fds[1]);
  return true;
}

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

// Everything the child needs, prepared before fork so the child only makes
// async-signal-safe calls.
struct ChildSetup {
  std::string path;
  std::vector<char*> argv;
  std::vector<char*> envp;
  int out = -1, err = -1, report = -1;
};

[[noreturn]] void ExecChild(const ChildSetup& s) {
  // Pacemaker may hand us ignored or blocked signals; the child starts clean.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);
  int null = open("/dev/null", O_RDONLY);
  if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(s.out, STDOUT_FILENO) < 0 ||
      dup2(s.err, STDERR_FILENO) < 0) {
    int e = errno;
    (void)!write(s.report, &e, sizeof e);
    _exit(127);
  }
  // Descriptors some library opened without O_CLOEXEC must not leak either.
  syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */);
  fcntl(s.report, F_SETFD, FD_CLOEXEC);
  execve(s.path.c_str(), s.argv.data(), s.envp.data());
  int e = errno;
  (void)!write(s.report, &e, sizeof e);
  _exit(127);
}

// Reads what is available from `fd` into `sink` up to `cap`; returns false
// at end of file or error.
bool Drain(int fd, std::string& sink, std::size_t cap, bool& truncated) {
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      std::size_t room = cap > sink.size() ? cap - sink.size() : 0;
      std::size_t take = std::min<std::size_t>(room, static_cast<std::size_t>(n));
      sink.append(buf, take);
      if (take < static_cast<std::size_t>(n)) truncated = true;
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN;
  }
}

class RealProcessRunner final : public ProcessRunner {
 public:
  Result<ProcessResult> Run(const std::vector<std::string>& argv, const Deadline& deadline,
                            const ProcessOptions& options) override;
};

// Waits until `pid` exits or `until` passes; true when it has exited (and
// was reaped into `wstatus`). Streams keep being read meanwhile.
class Waiter {
 public:
  Waiter(pid_t pid, int out, int err, const ProcessOptions& options, ProcessResult& result)
      : pid_(pid), pidfd_(PidfdOpen(pid)), options_(options), result_(result) {
    fds_[0] = out;
    fds_[1] = err;
  }

  bool WaitUntil(const Deadline& until) {
    for (;;) {
      if (Reap(false)) return true;
      pollfd p[3];
      int n = 0;
      int idx[3] = {0, 0, 0};
      for (int i = 0; i < 2; ++i) {
        if (fds_[i] >= 0) {
          p[n] = {fds_[i], POLLIN, 0};
          idx[n++] = i;
        }
      }
      int pid_slot = -1;
      if (pidfd_.get() >= 0) {
        p[n] = {pidfd_.get(), POLLIN, 0};
        pid_slot = n++;
      }
      long long left = until.Remaining().count();
      if (left <= 0) return Reap(false);
      // Without a pidfd (kernels before 5.3) look again every 20 ms.
      int timeout = pidfd_.get() >= 0 ? static_cast<int>(std::min(left, 60000LL))
                                      : static_cast<int>(std::min(left, 20LL));
      int r = poll(p, n, timeout);
      if (r < 0 && errno != EINTR) return Reap(false);
      for (int i = 0; i < n; ++i) {
        if (i == pid_slot || p[i].revents == 0) continue;
        ReadStream(idx[i]);
      }
    }
  }

  // After exit a grandchild may still hold the pipes: take what is there now
  // and stop, rather than wait for an end of file that may never come.
  void FinishStreams() {
    for (int i = 0; i < 2; ++i) {
      if (fds_[i] >= 0) ReadStream(i);
    }
  }

  int wstatus() const { return wstatus_; }

 private:
  void ReadStream(int i) {
    std::string& sink = i == 0 ? result_.out : result_.err;
    bool& truncated = i == 0 ? result_.out_truncated : result_.err_truncated;
    if (!Drain(fds_[i], sink, options_.output_cap, truncated)) fds_[i] = -1;
  }

  bool Reap(bool block) {
    if (reaped_) return true;
    pid_t r;
    do {
      r = waitpid(pid_, &wstatus_, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid_) reaped_ = true;
    return reaped_;
  }

  pid_t pid_;
  OwnedFd pidfd_;
  int fds_[2];
  const ProcessOptions& options_;
  ProcessResult& result_;
  int wstatus_ = 0;
  bool reaped_ = false;
};

// This process's environment with `extra` (NAME=VALUE) added; an extra entry
// replaces the inherited one of the same name.
std::vector<std::string> MergedEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> merged;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool replaced = std::any_of(extra.begin(), extra.end(), [name](const std::string& x) {
      return std::string_view(x).substr(0, x.find('=')) == name;
    });
    if (!replaced) merged.emplace_back(entry);
  }
  merged.insert(merged.end(), extra.begin(), extra.end());
  return merged;
}

// The child would outlive `deadline`: SIGTERM, the grace, SIGKILL, each at
// the point `plan` says. True when it has exited.
bool TerminateChild(pid_t pid, Waiter& waiter, const Deadline& deadline, const KillPlan& plan) {
  kill(pid, SIGTERM);
  if (waiter.WaitUntil(Deadline(deadline.at() - plan.kill_before))) return true;
  kill(pid, SIGKILL);
  return waiter.WaitUntil(deadline);
}

Result<ProcessResult> RealProcessRunner::Run(const std::vector<std::string>& argv,
                                             const Deadline& deadline,
                                             const ProcessOptions& options) {
  if (argv.empty()) return Status::Error("empty command");
  if (deadline.HasExpired()) {
    return Status::Error("no time left to run {}", Quote(argv[0]));
  }
  const char* path_env = std::getenv("PATH");
  auto path =
      FindExecutable(argv[0], path_env != nullptr ? std::string_view(path_env) : kDefaultPath);
  if (!path) {
    return Status::NotInstalled("{} not found or not executable", Quote(argv[0]));
  }

  ChildSetup setup;
  setup.path = *path;
  for (const auto& a : argv) setup.argv.push_back(const_cast<char*>(a.c_str()));
  setup.argv.push_back(nullptr);
  std::vector<std::string> env_store = MergedEnvironment(options.extra_env);
  for (auto& e : env_store) setup.envp.push_back(e.data());
  setup.envp.push_back(nullptr);

  Pipe out, err, report;
  if (!MakePipe(out) || !MakePipe(err) || !MakePipe(report)) {
    return Status::Error("pipe: {}", Errno(errno));
  }
  setup.out = out.write.get();
  setup.err = err.write.get();
  setup.report = report.write.get();

  pid_t pid = fork();
  if (pid < 0) return Status::Error("fork: {}", Errno(errno));
  if (pid == 0) ExecChild(setup);

  out.write.reset();
  err.write.reset();
  report.write.reset();
  int exec_errno = 0;
  ssize_t n;
  do {
    n = read(report.read.get(), &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof exec_errno) {
    int ignored;
    waitpid(pid, &ignored, 0);
    return Status::NotInstalled("cannot execute {}: {}", Quote(*path), Errno(exec_errno));
  }

  fcntl(out.read.get(), F_SETFL, O_NONBLOCK);
  fcntl(err.read.get(), F_SETFL, O_NONBLOCK);
  ProcessResult result;
  Waiter waiter(pid, out.read.get(), err.read.get(), options, result);
  KillPlan plan = PlanKill(deadline.Remaining(), options.kill_grace);
  bool exited = waiter.WaitUntil(Deadline(deadline.at() - plan.term_before));
  if (!exited) {
    result.timed_out = true;
    exited = TerminateChild(pid, waiter, deadline, plan);
  }
  waiter.FinishStreams();
  if (exited) {
    int ws = waiter.wstatus();
    if (WIFEXITED(ws)) {
      result.exited = true;
      result.exit_code = WEXITSTATUS(ws);
    } else if (WIFSIGNALED(ws)) {
      result.term_signal = WTERMSIG(ws);
    }
  }
  return result;
}

}  // namespace

std::string ProcessResult::Describe() const {
  std::string what;
  if (exited) {
    what = fmt::format("exit {}", exit_code);
  } else if (term_signal != 0) {
    what = fmt::format("killed by {}", SignalName(term_signal));
  } else {
    what = "did not end even after SIGKILL";
  }
  return timed_out ? fmt::format("timed out, {}", what) : what;
}

KillPlan PlanKill(milliseconds remaining, milliseconds kill_grace) {
  constexpr milliseconds kKillWait(500);
  kill_grace = std::max(kill_grace, milliseconds(0));
  milliseconds tail = std::min(kill_grace + kKillWait, std::max(remaining, milliseconds(0)) / 4);
  milliseconds kill_before = tail * kKillWait.count() / (kill_grace + kKillWait).count();
  return {tail, kill_before};
}

std::unique_ptr<ProcessRunner> MakeProcessRunner() { return std::make_unique<RealProcessRunner>(); }

std::optional<std::string> FindExecutable(std::string_view name, std::string_view path_env) {
  auto executable = [](const std::string& candidate) {
    struct stat st;
    return stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           access(candidate.c_str(), X_OK) == 0;
  };
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string_view::npos) {
    std::string candidate(name);
    if (executable(candidate)) return candidate;
    return std::nullopt;
  }
  std::size_t start = 0;
  while (start <= path_env.size()) {
    std::size_t end = path_env.find(':', start);
    if (end == std::string_view::npos) end = path_env.size();
    std::string_view dir = path_env.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = fmt::format("{}/{}", dir, name);
    if (executable(candidate)) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace pmmha
