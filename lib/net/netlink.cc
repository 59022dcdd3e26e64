// SPDX-License-Identifier: GPL-2.0-or-later
// rtnetlink spoken directly; see netlink.h for why not libnl.
#include "pmmha/net/netlink.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>

#include <fmt/format.h>

#include "pmmha/core/owned_fd.h"
#include "pmmha/core/text.h"

// Older UAPI headers lack these; the values are fixed by the kernel ABI.
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

namespace pmmha {

bool LinkInfo::admin_up() const { return (flags & IFF_UP) != 0; }
bool LinkInfo::has_carrier() const { return (flags & IFF_LOWER_UP) != 0; }
bool LinkInfo::is_loopback() const { return (flags & IFF_LOOPBACK) != 0; }

bool AddressInfo::tentative() const { return (flags & IFA_F_TENTATIVE) != 0; }
bool AddressInfo::dad_failed() const { return (flags & IFA_F_DADFAILED) != 0; }

std::string FormatMac(const std::uint8_t* mac, std::size_t len) {
  std::string out;
  for (std::size_t i = 0; i < len; ++i) {
    if (i > 0) out += ':';
    out += fmt::format("{:02x}", mac[i]);
  }
  return out;
}

namespace {

// Enough for any message the kernel sends in one datagram (dumps are cut at
// 32 KiB by default).
constexpr std::size_t kReceiveBuffer = 64 * 1024;

// An rtnetlink request under construction.
class Message {
 public:
  Message(std::uint16_t type, std::uint16_t flags) : buf_(NLMSG_HDRLEN, 0) {
    header()->nlmsg_type = type;
    header()->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
  }

  template <typename T>
  void Body(const T& body) {
    Append(&body, sizeof body);
  }

  void Attr(std::uint16_t type, const void* data, std::size_t len) {
    rtattr rta{};
    rta.rta_type = type;
    rta.rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
    Append(&rta, sizeof rta);
    Append(data, len);
  }
  void AttrU32(std::uint16_t type, std::uint32_t value) { Attr(type, &value, sizeof value); }
  void AttrString(std::uint16_t type, std::string_view s) {
    std::string z(s);
    Attr(type, z.c_str(), z.size() + 1);
  }

  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
  const std::vector<char>& Finish(std::uint32_t seq) {
    header()->nlmsg_len = static_cast<std::uint32_t>(buf_.size());
    header()->nlmsg_seq = seq;
    return buf_;
  }

 private:
  void Append(const void* data, std::size_t len) {
    const char* p = static_cast<const char*>(data);
    buf_.insert(buf_.end(), p, p + len);
    buf_.resize(NLMSG_ALIGN(buf_.size()), 0);
  }
  std::vector<char> buf_;
};

// The attributes of one message, indexed by type.
class Attributes {
 public:
  Attributes(const rtattr* first, int len) {
    for (const rtattr* a = first; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
      unsigned short type = a->rta_type & NLA_TYPE_MASK;
      if (type < attrs_.size()) attrs_[type] = a;
    }
  }
  const rtattr* Get(unsigned type) const { return type < attrs_.size() ? attrs_[type] : nullptr; }
  std::size_t Length(unsigned type) const {
    const rtattr* a = Get(type);
    return a != nullptr ? RTA_PAYLOAD(a) : 0;
  }
  const void* Data(unsigned type) const {
    const rtattr* a = Get(type);
    return a != nullptr ? RTA_DATA(a) : nullptr;
  }
  std::optional<std::uint32_t> U32(unsigned type) const {
    if (Length(type) < sizeof(std::uint32_t)) return std::nullopt;
    std::uint32_t v;
    std::memcpy(&v, Data(type), sizeof v);
    return v;
  }
  std::string String(unsigned type) const {
    const char* p = static_cast<const char*>(Data(type));
    if (p == nullptr) return {};
    return std::string(p, strnlen(p, Length(type)));
  }

