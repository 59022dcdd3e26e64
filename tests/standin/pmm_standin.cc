// SPDX-License-Identifier: GPL-2.0-or-later
// A stand-in for PMM Server, for tests and the demo: the real image cannot be
// pulled here. A static binary that runs as the container's PID 1 and behaves
// like PMM Server where the agents look:
//   GET /v1/readyz, /v1/server/readyz  500 {"code":13,...} while warming up,
//                                      200 {} when ready
//   GET /ping                          as readyz
//   GET /v1/server/leaderHealthCheck   200 when HA is off or this node leads,
//                                      400 {"code":9,...} on a follower
// and, for the fault tests' workload (not PMM's API):
//   POST /v1/test/write?seq=N          appends "N BOOT NODE MS" to writes.log
//                                      and fsyncs it before answering 200
//                                      {"seq":N}: an acknowledged write is on
//                                      disk; 503 while not ready or stopping,
//                                      400 on an HA follower or a bad seq;
//                                      500 or 503 in those modes (below)
//   GET /v1/test/writes                the whole log, one write per line
// It keeps its state in /srv/standin like PMM keeps everything under /srv:
//   boots          a boot counter, incremented at every start (data marker)
//   writes.log     the workload's acknowledged writes, "SEQ BOOT NODE MS" per
//                  line (NODE: PMM_HA_NODE_ID, "-" without HA; MS: epoch ms
//                  of the write), here unless STANDIN_DB names another
//                  directory
//   mode           written by tests to inject failures, read on every request:
//                  ok | 500 | 503 | hang | crash, for every boot; or MODE@N: only
//                  while this is boot N (a PMM process that went wrong, which a
//                  restart cures; the fault campaign's "PMM hung" and "500")
//   clean-stop     written when a SIGTERM shutdown completed
//   started-at     epoch milliseconds of this boot's start (ready = + warm-up)
//   stepdown       (HA) written by tests: while it exists this node is not
//                  eligible, so a leader steps down and a follower never leads
//   leader-view    (HA) "leader=<id or empty> self=<id> eligible=0|1", this
//                  node's view, rewritten when it changes (for debugging)
//   ha-events      (HA) "MS BOOT MESSAGE" per leadership change of this
//                  node: elected, stepping down and why
// It runs as PMM 3 does, as uid 1000 (the image says USER 1000:1000), and
// like PMM's entrypoint exits 1 with "FATAL: /srv is not writable" when it
// cannot write /srv.
// Environment: STANDIN_PORTS (comma list, default "8080": PMM 3 listens on
// 8080/8443 as it runs unprivileged), STANDIN_WARMUP_MS
// (2000), STANDIN_STOP_DELAY_MS (0: how long SIGTERM shutdown takes, like
// VictoriaMetrics flushing), STANDIN_IGNORE_TERM (1: ignore SIGTERM),
// STANDIN_SRV (/srv), STANDIN_DB (the directory of writes.log, /srv/standin:
// in the HA lab one directory every node's stand-in shares, as PMM 3 HA's
// nodes share their external PostgreSQL), STANDIN_HA (read: the default; or
// ignore: an image that does not know PMM_HA_*, a PMM 2 or a PMM 3 before HA,
// runs without HA whatever they say and leads on every node), and for HA like
// PMM 3: PMM_HA_ENABLE (1 or true), PMM_HA_NODE_ID, PMM_HA_ADVERTISE_ADDRESS
// (this node's IPv4 address: like memberlist's, a host name is refused and HA
// does not start on this node, which then never leads), PMM_HA_PEERS (the
// nodes' IPv4 addresses or host names, this one included, in the same order on
// every node; a name is looked up in /etc/hosts (STANDIN_HOSTS) at start, and
// one that is not there is a peer that never answers) and PMM_HA_RAFT_PORT (9097).
//
// HA: real PMM 3 elects its leader with Raft; the stand-ins elect one among
// themselves with a much smaller protocol, with Raft's quorum, enough for
// tests to move the leadership, crash the leader's node and cut it off:
//   - Each node listens on ADVERTISE_ADDRESS:RAFT_PORT and answers every
//     connection with one line "<node id> <eligible 0|1> <leader 0|1>".
//   - Every 250 ms each node asks all its peers at once (150 ms for connect
//     and answer; a peer that does not answer in time does not count).
//     Eligible means warmed up, not shutting down and no stepdown file.
//   - The quorum is a majority of PMM_HA_PEERS: this node and the peers that
//     answered. A leader that has not reached a quorum for 4 rounds in a row
//     (its lease, 1 s) steps down: a leader cut off from the others stops
//     leading, and with 2 of 3 nodes gone nobody leads.
//   - A leader stays leader unless it is not eligible, has lost its quorum,
//     or a peer that comes earlier in PMM_HA_PEERS also claims leadership.
//   - A follower follows any peer that claims leadership. When none has for
//     its heartbeat timeout, it takes the leadership if it is eligible,
//     reaches a quorum, and is the first eligible node in PMM_HA_PEERS order
//     among itself and the peers that answered. So leadership is sticky: a
//     node that comes back follows the working leader even when it comes
//     first in the order. The timeout is PMM's: pmm-managed gives Raft a
//     1 s HeartbeatTimeout (managed/services/ha/highavailability.go), and a
//     Raft follower waits a random time between it and twice it, drawn anew
//     each time it hears from a leader: a dead leader is replaced 1 to 2 s
//     after its last word, as in PMM.
//   - A leader that gives up the leadership itself (SIGTERM, the stepdown
//     file) hands it over, as PMM's leader does on its way out (Raft's
//     leadership transfer): for 1 s its line ends with " handover", and a
//     follower that sees it does not wait for its timeout.
//   - On SIGTERM a leader gives up the leadership at once, before the
//     shutdown delay, like a PMM leader that is stopping.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::string srv_dir = "/srv";
std::string state_dir;
std::string db_dir;  // where writes.log lives: PMM's database
Clock::time_point started;
long warmup_ms = 2000;
std::atomic<bool> terminating{false};

