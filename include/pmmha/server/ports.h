// SPDX-License-Identifier: GPL-2.0-or-later
// The TCP ports PMM binds on the node, and the listeners already there.
//
// With network=host PMM binds a dozen ports in the node's network namespace
// (nginx, PostgreSQL, ClickHouse, VictoriaMetrics, Grafana, pmm-managed...).
// A host service on one of them (Cockpit on 9090, a host pmm-client on 7777)
// means PMM never becomes ready: start would wait out its whole timeout.
// Start looks first (/proc/net/tcp, /proc/*/fd), and fails at once naming
// the port and its holder; validate-all warns.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pmmha {

struct ServerConfig;  // pmm_server.h

struct PortNeed {
  int port = 0;
  std::string what;  // "VictoriaMetrics", "nginx (HTTP)"...
  // Bound on every address (nginx, published ports): a listener on any
  // address of the node is in the way, not only a wildcard or loopback one.
  bool every_address = false;
};

// The ports PMM binds on the node: with network=host, its services' (by the
// major version; the built-in databases' unless env disables them; HA's
// when ha is set); with network=bridge, the published host ports.
std::vector<PortNeed> PmmHostPorts(const ServerConfig& config);

struct TcpListener {
  std::string address;  // "0.0.0.0", "127.0.0.1", "::"...
  int port = 0;
  unsigned long long inode = 0;
};

// The LISTEN sockets of one /proc/net/tcp or /proc/net/tcp6 table.
std::vector<TcpListener> ParseTcpListeners(std::string_view table);

// Whether a listener keeps PMM from binding `need`'s port: one on every
// address or on loopback (PMM binds its services on loopback); for a port
// PMM binds on every address, any.
bool BlocksPmm(const TcpListener& listener, const PortNeed& need);

// Who holds one of PMM's ports already.
struct PortHolder {
  int port = 0;
  std::string address;
  std::string owner;  // "cockpit-ws (pid 812)", or "a process not found" when unknown
};

}  // namespace pmmha
