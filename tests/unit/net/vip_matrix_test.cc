// SPDX-License-Identifier: GPL-2.0-or-later
// pmm-vip's action x situation matrix: every action as the agent runs it
// (RunVip: the configuration, the clone refusal, then Vip) in every
// situation a node can be in, with the OCF code each must give. Then the
// contract every row must keep: a stop that succeeds leaves nothing a
// monitor or probe calls running, and a start that succeeds is running.
#include <linux/if.h>
#include <linux/if_addr.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "pmmha/net/vip.h"

#include "vip_fakes.h"

using namespace pmmha;
using namespace pmmha::test;

namespace {

constexpr ExitCode kOk = ExitCode::kSuccess;
constexpr ExitCode kErr = ExitCode::kErrGeneric;
constexpr ExitCode kInst = ExitCode::kErrInstalled;
constexpr ExitCode kConf = ExitCode::kErrConfigured;
constexpr ExitCode kNot = ExitCode::kNotRunning;

// The fake network's links: lo (1), eth0 (2, route 198.51.100.0/24 and
// 2001:db8:1::/64), eth1 (3, route 203.0.113.0/24). The VIP is
// 198.51.100.10 unless a row sets another.
struct Situation {
  const char* what;
  std::function<void(VipParams&)> params;
  std::function<void(Fixture&)> state;
  ExitCode start, stop, monitor, probe, validate;
  // Instances of the VIP on the node after stop ("ADDRESS/PREFIX@IFINDEX").
  std::vector<std::string> left_by_stop;
  bool clone = false;  // CRM_meta_clone, CRM_meta_clone_max 2
};

void Nothing(VipParams&) {}

Request MakeRequest(std::string_view action, bool clone) {
  Request r;
  if (action == "probe") {
    r.action = "monitor";
  } else {
    r.action = std::string(action);
    if (action == "monitor") r.meta.interval = std::chrono::seconds(10);
  }
  if (clone) {
    r.meta.clone = true;
    r.meta.clone_max = 2;
  }
  return r;
}

std::vector<std::string> VipInstances(const FakeNetwork& net, const VipParams& p) {
  std::vector<std::string> out;
  for (const AddressInfo& a : net.addresses) {
    if (a.address == Ip(p.ip.c_str())) {
      out.push_back(fmt::format("{}/{}@{}", a.address.ToString(), a.prefix, a.ifindex));
    }
  }
  return out;
}

const Situation kSituations[] = {
    // what, params, state, start, stop, monitor, probe, validate-all, left by stop
    {"absent, nic unset", Nothing, [](Fixture&) {}, kOk, kOk, kNot, kNot, kOk, {}},
    {"absent, nic set",
     [](VipParams& p) { p.nic = "eth0"; },
     [](Fixture&) {},
     kOk,
     kOk,
     kNot,
     kNot,
     kOk,
     {}},
    {"present once, where start put it (recorded)",
     Nothing,
     [](Fixture& f) {
       f.net.Put("198.51.100.10", 24, 2);
       f.record.links = {{2, "eth0"}};
     },
     kOk,
     kOk,
     kOk,
     kOk,
     kOk,
     {}},
    {"present once, no record (no start since boot, or an older agent's): where start would put "
     "it",
     Nothing,
     [](Fixture& f) { f.net.Put("198.51.100.10", 24, 2); },
     kOk,
     kOk,
     kOk,
     kOk,
     kOk,
     {}},
    {"present twice on the nic (/24 and /32, an admin's or an old cidr_netmask)",
     [](VipParams& p) { p.nic = "eth0"; },
     [](Fixture& f) {
       f.net.Put("198.51.100.10", 24, 2);
       f.net.Put("198.51.100.10", 32, 2);
       f.record.links = {{2, "eth0"}};
     },
     kOk,
     kOk,
     kOk,
     kOk,
     kOk,
     {}},
    {"present twice, nic unset, no record",
     Nothing,
     [](Fixture& f) {
       f.net.Put("198.51.100.10", 32, 2);
       f.net.Put("198.51.100.10", 24, 2);
     },
     kOk,
     kOk,
     kOk,
     kOk,
     kOk,
     {}},
    {"present twice, cidr_netmask 32: the /32 is the one",
     [](VipParams& p) { p.cidr_netmask = "32"; },
     [](Fixture& f) {
       f.net.Put("198.51.100.10", 24, 2);
       f.net.Put("198.51.100.10", 32, 2);
     },
     kOk,
     kOk,
     kOk,
     kOk,
     kOk,
     {}},
    {"present twice, neither with the expected prefix",
     Nothing,
     [](Fixture& f) {
       f.net.Put("198.51.100.10", 16, 2);
       f.net.Put("198.51.100.10", 32, 2);
       f.record.links = {{2, "eth0"}};
     },
     kOk,
     kOk,
     kErr,
     kErr,
     kOk,
     {}},
    {"present on another interface only, nic unset: not ours",
     Nothing,
     [](Fixture& f) { f.net.Put("198.51.100.10", 32, 3); },
     kErr,
     kOk,
     kNot,
     kNot,
     kOk,
     {"198.51.100.10/32@3"}},
    {"present on another interface only, nic set: not ours",
     [](VipParams& p) { p.nic = "eth0"; },
     [](Fixture& f) { f.net.Put("198.51.100.10", 32, 3); },
     kErr,
     kOk,
     kNot,
     kNot,
     kOk,
     {"198.51.100.10/32@3"}},
    {"present where start put it and on another interface",
     Nothing,
     [](Fixture& f) {
       f.net.Put("198.51.100.10", 24, 2);
       f.net.Put("198.51.100.10", 32, 3);
       f.record.links = {{2, "eth0"}};
     },
     kErr,
     kOk,
     kOk,
     kOk,
     kOk,
     {"198.51.100.10/32@3"}},
    {"present where start put it, routes now lead elsewhere",
     Nothing,
     [](Fixture& f) {
       f.net.Put("198.51.100.10", 24, 3);
       f.record.links = {{3, "eth1"}};
     },
     kErr,
     kOk,
     kOk,
     kOk,
     kOk,
     {}},
    {"the recorded link is gone",
     Nothing,
     [](Fixture& f) {
       f.record.links = {{7, "veth7"}};
     },
     kOk,
     kOk,
     kNot,
     kNot,
     kOk,
     {}},
    {"nic missing",
     [](VipParams& p) { p.nic = "eth9"; },
     [](Fixture&) {},
     kInst,
     kOk,
     kNot,
     kNot,
     kConf,
     {}},
    {"nic missing, the address on another interface",
     [](VipParams& p) { p.nic = "eth9"; },
     [](Fixture& f) { f.net.Put("198.51.100.10", 24, 2); },
     kInst,
     kOk,
     kNot,
     kNot,
     kConf,
     {"198.51.100.10/24@2"}},
    {"the nic start used was renamed since",
     [](VipParams& p) { p.nic = "eth0"; },
     [](Fixture& f) {
       f.net.Put("198.51.100.10", 24, 2);
       f.record.links = {{2, "eth0"}};
       f.net.Link(2)->name = "lan0";
     },
     kInst,
     kOk,
     kOk,
     kOk,
     kConf,
     {}},
    {"nic unset, no route to find it",
     [](VipParams& p) { p.ip = "192.0.2.7"; },
     [](Fixture&) {},
     kErr,
     kOk,
     kNot,
     kNot,
     kConf,
     {}},
    // As IPaddr2's findif: the address where it cannot work fails the start
    // (1: the cluster starts it on another node).
    {"nic set, none of its subnets contains the address",
     [](VipParams& p) { p.nic = "eth1"; },
     [](Fixture&) {},
     kErr,
     kOk,
     kNot,
     kNot,
     kConf,
     {}},
    {"nic set, none of its subnets contains the address, a host address an older pmm-vip added",
     [](VipParams& p) {
       p.ip = "192.0.2.7";
       p.nic = "eth1";
     },
     [](Fixture& f) {
       f.net.Put("192.0.2.7", 32, 3);
       f.record.links = {{3, "eth1"}};
     },
     kErr,
     kOk,
     kErr,
     kErr,
     kConf,
     {}},
    {"nic and cidr_netmask set, none of its subnets contains the address: that prefix",
     [](VipParams& p) {
       p.ip = "192.0.2.7";
       p.nic = "eth1";
       p.cidr_netmask = "24";
     },
     [](Fixture&) {},
     kOk,
     kOk,
     kNot,
     kNot,
     kOk,
     {}},
    {"nic unset, cidr_netmask wider than the route",
     [](VipParams& p) { p.cidr_netmask = "16"; },
     [](Fixture&) {},
     kErr,
     kOk,
     kNot,
     kNot,
     kConf,
     {}},
    // With the route the kernel adds for it: then the address justifies
    // itself, to IPaddr2's findif too.
    {"nic unset, cidr_netmask wider than the route, present as an older pmm-vip added it",
     [](VipParams& p) { p.cidr_netmask = "16"; },
     [](Fixture& f) {
       f.net.Put("198.51.100.10", 16, 2);
       f.net.routes.push_back({Ip("198.51.0.0"), 16, 2, false, 0});
     },
     kOk,
     kOk,
     kOk,
     kOk,
     kOk,
     {}},
    {"a clone", Nothing, [](Fixture&) {}, kConf, kOk, kNot, kNot, kConf, {}, true},
    {"a clone, present (started before the refusal)",
     Nothing,
     [](Fixture& f) { f.net.Put("198.51.100.10", 24, 2); },
     kConf,
     kOk,
     kOk,
     kOk,
     kConf,
     {},
     true},
    {"present, link administratively down",
     Nothing,
     [](Fixture& f) {
       f.net.Put("198.51.100.10", 24, 2);
       f.record.links = {{2, "eth0"}};
       f.net.Link(2)->flags = IFF_LOWER_UP;
     },
     kOk,
     kOk,
     kErr,
     kErr,
     kOk,
     {}},
    {"IPv6 present (nodad)",
     [](VipParams& p) {
       p.ip = "2001:db8:1::10";
       p.nodad = true;
     },
     [](Fixture& f) {
       f.net.Put("2001:db8:1::10", 64, 2);
       f.record.links = {{2, "eth0"}};
     },
     kOk,
     kOk,
     kOk,
     kOk,
     kOk,
     {}},
    {"IPv6 dadfailed, left by a start that was killed",
     [](VipParams& p) {
       p.ip = "2001:db8:1::10";
       p.nodad = true;
     },
     [](Fixture& f) {
       f.net.Put("2001:db8:1::10", 64, 2, IFA_F_PERMANENT | IFA_F_TENTATIVE | IFA_F_DADFAILED);
       f.record.links = {{2, "eth0"}};
     },
     kOk,
     kOk,
     kErr,
     kErr,
     kOk,
     {}},
    {"the link record cannot be written",
     Nothing,
     [](Fixture& f) { f.record.add_error = true; },
     kErr,
     kOk,
     kNot,
     kNot,
     kOk,
     {}},
    {"an announcer that cannot be ended",
     Nothing,
     [](Fixture& f) {
       f.net.Put("198.51.100.10", 24, 2);
       f.record.links = {{2, "eth0"}};
       f.announcer.stop_error = true;
     },
     kOk,
     kErr,
     kOk,
     kOk,
     kOk,
     {"198.51.100.10/24@2"}},
};

struct Run {
  Fixture f;
  VipParams params;
  bool clone = false;

