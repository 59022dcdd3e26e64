// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/server/server_agent.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace pmmha;

namespace {

// A node with the executables, sockets and readable files a test gives it.
class FakeNode : public NodeLookup {
 public:
  std::map<std::string, std::string, std::less<>> executables;  // name -> path
  std::set<std::string> sockets;
  std::set<std::string> readable;
  std::set<std::string> readable_by_pmm;  // by uid 1000 (and readable)
  mutable std::string path_searched;

  std::optional<std::string> FindExecutable(std::string_view name,
                                            std::string_view path_env) const override {
    path_searched = path_env;
    auto it = executables.find(name);
    if (it == executables.end()) return std::nullopt;
    return it->second;
  }
  bool IsSocket(const std::string& path) const override { return sockets.count(path) > 0; }
  bool IsReadable(const std::string& path) const override { return readable.count(path) > 0; }
  bool IsReadableBy(const std::string& path, unsigned uid, unsigned gid) const override {
    return uid == 1000 && gid == 1000 && readable_by_pmm.count(path) > 0;
  }
};

FakeNode PodmanNode() {
  FakeNode node;
  node.executables = {{"podman", "/usr/bin/podman"}, {"crm_attribute", "/usr/sbin/crm_attribute"}};
  return node;
}

ServerParams Minimal() {
  ServerParams p;
  p.image = "docker.io/percona/pmm-server:3";
  p.data_dir = "/srv/pmm";
  return p;
}

Request Req(std::string instance = "pmm") {
  Request r;
  r.action = "start";
  r.instance = std::move(instance);
  r.rsc_tmp = "/run/rsc";
  r.node_name = "node2";
  return r;
}

Request Promotable(int promoted_max = 1) {
  Request r = Req("pmm:1");
  r.meta.clone = true;
  r.meta.promotable = true;
  r.meta.promoted_max = promoted_max;
  return r;
}

// `r` for another action.
Request As(const char* action, Request r = Promotable()) {
  r.action = action;
  return r;
}

ServerParams Ha() {
  ServerParams p = Minimal();
  p.ha = true;
  p.ha_peers = "node1=10.0.0.1,node2=10.0.0.2,node3=10.0.0.3";
  p.ha_key_file = "/etc/pmm-ha/encryption.key";
  return p;
}

const Environment kEnv{{"PATH", "/usr/sbin:/usr/bin"}};

Result<ServerSetup> Resolve(const ServerParams& p, const Request& r = Req(),
                            const FakeNode& node = PodmanNode(), const Environment& env = kEnv) {
  return ResolveServer(p, r, env, node);
}

void CheckFails(const Result<ServerSetup>& setup, ExitCode code, const std::string& reason) {
  REQUIRE_FALSE(setup.ok());
  CHECK(setup.status().code() == code);
  CHECK_THAT(setup.status().reason(), Catch::Contains(reason));
}

}  // namespace

TEST_CASE("a short image name is refused where podman would have to pull it") {
  static const struct {
    const char* image;
    const char* engine;  // the one installed
    const char* pull;
    const char* action;
    const char* suggested;  // nullptr: accepted
  } cases[] = {
      {"percona/pmm-server:3", "podman", "missing", "start", "docker.io/percona/pmm-server:3"},
      {"percona/pmm-server:3", "podman", "always", "validate-all",
       "docker.io/percona/pmm-server:3"},
      {"pmm-server:3", "podman", "missing", "start", "docker.io/library/pmm-server:3"},
      // The image must be on every node then: nothing is pulled.
      {"percona/pmm-server:3", "podman", "never", "start", nullptr},
      // Docker resolves short names to Docker Hub itself.
      {"percona/pmm-server:3", "docker", "missing", "start", nullptr},
      // Stop and monitor never pull: a running container is not refused.
      {"percona/pmm-server:3", "podman", "missing", "stop", nullptr},
      {"percona/pmm-server:3", "podman", "missing", "monitor", nullptr},
      {"docker.io/percona/pmm-server:3", "podman", "missing", "start", nullptr},
      {"localhost/pmm-standin:3", "podman", "always", "start", nullptr},
      {"registry.example.com/percona/pmm-server:3", "podman", "missing", "start", nullptr},
      {"registry:5000/pmm-server:3", "podman", "missing", "start", nullptr},
  };
  for (const auto& c : cases) {
    INFO(c.image << " " << c.engine << " pull=" << c.pull << " " << c.action);
    FakeNode node;
    node.executables[c.engine] = std::string("/usr/bin/") + c.engine;
    ServerParams p = Minimal();
    p.image = c.image;
    p.pull = c.pull;
    Request r = Req();
    r.action = c.action;
    auto setup = Resolve(p, r, node);
    if (c.suggested == nullptr) {
      CHECK(setup.ok());
      continue;
    }
    CheckFails(setup, ExitCode::kErrConfigured,
               fmt::format("image '{}' is a short name: podman cannot pull it unattended where "
                           "short-name-mode is enforcing (RHEL, Fedora); use '{}'",
                           c.image, c.suggested));
  }
}

