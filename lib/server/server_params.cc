// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/server/server_params.h"

#include <arpa/inet.h>

#include <cctype>

#include <fmt/format.h>

#include "pmmha/core/text.h"
#include "pmmha/core/words.h"

#include "http_transport.h"

namespace pmmha {

namespace {

bool IsPort(std::string_view s, int* port) {
  auto n = ParseInteger(s);
  if (!n || s.empty() || s.front() == '+' || *n < 1 || *n > 65535) return false;
  if (port != nullptr) *port = static_cast<int>(*n);
  return true;
}

struct Published {
  std::string host_ip;  // empty: all addresses
  int host_port = 0;
  int container_port = 0;
};

std::optional<Published> ParsePublished(std::string_view entry, std::string* why) {
  Published p;
  std::string_view rest = entry;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    auto proto = rest.substr(slash + 1);
    if (proto != "tcp" && proto != "udp" && proto != "sctp") {
      *why = fmt::format("unknown protocol {} in {}", Quote(proto), Quote(entry));
      return std::nullopt;
    }
    rest = rest.substr(0, slash);
  }
  if (!rest.empty() && rest.front() == '[') {  // [ipv6]:host:container
    auto close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      *why = fmt::format("{} is not [IPV6]:HOSTPORT:CONTAINERPORT", Quote(entry));
      return std::nullopt;
    }
    p.host_ip = std::string(rest.substr(1, close - 1));
    in6_addr a6;
    if (inet_pton(AF_INET6, p.host_ip.c_str(), &a6) != 1) {
      *why = fmt::format("{} is not an IPv6 address", Quote(p.host_ip));
      return std::nullopt;
    }
    rest = rest.substr(close + 2);
  }
  std::vector<std::string_view> parts;
  for (std::size_t pos = 0;;) {
    auto colon = rest.find(':', pos);
    parts.push_back(rest.substr(pos, colon - pos));
    if (colon == std::string_view::npos) break;
    pos = colon + 1;
  }
  if (parts.size() == 3 && p.host_ip.empty()) {
    p.host_ip = std::string(parts[0]);
    in_addr a4;
    if (inet_pton(AF_INET, p.host_ip.c_str(), &a4) != 1) {
      *why = fmt::format("{} is not an IPv4 address", Quote(p.host_ip));
      return std::nullopt;
    }
    parts.erase(parts.begin());
  }
  if (parts.size() != 2 || !IsPort(parts[0], &p.host_port) ||
      !IsPort(parts[1], &p.container_port)) {
    *why = fmt::format("{} is not [IP:]HOSTPORT:CONTAINERPORT with ports 1-65535", Quote(entry));
    return std::nullopt;
  }
  return p;
}

}  // namespace

std::optional<std::string> CheckContainerName(std::string_view v) {
  // The rule docker and podman apply; it also keeps the name safe in API URLs.
  if (v.empty() || !std::isalnum(static_cast<unsigned char>(v.front()))) {
    return std::string("must start with a letter or digit");
  }
  for (char c : v) {
    if (!IsNameChar(c)) {
      return fmt::format("may contain only letters, digits, '_', '.' and '-', not '{}'", c);
    }
  }
  if (v.size() > 128) return std::string("is longer than 128 characters");
  return std::nullopt;
}

std::vector<std::string> SplitPublish(std::string_view value) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : value) {
    if (c == ',' || c == ' ' || c == '\t') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::optional<std::string> CheckPublish(std::string_view value) {
  auto entries = SplitPublish(value);
  if (entries.empty()) return std::string("lists no port mapping");
  for (const auto& e : entries) {
    std::string why;
    if (!ParsePublished(e, &why)) return why;
  }
  return std::nullopt;
}

Result<std::vector<std::string>> ParseEnvList(std::string_view value) {
  auto words = SplitWords(value);
  if (!words) return words.status();
  for (std::size_t i = 0; i < words->size(); ++i) {
    const std::string& w = (*words)[i];
    auto eq = w.find('=');
    // Values may be secrets, and a word without '=' may be one: name at most
    // the variable, and only when it is clearly one.
    if (eq == std::string::npos) {
      return Status::NotConfigured("entry {} is not NAME=VALUE (it has no '=')", i + 1);
    }
    std::string_view name = std::string_view(w).substr(0, eq);
    bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name.front()));
    for (char c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') valid = false;
    }
    if (!valid) {
      return Status::NotConfigured(
          "entry {} is not NAME=VALUE (the name has characters other "
          "than letters, digits and '_')",
          i + 1);
    }
  }
  return words;
}

std::optional<std::string> CheckEnvList(std::string_view value) {
  auto env = ParseEnvList(value);
  if (!env) return env.status().reason();
  return std::nullopt;
}

