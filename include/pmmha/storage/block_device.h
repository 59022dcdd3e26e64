// SPDX-License-Identifier: GPL-2.0-or-later
// Block devices: finding one by tag with libblkid, the filesystem type on
// it, and the ext2/3/4 superblock facts the storage agent needs (multi-mount
// protection). Everything here reads the device, never a mounted filesystem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "pmmha/core/status.h"

namespace pmmha {

// The device node that carries TAG=value (UUID, LABEL, PARTUUID,
// PARTLABEL), as libblkid finds it (udev links, its cache, or a scan).
// kErrInstalled when no device on this node has it.
Result<std::string> FindDeviceByTag(const std::string& tag, const std::string& value);

// What libblkid finds on a device.
struct FsProbe {
  std::string type;  // "ext4", "btrfs"
  std::string uuid;  // the filesystem's UUID (btrfs: the filesystem's, not the device's); empty
                     // when it has none
};

// The filesystem libblkid finds on `device` ("ext4", "xfs") and its UUID.
// kErrGeneric when the device cannot be read or holds no known filesystem.
// Reads the device: may block on a dying one (callers bound it).
Result<FsProbe> ProbeFilesystem(const std::string& device);

// What the first blocks of an ext2/3/4 filesystem say about multi-mount
// protection. `head` is the device's first 2048 bytes or more.
struct ExtSuperblock {
  bool mmp = false;             // INCOMPAT_MMP
  unsigned mmp_interval_s = 0;  // s_mmp_update_interval
};
// Nothing when `head` is not an ext2/3/4 superblock.
std::optional<ExtSuperblock> ParseExtSuperblock(std::span<const std::uint8_t> head);

// Reads the first 4 KiB of `device` with O_DIRECT (so a change another node
// made is seen, not our page cache). kErrGeneric with errno text on failure.
Result<std::string> ReadDeviceHead(const std::string& device);

// Whether `device` holds ext2/3/4 with MMP enabled; kErrGeneric when it
// cannot be read or is not ext2/3/4.
Result<ExtSuperblock> ReadExtSuperblock(const std::string& device);

}  // namespace pmmha