TEST_CASE("PMM advertises an IP address: a host name for this node is refused at start") {
  ServerParams p = Ha();
  p.ha_peers = "node1=pmm1.example.com,node2=pmm2.example.com,node3=10.0.0.3";
  CheckFails(Resolve(p, Promotable()), ExitCode::kErrConfigured,
             "this node's advertise address 'pmm2.example.com' (its ha_peers entry) is a host "
             "name: PMM advertises an IP address only");
  CheckFails(Resolve(p, As("validate-all")), ExitCode::kErrConfigured, "is a host name");
  // Stop and monitor of what runs are not refused.
  for (const char* action : {"monitor", "stop", "demote"}) {
    CHECK(ResolveServer(p, As(action), kEnv, PodmanNode(), Resolution::kTolerant).ok());
  }
  // The other peers may be names (memberlist resolves the addresses it joins).
  p.ha_advertise_address = "10.0.0.2";
  CHECK(Resolve(p, Promotable()).ok());
  p.ha_advertise_address = "pmm2.example.com";
  CheckFails(Resolve(p, Promotable()), ExitCode::kErrConfigured,
             "'pmm2.example.com' (ha_advertise_address) is a host name");
  p.ha_advertise_address = "fd00::2";
  CHECK(Resolve(p, Promotable()).ok());
}

TEST_CASE("the PMM major version comes from pmm_version or the tag, PMM 2 has no HA") {
  ServerParams p = Minimal();
  p.image = "docker.io/percona/pmm-server:2.44.0";
  auto setup = Resolve(p);
  REQUIRE(setup.ok());
  CHECK(setup->config.pmm_major == 2);
  p.pmm_version = "3";
  CHECK(Resolve(p)->config.pmm_major == 3);
  ServerParams ha = Ha();
  ha.image = "docker.io/percona/pmm-server:2";
  CheckFails(Resolve(ha, Promotable()), ExitCode::kErrConfigured,
             "ha=true needs PMM 3 (its HA mode); image 'docker.io/percona/pmm-server:2' is PMM 2 "
             "by its tag");
  CHECK(Resolve(ha, As("monitor")).ok());
}

TEST_CASE("selinux_relabel: none, shared (:z) or private (:Z)") {
  for (auto [relabel, option] : {std::pair{"none", ""}, {"shared", "z"}, {"private", "Z"}}) {
    INFO(relabel);
    ServerParams p = Minimal();
    p.selinux_relabel = relabel;
    auto setup = Resolve(p);
    REQUIRE(setup.ok());
    CHECK(setup->config.volume_options == option);
  }
}

TEST_CASE("the engine is the one runtime asks for, among those installed") {
  static const struct {
    const char* runtime;
    bool podman;
    bool docker;
    const char* binary;  // nullptr: not installed, rc 5 with `reason`
    const char* reason;
  } cases[] = {
      {"auto", true, true, "/usr/bin/podman", ""},
      {"auto", false, true, "/usr/bin/docker", ""},
      {"auto", true, false, "/usr/bin/podman", ""},
      {"auto", false, false, nullptr, "neither podman nor docker is installed"},
      {"podman", true, true, "/usr/bin/podman", ""},
      {"podman", false, true, nullptr, "podman is not installed"},
      {"docker", true, true, "/usr/bin/docker", ""},
      {"docker", true, false, nullptr, "docker is not installed"},
  };
  for (const auto& c : cases) {
    INFO(c.runtime << " podman " << c.podman << " docker " << c.docker);
    FakeNode node;
    if (c.podman) node.executables["podman"] = "/usr/bin/podman";
    if (c.docker) node.executables["docker"] = "/usr/bin/docker";
    ServerParams p = Minimal();
    p.runtime = c.runtime;
    auto setup = Resolve(p, Req(), node);
    if (c.binary == nullptr) {
      CheckFails(setup, ExitCode::kErrInstalled, c.reason);
      continue;
    }
    REQUIRE(setup.ok());
    CHECK(setup->binary == c.binary);
    CHECK(setup->kind ==
          (std::string(c.binary).ends_with("podman") ? EngineKind::kPodman : EngineKind::kDocker));
  }
}

TEST_CASE("executables are searched in the environment's PATH, or the system's") {
  FakeNode node = PodmanNode();
  REQUIRE(Resolve(Minimal(), Req(), node).ok());
  CHECK(node.path_searched == "/usr/sbin:/usr/bin");
  REQUIRE(Resolve(Minimal(), Req(), node, Environment{}).ok());
  CHECK(node.path_searched == "/usr/sbin:/usr/bin:/sbin:/bin");
}

TEST_CASE("the backend is the API when its socket is there, the CLI otherwise") {
  static const struct {
    const char* backend;
    bool socket_present;
    bool ok;
    bool api;
  } cases[] = {
      {"auto", true, true, true},   {"auto", false, true, false}, {"api", true, true, true},
      {"api", false, false, false}, {"cli", true, true, false},   {"cli", false, true, false},
  };
  for (const auto& c : cases) {
    INFO(c.backend << " socket " << c.socket_present);
    FakeNode node = PodmanNode();
    if (c.socket_present) node.sockets.insert("/run/podman/podman.sock");
    ServerParams p = Minimal();
    p.backend = c.backend;
    auto setup = Resolve(p, Req(), node);
    if (!c.ok) {
      CheckFails(setup, ExitCode::kErrInstalled,
                 "backend=api but '/run/podman/podman.sock' is not a socket (is the podman "
                 "service running?)");
      continue;
    }
    REQUIRE(setup.ok());
    CHECK(setup->socket == (c.api ? "/run/podman/podman.sock" : ""));
  }
}

