// SPDX-License-Identifier: GPL-2.0-or-later
// One mount as the kernel sees it, asked by its unique mount ID with
// statmount(2) and listmount(2) (Linux 6.8): no mount table generated (its
// cost grows with every mount on the host) and no filesystem touched (the
// answer comes from the mount tree, so a dead NFS server cannot hold it).
// Older kernels (RHEL 9's 5.14) answer kUnsupported: the callers read
// /proc/self/mountinfo instead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pmmha {

struct MountLookup {
  enum class State { kFound, kGone, kUnsupported, kFailed };
  State state = State::kUnsupported;
  std::uint32_t id_old = 0;  // mountinfo's (reusable) mount ID
  std::string mount_point;   // relative to our root
  bool read_only = false;    // the mount's or its superblock's
  // The mount points of mounts attached on this one's mount point (an
  // overmount hides it) or below it.
  std::vector<std::string> children;
  std::string error;  // kFailed: why
};

// The mount with unique ID `id` in our mount namespace, and its children.
MountLookup LookUpMount(std::uint64_t id);

// The unique mount ID (statx STATX_MNT_ID_UNIQUE) of the mount at `dir`;
// nothing when the kernel has none (before 6.8). statx walks into the
// mounted filesystem: call it in a bounded child.
std::optional<std::uint64_t> UniqueMountIdOf(const std::string& dir);

}  // namespace pmmha
