// SPDX-License-Identifier: GPL-2.0-or-later
// libcurl for what Beast does not carry here (TLS, host names), loaded with
// dlopen() on first use so that agents and monitors that never need it do
// not pay for its ~30 shared libraries at every exec.
#include <dlfcn.h>

#include <algorithm>

#include <curl/curl.h>
#include <fmt/format.h>

#include "http_transport.h"

namespace pmmha {

namespace {

// The soname of libcurl 7.16 and later, whatever TLS library it was built with.
constexpr const char* kLibcurl = "libcurl.so.4";

struct Curl {
  decltype(&curl_global_init) global_init;
  decltype(&curl_easy_init) easy_init;
  decltype(&curl_easy_cleanup) easy_cleanup;
  decltype(&curl_easy_reset) easy_reset;
  decltype(&curl_easy_setopt) easy_setopt;
  decltype(&curl_easy_perform) easy_perform;
  decltype(&curl_easy_getinfo) easy_getinfo;
  decltype(&curl_easy_strerror) easy_strerror;
  decltype(&curl_slist_append) slist_append;
  decltype(&curl_slist_free_all) slist_free_all;
};

// Never unloaded: libcurl's TLS libraries do not like being dlclose()d.
Result<const Curl*> LoadCurl() {
  static Curl curl;
  static std::string error;
  static bool loaded = false;
  if (loaded) return &curl;
  if (!error.empty()) return Status::NotInstalled(error);
  void* lib = dlopen(kLibcurl, RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    error = fmt::format("libcurl is needed for this URL but cannot be loaded: {}", dlerror());
    return Status::NotInstalled(error);
  }
  bool ok = true;
  auto sym = [&](auto& fn, const char* name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
    if (fn == nullptr) ok = false;
  };
  sym(curl.global_init, "curl_global_init");
  sym(curl.easy_init, "curl_easy_init");
  sym(curl.easy_cleanup, "curl_easy_cleanup");
  sym(curl.easy_reset, "curl_easy_reset");
  sym(curl.easy_setopt, "curl_easy_setopt");
  sym(curl.easy_perform, "curl_easy_perform");
  sym(curl.easy_getinfo, "curl_easy_getinfo");
  sym(curl.easy_strerror, "curl_easy_strerror");
  sym(curl.slist_append, "curl_slist_append");
  sym(curl.slist_free_all, "curl_slist_free_all");
  if (!ok) {
    error = fmt::format("{} lacks a function this agent needs", kLibcurl);
    return Status::NotInstalled(error);
  }
  curl.global_init(CURL_GLOBAL_DEFAULT);
  loaded = true;
  return &curl;
}

}  // namespace

Status LoadLibcurl() {
  auto loaded = LoadCurl();
  return loaded ? Status::Ok() : loaded.status();
}

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

class CurlTransport final : public HttpTransport {
 public:
  ~CurlTransport() override {
    if (handle_ != nullptr) curl_->easy_cleanup(handle_);
  }

  Result<HttpResponse> Send(const HttpRequest& request, const HttpUrl&,
                            std::chrono::milliseconds budget) override {
    if (curl_ == nullptr) {
      auto loaded = LoadCurl();
      if (!loaded) return loaded.status();
      curl_ = *loaded;
      handle_ = curl_->easy_init();
    }
    if (handle_ == nullptr) return Status::Error("libcurl initialisation failed");
    const Curl& c = *curl_;
    HttpResponse response;
    Sink sink{&response.body, request.body_cap};
    CURL* h = handle_;
    c.easy_reset(h);
    c.easy_setopt(h, CURLOPT_URL, request.url.c_str());
    c.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM games in the agent
    c.easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(budget.count()));
    c.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(budget.count()));
    c.easy_setopt(h, CURLOPT_WRITEFUNCTION, Collect);
    c.easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    c.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85: the string form; older ones only have the mask
    c.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    c.easy_setopt(h, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    c.easy_setopt(h, CURLOPT_NOPROXY, "*");  // a proxy must never see health checks
    c.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, request.tls_verify ? 1L : 0L);
    c.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, request.tls_verify ? 2L : 0L);
    if (!request.unix_socket.empty()) {
      c.easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, request.unix_socket.c_str());
    }
    if (request.method == "HEAD") {
      c.easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (request.method != "GET") {
      c.easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      c.easy_setopt(h, CURLOPT_POSTFIELDS, request.body.c_str());
      c.easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
    }
    curl_slist* headers = nullptr;
    for (const auto& header : request.headers) headers = c.slist_append(headers, header.c_str());
    if (headers != nullptr) c.easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    CURLcode rc = c.easy_perform(h);
    if (headers != nullptr) c.slist_free_all(headers);
    if (rc != CURLE_OK) {
      std::string what = rc == CURLE_OPERATION_TIMEDOUT
                             ? fmt::format("timed out after {} ms", budget.count())
                             : std::string(c.easy_strerror(rc));
      return Status::Error("{} {}: {}", request.method, request.url, what);
    }
    c.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
  }

 private:
  const Curl* curl_ = nullptr;
  CURL* handle_ = nullptr;
};

}  // namespace

std::unique_ptr<HttpTransport> MakeCurlTransport() { return std::make_unique<CurlTransport>(); }

}  // namespace pmmha