TEST_CASE("the API socket is api_socket, else the engine's default") {
  FakeNode node;
  node.executables["docker"] = "/usr/bin/docker";
  node.sockets = {"/run/custom.sock", "/run/user/docker.sock", "/var/run/docker.sock"};
  ServerParams p = Minimal();
  auto setup =
      Resolve(p, Req(), node, Environment{{"DOCKER_HOST", "unix:///run/user/docker.sock"}});
  REQUIRE(setup.ok());
  CHECK(setup->socket == "/run/user/docker.sock");
  setup = Resolve(p, Req(), node);
  REQUIRE(setup.ok());
  CHECK(setup->socket == "/var/run/docker.sock");
  p.api_socket = "/run/custom.sock";
  setup = Resolve(p, Req(), node);
  REQUIRE(setup.ok());
  CHECK(setup->socket == "/run/custom.sock");
}

TEST_CASE("the container is named after the resource unless name is set") {
  static const struct {
    const char* instance;
    const char* name;
    const char* expected;  // nullptr: rc 6
  } cases[] = {
      {"pmm", "", "pmm"},
      {"pmm-server:2", "", "pmm-server"},
      {"pmm", "pmm-main", "pmm-main"},
      {"p@m", "", nullptr},
      {"p@m", "pmm", "pmm"},
  };
  for (const auto& c : cases) {
    INFO(c.instance << " name '" << c.name << "'");
    ServerParams p = Minimal();
    p.name = c.name;
    auto setup = Resolve(p, Req(c.instance));
    if (c.expected == nullptr) {
      CheckFails(setup, ExitCode::kErrConfigured, "the container name 'p@m'");
      CHECK_THAT(setup.status().reason(), Catch::EndsWith("; set name"));
      continue;
    }
    REQUIRE(setup.ok());
    CHECK(setup->config.name == c.expected);
    CHECK(setup->config.instance == c.instance);
  }
}

TEST_CASE("data_dir loses its trailing slashes, but / stays /") {
  static const struct {
    const char* given;
    const char* expected;
  } cases[] = {
      {"/srv/pmm", "/srv/pmm"},
      {"/srv/pmm/", "/srv/pmm"},
      {"/srv/pmm///", "/srv/pmm"},
      {"/", "/"},
      {"///", "/"},
  };
  for (const auto& c : cases) {
    INFO(c.given);
    ServerParams p = Minimal();
    p.data_dir = c.given;
    auto setup = Resolve(p);
    REQUIRE(setup.ok());
    CHECK(setup->config.data_dir == c.expected);
  }
}

TEST_CASE("a bridge network needs publish, unless health_url says where PMM answers") {
  ServerParams p = Minimal();
  p.network = "bridge";
  CheckFails(Resolve(p), ExitCode::kErrConfigured, "network=bridge needs publish");
  p.health_url = "http://127.0.0.1:9999/v1/server/readyz";
  auto setup = Resolve(p);
  REQUIRE(setup.ok());
  CHECK_FALSE(setup->config.host_network);
  CHECK(setup->config.health_url == p.health_url);
}

TEST_CASE("health_url follows pmm_version, or the image tag") {
  static const struct {
    const char* image;
    const char* pmm_version;
    const char* network;
    const char* publish;
    const char* health_url;  // set by the user when non-empty
    const char* expected;    // nullptr: rc 6
  } cases[] = {
      {"docker.io/percona/pmm-server:3", "auto", "host", "", "",
       "http://127.0.0.1:8080/v1/server/readyz"},
      {"docker.io/percona/pmm-server:2.44.0", "auto", "host", "", "",
       "http://127.0.0.1:80/v1/readyz"},
      {"docker.io/percona/pmm-server:2", "auto", "host", "", "", "http://127.0.0.1:80/v1/readyz"},
      {"docker.io/percona/pmm-server:latest", "auto", "host", "", "",
       "http://127.0.0.1:8080/v1/server/readyz"},
      {"docker.io/percona/pmm-server:2", "3", "host", "", "",
       "http://127.0.0.1:8080/v1/server/readyz"},
      {"docker.io/percona/pmm-server:3", "2", "host", "", "", "http://127.0.0.1:80/v1/readyz"},
      {"docker.io/percona/pmm-server:3", "auto", "bridge", "443:8443,8081:8080", "",
       "http://127.0.0.1:8081/v1/server/readyz"},
      {"docker.io/percona/pmm-server:3", "auto", "bridge", "443:8443", "",
       "https://127.0.0.1:443/v1/server/readyz"},
      {"docker.io/percona/pmm-server:3", "auto", "bridge", "9000:9000", "", nullptr},
      {"docker.io/percona/pmm-server:3", "2", "host", "", "http://192.0.2.1:8080/ping",
       "http://192.0.2.1:8080/ping"},
  };
  for (const auto& c : cases) {
    INFO(c.image << " pmm_version " << c.pmm_version << " " << c.network << " " << c.publish);
    ServerParams p = Minimal();
    p.image = c.image;
    p.pmm_version = c.pmm_version;
    p.network = c.network;
    p.publish = c.publish;
    p.health_url = c.health_url;
    auto setup = Resolve(p);
    if (c.expected == nullptr) {
      CheckFails(setup, ExitCode::kErrConfigured, "cannot derive health_url");
      continue;
    }
    REQUIRE(setup.ok());
    CHECK(setup->config.health_url == c.expected);
  }
}

TEST_CASE("pull maps to its policy") {
  static const struct {
    const char* pull;
    PullPolicy policy;
  } cases[] = {
      {"never", PullPolicy::kNever},
      {"missing", PullPolicy::kMissing},
      {"always", PullPolicy::kAlways},
  };
  for (const auto& c : cases) {
    INFO(c.pull);
    ServerParams p = Minimal();
    p.pull = c.pull;
    auto setup = Resolve(p);
    REQUIRE(setup.ok());
    CHECK(setup->config.pull == c.policy);
  }
}

