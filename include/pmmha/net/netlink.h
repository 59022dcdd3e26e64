// SPDX-License-Identifier: GPL-2.0-or-later
// Links, addresses and routes of the current network namespace, through
// rtnetlink.
//
// The agent talks to the kernel directly over a NETLINK_ROUTE socket rather
// than through libnl-route-3: the handful of messages it needs (get one link,
// a filtered address dump, a main-table route dump, add/delete an address,
// set a link up, wait for address and link notifications) fit in a few
// hundred lines, the monitor stays free of libnl's cache machinery (a full
// dump of every link and address into objects), the binary loads two fewer
// shared libraries on every monitor, and the kernel's extended ack message
// ("prefix length mismatch", ...) reaches the exit reason unchanged.
//
// Network is the interface the VIP logic uses; MakeNetwork() is the real
// one, tests substitute a fake.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pmmha/core/deadline.h"
#include "pmmha/core/status.h"
#include "pmmha/net/ip_address.h"

namespace pmmha {

struct LinkInfo {
  int index = 0;
  std::string name;
  unsigned flags = 0;  // IFF_*: IFF_UP administratively up, IFF_LOWER_UP carrier
  unsigned type = 0;   // ARPHRD_*
  std::array<std::uint8_t, 6> mac{};
  std::size_t mac_len = 0;  // 6 on Ethernet-like links, 0 without a hardware address

  bool admin_up() const;
  bool has_carrier() const;
  bool is_loopback() const;
};

struct AddressInfo {
  int ifindex = 0;
  IpAddress address;
  int prefix = 0;
  unsigned flags = 0;  // IFA_F_*
  std::string label;   // IPv4 only

  bool tentative() const;
  bool dad_failed() const;
};

struct RouteInfo {
  IpAddress destination;
  int prefix = 0;
  int ifindex = 0;  // 0 for multipath and device-less routes
  bool has_gateway = false;
  std::uint32_t metric = 0;
};

struct AddressRequest {
  int ifindex = 0;
  IpAddress address;
  int prefix = 0;
  std::optional<IpAddress> broadcast;  // IPv4
  std::string label;                   // IPv4, the full "nic:label"
  bool nodad = false;                  // IPv6
  bool noprefixroute = false;
  bool deprecated = false;  // preferred_lft 0
};

class Network {
 public:
  virtual ~Network() = default;

  // The link called `name`; nothing when there is none.
  virtual Result<std::optional<LinkInfo>> LinkByName(std::string_view name) = 0;
  virtual Result<std::optional<LinkInfo>> LinkByIndex(int index) = 0;
  // Addresses of `family`, of link `ifindex` only when it is not 0.
  virtual Result<std::vector<AddressInfo>> Addresses(IpFamily family, int ifindex) = 0;
  // Unicast routes of the main table of `family`, of link `ifindex` only when
  // it is not 0.
  virtual Result<std::vector<RouteInfo>> Routes(IpFamily family, int ifindex) = 0;

  // Fails with the kernel's reason; EEXIST when the address is there already.
  virtual Status AddAddress(const AddressRequest& request) = 0;
  // Deletes the address with exactly this prefix (an IPv4 address may be on
  // a link more than once, with different prefixes). Succeeds also when it
  // is gone already.
  virtual Status DeleteAddress(int ifindex, const IpAddress& address, int prefix) = 0;
  virtual Status SetLinkUp(int ifindex) = 0;

  // Starts listening for link and address notifications; WaitForChange
  // then returns when one arrives (true) or the deadline passes (false).
  // Subscribe before reading the state a wait depends on, so that no change
  // between the read and the wait is missed.
  virtual Status Subscribe() = 0;
  virtual Result<bool> WaitForChange(const Deadline& deadline) = 0;
};

// rtnetlink in the current network namespace; every call, waits included,
// gives up at `deadline`. Fails when the socket cannot be opened.
Result<std::unique_ptr<Network>> MakeNetwork(const Deadline& deadline);

// Moves this process into the network namespace /run/netns/`name` (what
// "ip netns add" creates). Call before opening any socket: sockets stay in
// the namespace they were created in. False when the namespace does not
// exist; an error when it cannot be entered.
Result<bool> EnterNetworkNamespace(std::string_view name);

// A MAC address as "02:00:5e:00:01:0a".
std::string FormatMac(const std::uint8_t* mac, std::size_t len);

}  // namespace pmmha