 private:
  std::array<const rtattr*, 64> attrs_{};
};

class Socket {
 public:
  // A request socket (groups 0) or a notification socket.
  Status Open(std::uint32_t groups) {
    fd_.reset(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd_.valid()) {
      return Status::Error("cannot open a netlink socket: {}", Errno(errno));
    }
    int one = 1;
    // Best effort: without extended acks errors lose their text, without
    // strict checking the kernel does not filter dumps (we filter again).
    setsockopt(fd_.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    setsockopt(fd_.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    setsockopt(fd_.get(), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    local.nl_groups = groups;
    if (bind(fd_.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      return Status::Error("cannot bind a netlink socket: {}", Errno(errno));
    }
    seq_ = static_cast<std::uint32_t>(getpid()) << 16;
    return Status::Ok();
  }

  int fd() const { return fd_.get(); }

  // Sends `m` and hands every reply message to `each` until the dump ends or
  // the kernel acknowledges. A kernel error becomes `errno_out` and a
  // failed Status whose reason carries the kernel's own message.
  Status Exchange(Message& m, const std::function<void(const nlmsghdr&)>& each,
                  const Deadline& deadline, int* errno_out = nullptr) {
    std::uint32_t seq = ++seq_;
    const std::vector<char>& out = m.Finish(seq);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd_.get(), out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0) {
      return Fail(errno_out, errno, "netlink send failed");
    }
    if (buf_.empty()) buf_.resize(kReceiveBuffer);
    for (;;) {
      pollfd p{fd_.get(), POLLIN, 0};
      int timeout = static_cast<int>(std::min<long long>(deadline.Remaining().count(), 60000));
      int ready = poll(&p, 1, timeout);
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) return Fail(errno_out, errno, "netlink poll failed");
      if (ready == 0) return Status::Error("the kernel did not answer in time");
      // MSG_TRUNC: the real length, so that a reply cut short is an error
      // rather than a dump silently missing entries.
      ssize_t n = recv(fd_.get(), buf_.data(), buf_.size(), MSG_TRUNC);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail(errno_out, errno, "netlink receive failed");
      if (static_cast<std::size_t>(n) > buf_.size()) {
        return Status::Error("netlink reply of {} bytes did not fit the buffer", n);
      }
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<const nlmsghdr*>(buf_.data()); NLMSG_OK(h, len);
           h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_seq != seq) continue;  // a late answer to an earlier request
        if (h->nlmsg_type == NLMSG_DONE) return Status::Ok();
        if (h->nlmsg_type == NLMSG_ERROR) return AckStatus(*h, errno_out);
        each(*h);
      }
    }
  }

 private:
  static Status Fail(int* errno_out, int err, std::string_view what) {
    if (errno_out != nullptr) *errno_out = err;
    return Status::Error("{}: {}", what, Errno(err));
  }

  static Status AckStatus(const nlmsghdr& h, int* errno_out) {
    if (h.nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
      return Status::Error("truncated netlink error message");
    }
    const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(&h));
    if (err->error == 0) return Status::Ok();
    int e = -err->error;
    if (errno_out != nullptr) *errno_out = e;
    std::string reason = Errno(e);
    if ((h.nlmsg_flags & NLM_F_ACK_TLVS) != 0) {
      // With NETLINK_CAP_ACK the echoed request is only its header.
      std::size_t offset = sizeof(nlmsgerr);
      if ((h.nlmsg_flags & NLM_F_CAPPED) == 0) offset += err->msg.nlmsg_len - NLMSG_HDRLEN;
      std::size_t total = h.nlmsg_len - NLMSG_HDRLEN;
      if (offset < total) {
        const auto* first = reinterpret_cast<const rtattr*>(
            static_cast<const char*>(NLMSG_DATA(&h)) + NLMSG_ALIGN(offset));
        Attributes tlv(first, static_cast<int>(total - NLMSG_ALIGN(offset)));
        std::string text = tlv.String(NLMSGERR_ATTR_MSG);
        if (!text.empty()) reason += fmt::format(" ({})", text);
      }
    }
    return Status::Error(reason);
  }

  OwnedFd fd_;
  std::uint32_t seq_ = 0;
  std::vector<char> buf_;
};

LinkInfo ParseLink(const nlmsghdr& h) {
  const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(&h));
  Attributes a(IFLA_RTA(ifi), static_cast<int>(IFLA_PAYLOAD(&h)));
  LinkInfo link;
  link.index = ifi->ifi_index;
  link.flags = ifi->ifi_flags;
  link.type = ifi->ifi_type;
  link.name = a.String(IFLA_IFNAME);
  if (a.Length(IFLA_ADDRESS) == link.mac.size()) {
    std::memcpy(link.mac.data(), a.Data(IFLA_ADDRESS), link.mac.size());
    link.mac_len = link.mac.size();
  }
  return link;
}

std::optional<AddressInfo> ParseAddress(const nlmsghdr& h) {
  const auto* ifa = static_cast<const ifaddrmsg*>(NLMSG_DATA(&h));
  Attributes a(IFA_RTA(ifa), static_cast<int>(IFA_PAYLOAD(&h)));
  IpFamily family = ifa->ifa_family == AF_INET ? IpFamily::kIpv4 : IpFamily::kIpv6;
  std::size_t size = family == IpFamily::kIpv4 ? 4 : 16;
  // IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on
  // point-to-point links and the only one IPv6 sends.
  unsigned which = a.Length(IFA_LOCAL) == size ? IFA_LOCAL : IFA_ADDRESS;
  if (a.Length(which) != size) return std::nullopt;
  AddressInfo info;
  info.ifindex = static_cast<int>(ifa->ifa_index);
  info.address = IpAddress::FromBytes(family, static_cast<const std::uint8_t*>(a.Data(which)));
  info.prefix = ifa->ifa_prefixlen;
  info.flags = a.U32(IFA_FLAGS).value_or(ifa->ifa_flags);
  info.label = a.String(IFA_LABEL);
  return info;
}

