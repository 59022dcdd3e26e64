// SPDX-License-Identifier: GPL-2.0-or-later
// The two ways an HttpClient reaches a server. Private to lib/server.
//
// Boost.Beast carries the requests an agent makes on every monitor: plain
// HTTP to an IP address (PMM's readiness endpoint) and the engines' APIs on
// unix sockets. It adds no shared library to the agent. libcurl carries the
// rest (https, host names) and is loaded with dlopen() on first use: linking
// it costs ~12 ms of start-up per run on a small VM (its ~30 libraries),
// more than everything else a monitor does.
#pragma once

#include <memory>
#include <string>

#include "pmmha/server/http.h"

namespace pmmha {

// The parts of an http:// or https:// URL a request needs.
struct HttpUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // as written, IPv6 without the brackets
  int port = 0;        // the scheme's default when the URL has none
  std::string target;  // path and query, "/" at least
};

// Fails with the reason when `url` is not an absolute http(s) URL.
Result<HttpUrl> ParseHttpUrl(const std::string& url);

// Whether `host` is an IPv4 or IPv6 address (without brackets).
bool IsIpLiteral(const std::string& host);

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // `budget` is the time left for the whole exchange (connect, send, read).
  virtual Result<HttpResponse> Send(const HttpRequest& request, const HttpUrl& url,
                                    std::chrono::milliseconds budget) = 0;
};

// Plain HTTP/1.1 over TCP to an IP literal, or over request.unix_socket.
std::unique_ptr<HttpTransport> MakeBeastTransport();
// libcurl, dlopen()ed on the first Send(); that fails with the loader's
// reason when libcurl is not installed.
std::unique_ptr<HttpTransport> MakeCurlTransport();
// Loads libcurl now (once per process): Ok, or kErrInstalled and why not.
Status LoadLibcurl();
// Whether Beast carries requests to `url` (plain HTTP to an IP address).
bool IsPlainHttp(const HttpUrl& url);

}  // namespace pmmha