// HA mode: this node's place among its peers, from the environment.
struct HaConfig {
  bool enabled = false;
  // HA is enabled but cannot start (an advertise address that is not an IP):
  // this node never leads.
  bool broken = false;
  std::string node_id;
  // PMM_HA_PEERS, in their order; nothing for a name that did not resolve.
  std::vector<std::optional<sockaddr_in>> peers;
  std::size_t self = 0;  // this node's index in peers
  int port = 9097;
};
HaConfig ha;

// What this node tells its peers; written by the election, read by the
// listener and the HTTP handler.
std::atomic<bool> leading{false};
std::atomic<bool> eligible{false};
// Serialises an election round's decision with SIGTERM's step-down, so that
// a round that began before the signal cannot claim the leadership after it.
std::mutex election_mutex;
std::string last_view;  // guarded by election_mutex

constexpr auto kElectionInterval = std::chrono::milliseconds(250);
constexpr auto kProbeTimeout = std::chrono::milliseconds(150);
// PMM's Raft HeartbeatTimeout; a follower waits between it and twice it.
constexpr auto kHeartbeatTimeout = std::chrono::milliseconds(1000);
// How long a leader that gave up the lead says so (a leadership transfer).
constexpr auto kHandover = std::chrono::milliseconds(1000);
// When this node last gave up the leadership itself (guarded by
// election_mutex; the listener reads handover_until).
std::atomic<Clock::rep> handover_until{0};
constexpr int kLeaseRounds = 4;

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

