// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/server/image_agent.h"

#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace pmmha;
using std::chrono::milliseconds;

namespace {

// An engine that only knows images: present or not, pulls that work or not.
class ImageEngine : public ContainerEngine {
 public:
  bool present = false;
  bool reachable = true;
  bool pull_works = true;
  std::vector<std::string> calls;

  EngineKind kind() const override { return EngineKind::kPodman; }
  std::string Describe() const override { return "fake"; }
  Result<ContainerInfo> Inspect(const std::string&, const Deadline&) override {
    FAIL("pmm-image never looks at containers");
    return ContainerInfo{};
  }
  Result<bool> HasImage(const std::string& image, const Deadline&) override {
    CHECK(image == "docker.io/percona/pmm-server:3");
    calls.push_back("has");
    if (!reachable) return Status::Error("cannot connect to the podman API");
    return present;
  }
  Status Pull(const std::string&, const Deadline&) override {
    calls.push_back("pull");
    if (!pull_works) return Status::Error("podman pull failed: registry unreachable");
    present = true;
    return Status::Ok();
  }
  Status Run(const std::vector<std::string>&, const Deadline&) override { return Unexpected(); }
  Status Start(const std::string&, const Deadline&) override { return Unexpected(); }
  Status Stop(const std::string&, std::chrono::seconds, const Deadline&) override {
    return Unexpected();
  }
  Status Kill(const std::string&, const Deadline&) override { return Unexpected(); }
  // Stop never removes the image, nor anything else.
  Status Remove(const std::string&, const Deadline&) override { return Unexpected(); }
  Status RemoveFromStorage(const std::string&, const Deadline&) override { return Unexpected(); }
  Result<std::string> Logs(const std::string&, int, const Deadline&) override {
    return Unexpected();
  }

 private:
  Status Unexpected() {
    FAIL("pmm-image touches images only");
    return Status::Error();
  }
};

class Attributes : public NodeAttributes {
 public:
  std::string image = "(none)";
  Status Set(std::string_view name, std::string_view value, const Deadline&) override {
    CHECK(name == kAttrImage);
    image = value;
    return Status::Ok();
  }
  Status Delete(std::string_view, const Deadline&) override {
    image = "(none)";
    return Status::Ok();
  }
};

struct Fixture {
  ImageConfig config;
  ImageEngine engine;
  Attributes attributes;
  Logger log;
  ImageKeeper keeper{config, engine, &attributes, log};
  Fixture() {
    config.image = "docker.io/percona/pmm-server:3";
    config.started_path = "/tmp/pmmha-unit-image-" + std::to_string(getpid());
    unlink(config.started_path.c_str());
  }
  ~Fixture() { unlink(config.started_path.c_str()); }
  Deadline Soon() { return Deadline::After(milliseconds(2000)); }
};

}  // namespace

TEST_CASE("pmm-image start: the pull policy, and what it publishes") {
  static const struct {
    const char* name;
    PullPolicy pull;
    bool present;
    bool pull_works;
    ExitCode rc;
    const char* calls;
    const char* attribute;
  } cases[] = {
      {"present, missing", PullPolicy::kMissing, true, true, ExitCode::kSuccess, "has", "present"},
      {"absent, missing", PullPolicy::kMissing, false, true, ExitCode::kSuccess, "has pull has",
       "present"},
      // A registry outage: a soft failure, the cluster retries.
      {"absent, missing, pull fails", PullPolicy::kMissing, false, false, ExitCode::kErrGeneric,
       "has pull has", "absent"},
      // Only the admin can load it: hard, on this node.
      {"absent, never", PullPolicy::kNever, false, true, ExitCode::kErrInstalled, "has", "absent"},
      {"present, never", PullPolicy::kNever, true, true, ExitCode::kSuccess, "has", "present"},
      {"always", PullPolicy::kAlways, true, true, ExitCode::kSuccess, "pull has", "present"},
      // The registry is down but the node has an image: it serves.
      {"always, pull fails, present", PullPolicy::kAlways, true, false, ExitCode::kSuccess,
       "pull has", "present"},
      {"always, pull fails, absent", PullPolicy::kAlways, false, false, ExitCode::kErrGeneric,
       "pull has", "absent"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Fixture f;
    f.config.pull = c.pull;
    f.engine.present = c.present;
    f.engine.pull_works = c.pull_works;
    Status s = f.keeper.Start(f.Soon());
    CHECK(s.code() == c.rc);
    std::string calls;
    for (const auto& call : f.engine.calls) calls += (calls.empty() ? "" : " ") + call;
    CHECK(calls == c.calls);
    CHECK(f.attributes.image == c.attribute);
    // Only a start that succeeded makes the monitor (and probes) look.
    CHECK((access(f.config.started_path.c_str(), F_OK) == 0) == s.ok());
  }
}

TEST_CASE("pmm-image monitor: 7 unless started here, then the image decides") {
  Fixture f;
  f.engine.present = true;
  CHECK(f.keeper.Monitor(f.Soon(), true).code() == ExitCode::kNotRunning);
  CHECK(f.keeper.Monitor(f.Soon(), false).code() == ExitCode::kNotRunning);
  CHECK(f.engine.calls.empty());
  CHECK(f.attributes.image == "(none)");

  REQUIRE(f.keeper.Start(f.Soon()).ok());
  CHECK(f.keeper.Monitor(f.Soon(), false).ok());
  CHECK(f.keeper.Monitor(f.Soon(), true).ok());
  CHECK(f.attributes.image == "present");

  f.engine.present = false;  // someone ran podman rmi
  Status gone = f.keeper.Monitor(f.Soon(), false);
  CHECK(gone.code() == ExitCode::kErrGeneric);
  CHECK_THAT(gone.reason(), Catch::Contains("is gone from this node") &&
                                Catch::Contains("recovery pulls it again"));
  CHECK(f.attributes.image == "absent");

  f.config.pull = PullPolicy::kNever;
  CHECK_THAT(f.keeper.Monitor(f.Soon(), false).reason(), Catch::Contains("load it here"));

  f.engine.reachable = false;
  f.attributes.image = "absent";
  CHECK(f.keeper.Monitor(f.Soon(), false).code() == ExitCode::kErrGeneric);
  CHECK(f.attributes.image == "absent");  // nothing known, nothing changed
}

TEST_CASE("pmm-image stop forgets start, removes nothing, and says what the node has") {
  Fixture f;
  f.engine.present = true;
  REQUIRE(f.keeper.Start(f.Soon()).ok());
  CHECK(f.keeper.Stop(f.Soon()).ok());
  CHECK(f.keeper.Monitor(f.Soon(), true).code() == ExitCode::kNotRunning);
  CHECK(f.attributes.image == "present");

  // A node whose start failed stays "absent": a location rule keeps PMM off.
  f.engine.present = false;
  CHECK(f.keeper.Stop(f.Soon()).ok());
  CHECK(f.attributes.image == "absent");

  // An engine that cannot be asked fails no stop and changes nothing.
  f.engine.reachable = false;
  CHECK(f.keeper.Stop(f.Soon()).ok());
  CHECK(f.attributes.image == "absent");
}
