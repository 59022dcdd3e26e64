// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/net/vip.h"

#include <linux/if.h>
#include <linux/if_addr.h>

#include <functional>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "vip_fakes.h"

using namespace pmmha;
using namespace pmmha::test;

// --- configuration ------------------------------------------------------------

TEST_CASE("single values are checked by the table's check functions") {
  static const struct {
    std::optional<std::string> (*check)(std::string_view);
    std::string value;
    const char* error;  // nullptr: accepted
  } cases[] = {
      {CheckVipAddress, "198.51.100.10", nullptr},
      {CheckVipAddress, "2001:db8::10", nullptr},
      {CheckVipAddress, "198.51.100.300", "is not an IPv4 or IPv6 address"},
      {CheckVipAddress, "198.51.100.10; reboot", "is not an IPv4 or IPv6 address"},
      {CheckVipAddress, "224.0.0.5", "is a multicast address"},
      {CheckVipAddress, "0.0.0.0", "is an unspecified address"},
      {CheckVipAddress, "::1", "is a loopback address"},
      {CheckNetmask, "24", nullptr},
      {CheckNetmask, "128", nullptr},
      {CheckNetmask, "255.255.255.0", nullptr},
      {CheckNetmask, "0", "is not a prefix length"},
      {CheckNetmask, "129", "is not a prefix length"},
      {CheckNetmask, "24 ", "is not a prefix length"},
      {CheckInterfaceName, "eth0", nullptr},
      {CheckInterfaceName, "bond0.100", nullptr},
      {CheckInterfaceName, "br-lan_2", nullptr},
      {CheckInterfaceName, "averylongname123", "is not an interface name: 1 to 15"},
      {CheckInterfaceName, "eth0:1", "is not an interface name"},
      {CheckInterfaceName, "../eth0", "is not an interface name"},
      {CheckInterfaceName, "..", "is not an interface name"},
      {CheckInterfaceName, "eth0`id`", "is not an interface name"},
      {CheckLabel, "vip", nullptr},
      {CheckLabel, "a b", "is not a label"},
      {CheckNamespaceName, "pmm-node1", nullptr},
      {CheckNamespaceName, "../../etc", "is not a network namespace name"},
      {CheckNamespaceName, "x$(id)", "is not a network namespace name"},
      {CheckNamespaceName, std::string(65, 'n'), "1 to 64"},
      {CheckBroadcast, "+", nullptr},
      {CheckBroadcast, "-", nullptr},
      {CheckBroadcast, "198.51.100.255", nullptr},
      {CheckBroadcast, "10.1.2.3", nullptr},
      {CheckBroadcast, "255.255.255.255", nullptr},
      {CheckBroadcast, "bogus", "is not an IPv4 address, '+' or '-'"},
      {CheckBroadcast, "++", "is not an IPv4 address, '+' or '-'"},
      {CheckBroadcast, "198.51.100.255 ", "is not an IPv4 address, '+' or '-'"},
      {CheckBroadcast, "2001:db8::ff", "is not an IPv4 address, '+' or '-'"},
      {CheckBroadcast, "0.0.0.0", "is in 0.0.0.0/8"},
  };
  for (const auto& c : cases) {
    INFO(c.value);
    auto error = c.check(c.value);
    if (c.error == nullptr) {
      CHECK_FALSE(error);
    } else {
      REQUIRE(error);
      CHECK_THAT(*error, Catch::Contains(c.error));
    }
  }
}

TEST_CASE("parameters that depend on each other are checked together") {
  static const struct {
    const char* what;
    std::function<void(VipParams&)> set;
    const char* error;
  } cases[] = {
      {"an IPv4 prefix beyond 32", [](VipParams& p) { p.cidr_netmask = "33"; },
       "parameter 'cidr_netmask' = '33': is not a prefix length for IPv4 (1 to 32)"},
      {"an IPv6 prefix beyond 128",
       [](VipParams& p) {
         p.ip = "2001:db8::10";
         p.cidr_netmask = "129";
       },
       "parameter 'cidr_netmask' = '129': is not a prefix length for IPv6 (1 to 128)"},
      {"a netmask for IPv6",
       [](VipParams& p) {
         p.ip = "2001:db8::10";
         p.cidr_netmask = "255.255.255.0";
       },
       "is not a prefix length for IPv6"},
      {"a label on IPv6",
       [](VipParams& p) {
         p.ip = "2001:db8::10";
         p.label = "vip";
       },
       "parameter 'label' = 'vip': labels exist for IPv4 addresses only"},
      {"a label too long for the nic",
       [](VipParams& p) {
         p.nic = "enp0s31f6";
         p.label = "pmmvip";
       },
       "'enp0s31f6:pmmvip' is longer than 15 characters"},
      {"a link-local address without a nic", [](VipParams& p) { p.ip = "fe80::10"; },
       "parameter 'nic' is required for the link-local address 'fe80::10'"},
      {"preferred_lft 0 on IPv4", [](VipParams& p) { p.preferred_lft = "0"; },
       "parameter 'preferred_lft' = '0': applies to IPv6 addresses only"},
      {"a broadcast address", [](VipParams& p) { p.ip = "255.255.255.255"; },
       "parameter 'ip' = '255.255.255.255': is the limited broadcast address"},
      {"broadcast for IPv6",
       [](VipParams& p) {
         p.ip = "2001:db8::10";
         p.broadcast = "+";
       },
       "parameter 'broadcast' = '+': applies to IPv4 addresses only (IPv6 has none)"},
      {"broadcast not an address", [](VipParams& p) { p.broadcast = "x"; },
       "parameter 'broadcast' = 'x': is not an IPv4 address, '+' or '-'"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    VipParams p;
    p.ip = "198.51.100.10";
    c.set(p);
    auto config = MakeVipConfig(p);
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().code() == ExitCode::kErrConfigured);
    CHECK_THAT(config.status().reason(), Catch::Contains(c.error));
  }
}