std::string ReadFile(const std::string& path) {
  std::string text;
  if (FILE* f = std::fopen(path.c_str(), "re")) {
    char buf[256];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

bool WriteFileSync(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
  close(fd);
  return ok && rename(tmp.c_str(), path.c_str()) == 0;
}

void Log(const std::string& line) {
  std::fprintf(stderr, "pmm-standin: %s\n", line.c_str());
  std::fflush(stderr);
}

bool Ready() {
  auto up = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return up.count() >= warmup_ms && !terminating;
}

void Send(int fd, int code, const char* reason, const std::string& body) {
  std::string response =
      "HTTP/1.1 " + std::to_string(code) + " " + reason +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  std::size_t off = 0;
  while (off < response.size()) {
    ssize_t n = send(fd, response.data() + off, response.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

bool IsLeader() { return !ha.enabled || (!ha.broken && leading); }

long boot_number = 0;
std::mutex writes_mutex;

// The workload's write: appended and fsynced before it is acknowledged, so
// that a write the client saw acknowledged must be in the log after any
// failover (the fault tests count the ones that are not).
void Write(int fd, const std::string& query) {
  std::string seq;
  if (query.rfind("seq=", 0) == 0) seq = query.substr(4, query.find('&') - 4);
  if (seq.empty() || seq.size() > 18 || seq.find_first_not_of("0123456789") != std::string::npos) {
    Send(fd, 400, "Bad Request", "{\"code\":3,\"message\":\"seq must be a number\"}");
    return;
  }
  if (!Ready()) {
    Send(fd, 503, "Service Unavailable", "{\"code\":14,\"message\":\"not ready\"}");
    return;
  }
  if (!IsLeader()) {
    Send(fd, 400, "Bad Request", "{\"code\":9,\"message\":\"this PMM Server isn't the leader\"}");
    return;
  }
  // Who wrote it and when: in a shared database two leaders that both
  // acknowledge writes show as interleaved nodes (the lab's watcher looks).
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  std::string line = seq + " " + std::to_string(boot_number) + " " +
                     (ha.enabled ? ha.node_id : "-") + " " + std::to_string(now_ms.count()) + "\n";
  std::lock_guard<std::mutex> lock(writes_mutex);
  int log = open((db_dir + "/writes.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  bool ok = log >= 0 && write(log, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            fsync(log) == 0;
  if (log >= 0) close(log);
  if (!ok) {
    Send(fd, 500, "Internal Server Error", "{\"code\":13,\"message\":\"write failed\"}");
    return;
  }
  Send(fd, 200, "OK", "{\"seq\":" + seq + "}");
}

// The mode file's mode for this boot: "MODE@N" applies to boot N only.
std::string CurrentMode() {
  std::string mode = ReadFile(state_dir + "/mode");
  auto at = mode.find('@');
  if (at == std::string::npos) return mode;
  if (mode.substr(at + 1) != std::to_string(boot_number)) return "ok";
  return mode.substr(0, at);
}

void Serve(int fd) {
  std::string request;
  char buf[2048];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 16384) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) break;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    request.append(buf, static_cast<std::size_t>(n));
  }
  std::string path, query;
  bool post = request.rfind("POST ", 0) == 0;
  if (request.rfind("GET ", 0) == 0 || request.rfind("HEAD ", 0) == 0 || post) {
    auto start = request.find(' ') + 1;
    path = request.substr(start, request.find(' ', start) - start);
    if (auto q = path.find('?'); q != std::string::npos) {
      query = path.substr(q + 1);
      path = path.substr(0, q);
    }
  }
  std::string mode = CurrentMode();
  if (mode == "crash") {
    Log("mode crash: exiting with status 3");
    _exit(3);
  }
  if (mode == "hang") {
    // Hold the connection and never answer, like a wedged nginx upstream,
    // until the client gives up (then its thread ends: a hung PMM under a
    // workload must not run out of threads and crash instead).
    pollfd p{fd, POLLRDHUP, 0};
    while (poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    close(fd);
    return;
  }
  if (path == "/v1/readyz" || path == "/v1/server/readyz" || path == "/ping") {
    if (mode == "503") {
      Send(fd, 503, "Service Unavailable", "<html>PMM Server is updating</html>");
    } else if (Ready() && mode != "500") {
      Send(fd, 200, "OK", "{}");
    } else {
      Send(fd, 500, "Internal Server Error",
           "{\"code\":13,\"message\":\"PMM Server is not ready yet.\"}");
    }
  } else if (path == "/v1/server/leaderHealthCheck") {
    if (IsLeader()) {
      Send(fd, 200, "OK", "{}");
    } else {
      Send(fd, 400, "Bad Request", "{\"code\":9,\"message\":\"this PMM Server isn't the leader\"}");
    }
  } else if (path == "/v1/test/write" && post) {
    // A PMM that answers 500 (or 503) answers its API so too: nothing written.
    if (mode == "500") {
      Send(fd, 500, "Internal Server Error", "{\"code\":13,\"message\":\"internal error\"}");
    } else if (mode == "503") {
      Send(fd, 503, "Service Unavailable", "<html>PMM Server is updating</html>");
    } else {
      Write(fd, query);
    }
  } else if (path == "/v1/test/writes") {
    std::lock_guard<std::mutex> lock(writes_mutex);
    Send(fd, 200, "OK", ReadFile(db_dir + "/writes.log") + "\n");
  } else if (path == "/v1/version") {
    Send(fd, 200, "OK", "{\"version\":\"3.0.0-standin\"}");
  } else {
    Send(fd, 404, "Not Found", "{\"code\":5,\"message\":\"Not Found\"}");
  }
  close(fd);
}

void Listen(int port) {
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int family = AF_INET6;
  if (fd < 0) {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    family = AF_INET;
  }
  int one = 1, zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc;
  if (family == AF_INET6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_any;
    addr.sin6_port = htons(static_cast<uint16_t>(port));
    rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } else {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  if (rc != 0 || listen(fd, 64) != 0) {
    Log("cannot listen on port " + std::to_string(port) + ": " + std::strerror(errno));
    _exit(2);
  }
  std::thread([fd] {
    for (;;) {
      int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) std::thread(Serve, c).detach();
    }
  }).detach();
}

// --- HA: leader election among the stand-ins ---------------------------------

std::optional<sockaddr_in> Ipv4(const std::string& text, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, text.c_str(), &addr.sin_addr) != 1) return std::nullopt;
  return addr;
}

// A peer's address: an IPv4 literal, or a name's first IPv4 address in
// /etc/hosts (podman and docker write the container's, --add-host entries
// included; a static binary has no NSS to ask DNS).
std::optional<sockaddr_in> Resolve(const std::string& peer, int port) {
  if (auto addr = Ipv4(peer, port)) return addr;
  std::string hosts = ReadFile(Env("STANDIN_HOSTS", "/etc/hosts"));
  for (std::size_t pos = 0; pos < hosts.size();) {
    std::size_t end = std::min(hosts.find('\n', pos), hosts.size());
    std::string line = hosts.substr(pos, std::min(hosts.find('#', pos), end) - pos);
    pos = end + 1;
    std::vector<std::string> words;
    for (std::size_t w = 0; (w = line.find_first_not_of(" \t", w)) != std::string::npos;) {
      std::size_t e = std::min(line.find_first_of(" \t", w), line.size());
      words.push_back(line.substr(w, e - w));
      w = e;
    }
    for (std::size_t k = 1; k < words.size(); ++k) {
      if (words[k] != peer) continue;
      if (auto addr = Ipv4(words[0], port)) return addr;
    }
  }
  return std::nullopt;
}

// Reads the HA environment; false (and a log line) when it does not add up:
// a node that cannot place itself among its peers must not elect anyone.
bool ConfigureHa() {
  std::string enable = Env("PMM_HA_ENABLE", "0");
  ha.enabled = enable == "1" || enable == "true";
  if (Env("STANDIN_HA", "read") == "ignore") {
    // An image without HA does not read PMM_HA_* at all.
    if (ha.enabled) Log("STANDIN_HA=ignore: PMM_HA_* ignored, as by an image without HA");
    ha.enabled = false;
  }
  if (!ha.enabled) return true;
  ha.node_id = Env("PMM_HA_NODE_ID", "");
  ha.port = std::atoi(Env("PMM_HA_RAFT_PORT", "9097").c_str());
  std::string self = Env("PMM_HA_ADVERTISE_ADDRESS", "");
  std::string peers = Env("PMM_HA_PEERS", "");
  if (ha.node_id.empty() || ha.node_id.find_first_of(" \t\n") != std::string::npos) {
    Log("PMM_HA_NODE_ID must be set, without blanks");
    return false;
  }
  if (ha.port <= 0 || ha.port > 65535) {
    Log("PMM_HA_RAFT_PORT is not a port: " + Env("PMM_HA_RAFT_PORT", ""));
    return false;
  }
  auto self_addr = Ipv4(self, ha.port);
  if (!self_addr) {
    // memberlist takes only an IP address to advertise: HA does not start.
    Log("HA: cannot start: PMM_HA_ADVERTISE_ADDRESS '" + self +
        "' is not an IP address; this node will not lead");
    ha.broken = true;
    return true;
  }
  bool found = false;
  for (std::size_t pos = 0; pos < peers.size();) {
    std::size_t comma = peers.find(',', pos);
    if (comma == std::string::npos) comma = peers.size();
    std::string peer = peers.substr(pos, comma - pos);
    auto addr = Resolve(peer, ha.port);
    if (!addr) Log("PMM_HA_PEERS: '" + peer + "' does not resolve to an IPv4 address");
    if (addr && addr->sin_addr.s_addr == self_addr->sin_addr.s_addr && !found) {
      ha.self = ha.peers.size();
      found = true;
    }
    ha.peers.push_back(addr);
    pos = comma + 1;
  }
  if (!found) {
    Log("PMM_HA_ADVERTISE_ADDRESS '" + self + "' is not in PMM_HA_PEERS '" + peers + "'");
    return false;
  }
  return true;
}

// The election port: one line with this node's state per connection. Short
// enough to write from the accept loop; the peer closes after 150 ms anyway.
void ListenElection() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = *ha.peers[ha.self];
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 64) != 0) {
    Log("cannot listen on the election port " + std::to_string(ha.port) + ": " +
        std::strerror(errno));
    _exit(2);
  }
  std::thread([fd] {
    for (;;) {
      int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (c < 0) continue;
      std::string line = ha.node_id + (eligible ? " 1" : " 0") + (leading ? " 1" : " 0");
      if (Clock::now().time_since_epoch().count() < handover_until) line += " handover";
      line += "\n";
      send(c, line.data(), line.size(), MSG_NOSIGNAL);
      close(c);
    }
  }).detach();
}

