// SPDX-License-Identifier: GPL-2.0-or-later
// The virtual IP: what pmm-vip's actions do, on the Network and Announcer
// interfaces (netlink.h, announce.h), so that tests can run the logic on
// fakes and the agent on the real kernel.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pmmha/core/agent.h"
#include "pmmha/core/environment.h"
#include "pmmha/core/status.h"
#include "pmmha/net/announce.h"
#include "pmmha/net/ip_address.h"
#include "pmmha/net/link_record.h"
#include "pmmha/net/netlink.h"

namespace pmmha {

// Checks of single parameter values for the agent's parameter table; each
// returns why the value is wrong, or nothing.
std::optional<std::string> CheckVipAddress(std::string_view value);
std::optional<std::string> CheckNetmask(std::string_view value);
std::optional<std::string> CheckInterfaceName(std::string_view value);
std::optional<std::string> CheckLabel(std::string_view value);
std::optional<std::string> CheckNamespaceName(std::string_view value);
// '+', '-' or an IPv4 address outside 0.0.0.0/8 (as IPaddr2 accepts).
std::optional<std::string> CheckBroadcast(std::string_view value);

// The parameter values as the table validated them one by one.
struct VipParams {
  std::string ip;
  std::string cidr_netmask;
  std::string nic;
  std::string label;
  std::string broadcast;
  std::string arp_mode = "both";
  std::string preferred_lft = "forever";
  std::string network_namespace;
  long long arp_count = 5;
  long long arp_interval_ms = 200;
  long long arp_count_refresh = 0;
  bool nodad = false;
  bool noprefixroute = false;
  bool check_link = true;
  bool duplicate_check = true;
};

// An IPv4 address's broadcast address, as `ip address add ... brd`
// (IPaddr2's broadcast) takes it: '+', '-', or an address.
enum class Broadcast { kHostBitsSet, kHostBitsCleared, kAddress };

struct VipConfig {
  IpAddress ip;
  int prefix = 0;                                 // 0: the matching route's
  std::string cidr_netmask;                       // the prefix as given, for reasons
  std::string nic;                                // empty: the matching route's link
  std::string label;                              // IPv4: the part after "nic:"
  Broadcast broadcast = Broadcast::kHostBitsSet;  // IPv4
  IpAddress broadcast_address;                    // kAddress
  int arp_count = 5;
  std::chrono::milliseconds arp_interval{200};
  ArpMode arp_mode = ArpMode::kBoth;
  int arp_count_refresh = 0;
  bool nodad = false;
  bool noprefixroute = false;
  bool deprecated = false;  // preferred_lft 0
  bool check_link = true;
  bool duplicate_check = true;
  std::string network_namespace;
};

// The configuration, after the checks that involve several parameters
// (prefix range of the address family, label only for IPv4, link-local
// addresses need a nic). Problems are kErrConfigured with a reason naming
// the parameter and value.
Result<VipConfig> MakeVipConfig(const VipParams& params);

// The broadcast address start gives the address with `prefix`: nothing for
// IPv6, and for '+' and '-' nothing for /31 (RFC 3021) and /32, as `ip
// address add ... brd +` does.
std::optional<IpAddress> VipBroadcast(const VipConfig& config, int prefix);

// The route findif would choose for `ip` among `routes`: directly connected
// (no gateway), neither a default nor a host route (a /32 or /128 names no
// subnet; findif skips them too), containing `ip`, and with `within` not 0
// the whole of ip/`within` (its prefix at most `within`: `ip route list
// match ip/within`); the longest prefix, then the lowest metric, then the
// lowest link index. Nothing when none matches.
std::optional<RouteInfo> BestRoute(const std::vector<RouteInfo>& routes, const IpAddress& ip,
                                   int within = 0);

// When no route matches (the link is down: its routes are gone, its IPv4
// addresses are not), the configured address whose subnet contains `ip`
// (and with `within` not 0 the whole of ip/`within`), longest prefix first;
// the address itself counts, but no host address (/32, /128): it names no
// subnet. Nothing when none does.
std::optional<AddressInfo> BestSubnet(const std::vector<AddressInfo>& addresses,
                                      const IpAddress& ip, int within = 0);

// Where the address goes.
struct Placement {
  LinkInfo link;
  int prefix = 0;
};

// One instance of the address: the same address may be on a link more than
// once (IPv4, with different prefixes) and on several links.
struct Instance {
  LinkInfo link;
  AddressInfo address;
};

// What is ours. Start puts the address on one link (Place) and records that
// link before it adds anything. The links start could have used are
// therefore: the configured nic; every link recorded since the last stop;
// and, when there is no record at all (no start since boot, or a start by an
// agent version that kept none) and no nic, the link a start would choose
// now. Stop removes every instance of the address on those links, whatever
// its prefix; monitor looks at those links only. An instance elsewhere was
// not added by this resource (start refuses to add the address while another
// link has it): stop leaves it alone, and a probe does not call it ours.
class Vip {
 public:
  Vip(const VipConfig& config, Network& net, Announcer& announcer, LinkRecord& record,
      const Logger& log)
      : config_(config), net_(net), announcer_(announcer), record_(record), log_(log) {}

