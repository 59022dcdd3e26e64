// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/bounded.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "pmmha/core/owned_fd.h"
#include "pmmha/core/pidfd.h"
#include "pmmha/core/text.h"

namespace pmmha {

Result<int> RunBounded(std::string_view what, const Deadline& deadline,
                       const std::function<int()>& work) {
  if (deadline.HasExpired()) {
    return Status::Error("{}: no time left", what);
  }
  pid_t pid = fork();
  if (pid < 0) return Status::Error("fork: {}", Errno(errno));
  if (pid == 0) _exit(work() & 0xff);

  auto begun = Deadline::Clock::now();
  OwnedFd pidfd(PidfdOpen(pid));
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    long long left = deadline.Remaining().count();
    if (left <= 0) {
      kill(pid, SIGKILL);
      // Reap it if it dies at once; if it sits in D state, leave it: the
      // kernel reparents it to init when we exit.
      if (pidfd.valid()) {
        pollfd p{pidfd.get(), POLLIN, 0};
        poll(&p, 1, 100);
      }
      waitpid(pid, &status, WNOHANG);
      auto waited =
          std::chrono::duration_cast<std::chrono::milliseconds>(Deadline::Clock::now() - begun);
      return Status::Error("{}: no answer within {} ms (hung filesystem?)", what, waited.count());
    }
    if (pidfd.valid()) {
      pollfd p{pidfd.get(), POLLIN, 0};
      poll(&p, 1, static_cast<int>(std::min(left, 60000LL)));
    } else {
      usleep(static_cast<useconds_t>(std::min(left, 10LL) * 1000));
    }
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return Status::Error("{}: the checking process died by signal {}", what,
                       WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace pmmha