std::optional<RouteInfo> ParseRoute(const nlmsghdr& h, IpFamily family) {
  const auto* rtm = static_cast<const rtmsg*>(NLMSG_DATA(&h));
  Attributes a(RTM_RTA(rtm), static_cast<int>(RTM_PAYLOAD(&h)));
  std::uint32_t table = a.U32(RTA_TABLE).value_or(rtm->rtm_table);
  if (table != RT_TABLE_MAIN || rtm->rtm_type != RTN_UNICAST) return std::nullopt;
  if ((rtm->rtm_flags & RTM_F_CLONED) != 0) return std::nullopt;
  std::size_t size = family == IpFamily::kIpv4 ? 4 : 16;
  std::uint8_t zero[16] = {};
  RouteInfo r;
  const void* dst = a.Length(RTA_DST) == size ? a.Data(RTA_DST) : zero;
  r.destination = IpAddress::FromBytes(family, static_cast<const std::uint8_t*>(dst));
  r.prefix = rtm->rtm_dst_len;
  r.ifindex = static_cast<int>(a.U32(RTA_OIF).value_or(0));
  r.has_gateway = a.Get(RTA_GATEWAY) != nullptr || a.Get(RTA_VIA) != nullptr;
  r.metric = a.U32(RTA_PRIORITY).value_or(0);
  return r;
}

class RtNetwork : public Network {
 public:
  explicit RtNetwork(const Deadline& deadline) : deadline_(deadline) {}
  Status Open() { return socket_.Open(0); }

  Result<std::optional<LinkInfo>> LinkByName(std::string_view name) override {
    if (name.empty() || name.size() >= IFNAMSIZ) return std::optional<LinkInfo>();
    Message m(RTM_GETLINK, NLM_F_ACK);
    m.Body(ifinfomsg{});
    m.AttrString(IFLA_IFNAME, name);
    return GetLink(m);
  }

  Result<std::optional<LinkInfo>> LinkByIndex(int index) override {
    Message m(RTM_GETLINK, NLM_F_ACK);
    ifinfomsg ifi{};
    ifi.ifi_index = index;
    m.Body(ifi);
    return GetLink(m);
  }

  Result<std::vector<AddressInfo>> Addresses(IpFamily family, int ifindex) override {
    std::vector<AddressInfo> out;
    Message m(RTM_GETADDR, NLM_F_DUMP);
    ifaddrmsg ifa{};
    ifa.ifa_family = static_cast<unsigned char>(family == IpFamily::kIpv4 ? AF_INET : AF_INET6);
    ifa.ifa_index = static_cast<unsigned>(ifindex);
    m.Body(ifa);
    Status s = socket_.Exchange(
        m,
        [&](const nlmsghdr& h) {
          if (h.nlmsg_type != RTM_NEWADDR) return;
          auto info = ParseAddress(h);
          if (info && info->address.family() == family &&
              (ifindex == 0 || info->ifindex == ifindex)) {
            out.push_back(std::move(*info));
          }
        },
        deadline_);
    if (!s.ok()) return s.Prefixed("cannot list addresses");
    return out;
  }

  Result<std::vector<RouteInfo>> Routes(IpFamily family, int ifindex) override {
    std::vector<RouteInfo> out;
    Message m(RTM_GETROUTE, NLM_F_DUMP);
    rtmsg rtm{};
    rtm.rtm_family = static_cast<unsigned char>(family == IpFamily::kIpv4 ? AF_INET : AF_INET6);
    rtm.rtm_table = RT_TABLE_MAIN;
    m.Body(rtm);
    if (ifindex != 0) m.AttrU32(RTA_OIF, static_cast<std::uint32_t>(ifindex));
    Status s = socket_.Exchange(
        m,
        [&](const nlmsghdr& h) {
          if (h.nlmsg_type != RTM_NEWROUTE) return;
          auto r = ParseRoute(h, family);
          if (r && (ifindex == 0 || r->ifindex == ifindex)) out.push_back(std::move(*r));
        },
        deadline_);
    if (!s.ok()) return s.Prefixed("cannot list routes");
    return out;
  }