std::optional<std::string> CheckRunOpts(std::string_view value) {
  auto words = SplitWords(value);
  if (!words) return words.status().reason();
  for (const auto& w : *words) {
    for (std::string_view owned : {"--name", "--detach", "-d", "--rm"}) {
      if (w == owned || w.rfind(std::string(owned) + "=", 0) == 0) {
        return fmt::format("{} is set by the agent and may not be in run_opts", owned);
      }
    }
  }
  return std::nullopt;
}

Status CheckRunOptsForCreate(const std::vector<std::string>& run_opts) {
  for (std::size_t i = 0; i < run_opts.size(); ++i) {
    std::string_view w = run_opts[i];
    if (w == "--stop-timeout" || w.rfind("--stop-timeout=", 0) == 0) {
      return Status::NotConfigured(
          "run_opts may not set --stop-timeout: the agent creates the container with "
          "--stop-timeout from stop_grace; set stop_grace instead");
    }
    std::optional<std::string_view> policy;
    if (w == "--restart") {
      policy = i + 1 < run_opts.size() ? std::string_view(run_opts[i + 1]) : std::string_view();
    } else if (w.rfind("--restart=", 0) == 0) {
      policy = w.substr(std::string_view("--restart=").size());
    }
    if (policy && *policy != "no") {
      return Status::NotConfigured(
          "run_opts may not set the restart policy {}: the engine would restart PMM "
          "outside the cluster (after a crash or a fence, without the require_mount "
          "check) while the cluster runs it elsewhere; the agent creates the container "
          "with --restart no and the cluster restarts it",
          Quote(*policy));
    }
  }
  return Status::Ok();
}

bool RunOptsSetUser(const std::vector<std::string>& run_opts) {
  for (std::string_view w : run_opts) {
    if (w == "-u" || (w.rfind("-u", 0) == 0 && w.rfind("--", 0) != 0)) return true;
    for (std::string_view opt : {"--user", "--userns", "--uidmap"}) {
      if (w == opt || w.rfind(std::string(opt) + "=", 0) == 0) return true;
    }
  }
  return false;
}

Status CheckCloneMode(const MetaAttributes& meta, bool ha) {
  if ((!meta.clone && meta.clone_max == 0) || meta.promotable || ha) return Status::Ok();
  return Status::NotConfigured(
      "pmm-server runs as a clone with ha=false: every instance would run its own PMM "
      "on one data set and corrupt it; run it as a primitive (in a group with its "
      "storage), or as a promotable clone with ha=true for PMM 3 HA");
}

std::optional<std::string> CheckFsUuid(std::string_view value) {
  int digits = 0;
  for (char c : value) {
    if (std::isxdigit(static_cast<unsigned char>(c))) {
      ++digits;
    } else if (c != '-') {
      return std::string("is not a filesystem UUID (hex digits and '-', as blkid shows it)");
    }
  }
  if (digits != 32) return fmt::format("has {} hex digits, a filesystem UUID has 32", digits);
  return std::nullopt;
}

std::optional<std::string> CheckHealthUrl(std::string_view v) {
  if (v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0) {
    return std::string("must be an http:// or https:// URL");
  }
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '\'' || c == '\\') return std::string("is not a valid URL");
  }
  return std::nullopt;
}

std::optional<std::string> CheckDataDir(std::string_view v) {
  if (v.empty() || v.front() != '/') return std::string("must be an absolute path");
  if (v == "/") return std::string("must not be the root directory");
  if (v.find(':') != std::string_view::npos || v.find(',') != std::string_view::npos) {
    return std::string("must not contain ':' or ',' (volume syntax)");
  }
  if (v.find("/../") != std::string_view::npos ||
      (v.size() >= 3 && v.substr(v.size() - 3) == "/..")) {
    return std::string("must not contain '..'");
  }
  return std::nullopt;
}

std::string ResourceNameOf(std::string_view instance) {
  auto colon = instance.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == instance.size()) {
    return std::string(instance);
  }
  for (char c : instance.substr(colon + 1)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::string(instance);
  }
  return std::string(instance.substr(0, colon));
}

