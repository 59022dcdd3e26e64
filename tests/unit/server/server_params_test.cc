// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/server/server_params.h"

#include <catch2/catch.hpp>

using namespace pmmha;

TEST_CASE("publish mappings are checked") {
  static const struct {
    const char* value;
    bool ok;
    const char* message;
  } cases[] = {
      {"443:8443", true, ""},
      {"443:8443,80:8080", true, ""},
      {"127.0.0.1:8443:8443/tcp", true, ""},
      {"[::1]:8443:8443", true, ""},
      {"443", false, "is not [IP:]HOSTPORT:CONTAINERPORT"},
      {"0:8443", false, "ports 1-65535"},
      {"443:70000", false, "ports 1-65535"},
      {"443:8443/icmp", false, "unknown protocol 'icmp'"},
      {"300.1.1.1:443:8443", false, "'300.1.1.1' is not an IPv4 address"},
      {"[nope]:443:8443", false, "'nope' is not an IPv6 address"},
      {"443:8443;reboot", false, "is not [IP:]HOSTPORT"},
      {"", false, "lists no port mapping"},
  };
  for (const auto& c : cases) {
    INFO(c.value);
    auto why = CheckPublish(c.value);
    CHECK(!why.has_value() == c.ok);
    if (why) CHECK_THAT(*why, Catch::Contains(c.message));
  }
}

TEST_CASE("env is NAME=VALUE words, and a bad entry names only the name") {
  auto env = ParseEnvList("PMM_DEBUG=1 GF_ADMIN='s3cret with space' EMPTY=");
  REQUIRE(env.ok());
  CHECK(*env == std::vector<std::string>{"PMM_DEBUG=1", "GF_ADMIN=s3cret with space", "EMPTY="});
  auto bad = ParseEnvList("A=1 hunter2");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().reason() == "entry 2 is not NAME=VALUE (it has no '=')");
  auto bad_name = ParseEnvList("PASS-WORD=hunter2");
  REQUIRE_FALSE(bad_name.ok());
  CHECK_THAT(bad_name.status().reason(), !Catch::Contains("hunter2"));
  CHECK_THAT(bad_name.status().reason(), Catch::Contains("entry 1"));
  CHECK(CheckEnvList("1X=y").has_value());
  CHECK(CheckEnvList("A-B=y").has_value());
  CHECK_THAT(*CheckEnvList("A=$(cat /etc/shadow)"), Catch::Contains("'$'"));
}

TEST_CASE("run_opts may not take over what the agent owns") {
  CHECK_FALSE(CheckRunOpts("--cpus 2 --memory 8g").has_value());
  CHECK_THAT(*CheckRunOpts("--name other"), Catch::Contains("--name is set by the agent"));
  CHECK_THAT(*CheckRunOpts("--rm"), Catch::Contains("--rm"));
  CHECK_THAT(*CheckRunOpts("--cpus 2; reboot"), Catch::Contains("';'"));
}

TEST_CASE("container names follow the engines' rule") {
  CHECK_FALSE(CheckContainerName("pmm-server_1.a").has_value());
  CHECK(CheckContainerName("-pmm").has_value());
  CHECK(CheckContainerName("pmm/x").has_value());
  CHECK(CheckContainerName("pmm:0").has_value());
  CHECK(CheckContainerName(std::string(129, 'a')).has_value());
  // One instance per node, whatever number Pacemaker gives it.
  CHECK(ResourceNameOf("pmm:1") == "pmm");
  CHECK(ResourceNameOf("pmm-server:12") == "pmm-server");
  CHECK(ResourceNameOf("pmm") == "pmm");
  CHECK(ResourceNameOf("a:b") == "a:b");
  CHECK(ResourceNameOf("pmm:") == "pmm:");
}

