// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/bounded.h"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>

using namespace pmmha;
using std::chrono::milliseconds;

TEST_CASE("bounded work returns the child's result") {
  auto r = RunBounded("a check", Deadline::After(milliseconds(5000)), [] { return 42; });
  REQUIRE(r.ok());
  CHECK(*r == 42);
}

TEST_CASE("bounded work that hangs is abandoned at the deadline") {
  auto start = std::chrono::steady_clock::now();
  auto r = RunBounded("a hanging check", Deadline::After(milliseconds(300)), [] {
    for (;;) pause();
    return 0;
  });
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == ExitCode::kErrGeneric);
  CHECK_THAT(r.status().reason(), Catch::StartsWith("a hanging check: no answer within"));
  CHECK(took < milliseconds(1500));
}

TEST_CASE("bounded work that dies by a signal is a failure") {
  auto r = RunBounded("a crashing check", Deadline::After(milliseconds(5000)), [] {
    raise(SIGKILL);
    return 0;
  });
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().reason(), Catch::Contains("died by signal 9"));
}

TEST_CASE("no time left means no child") {
  bool ran = false;
  auto r = RunBounded("late", Deadline::Expired(), [&ran] {
    ran = true;
    return 0;
  });
  REQUIRE_FALSE(r.ok());
  CHECK_FALSE(ran);
}
