// SPDX-License-Identifier: GPL-2.0-or-later
// Plain HTTP/1.1 with Boost.Beast: one connection per request, every step
// (connect, write, read) bounded by the request's budget through the
// stream's timer, so a server that accepts and never answers cannot hold the
// agent past its deadline.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "http_transport.h"

namespace pmmha {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// Beyond this a response is an error, not truncated: nothing we ask for is
// this large (the longest is a container's last log lines).
constexpr std::uint64_t kBodyLimit = 16u << 20;

template <class Protocol>
Result<HttpResponse> Exchange(const typename Protocol::endpoint& endpoint,
                              const HttpRequest& request, const HttpUrl& url,
                              std::chrono::milliseconds budget) {
  auto fail = [&](std::string_view what) {
    return Status::Error("{} {}: {}", request.method, request.url, what);
  };
  auto verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) return fail("unknown method");

  http::request<http::string_body> rq{verb, url.target, 11};
  auto host = url.host.find(':') == std::string::npos ? url.host : fmt::format("[{}]", url.host);
  rq.set(http::field::host, fmt::format("{}:{}", host, url.port));
  rq.set(http::field::user_agent, "pmm-ha-agents");
  for (const auto& header : request.headers) {
    auto colon = header.find(':');
    if (colon == std::string::npos) continue;
    auto value = header.find_first_not_of(' ', colon + 1);
    rq.set(header.substr(0, colon), value == std::string::npos ? "" : header.substr(value));
  }
  if (verb != http::verb::get && verb != http::verb::head) {
    rq.body() = request.body;
    rq.prepare_payload();
  }

  asio::io_context io;
  beast::basic_stream<Protocol, asio::io_context::executor_type> stream(io.get_executor());
  http::response_parser<http::string_body> parser;
  parser.body_limit(kBodyLimit);
  parser.skip(verb == http::verb::head);
  beast::flat_buffer buffer;
  buffer.reserve(64 * 1024);  // read an engine's inspect answer in one go, not 512 bytes a time
  beast::error_code error;

  stream.expires_after(budget);
  stream.async_connect(endpoint, [&](beast::error_code connected) {
    if (connected) {
      error = connected;
      return;
    }
    http::async_write(stream, rq, [&](beast::error_code written, std::size_t) {
      if (written) {
        error = written;
        return;
      }
      http::async_read(stream, buffer, parser,
                       [&](beast::error_code read, std::size_t) { error = read; });
    });
  });
  io.run();

  if (error == beast::error::timeout) {
    return fail(fmt::format("timed out after {} ms", budget.count()));
  }
  if (error) return fail(error.message());
  HttpResponse response;
  response.status = parser.get().result_int();
  response.body = std::move(parser.get().body());
  if (response.body.size() > request.body_cap) response.body.resize(request.body_cap);
  beast::error_code ignored;
  stream.socket().shutdown(Protocol::socket::shutdown_both, ignored);
  return response;
}

class BeastTransport final : public HttpTransport {
 public:
  Result<HttpResponse> Send(const HttpRequest& request, const HttpUrl& url,
                            std::chrono::milliseconds budget) override {
    if (!request.unix_socket.empty()) {
      return Exchange<asio::local::stream_protocol>(
          asio::local::stream_protocol::endpoint(request.unix_socket), request, url, budget);
    }
    beast::error_code ec;
    auto address = asio::ip::make_address(url.host, ec);
    if (ec) {
      return Status::Error("{}: '{}' is not an IP address", request.url, url.host);
    }
    return Exchange<asio::ip::tcp>(
        asio::ip::tcp::endpoint(address, static_cast<unsigned short>(url.port)), request, url,
        budget);
  }
};

}  // namespace

std::unique_ptr<HttpTransport> MakeBeastTransport() { return std::make_unique<BeastTransport>(); }

}  // namespace pmmha