TEST_CASE("a dotted netmask becomes a prefix length, preferred_lft 0 deprecates") {
  auto c = Config("198.51.100.10", [](VipParams& p) {
    p.cidr_netmask = "255.255.255.128";
    p.arp_mode = "reply";
  });
  CHECK(c.prefix == 25);
  CHECK_FALSE(c.deprecated);
  CHECK(c.arp_mode == ArpMode::kReply);
  CHECK(Config("2001:db8::10", [](VipParams& p) { p.preferred_lft = "0"; }).deprecated);
}

TEST_CASE("the broadcast address: '+' (the default), '-' or the one given, IPv4 only") {
  static const struct {
    const char* ip;
    const char* broadcast;
    int prefix;
    const char* expected;  // nullptr: none
  } cases[] = {
      {"198.51.100.10", "", 24, "198.51.100.255"},
      {"198.51.100.10", "+", 24, "198.51.100.255"},
      {"198.51.100.10", "-", 24, "198.51.100.0"},
      {"198.51.100.10", "+", 16, "198.51.255.255"},
      {"198.51.100.10", "-", 28, "198.51.100.0"},
      {"198.51.100.20", "-", 28, "198.51.100.16"},
      {"198.51.100.10", "+", 30, "198.51.100.11"},
      // As `ip address add ... brd +`: none for /31 and /32.
      {"198.51.100.10", "", 31, nullptr},
      {"198.51.100.10", "-", 31, nullptr},
      {"198.51.100.10", "+", 32, nullptr},
      // An address given is set whatever the prefix, as `brd ADDRESS`.
      {"198.51.100.10", "198.51.100.127", 24, "198.51.100.127"},
      {"198.51.100.10", "10.1.2.3", 32, "10.1.2.3"},
      {"2001:db8::10", "", 64, nullptr},
  };
  for (const auto& c : cases) {
    INFO(c.ip << " broadcast '" << c.broadcast << "' /" << c.prefix);
    auto config = Config(c.ip, [&](VipParams& p) { p.broadcast = c.broadcast; });
    auto b = VipBroadcast(config, c.prefix);
    if (c.expected == nullptr) {
      CHECK_FALSE(b);
    } else {
      REQUIRE(b);
      CHECK(b->ToString() == c.expected);
    }
  }
}

// --- finding the nic -----------------------------------------------------------

TEST_CASE("the nic is found by the longest matching directly connected route") {
  auto r = [](const char* dst, int prefix, int ifindex, bool gw = false, std::uint32_t metric = 0) {
    return RouteInfo{Ip(dst), prefix, ifindex, gw, metric};
  };
  static const struct {
    const char* what;
    const char* ip;
    std::vector<RouteInfo> routes;
    int ifindex;  // 0: no match
    int prefix;
    int within = 0;
  } cases[] = {
      {"the only match", "198.51.100.10", {r("198.51.100.0", 24, 2)}, 2, 24},
      {"longest prefix wins",
       "198.51.100.10",
       {r("198.51.0.0", 16, 2), r("198.51.100.0", 25, 3), r("198.51.100.0", 24, 4)},
       3,
       25},
      {"a route that does not contain it", "198.51.100.200", {r("198.51.100.0", 25, 3)}, 0, 0},
      {"routes through a gateway say nothing",
       "198.51.100.10",
       {r("198.51.100.0", 24, 2, true)},
       0,
       0},
      {"a default route says nothing", "198.51.100.10", {r("0.0.0.0", 0, 2)}, 0, 0},
      {"a tie goes to the lower metric",
       "198.51.100.10",
       {r("198.51.100.0", 24, 2, false, 100), r("198.51.100.0", 24, 3, false, 10)},
       3,
       24},
      {"then to the lower link index",
       "198.51.100.10",
       {r("198.51.100.0", 24, 5), r("198.51.100.0", 24, 4)},
       4,
       24},
      {"IPv6", "2001:db8:1::10", {r("2001:db8::", 32, 2), r("2001:db8:1::", 64, 3)}, 3, 64},
      {"another family never matches", "2001:db8:1::10", {r("198.51.100.0", 24, 2)}, 0, 0},
      {"multipath routes have no single link", "198.51.100.10", {r("198.51.100.0", 24, 0)}, 0, 0},
      // As findif, which skips the lines of `ip route` without a '/'.
      {"a host route names no subnet", "198.51.100.10", {r("198.51.100.10", 32, 3)}, 0, 0},
      {"... not even beside a subnet's",
       "198.51.100.10",
       {r("198.51.100.10", 32, 3), r("198.51.100.0", 24, 2)},
       2,
       24},
      {"an IPv6 host route", "2001:db8:1::10", {r("2001:db8:1::10", 128, 3)}, 0, 0},
      {"a /31 is a subnet", "192.0.2.7", {r("192.0.2.6", 31, 3)}, 3, 31},
      // cidr_netmask given: `ip route list match IP/CIDR`.
      {"within /28: a /24 contains the /28",
       "198.51.100.10",
       {r("198.51.100.0", 24, 2)},
       2,
       24,
       28},
      {"within /24: the /24 itself", "198.51.100.10", {r("198.51.100.0", 24, 2)}, 2, 24, 24},
      {"within /16: a /24 does not contain the /16",
       "198.51.100.10",
       {r("198.51.100.0", 24, 2)},
       0,
       0,
       16},
      {"within /20: the /16 that contains it, not the longer /24",
       "198.51.100.10",
       {r("198.51.0.0", 16, 3), r("198.51.100.0", 24, 2)},
       3,
       16,
       20},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto best = BestRoute(c.routes, Ip(c.ip), c.within);
    if (c.ifindex == 0) {
      CHECK_FALSE(best);
    } else {
      REQUIRE(best);
      CHECK(best->ifindex == c.ifindex);
      CHECK(best->prefix == c.prefix);
    }
  }
}

