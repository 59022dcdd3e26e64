// SPDX-License-Identifier: GPL-2.0-or-later
// The kernel's mount table of our mount namespace, read with libmount from
// /proc/self/mountinfo, and the questions the storage agent asks of it.
// Reading it never touches a mounted filesystem, so it is safe on a hung one.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "pmmha/core/status.h"

namespace pmmha {

struct MountEntry {
  int id = 0;  // mount id: the mnt_id in /proc/PID/fdinfo
  int parent_id = 0;
  dev_t devno = 0;          // st_dev of files on this mount
  std::string source = {};  // "/dev/loop0", "tmpfs", ...
  std::string target = {};  // the mount point
  std::string root = {};    // the directory of the filesystem mounted here ("/" unless a bind)
  std::string fstype = {};
  std::string vfs_options = {};  // per-mount flags: "rw,relatime"
  std::string fs_options = {};   // the filesystem's (superblock's): "rw,errors=remount-ro"

  // Read-only per mount, or as a whole filesystem (ext4 remounts itself
  // read-only on errors with errors=remount-ro: only fs_options show that).
  bool ReadOnly() const;
  // An anonymous device number (major 0): tmpfs, overlay, btrfs, NFS. It
  // names the superblock while it lives, not a block device.
  bool Anonymous() const;
};

class MountTable {
 public:
  MountTable() = default;
  explicit MountTable(std::vector<MountEntry> entries) : entries_(std::move(entries)) {}

  // Parses a mountinfo file. On failure kErrGeneric with the reason.
  static Result<MountTable> Read(const std::string& path = "/proc/self/mountinfo");

  // The mount visible at `target` (the topmost when several are stacked
  // there), or nullptr.
  const MountEntry* At(std::string_view target) const;
  // Every mount at `target`, bottom first, topmost last: another filesystem
  // mounted over ours hides it without unmounting it.
  std::vector<const MountEntry*> StackAt(std::string_view target) const;
  // Every mount strictly below `dir`, deepest first (the order to unmount).
  std::vector<const MountEntry*> Below(std::string_view dir) const;
  // Every mount of the filesystem with device number `devno`.
  std::vector<const MountEntry*> WithDevice(dev_t devno) const;
  // The mount that holds `path`, judged from the path alone: the one whose
  // target is the longest prefix of it (topmost when stacked).
  const MountEntry* Containing(std::string_view path) const;

  const std::vector<MountEntry>& entries() const { return entries_; }

 private:
  std::vector<MountEntry> entries_;
};

// The directory of the mounted filesystem that `path` names, given the mount
// `holder` that contains it: for a bind mount of `path` the kernel lists
// this as the new mount's root. "/data/x" on a mount of root "/" at "/data"
// gives "/x".
std::string RootWithin(const MountEntry& holder, std::string_view path);

}  // namespace pmmha
