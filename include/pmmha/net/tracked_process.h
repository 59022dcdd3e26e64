// SPDX-License-Identifier: GPL-2.0-or-later
// A background process remembered across agent runs by pid and start time.
//
// A pid alone is not an identity: after the process exits the kernel may
// hand the number to an unrelated process, and an agent that signals a
// recorded pid blindly can kill anything. The kernel's start time of the
// process (field 22 of /proc/PID/stat, in clock ticks since boot) together
// with the pid is unique until reboot, and the state file lives in HA_RSCTMP,
// which is emptied at boot.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "pmmha/core/deadline.h"
#include "pmmha/core/process_identity.h"
#include "pmmha/core/status.h"

namespace pmmha {

// Records `id` in `path` (written to a temporary file and renamed, so a
// reader never sees half a record), creating its directory if missing.
Status SaveProcessIdentity(const std::string& path, const ProcessIdentity& id);
// The identity recorded in `path`; nothing when the file is missing or not
// a record.
std::optional<ProcessIdentity> LoadProcessIdentity(const std::string& path);

// True when the process recorded in `path` still runs.
bool TrackedProcessRunning(const std::string& path);

// Ends the process recorded in `path` if it is still the one recorded
// (SIGKILL, then waits for it to be gone, bounded by `deadline`) and removes
// the record. A process that has exited, or a pid now used by another
// process, is left alone. Fails only when the process outlives the deadline.
Status EndTrackedProcess(const std::string& path, const Deadline& deadline);

}  // namespace pmmha
