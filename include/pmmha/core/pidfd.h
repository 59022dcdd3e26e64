// SPDX-License-Identifier: GPL-2.0-or-later
// pidfd_open(2) and pidfd_send_signal(2) (Linux 5.3+). glibc has wrappers
// only from 2.36 (RHEL 9 has 2.34), so these are raw system calls; where the
// headers lack the numbers they fail with ENOSYS and callers fall back to
// polling.
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>

namespace pmmha {

// A file descriptor that refers to process `pid`, or -1 with errno set.
inline int PidfdOpen(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

// Sends `sig` to the process `pidfd` refers to (never to a recycled pid).
inline int PidfdSendSignal(int pidfd, int sig) {
#ifdef SYS_pidfd_send_signal
  return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
#else
  (void)pidfd;
  (void)sig;
  errno = ENOSYS;
  return -1;
#endif
}

}  // namespace pmmha
