// SPDX-License-Identifier: GPL-2.0-or-later
// Fakes of the kernel, the announcer and the link record for the VIP's
// unit tests (vip_test.cc, vip_matrix_test.cc).
#pragma once

#include <linux/if.h>
#include <linux/if_addr.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "pmmha/net/vip.h"

namespace pmmha::test {

inline IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

constexpr unsigned kUpWithCarrier = IFF_UP | IFF_LOWER_UP;

// The kernel as the VIP logic sees it: links, addresses, routes, and what
// happens while the logic waits for a notification.
class FakeNetwork : public Network {
 public:
  FakeNetwork() {
    links = {
        {.index = 1, .name = "lo", .flags = IFF_UP | IFF_LOWER_UP | IFF_LOOPBACK},
        {.index = 2,
         .name = "eth0",
         .flags = kUpWithCarrier,
         .mac = {2, 0, 0, 0, 0, 2},
         .mac_len = 6},
        {.index = 3,
         .name = "eth1",
         .flags = kUpWithCarrier,
         .mac = {2, 0, 0, 0, 0, 3},
         .mac_len = 6},
    };
    routes = {
        {Ip("198.51.100.0"), 24, 2, false, 0},
        {Ip("203.0.113.0"), 24, 3, false, 0},
        {Ip("0.0.0.0"), 0, 2, true, 0},  // default via a gateway
        {Ip("2001:db8:1::"), 64, 2, false, 256},
    };
  }

  LinkInfo* Link(int index) {
    for (auto& l : links) {
      if (l.index == index) return &l;
    }
    return nullptr;
  }
  AddressInfo* Address(const char* ip) {
    for (auto& a : addresses) {
      if (a.address == Ip(ip)) return &a;
    }
    return nullptr;
  }
  void Put(const char* ip, int prefix, int ifindex, unsigned flags = IFA_F_PERMANENT) {
    addresses.push_back({ifindex, Ip(ip), prefix, flags, {}});
  }

  Result<std::optional<LinkInfo>> LinkByName(std::string_view name) override {
    for (auto& l : links) {
      if (l.name == name) return std::optional<LinkInfo>(l);
    }
    return std::optional<LinkInfo>();
  }
  Result<std::optional<LinkInfo>> LinkByIndex(int index) override {
    if (LinkInfo* l = Link(index)) return std::optional<LinkInfo>(*l);
    return std::optional<LinkInfo>();
  }
  Result<std::vector<AddressInfo>> Addresses(IpFamily family, int ifindex) override {
    std::vector<AddressInfo> out;
    for (auto& a : addresses) {
      if (a.address.family() == family && (ifindex == 0 || a.ifindex == ifindex)) out.push_back(a);
    }
    return out;
  }
  Result<std::vector<RouteInfo>> Routes(IpFamily family, int ifindex) override {
    ++route_dumps;
    std::vector<RouteInfo> out;
    for (auto& r : routes) {
      if (r.destination.family() == family && (ifindex == 0 || r.ifindex == ifindex)) {
        out.push_back(r);
      }
    }
    return out;
  }
  Status AddAddress(const AddressRequest& r) override {
    if (add_error) return Status::Error(add_error);
    unsigned flags = IFA_F_PERMANENT;
    if (r.nodad) flags |= IFA_F_NODAD;
    if (!r.address.is_v4() && !r.nodad) flags |= IFA_F_TENTATIVE;
    if (r.deprecated) flags |= IFA_F_DEPRECATED;
    addresses.push_back({r.ifindex, r.address, r.prefix, flags, r.label});
    requests.push_back(r);
    return Status::Ok();
  }
  Status DeleteAddress(int ifindex, const IpAddress& address, int prefix) override {
    deleted.push_back(fmt::format("{}/{}@{}", address.ToString(), prefix, ifindex));
    if (delete_ignored) return Status::Ok();
    std::erase_if(addresses, [&](const AddressInfo& a) {
      return a.ifindex == ifindex && a.address == address && a.prefix == prefix;
    });
    return Status::Ok();
  }
  Status SetLinkUp(int ifindex) override {
    set_up.push_back(ifindex);
    Link(ifindex)->flags |= IFF_UP;
    return Status::Ok();
  }
  Status Subscribe() override {
    subscribed = true;
    return Status::Ok();
  }
  Result<bool> WaitForChange(const Deadline&) override {
    REQUIRE(subscribed);
    ++waits;
    if (!on_wait) return false;  // nothing happens until the deadline
    on_wait(*this);
    return true;
  }

  std::vector<LinkInfo> links;
  std::vector<AddressInfo> addresses;
  std::vector<RouteInfo> routes;
  std::vector<AddressRequest> requests;
  std::vector<std::string> deleted;
  std::vector<int> set_up;
  std::function<void(FakeNetwork&)> on_wait;
  const char* add_error = nullptr;
  bool delete_ignored = false;
  bool subscribed = false;
  int waits = 0;
  int route_dumps = 0;
};

class FakeAnnouncer : public Announcer {
 public:
  Status Announce(const Announcement& a) override {
    announced.push_back(fmt::format("{}@{}", a.ip.ToString(), a.link.name));
    return Status::Ok();
  }
  Status AnnounceInBackground(const Announcement&, int rounds, std::chrono::milliseconds interval,
                              const Deadline&) override {
    background_rounds = rounds;
    background_interval = interval;
    running = rounds > 0;
    return Status::Ok();
  }
  bool BackgroundRunning() override { return running; }
  Status StopBackground(const Deadline&) override {
    ++stops;
    if (stop_error) return Status::Error("process 42 did not end in time");
    running = false;
    return Status::Ok();
  }
  Result<std::optional<MacAddress>> Probe(const LinkInfo&, const IpAddress&, int probes,
                                          std::chrono::milliseconds, const Deadline&) override {
    probes_sent += probes;
    if (on_probe) on_probe();
    return holder;
  }

  std::vector<std::string> announced;
  int background_rounds = -1;
  std::chrono::milliseconds background_interval{0};
  bool running = false;
  bool stop_error = false;
  int stops = 0;
  int probes_sent = 0;
  std::optional<MacAddress> holder;
  std::function<void()> on_probe;
};

inline VipConfig Config(const char* ip, std::function<void(VipParams&)> adjust = {}) {
  VipParams p;
  p.ip = ip;
  if (adjust) adjust(p);
  auto c = MakeVipConfig(p);
  REQUIRE(c.ok());
  return *c;
}

// The record in memory; `links` unset: there is none.
class FakeLinkRecord : public LinkRecord {
 public:
  std::optional<std::vector<RecordedLink>> Load() override { return links; }
  Status Add(const LinkInfo& link) override {
    if (add_error) return Status::Error("cannot write '/run/x.links.tmp': Read-only file system");
    if (!links) links.emplace();
    for (const RecordedLink& l : *links) {
      if (l.index == link.index) return Status::Ok();
    }
    links->push_back({link.index, link.name});
    return Status::Ok();
  }
  Status Clear() override {
    links.emplace();
    return Status::Ok();
  }

  std::optional<std::vector<RecordedLink>> links;
  bool add_error = false;
};

struct Fixture {
  FakeNetwork net;
  FakeAnnouncer announcer;
  FakeLinkRecord record;
  Logger log;
  Deadline deadline = Deadline::After(std::chrono::seconds(10));
};

}  // namespace pmmha::test
