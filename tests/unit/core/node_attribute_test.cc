// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/node_attribute.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace pmmha;
using std::chrono::milliseconds;

namespace {

// attrd_updater: records each command line, fails when told to.
class FakeAttrd : public ProcessRunner {
 public:
  std::vector<std::string> calls;  // "NAME=VALUE" or "NAME deleted"
  int exit_code = 0;
  Result<ProcessResult> Run(const std::vector<std::string>& argv, const Deadline&,
                            const ProcessOptions&) override {
    REQUIRE(argv.size() >= 4);
    CHECK(argv[0] == "/usr/sbin/attrd_updater");
    CHECK(argv[1] == "-n");
    // Never -p: a private attribute is not in the CIB, where crm_mon looks.
    for (const auto& a : argv) CHECK(a != "-p");
    calls.push_back(argv[3] == "-U" ? argv[2] + "=" + argv.at(4) : argv[2] + " deleted");
    ProcessResult r;
    r.exited = true;
    r.exit_code = exit_code;
    if (exit_code != 0) r.err = "Could not update pmm-state\n";
    return r;
  }
};

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/pmmha-attr-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("an attribute is written only when its value changes, so a monitor forks nothing") {
  TempDir dir;
  FakeAttrd attrd;
  auto attrs = MakeAttrdAttributes(attrd, "/usr/sbin/attrd_updater", dir.path);
  const Deadline later = Deadline::After(milliseconds(1000));
  REQUIRE(attrs->Set(kAttrState, "ready", later).ok());
  REQUIRE(attrs->Set(kAttrState, "ready", later).ok());
  REQUIRE(attrs->Set(kAttrVersion, "3.4.1", later).ok());
  REQUIRE(attrs->Set(kAttrState, "degraded", later).ok());
  REQUIRE(attrs->Set(kAttrState, "degraded", later).ok());
  REQUIRE(attrs->Delete(kAttrState, later).ok());
  REQUIRE(attrs->Delete(kAttrState, later).ok());
  REQUIRE(attrs->Set(kAttrState, "ready", later).ok());
  CHECK(attrd.calls == std::vector<std::string>{"pmm-state=ready", "pmm-version=3.4.1",
                                                "pmm-state=degraded", "pmm-state deleted",
                                                "pmm-state=ready"});
}

TEST_CASE("a value written long ago is written again: the cluster may have dropped it") {
  TempDir dir;
  FakeAttrd attrd;
  auto attrs = MakeAttrdAttributes(attrd, "/usr/sbin/attrd_updater", dir.path);
  const Deadline later = Deadline::After(milliseconds(1000));
  REQUIRE(attrs->Set(kAttrImage, "present", later).ok());
  const std::string cache = dir.path + "/pmm-attr.pmm-image";
  const auto old =
      std::filesystem::file_time_type::clock::now() - kAttributeRefresh - std::chrono::seconds(5);
  std::filesystem::last_write_time(cache, old);
  REQUIRE(attrs->Set(kAttrImage, "present", later).ok());
  REQUIRE(attrs->Set(kAttrImage, "present", later).ok());
  CHECK(attrd.calls == std::vector<std::string>{"pmm-image=present", "pmm-image=present"});
}

TEST_CASE("a failed attrd_updater is an error to log, values wait a minute, deletions do not") {
  TempDir dir;
  FakeAttrd attrd;
  attrd.exit_code = 102;  // attrd does not answer: no cluster here
  auto attrs = MakeAttrdAttributes(attrd, "/usr/sbin/attrd_updater", dir.path);
  const Deadline later = Deadline::After(milliseconds(1000));
  Status s = attrs->Set(kAttrState, "ready", later);
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK_THAT(s.reason(), Catch::Contains("pmm-state") && Catch::Contains("Could not update"));
  // Every monitor would pay a process start for nothing.
  CHECK(attrs->Set(kAttrState, "ready", later).ok());
  CHECK(attrs->Set(kAttrVersion, "3.4.1", later).ok());
  CHECK(attrd.calls.size() == 1);
  // A stop's deletion is tried all the same: a stale "ready" would mislead.
  CHECK_FALSE(attrs->Delete(kAttrState, later).ok());
  CHECK(attrd.calls.size() == 2);
  const auto old =
      std::filesystem::file_time_type::clock::now() - kAttributeRetry - std::chrono::seconds(5);
  std::filesystem::last_write_time(dir.path + "/pmm-attr.failed", old);
  attrd.exit_code = 0;
  REQUIRE(attrs->Set(kAttrState, "ready", later).ok());
  REQUIRE(attrs->Set(kAttrVersion, "3.4.1", later).ok());
  CHECK(attrd.calls == std::vector<std::string>{"pmm-state=ready", "pmm-state deleted",
                                                "pmm-state=ready", "pmm-version=3.4.1"});
}

TEST_CASE("without attrd_updater (no Pacemaker) nothing runs and nothing fails") {
  TempDir dir;
  FakeAttrd attrd;
  auto attrs = MakeAttrdAttributes(attrd, "", dir.path);
  const Deadline later = Deadline::After(milliseconds(1000));
  CHECK(attrs->Set(kAttrState, "ready", later).ok());
  CHECK(attrs->Delete(kAttrState, later).ok());
  CHECK(attrd.calls.empty());
}
