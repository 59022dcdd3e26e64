// SPDX-License-Identifier: GPL-2.0-or-later
// A process remembered across agent runs. A pid alone may be reused; the
// pair with the kernel's start time (field 22 of /proc/PID/stat) is unique
// until reboot, as HA_RSCTMP is. pmm-vip's announcer, pmm-storage's
// abandoned mount child and pmm-server's container process are kept so.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string_view>

namespace pmmha {

struct ProcessIdentity {
  pid_t pid = 0;
  unsigned long long start_time = 0;

  friend bool operator==(const ProcessIdentity&, const ProcessIdentity&) = default;
};

// The start time in a /proc/PID/stat line; nothing for a zombie or a dead
// process (state Z or X) and for a line that is not one.
std::optional<unsigned long long> ParseStatStartTime(std::string_view stat);

// The identity of a live (not zombie) process; nothing when there is none.
std::optional<ProcessIdentity> IdentifyProcess(pid_t pid);

}  // namespace pmmha
