// A stand-in for PMM Server, for tests and the demo: the real image cannot be
// pulled here. A static binary that runs as the container's PID 1 and behaves
// like PMM Server where the agents look:
//   GET /v1/readyz, /v1/server/readyz  500 {"code":13,...} while warming up,
//                                      200 {} when ready
//   GET /ping                          as readyz
//   GET /v1/server/leaderHealthCheck   200 when HA is off or this node leads,
//                                      400 on a follower
// It keeps its state in /srv/standin like PMM keeps everything under /srv:
//   boots          a boot counter, incremented at every start (data marker)
//   mode           written by tests to inject failures, read on every request:
//                  ok | 500 | 503 | hang | crash
//   clean-stop     written when a SIGTERM shutdown completed
//   started-at     epoch milliseconds of this boot's start (ready = + warm-up)
//   leader         (HA mode) the node id that leads; see STANDIN_HA_NODE_ID
// Environment: STANDIN_PORTS (comma list, default "80,8080"), STANDIN_WARMUP_MS
// (2000), STANDIN_STOP_DELAY_MS (0: how long SIGTERM shutdown takes, like
// VictoriaMetrics flushing), STANDIN_IGNORE_TERM (1: ignore SIGTERM),
// PMM_HA_ENABLE / PMM_HA_NODE_ID (leader mode), STANDIN_SRV (/srv).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::string srv_dir = "/srv";
std::string state_dir;
Clock::time_point started;
long warmup_ms = 2000;
std::atomic<bool> terminating{false};

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
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            fsync(fd) == 0;
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
  std::string response = "HTTP/1.1 " + std::to_string(code) + " " + reason +
                         "\r\nContent-Type: application/json\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  std::size_t off = 0;
  while (off < response.size()) {
    ssize_t n = send(fd, response.data() + off, response.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

bool IsLeader() {
  if (Env("PMM_HA_ENABLE", "0") != "1" && Env("PMM_HA_ENABLE", "0") != "true") return true;
  return ReadFile(state_dir + "/leader") == Env("PMM_HA_NODE_ID", "");
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
  std::string path;
  if (request.rfind("GET ", 0) == 0 || request.rfind("HEAD ", 0) == 0) {
    auto start = request.find(' ') + 1;
    path = request.substr(start, request.find(' ', start) - start);
    path = path.substr(0, path.find('?'));
  }
  std::string mode = ReadFile(state_dir + "/mode");
  if (mode == "crash") {
    Log("mode crash: exiting with status 3");
    _exit(3);
  }
  if (mode == "hang") {
    // Hold the connection and never answer, like a wedged nginx upstream.
    for (;;) pause();
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

}  // namespace

int main() {
  started = Clock::now();
  srv_dir = Env("STANDIN_SRV", "/srv");
  state_dir = srv_dir + "/standin";
  warmup_ms = std::atol(Env("STANDIN_WARMUP_MS", "2000").c_str());
  long stop_delay_ms = std::atol(Env("STANDIN_STOP_DELAY_MS", "0").c_str());
  bool ignore_term = Env("STANDIN_IGNORE_TERM", "0") == "1";

  mkdir(state_dir.c_str(), 0755);
  long boots = std::atol(ReadFile(state_dir + "/boots").c_str()) + 1;
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

  std::string ports = Env("STANDIN_PORTS", "80,8080");
  for (std::size_t pos = 0; pos < ports.size();) {
    std::size_t comma = ports.find(',', pos);
    if (comma == std::string::npos) comma = ports.size();
    Listen(std::atoi(ports.substr(pos, comma - pos).c_str()));
    pos = comma + 1;
  }

  for (;;) {
    int sig = 0;
    sigwait(&set, &sig);
    if (ignore_term && sig == SIGTERM) {
      Log("SIGTERM ignored (STANDIN_IGNORE_TERM=1)");
      continue;
    }
    break;
  }
  terminating = true;
  Log("SIGTERM: flushing for " + std::to_string(stop_delay_ms) + " ms");
  std::this_thread::sleep_for(std::chrono::milliseconds(stop_delay_ms));
  WriteFileSync(state_dir + "/clean-stop", std::to_string(boots) + "\n");
  Log("stopped cleanly");
  return 0;
}
