// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/server/http.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>

#include "http_transport.h"

using namespace pmmha;
using std::chrono::milliseconds;

namespace {

// A one-connection HTTP server on loopback or a unix socket: it records the
// request it got and answers with `reply` verbatim, then closes (or, with
// hang, keeps the connection open and silent until it is destroyed).
class CannedServer {
 public:
  CannedServer(std::string reply, bool hang = false, std::string unix_path = "")
      : reply_(std::move(reply)), hang_(hang) {
    if (unix_path.empty()) {
      fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
      socklen_t len = sizeof a;
      getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
      port_ = ntohs(a.sin_port);
    } else {
      fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un a{};
      a.sun_family = AF_UNIX;
      unix_path.copy(a.sun_path, sizeof a.sun_path - 1);
      REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    }
    REQUIRE(listen(fd_, 4) == 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~CannedServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }

  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // The request as the server received it (valid after the client returned).
  std::string request() const { return request_; }

 private:
  void Serve() {
    int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    char buf[4096];
    while (request_.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) break;
      request_.append(buf, static_cast<std::size_t>(n));
    }
    auto header_end = request_.find("\r\n\r\n");
    auto cl = request_.find("Content-Length: ");
    if (header_end != std::string::npos && cl != std::string::npos && cl < header_end) {
      std::size_t want = header_end + 4 + std::stoul(request_.substr(cl + 16));
      while (request_.size() < want) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        request_.append(buf, static_cast<std::size_t>(n));
      }
    }
    if (hang_) {
      while (!stop_) std::this_thread::sleep_for(milliseconds(10));
    } else {
      (void)!write(c, reply_.data(), reply_.size());
    }
    close(c);
  }

  std::string reply_;
  bool hang_;
  int fd_ = -1;
  int port_ = 0;
  std::string request_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

Result<HttpResponse> Get(const std::string& url, milliseconds timeout = milliseconds(5000)) {
  HttpRequest r;
  r.url = url;
  r.timeout = timeout;
  return MakeHttpClient()->Send(r, Deadline::After(milliseconds(10000)));
}

// A port nothing listens on: bound, then closed.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("URLs are split into what a request needs") {
  static const struct {
    const char* url;
    const char* scheme;
    const char* host;
    int port;
    const char* target;
  } cases[] = {
      {"http://127.0.0.1:8080/v1/server/readyz", "http", "127.0.0.1", 8080, "/v1/server/readyz"},
      {"https://10.0.0.5/v1/readyz", "https", "10.0.0.5", 443, "/v1/readyz"},
      {"http://[::1]:80/ping", "http", "::1", 80, "/ping"},
      {"http://[fe80::1]/", "http", "fe80::1", 80, "/"},
      {"http://localhost", "http", "localhost", 80, "/"},
      {"http://pmm.example:8443?x=1", "http", "pmm.example", 8443, "/?x=1"},
  };
  for (const auto& c : cases) {
    INFO(c.url);
    auto u = ParseHttpUrl(c.url);
    REQUIRE(u.ok());
    CHECK(u->scheme == c.scheme);
    CHECK(u->host == c.host);
    CHECK(u->port == c.port);
    CHECK(u->target == c.target);
  }
  for (const char* bad : {"127.0.0.1:8080/x", "ftp://host/", "http://:80/", "http://h:0/",
                          "http://h:99999/", "http://h:8x/", "http://[::1/", "http://u@h/"}) {
    INFO(bad);
    CHECK_FALSE(ParseHttpUrl(bad).ok());
  }
}

TEST_CASE("a response with Content-Length is read over TCP") {
  CannedServer s("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
  auto r = Get(s.url("/v1/server/readyz"));
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body == "{}");
  CHECK(s.request().rfind("GET /v1/server/readyz HTTP/1.1\r\n", 0) == 0);
  CHECK(s.request().find("Host: 127.0.0.1:" + std::to_string(s.port())) != std::string::npos);
}

TEST_CASE("chunked and close-delimited bodies are read whole") {
  CannedServer chunked(
      "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\n{\"cod\r\n7\r\ne\":13}\n\r\n0\r\n\r\n");
  auto r = Get(chunked.url("/v1/readyz"));
  REQUIRE(r.ok());
  CHECK(r->status == 500);
  CHECK(r->body == "{\"code\":13}\n");

  CannedServer closing("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nnot the leader");
  r = Get(closing.url("/v1/server/leaderHealthCheck"));
  REQUIRE(r.ok());
  CHECK(r->status == 400);
  CHECK(r->body == "not the leader");
}

TEST_CASE("a server that accepts and never answers costs the timeout, no more") {
  CannedServer s("", /*hang=*/true);
  auto began = std::chrono::steady_clock::now();
  auto r = Get(s.url("/v1/readyz"), milliseconds(300));
  auto took = std::chrono::steady_clock::now() - began;
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().reason(), Catch::Contains("timed out after 300 ms"));
  CHECK(took >= milliseconds(300));
  CHECK(took < milliseconds(2000));

  // The deadline bounds the request even when its own timeout is longer.
  CannedServer t("", /*hang=*/true);
  HttpRequest req;
  req.url = t.url("/");
  req.timeout = milliseconds(60000);
  began = std::chrono::steady_clock::now();
  r = MakeHttpClient()->Send(req, Deadline::After(milliseconds(200)));
  took = std::chrono::steady_clock::now() - began;
  REQUIRE_FALSE(r.ok());
  CHECK(took < milliseconds(2000));
}