TEST_CASE("placement: the nic and prefix given, found, or missing") {
  static const struct {
    const char* what;
    const char* ip;
    const char* nic;
    const char* netmask;
    const char* link;  // nullptr: fails
    int prefix;
    ExitCode start_code;  // when it fails outside validate-all
    const char* error;
  } cases[] = {
      {"both found by route", "198.51.100.10", "", "", "eth0", 24, {}, nullptr},
      {"nic given, prefix by its route", "203.0.113.7", "eth1", "", "eth1", 24, {}, nullptr},
      // IPaddr2's findif: "Unable to find nic or netmask." (1).
      {"nic given, no route of the address on it", "192.0.2.7", "eth1", "", nullptr, 0,
       ExitCode::kErrGeneric,
       "parameter 'nic' = 'eth1': none of its subnets contains 192.0.2.7, so clients could not "
       "reach it (cidr_netmask forces it)"},
      {"... a route of it on another nic only", "198.51.100.10", "eth1", "", nullptr, 0,
       ExitCode::kErrGeneric,
       "parameter 'nic' = 'eth1': none of its subnets contains 198.51.100.10, so clients could "
       "not reach it (cidr_netmask forces it)"},
      {"... IPv6", "2001:db8:9::1", "eth1", "", nullptr, 0, ExitCode::kErrGeneric,
       "parameter 'nic' = 'eth1': none of its subnets contains 2001:db8:9::1, so clients could "
       "not reach it (cidr_netmask forces it)"},
      // findif looks at no route when both are given.
      {"nic and cidr_netmask given, no route: that prefix",
       "192.0.2.7",
       "eth1",
       "24",
       "eth1",
       24,
       {},
       nullptr},
      {"... a host prefix, when asked for", "192.0.2.7", "eth1", "32", "eth1", 32, {}, nullptr},
      {"... IPv6", "2001:db8:9::1", "eth1", "64", "eth1", 64, {}, nullptr},
      {"... wider than the nic's route", "198.51.100.10", "eth0", "16", "eth0", 16, {}, nullptr},
      {"prefix given, nic by route", "198.51.100.10", "", "28", "eth0", 28, {}, nullptr},
      {"prefix given as the route's", "198.51.100.10", "", "24", "eth0", 24, {}, nullptr},
      {"prefix given wider than the route, no nic", "198.51.100.10", "", "16", nullptr, 0,
       ExitCode::kErrGeneric,
       "parameter 'cidr_netmask' = '16': wider than the subnet of 198.51.100.10 on 'eth0', "
       "198.51.100.0/24"},
      {"... as a netmask", "198.51.100.10", "", "255.255.0.0", nullptr, 0, ExitCode::kErrGeneric,
       "parameter 'cidr_netmask' = '255.255.0.0': wider than the subnet of 198.51.100.10 on "
       "'eth0', 198.51.100.0/24"},
      {"... IPv6", "2001:db8:1::10", "", "48", nullptr, 0, ExitCode::kErrGeneric,
       "parameter 'cidr_netmask' = '48': wider than the subnet of 2001:db8:1::10 on 'eth0', "
       "2001:db8:1::/64"},
      {"unknown nic", "198.51.100.10", "eth9", "", nullptr, 0, ExitCode::kErrInstalled,
       "nic 'eth9' does not exist"},
      {"no route to find the nic", "192.0.2.7", "", "", nullptr, 0, ExitCode::kErrGeneric,
       "no route matches '192.0.2.7', so the nic cannot be found; set nic"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    Fixture f;
    auto config = Config(c.ip, [&](VipParams& p) {
      p.nic = c.nic;
      p.cidr_netmask = c.netmask;
    });
    Vip vip(config, f.net, f.announcer, f.record, f.log);
    auto placed = vip.Place(false);
    auto validated = vip.Place(true);
    if (c.link != nullptr) {
      REQUIRE(placed.ok());
      CHECK(placed->link.name == c.link);
      CHECK(placed->prefix == c.prefix);
      CHECK(validated.ok());
    } else {
      REQUIRE_FALSE(placed.ok());
      CHECK(placed.status().code() == c.start_code);
      CHECK(placed.status().reason() == c.error);
      REQUIRE_FALSE(validated.ok());
      CHECK(validated.status().code() == ExitCode::kErrConfigured);
      CHECK(validated.status().reason() == c.error);
    }
  }
}

TEST_CASE("with the link down (routes gone) the nic and prefix come from its addresses") {
  static const struct {
    const char* what;
    const char* ip;
    std::vector<AddressInfo> addresses;
    int ifindex;  // 0: nothing matches
    int prefix;
    int within = 0;
  } cases[] = {
      {"the node's own address on the subnet",
       "198.51.100.10",
       {{2, Ip("198.51.100.1"), 24, 0, {}}, {3, Ip("203.0.113.1"), 24, 0, {}}},
       2,
       24},
      {"the longest subnet wins",
       "198.51.100.10",
       {{2, Ip("198.51.0.1"), 16, 0, {}}, {3, Ip("198.51.100.1"), 27, 0, {}}},
       3,
       27},
      {"the address itself, with its subnet",
       "192.0.2.7",
       {{3, Ip("192.0.2.7"), 24, 0, {}}},
       3,
       24},
      {"a host address names no subnet, not even the address's own",
       "192.0.2.7",
       {{3, Ip("192.0.2.7"), 32, 0, {}}},
       0,
       0},
      {"no subnet contains it", "192.0.2.7", {{2, Ip("198.51.100.1"), 24, 0, {}}}, 0, 0},
      {"within /16: a /24 does not contain the /16",
       "198.51.100.10",
       {{2, Ip("198.51.100.1"), 24, 0, {}}},
       0,
       0,
       16},
      {"within /25: the /24 does",
       "198.51.100.10",
       {{2, Ip("198.51.100.1"), 24, 0, {}}},
       2,
       24,
       25},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto best = BestSubnet(c.addresses, Ip(c.ip), c.within);
    if (c.ifindex == 0) {
      CHECK_FALSE(best);
    } else {
      REQUIRE(best);
      CHECK(best->ifindex == c.ifindex);
      CHECK(best->prefix == c.prefix);
    }
  }

  Fixture f;
  f.net.routes.clear();
  f.net.Link(2)->flags = 0;
  f.net.Put("198.51.100.1", 24, 2);
  auto config = Config("198.51.100.10");
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  auto placed = vip.Place(false);
  REQUIRE(placed.ok());
  CHECK(placed->link.name == "eth0");
  CHECK(placed->prefix == 24);

  // The address's subnet holds cidr_netmask as the route would.
  auto wide = Config("198.51.100.10", [](VipParams& p) { p.cidr_netmask = "16"; });
  Vip wider(wide, f.net, f.announcer, f.record, f.log);
  auto refused = wider.Place(false);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == ExitCode::kErrGeneric);
  CHECK(refused.status().reason() ==
        "parameter 'cidr_netmask' = '16': wider than the subnet of 198.51.100.10 on 'eth0', "
        "198.51.100.0/24");
}

