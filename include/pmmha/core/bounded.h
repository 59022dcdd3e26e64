// Work that may hang in the kernel (stat or read on a dead filesystem) runs
// in a forked child that we can abandon at the deadline. A process blocked in
// uninterruptible I/O ignores even SIGKILL; we send it anyway and return
// without waiting for it, so the agent itself never hangs.
#pragma once

#include <functional>

#include "pmmha/core/deadline.h"
#include "pmmha/core/status.h"

namespace pmmha {

// Runs `work` in a child process and returns its result (0-255). `work` must
// only make async-signal-safe calls (stat, open, read, write, fsync...), as a
// child of a multithreaded parent can. Fails with kErrGeneric, and a reason
// naming `what`, when the deadline passes first or the child dies by signal.
Result<int> RunBounded(std::string_view what, const std::function<int()>& work,
                       const Deadline& deadline);

}  // namespace pmmha