TEST_CASE("the plain values reach the configuration") {
  ServerParams p = Minimal();
  p.require_mount = false;
  p.env = "PMM_DEBUG=1 GF_ADMIN='a b'";
  p.env_file = "/etc/pmm.env";
  p.run_opts = "--cpus 2 --label 'x=a b'";
  p.publish = "443:8443, 80:8080";
  p.health_timeout_s = 7;
  p.health_failures = 4;
  p.health_grace_s = 18;
  p.tls_verify = true;
  p.stop_grace_s = 200;
  p.reuse = true;
  auto setup = Resolve(p);
  REQUIRE(setup.ok());
  const ServerConfig& c = setup->config;
  CHECK_FALSE(c.require_mount);
  CHECK(c.host_network);
  CHECK(c.env == std::vector<std::string>{"PMM_DEBUG=1", "GF_ADMIN=a b"});
  CHECK(c.env_file == "/etc/pmm.env");
  CHECK(c.env_file_dir == "/run/rsc");
  CHECK(c.run_opts == std::vector<std::string>{"--cpus", "2", "--label", "x=a b"});
  CHECK(c.publish == std::vector<std::string>{"443:8443", "80:8080"});
  CHECK(c.health_timeout == std::chrono::seconds(7));
  CHECK(c.health_failures == 4);
  CHECK(c.health_grace == std::chrono::seconds(18));
  CHECK(c.tls_verify);
  CHECK(c.stop_grace == std::chrono::seconds(200));
  CHECK(c.reuse);
  CHECK_FALSE(c.ha.has_value());
  CHECK_FALSE(c.promotable);
  CHECK(c.leader_url.empty());
  CHECK(setup->crm_attribute.empty());
  CHECK_FALSE(Resolve(Minimal())->config.stop_grace.has_value());
}

TEST_CASE("env and run_opts that do not parse are refused, naming the parameter") {
  ServerParams p = Minimal();
  p.env = "A=1 hunter2";
  CheckFails(Resolve(p), ExitCode::kErrConfigured, "parameter 'env': entry 2 is not NAME=VALUE");
  CHECK_THAT(Resolve(p).status().reason(), !Catch::Contains("hunter2"));
  p = Minimal();
  p.run_opts = "--label 'x";
  CheckFails(Resolve(p), ExitCode::kErrConfigured, "parameter 'run_opts': unterminated ' quote");
}

TEST_CASE("state files are named after the resource, not the clone instance") {
  auto setup = Resolve(Ha(), Promotable());
  REQUIRE(setup.ok());
  CHECK(setup->config.name == "pmm");
  CHECK(setup->config.failure_counter_path == "/run/rsc/pmm-server-pmm.failures");
  CHECK(setup->config.promoted_path == "/run/rsc/pmm-server-pmm.promoted");
  CHECK(setup->config.promotion_cache_path == "/run/rsc/pmm-server-pmm.score");
  CHECK(setup->crm_attribute == "/usr/sbin/crm_attribute");
  CHECK(setup->config.promotable);

  setup = Resolve(Minimal(), Req("pmm"));
  REQUIRE(setup.ok());
  CHECK(setup->config.failure_counter_path == "/run/rsc/pmm-server-pmm.failures");
  CHECK(setup->config.promoted_path.empty());
  CHECK(setup->config.promotion_cache_path.empty());
}

