// SPDX-License-Identifier: GPL-2.0-or-later
// A point on the monotonic clock by which an operation must be finished.
//
// Pacemaker SIGKILLs the agent's whole process group when the operation
// timeout expires, without a warning signal. Every blocking call in this
// project therefore takes a Deadline, derived from CRM_meta_timeout minus a
// margin that leaves time to clean up, write the exit reason and exit.
#pragma once

#include <chrono>

namespace pmmha {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;
  using Duration = std::chrono::milliseconds;

  // A deadline `budget` from now.
  static Deadline After(Duration budget);
  // The deadline for an operation Pacemaker times out after `timeout`:
  // `timeout - SafetyMargin(timeout)` from now.
  static Deadline ForOperation(Duration timeout);
  // The margin kept below an operation timeout: 10 % of it, at least 500 ms
  // and at most 5 s (never more than half of the timeout).
  static Duration SafetyMargin(Duration timeout);
  // A deadline that has already passed.
  static Deadline Expired();

  explicit Deadline(Clock::time_point at) : at_(at) {}

  Clock::time_point at() const { return at_; }
  // Time left, never negative.
  Duration Remaining() const;
  bool HasExpired() const { return Clock::now() >= at_; }
  // The earlier of this deadline and `budget` from now.
  Deadline Within(Duration budget) const;
  // A deadline `fraction` (0..1) of the remaining time from now: for
  // splitting a stop budget into a graceful and a forced phase.
  Deadline Fraction(double fraction) const;

 private:
  Clock::time_point at_;
};

}  // namespace pmmha
