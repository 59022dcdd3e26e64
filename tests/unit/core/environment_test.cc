// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/environment.h"

#include <sched.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

using pmmha::Environment;
using pmmha::ExitCode;
using pmmha::ParseRequest;
using pmmha::Request;

namespace {
Environment Env(std::map<std::string, std::string, std::less<>> vars) {
  return Environment(std::move(vars));
}
}  // namespace

TEST_CASE("parameters and meta attributes come from OCF_RESKEY_*") {
  auto env = Env({{"OCF_RESKEY_ip", "192.0.2.10"},
                  {"OCF_RESKEY_CRM_meta_clone_max", "3"},
                  {"OCF_RESKEY_CRM_meta_on_node", "node1"}});
  CHECK(env.Param("ip") == "192.0.2.10");
  CHECK_FALSE(env.Param("nic").has_value());
  CHECK(env.Meta("clone-max") == "3");  // '-' becomes '_'
  CHECK(env.Meta("on_node") == "node1");
}

TEST_CASE("a monitor with interval 0 is a probe, with an interval it is not") {
  static const struct {
    const char* action;
    const char* interval;
    bool probe;
  } cases[] = {
      {"monitor", "0", true}, {"monitor", nullptr, true}, {"monitor", "10000", false},
      {"start", "0", false},  {"stop", nullptr, false},
  };
  for (const auto& c : cases) {
    INFO(c.action << " interval " << (c.interval ? c.interval : "unset"));
    Environment env;
    if (c.interval) env.Set("OCF_RESKEY_CRM_meta_interval", c.interval);
    auto r = ParseRequest(env, c.action);
    REQUIRE(r.ok());
    CHECK(r->IsProbe() == c.probe);
  }
}

TEST_CASE("timeouts and intervals are milliseconds") {
  auto r = ParseRequest(
      Env({{"OCF_RESKEY_CRM_meta_timeout", "20000"}, {"OCF_RESKEY_CRM_meta_interval", "10000"}}),
      "monitor");
  REQUIRE(r.ok());
  REQUIRE(r->meta.timeout.has_value());
  CHECK(r->meta.timeout->count() == 20000);
  CHECK(r->meta.interval.count() == 10000);
}

TEST_CASE("no timeout when Pacemaker gave none") {
  auto r = ParseRequest(Env({}), "start");
  REQUIRE(r.ok());
  CHECK_FALSE(r->meta.timeout.has_value());
  CHECK(r->instance == "default");
  CHECK(r->rsc_tmp == "/run/resource-agents");
  CHECK(r->check_level == 0);
}

TEST_CASE("clone and promotable meta attributes") {
  auto r = ParseRequest(Env({{"OCF_RESKEY_CRM_meta_clone", "1"},
                             {"OCF_RESKEY_CRM_meta_clone_max", "3"},
                             {"OCF_RESKEY_CRM_meta_promotable", "true"},
                             {"OCF_RESKEY_CRM_meta_promoted_max", "1"},
                             {"OCF_RESKEY_CRM_meta_notify", "true"},
                             {"OCF_RESKEY_CRM_meta_notify_type", "post"},
                             {"OCF_RESKEY_CRM_meta_notify_operation", "promote"},
                             {"OCF_RESOURCE_INSTANCE", "pmm:1"},
                             {"OCF_CHECK_LEVEL", "20"},
                             {"HA_RSCTMP", "/tmp/rsc"}}),
                        "notify");
  REQUIRE(r.ok());
  CHECK(r->meta.clone);
  CHECK(r->meta.clone_max == 3);
  CHECK(r->meta.promotable);
  CHECK(r->meta.promoted_max == 1);
  CHECK(r->meta.notify);
  CHECK(r->meta.notify_type == "post");
  CHECK(r->meta.notify_operation == "promote");
  CHECK(r->instance == "pmm:1");
  CHECK(r->check_level == 20);
  CHECK(r->rsc_tmp == "/tmp/rsc");
}

TEST_CASE("the pre-2.1 master_max name is understood") {
  auto r = ParseRequest(Env({{"OCF_RESKEY_CRM_meta_master_max", "1"}}), "monitor");
  REQUIRE(r.ok());
  CHECK(r->meta.promoted_max == 1);
  CHECK(r->meta.promotable);
}

TEST_CASE("a promotable clone is known by promoted_max, as Pacemaker passes it") {
  // What Pacemaker 2.1.5 gives a promotable clone's monitor: no promotable.
  auto r = ParseRequest(Env({{"OCF_RESKEY_CRM_meta_clone", "2"},
                             {"OCF_RESKEY_CRM_meta_clone_max", "3"},
                             {"OCF_RESKEY_CRM_meta_master_max", "1"},
                             {"OCF_RESKEY_CRM_meta_promoted_max", "1"},
                             {"OCF_RESKEY_CRM_meta_promoted_node_max", "1"},
                             {"OCF_RESKEY_CRM_meta_role", "Unpromoted"}}),
                        "monitor");
  REQUIRE(r.ok());
  CHECK(r->meta.promotable);
  // A plain clone gets no promoted_max.
  r = ParseRequest(
      Env({{"OCF_RESKEY_CRM_meta_clone", "2"}, {"OCF_RESKEY_CRM_meta_clone_max", "3"}}), "monitor");
  REQUIRE(r.ok());
  CHECK(r->meta.clone);
  CHECK_FALSE(r->meta.promotable);
}

TEST_CASE("malformed numbers are argument errors that name the value") {
  static const struct {
    const char* name;
    const char* value;
  } cases[] = {
      {"OCF_RESKEY_CRM_meta_timeout", "20s"},
      {"OCF_RESKEY_CRM_meta_interval", "-1"},
      {"OCF_RESKEY_CRM_meta_clone_max", "three"},
      {"OCF_CHECK_LEVEL", "deep"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto r = ParseRequest(Env({{c.name, c.value}}), "monitor");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == ExitCode::kErrArgs);
    CHECK_THAT(r.status().reason(), Catch::Contains(std::string("'") + c.value + "'"));
  }
}

TEST_CASE("the node name is Pacemaker's, else the host's name in full") {
  auto given = ParseRequest(Env({{"OCF_RESKEY_CRM_meta_on_node", "node1.example.com"}}), "start");
  REQUIRE(given.ok());
  CHECK(given->NodeName() == "node1.example.com");

  // Run by hand there is no on_node: Pacemaker would call this host by
  // uname's nodename, domain and all. A child in a UTS namespace of its own
  // gives the host a dotted name without renaming the machine.
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const char kName[] = "pmm1.example.com";
    if (unshare(CLONE_NEWUTS) != 0 || sethostname(kName, sizeof kName - 1) != 0) _exit(2);
    _exit(Request{}.NodeName() == kName ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 2) {
    WARN("no UTS namespace here; comparing with this host's own name");
    struct utsname u;
    REQUIRE(uname(&u) == 0);
    CHECK(Request{}.NodeName() == u.nodename);
  } else {
    CHECK(WEXITSTATUS(status) == 0);
  }
}
