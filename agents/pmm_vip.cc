// SPDX-License-Identifier: GPL-2.0-or-later
// ocf:percona:pmm-vip: the virtual IP clients use to reach PMM Server.
// The parameter table and the action table; the work is in pmmha/vip.h.
#include "pmmha/core/agent.h"
#include "pmmha/net/vip.h"

namespace {

using pmmha::Context;
using pmmha::ParamSpec;
using pmmha::ParamType;
using pmmha::Status;

const ParamSpec kIp{
    .name = "ip",
    .flags = pmmha::kRequired | pmmha::kUnique,
    .shortdesc = "Virtual IPv4 or IPv6 address",
    .longdesc =
        "The address clients use to reach PMM Server, e.g. 198.51.100.10 or "
        "2001:db8::10. Not a multicast, unspecified or loopback address.",
    .check = pmmha::CheckVipAddress,
};
const ParamSpec kCidrNetmask{
    .name = "cidr_netmask",
    .shortdesc = "Prefix length",
    .longdesc =
        "The prefix length of the address (1 to 32 for IPv4, 1 to 128 for IPv6; "
        "an IPv4 dotted netmask is accepted too). Default: the prefix of the "
        "directly connected route that contains the address, on nic when it is set "
        "(while the link is down and its routes are gone, of the node's own address "
        "on that subnet); where there is none, start fails (1, so that the cluster "
        "tries another node) rather than add a host address clients could not reach, "
        "as IPaddr2 does. Without nic, a route must contain the whole of "
        "ip/cidr_netmask: a prefix wider than the subnet's is refused the same way. "
        "With nic, the address goes there with this prefix whatever the routes say.",
    .check = pmmha::CheckNetmask,
};
const ParamSpec kNic{
    .name = "nic",
    .shortdesc = "Network interface",
    .longdesc =
        "The interface to put the address on. Default: the interface of the "
        "directly connected route with the longest prefix that contains the address "
        "(host routes aside), or the whole of ip/cidr_netmask when that is set "
        "(as IPaddr2's findif; while a link is down, the link whose own address's "
        "subnet contains it). Required for IPv6 link-local addresses. "
        "Start records the interface it used (in HA_RSCTMP, until the next stop), so "
        "that stop and monitor look there even when the routes have changed since; "
        "without nic and without such a record (no start since boot), they look where "
        "a start would put the address now. The address on any other interface is "
        "not this resource's: start refuses to add it while another interface has it, "
        "stop leaves it alone and a probe does not report it as running.",
    .check = pmmha::CheckInterfaceName,
};
const ParamSpec kBroadcast{
    .name = "broadcast",
    .shortdesc = "IPv4 broadcast address",
    .longdesc =
        "The broadcast address of an IPv4 address, as IPaddr2's broadcast: an IPv4 "
        "address, '+' (the host bits of the prefix set: 198.51.100.255 for "
        "198.51.100.10/24) or '-' (cleared: 198.51.100.0). With '+' and '-', a /31 or "
        "/32 gets none, as with 'ip address add ... brd +'. Default: '+' (IPaddr2 "
        "copies the broadcast address of the node's own address on the matching "
        "route's subnet, the same where that address has the usual one, and sets none "
        "where no route matches). Refused for an IPv6 address: IPv6 has no broadcast "
        "(IPaddr2's start fails then).",
    .check = pmmha::CheckBroadcast,
};
const ParamSpec kLabel{
    .name = "label",
    .shortdesc = "IPv4 address label",
    .longdesc =
        "For IPv4, the address is labelled 'nic:label' (what IPaddr2 calls iflabel), "
        "so that tools which list interface aliases show it.",
    .check = pmmha::CheckLabel,
    .aliases = {{.name = "iflabel", .agent = "ocf:heartbeat:IPaddr2"}},
};
const ParamSpec kArpCount{
    .name = "arp_count",
    .type = ParamType::kInteger,
    .default_value = "5",
    .flags = pmmha::kReloadable,
    .shortdesc = "Announcements on start",
    .longdesc =
        "How many gratuitous ARP rounds (IPv4) or unsolicited neighbour "
        "advertisements (IPv6) to send on start. The first is sent before start "
        "returns, the rest from the background, arp_interval apart.",
    .min = 1,
    .max = 100,
};
const ParamSpec kArpInterval{
    .name = "arp_interval",
    .type = ParamType::kInteger,
    .default_value = "200",
    .flags = pmmha::kReloadable,
    .shortdesc = "Milliseconds between announcements",
    .min = 10,
    .max = 10000,
};
const ParamSpec kArpMode{
    .name = "arp_mode",
    .default_value = "both",
    .flags = pmmha::kReloadable,
    .shortdesc = "Gratuitous ARP packets to send",
    .longdesc =
        "Which gratuitous ARP packets make one IPv4 announcement: an ARP request, "
        "an ARP reply, or both (as IPaddr2's send_arp). Some switches only learn "
        "from one kind.",
    .choices = {"request", "reply", "both"},
};
const ParamSpec kArpCountRefresh{
    .name = "arp_count_refresh",
    .type = ParamType::kInteger,
    .default_value = "0",
    .flags = pmmha::kReloadable,
    .shortdesc = "Announcements on each monitor",
    .longdesc =
        "How many announcements each successful monitor sends (0: none), to keep "
        "switches that age out their tables up to date.",
    .min = 0,
    .max = 100,
};
const ParamSpec kNodad{
    .name = "nodad",
    .type = ParamType::kBoolean,
    .default_value = "false",
    .shortdesc = "Skip IPv6 duplicate address detection",
    .longdesc =
        "For IPv6, add the address without duplicate address detection, so start "
        "does not wait for it (and nothing notices another host with the address).",
};
const ParamSpec kNoprefixroute{
    .name = "noprefixroute",
    .type = ParamType::kBoolean,
    .default_value = "false",
    .shortdesc = "Do not add a prefix route",
    .longdesc = "Add the address without the route for its prefix.",
};
const ParamSpec kPreferredLft{
    .name = "preferred_lft",
    .default_value = "forever",
    .shortdesc = "Preferred lifetime",
    .longdesc =
        "For IPv6: 'forever', or 0 to mark the address deprecated so that the host "
        "does not choose it as the source of its own connections. (Linux ignores the "
        "preferred lifetime when it picks an IPv4 source address, so IPv4 addresses "
        "accept only 'forever'.)",
    .choices = {"forever", "0"},
};
const ParamSpec kCheckLink{
    .name = "check_link",
    .type = ParamType::kBoolean,
    .default_value = "true",
    .shortdesc = "Require the link up",
    .longdesc =
        "Monitor fails when the link is down or has lost its carrier (a pulled cable, "
        "a switch port or peer down), so the cluster moves the address to a node whose "
        "clients can reach it (IPaddr2 of resource-agents 4.12, as in Debian 12, does not "
        "look at the link). Start waits for the carrier: until its timeout when it brought the "
        "link up itself (negotiation), 2 s when the link was up already, so a node "
        "with a dead link fails the start quickly and the address goes elsewhere.",
    .aliases = {{.name = "check_link_status", .agent = "ocf:heartbeat:IPaddr2"}},
};
const ParamSpec kRunArping{
    .name = "run_arping",
    .type = ParamType::kBoolean,
    .default_value = "true",
    .shortdesc = "Detect a duplicate IPv4 address",
    .longdesc =
        "Duplicate address detection for IPv4 (RFC 5227 ARP probes, 100 ms apart; "
        "IPaddr2's run_arping, there off by default). Before adding the address, start "
        "sends 3 probes (0.3 s) and fails, naming the MAC address that answered, when "
        "another host has the address. Each monitor sends one probe (0.1 s): when "
        "another host answers for the address the cluster holds, the monitor announces "
        "it again (arp_count gratuitous ARPs, winning the clients back) and reports "
        "degraded (190) with that host's MAC address, until the other host lets go of "
        "it; the address stays where it is, since every node shares the segment with "
        "that host. (IPv6 always has the kernel's duplicate address detection on start "
        "unless nodad is set.)",
};
const ParamSpec kNetworkNamespace{
    .name = "network_namespace",
    .shortdesc = "Network namespace",
    .longdesc =
        "Operate inside the network namespace /run/netns/NAME (as created by "
        "'ip netns add NAME').",
    .check = pmmha::CheckNamespaceName,
};

pmmha::VipParams Read(const Context& ctx) {
  const pmmha::Params& p = ctx.params();
  return {
      .ip = p.String(kIp),
      .cidr_netmask = p.String(kCidrNetmask),
      .nic = p.String(kNic),
      .label = p.String(kLabel),
      .broadcast = p.String(kBroadcast),
      .arp_mode = p.String(kArpMode),
      .preferred_lft = p.String(kPreferredLft),
      .network_namespace = p.String(kNetworkNamespace),
      .arp_count = p.Integer(kArpCount),
      .arp_interval_ms = p.Integer(kArpInterval),
      .arp_count_refresh = p.Integer(kArpCountRefresh),
      .nodad = p.Boolean(kNodad),
      .noprefixroute = p.Boolean(kNoprefixroute),
      .check_link = p.Boolean(kCheckLink),
      .duplicate_check = p.Boolean(kRunArping),
  };
}

Status Start(Context& ctx) { return pmmha::VipStart(Read(ctx), ctx); }
Status Stop(Context& ctx) { return pmmha::VipStop(Read(ctx), ctx); }
Status Monitor(Context& ctx) { return pmmha::VipMonitor(Read(ctx), ctx); }
Status Reload(Context& ctx) { return pmmha::VipReload(Read(ctx), ctx); }
Status Validate(Context& ctx) { return pmmha::VipValidate(Read(ctx), ctx); }

constexpr std::string_view kIPaddr2 = "ocf:heartbeat:IPaddr2";
bool IsSendArp(std::string_view v) { return v == "send_arp"; }
// IPaddr2's parameters that pmm-vip does not have (README's migration table).
const std::vector<pmmha::ForeignParam> kForeign = {
    {"lvs_support", kIPaddr2, "pmm-vip does not share its address with an LVS director",
     pmmha::IsOcfFalse},
    {"lvs_ipv6_addrlabel", kIPaddr2, "pmm-vip sets no IPv6 address label for LVS",
     pmmha::IsOcfFalse},
    {"mac", kIPaddr2,
     "IPaddr2 uses it only in its clusterip mode (a clone sharing the address), which pmm-vip "
     "does not support"},
    {"unique_clone_address", kIPaddr2, "pmm-vip cannot be a clone", pmmha::IsOcfFalse},
    {"arp_bg", kIPaddr2,
     "pmm-vip sends the first announcement before start returns and the rest from the "
     "background (arp_count, arp_interval)",
     pmmha::IsOcfTrue},
    {"arp_sender", kIPaddr2,
     "pmm-vip sends its announcements itself, as send_arp does (arp_mode chooses ARP requests, "
     "replies or both)",
     IsSendArp},
    {"send_arp_opts", kIPaddr2, "use arp_mode, arp_count and arp_interval"},
    {"flush_routes", kIPaddr2,
     "stop removes the address and the route the kernel made for it, nothing else",
     pmmha::IsOcfFalse},
};

const pmmha::AgentSpec kAgent{
    .name = "pmm-vip",
    .shortdesc = "Virtual IP address for PMM Server",
    .longdesc =
        "Moves the IPv4 or IPv6 address clients use to reach PMM Server: adds it "
        "to an interface through netlink, waits out IPv6 duplicate address "
        "detection, and announces it with gratuitous ARP or unsolicited neighbour "
        "advertisements. Parameters follow ocf:heartbeat:IPaddr2 where it has them. "
        "Stop removes every instance of the address that start could have added, "
        "whatever its prefix (an address added twice, e.g. as /24 and /32, by an admin "
        "or by a start with another cidr_netmask): those on the configured nic and on "
        "the interface each start since the last stop recorded, or, when nic is unset "
        "and nothing is recorded (no start since boot), on the interface a start would "
        "choose now; it fails while one is left. Instances "
        "on other interfaces are left alone, and monitor and probes look only where "
        "stop does, so after a stop they report not running (7). Monitor reports "
        "running when one instance has the expected prefix; extra ones are logged, "
        "start replaces them and stop removes them. pmm-vip cannot be a clone: "
        "validate-all and start refuse it (6), since one address active on several "
        "nodes is a conflict and IPaddr2's clusterip mode (a clone sharing the "
        "address through iptables CLUSTERIP) is not supported; stop and monitor of a "
        "clone still work, so that one started before can be stopped.",
    .params = {&kIp, &kCidrNetmask, &kNic, &kBroadcast, &kLabel, &kArpCount, &kArpInterval,
               &kArpMode, &kArpCountRefresh, &kNodad, &kNoprefixroute, &kPreferredLft, &kCheckLink,
               &kRunArping, &kNetworkNamespace},
    .foreign = kForeign,
    .actions =
        {
            {.name = "start", .timeout_s = 20, .handler = Start},
            {.name = "stop", .timeout_s = 20, .handler = Stop},
            {.name = "monitor", .timeout_s = 20, .handler = Monitor, .interval_s = 10, .depth = 0},
            {.name = "reload-agent", .timeout_s = 20, .handler = Reload},
        },
    .validate = Validate,
};

}  // namespace

int main(int argc, char** argv) { return pmmha::RunAgent(kAgent, argc, argv); }
