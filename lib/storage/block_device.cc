// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/storage/block_device.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

#include <blkid/blkid.h>
#include <fmt/format.h>

#include "pmmha/core/owned_fd.h"
#include "pmmha/core/text.h"

namespace pmmha {

namespace {

constexpr std::size_t kHeadSize = 4096;  // a multiple of every logical block size
constexpr std::size_t kSuperblockOffset = 1024;
constexpr std::uint16_t kExtMagic = 0xEF53;
constexpr std::uint32_t kIncompatMmp = 0x0100;

std::uint32_t Le(std::span<const std::uint8_t> b, std::size_t at, int bytes) {
  std::uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | b[at + static_cast<std::size_t>(i)];
  return v;
}

struct ProbeFree {
  void operator()(blkid_probe p) const { blkid_free_probe(p); }
};

}  // namespace

Result<std::string> FindDeviceByTag(const std::string& tag, const std::string& value) {
  char* dev = blkid_evaluate_tag(tag.c_str(), value.c_str(), nullptr);
  if (dev == nullptr) {
    return Status::NotInstalled("no device with {}={} on this node", tag, Quote(value));
  }
  std::string path(dev);
  std::free(dev);
  return path;
}

Result<FsProbe> ProbeFilesystem(const std::string& device) {
  std::unique_ptr<blkid_struct_probe, ProbeFree> probe(
      blkid_new_probe_from_filename(device.c_str()));
  if (!probe) {
    return Status::Error("cannot open {} to find its filesystem: {}", Quote(device), Errno(errno));
  }
  blkid_probe_enable_superblocks(probe.get(), 1);
  blkid_probe_set_superblocks_flags(probe.get(), BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID);
  int rc = blkid_do_safeprobe(probe.get());
  if (rc == 1) {
    return Status::Error("no filesystem found on {}", Quote(device));
  }
  if (rc == -2) {
    return Status::Error("{} carries signatures of more than one filesystem; set fstype",
                         Quote(device));
  }
  const char* type = nullptr;
  if (rc != 0 || blkid_probe_lookup_value(probe.get(), "TYPE", &type, nullptr) != 0 ||
      type == nullptr) {
    return Status::Error("cannot find the filesystem type on {}", Quote(device));
  }
  FsProbe out{.type = type, .uuid = {}};
  const char* uuid = nullptr;
  if (blkid_probe_lookup_value(probe.get(), "UUID", &uuid, nullptr) == 0 && uuid != nullptr) {
    out.uuid = uuid;
  }
  return out;
}

std::optional<ExtSuperblock> ParseExtSuperblock(std::span<const std::uint8_t> head) {
  if (head.size() < kSuperblockOffset + 1024) return std::nullopt;
  auto sb = head.subspan(kSuperblockOffset, 1024);
  if (Le(sb, 0x38, 2) != kExtMagic) return std::nullopt;
  ExtSuperblock out;
  out.mmp = (Le(sb, 0x60, 4) & kIncompatMmp) != 0;
  out.mmp_interval_s = out.mmp ? Le(sb, 0x166, 2) : 0;
  return out;
}

Result<std::string> ReadDeviceHead(const std::string& device) {
  OwnedFd fd(open(device.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC));
  if (!fd.valid()) {
    return Status::Error("cannot open {}: {}", Quote(device), Errno(errno));
  }
  void* buf = nullptr;
  if (posix_memalign(&buf, kHeadSize, kHeadSize) != 0) {
    return Status::Error("out of memory");
  }
  std::unique_ptr<void, decltype(&std::free)> owned(buf, &std::free);
  ssize_t n;
  do {
    n = pread(fd.get(), buf, kHeadSize, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return Status::Error("cannot read {}: {}", Quote(device), Errno(errno));
  }
  return std::string(static_cast<const char*>(buf), static_cast<std::size_t>(n));
}

Result<ExtSuperblock> ReadExtSuperblock(const std::string& device) {
  auto head = ReadDeviceHead(device);
  if (!head) return head.status();
  auto sb = ParseExtSuperblock(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(head->data()), head->size()));
  if (!sb) {
    return Status::Error("{} holds no ext2/3/4 superblock", Quote(device));
  }
  return *sb;
}

}  // namespace pmmha