// One peer's answer to a round.
struct PeerState {
  std::size_t index;  // in PMM_HA_PEERS
  std::string id;
  bool eligible;
  bool leader;
  bool handover;  // it gave up the lead a moment ago, handing it over
};

// A question in flight to one peer.
struct Probe {
  std::size_t index;
  int fd;
  bool connected = false;
  std::string reply;
};

void Finish(Probe& p) {
  close(p.fd);
  p.fd = -1;
}

// Advances a probe whose socket poll() reported ready.
void Step(Probe& p) {
  if (!p.connected) {
    int error = 0;
    socklen_t len = sizeof error;
    if (getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) return Finish(p);
    p.connected = true;
    return;
  }
  char buf[256];
  ssize_t n = recv(p.fd, buf, sizeof buf, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n > 0) p.reply.append(buf, static_cast<std::size_t>(n));
  if (n <= 0 || p.reply.find('\n') != std::string::npos) Finish(p);
}

std::optional<PeerState> ParseReply(std::size_t index, const std::string& reply) {
  if (reply.find('\n') == std::string::npos) return std::nullopt;  // cut short
  char id[128];
  char extra[16] = "";
  int is_eligible = 0, is_leader = 0;
  if (std::sscanf(reply.c_str(), "%127s %d %d %15s", id, &is_eligible, &is_leader, extra) < 3) {
    return std::nullopt;
  }
  return PeerState{index, id, is_eligible == 1, is_leader == 1,
                   std::string_view(extra) == "handover"};
}

