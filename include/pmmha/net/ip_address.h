// SPDX-License-Identifier: GPL-2.0-or-later
// IPv4 and IPv6 addresses as values: parsing, prefixes, and the address
// classes a virtual IP must not be.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pmmha {

enum class IpFamily { kIpv4, kIpv6 };

class IpAddress {
 public:
  IpAddress() = default;
  // From network-order bytes: 4 for IPv4, 16 for IPv6.
  static IpAddress FromBytes(IpFamily family, const std::uint8_t* bytes);

  // Parses the textual form inet_pton accepts (dotted quad, RFC 4291 text),
  // nothing else: no prefix, no scope id, no surrounding blanks.
  static std::optional<IpAddress> Parse(std::string_view text);

  IpFamily family() const { return family_; }
  bool is_v4() const { return family_ == IpFamily::kIpv4; }
  int af() const;  // AF_INET or AF_INET6
  std::size_t size() const { return is_v4() ? 4 : 16; }
  int max_prefix() const { return is_v4() ? 32 : 128; }
  const std::uint8_t* data() const { return bytes_.data(); }

  std::string ToString() const;

  bool IsUnspecified() const;  // 0.0.0.0/8, ::
  bool IsLoopback() const;     // 127.0.0.0/8, ::1
  bool IsMulticast() const;    // 224.0.0.0/4, ff00::/8
  bool IsBroadcast() const;    // 255.255.255.255
  bool IsLinkLocal() const;    // 169.254.0.0/16, fe80::/10
  bool IsV4Mapped() const;     // ::ffff:0:0/96

  // The first `prefix` bits kept, the rest zero.
  IpAddress Masked(int prefix) const;
  // True when both are of one family and share the first `prefix` bits.
  bool InPrefix(const IpAddress& network, int prefix) const;
  // IPv4: the directed broadcast address of this address's /prefix.
  IpAddress BroadcastFor(int prefix) const;

  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    return a.family_ == b.family_ && a.bytes_ == b.bytes_;
  }

 private:
  IpFamily family_ = IpFamily::kIpv4;
  std::array<std::uint8_t, 16> bytes_{};
};

// A prefix length for `family`: decimal 1..32 / 1..128, or for IPv4 a dotted
// quad netmask with contiguous ones (IPaddr2 accepted both); nothing else.
std::optional<int> ParsePrefix(std::string_view text, IpFamily family);

// Why `ip` cannot be a virtual IP (multicast, unspecified, loopback, ...),
// or nothing when it can.
std::optional<std::string> WhyNotUsable(const IpAddress& ip);

}  // namespace pmmha