// --- start --------------------------------------------------------------------

TEST_CASE("start adds the address where the route says and announces it") {
  Fixture f;
  auto config = Config("198.51.100.10", [](VipParams& p) {
    p.label = "pmm";
    p.arp_count = 4;
    p.arp_interval_ms = 300;
  });
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  REQUIRE(vip.Start(f.deadline).ok());
  REQUIRE(f.net.requests.size() == 1);
  const AddressRequest& r = f.net.requests[0];
  CHECK(r.ifindex == 2);
  CHECK(r.prefix == 24);
  CHECK(r.label == "eth0:pmm");
  REQUIRE(r.broadcast);
  CHECK(r.broadcast->ToString() == "198.51.100.255");
  CHECK_FALSE(r.deprecated);
  CHECK(f.announcer.announced == std::vector<std::string>{"198.51.100.10@eth0"});
  CHECK(f.announcer.background_rounds == 3);
  CHECK(f.announcer.background_interval == std::chrono::milliseconds(300));
  CHECK(f.net.waits == 0);
}

TEST_CASE("start sets the broadcast address configured") {
  for (const char* broadcast : {"-", "198.51.100.127"}) {
    INFO(broadcast);
    Fixture f;
    auto config = Config("198.51.100.10", [&](VipParams& p) { p.broadcast = broadcast; });
    Vip vip(config, f.net, f.announcer, f.record, f.log);
    REQUIRE(vip.Start(f.deadline).ok());
    REQUIRE(f.net.requests.size() == 1);
    REQUIRE(f.net.requests[0].broadcast);
    CHECK(f.net.requests[0].broadcast->ToString() ==
          (std::string_view(broadcast) == "-" ? "198.51.100.0" : broadcast));
  }
}

TEST_CASE("start flags: host prefixes have no broadcast, noprefixroute, preferred_lft") {
  Fixture f;
  auto config = Config("192.0.2.7", [](VipParams& p) {
    p.nic = "eth1";
    p.cidr_netmask = "32";
    p.noprefixroute = true;
  });
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  REQUIRE(vip.Start(f.deadline).ok());
  REQUIRE(f.net.requests.size() == 1);
  CHECK(f.net.requests[0].prefix == 32);
  CHECK_FALSE(f.net.requests[0].broadcast);
  CHECK(f.net.requests[0].noprefixroute);
  CHECK_FALSE(f.net.requests[0].deprecated);
  CHECK(f.net.requests[0].label.empty());

  Fixture f6;
  auto config6 = Config("2001:db8:9::7", [](VipParams& p) {
    p.nic = "eth1";
    p.cidr_netmask = "128";
    p.preferred_lft = "0";
    p.nodad = true;
  });
  Vip vip6(config6, f6.net, f6.announcer, f6.record, f6.log);
  REQUIRE(vip6.Start(f6.deadline).ok());
  REQUIRE(f6.net.requests.size() == 1);
  CHECK(f6.net.requests[0].prefix == 128);
  CHECK(f6.net.requests[0].deprecated);
  CHECK_FALSE(f6.net.requests[0].broadcast);
}

TEST_CASE("start is idempotent: an address already there is announced again, not re-added") {
  Fixture f;
  f.net.Put("198.51.100.10", 24, 2);
  auto config = Config("198.51.100.10");
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  REQUIRE(vip.Start(f.deadline).ok());
  CHECK(f.net.requests.empty());
  CHECK(f.net.deleted.empty());
  CHECK(f.announcer.announced.size() == 1);
}

TEST_CASE("start replaces the address with another prefix, or a dadfailed leftover") {
  for (unsigned flags : {unsigned{IFA_F_PERMANENT}, unsigned{IFA_F_PERMANENT | IFA_F_DADFAILED}}) {
    Fixture f;
    bool dadfailed = (flags & IFA_F_DADFAILED) != 0;
    f.net.Put("198.51.100.10", dadfailed ? 24 : 16, 2, flags);
    auto config = Config("198.51.100.10");
    Vip vip(config, f.net, f.announcer, f.record, f.log);
    REQUIRE(vip.Start(f.deadline).ok());
    CHECK(f.net.deleted ==
          std::vector<std::string>{dadfailed ? "198.51.100.10/24@2" : "198.51.100.10/16@2"});
    REQUIRE(f.net.requests.size() == 1);
    CHECK(f.net.requests[0].prefix == 24);
  }
}

