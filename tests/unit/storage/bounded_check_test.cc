// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/storage/bounded_check.h"

#include <unistd.h>

#include <catch2/catch.hpp>

using namespace pmmha;
using std::chrono::milliseconds;

TEST_CASE("a check's Status comes back from the child as is") {
  static const Status cases[] = {
      Status::Ok(),
      Status::Error("cannot write '/srv/x': the filesystem is read-only"),
      Status::NotRunning("a reason\nwith a newline"),
  };
  for (const Status& want : cases) {
    Status got =
        RunBoundedCheck("a check", Deadline::After(milliseconds(5000)), [&](ChildProgress& p) {
          p.Step("working");
          return want;
        });
    CHECK(got.code() == want.code());
    if (want.code() == ExitCode::kNotRunning) {
      CHECK(got.reason() == "a reason with a newline");
    } else {
      CHECK(got.reason() == want.reason());
    }
  }
}

TEST_CASE("a hung check fails at the deadline and says where it hung") {
  auto start = std::chrono::steady_clock::now();
  Status s = RunBoundedCheck("read check of '/srv'", Deadline::After(milliseconds(300)),
                             [](ChildProgress& p) {
                               p.Step("stat of '/srv'");
                               for (;;) pause();
                               return Status::Ok();
                             });
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK_THAT(s.reason(), Catch::StartsWith("read check of '/srv'"));
  CHECK_THAT(s.reason(), Catch::EndsWith("(stuck in stat of '/srv')"));
  CHECK(took < milliseconds(1500));
}

TEST_CASE("a check that dies without a result is a failure") {
  Status s = RunBoundedCheck("a check", Deadline::After(milliseconds(5000)), [](ChildProgress&) {
    _exit(3);
    return Status::Ok();
  });
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.reason(), Catch::Contains("without a result"));
}

TEST_CASE("an exception in the check becomes its failure") {
  Status s = RunBoundedCheck("a check", Deadline::After(milliseconds(5000)),
                             [](ChildProgress&) -> Status { throw std::runtime_error("boom"); });
  CHECK(s.reason() == "internal error: boom");
}
