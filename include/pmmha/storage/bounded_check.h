// SPDX-License-Identifier: GPL-2.0-or-later
// A check that touches a mounted filesystem or a device (stat, O_DIRECT
// read, write+fsync, mount(2), umount(2), chown) may block forever on a dead
// disk or a hung FUSE/NFS mount. It runs through the core's RunBounded (a
// forked child abandoned at the deadline) and reports back a Status with its
// reason, plus the step it was in, so a timeout can say where it hung:
// "read check of '/srv': no answer within 3400 ms (stuck in fsync of ...)".
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "pmmha/core/deadline.h"
#include "pmmha/core/status.h"

namespace pmmha {

// What the child tells the parent while it works.
class ChildProgress {
 public:
  explicit ChildProgress(int fd) : fd_(fd) {}
  // Announces the next step ("stat of '/srv'"). One write(2) to a pipe.
  void Step(std::string_view what);
  // Hands the result to the parent (RunBoundedCheck calls this).
  void Finish(const Status& status);

 private:
  int fd_;
};

using CheckWork = std::function<Status(ChildProgress& progress)>;

// Runs `work` in a child through RunBounded, under the same contract (see
// pmmha/core/bounded.h: any library call, a copy of a single-threaded
// process). Returns its Status; when the deadline
// passes first (or the child dies without a result): kErrGeneric, the reason
// naming `what` and the last announced step.
Status RunBoundedCheck(std::string_view what, const Deadline& deadline, const CheckWork& work);

// Writes all of `data` to `fd` (a pipe to the parent), as far as it takes
// it: a child has no one to report a failed write to.
void WriteAll(int fd, std::string_view data);

// Everything readable now from `fd` (a non-blocking pipe a child wrote to),
// up to its end or until it would block.
std::string DrainPipe(int fd);

}  // namespace pmmha