TEST_CASE("HA and promotable clones must add up") {
  FakeNode no_crm = PodmanNode();
  no_crm.executables.erase("crm_attribute");
  ServerParams no_peers = Ha();
  no_peers.ha_peers = "";
  ServerParams bad_peers = Ha();
  bad_peers.ha_peers = "node1=10.0.0.1,,";
  ServerParams nameless = Ha();
  nameless.ha_peers = "10.0.0.1,10.0.0.2";
  Request node4 = Promotable();
  node4.node_name = "node4";
  const struct Case {
    const char* what;
    ServerParams params;
    Request request;
    FakeNode node;
    ExitCode code;
    const char* reason;
  } cases[] = {
      {"promoted-max 2", Ha(), Promotable(2), PodmanNode(), ExitCode::kErrConfigured,
       "promoted-max=2: PMM has one leader, set promoted-max=1"},
      {"no ha_peers", no_peers, Promotable(), PodmanNode(), ExitCode::kErrConfigured,
       "ha=true needs ha_peers"},
      {"bad ha_peers", bad_peers, Promotable(), PodmanNode(), ExitCode::kErrConfigured,
       "parameter 'ha_peers': "},
      {"node not in ha_peers", Ha(), node4, PodmanNode(), ExitCode::kErrConfigured,
       "ha_peers names no address for this node 'node4'"},
      {"ha_peers without node names", nameless, Promotable(), PodmanNode(),
       ExitCode::kErrConfigured, "ha_peers names no address for this node 'node2'"},
      {"promotable without ha", Minimal(), Promotable(), PodmanNode(), ExitCode::kErrConfigured,
       "a promotable clone needs ha=true"},
      {"no crm_attribute", Ha(), Promotable(), no_crm, ExitCode::kErrInstalled,
       "crm_attribute (Pacemaker) is needed to set promotion scores"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    CheckFails(Resolve(c.params, c.request, c.node), c.code, c.reason);
  }
}

TEST_CASE("HA settings: this node's entry in ha_peers, or the explicit address") {
  static const struct {
    const char* node_name;
    const char* node_id;
    const char* advertise;
    const char* expected_id;
    const char* expected_address;
    bool bootstrap;
  } cases[] = {
      {"node1", "", "", "node1", "10.0.0.1", true},
      {"node2", "", "", "node2", "10.0.0.2", false},
      {"node3.example.com", "", "", nullptr, nullptr, false},
      {"node2", "pmm-b", "", "pmm-b", "10.0.0.2", false},
      {"node2", "", "192.0.2.7", "node2", "192.0.2.7", false},
      {"node9", "", "10.0.0.1", "node9", "10.0.0.1", true},
  };
  for (const auto& c : cases) {
    INFO(c.node_name << " id '" << c.node_id << "' advertise '" << c.advertise << "'");
    ServerParams p = Ha();
    p.ha_node_id = c.node_id;
    p.ha_advertise_address = c.advertise;
    Request r = Promotable();
    r.node_name = c.node_name;
    auto ha = ResolveHa(p, r);
    if (c.expected_id == nullptr) {
      REQUIRE_FALSE(ha.ok());
      CHECK(ha.status().code() == ExitCode::kErrConfigured);
      continue;
    }
    REQUIRE(ha.ok());
    CHECK(ha->node_id == c.expected_id);
    CHECK(ha->advertise_address == c.expected_address);
    CHECK(ha->peers == "10.0.0.1,10.0.0.2,10.0.0.3");
    CHECK(ha->bootstrap == c.bootstrap);
  }
}

TEST_CASE("HA ports, key file and the leader URL reach the configuration") {
  ServerParams p = Ha();
  p.ha_raft_port = 19097;
  p.ha_gossip_port = 19096;
  p.ha_grafana_gossip_port = 19094;
  p.ha_key_file = "/etc/pmm/key";
  auto setup = Resolve(p, Promotable());
  REQUIRE(setup.ok());
  REQUIRE(setup->config.ha.has_value());
  CHECK(setup->config.ha->raft_port == 19097);
  CHECK(setup->config.ha->gossip_port == 19096);
  CHECK(setup->config.ha->grafana_gossip_port == 19094);
  CHECK(setup->config.ha->key_file == "/etc/pmm/key");
  CHECK(setup->config.leader_url == "http://127.0.0.1:8080/v1/server/leaderHealthCheck");
  // HA without a promotable clone (e.g. run by hand) needs no crm_attribute.
  FakeNode no_crm = PodmanNode();
  no_crm.executables.erase("crm_attribute");
  setup = Resolve(p, Req(), no_crm);
  REQUIRE(setup.ok());
  CHECK(setup->config.ha.has_value());
  CHECK(setup->crm_attribute.empty());
}

TEST_CASE("env_file must be readable, except to a probe") {
  ServerParams p = Minimal();
  p.env_file = "/etc/pmm.env";
  FakeNode node = PodmanNode();
  auto setup = Resolve(p, Req(), node);
  REQUIRE(setup.ok());
  Status s = ValidateServer(*setup, false, node);
  CHECK(s.code() == ExitCode::kErrInstalled);
  CHECK(s.reason() == "env_file '/etc/pmm.env' is not readable on this node");
  CHECK(ValidateServer(*setup, true, node).ok());
  node.readable.insert("/etc/pmm.env");
  CHECK(ValidateServer(*setup, false, node).ok());
}

TEST_CASE("ha=true needs the shared key, readable by PMM's user, except to a probe") {
  ServerParams p = Ha();
  p.ha_key_file.clear();
  CheckFails(Resolve(p, Promotable()), ExitCode::kErrConfigured,
             "ha=true needs ha_key_file, the encryption key every PMM Server shares");
  CHECK(ResolveServer(p, As("monitor"), kEnv, PodmanNode(), Resolution::kTolerant).ok());

  p = Ha();
  FakeNode node = PodmanNode();
  auto setup = Resolve(p, Promotable(), node);
  REQUIRE(setup.ok());
  Status missing = ValidateServer(*setup, false, node);
  CHECK(missing.code() == ExitCode::kErrInstalled);
  CHECK(missing.reason() ==
        "ha_key_file '/etc/pmm-ha/encryption.key' is not readable on this node");
  CHECK(ValidateServer(*setup, true, node).ok());
  node.readable.insert(p.ha_key_file);
  Status root_only = ValidateServer(*setup, false, node);
  CHECK(root_only.code() == ExitCode::kErrInstalled);
  CHECK_THAT(root_only.reason(),
             Catch::Contains("is not readable by PMM's user (uid 1000, gid 1000) in the "
                             "container: e.g. chown root:1000 and chmod 0640 it"));
  node.readable_by_pmm.insert(p.ha_key_file);
  CHECK(ValidateServer(*setup, false, node).ok());
}

TEST_CASE("permission bits: the owner's for the owner, the group's for the group, else others'") {
  static const struct {
    unsigned mode, file_uid, file_gid;
    bool readable;  // by 1000:1000
  } cases[] =
      {
          {0600, 0, 0, false},    {0640, 0, 1000, true}, {0604, 0, 0, true},
          {0640, 0, 0, false},    {0400, 1000, 0, true}, {0044, 1000, 1000, false},
          {0404, 0, 1000, false},  // the group's bits decide for the group
      };
  for (const auto& c : cases) {
    INFO(std::oct << c.mode << std::dec << " " << c.file_uid << ":" << c.file_gid);
    CHECK(ModeLetsRead(c.mode, c.file_uid, c.file_gid, 1000, 1000) == c.readable);
  }
}

TEST_CASE("start and validate-all refuse what may not create a container, stop does not") {
  ServerParams restart = Minimal();
  restart.run_opts = "--cpus 2 --restart always";
  Request clone = Req("pmm:0");
  clone.meta.clone = true;
  clone.meta.clone_max = 2;
  for (const char* action : {"start", "validate-all", "stop", "monitor"}) {
    INFO(action);
    bool creates = std::string(action) == "start" || std::string(action) == "validate-all";
    Request r = Req();
    r.action = action;
    auto by_restart = Resolve(restart, r);
    clone.action = action;
    auto by_clone = Resolve(Minimal(), clone);
    if (creates) {
      CheckFails(by_restart, ExitCode::kErrConfigured, "restart policy 'always'");
      CheckFails(by_clone, ExitCode::kErrConfigured, "clone with ha=false");
    } else {
      CHECK(by_restart.ok());
      CHECK(by_clone.ok());
    }
  }
}

TEST_CASE("drop_in_dependency and the systemd root reach the configuration") {
  ServerParams p = Minimal();
  p.drop_in_dependency = false;
  auto plain = Resolve(p);
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->config.drop_in_dependency);
  CHECK(plain->config.systemd_root == "/");
  p.drop_in_dependency = true;
  Environment env = kEnv;
  env.Set("PMMHA_SYSTEMD_ROOT", "/tmp/root");
  auto set = Resolve(p, Req(), PodmanNode(), env);
  REQUIRE(set.ok());
  CHECK(set->config.drop_in_dependency);
  CHECK(set->config.systemd_root == "/tmp/root");
}