  // The link and prefix, decided as IPaddr2's findif decides them (BestSubnet
  // stands in for the route while the link is down):
  //   nic and cidr_netmask: that link and prefix, whatever the routes say;
  //   nic only: the prefix of the route on nic that contains ip;
  //   cidr_netmask only: the link of the route that contains ip/cidr_netmask
  //     (a narrower route does not: a wider prefix would claim addresses
  //     that link does not reach);
  //   neither: the link and prefix of the route that contains ip.
  // When `validating`, every problem is kErrConfigured; otherwise a missing
  // nic is kErrInstalled (this node cannot run the address) and a missing
  // route kErrGeneric.
  Result<Placement> Place(bool validating);

  // Records the link, replaces instances with another prefix (or a failed
  // duplicate address detection) on it, adds the address (or finds it
  // there; an IPv4 address not there yet only when no other host answers
  // ARP probes for it, with duplicate_check), brings the link up, waits
  // until it is usable (link up; carrier when check_link: up to the deadline
  // when start brought the link up, a short grace when it was up already;
  // IPv6 duplicate address detection done) and announces it: the first
  // announcement before returning, the others from the background. Refuses while another link has
  // the address. On failure the address is not left configured.
  Status Start(const Deadline& deadline);
  // Ends background announcements and removes every instance of the address
  // on our links; success when there is none. Fails while one is left.
  Status Stop(const Deadline& deadline);
  // 7 when no instance is on our links. Else 0 when one has the expected
  // prefix (cidr_netmask, or the prefix of the link's subnet that contains
  // the address: 1 when there is none) and is usable, the link up
  // (check_link); 190 (degraded) when duplicate_check finds another host
  // answering for the address (which is then announced again); 1 with a
  // reason otherwise. Further instances are logged, not failed: the address
  // is served, and stop removes them with it. On 0, sends arp_count_refresh
  // announcements unless some still run.
  Status Monitor(const Deadline& deadline);

  // The links start could have put the address on (see above), each once.
  Result<std::vector<LinkInfo>> OurLinks();

 private:
  // A directly connected subnet: a route's, or while the link is down an
  // address's.
  struct Subnet {
    int ifindex = 0;
    IpAddress network;
    int prefix = 0;
  };
  // Where the address goes, before Place's refusals.
  struct Located {
    LinkInfo link;
    int prefix = 0;  // 0: nothing gives one (nic given, no subnet of ip on it)
    // cidr_netmask given, nic not: no subnet contains ip/cidr_netmask, and
    // this narrower one gave the link.
    std::optional<Subnet> narrower;
  };
  // The best subnet of link `ifindex` (0: any) containing ip/`within`
  // (0: ip); routes first, then addresses.
  Result<std::optional<Subnet>> FindSubnet(int ifindex, int within);
  // Nothing when the nic does not exist or no subnet leads to a link. Stop
  // and monitor look at the link even where Place refuses it, in case an
  // earlier agent version put the address there.
  Result<std::optional<Located>> Locate();
  Result<std::vector<Instance>> Instances(const std::vector<LinkInfo>& links);
  // `was_up`: the link was up before start; then a missing carrier gets a
  // short grace, not the whole start timeout.
  Status WaitUntilUsable(const LinkInfo& link, bool was_up, const Deadline& deadline);
  // Monitor's duplicate address check: one ARP probe; when another host
  // answers, the address is announced again and the result is kDegraded
  // naming that host's MAC. Ok otherwise (also when the probe cannot be
  // sent: that is logged).
  Status Defend(const LinkInfo& link, const Deadline& deadline);
  Status Announce(const LinkInfo& link, int count, const Deadline& deadline);
  std::string DadFailedReason(const LinkInfo& link) const;
  // cidr_netmask, or the prefix of the subnet of link that contains the
  // address; nothing when none does.
  Result<std::optional<int>> ExpectedPrefix(const LinkInfo& link);

  const VipConfig& config_;
  Network& net_;
  Announcer& announcer_;
  LinkRecord& record_;
  const Logger& log_;
};

// The configuration for `request`: MakeVipConfig, and for start and
// validate-all the refusal of a clone (kErrConfigured): one address active
// on several nodes is a conflict, and IPaddr2's clusterip mode is not
// supported.
Result<VipConfig> AcceptVipRequest(const VipParams& params, const Request& request);

// `request.action` (start, stop, monitor, validate-all) on the given
// network, announcer and record, as the agent runs it once it is in the
// configured network namespace.
Status RunVip(const VipParams& params, const Request& request, Network& net, Announcer& announcer,
              LinkRecord& record, const Logger& log, const Deadline& deadline);

// The agent's actions on the real system: enter the network namespace,
// open rtnetlink and packet sockets, run Vip. The announcer's record lives
// in ctx.StatePath("announcer"), the links start used in
// ctx.StatePath("links").
Status VipStart(const VipParams& params, Context& ctx);
Status VipStop(const VipParams& params, Context& ctx);
Status VipMonitor(const VipParams& params, Context& ctx);
Status VipReload(const VipParams& params, Context& ctx);
// The agent's validation hook: the configuration for every action, and for
// validate-all also what it depends on (the namespace, the nic, a route).
Status VipValidate(const VipParams& params, Context& ctx);

}  // namespace pmmha