TEST_CASE("start refuses an address configured on another link") {
  Fixture f;
  f.net.Put("198.51.100.10", 24, 3);
  auto config = Config("198.51.100.10", [](VipParams& p) { p.nic = "eth0"; });
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  Status s = vip.Start(f.deadline);
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK(s.reason() == "198.51.100.10 is already configured on 'eth1', not on 'eth0'");
  CHECK(f.net.requests.empty());
  CHECK_FALSE(f.record.links);  // so stop will not take it from eth1
}

TEST_CASE("start records its link before it adds, and keeps only the configured prefix") {
  Fixture f;
  f.net.Put("198.51.100.10", 32, 2);
  f.net.Put("198.51.100.10", 24, 2);
  f.net.Put("198.51.100.10", 16, 2);
  auto config = Config("198.51.100.10");
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  REQUIRE(vip.Start(f.deadline).ok());
  CHECK(f.net.deleted == std::vector<std::string>{"198.51.100.10/32@2", "198.51.100.10/16@2"});
  CHECK(f.net.requests.empty());  // the /24 was there
  CHECK(f.record.links == std::vector<RecordedLink>{{2, "eth0"}});

  Fixture g;
  g.record.add_error = true;
  Vip unrecorded(config, g.net, g.announcer, g.record, g.log);
  Status s = unrecorded.Start(g.deadline);
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK_THAT(s.reason(), Catch::StartsWith("cannot record the link the address goes on: "));
  CHECK(g.net.requests.empty());
}

TEST_CASE("start brings the link up and waits for the carrier when check_link") {
  Fixture f;
  f.net.Link(2)->flags = 0;  // down, no carrier
  f.net.on_wait = [](FakeNetwork& n) { n.Link(2)->flags |= IFF_LOWER_UP; };
  auto config = Config("198.51.100.10");
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  REQUIRE(vip.Start(f.deadline).ok());
  CHECK(f.net.set_up == std::vector<int>{2});
  CHECK(f.net.waits == 1);
}

TEST_CASE("without check_link start does not wait for a carrier") {
  Fixture f;
  f.net.Link(2)->flags = 0;
  auto config = Config("198.51.100.10", [](VipParams& p) { p.check_link = false; });
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  REQUIRE(vip.Start(f.deadline).ok());
  CHECK(f.net.waits == 0);
}

TEST_CASE("a carrier that never comes fails start and removes the address") {
  // Up without a carrier before start (a pulled cable): a short grace, then
  // a reason that says what is wrong; brought up by start: the whole
  // deadline (the fake's deadline does not pass, its wait just ends).
  static const struct {
    const char* name;
    unsigned flags;
    const char* reason;
  } cases[] = {
      {"up, no carrier", IFF_UP,
       "'eth0' has no carrier (a cable, switch port or peer is down): clients cannot reach "
       "198.51.100.10 here"},
      {"down", 0, "'eth0' has no carrier within the start timeout"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      Fixture f;
      f.net.Link(2)->flags = c.flags;
      auto config = Config("198.51.100.10");
      Vip vip(config, f.net, f.announcer, f.record, f.log);
      Status s = vip.Start(f.deadline);
      CHECK(s.code() == ExitCode::kErrGeneric);
      CHECK(s.reason() == c.reason);
      CHECK(f.net.addresses.empty());
      CHECK(f.announcer.announced.empty());
    }
  }
}

TEST_CASE("a link up without a carrier gets a grace of seconds, not the start timeout") {
  Fixture f;
  f.net.Link(2)->flags = IFF_UP;
  auto config = Config("198.51.100.10");
  // A real wait: the kernel fake sends no notification, so it lasts until
  // the deadline it was given.
  struct Waiting : FakeNetwork {
    Result<bool> WaitForChange(const Deadline& d) override {
      waited = d.Remaining();
      return false;
    }
    Deadline::Duration waited{};
  } net;
  net.links = f.net.links;
  Vip waiting(config, net, f.announcer, f.record, f.log);
  CHECK(!waiting.Start(Deadline::After(std::chrono::seconds(20))).ok());
  CHECK(net.waited <= std::chrono::seconds(2));
  CHECK(net.waited > std::chrono::seconds(1));
}

TEST_CASE("IPv6 start waits out duplicate address detection, then announces") {
  Fixture f;
  f.net.on_wait = [](FakeNetwork& n) { n.Address("2001:db8:1::10")->flags &= ~IFA_F_TENTATIVE; };
  auto config = Config("2001:db8:1::10");
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  REQUIRE(vip.Start(f.deadline).ok());
  CHECK(f.net.waits == 1);
  CHECK(f.net.requests[0].prefix == 64);
  CHECK(f.announcer.announced == std::vector<std::string>{"2001:db8:1::10@eth0"});
}

TEST_CASE("IPv6 duplicate address: start fails naming the cause and leaves nothing") {
  Fixture f;
  f.net.on_wait = [](FakeNetwork& n) { n.Address("2001:db8:1::10")->flags |= IFA_F_DADFAILED; };
  auto config = Config("2001:db8:1::10");
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  Status s = vip.Start(f.deadline);
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK(s.reason() ==
        "duplicate address detection failed for 2001:db8:1::10 on 'eth0': another host on the "
        "link holds the address");
  CHECK(f.net.addresses.empty());
  CHECK(f.announcer.announced.empty());
}

TEST_CASE("IPv6 detection that does not finish in time fails start, leaving nothing") {
  Fixture f;  // on_wait unset: the deadline passes
  auto config = Config("2001:db8:1::10");
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  Status s = vip.Start(f.deadline);
  CHECK(s.reason() ==
        "duplicate address detection for 2001:db8:1::10 did not finish within the start timeout");
  CHECK(f.net.addresses.empty());
}

TEST_CASE("nodad skips the wait") {
  Fixture f;
  auto config = Config("2001:db8:1::10", [](VipParams& p) { p.nodad = true; });
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  REQUIRE(vip.Start(f.deadline).ok());
  CHECK(f.net.requests[0].nodad);
  CHECK(f.net.waits == 0);
}

