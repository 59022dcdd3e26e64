// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/server/ports.h"

#include <algorithm>

#include <catch2/catch.hpp>

#include "pmmha/server/pmm_server.h"

using namespace pmmha;

namespace {

bool Needs(const std::vector<PortNeed>& needs, int port) {
  return std::any_of(needs.begin(), needs.end(),
                     [port](const PortNeed& n) { return n.port == port; });
}

}  // namespace

TEST_CASE("/proc/net/tcp and tcp6: the LISTEN sockets, with address, port and inode") {
  const char* tcp =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n"
      "   0: 00000000:2382 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
      "0 588 1 00000000e9f9b360 100 0 0 10 0\n"
      "   1: 0100007F:1F90 0100007F:C57E 06 00000000:00000000 03:000011DD 00000000     0        "
      "0 0 3 000000009c5ff9db\n"
      "   2: 0100007F:1E61 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        "
      "0 4711 1 0000000000000000 100 0 0 10 0\n"
      "   3: 0501A8C0:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
      "0 4712 1 0000000000000000 100 0 0 10 0\n";
  auto l = ParseTcpListeners(tcp);
  REQUIRE(l.size() == 3);  // the TIME_WAIT socket (06) is no listener
  CHECK(l[0].address == "0.0.0.0");
  CHECK(l[0].port == 9090);
  CHECK(l[0].inode == 588);
  CHECK(l[1].address == "127.0.0.1");
  CHECK(l[1].port == 7777);
  CHECK(l[2].address == "192.168.1.5");
  CHECK(l[2].port == 3000);
  const char* tcp6 =
      "  sl  local_address                         remote_address                        st "
      "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000     0        0 900 1 0000000000000000 100 0 0 10 "
      "0\n"
      "   1: 00000000000000000000000001000000:1538 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000     0        0 901 1 0000000000000000 100 0 0 10 "
      "0\n";
  auto l6 = ParseTcpListeners(tcp6);
  REQUIRE(l6.size() == 2);
  CHECK(l6[0].address == "::");
  CHECK(l6[0].port == 8080);
  CHECK(l6[1].address == "::1");
  CHECK(l6[1].port == 5432);
  CHECK(ParseTcpListeners("").empty());
  CHECK(ParseTcpListeners("header\ngarbage line\n").empty());
}

TEST_CASE("a listener is in PMM's way on a wildcard or loopback address, or any for nginx") {
  PortNeed vm{9090, "VictoriaMetrics"};
  PortNeed nginx{8080, "nginx (HTTP)", true};
  CHECK(BlocksPmm({"0.0.0.0", 9090, 1}, vm));
  CHECK(BlocksPmm({"127.0.0.1", 9090, 1}, vm));
  CHECK(BlocksPmm({"::", 9090, 1}, vm));
  CHECK(BlocksPmm({"::1", 9090, 1}, vm));
  CHECK_FALSE(BlocksPmm({"192.168.1.5", 9090, 1}, vm));
  CHECK_FALSE(BlocksPmm({"0.0.0.0", 9091, 1}, vm));
  CHECK(BlocksPmm({"192.168.1.5", 8080, 1}, nginx));
}

TEST_CASE("the ports PMM binds: by major version, databases, HA, or what bridge publishes") {
  ServerConfig c;
  c.host_network = true;
  auto pmm3 = PmmHostPorts(c);
  for (int port : {8080, 8443, 5432, 9000, 8123, 9090, 3000, 8880, 7771, 7772, 7773, 7777, 4646}) {
    INFO(port);
    CHECK(Needs(pmm3, port));
  }
  CHECK_FALSE(Needs(pmm3, 80));
  c.pmm_major = 2;
  auto pmm2 = PmmHostPorts(c);
  CHECK(Needs(pmm2, 80));
  CHECK(Needs(pmm2, 443));
  CHECK_FALSE(Needs(pmm2, 8080));
  CHECK_FALSE(Needs(pmm2, 4646));
  c.pmm_major = 3;
  c.env = {"PMM_DISABLE_BUILTIN_POSTGRES=1", "PMM_DISABLE_BUILTIN_CLICKHOUSE=true"};
  HaSettings ha;
  ha.raft_port = 9097;
  ha.gossip_port = 9096;
  ha.grafana_gossip_port = 9094;
  c.ha = ha;
  auto external = PmmHostPorts(c);
  CHECK_FALSE(Needs(external, 5432));
  CHECK_FALSE(Needs(external, 9000));
  CHECK(Needs(external, 9097));
  CHECK(Needs(external, 9096));
  CHECK(Needs(external, 9094));
  ServerConfig bridge;
  bridge.publish = {"443:8443", "127.0.0.1:8081:8080"};
  auto published = PmmHostPorts(bridge);
  REQUIRE(published.size() == 2);
  CHECK(published[0].port == 443);
  CHECK(published[1].port == 8081);
  CHECK(published[0].every_address);
}
