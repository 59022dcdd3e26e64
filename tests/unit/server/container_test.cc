// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/server/container.h"

#include <catch2/catch.hpp>

using namespace pmmha;

TEST_CASE("podman's inspect array is parsed") {
  auto info = ParseContainerInspect(R"([{
    "Id": "abc", "ImageName": "localhost/pmm-standin:3",
    "State": {"Status": "running", "Running": true, "Pid": 4242, "ConmonPid": 4240, "ExitCode": 0},
    "Mounts": [{"Type": "bind", "Source": "/mnt/pmm", "Destination": "/srv"}]
  }])");
  REQUIRE(info.ok());
  CHECK(info->state == ContainerState::kRunning);
  CHECK(info->id == "abc");
  CHECK(info->image == "localhost/pmm-standin:3");
  CHECK(info->pid == 4242);
  CHECK(info->conmon_pid == 4240);
  REQUIRE(info->mounts.size() == 1);
  CHECK(info->mounts[0].source == "/mnt/pmm");
  CHECK(info->mounts[0].destination == "/srv");
  CHECK(info->labels.empty());
}

TEST_CASE("labels are parsed: they tell our containers from others") {
  auto info = ParseContainerInspect(R"([{
    "Id": "abc", "State": {"Status": "running", "Pid": 7},
    "Config": {"Labels": {"io.percona.pmm-ha.resource": "pmm:1", "n": 3}}
  }])");
  REQUIRE(info.ok());
  CHECK(info->labels ==
        std::map<std::string, std::string>{{"io.percona.pmm-ha.resource", "pmm:1"}});
  auto none =
      ParseContainerInspect(R"({"State": {"Status": "exited"}, "Config": {"Labels": null}})");
  REQUIRE(none.ok());
  CHECK(none->labels.empty());
}

TEST_CASE("a missing engine fails every call with its reason") {
  auto engine = MakeUnavailableEngine("neither podman nor docker is installed");
  auto info = engine->Inspect("pmm", Deadline::After(std::chrono::seconds(1)));
  REQUIRE_FALSE(info.ok());
  CHECK(info.status().reason() == "neither podman nor docker is installed");
  CHECK_FALSE(engine->Remove("pmm", Deadline::After(std::chrono::seconds(1))).ok());
}

TEST_CASE("docker's API object is parsed") {
  auto info = ParseContainerInspect(R"({
    "Id": "def", "Config": {"Image": "percona/pmm-server:3"},
    "State": {"Status": "exited", "Running": false, "Pid": 0, "ExitCode": 137}
  })");
  REQUIRE(info.ok());
  CHECK(info->state == ContainerState::kExited);
  CHECK(info->exit_code == 137);
  CHECK(info->conmon_pid == 0);  // docker has none
  CHECK(info->image == "percona/pmm-server:3");
}

TEST_CASE("engine state words map to states") {
  static const struct {
    const char* text;
    ContainerState state;
  } cases[] = {
      {"created", ContainerState::kCreated},       {"configured", ContainerState::kCreated},
      {"running", ContainerState::kRunning},       {"paused", ContainerState::kPaused},
      {"stopping", ContainerState::kStopping},     {"exited", ContainerState::kExited},
      {"stopped", ContainerState::kExited},        {"dead", ContainerState::kDead},
      {"restarting", ContainerState::kRestarting}, {"weird", ContainerState::kUnknown},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto info = ParseContainerInspect(std::string(R"({"State":{"Status":")") + c.text + "\"}}");
    REQUIRE(info.ok());
    CHECK(info->state == c.state);
  }
}

TEST_CASE("an empty array means no container, junk is an error") {
  auto none = ParseContainerInspect("[]");
  REQUIRE(none.ok());
  CHECK(none->state == ContainerState::kAbsent);
  CHECK_FALSE(ParseContainerInspect("Error: no such container").ok());
  CHECK_FALSE(ParseContainerInspect(R"({"Id":"x"})").ok());
}

TEST_CASE("default API sockets") {
  CHECK(DefaultApiSocket(EngineKind::kPodman, "") == "/run/podman/podman.sock");
  CHECK(DefaultApiSocket(EngineKind::kDocker, "") == "/var/run/docker.sock");
  CHECK(DefaultApiSocket(EngineKind::kDocker, "unix:///tmp/d.sock") == "/tmp/d.sock");
  CHECK(DefaultApiSocket(EngineKind::kDocker, "tcp://1.2.3.4:2375") == "/var/run/docker.sock");
}

namespace {

class RecordingRunner : public ProcessRunner {
 public:
  std::vector<std::vector<std::string>> runs;
  Result<ProcessResult> Run(const std::vector<std::string>& argv, const Deadline&,
                            const ProcessOptions&) override {
    runs.push_back(argv);
    ProcessResult r;
    r.exited = true;
    r.exit_code = 0;
    return r;
  }
};

class NoHttp : public HttpClient {
 public:
  int requests = 0;
  Result<HttpResponse> Send(const HttpRequest&, const Deadline&) override {
    ++requests;
    return Status::Error("no HTTP in this test");
  }
};

}  // namespace

TEST_CASE("both backends create the container with the CLI, the agent's words unchanged") {
  // The create arguments (restart policy no, the stop timeout) are the
  // CLI's: the API backend has no create of its own that could drop them.
  const std::vector<std::string> args{"--detach", "--name",         "pmm", "--restart",
                                      "no",       "--stop-timeout", "285", "img:3"};
  for (bool api : {false, true}) {
    INFO("api " << api);
    RecordingRunner runner;
    NoHttp http;
    auto engine = MakeCliEngine(EngineKind::kDocker, "/usr/bin/docker", runner);
    if (api) engine = MakeApiEngine(EngineKind::kDocker, "/run/d.sock", http, std::move(engine));
    REQUIRE(engine->Run(args, Deadline::After(std::chrono::seconds(5))).ok());
    REQUIRE(runner.runs.size() == 1);
    std::vector<std::string> want{"/usr/bin/docker", "run"};
    want.insert(want.end(), args.begin(), args.end());
    CHECK(runner.runs[0] == want);
    CHECK(http.requests == 0);
  }
}

TEST_CASE("podman's API service not answering: the CLI does the work (not so for dockerd)") {
  const auto soon = [] { return Deadline::After(std::chrono::seconds(5)); };
  for (auto kind : {EngineKind::kPodman, EngineKind::kDocker}) {
    const bool podman = kind == EngineKind::kPodman;
    INFO(EngineName(kind));
    RecordingRunner runner;
    NoHttp http;
    auto engine =
        MakeApiEngine(kind, "/run/e.sock", http,
                      MakeCliEngine(kind, podman ? "/usr/bin/podman" : "/usr/bin/docker", runner));
    CHECK(engine->Stop("pmm", std::chrono::seconds(7), soon()).ok() == podman);
    CHECK(engine->Kill("pmm", soon()).ok() == podman);
    CHECK(engine->Remove("pmm", soon()).ok() == podman);
    CHECK(engine->Start("pmm", soon()).ok() == podman);
    engine->Inspect("pmm", soon());
    CHECK(http.requests == 5);
    if (!podman) {
      CHECK(runner.runs.empty());
      continue;
    }
    REQUIRE(runner.runs.size() == 5);
    CHECK(runner.runs[0] == std::vector<std::string>{"/usr/bin/podman", "stop", "-t", "7", "pmm"});
    CHECK(runner.runs[4][1] == "container");
    CHECK(runner.runs[4][2] == "inspect");
  }
}
