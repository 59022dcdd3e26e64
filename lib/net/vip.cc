// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/net/vip.h"

#include <net/if.h>

#include <algorithm>

#include <fmt/format.h>

#include "pmmha/core/text.h"

namespace pmmha {

namespace {

// Names we pass to the kernel or join into a path: a conservative alphabet
// keeps shell metacharacters, '/', ':' (alias syntax) and blanks out.
std::optional<std::string> CheckName(std::string_view value, std::size_t max,
                                     std::string_view what) {
  if (value.size() > max || !std::all_of(value.begin(), value.end(), IsNameChar) || value == "." ||
      value == "..") {
    return fmt::format("is not {}: 1 to {} letters, digits, '_', '.' or '-'", what, max);
  }
  return std::nullopt;
}

const AddressInfo* FindAddress(const std::vector<AddressInfo>& addresses, const IpAddress& ip) {
  for (const AddressInfo& a : addresses) {
    if (a.address == ip) return &a;
  }
  return nullptr;
}

std::string Slash(const IpAddress& ip, int prefix) {
  return fmt::format("{}/{}", ip.ToString(), prefix);
}

// A link that was up before start and has no carrier is a pulled cable, a
// switch port or a peer down: waiting the whole start timeout for it only
// delays the move to a node that can serve the address. A short grace covers
// a port that is just renegotiating.
constexpr std::chrono::seconds kCarrierGrace{2};

// Duplicate address detection (RFC 5227 probes, shortened: on a LAN an
// answer takes well under a millisecond; the RFC's 1-2 s spacing is for
// slow links, and every start would pay for it). Start sends kStartProbes,
// kStartProbeWait apart: 90 ms of a failover, against 300 ms with the
// monitor's wait; a host that answers later still meets every monitor's
// probe, which waits longer (it costs no CPU, and no client waits on it).
constexpr int kStartProbes = 3;
constexpr std::chrono::milliseconds kStartProbeWait{30};
constexpr std::chrono::milliseconds kMonitorProbeWait{100};

}  // namespace

std::optional<std::string> CheckVipAddress(std::string_view value) {
  auto ip = IpAddress::Parse(value);
  if (!ip) return std::string("is not an IPv4 or IPv6 address");
  return WhyNotUsable(*ip);
}

std::optional<std::string> CheckNetmask(std::string_view value) {
  if (ParsePrefix(value, IpFamily::kIpv6) || ParsePrefix(value, IpFamily::kIpv4)) {
    return std::nullopt;
  }
  return std::string(
      "is not a prefix length (1 to 32 for IPv4, 1 to 128 for IPv6) or an IPv4 netmask");
}

std::optional<std::string> CheckInterfaceName(std::string_view value) {
  return CheckName(value, IFNAMSIZ - 1, "an interface name");
}

std::optional<std::string> CheckLabel(std::string_view value) {
  return CheckName(value, IFNAMSIZ - 3, "a label");
}

std::optional<std::string> CheckNamespaceName(std::string_view value) {
  return CheckName(value, 64, "a network namespace name");
}

std::optional<std::string> CheckBroadcast(std::string_view value) {
  if (value == "+" || value == "-") return std::nullopt;
  auto ip = IpAddress::Parse(value);
  if (!ip || !ip->is_v4()) return std::string("is not an IPv4 address, '+' or '-'");
  if (ip->IsUnspecified()) return std::string("is in 0.0.0.0/8");
  return std::nullopt;
}

Result<VipConfig> MakeVipConfig(const VipParams& p) {
  auto Bad = [](std::string_view name, std::string_view value, std::string_view why) {
    return Status::NotConfigured("parameter '{}' = {}: {}", name, Quote(value), why);
  };
  VipConfig c;
  auto ip = IpAddress::Parse(p.ip);
  if (!ip) return Bad("ip", p.ip, "is not an IPv4 or IPv6 address");
  if (auto why = WhyNotUsable(*ip)) return Bad("ip", p.ip, *why);
  c.ip = *ip;
  if (!p.cidr_netmask.empty()) {
    auto prefix = ParsePrefix(p.cidr_netmask, ip->family());
    if (!prefix) {
      return Bad("cidr_netmask", p.cidr_netmask,
                 ip->is_v4() ? "is not a prefix length for IPv4 (1 to 32) or a netmask"
                             : "is not a prefix length for IPv6 (1 to 128)");
    }
    c.prefix = *prefix;
    c.cidr_netmask = p.cidr_netmask;
  }
  if (!p.label.empty()) {
    if (!ip->is_v4()) return Bad("label", p.label, "labels exist for IPv4 addresses only");
    if (!p.nic.empty() && p.nic.size() + 1 + p.label.size() >= IFNAMSIZ) {
      return Bad("label", p.label,
                 fmt::format("'{}:{}' is longer than {} characters", p.nic, p.label, IFNAMSIZ - 1));
    }
  }
  if (ip->IsLinkLocal() && !ip->is_v4() && p.nic.empty()) {
    return Status::NotConfigured("parameter 'nic' is required for the link-local address {}",
                                 Quote(p.ip));
  }
  if (!p.broadcast.empty()) {
    // IPaddr2 hands it to `ip address add`, which refuses a broadcast
    // address for IPv6: its start fails on every node, so this is 6.
    if (!ip->is_v4()) {
      return Bad("broadcast", p.broadcast, "applies to IPv4 addresses only (IPv6 has none)");
    }
    if (auto why = CheckBroadcast(p.broadcast)) return Bad("broadcast", p.broadcast, *why);
    if (p.broadcast == "-") {
      c.broadcast = Broadcast::kHostBitsCleared;
    } else if (p.broadcast != "+") {
      c.broadcast = Broadcast::kAddress;
      c.broadcast_address = *IpAddress::Parse(p.broadcast);
    }
  }
  auto mode = ParseArpMode(p.arp_mode);
  if (!mode) return Bad("arp_mode", p.arp_mode, "must be one of: request, reply, both");
  if (p.preferred_lft != "forever" && p.preferred_lft != "0") {
    return Bad("preferred_lft", p.preferred_lft, "must be one of: forever, 0");
  }
  if (p.preferred_lft == "0" && ip->is_v4()) {
    // The kernel marks such an IPv4 address deprecated but still picks it
    // as a source address: accepting it would promise what does not happen.
    return Bad("preferred_lft", p.preferred_lft,
               "applies to IPv6 addresses only (IPv4 source selection ignores it)");
  }
  c.nic = p.nic;
  c.label = p.label;
  c.arp_count = static_cast<int>(p.arp_count);
  c.arp_interval = std::chrono::milliseconds(p.arp_interval_ms);
  c.arp_mode = *mode;
  c.arp_count_refresh = static_cast<int>(p.arp_count_refresh);
  c.nodad = p.nodad;
  c.noprefixroute = p.noprefixroute;
  c.deprecated = p.preferred_lft == "0";
  c.check_link = p.check_link;
  c.duplicate_check = p.duplicate_check;
  c.network_namespace = p.network_namespace;
  return c;
}

std::optional<IpAddress> VipBroadcast(const VipConfig& c, int prefix) {
  if (!c.ip.is_v4()) return std::nullopt;
  switch (c.broadcast) {
    case Broadcast::kAddress: return c.broadcast_address;
    case Broadcast::kHostBitsSet:
      if (prefix > 30) return std::nullopt;
      return c.ip.BroadcastFor(prefix);
    case Broadcast::kHostBitsCleared:
      if (prefix > 30) return std::nullopt;
      return c.ip.Masked(prefix);
  }
  return std::nullopt;
}

std::optional<RouteInfo> BestRoute(const std::vector<RouteInfo>& routes, const IpAddress& ip,
                                   int within) {
  const RouteInfo* best = nullptr;
  for (const RouteInfo& r : routes) {
    // findif: only directly connected routes tell which link the address
    // belongs on; a default route says nothing about it, nor does a host
    // route about a subnet.
    if (r.has_gateway || r.ifindex == 0 || r.prefix == 0 || r.prefix >= ip.max_prefix()) continue;
    if (!ip.InPrefix(r.destination, r.prefix)) continue;
    if (within != 0 && r.prefix > within) continue;
    if (best == nullptr || r.prefix > best->prefix ||
        (r.prefix == best->prefix &&
         (r.metric < best->metric || (r.metric == best->metric && r.ifindex < best->ifindex)))) {
      best = &r;
    }
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

std::optional<AddressInfo> BestSubnet(const std::vector<AddressInfo>& addresses,
                                      const IpAddress& ip, int within) {
  const AddressInfo* best = nullptr;
  for (const AddressInfo& a : addresses) {
    if (a.prefix >= ip.max_prefix() || !ip.InPrefix(a.address, a.prefix)) continue;
    if (within != 0 && a.prefix > within) continue;
    if (best == nullptr || a.prefix > best->prefix ||
        (a.prefix == best->prefix && a.ifindex < best->ifindex)) {
      best = &a;
    }
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

Result<std::optional<Vip::Subnet>> Vip::FindSubnet(int ifindex, int within) {
  using Found = std::optional<Subnet>;
  auto routes = net_.Routes(config_.ip.family(), ifindex);
  if (!routes) return routes.status();
  if (auto r = BestRoute(*routes, config_.ip, within)) {
    return Found(Subnet{r->ifindex, r->destination.Masked(r->prefix), r->prefix});
  }
  auto addresses = net_.Addresses(config_.ip.family(), ifindex);
  if (!addresses) return addresses.status();
  if (auto a = BestSubnet(*addresses, config_.ip, within)) {
    return Found(Subnet{a->ifindex, a->address.Masked(a->prefix), a->prefix});
  }
  return Found();
}

Result<std::optional<Vip::Located>> Vip::Locate() {
  using Found = std::optional<Located>;
  if (!config_.nic.empty()) {
    auto link = net_.LinkByName(config_.nic);
    if (!link) return link.status();
    if (!*link) return Found();
    if (config_.prefix != 0) return Found(Located{**link, config_.prefix, {}});
    auto subnet = FindSubnet((*link)->index, 0);
    if (!subnet) return subnet.status();
    return Found(Located{**link, *subnet ? (*subnet)->prefix : 0, {}});
  }
  auto subnet = FindSubnet(0, config_.prefix);
  if (!subnet) return subnet.status();
  std::optional<Subnet> narrower;
  if (!*subnet && config_.prefix != 0) {
    auto any = FindSubnet(0, 0);
    if (!any) return any.status();
    narrower = *any;
  }
  const std::optional<Subnet>& found = *subnet ? *subnet : narrower;
  if (!found) return Found();
  auto link = net_.LinkByIndex(found->ifindex);
  if (!link) return link.status();
  if (!*link) return Status::Error("the link of the matching route vanished");
  return Found(Located{**link, config_.prefix != 0 ? config_.prefix : found->prefix, narrower});
}

// Where the address cannot work, start fails with 1 (OCF_ERR_GENERIC), as
// IPaddr2's findif does ("Unable to find nic or netmask."): the cluster then
// starts the address on another node, whose nic may have the subnet (with
// the default start-failure-is-fatal, this node is not tried again until
// the failure is cleaned up). Not 6: the same configuration may work on the
// other nodes, and 6 stops the address everywhere. Not 5 either: nothing is
// missing from the node's installation, and the subnet may come back (a
// NetworkManager or DHCP reconfiguration). validate-all, which asks whether
// the configuration works here, says 6 like for the other placement
// problems.
Result<Placement> Vip::Place(bool validating) {
  auto located = Locate();
  if (!located) return located.status();
  const ExitCode here = validating ? ExitCode::kErrConfigured : ExitCode::kErrGeneric;
  if (!*located) {
    if (!config_.nic.empty()) {
      return Status(validating ? ExitCode::kErrConfigured : ExitCode::kErrInstalled,
                    fmt::format("nic {} does not exist", Quote(config_.nic)));
    }
    return Status(here, fmt::format("no route matches {}, so the nic cannot be found; set nic",
                                    Quote(config_.ip.ToString())));
  }
  const Located& l = **located;
  if (l.prefix == 0) {
    // A host prefix would leave the address where nothing on the subnet
    // clients use routes to it. Where something else does (a cloud that
    // routes a /32 to the node), cidr_netmask says so.
    return Status(here,
                  fmt::format("parameter 'nic' = {}: none of its subnets contains {}, so clients "
                              "could not reach it (cidr_netmask forces it)",
                              Quote(config_.nic), config_.ip.ToString()));
  }
  if (l.narrower) {
    // The wider prefix would put a route on the link for addresses that
    // are not there.
    return Status(
        here, fmt::format("parameter 'cidr_netmask' = {}: wider than the subnet of {} "
                          "on {}, {}",
                          Quote(config_.cidr_netmask), config_.ip.ToString(), Quote(l.link.name),
                          Slash(l.narrower->network, l.narrower->prefix)));
  }
  if (!config_.label.empty() && l.link.name.size() + 1 + config_.label.size() >= IFNAMSIZ) {
    return Status::NotConfigured("parameter 'label' = {}: '{}:{}' is longer than {} characters",
                                 Quote(config_.label), l.link.name, config_.label, IFNAMSIZ - 1);
  }
  return Placement{l.link, l.prefix};
}

Result<std::vector<LinkInfo>> Vip::OurLinks() {
  std::vector<LinkInfo> links;
  auto add = [&](const LinkInfo& link) {
    if (std::none_of(links.begin(), links.end(),
                     [&](const LinkInfo& l) { return l.index == link.index; })) {
      links.push_back(link);
    }
  };
  if (!config_.nic.empty()) {
    auto named = net_.LinkByName(config_.nic);
    if (!named) return named.status();
    if (*named) add(**named);
  }
  if (auto recorded = record_.Load()) {
    for (const RecordedLink& r : *recorded) {
      auto indexed = net_.LinkByIndex(r.index);
      if (!indexed) return indexed.status();
      // Gone: so are its addresses.
      if (*indexed) add(**indexed);
    }
  } else if (config_.nic.empty()) {
    auto located = Locate();
    if (!located) return located.status();
    // Where start would put it now, or (refused now) where an earlier
    // agent version did.
    if (*located) add((*located)->link);
  }
  return links;
}

Result<std::vector<Instance>> Vip::Instances(const std::vector<LinkInfo>& links) {
  std::vector<Instance> found;
  for (const LinkInfo& link : links) {
    auto addresses = net_.Addresses(config_.ip.family(), link.index);
    if (!addresses) return addresses.status();
    for (const AddressInfo& a : *addresses) {
      if (a.address == config_.ip && a.ifindex == link.index) found.push_back({link, a});
    }
  }
  return found;
}

std::string Vip::DadFailedReason(const LinkInfo& link) const {
  return fmt::format(
      "duplicate address detection failed for {} on {}: another host on the link holds the "
      "address",
      config_.ip.ToString(), Quote(link.name));
}

Status Vip::Start(const Deadline& deadline) {
  auto placed = Place(false);
  if (!placed) return placed.status();
  const LinkInfo& link = placed->link;
  const int prefix = placed->prefix;
  std::string where = fmt::format("{} on {}", Slash(config_.ip, prefix), Quote(link.name));

  auto addresses = net_.Addresses(config_.ip.family(), 0);
  if (!addresses) return addresses.status();
  for (const AddressInfo& a : *addresses) {
    if (a.address != config_.ip || a.ifindex == link.index) continue;
    auto other = net_.LinkByIndex(a.ifindex);
    std::string name = other && *other ? (*other)->name : std::to_string(a.ifindex);
    return Status::Error("{} is already configured on {}, not on {}", config_.ip.ToString(),
                         Quote(name), Quote(link.name));
  }
  // Recorded before anything changes on the link, so that a start killed
  // half-way leaves stop and monitor knowing where to look.
  Status recorded = record_.Add(link);
  if (!recorded.ok()) return recorded.Prefixed("cannot record the link the address goes on");
  bool present = false;
  for (const AddressInfo& a : *addresses) {
    if (a.address != config_.ip || a.ifindex != link.index) continue;
    if (a.dad_failed() || a.prefix != prefix) {
      // A leftover of an earlier failed start, another prefix (an admin's,
      // or a start with another cidr_netmask): only the configured one stays.
      log_.Info("replacing {} on {}", Slash(a.address, a.prefix), link.name);
      Status removed = net_.DeleteAddress(a.ifindex, a.address, a.prefix);
      if (!removed.ok())
        return removed.Prefixed(fmt::format("cannot remove {}", Slash(a.address, a.prefix)));
    } else {
      present = true;
    }
  }

  // Up before the duplicate address probes, which cannot be sent on a link
  // that is down.
  const bool was_up = link.admin_up();
  if (!was_up) {
    Status up = net_.SetLinkUp(link.index);
    if (!up.ok()) return up.Prefixed(fmt::format("cannot bring {} up", Quote(link.name)));
  }

  if (!present) {
    if (config_.duplicate_check && config_.ip.is_v4()) {
      auto taken = announcer_.Probe(link, config_.ip, kStartProbes, kStartProbeWait, deadline);
      if (!taken) return taken.status().Prefixed("duplicate address check failed");
      if (*taken) {
        return Status::Error("{} is in use by {} on {}: it answered our ARP probe",
                             config_.ip.ToString(), FormatMac((*taken)->data(), 6),
                             Quote(link.name));
      }
    }
    AddressRequest request;
    request.ifindex = link.index;
    request.address = config_.ip;
    request.prefix = prefix;
    request.broadcast = VipBroadcast(config_, prefix);
    if (!config_.label.empty()) request.label = fmt::format("{}:{}", link.name, config_.label);
    request.nodad = config_.nodad;
    request.noprefixroute = config_.noprefixroute;
    request.deprecated = config_.deprecated;
    Status added = net_.AddAddress(request);
    if (!added.ok()) return added.Prefixed(fmt::format("cannot add {}", where));
    log_.Info("added {}", where);
  }

  auto remove = [&](Status failure) {
    Status removed = net_.DeleteAddress(link.index, config_.ip, prefix);
    if (!removed.ok()) log_.Warn("cannot remove {} again: {}", where, removed.reason());
    return failure;
  };
  Status usable = WaitUntilUsable(link, was_up, deadline);
  if (!usable.ok()) return remove(usable);
  return Announce(link, config_.arp_count, deadline);
}

Status Vip::WaitUntilUsable(const LinkInfo& configured, bool was_up, const Deadline& deadline) {
  Status subscribed = net_.Subscribe();
  if (!subscribed.ok()) return subscribed;
  // Brought up by this start: a real NIC needs a few seconds to negotiate.
  const Deadline carrier_deadline = was_up ? deadline.Within(kCarrierGrace) : deadline;
  for (;;) {
    auto link = net_.LinkByIndex(configured.index);
    if (!link) return link.status();
    if (!*link) {
      return Status::Error("{} vanished", Quote(configured.name));
    }
    auto addresses = net_.Addresses(config_.ip.family(), configured.index);
    if (!addresses) return addresses.status();
    const AddressInfo* a = FindAddress(*addresses, config_.ip);
    if (a == nullptr) {
      return Status::Error("{} was removed from {} while starting", config_.ip.ToString(),
                           Quote(configured.name));
    }
    if (a->dad_failed()) return Status::Error(DadFailedReason(**link));
    std::string waiting;
    bool carrier = false;
    if (!(*link)->admin_up()) {
      waiting = fmt::format("{} did not come up", Quote(configured.name));
    } else if (config_.check_link && !(*link)->has_carrier()) {
      waiting = fmt::format("{} has no carrier", Quote(configured.name));
      carrier = true;
    } else if (a->tentative() && !config_.nodad) {
      waiting =
          fmt::format("duplicate address detection for {} did not finish", config_.ip.ToString());
    }
    if (waiting.empty()) return Status::Ok();
    const bool grace = carrier && was_up;
    auto changed = net_.WaitForChange(grace ? carrier_deadline : deadline);
    if (!changed) return changed.status();
    if (!*changed) {
      if (grace && !deadline.HasExpired()) {
        return Status::Error(
            "{} (a cable, switch port or peer is down): clients cannot reach {} here", waiting,
            config_.ip.ToString());
      }
      return Status::Error("{} within the start timeout", waiting);
    }
  }
}

Status Vip::Announce(const LinkInfo& link, int count, const Deadline& deadline) {
  if (count <= 0) return Status::Ok();
  Announcement a{link, config_.ip, config_.arp_mode};
  Status sent = announcer_.Announce(a);
  if (!sent.ok()) log_.Warn("cannot announce {}: {}", config_.ip.ToString(), sent.reason());
  if (count == 1) return Status::Ok();
  Status background = announcer_.AnnounceInBackground(a, count - 1, config_.arp_interval, deadline);
  if (!background.ok()) {
    log_.Warn("cannot announce {} from the background: {}", config_.ip.ToString(),
              background.reason());
  }
  return Status::Ok();
}

Status Vip::Defend(const LinkInfo& link, const Deadline& deadline) {
  auto taken = announcer_.Probe(link, config_.ip, 1, kMonitorProbeWait, deadline);
  if (!taken) {
    // The address is served; a probe that cannot be sent says nothing about it.
    log_.Warn("duplicate address check failed: {}", taken.status().reason());
  } else if (*taken) {
    // Moving would not help (the other host is on the same segment as every
    // node) and failing would: so keep the address, win the clients back
    // (RFC 5227 2.4 (b): defend it) and show the conflict until it ends.
    std::string mac = FormatMac((*taken)->data(), 6);
    log_.Warn(
        "{} on {} is also answered by {}: another host claims the address; announcing it again",
        config_.ip.ToString(), Quote(link.name), mac);
    Status announced = Announce(link, config_.arp_count, deadline);
    if (!announced.ok()) return announced;
    return Status(ExitCode::kDegraded,
                  fmt::format("{} is also answered by {} on {}: another host claims the address",
                              config_.ip.ToString(), mac, Quote(link.name)));
  }
  return Status::Ok();
}

Status Vip::Stop(const Deadline& deadline) {
  // An announcer left running would keep claiming the address for this
  // node after it has moved: stop fails rather than leave it.
  Status ended = announcer_.StopBackground(deadline);
  if (!ended.ok()) return ended.Prefixed("cannot end the background announcer");
  auto links = OurLinks();
  if (!links) return links.status();
  auto found = Instances(*links);
  if (!found) return found.status();
  for (const Instance& i : *found) {
    std::string what =
        fmt::format("{} from {}", Slash(i.address.address, i.address.prefix), Quote(i.link.name));
    Status removed = net_.DeleteAddress(i.link.index, i.address.address, i.address.prefix);
    if (!removed.ok()) return removed.Prefixed(fmt::format("cannot remove {}", what));
    log_.Info("removed {}", what);
  }
  // Stop is the contract: 0 only when none is left, whatever went on.
  auto left = Instances(*links);
  if (!left) return left.status();
  if (!left->empty()) {
    const Instance& i = left->front();
    return Status::Error("{} is still on {} after it was removed",
                         Slash(i.address.address, i.address.prefix), Quote(i.link.name));
  }
  Status cleared = record_.Clear();
  if (!cleared.ok()) log_.Warn("{}", cleared.reason());
  return Status::Ok();
}

Result<std::optional<int>> Vip::ExpectedPrefix(const LinkInfo& link) {
  if (config_.prefix != 0) return std::optional<int>(config_.prefix);
  // The route; while the link is down (its routes gone) or with
  // noprefixroute, the subnet of an address on it, the address's own
  // included.
  auto subnet = FindSubnet(link.index, 0);
  if (!subnet) return subnet.status();
  if (!*subnet) return std::optional<int>();
  return std::optional<int>((*subnet)->prefix);
}

Status Vip::Monitor(const Deadline& deadline) {
  auto links = OurLinks();
  if (!links) return links.status();
  auto found = Instances(*links);
  if (!found) return found.status();
  if (found->empty()) {
    if (links->empty()) log_.Debug("no link where start could have put {}", config_.ip.ToString());
    return Status::NotRunning();
  }
  // The instance to judge: one with the prefix expected on its link; when
  // none has it, the first is the wrong one.
  const Instance* judged = nullptr;
  for (const Instance& i : *found) {
    auto expected = ExpectedPrefix(i.link);
    if (!expected) return expected.status();
    if (*expected && i.address.prefix == **expected) {
      judged = &i;
      break;
    }
  }
  if (judged == nullptr) {
    const Instance& i = found->front();
    auto expected = ExpectedPrefix(i.link);
    if (!expected) return expected.status();
    if (!*expected) {
      // A host address that an earlier agent version added where start
      // now refuses it (see Place).
      return Status::Error(
          "{} is on {}, but no subnet of the link contains it: clients cannot reach it there",
          Slash(i.address.address, i.address.prefix), Quote(i.link.name));
    }
    return Status::Error("{} is on {} with prefix /{}, expected /{}", config_.ip.ToString(),
                         Quote(i.link.name), i.address.prefix, **expected);
  }
  for (const Instance& i : *found) {
    if (&i == judged) continue;
    log_.Warn("{} is also on {}: start replaces it, stop removes it",
              Slash(i.address.address, i.address.prefix), Quote(i.link.name));
  }
  const LinkInfo& link = judged->link;
  const AddressInfo& a = judged->address;
  if (a.dad_failed()) return Status::Error(DadFailedReason(link));
  if (config_.check_link && !link.admin_up()) {
    return Status::Error("{} is on {}, but the link is down", config_.ip.ToString(),
                         Quote(link.name));
  }
  if (config_.check_link && !link.has_carrier()) {
    return Status::Error("{} is on {}, but the link has no carrier", config_.ip.ToString(),
                         Quote(link.name));
  }
  if (a.tentative() && !config_.nodad) {
    return Status::Error("{} on {} is tentative: duplicate address detection is running",
                         config_.ip.ToString(), Quote(link.name));
  }
  if (config_.duplicate_check && config_.ip.is_v4()) {
    Status defended = Defend(link, deadline);
    if (!defended.ok()) return defended;
  }
  // An announcer still busy (since start, or an earlier monitor) is left
  // to finish: cutting it short or adding a second helps nobody.
  if (config_.arp_count_refresh > 0 && !announcer_.BackgroundRunning()) {
    return Announce(link, config_.arp_count_refresh, deadline);
  }
  return Status::Ok();
}

// --- the agent's actions on the real system --------------------------------

namespace {

enum class Action { kStart, kStop, kMonitor, kValidate };

// The status for a network namespace that does not exist: where the
// namespace is gone, so is every address in it.
Status MissingNamespace(Action action, const Context& ctx, std::string_view name) {
  std::string reason =
      fmt::format("network namespace {} does not exist (no /run/netns/{})", Quote(name), name);
  switch (action) {
    case Action::kStop: return Status::Ok();
    case Action::kMonitor: return ctx.IsProbe() ? Status::NotRunning() : Status::Error(reason);
    case Action::kValidate: return Status::NotConfigured(reason);
    case Action::kStart: break;
  }
  return Status::Error(reason);
}

Status Run(Action action, const VipParams& params, Context& ctx) {
  auto announcer = MakeAnnouncer(ctx.StatePath("announcer"));
  auto record = MakeLinkRecord(ctx.StatePath("links"));
  if (!params.network_namespace.empty()) {
    auto entered = EnterNetworkNamespace(params.network_namespace);
    if (!entered) return entered.status();
    if (!*entered) {
      // The background announcer is not tied to the namespace's existence;
      // the links recorded were the namespace's.
      if (action == Action::kStop) {
        Status ended = announcer->StopBackground(ctx.deadline());
        if (!ended.ok()) return ended;
        Status cleared = record->Clear();
        if (!cleared.ok()) ctx.log().Warn("{}", cleared.reason());
      }
      return MissingNamespace(action, ctx, params.network_namespace);
    }
  }
  auto net = MakeNetwork(ctx.deadline());
  if (!net) return net.status();
  return RunVip(params, ctx.request(), **net, *announcer, *record, ctx.log(), ctx.deadline());
}

}  // namespace

Result<VipConfig> AcceptVipRequest(const VipParams& params, const Request& request) {
  auto config = MakeVipConfig(params);
  if (!config) return config.status();
  bool clone = request.meta.clone || request.meta.clone_max > 0;
  if (clone && (request.action == "start" || request.action == "validate-all")) {
    return Status::NotConfigured(
        "pmm-vip cannot be a clone: one address on two nodes is a conflict (no clusterip mode)");
  }
  return config;
}

Status RunVip(const VipParams& params, const Request& request, Network& net, Announcer& announcer,
              LinkRecord& record, const Logger& log, const Deadline& deadline) {
  auto config = AcceptVipRequest(params, request);
  if (!config) return config.status();
  Vip vip(*config, net, announcer, record, log);
  if (request.action == "start") return vip.Start(deadline);
  if (request.action == "stop") return vip.Stop(deadline);
  if (request.action == "monitor") return vip.Monitor(deadline);
  if (request.action == "validate-all") {
    auto placed = vip.Place(true);
    return placed ? Status::Ok() : placed.status();
  }
  return Status::Unimplemented("action {} is not implemented", Quote(request.action));
}

Status VipStart(const VipParams& params, Context& ctx) { return Run(Action::kStart, params, ctx); }
Status VipStop(const VipParams& params, Context& ctx) { return Run(Action::kStop, params, ctx); }
Status VipMonitor(const VipParams& params, Context& ctx) {
  return Run(Action::kMonitor, params, ctx);
}

Status VipReload(const VipParams& params, Context& ctx) {
  auto config = MakeVipConfig(params);
  if (!config) return config.status();
  // Announcement parameters are read afresh by every start and monitor.
  ctx.log().Info("reloaded: arp_count {}, arp_interval {} ms, arp_mode {}, arp_count_refresh {}",
                 params.arp_count, params.arp_interval_ms, params.arp_mode,
                 params.arp_count_refresh);
  return Status::Ok();
}

Status VipValidate(const VipParams& params, Context& ctx) {
  if (ctx.request().action != "validate-all") {
    auto config = AcceptVipRequest(params, ctx.request());
    return config ? Status::Ok() : config.status();
  }
  return Run(Action::kValidate, params, ctx);
}

}  // namespace pmmha