TEST_CASE("the duplicate check fails start with the MAC that answered") {
  Fixture f;
  f.announcer.holder = MacAddress{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
  auto config = Config("198.51.100.10");  // on by default
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  Status s = vip.Start(f.deadline);
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK(s.reason() ==
        "198.51.100.10 is in use by 02:aa:bb:cc:dd:ee on 'eth0': it answered our ARP probe");
  CHECK(f.announcer.probes_sent == 3);
  CHECK(f.net.requests.empty());

  f.announcer.holder.reset();
  REQUIRE(vip.Start(f.deadline).ok());
  CHECK(f.net.requests.size() == 1);
}

TEST_CASE("start brings a link that is down up before it probes (no probe leaves a down link)") {
  Fixture f;
  f.net.Link(2)->flags = 0;
  f.net.on_wait = [](FakeNetwork& n) { n.Link(2)->flags |= IFF_LOWER_UP; };
  bool up_when_probed = false;
  f.announcer.on_probe = [&] { up_when_probed = f.net.Link(2)->admin_up(); };
  auto config = Config("198.51.100.10");
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  REQUIRE(vip.Start(f.deadline).ok());
  CHECK(f.announcer.probes_sent == 3);
  CHECK(up_when_probed);
}

TEST_CASE("without run_arping start does not probe") {
  Fixture f;
  f.announcer.holder = MacAddress{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
  auto config = Config("198.51.100.10", [](VipParams& p) { p.duplicate_check = false; });
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  REQUIRE(vip.Start(f.deadline).ok());
  CHECK(f.announcer.probes_sent == 0);
}

TEST_CASE("monitor: another host answering for the address is defended, and degraded") {
  Fixture f;
  f.net.Put("198.51.100.10", 24, 2);
  auto config = Config("198.51.100.10");
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  REQUIRE(vip.Monitor(f.deadline).ok());
  CHECK(f.announcer.probes_sent == 1);
  CHECK(f.announcer.announced.empty());

  f.announcer.holder = MacAddress{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
  Status s = vip.Monitor(f.deadline);
  CHECK(s.code() == ExitCode::kDegraded);
  CHECK(s.reason() ==
        "198.51.100.10 is also answered by 02:aa:bb:cc:dd:ee on 'eth0': another host claims "
        "the address");
  // Announced again: one now, arp_count - 1 from the background.
  CHECK(f.announcer.announced == std::vector<std::string>{"198.51.100.10@eth0"});
  CHECK(f.announcer.background_rounds == 4);
  CHECK(f.net.addresses.size() == 1);  // kept: no other node would fare better

  f.announcer.holder.reset();  // the other host let go
  REQUIRE(vip.Monitor(f.deadline).ok());

  auto off = Config("198.51.100.10", [](VipParams& p) { p.duplicate_check = false; });
  Vip unchecked(off, f.net, f.announcer, f.record, f.log);
  f.announcer.holder = MacAddress{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
  int probes = f.announcer.probes_sent;
  REQUIRE(unchecked.Monitor(f.deadline).ok());
  CHECK(f.announcer.probes_sent == probes);
}

TEST_CASE("monitor does not probe for an IPv6 address (the kernel's DAD is at start)") {
  Fixture f;
  f.net.Put("2001:db8:1::10", 64, 2);
  auto config = Config("2001:db8:1::10");
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  f.announcer.holder = MacAddress{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
  REQUIRE(vip.Monitor(f.deadline).ok());
  CHECK(f.announcer.probes_sent == 0);
}

TEST_CASE("the kernel's refusal reaches the reason") {
  Fixture f;
  f.net.add_error = "Permission denied";
  auto config = Config("198.51.100.10");
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  Status s = vip.Start(f.deadline);
  CHECK(s.reason() == "cannot add 198.51.100.10/24 on 'eth0': Permission denied");
}

// --- monitor ------------------------------------------------------------------

TEST_CASE("monitor decides from the address, its prefix, flags and the link") {
  static const struct {
    const char* what;
    std::function<void(FakeNetwork&)> state;
    std::function<void(VipParams&)> params;
    ExitCode code;
    const char* reason;
  } cases[] = {
      {"absent", [](FakeNetwork&) {}, {}, ExitCode::kNotRunning, ""},
      {"present, right prefix",
       [](FakeNetwork& n) { n.Put("198.51.100.10", 24, 2); },
       {},
       ExitCode::kSuccess,
       ""},
      {"on another link than the nic", [](FakeNetwork& n) { n.Put("198.51.100.10", 24, 3); },
       [](VipParams& p) { p.nic = "eth0"; }, ExitCode::kNotRunning, ""},
      {"the nic does not exist (a probe on another node)", [](FakeNetwork&) {},
       [](VipParams& p) { p.nic = "eth7"; }, ExitCode::kNotRunning, ""},
      {"wrong prefix",
       [](FakeNetwork& n) { n.Put("198.51.100.10", 16, 2); },
       {},
       ExitCode::kErrGeneric,
       "198.51.100.10 is on 'eth0' with prefix /16, expected /24"},
      {"prefix given", [](FakeNetwork& n) { n.Put("198.51.100.10", 28, 2); },
       [](VipParams& p) { p.cidr_netmask = "28"; }, ExitCode::kSuccess, ""},
      {"link down",
       [](FakeNetwork& n) {
         n.Put("198.51.100.10", 24, 2);
         n.Link(2)->flags = 0;
       },
       {},
       ExitCode::kErrGeneric,
       "198.51.100.10 is on 'eth0', but the link is down"},
      {"no carrier",
       [](FakeNetwork& n) {
         n.Put("198.51.100.10", 24, 2);
         n.Link(2)->flags = IFF_UP;
       },
       {},
       ExitCode::kErrGeneric,
       "198.51.100.10 is on 'eth0', but the link has no carrier"},
      {"link down without check_link",
       [](FakeNetwork& n) {
         n.Put("198.51.100.10", 24, 2);
         n.Link(2)->flags = 0;
       },
       [](VipParams& p) { p.check_link = false; }, ExitCode::kSuccess, ""},
      {"link down, its routes gone, without check_link",
       [](FakeNetwork& n) {
         n.Put("198.51.100.10", 24, 2);
         n.Link(2)->flags = 0;
         n.routes.clear();
       },
       [](VipParams& p) { p.check_link = false; }, ExitCode::kSuccess, ""},
      {"a longer route than the address's prefix",
       [](FakeNetwork& n) {
         n.Put("198.51.100.10", 16, 2);
         n.routes.push_back({Ip("198.51.0.0"), 16, 2, false, 0});
       },
       {},
       ExitCode::kErrGeneric,
       "with prefix /16, expected /24"},
      {"a host address on a link none of whose subnets contains it (an older pmm-vip's)",
       [](FakeNetwork& n) { n.Put("192.0.2.7", 32, 3); },
       [](VipParams& p) {
         p.ip = "192.0.2.7";
         p.nic = "eth1";
       },
       ExitCode::kErrGeneric,
       "192.0.2.7/32 is on 'eth1', but no subnet of the link contains it: clients cannot reach it "
       "there"},
      {"... a host prefix asked for by cidr_netmask",
       [](FakeNetwork& n) { n.Put("192.0.2.7", 32, 3); },
       [](VipParams& p) {
         p.ip = "192.0.2.7";
         p.nic = "eth1";
         p.cidr_netmask = "32";
       },
       ExitCode::kSuccess, ""},
      {"routes gone, the node's own address gives the prefix",
       [](FakeNetwork& n) {
         n.routes.clear();
         n.Put("198.51.100.1", 24, 2);
         n.Put("198.51.100.10", 32, 2);
       },
       [](VipParams& p) { p.check_link = false; }, ExitCode::kErrGeneric,
       "198.51.100.10 is on 'eth0' with prefix /32, expected /24"},
      {"IPv6 tentative",
       [](FakeNetwork& n) { n.Put("2001:db8:1::10", 64, 2, IFA_F_PERMANENT | IFA_F_TENTATIVE); },
       [](VipParams& p) { p.ip = "2001:db8:1::10"; }, ExitCode::kErrGeneric,
       "2001:db8:1::10 on 'eth0' is tentative: duplicate address detection is running"},
      {"IPv6 dadfailed",
       [](FakeNetwork& n) {
         n.Put("2001:db8:1::10", 64, 2, IFA_F_PERMANENT | IFA_F_TENTATIVE | IFA_F_DADFAILED);
       },
       [](VipParams& p) { p.ip = "2001:db8:1::10"; }, ExitCode::kErrGeneric,
       "another host on the link holds the address"},
      {"IPv6 present", [](FakeNetwork& n) { n.Put("2001:db8:1::10", 64, 2); },
       [](VipParams& p) { p.ip = "2001:db8:1::10"; }, ExitCode::kSuccess, ""},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    Fixture f;
    c.state(f.net);
    auto config = Config("198.51.100.10", c.params);
    Vip vip(config, f.net, f.announcer, f.record, f.log);
    Status s = vip.Monitor(f.deadline);
    CHECK(s.code() == c.code);
    CHECK_THAT(s.reason(), Catch::Contains(c.reason));
    CHECK(f.announcer.announced.empty());  // arp_count_refresh is 0
  }
}

TEST_CASE("monitor reads no routes when the prefix is given") {
  Fixture f;
  f.net.Put("198.51.100.10", 24, 2);
  auto config = Config("198.51.100.10", [](VipParams& p) {
    p.nic = "eth0";
    p.cidr_netmask = "24";
  });
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  REQUIRE(vip.Monitor(f.deadline).ok());
  CHECK(f.net.route_dumps == 0);
}

TEST_CASE("arp_count_refresh announces on each monitor, unless an announcer is busy") {
  Fixture f;
  f.net.Put("198.51.100.10", 24, 2);
  auto config = Config("198.51.100.10", [](VipParams& p) { p.arp_count_refresh = 3; });
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  REQUIRE(vip.Monitor(f.deadline).ok());
  CHECK(f.announcer.announced.size() == 1);
  CHECK(f.announcer.background_rounds == 2);
  REQUIRE(vip.Monitor(f.deadline).ok());  // the background from the first one still runs
  CHECK(f.announcer.announced.size() == 1);
  f.announcer.running = false;
  REQUIRE(vip.Monitor(f.deadline).ok());
  CHECK(f.announcer.announced.size() == 2);
}

TEST_CASE("a single announcement starts no background process") {
  Fixture f;
  auto config = Config("198.51.100.10", [](VipParams& p) {
    p.arp_count = 1;
    p.arp_count_refresh = 1;
  });
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  REQUIRE(vip.Start(f.deadline).ok());
  REQUIRE(vip.Monitor(f.deadline).ok());
  CHECK(f.announcer.announced.size() == 2);
  CHECK(f.announcer.background_rounds == -1);
}

// --- stop ---------------------------------------------------------------------

TEST_CASE("stop ends the announcer and removes the address with the prefix it has") {
  Fixture f;
  f.net.Put("198.51.100.10", 16, 2);
  f.net.Put("198.51.100.1", 24, 2);
  auto config = Config("198.51.100.10");
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  REQUIRE(vip.Stop(f.deadline).ok());
  CHECK(f.announcer.stops == 1);
  CHECK(f.net.deleted == std::vector<std::string>{"198.51.100.10/16@2"});
  CHECK(f.net.addresses.size() == 1);  // the node's own address stays
}

TEST_CASE("stop removes every instance on the links start could have used, and only those") {
  static const struct {
    const char* what;
    const char* nic;
    std::optional<std::vector<RecordedLink>> record;
    std::vector<std::string> deleted;  // of 198.51.100.10/24@2, /32@2, /32@3
  } cases[] = {
      {"nic: every prefix on it",
       "eth0",
       std::nullopt,
       {"198.51.100.10/24@2", "198.51.100.10/32@2"}},
      {"nic and the record",
       "eth0",
       std::vector<RecordedLink>{{3, "eth1"}},
       {"198.51.100.10/24@2", "198.51.100.10/32@2", "198.51.100.10/32@3"}},
      {"no nic: the recorded links",
       "",
       std::vector<RecordedLink>{{3, "eth1"}},
       {"198.51.100.10/32@3"}},
      {"no nic, an empty record (stopped since): none", "", std::vector<RecordedLink>{}, {}},
      {"no nic, no record: the route's link",
       "",
       std::nullopt,
       {"198.51.100.10/24@2", "198.51.100.10/32@2"}},
      {"a nic that does not exist, no record: none", "eth9", std::nullopt, {}},
      {"a nic that does not exist, the record",
       "eth9",
       std::vector<RecordedLink>{{2, "eth0"}},
       {"198.51.100.10/24@2", "198.51.100.10/32@2"}},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    Fixture f;
    f.net.Put("198.51.100.10", 24, 2);
    f.net.Put("198.51.100.10", 32, 2);
    f.net.Put("198.51.100.10", 32, 3);
    f.net.Put("198.51.100.1", 24, 2);
    f.record.links = c.record;
    auto config = Config("198.51.100.10", [&](VipParams& p) { p.nic = c.nic; });
    Vip vip(config, f.net, f.announcer, f.record, f.log);
    REQUIRE(vip.Stop(f.deadline).ok());
    CHECK(f.net.deleted == c.deleted);
    CHECK(f.net.Address("198.51.100.1"));  // the node's own address stays
    CHECK(f.record.links == std::vector<RecordedLink>{});
    CHECK(vip.Monitor(f.deadline).code() == ExitCode::kNotRunning);
  }
}

TEST_CASE("stop fails while an instance is still there after removing it") {
  Fixture f;
  f.net.Put("198.51.100.10", 24, 2);
  f.net.delete_ignored = true;  // as when something re-adds it at once
  auto config = Config("198.51.100.10", [](VipParams& p) { p.nic = "eth0"; });
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  Status s = vip.Stop(f.deadline);
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK(s.reason() == "198.51.100.10/24 is still on 'eth0' after it was removed");
}

TEST_CASE("monitor judges the instance with the expected prefix and ignores other links") {
  static const struct {
    const char* what;
    std::vector<std::pair<int, int>> instances;  // prefix, ifindex
    ExitCode code;
    const char* reason;
  } cases[] = {
      {"/32 then /24: the /24 is judged", {{32, 2}, {24, 2}}, ExitCode::kSuccess, ""},
      {"/16 then /32: neither",
       {{16, 2}, {32, 2}},
       ExitCode::kErrGeneric,
       "198.51.100.10 is on 'eth0' with prefix /16, expected /24"},
      {"on eth1 only (not where start puts it)", {{24, 3}}, ExitCode::kNotRunning, ""},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    Fixture f;
    for (auto [prefix, ifindex] : c.instances) f.net.Put("198.51.100.10", prefix, ifindex);
    auto config = Config("198.51.100.10");
    Vip vip(config, f.net, f.announcer, f.record, f.log);
    Status s = vip.Monitor(f.deadline);
    CHECK(s.code() == c.code);
    CHECK(s.reason() == c.reason);
  }
}

TEST_CASE("stop succeeds when there is nothing to remove") {
  for (const char* nic : {"", "eth0", "eth9"}) {
    INFO("nic '" << nic << "'");
    Fixture f;
    auto config = Config("198.51.100.10", [&](VipParams& p) { p.nic = nic; });
    Vip vip(config, f.net, f.announcer, f.record, f.log);
    CHECK(vip.Stop(f.deadline).ok());
    CHECK(f.net.deleted.empty());
  }
}

TEST_CASE("stop fails while the announcer cannot be ended") {
  Fixture f;
  f.net.Put("198.51.100.10", 24, 2);
  f.announcer.stop_error = true;
  auto config = Config("198.51.100.10");
  Vip vip(config, f.net, f.announcer, f.record, f.log);
  Status s = vip.Stop(f.deadline);
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK_THAT(s.reason(), Catch::StartsWith("cannot end the background announcer"));
}

// --- clones ---------------------------------------------------------------------

TEST_CASE("a clone is refused by start and validate-all, not by stop and monitor") {
  static const struct {
    const char* action;
    bool clone;
    int clone_max;
    bool refused;
  } cases[] = {
      {"start", true, 2, true},   {"validate-all", true, 2, true},
      {"start", false, 2, true},  {"validate-all", false, 1, true},
      {"stop", true, 2, false},   {"monitor", true, 2, false},
      {"start", false, 0, false}, {"validate-all", false, 0, false},
  };
  for (const auto& c : cases) {
    INFO(c.action << " clone " << c.clone << " clone_max " << c.clone_max);
    VipParams p;
    p.ip = "198.51.100.10";
    Request r;
    r.action = c.action;
    r.meta.clone = c.clone;
    r.meta.clone_max = c.clone_max;
    auto config = AcceptVipRequest(p, r);
    if (c.refused) {
      REQUIRE_FALSE(config.ok());
      CHECK(config.status().code() == ExitCode::kErrConfigured);
      CHECK_THAT(config.status().reason(),
                 Catch::StartsWith("pmm-vip cannot be a clone: one address on two nodes"));
    } else {
      CHECK(config.ok());
    }
  }
}
