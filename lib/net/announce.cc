// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/net/announce.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "pmmha/core/owned_fd.h"
#include "pmmha/core/text.h"
#include "pmmha/net/tracked_process.h"

namespace pmmha {

namespace {

constexpr MacAddress kBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr MacAddress kZeroMac = {};
// ff02::1 and its Ethernet multicast address (RFC 2464: 33:33 + low 32 bits).
constexpr std::uint8_t kAllNodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
constexpr MacAddress kAllNodesMac = {0x33, 0x33, 0, 0, 0, 1};

constexpr std::uint16_t kArpRequest = 1;
constexpr std::uint16_t kArpReply = 2;
constexpr std::size_t kArpLength = 28;

void Put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}
void PutBytes(std::vector<std::uint8_t>& out, const std::uint8_t* p, std::size_t n) {
  out.insert(out.end(), p, p + n);
}

Frame Arp(std::uint16_t op, const MacAddress& sha, const std::uint8_t* spa, const MacAddress& tha,
          const std::uint8_t* tpa) {
  Frame f;
  f.ethertype = ETH_P_ARP;
  f.destination = kBroadcast;
  f.payload.reserve(kArpLength);
  Put16(f.payload, 1);  // Ethernet
  Put16(f.payload, ETH_P_IP);
  f.payload.push_back(6);
  f.payload.push_back(4);
  Put16(f.payload, op);
  PutBytes(f.payload, sha.data(), 6);
  PutBytes(f.payload, spa, 4);
  PutBytes(f.payload, tha.data(), 6);
  PutBytes(f.payload, tpa, 4);
  return f;
}

sockaddr_ll LinkAddress(int ifindex, const Frame& f) {
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(f.ethertype);
  to.sll_ifindex = ifindex;
  to.sll_halen = 6;
  std::memcpy(to.sll_addr, f.destination.data(), 6);
  return to;
}

// Sends every frame; the first failure is reported.
Status SendFrames(int fd, int ifindex, const std::vector<Frame>& frames) {
  for (const Frame& f : frames) {
    sockaddr_ll to = LinkAddress(ifindex, f);
    if (sendto(fd, f.payload.data(), f.payload.size(), 0, reinterpret_cast<sockaddr*>(&to),
               sizeof to) < 0) {
      return Status::Error("sending on link {} failed: {}", ifindex, Errno(errno));
    }
  }
  return Status::Ok();
}

bool CanAnnounce(const LinkInfo& link) { return link.mac_len == 6 && !link.is_loopback(); }

MacAddress MacOf(const LinkInfo& link) {
  MacAddress mac{};
  std::copy(link.mac.begin(), link.mac.end(), mac.begin());
  return mac;
}

std::vector<Frame> FramesFor(const Announcement& a) {
  MacAddress mac = MacOf(a.link);
  if (a.ip.is_v4()) return GratuitousArp(mac, a.ip, a.mode);
  return {UnsolicitedNeighborAdvertisement(mac, a.ip)};
}

// Protocol 0: a socket that only sends, so no received traffic piles up in it.
Result<OwnedFd> SendSocket() {
  OwnedFd fd(socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return Status::Error("cannot open a packet socket: {}", Errno(errno));
  }
  return fd;
}

// The background announcer: runs in the forked child only.
[[noreturn]] void AnnounceLoop(int fd, int ifindex, const std::vector<Frame>& frames, int rounds,
                               std::chrono::milliseconds interval) {
  prctl(PR_SET_NAME, "pmm-vip-notify", 0, 0, 0);  // ps shows what it is
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  // Out of the way of stdio, even if the agent was started without it.
  int keep = fcntl(fd, F_DUPFD, 10);
  if (keep < 0) _exit(1);
  // Nobody reads our output any more, and a pipe kept open would make
  // whoever ran the agent wait for us.
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
  }
  // Only the packet socket stays: other descriptors of whoever ran the
  // agent must not stay open for the seconds we run.
  close_range(3, static_cast<unsigned>(keep) - 1, 0);
  close_range(static_cast<unsigned>(keep) + 1, ~0U, 0);
  fd = keep;
  timespec next{};
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (int i = 0; i < rounds; ++i) {
    long long ns = next.tv_nsec + interval.count() * 1000000LL;
    next.tv_sec += static_cast<time_t>(ns / 1000000000LL);
    next.tv_nsec = static_cast<long>(ns % 1000000000LL);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr) == EINTR) {
    }
    SendFrames(fd, ifindex, frames);
  }
  _exit(0);
}