  Status AddAddress(const AddressRequest& r) override {
    Message m(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
    ifaddrmsg ifa{};
    ifa.ifa_family = static_cast<unsigned char>(r.address.af());
    ifa.ifa_prefixlen = static_cast<unsigned char>(r.prefix);
    ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    ifa.ifa_index = static_cast<unsigned>(r.ifindex);
    m.Body(ifa);
    m.Attr(IFA_LOCAL, r.address.data(), r.address.size());
    m.Attr(IFA_ADDRESS, r.address.data(), r.address.size());
    if (r.broadcast) m.Attr(IFA_BROADCAST, r.broadcast->data(), r.broadcast->size());
    if (!r.label.empty()) m.AttrString(IFA_LABEL, r.label);
    std::uint32_t flags = 0;
    if (r.nodad) flags |= IFA_F_NODAD;
    if (r.noprefixroute) flags |= IFA_F_NOPREFIXROUTE;
    if (flags != 0) m.AttrU32(IFA_FLAGS, flags);
    if (r.deprecated) {
      ifa_cacheinfo ci{};
      ci.ifa_prefered = 0;
      ci.ifa_valid = 0xffffffffu;  // INFINITY_LIFE_TIME
      m.Attr(IFA_CACHEINFO, &ci, sizeof ci);
    }
    return socket_.Exchange(
        m, [](const nlmsghdr&) {}, deadline_);
  }

  Status DeleteAddress(int ifindex, const IpAddress& address, int prefix) override {
    Message m(RTM_DELADDR, NLM_F_ACK);
    ifaddrmsg ifa{};
    ifa.ifa_family = static_cast<unsigned char>(address.af());
    ifa.ifa_prefixlen = static_cast<unsigned char>(prefix);
    ifa.ifa_index = static_cast<unsigned>(ifindex);
    m.Body(ifa);
    m.Attr(IFA_LOCAL, address.data(), address.size());
    // Without IFA_ADDRESS the kernel deletes the first IPv4 address with
    // this local address, whatever its prefix: with the address there twice
    // (/24 and /32) that may be the wrong one.
    m.Attr(IFA_ADDRESS, address.data(), address.size());
    int err = 0;
    Status s = socket_.Exchange(
        m, [](const nlmsghdr&) {}, deadline_, &err);
    if (err == EADDRNOTAVAIL || err == ENOENT || err == ENODEV) return Status::Ok();
    return s;
  }

  Status SetLinkUp(int ifindex) override {
    Message m(RTM_NEWLINK, NLM_F_ACK);
    ifinfomsg ifi{};
    ifi.ifi_index = ifindex;
    ifi.ifi_flags = IFF_UP;
    ifi.ifi_change = IFF_UP;
    m.Body(ifi);
    return socket_.Exchange(
        m, [](const nlmsghdr&) {}, deadline_);
  }

  Status Subscribe() override {
    if (events_) return Status::Ok();
    events_ = std::make_unique<Socket>();
    Status s = events_->Open(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR);
    if (!s.ok()) events_.reset();
    return s;
  }

  Result<bool> WaitForChange(const Deadline& deadline) override {
    if (!events_) return Status::Error("internal error: not subscribed");
    for (;;) {
      pollfd p{events_->fd(), POLLIN, 0};
      int timeout = static_cast<int>(std::min<long long>(deadline.Remaining().count(), 60000));
      int ready = poll(&p, 1, timeout);
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) {
        return Status::Error("waiting for netlink events failed: {}", Errno(errno));
      }
      if (ready == 0) {
        if (deadline.HasExpired()) return false;
        continue;
      }
      // The content does not matter: the caller reads the state afresh. An
      // overrun (ENOBUFS) only means there were many changes.
      char drain[8192];
      while (recv(events_->fd(), drain, sizeof drain, MSG_DONTWAIT) > 0 || errno == ENOBUFS) {
      }
      return true;
    }
  }

 private:
  Result<std::optional<LinkInfo>> GetLink(Message& m) {
    std::optional<LinkInfo> link;
    int err = 0;
    Status s = socket_.Exchange(
        m,
        [&](const nlmsghdr& h) {
          if (h.nlmsg_type == RTM_NEWLINK) link = ParseLink(h);
        },
        deadline_, &err);
    if (err == ENODEV) return std::optional<LinkInfo>();
    if (!s.ok() && !link) return s.Prefixed("cannot read the link");
    return link;
  }

  Deadline deadline_;
  Socket socket_;
  std::unique_ptr<Socket> events_;
};

}  // namespace

Result<std::unique_ptr<Network>> MakeNetwork(const Deadline& deadline) {
  auto net = std::make_unique<RtNetwork>(deadline);
  Status s = net->Open();
  if (!s.ok()) return s;
  return std::unique_ptr<Network>(std::move(net));
}

Result<bool> EnterNetworkNamespace(std::string_view name) {
  std::string path = fmt::format("/run/netns/{}", name);
  OwnedFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return false;
    return Status::Error("cannot open network namespace {}: {}", Quote(path), Errno(errno));
  }
  if (setns(fd.get(), CLONE_NEWNET) != 0) {
    return Status::Error("cannot enter network namespace {}: {}", Quote(path), Errno(errno));
  }
  return true;
}

}  // namespace pmmha
