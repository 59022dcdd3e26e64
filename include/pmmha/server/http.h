// SPDX-License-Identifier: GPL-2.0-or-later
// HTTP requests: PMM's readiness endpoints over TCP and the container
// engines' APIs over their unix sockets. Plain HTTP to an IP address and unix
// sockets go through Boost.Beast; https and host names through libcurl,
// loaded on first use (see lib/server/http_transport.h for why).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "pmmha/core/deadline.h"
#include "pmmha/core/status.h"

namespace pmmha {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::string unix_socket;  // non-empty: connect here instead of the URL's host
  bool tls_verify = false;  // PMM ships a self-signed certificate
  // Per-request limit; the call never outlives the deadline either.
  std::chrono::milliseconds timeout{10000};
  std::string body;
  std::vector<std::string> headers;
  std::size_t body_cap = 1 << 20;  // bytes of response body kept
};

struct HttpResponse {
  long status = 0;
  std::string body;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // On success the server answered (any status). Fails with kErrGeneric and
  // a reason ("connection refused", "timed out after 2000 ms") otherwise.
  virtual Result<HttpResponse> Send(const HttpRequest& request, const Deadline& deadline) = 0;
};

// Whether requests to `url` can be made here: Ok for plain HTTP to an IP
// address; for https and host names, whether libcurl loads (kErrInstalled
// with the loader's reason when it does not). For validation, so that a
// missing libcurl is a configuration error, not a PMM that never gets ready.
Status CheckHttpSupport(const std::string& url);

// The client agents use. Each request opens its own connection.
std::unique_ptr<HttpClient> MakeHttpClient();

}  // namespace pmmha