class PacketAnnouncer : public Announcer {
 public:
  explicit PacketAnnouncer(std::string state_path) : state_path_(std::move(state_path)) {}

  Status Announce(const Announcement& a) override {
    if (!CanAnnounce(a.link)) return Status::Ok();
    auto fd = SendSocket();
    if (!fd) return fd.status();
    return SendFrames(fd->get(), a.link.index, FramesFor(a));
  }

  Status AnnounceInBackground(const Announcement& a, int rounds, std::chrono::milliseconds interval,
                              const Deadline& deadline) override {
    Status stopped = StopBackground(deadline);
    if (!stopped.ok()) return stopped;
    if (rounds <= 0 || !CanAnnounce(a.link)) return Status::Ok();
    auto fd = SendSocket();
    if (!fd) return fd.status();
    std::vector<Frame> frames = FramesFor(a);
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) {
      return Status::Error("cannot start the background announcer: {}", Errno(errno));
    }
    if (pid == 0) AnnounceLoop(fd->get(), a.link.index, frames, rounds, interval);
    // The child cannot have been reaped yet (we are its parent), so its
    // /proc entry is there to read.
    auto id = IdentifyProcess(pid);
    if (!id) return Status::Ok();  // already done
    Status saved = SaveProcessIdentity(state_path_, *id);
    if (!saved.ok()) {
      // Untracked, stop could not end it: better no background at all.
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    return saved;
  }

  bool BackgroundRunning() override { return TrackedProcessRunning(state_path_); }

  Status StopBackground(const Deadline& deadline) override {
    return EndTrackedProcess(state_path_, deadline);
  }

  Result<std::optional<MacAddress>> Probe(const LinkInfo& link, const IpAddress& ip, int probes,
                                          std::chrono::milliseconds interval,
                                          const Deadline& deadline) override {
    if (!ip.is_v4() || !CanAnnounce(link)) return std::optional<MacAddress>();
    OwnedFd fd(socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP)));
    if (!fd.valid()) {
      return Status::Error("cannot open a packet socket: {}", Errno(errno));
    }
    sockaddr_ll local{};
    local.sll_family = AF_PACKET;
    local.sll_protocol = htons(ETH_P_ARP);
    local.sll_ifindex = link.index;
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      return Status::Error("cannot bind a packet socket: {}", Errno(errno));
    }
    MacAddress own = MacOf(link);
    std::vector<Frame> probe = {ArpProbe(own, ip)};
    for (int i = 0; i < probes; ++i) {
      Status sent = SendFrames(fd.get(), link.index, probe);
      if (!sent.ok()) return sent;
      Deadline round = deadline.Within(interval);
      for (;;) {
        pollfd p{fd.get(), POLLIN, 0};
        int ready = poll(&p, 1, static_cast<int>(round.Remaining().count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) break;
        std::uint8_t buf[256];
        sockaddr_ll from{};
        socklen_t from_len = sizeof from;
        ssize_t n =
            recvfrom(fd.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
        if (n <= 0 || from.sll_pkttype == PACKET_OUTGOING) continue;
        auto conflict = ArpConflict(buf, static_cast<std::size_t>(n), ip, own);
        if (conflict) return std::optional<MacAddress>(*conflict);
      }
      if (deadline.HasExpired()) break;
    }
    return std::optional<MacAddress>();
  }

 private:
  std::string state_path_;
};

}  // namespace

std::optional<ArpMode> ParseArpMode(std::string_view text) {
  if (text == "request") return ArpMode::kRequest;
  if (text == "reply") return ArpMode::kReply;
  if (text == "both") return ArpMode::kBoth;
  return std::nullopt;
}

