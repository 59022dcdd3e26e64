// SPDX-License-Identifier: GPL-2.0-or-later
// The Engine API backend: Docker-compatible REST calls on a unix socket. One
// connection serves every call of an agent run.
#include <fmt/format.h>

#include "pmmha/server/container.h"

namespace pmmha {

namespace {

// The oldest API version both dockerd 20.10+ and podman's compat service speak.
constexpr std::string_view kBase = "http://localhost/v1.40";

// Logs of a container without a TTY come as frames: 1 byte stream, 3 bytes
// padding, 4 bytes big-endian length, then the payload.
std::string Demultiplex(const std::string& body) {
  if (body.size() < 8 || (body[0] != 0 && body[0] != 1 && body[0] != 2) || body[1] != 0) {
    return body;
  }
  std::string out;
  std::size_t pos = 0;
  while (pos + 8 <= body.size()) {
    auto b = [&](std::size_t i) { return static_cast<unsigned char>(body[pos + i]); };
    std::size_t len = (std::size_t(b(4)) << 24) | (std::size_t(b(5)) << 16) |
                      (std::size_t(b(6)) << 8) | std::size_t(b(7));
    pos += 8;
    out.append(body, pos, std::min(len, body.size() - pos));
    pos += len;
  }
  return out;
}

class ApiEngine final : public ContainerEngine {
 public:
  ApiEngine(EngineKind kind, std::string socket, HttpClient& http,
            std::unique_ptr<ContainerEngine> cli)
      : kind_(kind), socket_(std::move(socket)), http_(http), cli_(std::move(cli)) {}

  EngineKind kind() const override { return kind_; }
  std::string Describe() const override {
    return fmt::format("{} API at {}", EngineName(kind_), socket_);
  }

  Result<ContainerInfo> Inspect(const std::string& name, const Deadline& deadline) override {
    auto r = Call("GET", fmt::format("/containers/{}/json", name), deadline);
    if (!r) return CliInstead(r.status()) ? cli_->Inspect(name, deadline) : r.status();
    if (r->status == 404) return ContainerInfo{};
    if (r->status != 200) return Failure("inspect", *r);
    return ParseContainerInspect(r->body);
  }

  Result<bool> HasImage(const std::string& image, const Deadline& deadline) override {
    auto r = Call("GET", fmt::format("/images/{}/json", image), deadline);
    if (!r) return CliInstead(r.status()) ? cli_->HasImage(image, deadline) : r.status();
    if (r->status == 200) return true;
    if (r->status == 404) return false;
    return Failure("image inspect", *r);
  }

  Status Pull(const std::string& image, const Deadline& deadline) override {
    return cli_->Pull(image, deadline);
  }

  Status Run(const std::vector<std::string>& args, const Deadline& deadline) override {
    return cli_->Run(args, deadline);
  }

  Status Start(const std::string& name, const Deadline& deadline) override {
    auto r = Call("POST", fmt::format("/containers/{}/start", name), deadline);
    if (!r) return CliInstead(r.status()) ? cli_->Start(name, deadline) : r.status();
    if (r->status == 204 || r->status == 304) return Status::Ok();
    return Failure("start", *r);
  }

  Status Stop(const std::string& name, std::chrono::seconds grace,
              const Deadline& deadline) override {
    // The engine answers only when the container has stopped: up to `grace`.
    auto r = Call("POST", fmt::format("/containers/{}/stop?t={}", name, grace.count()), deadline,
                  std::chrono::milliseconds(deadline.Remaining()));
    if (!r) return CliInstead(r.status()) ? cli_->Stop(name, grace, deadline) : r.status();
    if (r->status == 204 || r->status == 304 || r->status == 404) return Status::Ok();
    return Failure("stop", *r);
  }

  Status Kill(const std::string& name, const Deadline& deadline) override {
    auto r = Call("POST", fmt::format("/containers/{}/kill", name), deadline);
    if (!r) return CliInstead(r.status()) ? cli_->Kill(name, deadline) : r.status();
    if (r->status == 204 || r->status == 404 || r->status == 409) return Status::Ok();
    // Some engines answer 500 for "not running": believe the state, not the code.
    auto info = Inspect(name, deadline);
    if (info && info->state != ContainerState::kRunning &&
        info->state != ContainerState::kStopping) {
      return Status::Ok();
    }
    return Failure("kill", *r);
  }

  Status Remove(const std::string& name, const Deadline& deadline) override {
    // v=0: never the volumes.
    auto r = Call("DELETE", fmt::format("/containers/{}?force=1&v=0", name), deadline);
    if (!r) return CliInstead(r.status()) ? cli_->Remove(name, deadline) : r.status();
    if (r->status == 204 || r->status == 200 || r->status == 404) return Status::Ok();
    return Failure("remove", *r);
  }

  Status RemoveFromStorage(const std::string& name, const Deadline& deadline) override {
    return cli_->RemoveFromStorage(name, deadline);
  }

  Result<std::string> Logs(const std::string& name, int lines, const Deadline& deadline) override {
    auto r = Call("GET", fmt::format("/containers/{}/logs?stdout=1&stderr=1&tail={}", name, lines),
                  deadline);
    if (!r) return r.status();
    if (r->status != 200) return Failure("logs", *r);
    return Demultiplex(r->body);
  }

 private:
  // Podman's API service is a front for podman's own storage, which its CLI
  // reads as well: when the service does not answer (killed, not started
  // again yet), the CLI does the same work. Dockerd's CLI would ask the
  // same dead daemon.
  bool CliInstead(const Status& why) const { return kind_ == EngineKind::kPodman && !why.ok(); }

  Result<HttpResponse> Call(const char* method, const std::string& path, const Deadline& deadline,
                            std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
    HttpRequest request;
    request.method = method;
    request.url = fmt::format("{}{}", kBase, path);
    request.unix_socket = socket_;
    request.timeout = timeout;
    auto r = http_.Send(request, deadline);
    if (!r) return r.status().Prefixed(fmt::format("{} API at {}", EngineName(kind_), socket_));
    return r;
  }

  Status Failure(std::string_view what, const HttpResponse& r) const {
    std::string body = r.body.substr(0, 200);
    while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.pop_back();
    return Status::Error("{} API {} failed: HTTP {} {}", EngineName(kind_), what, r.status, body);
  }

  EngineKind kind_;
  std::string socket_;
  HttpClient& http_;
  std::unique_ptr<ContainerEngine> cli_;
};

}  // namespace

std::unique_ptr<ContainerEngine> MakeApiEngine(EngineKind kind, std::string socket,
                                               HttpClient& http,
                                               std::unique_ptr<ContainerEngine> cli) {
  return std::make_unique<ApiEngine>(kind, std::move(socket), http, std::move(cli));
}

}  // namespace pmmha
