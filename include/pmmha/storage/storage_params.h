// SPDX-License-Identifier: GPL-2.0-or-later
// The values an admin writes for pmm-storage, parsed and checked without
// touching the system: the mount point, the device specification, the mount
// options, the owner of the mount root and the filesystem type.
//
// Each Parse* function returns the value, or kErrConfigured with a reason
// that names no parameter (the caller, usually the parameter table, adds it).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pmmha/core/status.h"

namespace pmmha {

// An absolute mount point spelled the way the kernel's mount table shows it:
// no trailing or repeated '/', no '.' or '..' component, not "/" itself.
// "/srv/" and "//srv" become "/srv". Symbolic links are not resolved here
// (that would touch the filesystem); start refuses a path that has one.
Result<std::string> NormalizeDirectory(std::string_view value);

// What `device` names. A path under /dev is a block device; any other
// absolute path is a directory to bind-mount. The distinction is lexical on
// purpose: monitor and stop must know it without a stat(), which would hang
// on a dead filesystem holding a bind source.
enum class DeviceKind { kBlockPath, kBindDirectory, kTag };

struct DeviceSpec {
  DeviceKind kind = DeviceKind::kBlockPath;
  std::string path;   // kBlockPath, kBindDirectory: the normalized path
  std::string tag;    // kTag: UUID, LABEL, PARTUUID or PARTLABEL
  std::string value;  // kTag: the value after '='

  bool IsBind() const { return kind == DeviceKind::kBindDirectory; }
  // As the admin wrote it, for messages: "/dev/sdb1", "UUID=1234-...".
  std::string Describe() const;
};

Result<DeviceSpec> ParseDeviceSpec(std::string_view value);

// Mount options: a comma-separated list as for mount -o. Options that would
// change what the agent manages (remount, move, propagation changes, loop)
// and shell or quoting characters are refused; libmount gets the rest.
struct MountOptions {
  std::vector<std::string> items;
  bool read_only = false;  // "ro" given (the last of ro/rw wins)
  bool bind = false;       // "bind" or "rbind" given

  // The option string for libmount, without "bind"/"rbind" (the agent adds
  // the bind flag itself from the device kind).
  std::string ForMount() const;
};

Result<MountOptions> ParseMountOptions(std::string_view value);

// The owner to give the mount root: "USER[:GROUP]", each a number or a name.
struct OwnerSpec {
  std::optional<uid_t> uid;  // numeric user, or resolved from user_name
  std::optional<gid_t> gid;
  std::string user_name;  // a name still to resolve; empty when numeric
  std::string group_name;
};

Result<OwnerSpec> ParseOwner(std::string_view value);

// A filesystem type name as the kernel lists it in /proc/filesystems
// ("ext4", "fuse.sshfs"), or "auto" (detect with libblkid) or "none" (bind).
Result<std::string> ParseFsType(std::string_view value);

// The name /proc/filesystems lists for `fstype`: "fuse" for "fuse.X".
std::string KernelFsName(std::string_view fstype);

// Whether `path` is `dir` or lies below it, compared as strings.
bool PathIsWithin(std::string_view path, std::string_view dir);

// ParamSpec::check adapters for the parameter table.
std::optional<std::string> CheckDirectoryValue(std::string_view value);
std::optional<std::string> CheckDeviceValue(std::string_view value);
std::optional<std::string> CheckOptionsValue(std::string_view value);
std::optional<std::string> CheckOwnerValue(std::string_view value);
std::optional<std::string> CheckFsTypeValue(std::string_view value);

}  // namespace pmmha