// Asks every other peer at once, so that dead peers cost one timeout per
// round, not one each. Returns those that answered, in PMM_HA_PEERS order.
std::vector<PeerState> AskPeers() {
  std::vector<Probe> probes;
  for (std::size_t i = 0; i < ha.peers.size(); ++i) {
    if (i == ha.self || !ha.peers[i]) continue;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    const sockaddr_in& addr = *ha.peers[i];
    if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 &&
        errno != EINPROGRESS) {
      close(fd);
      continue;
    }
    probes.push_back(Probe{i, fd, false, {}});
  }
  auto deadline = Clock::now() + kProbeTimeout;
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<Probe*> owners;
    for (auto& p : probes) {
      if (p.fd < 0) continue;
      fds.push_back(pollfd{p.fd, static_cast<short>(p.connected ? POLLIN : POLLOUT), 0});
      owners.push_back(&p);
    }
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (fds.empty() || left.count() <= 0) break;
    if (poll(fds.data(), fds.size(), static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents != 0) Step(*owners[k]);
    }
  }
  std::vector<PeerState> answered;
  for (auto& p : probes) {
    if (p.fd >= 0) Finish(p);
    if (auto state = ParseReply(p.index, p.reply)) answered.push_back(*state);
  }
  return answered;
}

// Rewrites leader-view when this node's view changed. Caller holds
// election_mutex.
void WriteView(const std::string& leader_id) {
  std::string view =
      "leader=" + leader_id + " self=" + ha.node_id + " eligible=" + (eligible ? "1" : "0") + "\n";
  if (view == last_view) return;
  last_view = view;
  WriteFileSync(state_dir + "/leader-view", view);
}

