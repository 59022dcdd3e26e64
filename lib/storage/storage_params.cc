// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/storage/storage_params.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "pmmha/core/text.h"

namespace pmmha {

namespace {

Status Bad(std::string reason) { return Status::NotConfigured(std::move(reason)); }

// The kernel limits a path to PATH_MAX; a mount point near that is a typo.
constexpr std::size_t kMaxPath = 1024;

Result<std::string> NormalizeAbsolute(std::string_view value, std::string_view what) {
  if (value.empty() || value.front() != '/') {
    return Bad(fmt::format("must be an absolute {}", what));
  }
  if (value.size() > kMaxPath) return Bad(fmt::format("is longer than {} bytes", kMaxPath));
  std::string out;
  std::size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && value[i] == '/') ++i;
    std::size_t end = value.find('/', i);
    if (end == std::string_view::npos) end = value.size();
    std::string_view part = value.substr(i, end - i);
    if (part.empty()) break;
    if (part == "." || part == "..") {
      return Bad(fmt::format("must not contain '.' or '..' components"));
    }
    out += '/';
    out += part;
    i = end;
  }
  if (out.empty()) return std::string("/");
  return out;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A user or group: a number below (id_t)-1 (which chown reads as "leave
// unchanged"), or a name as useradd accepts it.
Status ParseId(std::string_view part, std::string_view what, std::optional<unsigned>& id,
               std::string& name) {
  if (part.empty()) return Bad(fmt::format("has an empty {}", what));
  if (AllDigits(part)) {
    auto n = ParseInteger(part);
    if (!n || *n < 0 || *n >= static_cast<long long>(std::numeric_limits<uid_t>::max())) {
      return Bad(fmt::format("has a {} id out of range", what));
    }
    id = static_cast<unsigned>(*n);
    return Status::Ok();
  }
  bool name_ok =
      part.size() <= 32 && ((part[0] >= 'a' && part[0] <= 'z') || part[0] == '_') &&
      std::all_of(part.begin(), part.end(), [](char c) { return IsNameChar(c) || c == '$'; });
  if (!name_ok) return Bad(fmt::format("has an invalid {} name", what));
  name = std::string(part);
  return Status::Ok();
}

template <typename T>
std::optional<std::string> ErrorOf(const Result<T>& r) {
  if (r.ok()) return std::nullopt;
  return r.status().reason();
}

}  // namespace

bool PathIsWithin(std::string_view path, std::string_view dir) {
  if (dir == "/") return !path.empty() && path.front() == '/';
  if (path.size() < dir.size() || path.substr(0, dir.size()) != dir) return false;
  return path.size() == dir.size() || path[dir.size()] == '/';
}

Result<std::string> NormalizeDirectory(std::string_view value) {
  auto dir = NormalizeAbsolute(value, "path");
  if (!dir) return dir;
  if (*dir == "/") return Bad("must not be the root directory");
  return dir;
}

std::string DeviceSpec::Describe() const {
  if (kind == DeviceKind::kTag) return fmt::format("{}={}", tag, value);
  return path;
}

Result<DeviceSpec> ParseDeviceSpec(std::string_view value) {
  DeviceSpec spec;
  if (value.empty()) return Bad("must be a path, UUID= or LABEL=");
  // Filesystem's NFS shares (host:/path, refused before as not absolute):
  // PMM's /srv holds databases that want a block device, and a hung share
  // is what pmm-storage exists to avoid. A CIFS share's //host/share stays
  // a path, the bind directory it always was here: refusing it now would
  // fail the stop of one started before.
  if (value.front() != '/' && value.find(":/") != std::string_view::npos) {
    return Bad(
        "is a network share (NFS or CIFS), which pmm-storage does not mount: give a block "
        "device (ext4, xfs, btrfs; gfs2 or ocfs2 for a clone)");
  }
  auto eq = value.find('=');
  if (eq != std::string_view::npos && value.front() != '/') {
    std::string_view tag = value.substr(0, eq);
    std::string_view tag_value = value.substr(eq + 1);
    if (tag != "UUID" && tag != "LABEL" && tag != "PARTUUID" && tag != "PARTLABEL") {
      return Bad("must be a path, UUID=, LABEL=, PARTUUID= or PARTLABEL=");
    }
    if (tag_value.size() >= 2 && tag_value.front() == '"' && tag_value.back() == '"') {
      tag_value = tag_value.substr(1, tag_value.size() - 2);
    }
    if (tag_value.empty()) return Bad(fmt::format("has an empty {}", tag));
    // blkid compares the whole value; these characters appear in no UUID and
    // no label mkfs would write, and keep messages and lookups unambiguous.
    if (tag_value.size() > 255 || tag_value.find_first_of("\"'\\/") != std::string_view::npos) {
      return Bad(fmt::format("has an invalid {}", tag));
    }
    spec.kind = DeviceKind::kTag;
    spec.tag = std::string(tag);
    spec.value = std::string(tag_value);
    return spec;
  }
  auto path = NormalizeAbsolute(value, "path, UUID= or LABEL=");
  if (!path) return path.status();
  if (*path == "/") return Bad("must not be the root directory");
  spec.path = std::move(*path);
  spec.kind = PathIsWithin(spec.path, "/dev") ? DeviceKind::kBlockPath : DeviceKind::kBindDirectory;
  if (spec.path == "/dev") return Bad("must name a device below /dev");
  return spec;
}

std::string MountOptions::ForMount() const {
  std::string out;
  for (const auto& item : items) {
    if (item == "bind" || item == "rbind") continue;
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

Result<MountOptions> ParseMountOptions(std::string_view value) {
  MountOptions opts;
  if (value.empty()) return opts;
  // Characters that mean something to a shell or to fstab quoting; none is
  // needed by a real option, so they are refused rather than escaped.
  constexpr std::string_view kRefused = " \t\\'`$;|&<>(){}*?!#";
  if (auto pos = value.find_first_of(kRefused); pos != std::string_view::npos) {
    return Bad(fmt::format("contains the character '{}', which no mount option needs", value[pos]));
  }
  std::size_t start = 0;
  bool quoted = false;
  for (std::size_t i = 0; i <= value.size(); ++i) {
    if (i < value.size() && value[i] == '"') quoted = !quoted;
    if (i < value.size() && (value[i] != ',' || quoted)) continue;
    std::string_view item = value.substr(start, i - start);
    start = i + 1;
    if (item.empty()) return Bad("has an empty option (two commas in a row?)");
    std::string_view name = item.substr(0, item.find('='));
    if (name == "remount" || name == "move" || name == "rmove") {
      return Bad(fmt::format("must not contain '{}': the agent mounts, it does not remount or move",
                             name));
    }
    if (name == "loop" || name.substr(0, 5) == "loop=") {
      return Bad("must not contain 'loop': attach an image with losetup and give the device");
    }
    for (std::string_view prop : {"shared", "private", "slave", "unbindable"}) {
      if (name == prop || name == fmt::format("r{}", prop) ||
          name == fmt::format("make-{}", prop) || name == fmt::format("make-r{}", prop)) {
        return Bad(fmt::format("must not contain '{}': propagation is not set per resource", name));
      }
    }
    if (item == "ro") opts.read_only = true;
    if (item == "rw") opts.read_only = false;
    if (item == "bind" || item == "rbind") opts.bind = true;
    opts.items.emplace_back(item);
  }
  if (quoted) return Bad("has an unbalanced '\"'");
  return opts;
}

Result<OwnerSpec> ParseOwner(std::string_view value) {
  OwnerSpec owner;
  auto colon = value.find(':');
  std::string_view user = value.substr(0, colon);
  std::optional<unsigned> id;
  if (Status s = ParseId(user, "user", id, owner.user_name); !s.ok()) return s;
  if (id) owner.uid = static_cast<uid_t>(*id);
  if (colon != std::string_view::npos) {
    std::optional<unsigned> gid;
    if (Status s = ParseId(value.substr(colon + 1), "group", gid, owner.group_name); !s.ok()) {
      return s;
    }
    if (gid) owner.gid = static_cast<gid_t>(*gid);
  }
  return owner;
}

Result<std::string> ParseFsType(std::string_view value) {
  if (value.empty() || value.size() > 64) return Bad("must be a filesystem type name");
  bool ok = std::all_of(value.begin(), value.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
  if (!ok) return Bad("must be a filesystem type such as ext4, xfs, or auto");
  return std::string(value);
}

std::string KernelFsName(std::string_view fstype) {
  if (fstype.substr(0, 5) == "fuse.") return "fuse";
  if (fstype.substr(0, 8) == "fuseblk.") return "fuseblk";
  return std::string(fstype);
}

std::optional<std::string> CheckDirectoryValue(std::string_view value) {
  return ErrorOf(NormalizeDirectory(value));
}
std::optional<std::string> CheckDeviceValue(std::string_view value) {
  return ErrorOf(ParseDeviceSpec(value));
}
std::optional<std::string> CheckOptionsValue(std::string_view value) {
  return ErrorOf(ParseMountOptions(value));
}
std::optional<std::string> CheckOwnerValue(std::string_view value) {
  return ErrorOf(ParseOwner(value));
}
std::optional<std::string> CheckFsTypeValue(std::string_view value) {
  return ErrorOf(ParseFsType(value));
}

}  // namespace pmmha