TEST_CASE("what this node lacks is tolerated by stop, demote and monitor, not by start") {
  FakeNode bare;  // no engine, no crm_attribute
  ServerParams p = Ha();
  p.backend = "api";
  p.ha_peers = "node1=10.0.0.1,node3=10.0.0.3";  // not node2
  auto strict = Resolve(p, Promotable(), bare);
  CheckFails(strict, ExitCode::kErrInstalled, "neither podman nor docker is installed");
  auto tolerant = ResolveServer(p, Promotable(), kEnv, bare, Resolution::kTolerant);
  REQUIRE(tolerant.ok());
  CHECK(tolerant->binary.empty());
  CHECK(tolerant->no_engine == "neither podman nor docker is installed");
  CHECK(tolerant->crm_attribute.empty());
  CHECK(tolerant->invalid.ok());
  CHECK(tolerant->config.identity_path == "/run/rsc/pmm-server-pmm.container");
  CHECK_THAT(tolerant->notes.at(0), Catch::Contains("no address for this node 'node2'"));
  CHECK_THAT(tolerant->notes.at(1), Catch::Contains("crm_attribute (Pacemaker) is not installed"));

  FakeNode podman = PodmanNode();
  auto cli = ResolveServer(p, Promotable(), kEnv, podman, Resolution::kTolerant);
  REQUIRE(cli.ok());
  CHECK(cli->binary == "/usr/bin/podman");
  CHECK(cli->socket.empty());
  CHECK_THAT(cli->notes.at(0), Catch::Contains("is not a socket: using the podman CLI"));

  ServerParams bridge = Minimal();
  bridge.network = "bridge";
  bridge.stop_grace_s = 40;
  auto invalid = ResolveServer(bridge, Req(), kEnv, podman, Resolution::kTolerant);
  REQUIRE(invalid.ok());
  CHECK(invalid->invalid.code() == ExitCode::kErrConfigured);
  CHECK(invalid->config.name == "pmm");
  CHECK(invalid->config.stop_grace == std::chrono::seconds(40));
}

// --- the action x situation matrix -----------------------------------------
namespace {

constexpr int kRecordedPid = 4321;
constexpr unsigned long long kRecordedStart = 99;

// One container, as the engine would report it; shared by every engine the
// runtime builds for an action.
struct MatrixContainer {
  ContainerInfo info;
  bool reachable = true;
  std::string socket_used = "-";  // the setup's socket when the engine was built
};

class MatrixEngine : public ContainerEngine {
 public:
  explicit MatrixEngine(MatrixContainer& c) : c_(c) {}
  EngineKind kind() const override { return EngineKind::kPodman; }
  std::string Describe() const override { return "matrix engine"; }
  Result<ContainerInfo> Inspect(const std::string&, const Deadline&) override {
    if (!c_.reachable) return Status::Error("Cannot connect to the Docker daemon");
    return c_.info;
  }
  Result<bool> HasImage(const std::string&, const Deadline&) override { return true; }
  Status Pull(const std::string&, const Deadline&) override { return Status::Ok(); }
  Status Run(const std::vector<std::string>&, const Deadline&) override {
    c_.info.state = ContainerState::kRunning;
    c_.info.state_text = "running";
    c_.info.pid = 100;
    c_.info.labels = {{kResourceLabel, "pmm"}};
    return Status::Ok();
  }
  Status Start(const std::string&, const Deadline&) override { return Status::Ok(); }
  Status Stop(const std::string&, std::chrono::seconds, const Deadline&) override {
    c_.info.state = ContainerState::kExited;
    c_.info.state_text = "exited";
    return Status::Ok();
  }
  Status Kill(const std::string& n, const Deadline& d) override { return Stop(n, {}, d); }
  Status Remove(const std::string&, const Deadline&) override {
    c_.info = ContainerInfo{};
    return Status::Ok();
  }
  Status RemoveFromStorage(const std::string&, const Deadline&) override { return Status::Ok(); }
  Result<std::string> Logs(const std::string&, int, const Deadline&) override {
    return std::string();
  }

