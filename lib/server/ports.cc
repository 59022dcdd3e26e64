// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/server/ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "pmmha/server/pmm_server.h"
#include "pmmha/server/server_params.h"

namespace pmmha {

namespace {

// Whether env sets `name` true, as PMM (Go's strconv.ParseBool) reads it.
bool EnvSays(const ServerConfig& config, std::string_view name) {
  auto v = EnvValue(config.env, name);
  return v && (*v == "1" || *v == "true" || *v == "TRUE" || *v == "True");
}

// A 32-bit word of /proc/net/tcp's hex address: the bytes as they are in
// memory, printed as a native integer.
void WordBytes(std::string_view hex, unsigned char* out) {
  std::uint32_t v = static_cast<std::uint32_t>(std::strtoul(std::string(hex).c_str(), nullptr, 16));
  std::memcpy(out, &v, 4);
}

}  // namespace

std::vector<PortNeed> PmmHostPorts(const ServerConfig& config) {
  std::vector<PortNeed> needs;
  if (!config.host_network) {
    for (int port : PublishedHostPorts(config.publish)) needs.push_back({port, "published", true});
    return needs;
  }
  const bool pmm2 = config.pmm_major == 2;
  needs.push_back({pmm2 ? 80 : 8080, "nginx (HTTP)", true});
  needs.push_back({pmm2 ? 443 : 8443, "nginx (HTTPS)", true});
  if (!EnvSays(config, "PMM_DISABLE_BUILTIN_POSTGRES")) needs.push_back({5432, "PostgreSQL"});
  if (!EnvSays(config, "PMM_DISABLE_BUILTIN_CLICKHOUSE")) {
    needs.push_back({9000, "ClickHouse"});
    needs.push_back({8123, "ClickHouse HTTP"});
  }
  needs.push_back({9090, "VictoriaMetrics"});
  needs.push_back({3000, "Grafana"});
  needs.push_back({8880, "vmalert"});
  for (int port : {7771, 7772, 7773}) needs.push_back({port, "pmm-managed"});
  needs.push_back({7777, "pmm-agent"});
  if (!pmm2) needs.push_back({4646, "Nomad"});
  if (config.ha) {
    needs.push_back({config.ha->raft_port, "HA Raft"});
    needs.push_back({config.ha->gossip_port, "HA gossip"});
    needs.push_back({config.ha->grafana_gossip_port, "Grafana gossip"});
  }
  return needs;
}

std::vector<TcpListener> ParseTcpListeners(std::string_view table) {
  std::vector<TcpListener> listeners;
  std::istringstream in{std::string(table)};
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout;
    unsigned long long inode = 0;
    if (!(f >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode)) {
      continue;
    }
    if (state != "0A") continue;  // TCP_LISTEN
    auto colon = local.find(':');
    if (colon == std::string::npos) continue;
    std::string_view hex = std::string_view(local).substr(0, colon);
    char text[INET6_ADDRSTRLEN] = {};
    if (hex.size() == 8) {
      unsigned char a[4];
      WordBytes(hex, a);
      inet_ntop(AF_INET, a, text, sizeof text);
    } else if (hex.size() == 32) {
      unsigned char a[16];
      for (int w = 0; w < 4; ++w) WordBytes(hex.substr(8 * w, 8), a + 4 * w);
      inet_ntop(AF_INET6, a, text, sizeof text);
    } else {
      continue;
    }
    int port = static_cast<int>(std::strtol(local.c_str() + colon + 1, nullptr, 16));
    listeners.push_back({text, port, inode});
  }
  return listeners;
}

bool BlocksPmm(const TcpListener& listener, const PortNeed& need) {
  if (listener.port != need.port) return false;
  if (need.every_address) return true;
  const std::string& a = listener.address;
  return a == "0.0.0.0" || a == "::" || a == "::1" || a.rfind("127.", 0) == 0 ||
         a.rfind("::ffff:127.", 0) == 0;
}

}  // namespace pmmha
