// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/net/announce.h"

#include <linux/if_ether.h>

#include <catch2/catch.hpp>

using namespace pmmha;

namespace {

const MacAddress kMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
const MacAddress kOther = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0b};

std::vector<std::uint8_t> Bytes(std::initializer_list<int> v) {
  std::vector<std::uint8_t> out;
  for (int b : v) out.push_back(static_cast<std::uint8_t>(b));
  return out;
}

}  // namespace

TEST_CASE("arp_mode chooses the packets of one announcement") {
  auto ip = *IpAddress::Parse("198.51.100.10");
  static const struct {
    const char* mode;
    std::vector<int> ops;
  } cases[] = {
      {"request", {1}},
      {"reply", {2}},
      {"both", {1, 2}},
  };
  for (const auto& c : cases) {
    INFO(c.mode);
    auto frames = GratuitousArp(kMac, ip, *ParseArpMode(c.mode));
    REQUIRE(frames.size() == c.ops.size());
    for (std::size_t i = 0; i < frames.size(); ++i) {
      CHECK(frames[i].ethertype == ETH_P_ARP);
      CHECK(frames[i].destination == MacAddress{0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
      CHECK(frames[i].payload.size() == 28);
      CHECK(frames[i].payload[7] == c.ops[i]);
    }
  }
  CHECK_FALSE(ParseArpMode("gratuitous"));
}

TEST_CASE("a gratuitous ARP request carries the address as sender and target") {
  auto ip = *IpAddress::Parse("198.51.100.10");
  auto frames = GratuitousArp(kMac, ip, ArpMode::kBoth);
  CHECK(frames[0].payload == Bytes({0, 1, 0x08, 0x00, 6, 4,    0,   1,  // Ethernet/IPv4, request
                                    2, 0, 0,    0,    0, 0x0a, 198, 51, 100, 10,     // sender
                                    0, 0, 0,    0,    0, 0,    198, 51, 100, 10}));  // target
  CHECK(frames[1].payload == Bytes({0,    1,    0x08, 0x00, 6,    4,    0,   2,      // reply
                                    2,    0,    0,    0,    0,    0x0a, 198, 51, 100, 10,
                                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 198, 51, 100, 10}));
}

TEST_CASE("an ARP probe asks from 0.0.0.0") {
  auto probe = ArpProbe(kMac, *IpAddress::Parse("198.51.100.10"));
  CHECK(probe.payload == Bytes({0, 1, 0x08, 0x00, 6, 4, 0, 1, 2, 0, 0,   0,  0,   0x0a,
                                0, 0, 0,    0,    0, 0, 0, 0, 0, 0, 198, 51, 100, 10}));
}

TEST_CASE("an unsolicited neighbour advertisement is what RFC 4861 7.2.6 asks for") {
  auto ip = *IpAddress::Parse("2001:db8::10");
  Frame f = UnsolicitedNeighborAdvertisement(kMac, ip);
  CHECK(f.ethertype == ETH_P_IPV6);
  CHECK(f.destination == MacAddress{0x33, 0x33, 0, 0, 0, 1});
  REQUIRE(f.payload.size() == 40 + 32);
  const std::uint8_t* p = f.payload.data();
  CHECK(p[0] >> 4 == 6);
  CHECK((p[4] << 8 | p[5]) == 32);  // payload length
  CHECK(p[6] == 58);                // ICMPv6
  CHECK(p[7] == 255);               // hop limit
  CHECK(IpAddress::FromBytes(IpFamily::kIpv6, p + 8) == ip);
  CHECK(IpAddress::FromBytes(IpFamily::kIpv6, p + 24).ToString() == "ff02::1");
  const std::uint8_t* icmp = p + 40;
  CHECK(icmp[0] == 136);
  CHECK(icmp[1] == 0);
  CHECK(icmp[4] == 0x20);  // override only: not a router, not solicited
  CHECK(IpAddress::FromBytes(IpFamily::kIpv6, icmp + 8) == ip);
  CHECK(icmp[24] == 2);  // target link-layer address option
  CHECK(icmp[25] == 1);
  CHECK(MacAddress{icmp[26], icmp[27], icmp[28], icmp[29], icmp[30], icmp[31]} == kMac);
  // Summing a message with its checksum in place gives zero.
  CHECK(Icmpv6Checksum(ip, *IpAddress::Parse("ff02::1"), icmp, 32) == 0);
}

TEST_CASE("the ICMPv6 checksum matches a known packet") {
  // A neighbour solicitation for fe80::1 from fe80::2; the expected sum was
  // computed independently (Python, RFC 1071 over the RFC 2460 pseudo-header).
  auto src = *IpAddress::Parse("fe80::2");
  auto dst = *IpAddress::Parse("ff02::1:ff00:1");
  std::vector<std::uint8_t> ns =
      Bytes({135, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  std::uint16_t sum = Icmpv6Checksum(src, dst, ns.data(), ns.size());
  ns[2] = static_cast<std::uint8_t>(sum >> 8);
  ns[3] = static_cast<std::uint8_t>(sum & 0xff);
  CHECK(Icmpv6Checksum(src, dst, ns.data(), ns.size()) == 0);
  CHECK(sum == 0x7da2);
}

TEST_CASE("ARP answers that show another host uses the address are conflicts") {
  auto ip = *IpAddress::Parse("198.51.100.10");
  auto packet = [](int op, const MacAddress& sha, std::initializer_list<int> spa,
                   std::initializer_list<int> tpa) {
    std::vector<std::uint8_t> p = Bytes({0, 1, 8, 0, 6, 4, 0, op});
    p.insert(p.end(), sha.begin(), sha.end());
    for (int b : spa) p.push_back(static_cast<std::uint8_t>(b));
    p.insert(p.end(), 6, 0);
    for (int b : tpa) p.push_back(static_cast<std::uint8_t>(b));
    return p;
  };
  static const struct {
    const char* what;
    int op;
    bool other_sender;
    std::initializer_list<int> spa, tpa;
    bool conflict;
  } cases[] = {
      {"a reply from the holder", 2, true, {198, 51, 100, 10}, {0, 0, 0, 0}, true},
      {"the holder's own announcement", 1, true, {198, 51, 100, 10}, {198, 51, 100, 10}, true},
      {"another host probing for it too", 1, true, {0, 0, 0, 0}, {198, 51, 100, 10}, true},
      {"our own probe echoed", 1, false, {0, 0, 0, 0}, {198, 51, 100, 10}, false},
      {"traffic about another address", 2, true, {198, 51, 100, 11}, {198, 51, 100, 1}, false},
      {"someone asking for it (not claiming it)",
       1,
       true,
       {198, 51, 100, 2},
       {198, 51, 100, 10},
       false},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto p = packet(c.op, c.other_sender ? kOther : kMac, c.spa, c.tpa);
    auto conflict = ArpConflict(p.data(), p.size(), ip, kMac);
    CHECK(conflict.has_value() == c.conflict);
    if (conflict) CHECK(*conflict == kOther);
  }
  auto p = packet(2, kOther, {198, 51, 100, 10}, {0, 0, 0, 0});
  CHECK_FALSE(ArpConflict(p.data(), 20, ip, kMac));  // truncated
}
