// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/net/ip_address.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "pmmha/core/text.h"

namespace pmmha {

IpAddress IpAddress::FromBytes(IpFamily family, const std::uint8_t* bytes) {
  IpAddress a;
  a.family_ = family;
  std::memcpy(a.bytes_.data(), bytes, a.size());
  return a;
}

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  // inet_pton wants a C string; anything longer than the longest textual
  // IPv6 address cannot be one.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN] = {};
  std::memcpy(buf, text.data(), text.size());
  IpAddress a;
  if (text.find(':') == std::string_view::npos) {
    a.family_ = IpFamily::kIpv4;
    if (inet_pton(AF_INET, buf, a.bytes_.data()) != 1) return std::nullopt;
  } else {
    a.family_ = IpFamily::kIpv6;
    if (inet_pton(AF_INET6, buf, a.bytes_.data()) != 1) return std::nullopt;
  }
  return a;
}

int IpAddress::af() const { return is_v4() ? AF_INET : AF_INET6; }

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(af(), bytes_.data(), buf, sizeof buf);
  return buf;
}

bool IpAddress::IsUnspecified() const {
  if (is_v4()) return bytes_[0] == 0;
  for (std::size_t i = 0; i < 16; ++i) {
    if (bytes_[i] != 0) return false;
  }
  return true;
}

bool IpAddress::IsLoopback() const {
  if (is_v4()) return bytes_[0] == 127;
  for (std::size_t i = 0; i < 15; ++i) {
    if (bytes_[i] != 0) return false;
  }
  return bytes_[15] == 1;
}

bool IpAddress::IsMulticast() const {
  return is_v4() ? (bytes_[0] & 0xf0) == 0xe0 : bytes_[0] == 0xff;
}

bool IpAddress::IsBroadcast() const {
  return is_v4() && bytes_[0] == 255 && bytes_[1] == 255 && bytes_[2] == 255 && bytes_[3] == 255;
}

bool IpAddress::IsLinkLocal() const {
  if (is_v4()) return bytes_[0] == 169 && bytes_[1] == 254;
  return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}

bool IpAddress::IsV4Mapped() const {
  if (is_v4()) return false;
  for (std::size_t i = 0; i < 10; ++i) {
    if (bytes_[i] != 0) return false;
  }
  return bytes_[10] == 0xff && bytes_[11] == 0xff;
}

IpAddress IpAddress::Masked(int prefix) const {
  IpAddress m = *this;
  for (int i = 0; i < static_cast<int>(size()); ++i) {
    int keep = std::min(std::max(prefix - 8 * i, 0), 8);
    m.bytes_[i] &= static_cast<std::uint8_t>(0xff00 >> keep);
  }
  return m;
}

bool IpAddress::InPrefix(const IpAddress& network, int prefix) const {
  return family_ == network.family_ && Masked(prefix) == network.Masked(prefix);
}

IpAddress IpAddress::BroadcastFor(int prefix) const {
  IpAddress b = *this;
  for (int i = 0; i < static_cast<int>(size()); ++i) {
    int keep = std::min(std::max(prefix - 8 * i, 0), 8);
    b.bytes_[i] |= static_cast<std::uint8_t>(0xff >> keep);
  }
  return b;
}

std::optional<int> ParsePrefix(std::string_view text, IpFamily family) {
  int max = family == IpFamily::kIpv4 ? 32 : 128;
  if (family == IpFamily::kIpv4 && text.find('.') != std::string_view::npos) {
    auto mask = IpAddress::Parse(text);
    if (!mask || !mask->is_v4()) return std::nullopt;
    std::uint32_t bits = 0;
    std::memcpy(&bits, mask->data(), 4);
    bits = ntohl(bits);
    // Contiguous ones from the top: the inverted mask plus one is a power of two.
    std::uint32_t inverted = ~bits;
    if ((inverted & (inverted + 1)) != 0) return std::nullopt;
    int prefix = 32 - __builtin_popcount(inverted);
    if (prefix < 1) return std::nullopt;
    return prefix;
  }
  auto n = ParseInteger(text);
  if (!n || text.front() == '+' || *n < 1 || *n > max) return std::nullopt;
  return static_cast<int>(*n);
}

std::optional<std::string> WhyNotUsable(const IpAddress& ip) {
  if (ip.IsBroadcast()) return "is the limited broadcast address";
  if (ip.IsUnspecified()) return "is an unspecified address";
  if (ip.IsLoopback()) return "is a loopback address";
  if (ip.IsMulticast()) return "is a multicast address";
  if (ip.IsV4Mapped()) return "is an IPv4-mapped IPv6 address; give the IPv4 address";
  if (ip.is_v4() && ip.data()[0] >= 240) return "is in the reserved range 240.0.0.0/4";
  return std::nullopt;
}

}  // namespace pmmha
