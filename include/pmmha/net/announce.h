// SPDX-License-Identifier: GPL-2.0-or-later
// Telling the neighbours where an address now lives, and asking whether
// someone else has it: gratuitous ARP and ARP probes for IPv4 (RFC 5227),
// unsolicited neighbour advertisements for IPv6 (RFC 4861 7.2.6), sent from
// a packet socket, with no send_arp, arping or send_ua to fork.
//
// The frame builders are pure functions; Announcer is the interface the VIP
// logic uses, MakeAnnouncer() the real one.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pmmha/core/deadline.h"
#include "pmmha/core/status.h"
#include "pmmha/net/ip_address.h"
#include "pmmha/net/netlink.h"

namespace pmmha {

using MacAddress = std::array<std::uint8_t, 6>;

// Which ARP packets one IPv4 announcement is made of. Some switches and
// hosts update their tables only from requests, others only from replies;
// send_arp (IPaddr2's default) sends both.
enum class ArpMode { kRequest, kReply, kBoth };
std::optional<ArpMode> ParseArpMode(std::string_view text);

// A link-layer payload and where it goes (the kernel adds the Ethernet
// header from these on a SOCK_DGRAM packet socket).
struct Frame {
  std::uint16_t ethertype = 0;  // ETH_P_ARP or ETH_P_IPV6
  MacAddress destination{};
  std::vector<std::uint8_t> payload;
};

// The ARP packets of one announcement of `ip` at `mac`: a request
// (sender = target = ip) and/or a reply, both broadcast.
std::vector<Frame> GratuitousArp(const MacAddress& mac, const IpAddress& ip, ArpMode mode);
// An ARP probe: who has `ip`? from sender address 0.0.0.0.
Frame ArpProbe(const MacAddress& mac, const IpAddress& ip);
// An unsolicited neighbour advertisement of `ip` at `mac` to all nodes
// (ff02::1), override flag set, target link-layer address option included.
Frame UnsolicitedNeighborAdvertisement(const MacAddress& mac, const IpAddress& ip);

// Reads a received ARP packet (without the Ethernet header): the sender's
// MAC when it shows that another host (not `own`) uses or claims `ip`.
std::optional<MacAddress> ArpConflict(const std::uint8_t* arp, std::size_t len, const IpAddress& ip,
                                      const MacAddress& own);

// The internet checksum of ICMPv6 over the IPv6 pseudo-header.
std::uint16_t Icmpv6Checksum(const IpAddress& source, const IpAddress& destination,
                             const std::uint8_t* icmp, std::size_t len);

struct Announcement {
  LinkInfo link;
  IpAddress ip;
  ArpMode mode = ArpMode::kBoth;
};

class Announcer {
 public:
  virtual ~Announcer() = default;
  // Sends one announcement now. Links without a 6-byte hardware address
  // (loopback, tunnels) have no neighbours to tell: nothing is sent.
  virtual Status Announce(const Announcement& a) = 0;
  // Sends `rounds` more announcements, `interval` apart, from a background
  // process that outlives the agent and is recorded so that
  // StopBackground can end it; an earlier one is ended first (by
  // `deadline`).
  virtual Status AnnounceInBackground(const Announcement& a, int rounds,
                                      std::chrono::milliseconds interval,
                                      const Deadline& deadline) = 0;
  virtual bool BackgroundRunning() = 0;
  // Ends the recorded background process, if it still runs.
  virtual Status StopBackground(const Deadline& deadline) = 0;
  // Duplicate address detection for IPv4: `probes` ARP probes `interval`
  // apart, listening for an answer until `interval` after the last one or
  // the deadline. The MAC of the host that answered, or nothing.
  virtual Result<std::optional<MacAddress>> Probe(const LinkInfo& link, const IpAddress& ip,
                                                  int probes, std::chrono::milliseconds interval,
                                                  const Deadline& deadline) = 0;
};

// Packet sockets in the current network namespace; the background process
// is recorded in `state_path` (see tracked_process.h).
std::unique_ptr<Announcer> MakeAnnouncer(std::string state_path);

}  // namespace pmmha
