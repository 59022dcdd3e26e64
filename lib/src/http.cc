#include "pmmha/http.h"

#include <curl/curl.h>

#include <algorithm>

#include <fmt/format.h>

namespace pmmha {

namespace {

struct Sink {
  std::string* body;
  std::size_t cap;
};

std::size_t Collect(char* data, std::size_t size, std::size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  std::size_t len = size * n;
  std::size_t room = sink->cap > sink->body->size() ? sink->cap - sink->body->size() : 0;
  sink->body->append(data, std::min(len, room));
  return len;  // keep reading; the excess is dropped, not an error
}

class CurlClient final : public HttpClient {
 public:
  CurlClient() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    handle_ = curl_easy_init();
  }
  ~CurlClient() override {
    if (handle_ != nullptr) curl_easy_cleanup(handle_);
  }

  Result<HttpResponse> Send(const HttpRequest& request, const Deadline& deadline) override {
    if (handle_ == nullptr) return Status(ExitCode::kErrGeneric, "libcurl initialisation failed");
    auto budget = std::min(request.timeout, deadline.Remaining());
    if (budget.count() <= 0) {
      return Status(ExitCode::kErrGeneric,
                    fmt::format("{} {}: no time left", request.method, request.url));
    }
    HttpResponse response;
    Sink sink{&response.body, request.body_cap};
    CURL* h = handle_;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM games in the agent
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(budget.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(budget.count()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85: the string form; older ones only have the mask
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");  // a proxy must never see health checks
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, request.tls_verify ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, request.tls_verify ? 2L : 0L);
    if (!request.unix_socket.empty()) {
      curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, request.unix_socket.c_str());
    }
    if (request.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (request.method != "GET") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
    }
    curl_slist* headers = nullptr;
    for (const auto& header : request.headers) headers = curl_slist_append(headers, header.c_str());
    if (headers != nullptr) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    CURLcode rc = curl_easy_perform(h);
    if (headers != nullptr) curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
      std::string what = rc == CURLE_OPERATION_TIMEDOUT
                             ? fmt::format("timed out after {} ms", budget.count())
                             : std::string(curl_easy_strerror(rc));
      return Status(ExitCode::kErrGeneric,
                    fmt::format("{} {}: {}", request.method, request.url, what));
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
  }

 private:
  CURL* handle_ = nullptr;
};

}  // namespace

std::unique_ptr<HttpClient> MakeHttpClient() { return std::make_unique<CurlClient>(); }

}  // namespace pmmha