 private:
  MatrixContainer& c_;
};

class ReadyHttp : public HttpClient {
 public:
  Result<HttpResponse> Send(const HttpRequest& r, const Deadline&) override {
    bool leader = r.url.find("leaderHealthCheck") != std::string::npos;
    return HttpResponse{leader ? 400 : 200, "{}"};
  }
};

class MountedHost : public ServerHost {
 public:
  Status CheckMountPoint(const std::string&, const Deadline&) override { return Status::Ok(); }
  Result<bool> SrvIsDataDir(int, const std::string&, const Deadline&) override { return true; }
  Status CheckWritableBy(const std::string&, unsigned, unsigned, const Deadline&) override {
    return Status::Ok();
  }
  std::optional<bool> Frozen(int) override { return false; }
  std::vector<int> UninterruptibleThreads(int) override { return {}; }
  Status ProbeAnswers(const std::string&, const Deadline&) override { return Status::Ok(); }
  Status CheckFsUuid(const std::string&, const std::string&, const Deadline&) override {
    return Status::Ok();
  }
  Result<DropInResult> InstallDropIn(const std::string&, const DropIn&, const Deadline&) override {
    return DropInResult::kNoSystemd;
  }
  Result<std::string> Sha256Of(const std::string&, const Deadline&) override {
    return Status::Error("no digest here");
  }
  std::vector<PortHolder> holders;
  std::vector<PortHolder> PortHolders(const std::vector<PortNeed>&, const Deadline&) override {
    return holders;
  }
};

class MatrixProcesses : public ProcessControl {
 public:
  std::map<int, unsigned long long> alive;
  std::optional<unsigned long long> StartTime(int pid) const override {
    auto it = alive.find(pid);
    return it == alive.end() ? std::nullopt : std::optional(it->second);
  }
  Status Terminate(const ContainerIdentity& id, std::chrono::seconds, const Deadline&) override {
    alive.erase(id.pid);
    return Status::Ok();
  }
};

class NoScores : public PromotionScore {
 public:
  Status Set(int, const Deadline&) override { return Status::Ok(); }
  Status SetLeader(const Deadline&) override { return Status::Ok(); }
  Status Clear(const Deadline&) override { return Status::Ok(); }
};

class FakeRuntime : public ServerRuntime {
 public:
  FakeNode node_;
  MatrixContainer container;
  ReadyHttp http_;
  MountedHost host_;
  MatrixProcesses processes_;

  const NodeLookup& node() override { return node_; }
  std::unique_ptr<ContainerEngine> Engine(const ServerSetup& setup) override {
    container.socket_used = setup.socket;
    return std::make_unique<MatrixEngine>(container);
  }
  HttpClient& http() override { return http_; }
  ServerHost& host() override { return host_; }
  ProcessControl& processes() override { return processes_; }
  std::unique_ptr<PromotionScore> Promotion(const ServerSetup&) override {
    return std::make_unique<NoScores>();
  }
};

// What a row sets up, on top of: podman installed, the container absent,
// a plain resource with env_file readable.
enum Situation : unsigned {
  kNone = 0,
  kNoEngine = 1 << 0,  // neither podman nor docker in PATH
  kEnvFileUnreadable = 1 << 1,
  kApiSocketMissing = 1 << 2,  // backend=api
  kEngineDown = 1 << 3,        // the daemon does not answer
  kHaNodeAbsent = 1 << 4,      // promotable, ha=true, this node not in ha_peers
  kHaNoCrmAttribute = 1 << 5,  // promotable, ha=true, crm_attribute not in PATH
  kRecordedAlive = 1 << 6,     // start recorded the process; it runs
  kRecordedGone = 1 << 7,      // start recorded the process; it is gone
  kRunning = 1 << 8,           // our container runs
  kForeign = 1 << 9,           // a container with our name but not our label runs
  kPortHeld = 1 << 10,         // another process listens on 9090 (network=host)
};

const ServerAction kActions[] = {
    ServerAction::kStart,   ServerAction::kStop,   ServerAction::kMonitor, ServerAction::kMonitor,
    ServerAction::kPromote, ServerAction::kDemote, ServerAction::kValidate};
const char* const kActionNames[] = {"start",   "stop",   "monitor",     "probe",
                                    "promote", "demote", "validate-all"};

int RunCase(unsigned situation, std::size_t action, const std::string& rsc_tmp,
            MatrixContainer* after = nullptr) {
  FakeRuntime rt;
  rt.node_ = PodmanNode();
  const bool ha = situation & (kHaNodeAbsent | kHaNoCrmAttribute);
  ServerParams p = ha ? Ha() : Minimal();
  p.env_file = "/etc/pmm.env";
  rt.node_.readable.insert("/etc/pmm.env");
  if (situation & kNoEngine) rt.node_.executables.erase("podman");
  if (situation & kEnvFileUnreadable) rt.node_.readable.clear();
  if (situation & kApiSocketMissing) p.backend = "api";
  if (situation & kEngineDown) rt.container.reachable = false;
  if (situation & kHaNodeAbsent) p.ha_peers = "node1=10.0.0.1,node3=10.0.0.3";
  if (situation & kHaNoCrmAttribute) rt.node_.executables.erase("crm_attribute");
  if (situation & kPortHeld) rt.host_.holders = {{9090, "0.0.0.0", "cockpit-ws (pid 812)"}};
  const char* action_name = kActionNames[action];
  Request r = ha ? Promotable() : Req();
  r.action = std::string(action_name) == "probe" ? "monitor" : action_name;
  r.meta.interval = std::chrono::milliseconds(std::string(action_name) == "monitor" ? 10000 : 0);
  r.rsc_tmp = rsc_tmp;
  std::filesystem::remove_all(rsc_tmp);
  std::filesystem::create_directories(rsc_tmp);
  if (situation & (kRecordedAlive | kRecordedGone)) {
    std::ofstream(rsc_tmp + "/pmm-server-pmm.container")
        << FormatIdentity({"c0ffee", kRecordedPid, kRecordedStart});
    if (situation & kRecordedAlive) rt.processes_.alive[kRecordedPid] = kRecordedStart;
  }
  if (situation & (kRunning | kForeign)) {
    rt.container.info.state = ContainerState::kRunning;
    rt.container.info.state_text = "running";
    rt.container.info.pid = 100;
    if (situation & kRunning) rt.container.info.labels = {{kResourceLabel, r.instance}};
  }
  rt.processes_.alive[100] = 1;
  Params params;
  Logger log;
  Deadline deadline = Deadline::After(std::chrono::seconds(20));
  Context ctx(r, params, deadline, log, kEnv, "pmm-server");
  Status s = RunServerAction(kActions[action], p, ctx, rt);
  if (after != nullptr) *after = rt.container;
  return static_cast<int>(s.code());
}

}  // namespace

