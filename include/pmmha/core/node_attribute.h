// SPDX-License-Identifier: GPL-2.0-or-later
// PMM's state where admins look: transient node attributes, which
// `crm_mon -A1` shows and location rules read.
//
// Written with Pacemaker's attrd_updater (never -p: a private attribute
// stays out of the CIB's status section, where crm_mon, rules and
// pmm-ha-check read it). A monitor runs every few seconds for years, so a
// value is written only when it differs from the one last written, kept in
// a small file per attribute in HA_RSCTMP: a monitor that changes nothing
// forks nothing. The file is the node's, not the resource's: an attribute
// is the node's too.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "pmmha/core/deadline.h"
#include "pmmha/core/log.h"
#include "pmmha/core/process.h"
#include "pmmha/core/status.h"

namespace pmmha {

// The attributes the agents publish (pmm-ha-check reads these names: never
// rename one).
inline constexpr std::string_view kAttrState = "pmm-state";         // ready | degraded
inline constexpr std::string_view kAttrVersion = "pmm-version";     // the image's version label
inline constexpr std::string_view kAttrLeader = "pmm-leader";       // yes, on the promoted instance
inline constexpr std::string_view kAttrSrvFree = "pmm-srv-free";    // free space of /srv, percent
inline constexpr std::string_view kAttrSrvSpace = "pmm-srv-space";  // ok | low | full
inline constexpr std::string_view kAttrHaKey = "pmm-ha-key";        // sha256 prefix of the HA key
inline constexpr std::string_view kAttrData = "pmm-data";           // writable | not-writable
inline constexpr std::string_view kAttrImage = "pmm-image";         // present | absent

class NodeAttributes {
 public:
  virtual ~NodeAttributes() = default;
  // Sets `name` to `value` (not empty) on this node, unless it was last set
  // to that value here less than kAttributeRefresh ago, or attrd_updater
  // failed less than kAttributeRetry ago: then nothing runs.
  // An error when attrd_updater fails (the caller logs it: an attribute is
  // for people and rules to read, never a reason to fail an operation).
  virtual Status Set(std::string_view name, std::string_view value, const Deadline& deadline) = 0;
  // Deletes `name` on this node, unless the last thing done here was that.
  virtual Status Delete(std::string_view name, const Deadline& deadline) = 0;
};

// How long a value written is trusted to still be in the cluster: a node
// that left the membership and came back may have lost its transient
// attributes, so an unchanged value is written again after this (one fork
// per attribute in 10 minutes, nothing in between).
inline constexpr std::chrono::minutes kAttributeRefresh{10};
// After attrd_updater failed (attrd does not answer: no cluster runs on the
// node, or Pacemaker is restarting), values are not set again for this long:
// each try is a process start, and a monitor must stay cheap also where no
// cluster runs (an admin's or a benchmark's runs). Deletions are always tried.
inline constexpr std::chrono::seconds kAttributeRetry{60};

// attrd_updater at `binary` (empty: Pacemaker is not installed, every call
// is a no-op that succeeds), run through `runner` within 5 s of the
// caller's deadline; the values last written in `cache_dir`/pmm-attr.NAME.
std::unique_ptr<NodeAttributes> MakeAttrdAttributes(ProcessRunner& runner, std::string binary,
                                                    std::string cache_dir);

// Logs a failure of `s` as a warning and forgets it.
void WarnIfFailed(const Logger& log, const Status& s);

}  // namespace pmmha
