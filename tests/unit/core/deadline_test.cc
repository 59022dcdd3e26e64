// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/deadline.h"

#include <catch2/catch.hpp>

using pmmha::Deadline;
using std::chrono::milliseconds;

TEST_CASE("the safety margin is 10% of the timeout, within 500 ms and 5 s") {
  static const struct {
    long long timeout_ms;
    long long margin_ms;
  } cases[] = {
      {20000, 2000},   // ocf-tester's default timeout
      {5000, 500},     // floor
      {3000, 500},     // floor
      {600, 300},      // never more than half of a tiny timeout
      {300000, 5000},  // cap: a 300 s PMM start keeps 295 s
      {60000, 5000},  {0, 0},
  };
  for (const auto& c : cases) {
    INFO("timeout " << c.timeout_ms);
    CHECK(Deadline::SafetyMargin(milliseconds(c.timeout_ms)).count() == c.margin_ms);
  }
}

TEST_CASE("an operation deadline leaves the margin before Pacemaker's kill") {
  Deadline d = Deadline::ForOperation(milliseconds(20000));
  auto left = d.Remaining().count();
  CHECK(left <= 18000);
  CHECK(left > 17900);
}

TEST_CASE("remaining time never goes negative and expiry is seen") {
  Deadline d = Deadline::Expired();
  CHECK(d.HasExpired());
  CHECK(d.Remaining().count() == 0);
  CHECK(Deadline::After(milliseconds(-5)).Remaining().count() == 0);
}

TEST_CASE("Within takes the earlier of the two") {
  Deadline d = Deadline::After(milliseconds(10000));
  CHECK(d.Within(milliseconds(100)).Remaining().count() <= 100);
  CHECK(d.Within(milliseconds(60000)).Remaining().count() <= 10000);
  CHECK(d.Within(milliseconds(60000)).Remaining().count() > 9900);
}

TEST_CASE("Fraction splits the remaining budget") {
  Deadline d = Deadline::After(milliseconds(10000));
  auto half = d.Fraction(0.5).Remaining().count();
  CHECK(half <= 5000);
  CHECK(half > 4900);
  CHECK(d.Fraction(2.0).Remaining().count() <= 10000);
  CHECK(d.Fraction(-1).Remaining().count() == 0);
  CHECK(Deadline::Expired().Fraction(0.5).HasExpired());
}
