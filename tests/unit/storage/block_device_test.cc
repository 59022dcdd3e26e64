// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/storage/block_device.h"

#include <vector>

#include <catch2/catch.hpp>

using namespace pmmha;

namespace {

// The first 2 KiB of a device: the ext superblock starts at byte 1024.
std::vector<std::uint8_t> Head(std::uint16_t magic, std::uint32_t incompat,
                               std::uint16_t interval) {
  std::vector<std::uint8_t> head(4096, 0);
  auto put = [&](std::size_t at, std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i)
      head[1024 + at + static_cast<std::size_t>(i)] = (v >> (8 * i)) & 0xff;
  };
  put(0x38, magic, 2);
  put(0x60, incompat, 4);
  put(0x166, interval, 2);
  return head;
}

}  // namespace

TEST_CASE("ext superblocks: MMP flag and interval") {
  static const struct {
    std::uint16_t magic;
    std::uint32_t incompat;
    std::uint16_t interval;
    bool ext;
    bool mmp;
  } cases[] = {
      {0xEF53, 0x02c2, 0, true, false},          // a fresh ext4: no MMP
      {0xEF53, 0x02c2 | 0x0100, 5, true, true},  // tune2fs -O mmp
      {0xEF53, 0x0100, 0, true, true},
      {0x5846, 0x0100, 5, false, false},  // not ext
      {0x0000, 0, 0, false, false},
  };
  for (const auto& c : cases) {
    INFO(std::hex << c.magic << " " << c.incompat);
    auto head = Head(c.magic, c.incompat, c.interval);
    auto sb = ParseExtSuperblock(head);
    REQUIRE(sb.has_value() == c.ext);
    if (!c.ext) continue;
    CHECK(sb->mmp == c.mmp);
    CHECK(sb->mmp_interval_s == (c.mmp ? c.interval : 0u));
  }
}

TEST_CASE("a short head is not a superblock") {
  std::vector<std::uint8_t> head(1500, 0);
  CHECK_FALSE(ParseExtSuperblock(head).has_value());
}

TEST_CASE("reading a missing device names it") {
  auto r = ReadDeviceHead("/dev/pmmha-no-such-device");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().reason(), Catch::Contains("'/dev/pmmha-no-such-device'"));
}