// A change of leadership: logged, and appended to ha-events ("MS BOOT
// MESSAGE" per line, epoch ms), which outlives the container's log (a fenced
// node's container is made anew), for tests to read afterwards. Caller holds
// election_mutex.
void HaEvent(const std::string& message) {
  Log(message);
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  std::string line =
      std::to_string(now_ms.count()) + " " + std::to_string(boot_number) + " " + message + "\n";
  int fd =
      open((state_dir + "/ha-events").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (write(fd, line.data(), line.size()) < 0) Log("cannot append to ha-events");
  close(fd);
}

// Whether no eligible peer that answered comes before this node.
bool FirstEligible(const std::vector<PeerState>& answered) {
  for (const auto& p : answered) {
    if (p.eligible && p.index < ha.self) return false;
  }
  return true;
}

// A follower's heartbeat timeout: when it last heard from a leader (or
// stopped leading, or started), and how long it waits from then, drawn anew
// each time between kHeartbeatTimeout and twice it, as Raft's followers do.
struct HeartbeatTimer {
  Clock::time_point heard;
  Clock::duration timeout;
  void Reset(Clock::time_point now) {
    static std::minstd_rand random(std::random_device{}());
    heard = now;
    timeout = kHeartbeatTimeout + std::chrono::milliseconds(
                                      random() % static_cast<unsigned>(kHeartbeatTimeout.count()));
  }
  bool Expired(Clock::time_point now) const { return now - heard >= timeout; }
};

// Gives up the leadership; `handover`: of its own will (Raft's leadership
// transfer), which the followers hear of. Caller holds election_mutex.
void GiveUp(bool handover, const std::string& why) {
  leading = false;
  if (handover) handover_until = (Clock::now() + kHandover).time_since_epoch().count();
  HaEvent("HA: stepping down, " + why);
}

// One round's decision, from the peers' answers. `timer` is this follower's
// heartbeat timeout; quorumless_rounds counts the rounds in a row in which
// this node reached no quorum.
void Decide(const std::vector<PeerState>& answered, HeartbeatTimer& timer, int& quorumless_rounds) {
  std::lock_guard<std::mutex> lock(election_mutex);
  // Checked here, not before asking: SIGTERM may have come during the round.
  const bool stepdown = access((state_dir + "/stepdown").c_str(), F_OK) == 0;
  eligible = Ready() && !stepdown;
  const auto now = Clock::now();
  const std::size_t reachable = answered.size() + 1;
  const bool quorum = reachable > ha.peers.size() / 2;
  quorumless_rounds = quorum ? 0 : quorumless_rounds + 1;
  const PeerState* claimant = nullptr;  // the earliest peer that claims to lead
  for (const auto& p : answered) {
    if (p.leader) {
      claimant = &p;
      break;
    }
  }
  const bool was_leading = leading;
  if (leading && !eligible) {
    GiveUp(stepdown, "no longer eligible");
  } else if (leading && quorumless_rounds >= kLeaseRounds) {
    GiveUp(false, "no quorum: " + std::to_string(reachable) + " of " +
                      std::to_string(ha.peers.size()) + " nodes reachable");
  } else if (leading && claimant != nullptr && claimant->index < ha.self) {
    GiveUp(false, claimant->id + " leads too and comes first");
  }
  if (!leading) {
    bool handed_over = false;
    for (const auto& p : answered) handed_over = handed_over || p.handover;
    if (claimant != nullptr || was_leading) {
      timer.Reset(now);
    } else if ((handed_over || timer.Expired(now)) && eligible && quorum &&
               FirstEligible(answered)) {
      leading = true;
      HaEvent("HA: elected leader among " + std::to_string(reachable) + " reachable nodes");
    }
  }
  WriteView(leading ? ha.node_id : claimant != nullptr ? claimant->id : "");
}

void StartElection() {
  {
    // This boot leads nobody yet.
    std::lock_guard<std::mutex> lock(election_mutex);
    WriteView("");
  }
  ListenElection();
  std::thread([] {
    HeartbeatTimer timer;
    timer.Reset(Clock::now());
    int quorumless_rounds = 0;
    auto next = Clock::now();
    for (;;) {
      Decide(AskPeers(), timer, quorumless_rounds);
      next += kElectionInterval;
      std::this_thread::sleep_until(next);
    }
  }).detach();
}

// SIGTERM: give up the leadership before the shutdown delay, so that another
// node can take over while this one is still flushing.
void StepDownForShutdown() {
  std::lock_guard<std::mutex> lock(election_mutex);
  terminating = true;
  if (!ha.enabled) return;
  eligible = false;
  if (leading) GiveUp(true, "shutting down");
  WriteView("");
}

}  // namespace