  explicit Run(const Situation& s) {
    params.ip = "198.51.100.10";
    s.params(params);
    s.state(f);
    clone = s.clone;
  }
  Status Do(std::string_view action) {
    Request r = MakeRequest(action, clone);
    return RunVip(params, r, f.net, f.announcer, f.record, f.log, f.deadline);
  }
};

}  // namespace

TEST_CASE("every action in every situation gives the OCF code it must") {
  for (const Situation& s : kSituations) {
    const struct {
      const char* action;
      ExitCode expected;
    } actions[] = {{"start", s.start},
                   {"stop", s.stop},
                   {"monitor", s.monitor},
                   {"probe", s.probe},
                   {"validate-all", s.validate}};
    for (const auto& a : actions) {
      INFO(s.what << ": " << a.action);
      Run run(s);
      Status status = run.Do(a.action);
      INFO("reason: " << status.reason());
      CHECK(status.code() == a.expected);
      if (std::string_view(a.action) == "stop") {
        CHECK(VipInstances(run.f.net, run.params) == s.left_by_stop);
      }
    }
  }
}

TEST_CASE("a stop that succeeds leaves nothing a monitor or probe calls ours") {
  for (const Situation& s : kSituations) {
    if (s.stop != kOk) continue;
    INFO(s.what);
    Run run(s);
    REQUIRE(run.Do("stop").ok());
    CHECK(run.Do("monitor").code() == kNot);
    CHECK(run.Do("probe").code() == kNot);
    CHECK(run.Do("stop").ok());  // and again
    CHECK(run.f.announcer.running == false);
  }
}

TEST_CASE("a start that succeeds is running, once, stop then removes it") {
  for (const Situation& s : kSituations) {
    if (s.start != kOk) continue;
    INFO(s.what);
    Run run(s);
    REQUIRE(run.Do("start").ok());
    CHECK(run.Do("monitor").code() == kOk);
    CHECK(run.Do("probe").code() == kOk);
    // One instance, on the link start recorded.
    auto instances = VipInstances(run.f.net, run.params);
    REQUIRE(instances.size() == 1);
    REQUIRE(run.f.record.links);
    CHECK(std::any_of(run.f.record.links->begin(), run.f.record.links->end(),
                      [&](const RecordedLink& l) {
                        return instances[0].ends_with(fmt::format("@{}", l.index));
                      }));
    if (s.stop == kOk) {
      REQUIRE(run.Do("stop").ok());
      CHECK(run.Do("monitor").code() == kNot);
      CHECK(VipInstances(run.f.net, run.params) == s.left_by_stop);
    }
  }
}