TEST_CASE("ha_peers: named or plain addresses, no ports, no duplicates") {
  auto named = ParseHaPeers("node1=10.0.0.11, node2=10.0.0.12,node3=pmm3.example");
  REQUIRE(named.ok());
  REQUIRE(named->size() == 3);
  CHECK((*named)[0].node == "node1");
  CHECK((*named)[0].address == "10.0.0.11");
  CHECK((*named)[2].address == "pmm3.example");
  auto plain = ParseHaPeers("10.0.0.11,fd00::12,");
  REQUIRE(plain.ok());
  REQUIRE(plain->size() == 2);
  CHECK((*plain)[1].node.empty());
  CHECK((*plain)[1].address == "fd00::12");

  static const char* const bad[] = {"",
                                    ",",
                                    "10.0.0.1,,10.0.0.2",
                                    "=10.0.0.1",
                                    "n1=",
                                    "10.0.0.1:9097",
                                    "n1=10.0.0.1,n2=10.0.0.1",
                                    "n1=10.0.0.1,n1=10.0.0.2",
                                    "10.0.0.1;reboot",
                                    "a b"};
  for (const char* v : bad) {
    INFO(v);
    CHECK(CheckHaPeers(v).has_value());
  }
}

TEST_CASE("ha_advertise_address is one address") {
  CHECK_FALSE(CheckHaAddress("10.0.0.12").has_value());
  CHECK_FALSE(CheckHaAddress("pmm2.example").has_value());
  CHECK(CheckHaAddress("10.0.0.12,10.0.0.13").has_value());
  CHECK(CheckHaAddress("node2=10.0.0.12").has_value());
  CHECK(CheckHaAddress("10.0.0.12:9097").has_value());
}

TEST_CASE("the leader check sits next to the readiness URL") {
  CHECK(LeaderCheckUrl("http://127.0.0.1:8080/v1/server/readyz") ==
        "http://127.0.0.1:8080/v1/server/leaderHealthCheck");
  CHECK(LeaderCheckUrl("https://[::1]:8443/v1/readyz?x") ==
        "https://[::1]:8443/v1/server/leaderHealthCheck");
  CHECK(LeaderCheckUrl("http://10.0.0.1") == "http://10.0.0.1/v1/server/leaderHealthCheck");
}

TEST_CASE("data_dir must be an absolute path that is not / and not volume syntax") {
  CHECK_FALSE(CheckDataDir("/srv/pmm").has_value());
  CHECK(CheckDataDir("srv").has_value());
  CHECK(CheckDataDir("/").has_value());
  CHECK(CheckDataDir("/a:/etc").has_value());
  CHECK(CheckDataDir("/srv/../etc").has_value());
  CHECK(CheckDataDir("/srv/..").has_value());
}

TEST_CASE("the PMM major version comes from the image tag") {
  static const struct {
    const char* image;
    int major;
  } cases[] = {
      {"percona/pmm-server:2", 2},
      {"percona/pmm-server:2.44.0", 2},
      {"percona/pmm-server:3", 3},
      {"percona/pmm-server:3.1.0", 3},
      {"percona/pmm-server", 3},
      {"percona/pmm-server:latest", 3},
      {"registry:5000/percona/pmm-server", 3},
      {"registry:5000/pmm:2.41.0", 2},
      {"percona/pmm-server:20", 3},
  };
  for (const auto& c : cases) {
    INFO(c.image);
    CHECK(PmmMajorFromImage(c.image) == c.major);
  }
}

TEST_CASE("short image names get their fully qualified form, qualified ones nothing") {
  static const struct {
    const char* image;
    const char* qualified;  // nullptr: qualified already
  } cases[] = {
      {"percona/pmm-server:3", "docker.io/percona/pmm-server:3"},
      {"pmm-server:3", "docker.io/library/pmm-server:3"},
      {"percona/pmm-server@sha256:0123", "docker.io/percona/pmm-server@sha256:0123"},
      {"docker.io/percona/pmm-server:3", nullptr},
      {"quay.io/percona/pmm-server:3", nullptr},
      {"registry:5000/pmm:2.41.0", nullptr},
      {"localhost/pmm-standin:3", nullptr},
      {"[::1]:5000/pmm:3", nullptr},
  };
  for (const auto& c : cases) {
    INFO(c.image);
    auto q = QualifiedImage(c.image);
    if (c.qualified == nullptr) {
      CHECK_FALSE(q.has_value());
    } else {
      REQUIRE(q.has_value());
      CHECK(*q == c.qualified);
    }
  }
}

