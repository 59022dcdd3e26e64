// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/agent.h"

#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "pmmha/core/text.h"

#include "capture.h"

using namespace pmmha;

namespace {

struct Calls {
  std::vector<std::string> handlers;
  int validations = 0;
  long long remaining_ms = -1;
  long long count = -1;
  bool probe = false;
  Status start_result;
  Status validate_result;
};
Calls calls;

const ParamSpec kCount{.name = "count",
                       .type = ParamType::kInteger,
                       .default_value = "5",
                       .shortdesc = "How many",
                       .min = 1,
                       .max = 100};
const ParamSpec kName{.name = "name", .shortdesc = "A name"};

Status Record(Context& ctx) {
  calls.handlers.push_back(ctx.request().action);
  calls.remaining_ms = ctx.deadline().Remaining().count();
  calls.count = ctx.params().Integer(kCount);
  calls.probe = ctx.IsProbe();
  return Status::Ok();
}
Status Start(Context& ctx) {
  Record(ctx);
  return calls.start_result;
}
Status Throw(Context& ctx) {
  Record(ctx);
  throw std::runtime_error("boom");
}
Status Validate(Context&) {
  ++calls.validations;
  return calls.validate_result;
}

const AgentSpec kAgent{
    .name = "pmm-test",
    .version = "9.9.9",
    .shortdesc = "Test agent",
    .longdesc = "An agent for the dispatcher tests.",
    .params = {&kCount, &kName},
    .foreign = {{"lvs_support", "ocf:heartbeat:IPaddr2", "no LVS", IsOcfFalse}},
    .actions = {{.name = "start", .timeout_s = 120, .handler = Start},
                {.name = "stop", .timeout_s = 20, .handler = Record},
                {.name = "monitor", .timeout_s = 20, .handler = Record, .interval_s = 10},
                {.name = "promote", .timeout_s = 20, .handler = Throw},
                {.name = "demote", .timeout_s = 20}},
    .validate = Validate,
};

struct Run {
  int rc;
  std::string out, err;
};

Run Invoke(std::vector<const char*> args,
           std::map<std::string, std::string, std::less<>> vars = {}) {
  args.insert(args.begin(), "pmm-test");
  CaptureOutput capture;
  int rc =
      RunAgent(kAgent, static_cast<int>(args.size()), args.data(), Environment(std::move(vars)));
  return {rc, capture.out(), capture.err()};
}

int CountOf(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1))
    ++n;
  return n;
}

}  // namespace

TEST_CASE("meta-data and usage succeed without parameters and run nothing else") {
  for (const char* action : {"meta-data", "usage"}) {
    calls = {};
    // An invalid value must not matter to them.
    auto r = Invoke({action}, {{"OCF_RESKEY_count", "bogus"}});
    INFO(action);
    CHECK(r.rc == 0);
    CHECK(calls.handlers.empty());
    CHECK(calls.validations == 0);
    CHECK_FALSE(r.out.empty());
  }
}

TEST_CASE("no action prints the usage and returns ERR_ARGS") {
  auto r = Invoke({});
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("usage: pmm-test"));
}

TEST_CASE("an unknown or handler-less action returns 3 with the usage") {
  for (const char* action : {"migrate_to", "demote"}) {
    calls = {};
    auto r = Invoke({action});
    INFO(action);
    CHECK(r.rc == 3);
    CHECK_THAT(r.err, Catch::Contains("usage: pmm-test"));
    CHECK(LastLine(r.err) ==
          std::string("ocf-exit-reason:action '") + action + "' is not implemented");
    CHECK(calls.handlers.empty());
  }
}

TEST_CASE("every other action validates first") {
  SECTION("a bad table value stops the action with 6") {
    calls = {};
    auto r = Invoke({"start"}, {{"OCF_RESKEY_count", "500"}});
    CHECK(r.rc == 6);
    CHECK(calls.handlers.empty());
    CHECK(calls.validations == 0);
    CHECK(LastLine(r.err) ==
          "ocf-exit-reason:parameter 'count' = '500': is out of range (1 to 100)");
  }
  SECTION("the agent's check runs after the table") {
    calls = {};
    calls.validate_result = Status::NotInstalled("podman is missing");
    auto r = Invoke({"monitor"});
    CHECK(r.rc == 5);
    CHECK(calls.validations == 1);
    CHECK(calls.handlers.empty());
    CHECK(LastLine(r.err) == "ocf-exit-reason:podman is missing");
  }
  SECTION("validate-all returns the validation alone") {
    calls = {};
    auto ok = Invoke({"validate-all"});
    CHECK(ok.rc == 0);
    CHECK(calls.validations == 1);
    CHECK(calls.handlers.empty());
    calls.validate_result = Status::NotConfigured("bad");
    CHECK(Invoke({"validate-all"}).rc == 6);
    CHECK(Invoke({"validate-all"}, {{"OCF_RESKEY_count", "x"}}).rc == 6);
  }
}