int main() {
  started = Clock::now();
  srv_dir = Env("STANDIN_SRV", "/srv");
  state_dir = srv_dir + "/standin";
  db_dir = Env("STANDIN_DB", state_dir.c_str());
  warmup_ms = std::atol(Env("STANDIN_WARMUP_MS", "2000").c_str());
  long stop_delay_ms = std::atol(Env("STANDIN_STOP_DELAY_MS", "0").c_str());
  bool ignore_term = Env("STANDIN_IGNORE_TERM", "0") == "1";
  if (!ConfigureHa()) return 2;
  if (access(srv_dir.c_str(), W_OK) != 0) {
    // What PMM 3's entrypoint says, and does, before anything else.
    Log("FATAL: " + srv_dir + " is not writable for uid " + std::to_string(getuid()) +
        ". Please make sure that it is owned by uid " + std::to_string(getuid()) + " and gid " +
        std::to_string(getgid()) + ".");
    return 1;
  }

  mkdir(state_dir.c_str(), 0755);
  // A crashed leader's view says leader=self: gone before anything slow (the
  // fsyncs below), so that it never outlives its boot (StartElection writes
  // this boot's).
  if (ha.enabled) unlink((state_dir + "/leader-view").c_str());
  long boots = std::atol(ReadFile(state_dir + "/boots").c_str()) + 1;
  boot_number = boots;
  if (!WriteFileSync(state_dir + "/boots", std::to_string(boots) + "\n")) {
    Log("cannot write " + state_dir + "/boots: " + std::strerror(errno));
    return 1;
  }
  unlink((state_dir + "/clean-stop").c_str());
  // When this boot began (epoch ms): with the warm-up, when it turned ready.
  auto epoch_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  WriteFileSync(state_dir + "/started-at", std::to_string(epoch_ms.count()) + "\n");
  Log("boot " + std::to_string(boots) + ", warming up for " + std::to_string(warmup_ms) + " ms");

  // As PID 1 a signal without a handler is ignored: wait for them explicitly.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, nullptr);

  std::string ports = Env("STANDIN_PORTS", "8080");
  for (std::size_t pos = 0; pos < ports.size();) {
    std::size_t comma = ports.find(',', pos);
    if (comma == std::string::npos) comma = ports.size();
    Listen(std::atoi(ports.substr(pos, comma - pos).c_str()));
    pos = comma + 1;
  }
  if (ha.enabled && !ha.broken) StartElection();

  for (;;) {
    int sig = 0;
    sigwait(&set, &sig);
    if (ignore_term && sig == SIGTERM) {
      Log("SIGTERM ignored (STANDIN_IGNORE_TERM=1)");
      continue;
    }
    break;
  }
  StepDownForShutdown();
  Log("SIGTERM: flushing for " + std::to_string(stop_delay_ms) + " ms");
  std::this_thread::sleep_for(std::chrono::milliseconds(stop_delay_ms));
  WriteFileSync(state_dir + "/clean-stop", std::to_string(boots) + "\n");
  Log("stopped cleanly");
  // Not return: the detached threads (HTTP, election) still use the globals
  // that static destruction would tear down under them.
  _exit(0);
}
