// SPDX-License-Identifier: GPL-2.0-or-later
// Work that may hang in the kernel (stat or read on a dead filesystem) runs
// in a forked child that we can abandon at the deadline. A process blocked in
// uninterruptible I/O ignores even SIGKILL; we send it anyway and return
// without waiting for it, so the agent itself never hangs.
#pragma once

#include <functional>

#include "pmmha/core/deadline.h"
#include "pmmha/core/status.h"

namespace pmmha {

// Runs `work` in a child process and returns its result (0-255). Fails with
// kErrGeneric, and a reason naming `what`, when the deadline passes first or
// the child dies by signal.
//
// What the child may call: the agents are single-threaded, so the child is a
// copy of a single-threaded process and may use any library function
// (allocate, libmount, fmt), as the storage checks do. It must not start
// threads that the parent waits for and must not return into the caller's
// stack: RunBounded _exit()s with `work`'s result, without running atexit
// handlers or flushing stdio buffers that belong to the parent.
Result<int> RunBounded(std::string_view what, const Deadline& deadline,
                       const std::function<int()>& work);

}  // namespace pmmha
