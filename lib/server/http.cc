// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/server/http.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "http_transport.h"

namespace pmmha {

Result<HttpUrl> ParseHttpUrl(const std::string& url) {
  HttpUrl u;
  auto sep = url.find("://");
  if (sep == std::string::npos) return Status::NotConfigured("not an absolute URL");
  u.scheme = url.substr(0, sep);
  if (u.scheme != "http" && u.scheme != "https") {
    return Status::NotConfigured("unsupported scheme '{}'", u.scheme);
  }
  auto rest = std::string_view(url).substr(sep + 3);
  auto slash = rest.find_first_of("/?");
  auto authority = rest.substr(0, slash);
  if (slash == std::string_view::npos) {
    u.target = "/";
  } else {
    u.target = rest[slash] == '?' ? "/" : "";
    u.target.append(rest.substr(slash));
  }
  if (authority.find('@') != std::string_view::npos) {
    return Status::NotConfigured("user information in the URL is not supported");
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return Status::NotConfigured("unclosed '['");
    u.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      return Status::NotConfigured("junk after ']'");
    }
    if (!after.empty()) port = after.substr(1);
  } else {
    auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return Status::NotConfigured("no host");
  u.port = u.scheme == "https" ? 443 : 80;
  if (!port.empty()) {
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), u.port);
    if (ec != std::errc() || end != port.data() + port.size() || u.port < 1 || u.port > 65535) {
      return Status::NotConfigured("bad port '{}'", port);
    }
  }
  return u;
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool IsPlainHttp(const HttpUrl& url) { return url.scheme == "http" && IsIpLiteral(url.host); }

Status CheckHttpSupport(const std::string& url) {
  auto u = ParseHttpUrl(url);
  if (!u) return u.status().Prefixed(fmt::format("'{}'", url));
  if (IsPlainHttp(*u)) return Status::Ok();
  return LoadLibcurl();
}

namespace {

class Client final : public HttpClient {
 public:
  Result<HttpResponse> Send(const HttpRequest& request, const Deadline& deadline) override {
    auto url = ParseHttpUrl(request.url);
    if (!url) return url.status().Prefixed(fmt::format("'{}'", request.url));
    auto budget = std::min(request.timeout, deadline.Remaining());
    if (budget.count() <= 0) {
      return Status::Error("{} {}: no time left", request.method, request.url);
    }
    bool plain = !request.unix_socket.empty() || IsPlainHttp(*url);
    auto& transport = plain ? beast_ : curl_;
    if (!transport) transport = plain ? MakeBeastTransport() : MakeCurlTransport();
    return transport->Send(request, *url, budget);
  }

 private:
  std::unique_ptr<HttpTransport> beast_;
  std::unique_ptr<HttpTransport> curl_;
};

}  // namespace

std::unique_ptr<HttpClient> MakeHttpClient() { return std::make_unique<Client>(); }

}  // namespace pmmha