TEST_CASE("connection refused and an expired deadline are failures with a reason") {
  auto r = Get("http://127.0.0.1:" + std::to_string(FreePort()) + "/v1/readyz");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().reason(), Catch::Contains("refused"));

  HttpRequest req;
  req.url = "http://127.0.0.1:1/";
  r = MakeHttpClient()->Send(req, Deadline::Expired());
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().reason(), Catch::Contains("no time left"));

  r = Get("gopher://127.0.0.1/");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().reason(), Catch::Contains("unsupported scheme"));
}

TEST_CASE("the engine API is reached over a unix socket") {
  auto dir = std::filesystem::temp_directory_path() / ("pmmha-http-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / "engine.sock").string();
  {
    CannedServer s("HTTP/1.1 204 No Content\r\nApi-Version: 1.41\r\n\r\n", false, path);
    HttpRequest req;
    req.method = "POST";
    req.url = "http://localhost/v1.40/containers/pmm/stop?t=30";
    req.unix_socket = path;
    auto r = MakeHttpClient()->Send(req, Deadline::After(milliseconds(5000)));
    REQUIRE(r.ok());
    CHECK(r->status == 204);
    CHECK(s.request().rfind("POST /v1.40/containers/pmm/stop?t=30 HTTP/1.1\r\n", 0) == 0);
    CHECK(s.request().find("Content-Length: 0") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a request body and headers are sent, HEAD does not wait for a body") {
  CannedServer s("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
  HttpRequest req;
  req.method = "PUT";
  req.url = s.url("/x");
  req.body = "{\"a\":1}";
  req.headers = {"Content-Type: application/json"};
  auto r = MakeHttpClient()->Send(req, Deadline::After(milliseconds(5000)));
  REQUIRE(r.ok());
  CHECK(r->status == 201);
  CHECK(s.request().find("Content-Type: application/json\r\n") != std::string::npos);
  CHECK(s.request().find("\r\n\r\n{\"a\":1}") != std::string::npos);

  CannedServer head("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", /*hang=*/false);
  req = HttpRequest{};
  req.method = "HEAD";
  req.url = head.url("/ping");
  req.timeout = milliseconds(2000);
  r = MakeHttpClient()->Send(req, Deadline::After(milliseconds(5000)));
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body.empty());
}

TEST_CASE("a large body is cut at the cap the caller set") {
  std::string body(5000, 'x');
  CannedServer s("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + body);
  HttpRequest req;
  req.url = s.url("/logs");
  req.body_cap = 100;
  auto r = MakeHttpClient()->Send(req, Deadline::After(milliseconds(5000)));
  REQUIRE(r.ok());
  CHECK(r->body == std::string(100, 'x'));
}

TEST_CASE("what a URL needs is checked before any request") {
  CHECK(CheckHttpSupport("http://127.0.0.1:8080/v1/server/readyz").ok());
  CHECK(CheckHttpSupport("http://[::1]:8080/ping").ok());
  CHECK(CheckHttpSupport("https://127.0.0.1:8443/v1/server/readyz").ok());  // libcurl is here
  CHECK(CheckHttpSupport("ftp://x/").code() == ExitCode::kErrConfigured);
}

TEST_CASE("a host name goes through libcurl and gets the same answer") {
  CannedServer s("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  auto r = Get("http://localhost:" + std::to_string(s.port()) + "/ping");
  // localhost may resolve to ::1 first; libcurl falls back to 127.0.0.1.
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body == "ok");
  // Beast announces itself as pmm-ha-agents; libcurl sends no User-Agent.
  CHECK(s.request().find("User-Agent") == std::string::npos);
}

namespace {

// openssl s_server -www with a fresh self-signed certificate: the TLS path
// against a real TLS server on loopback.
class TlsServer {
 public:
  TlsServer() {
    dir_ = std::filesystem::temp_directory_path() / ("pmmha-tls-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    auto key = (dir_ / "key.pem").string(), cert = (dir_ / "cert.pem").string();
    REQUIRE(
        Run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-subj", "/CN=pmm-standin", "-days", "1", "-keyout", key, "-out", cert},
            true) == 0);
    port_ = FreePort();
    pid_ = Spawn({"openssl", "s_server", "-quiet", "-www", "-accept",
                  "127.0.0.1:" + std::to_string(port_), "-key", key, "-cert", cert});
    // Ready when it accepts a connection.
    for (int i = 0; i < 200; ++i) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<uint16_t>(port_));
      bool up = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      close(fd);
      if (up) return;
      std::this_thread::sleep_for(milliseconds(25));
    }
    FAIL("openssl s_server did not come up");
  }
  ~TlsServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  static pid_t Spawn(std::vector<std::string> args, bool quiet = true) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (quiet) {
      posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
      posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    }
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
  }
  static int Run(std::vector<std::string> args, bool quiet) {
    pid_t pid = Spawn(std::move(args), quiet);
    int status = -1;
    if (pid > 0) waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("https goes through libcurl, PMM's self-signed certificate passes unless verified") {
  TlsServer tls;
  HttpRequest req;
  req.url = tls.url();
  auto r = MakeHttpClient()->Send(req, Deadline::After(milliseconds(10000)));
  REQUIRE(r.ok());
  CHECK(r->status == 200);

  req.tls_verify = true;
  r = MakeHttpClient()->Send(req, Deadline::After(milliseconds(10000)));
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().reason(), Catch::Contains("certificate"));
}