TEST_CASE("the health URL is derived from version, network and publish") {
  static const struct {
    int major;
    bool host;
    std::vector<std::string> publish;
    const char* url;
  } cases[] = {
      {3, true, {}, "http://127.0.0.1:8080/v1/server/readyz"},
      {2, true, {}, "http://127.0.0.1:80/v1/readyz"},
      {3, false, {"443:8443", "8081:8080"}, "http://127.0.0.1:8081/v1/server/readyz"},
      {3, false, {"443:8443"}, "https://127.0.0.1:443/v1/server/readyz"},
      {2, false, {"10.9.8.7:443:443"}, "https://10.9.8.7:443/v1/readyz"},
      {3, false, {"[::1]:8080:8080"}, "http://[::1]:8080/v1/server/readyz"},
  };
  for (const auto& c : cases) {
    INFO(c.url);
    auto url = DeriveHealthUrl(c.major, c.host, c.publish);
    REQUIRE(url.ok());
    CHECK(*url == c.url);
  }
  auto none = DeriveHealthUrl(3, false, {"9000:9000"});
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == ExitCode::kErrConfigured);
  CHECK_THAT(none.status().reason(), Catch::Contains("neither port 8080 nor 8443"));
}

TEST_CASE("run_opts may not set a restart policy other than no, nor the stop timeout") {
  static const struct {
    std::vector<std::string> words;
    const char* refused;  // a part of the reason, or nullptr when accepted
  } cases[] = {
      {{"--cpus", "2"}, nullptr},
      {{"--restart=no"}, nullptr},
      {{"--restart", "no", "--cpus", "2"}, nullptr},
      {{"--restart=always"}, "restart policy 'always'"},
      {{"--restart", "always"}, "restart policy 'always'"},
      {{"--cpus", "2", "--restart", "unless-stopped"}, "restart policy 'unless-stopped'"},
      {{"--restart=on-failure:3"}, "restart policy 'on-failure:3'"},
      {{"--restart="}, "restart policy ''"},
      {{"--restart"}, "restart policy ''"},
      {{"--stop-timeout", "600"}, "may not set --stop-timeout"},
      {{"--stop-timeout=600"}, "set stop_grace instead"},
  };
  for (const auto& c : cases) {
    std::string joined;
    for (const auto& w : c.words) joined += w + " ";
    INFO(joined);
    Status s = CheckRunOptsForCreate(c.words);
    if (c.refused == nullptr) {
      CHECK(s.ok());
    } else {
      CHECK(s.code() == ExitCode::kErrConfigured);
      CHECK_THAT(s.reason(), Catch::Contains(c.refused));
    }
  }
  CHECK_THAT(CheckRunOptsForCreate({"--restart=always"}).reason(),
             Catch::Contains("outside the cluster"));
}

TEST_CASE("a clone runs only as PMM 3 HA") {
  MetaAttributes primitive;
  MetaAttributes clone;
  clone.clone = true;
  clone.clone_max = 3;
  MetaAttributes clone_max_only;  // a clone as an admin may simulate it by hand
  clone_max_only.clone_max = 2;
  MetaAttributes promotable = clone;
  promotable.promotable = true;
  CHECK(CheckCloneMode(primitive, false).ok());
  CHECK(CheckCloneMode(primitive, true).ok());
  CHECK(CheckCloneMode(clone, true).ok());
  // A promotable clone without ha is refused elsewhere (ResolveServer).
  CHECK(CheckCloneMode(promotable, false).ok());
  for (const auto& meta : {clone, clone_max_only}) {
    Status s = CheckCloneMode(meta, false);
    CHECK(s.code() == ExitCode::kErrConfigured);
    CHECK_THAT(s.reason(), Catch::Contains("clone with ha=false"));
  }
}

TEST_CASE("require_fs_uuid takes a UUID as blkid prints it") {
  CHECK_FALSE(CheckFsUuid("0123abcd-ef01-4234-8567-89ABCDEF0123").has_value());
  CHECK_FALSE(CheckFsUuid("0123abcdef014234856789abcdef0123").has_value());
  CHECK_THAT(*CheckFsUuid("0123abcd-ef01"), Catch::Contains("has 12 hex digits"));
  CHECK_THAT(*CheckFsUuid("/dev/sdb1"), Catch::Contains("is not a filesystem UUID"));
}