TEST_CASE("a stock agent's parameter we lack is refused by start, never by stop or a probe") {
  const std::map<std::string, std::string, std::less<>> lvs = {{"OCF_RESKEY_lvs_support", "true"}};
  calls = {};
  auto start = Invoke({"start"}, lvs);
  CHECK(start.rc == 6);
  CHECK(LastLine(start.err) ==
        "ocf-exit-reason:parameter 'lvs_support' = 'true' of ocf:heartbeat:IPaddr2 is not "
        "supported: no LVS");
  CHECK(Invoke({"validate-all"}, lvs).rc == 6);
  CHECK(calls.handlers.empty());
  CHECK(Invoke({"stop"}, lvs).rc == 0);
  auto probe = lvs;
  probe["OCF_RESKEY_CRM_meta_interval"] = "0";
  CHECK(Invoke({"monitor"}, probe).rc == 0);
  CHECK(calls.handlers == std::vector<std::string>{"stop", "monitor"});
}

TEST_CASE("a handler runs once and its code is the exit code") {
  calls = {};
  auto r = Invoke({"stop"}, {{"OCF_RESKEY_count", "7"}});
  CHECK(r.rc == 0);
  CHECK(calls.handlers == std::vector<std::string>{"stop"});
  CHECK(calls.count == 7);
  CHECK_THAT(r.err, !Catch::Contains("ocf-exit-reason"));
}

TEST_CASE("the exit reason is written once, as the last stderr line") {
  calls = {};
  calls.start_result = Status::Error("PMM did not become ready");
  auto r = Invoke({"start"});
  CHECK(r.rc == 1);
  CHECK(CountOf(r.err, "ocf-exit-reason:") == 1);
  CHECK(LastLine(r.err) == "ocf-exit-reason:PMM did not become ready");
}

TEST_CASE("exit codes pass through unchanged") {
  for (ExitCode code : {ExitCode::kNotRunning, ExitCode::kRunningPromoted, ExitCode::kDegraded,
                        ExitCode::kDegradedPromoted, ExitCode::kErrPerm}) {
    calls = {};
    calls.start_result = Status(code);
    CHECK(Invoke({"start"}).rc == static_cast<int>(code));
  }
}

TEST_CASE("an exception becomes ERR_GENERIC with a reason") {
  calls = {};
  auto r = Invoke({"promote"});
  CHECK(r.rc == 1);
  CHECK(LastLine(r.err) == "ocf-exit-reason:internal error: boom");
}

TEST_CASE("the deadline comes from CRM_meta_timeout, else from the meta-data hint") {
  calls = {};
  Invoke({"start"}, {{"OCF_RESKEY_CRM_meta_timeout", "10000"}});
  CHECK(calls.remaining_ms <= 9000);
  CHECK(calls.remaining_ms > 8800);
  calls = {};
  Invoke({"start"});
  CHECK(calls.remaining_ms <= 115000);  // 120 s hint minus 5 s margin
  CHECK(calls.remaining_ms > 114800);
}

TEST_CASE("probe detection reaches the handler") {
  calls = {};
  Invoke({"monitor"}, {{"OCF_RESKEY_CRM_meta_interval", "0"}});
  CHECK(calls.probe);
  calls = {};
  Invoke({"monitor"}, {{"OCF_RESKEY_CRM_meta_interval", "10000"}});
  CHECK_FALSE(calls.probe);
}

TEST_CASE("the command line for humans") {
  SECTION("--PARAM VALUE overrides the environment") {
    calls = {};
    auto r = Invoke({"stop", "--count", "9"}, {{"OCF_RESKEY_count", "3"}});
    CHECK(r.rc == 0);
    CHECK(calls.count == 9);
  }
  SECTION("--param=value and meta options") {
    calls = {};
    auto r = Invoke({"monitor", "--count=8", "--timeout", "4", "--interval", "0"});
    CHECK(r.rc == 0);
    CHECK(calls.count == 8);
    CHECK(calls.probe);
    CHECK(calls.remaining_ms <= 3500);
  }
  SECTION("values given on the command line are validated like the environment") {
    calls = {};
    auto r = Invoke({"start", "--count", "0"});
    CHECK(r.rc == 6);
    CHECK(calls.handlers.empty());
  }
  SECTION("words after the action are ignored, as OCF asks") {
    calls = {};
    CHECK(Invoke({"stop", "extra", "words"}).rc == 0);
    CHECK(calls.handlers.size() == 1);
  }
  SECTION("unknown options and missing values are argument errors") {
    for (auto args : std::vector<std::vector<const char*>>{{"start", "--bogus", "1"},
                                                           {"start", "--count"},
                                                           {"start", "--timeout", "soon"},
                                                           {"--count", "1"}}) {
      calls = {};
      auto r = Invoke(args);
      CHECK(r.rc == 2);
      CHECK(calls.handlers.empty());
      CHECK_THAT(LastLine(r.err), Catch::StartsWith("ocf-exit-reason:"));
    }
  }
  SECTION("--help and --version") {
    auto help = Invoke({"--help"});
    CHECK(help.rc == 0);
    CHECK_THAT(help.out, Catch::Contains("--count VALUE"));
    CHECK_THAT(help.out, Catch::Contains("default 5"));
    auto version = Invoke({"--version"});
    CHECK(version.rc == 0);
    CHECK(version.out == "pmm-test 9.9.9\n");
  }
}

TEST_CASE("StatePath lives in HA_RSCTMP and names agent and instance") {
  calls = {};
  Request request;
  request.instance = "vip";
  request.rsc_tmp = "/run/resource-agents";
  Params params;
  Deadline deadline = Deadline::Expired();
  Logger log;
  Environment env;
  Context ctx(request, params, deadline, log, env, "pmm-vip");
  CHECK(ctx.StatePath("arp") == "/run/resource-agents/pmm-vip-vip.arp");
}