Result<std::vector<HaPeer>> ParseHaPeers(std::string_view value) {
  std::vector<HaPeer> peers;
  std::size_t pos = 0;
  while (pos <= value.size()) {
    auto end = value.find(',', pos);
    if (end == std::string_view::npos) end = value.size();
    auto entry = value.substr(pos, end - pos);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    pos = end + 1;
    if (entry.empty()) {
      if (end == value.size() && !peers.empty()) break;  // a trailing comma
      return Status::NotConfigured("an empty entry");
    }
    HaPeer peer;
    auto eq = entry.find('=');
    if (eq != std::string_view::npos) {
      peer.node = std::string(entry.substr(0, eq));
      entry.remove_prefix(eq + 1);
      if (peer.node.empty())
        return Status::NotConfigured("an entry without a node name before '='");
    }
    peer.address = std::string(entry);
    bool ip = IsIpLiteral(peer.address);
    bool name = !peer.address.empty() && peer.address.size() <= 253 &&
                peer.address.find_first_not_of(
                    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") ==
                    std::string::npos;
    if (!ip && !name) {
      return Status::NotConfigured(
          "{} is not an IP address or host name (no ports: they are "
          "ha_raft_port and the gossip ports)",
          Quote(peer.address));
    }
    for (const auto& other : peers) {
      if (other.address == peer.address)
        return Status::NotConfigured("{} twice", Quote(peer.address));
      if (!peer.node.empty() && other.node == peer.node) {
        return Status::NotConfigured("node {} twice", Quote(peer.node));
      }
    }
    peers.push_back(std::move(peer));
  }
  if (peers.empty()) return Status::NotConfigured("no peers");
  return peers;
}

std::optional<std::string> CheckHaPeers(std::string_view value) {
  auto peers = ParseHaPeers(value);
  if (!peers) return peers.status().reason();
  return std::nullopt;
}

std::optional<std::string> CheckHaAddress(std::string_view value) {
  if (value.find_first_of(",=") != std::string_view::npos) {
    return std::string("one address, without a node name");
  }
  return CheckHaPeers(value);
}

std::string LeaderCheckUrl(std::string_view health_url) {
  auto scheme = health_url.find("://");
  auto path = scheme == std::string_view::npos ? std::string_view::npos
                                               : health_url.find_first_of("/?", scheme + 3);
  return fmt::format("{}/v1/server/leaderHealthCheck", health_url.substr(0, path));
}

std::string PeerHealthUrl(std::string_view health_url, std::string_view peer) {
  auto scheme = health_url.find("://");
  if (scheme == std::string_view::npos) return std::string(health_url);
  auto host_begin = scheme + 3;
  auto path = health_url.find_first_of("/?", host_begin);
  std::string_view authority = health_url.substr(host_begin, path - host_begin);
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    if (auto close = authority.find(']'); close != std::string_view::npos) {
      port = authority.substr(close + 1);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    port = authority.substr(colon);
  }
  bool v6 = peer.find(':') != std::string_view::npos;
  return fmt::format("{}{}{}{}{}{}", health_url.substr(0, host_begin), v6 ? "[" : "", peer,
                     v6 ? "]" : "", port,
                     path == std::string_view::npos ? std::string_view() : health_url.substr(path));
}

int PmmMajorFromImage(std::string_view image) {
  auto slash = image.rfind('/');
  auto colon = image.rfind(':');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash)) {
    return 3;
  }
  auto tag = image.substr(colon + 1);
  return !tag.empty() && tag.front() == '2' && (tag.size() == 1 || tag[1] == '.') ? 2 : 3;
}

std::optional<std::string_view> EnvValue(const std::vector<std::string>& env,
                                         std::string_view name) {
  for (const auto& e : env) {
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=') {
      return std::string_view(e).substr(name.size() + 1);
    }
  }
  return std::nullopt;
}

std::vector<int> PublishedHostPorts(const std::vector<std::string>& publish) {
  std::vector<int> ports;
  for (const auto& e : publish) {
    std::string why;
    if (auto p = ParsePublished(e, &why)) ports.push_back(p->host_port);
  }
  return ports;
}

std::optional<std::string> QualifiedImage(std::string_view image) {
  auto slash = image.find('/');
  if (slash != std::string_view::npos) {
    auto first = image.substr(0, slash);
    if (first == "localhost" || first.find_first_of(".:") != std::string_view::npos) {
      return std::nullopt;
    }
    return fmt::format("docker.io/{}", image);
  }
  return fmt::format("docker.io/library/{}", image);
}

Result<std::string> DeriveHealthUrl(int pmm_major, bool host_network,
                                    const std::vector<std::string>& publish) {
  const int http_port = pmm_major == 2 ? 80 : 8080;
  const int https_port = pmm_major == 2 ? 443 : 8443;
  const char* path = pmm_major == 2 ? "/v1/readyz" : "/v1/server/readyz";
  if (host_network) return fmt::format("http://127.0.0.1:{}{}", http_port, path);
  std::optional<std::string> https;
  for (const auto& e : publish) {
    std::string why;
    auto p = ParsePublished(e, &why);
    if (!p) continue;
    std::string host = p->host_ip.empty() || p->host_ip == "0.0.0.0" ? "127.0.0.1"
                       : p->host_ip == "::"                          ? "[::1]"
                       : p->host_ip.find(':') != std::string::npos ? fmt::format("[{}]", p->host_ip)
                                                                   : p->host_ip;
    if (p->container_port == http_port) {
      return fmt::format("http://{}:{}{}", host, p->host_port, path);
    }
    if (p->container_port == https_port && !https) {
      https = fmt::format("https://{}:{}{}", host, p->host_port, path);
    }
  }
  if (https) return *https;
  return Status::NotConfigured(
      "cannot derive health_url: publish maps neither port {} nor {} of "
      "PMM {}; set health_url or publish one of them",
      http_port, https_port, pmm_major);
}

}  // namespace pmmha