std::vector<Frame> GratuitousArp(const MacAddress& mac, const IpAddress& ip, ArpMode mode) {
  std::vector<Frame> frames;
  if (mode != ArpMode::kReply)
    frames.push_back(Arp(kArpRequest, mac, ip.data(), kZeroMac, ip.data()));
  if (mode != ArpMode::kRequest) {
    frames.push_back(Arp(kArpReply, mac, ip.data(), kBroadcast, ip.data()));
  }
  return frames;
}

Frame ArpProbe(const MacAddress& mac, const IpAddress& ip) {
  const std::uint8_t zero[4] = {};
  return Arp(kArpRequest, mac, zero, kZeroMac, ip.data());
}

std::uint16_t Icmpv6Checksum(const IpAddress& source, const IpAddress& destination,
                             const std::uint8_t* icmp, std::size_t len) {
  std::uint32_t sum = 0;
  auto add = [&sum](const std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i + 1 < n; i += 2)
      sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
    if (n % 2 != 0) sum += static_cast<std::uint32_t>(p[n - 1] << 8);
  };
  add(source.data(), 16);
  add(destination.data(), 16);
  sum += static_cast<std::uint32_t>(len >> 16) + static_cast<std::uint32_t>(len & 0xffff);
  sum += 58;  // next header: ICMPv6
  add(icmp, len);
  while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

Frame UnsolicitedNeighborAdvertisement(const MacAddress& mac, const IpAddress& ip) {
  IpAddress all_nodes = IpAddress::FromBytes(IpFamily::kIpv6, kAllNodes);
  std::vector<std::uint8_t> icmp;
  icmp.push_back(136);  // neighbour advertisement
  icmp.push_back(0);
  Put16(icmp, 0);        // checksum, below
  icmp.push_back(0x20);  // override; not solicited, not a router
  icmp.insert(icmp.end(), 3, 0);
  PutBytes(icmp, ip.data(), 16);
  icmp.push_back(2);  // option: target link-layer address
  icmp.push_back(1);  // in units of 8 bytes
  PutBytes(icmp, mac.data(), 6);
  std::uint16_t sum = Icmpv6Checksum(ip, all_nodes, icmp.data(), icmp.size());
  icmp[2] = static_cast<std::uint8_t>(sum >> 8);
  icmp[3] = static_cast<std::uint8_t>(sum & 0xff);

  Frame f;
  f.ethertype = ETH_P_IPV6;
  f.destination = kAllNodesMac;
  f.payload = {0x60, 0, 0, 0};  // version 6, no traffic class or flow label
  Put16(f.payload, static_cast<std::uint16_t>(icmp.size()));
  f.payload.push_back(58);   // ICMPv6
  f.payload.push_back(255);  // hop limit: receivers drop NDP with any other
  PutBytes(f.payload, ip.data(), 16);
  PutBytes(f.payload, all_nodes.data(), 16);
  f.payload.insert(f.payload.end(), icmp.begin(), icmp.end());
  return f;
}

std::optional<MacAddress> ArpConflict(const std::uint8_t* arp, std::size_t len, const IpAddress& ip,
                                      const MacAddress& own) {
  if (!ip.is_v4() || len < kArpLength) return std::nullopt;
  if (arp[4] != 6 || arp[5] != 4) return std::nullopt;
  std::uint16_t op = static_cast<std::uint16_t>(arp[6] << 8 | arp[7]);
  MacAddress sha;
  std::memcpy(sha.data(), arp + 8, 6);
  const std::uint8_t* spa = arp + 14;
  const std::uint8_t* tpa = arp + 24;
  if (sha == own) return std::nullopt;
  // Whoever sends with the address as its own uses it (a reply to our
  // probe, or its own announcement).
  if (std::memcmp(spa, ip.data(), 4) == 0) return sha;
  // Another host probing for the same address at the same moment
  // (RFC 5227 2.1.1): it is about to take it.
  const std::uint8_t zero[4] = {};
  if (op == kArpRequest && std::memcmp(spa, zero, 4) == 0 && std::memcmp(tpa, ip.data(), 4) == 0) {
    return sha;
  }
  return std::nullopt;
}

std::unique_ptr<Announcer> MakeAnnouncer(std::string state_path) {
  return std::make_unique<PacketAnnouncer>(std::move(state_path));
}

}  // namespace pmmha
