// SPDX-License-Identifier: GPL-2.0-or-later
// The links pmm-vip's starts put the address on, remembered until the next
// stop, so that stop and monitor look where start worked, whatever the
// nic parameter or the routes say by then.
//
// A link is recorded by its index, the kernel's identity of a link in its
// network namespace: the kernel does not reuse an index of a namespace
// until the counter wraps, and a renamed link keeps it. The record lives in
// HA_RSCTMP, which is emptied at boot, like the addresses themselves.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pmmha/core/status.h"
#include "pmmha/net/netlink.h"

namespace pmmha {

struct RecordedLink {
  int index = 0;
  std::string name;  // when recorded; for messages only

  friend bool operator==(const RecordedLink&, const RecordedLink&) = default;
};

class LinkRecord {
 public:
  virtual ~LinkRecord() = default;

  // The links recorded since the last Clear (maybe none); nothing when there
  // is no record at all (no start since boot, a start by a version of the
  // agent that kept none, or a record that cannot be read).
  virtual std::optional<std::vector<RecordedLink>> Load() = 0;
  // Adds `link` to the record (creating it). Fails when it cannot be written.
  virtual Status Add(const LinkInfo& link) = 0;
  // Leaves an empty record: no start has used a link since.
  virtual Status Clear() = 0;
};

// The record in the file `path` (one "INDEX NAME" line per link), written to
// a temporary file and renamed, so a reader never sees half a record.
std::unique_ptr<LinkRecord> MakeLinkRecord(std::string path);

// The text of a record, and back; nothing when `text` is not a record.
std::string FormatLinkRecord(const std::vector<RecordedLink>& links);
std::optional<std::vector<RecordedLink>> ParseLinkRecord(std::string_view text);

}  // namespace pmmha
