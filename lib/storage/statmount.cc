// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/storage/statmount.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pmmha {
namespace {

// Linux 6.8's ABI (include/uapi/linux/mount.h); Debian 12's headers predate
// it. The syscall numbers are the generic table's, x86_64 and arm64 alike.
constexpr long kSysStatmount = 457;
constexpr long kSysListmount = 458;
constexpr std::uint64_t kStatmountSbBasic = 0x1;
constexpr std::uint64_t kStatmountMntBasic = 0x2;
constexpr std::uint64_t kStatmountMntPoint = 0x10;
constexpr std::uint64_t kMountAttrRdonly = 0x1;
constexpr std::uint32_t kSbRdonly = 0x1;
constexpr unsigned kStatxMntIdUnique = 0x4000;

struct MntIdReq {
  std::uint32_t size;
  std::uint32_t spare;
  std::uint64_t mnt_id;
  std::uint64_t param;
};

struct Statmount {
  std::uint32_t size;
  std::uint32_t spare1;
  std::uint64_t mask;
  std::uint32_t sb_dev_major;
  std::uint32_t sb_dev_minor;
  std::uint64_t sb_magic;
  std::uint32_t sb_flags;
  std::uint32_t fs_type;
  std::uint64_t mnt_id;
  std::uint64_t mnt_parent_id;
  std::uint32_t mnt_id_old;
  std::uint32_t mnt_parent_id_old;
  std::uint64_t mnt_attr;
  std::uint64_t mnt_propagation;
  std::uint64_t mnt_peer_group;
  std::uint64_t mnt_master;
  std::uint64_t propagate_from;
  std::uint32_t mnt_root;
  std::uint32_t mnt_point;
  std::uint64_t spare2[50];
  // The strings follow.
};

bool Unsupported(int error) { return error == ENOSYS || error == EOPNOTSUPP; }

// statmount(2) of `id` into `buf`; errno on failure.
bool StatOne(std::uint64_t id, std::uint64_t mask, std::vector<char>& buf) {
  MntIdReq req{sizeof(MntIdReq), 0, id, mask};
  for (;;) {
    if (syscall(kSysStatmount, &req, buf.data(), buf.size(), 0) == 0) return true;
    if (errno != EOVERFLOW || buf.size() > (1u << 20)) return false;
    buf.resize(buf.size() * 2);  // a long mount point
  }
}

std::string StringAt(const std::vector<char>& buf, std::uint32_t offset) {
  const std::size_t base = sizeof(Statmount);
  if (base + offset >= buf.size()) return {};
  const char* s = buf.data() + base + offset;
  return std::string(s, strnlen(s, buf.size() - base - offset));
}

}  // namespace

MountLookup LookUpMount(std::uint64_t id) {
  MountLookup out;
  std::vector<char> buf(sizeof(Statmount) + 4096);
  if (!StatOne(id, kStatmountSbBasic | kStatmountMntBasic | kStatmountMntPoint, buf)) {
    const int error = errno;
    out.state = Unsupported(error) ? MountLookup::State::kUnsupported
                : error == ENOENT  ? MountLookup::State::kGone
                                   : MountLookup::State::kFailed;
    out.error = std::strerror(error);
    return out;
  }
  Statmount sm;
  std::memcpy(&sm, buf.data(), sizeof sm);
  out.state = MountLookup::State::kFound;
  out.id_old = sm.mnt_id_old;
  out.mount_point = StringAt(buf, sm.mnt_point);
  out.read_only = (sm.mnt_attr & kMountAttrRdonly) != 0 || (sm.sb_flags & kSbRdonly) != 0;
  // Mounts attached to this one: an overmount shows here with our mount point.
  std::uint64_t children[64];
  MntIdReq list{sizeof(MntIdReq), 0, id, 0};
  for (;;) {
    long n = syscall(kSysListmount, &list, children, std::size(children), 0);
    if (n < 0) {
      out.state = MountLookup::State::kFailed;
      out.error = std::strerror(errno);
      return out;
    }
    for (long i = 0; i < n; ++i) {
      if (!StatOne(children[i], kStatmountMntPoint, buf)) continue;  // gone meanwhile
      std::memcpy(&sm, buf.data(), sizeof sm);
      out.children.push_back(StringAt(buf, sm.mnt_point));
    }
    if (n < static_cast<long>(std::size(children))) break;
    list.param = children[n - 1];  // the next batch starts after the last one
  }
  return out;
}

std::optional<std::uint64_t> UniqueMountIdOf(const std::string& dir) {
  struct statx st {};
  if (statx(AT_FDCWD, dir.c_str(), AT_NO_AUTOMOUNT, kStatxMntIdUnique, &st) != 0 ||
      (st.stx_mask & kStatxMntIdUnique) == 0 || st.stx_mnt_id == 0) {
    return std::nullopt;
  }
  return st.stx_mnt_id;
}

}  // namespace pmmha