TEST_CASE(
    "the action x situation matrix: stop and probe never fail for what only this node lacks") {
  // 0 ok, 1 generic error, 5 not installed, 6 not configured, 7 not running,
  // 190 running but degraded (PMM ready, its engine cannot be asked).
  static const struct {
    const char* situation;
    unsigned set;
    int start, stop, monitor, probe, promote, demote, validate;
  } rows[] = {
      // clang-format off
      // situation                                set                                   start stop mon probe prom dem valid
      {"nothing running",                         kNone,                                0,    0,   7,  7,    7,   7,  0},
      {"our container runs",                      kRunning,                             0,    0,   0,  0,    0,   0,  0},
      {"no podman/docker in PATH",                kNoEngine,                            5,    0,   7,  7,    5,   7,  5},
      {"env_file unreadable",                     kEnvFileUnreadable,                   5,    0,   7,  7,    5,   7,  5},
      {"env_file unreadable, running",            kEnvFileUnreadable | kRunning,        5,    0,   0,  0,    5,   0,  5},
      {"backend=api, socket missing",             kApiSocketMissing,                    5,    0,   7,  7,    5,   7,  5},
      {"backend=api, socket missing, running",    kApiSocketMissing | kRunning,         5,    0,   0,  0,    5,   0,  5},
      {"engine down, nothing recorded",           kEngineDown,                          1,    0,   7,  7,    1,   7,  0},
      {"engine down, recorded process gone",      kEngineDown | kRecordedGone,          1,    0,   7,  7,    1,   7,  0},
      {"engine down, recorded process alive",     kEngineDown | kRecordedAlive,         1,    0, 190,190,    1,   0,  0},
      {"no engine, recorded process alive",       kNoEngine | kRecordedAlive,           5,    0, 190,190,    5,   0,  5},
      {"ha, this node not in ha_peers",           kHaNodeAbsent,                        6,    0,   7,  7,    6,   7,  6},
      {"ha, this node not in ha_peers, running",  kHaNodeAbsent | kRunning,             6,    0,   0,  0,    6,   0,  6},
      {"ha, crm_attribute not in PATH",           kHaNoCrmAttribute,                    5,    0,   7,  7,    5,   7,  5},
      {"ha, crm_attribute not in PATH, running",  kHaNoCrmAttribute | kRunning,         5,    0,   0,  0,    5,   0,  5},
      {"a foreign container has our name",        kForeign,                             1,    0,   7,  7,    7,   7,  0},
      {"a port PMM binds is in use (validate warns)", kPortHeld,                        1,    0,   7,  7,    7,   7,  0},
      {"a port PMM binds is in use, running",     kPortHeld | kRunning,                 0,    0,   0,  0,    0,   0,  0},
      // clang-format on
  };
  const std::string rsc_tmp =
      (std::filesystem::temp_directory_path() / ("pmmha-matrix-" + std::to_string(getpid())))
          .string();
  for (const auto& row : rows) {
    const int expected[] = {row.start,   row.stop,   row.monitor, row.probe,
                            row.promote, row.demote, row.validate};
    for (std::size_t a = 0; a < std::size(kActions); ++a) {
      INFO(row.situation << ": " << kActionNames[a]);
      CHECK(RunCase(row.set, a, rsc_tmp) == expected[a]);
    }
  }
  std::filesystem::remove_all(rsc_tmp);
}

TEST_CASE(
    "the matrix's stops: a foreign container is left running, a missing socket means the CLI") {
  const std::string rsc_tmp =
      (std::filesystem::temp_directory_path() / ("pmmha-matrix-" + std::to_string(getpid())))
          .string();
  MatrixContainer after;
  REQUIRE(RunCase(kForeign, 1, rsc_tmp, &after) == 0);
  CHECK(after.info.state == ContainerState::kRunning);
  REQUIRE(RunCase(kApiSocketMissing | kRunning, 1, rsc_tmp, &after) == 0);
  CHECK(after.socket_used.empty());  // through the CLI
  CHECK(after.info.state == ContainerState::kAbsent);
  std::filesystem::remove_all(rsc_tmp);
}
