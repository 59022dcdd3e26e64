// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/net/ip_address.h"

#include <catch2/catch.hpp>

using namespace pmmha;

TEST_CASE("addresses parse strictly and print canonically") {
  static const struct {
    const char* text;
    bool ok;
    const char* canonical;
    IpFamily family;
  } cases[] = {
      {"198.51.100.10", true, "198.51.100.10", IpFamily::kIpv4},
      {"2001:db8::10", true, "2001:db8::10", IpFamily::kIpv6},
      {"2001:DB8:0:0::0010", true, "2001:db8::10", IpFamily::kIpv6},
      {"::ffff:198.51.100.1", true, "::ffff:198.51.100.1", IpFamily::kIpv6},
      {"198.51.100", false, "", IpFamily::kIpv4},
      {"198.51.100.256", false, "", IpFamily::kIpv4},
      {"198.51.100.10/24", false, "", IpFamily::kIpv4},
      {" 198.51.100.10", false, "", IpFamily::kIpv4},
      {"2001:db8::10%eth0", false, "", IpFamily::kIpv6},
      {"2001:db8:::10", false, "", IpFamily::kIpv6},
      {"", false, "", IpFamily::kIpv4},
      {"$(reboot)", false, "", IpFamily::kIpv4},
      {"0123456789abcdef0123456789abcdef0123456789abcdef0123", false, "", IpFamily::kIpv4},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto ip = IpAddress::Parse(c.text);
    REQUIRE(ip.has_value() == c.ok);
    if (!c.ok) continue;
    CHECK(ip->ToString() == c.canonical);
    CHECK(ip->family() == c.family);
  }
}

TEST_CASE("addresses a virtual IP cannot be are named") {
  static const struct {
    const char* text;
    const char* why;  // nullptr: usable
  } cases[] = {
      {"198.51.100.10", nullptr}, {"2001:db8::10", nullptr},
      {"fe80::10", nullptr},  // usable with a nic; MakeVipConfig insists on one
      {"0.0.0.0", "unspecified"}, {"0.1.2.3", "unspecified"},
      {"::", "unspecified"},      {"127.0.0.1", "loopback"},
      {"127.10.0.1", "loopback"}, {"::1", "loopback"},
      {"224.0.0.1", "multicast"}, {"239.255.255.250", "multicast"},
      {"ff02::1", "multicast"},   {"255.255.255.255", "limited broadcast"},
      {"240.0.0.1", "reserved"},  {"::ffff:198.51.100.1", "IPv4-mapped"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto ip = IpAddress::Parse(c.text);
    REQUIRE(ip);
    auto why = WhyNotUsable(*ip);
    if (c.why == nullptr) {
      CHECK_FALSE(why);
    } else {
      REQUIRE(why);
      CHECK_THAT(*why, Catch::Contains(c.why));
    }
  }
}

TEST_CASE("prefix lengths: decimal per family, dotted netmasks for IPv4") {
  static const struct {
    const char* text;
    IpFamily family;
    int prefix;  // 0: rejected
  } cases[] = {
      {"24", IpFamily::kIpv4, 24},
      {"32", IpFamily::kIpv4, 32},
      {"1", IpFamily::kIpv4, 1},
      {"0", IpFamily::kIpv4, 0},
      {"33", IpFamily::kIpv4, 0},
      {"64", IpFamily::kIpv6, 64},
      {"128", IpFamily::kIpv6, 128},
      {"129", IpFamily::kIpv6, 0},
      {"-1", IpFamily::kIpv6, 0},
      {"+24", IpFamily::kIpv4, 0},
      {"24x", IpFamily::kIpv4, 0},
      {"", IpFamily::kIpv4, 0},
      {"255.255.255.0", IpFamily::kIpv4, 24},
      {"255.255.255.255", IpFamily::kIpv4, 32},
      {"255.255.128.0", IpFamily::kIpv4, 17},
      {"255.0.255.0", IpFamily::kIpv4, 0},
      {"0.0.0.0", IpFamily::kIpv4, 0},
      {"255.255.255.0", IpFamily::kIpv6, 0},
  };
  for (const auto& c : cases) {
    INFO(c.text << (c.family == IpFamily::kIpv4 ? " v4" : " v6"));
    auto p = ParsePrefix(c.text, c.family);
    if (c.prefix == 0) {
      CHECK_FALSE(p);
    } else {
      REQUIRE(p);
      CHECK(*p == c.prefix);
    }
  }
}

TEST_CASE("prefix arithmetic") {
  auto ip = *IpAddress::Parse("198.51.100.77");
  CHECK(ip.Masked(24).ToString() == "198.51.100.0");
  CHECK(ip.Masked(26).ToString() == "198.51.100.64");
  CHECK(ip.BroadcastFor(24).ToString() == "198.51.100.255");
  CHECK(ip.BroadcastFor(26).ToString() == "198.51.100.127");
  CHECK(ip.InPrefix(*IpAddress::Parse("198.51.100.0"), 24));
  CHECK_FALSE(ip.InPrefix(*IpAddress::Parse("198.51.101.0"), 24));
  CHECK(ip.InPrefix(*IpAddress::Parse("198.51.101.0"), 22));
  CHECK_FALSE(ip.InPrefix(*IpAddress::Parse("2001:db8::"), 0));  // families differ

  auto v6 = *IpAddress::Parse("2001:db8:1::10");
  CHECK(v6.Masked(64).ToString() == "2001:db8:1::");
  CHECK(v6.Masked(36).ToString() == "2001:db8::");
  CHECK(v6.InPrefix(*IpAddress::Parse("2001:db8:1::"), 64));
  CHECK_FALSE(v6.InPrefix(*IpAddress::Parse("2001:db8:2::"), 64));
}
