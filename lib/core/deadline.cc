// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/deadline.h"

#include <algorithm>

namespace pmmha {

using std::chrono::milliseconds;

Deadline Deadline::After(Duration budget) {
  return Deadline(Clock::now() + std::max(budget, Duration::zero()));
}

Deadline::Duration Deadline::SafetyMargin(Duration timeout) {
  // Enough to clean up and exit after giving up, small enough that a short
  // timeout still leaves most of the budget for the work.
  Duration margin = std::clamp(timeout / 10, Duration(500), Duration(5000));
  return std::min(margin, timeout / 2);
}

Deadline Deadline::ForOperation(Duration timeout) { return After(timeout - SafetyMargin(timeout)); }

Deadline Deadline::Expired() { return Deadline(Clock::now() - Duration(1)); }

Deadline::Duration Deadline::Remaining() const {
  auto left = std::chrono::duration_cast<Duration>(at_ - Clock::now());
  return std::max(left, Duration::zero());
}

Deadline Deadline::Within(Duration budget) const {
  return Deadline(std::min(at_, Clock::now() + std::max(budget, Duration::zero())));
}

Deadline Deadline::Fraction(double fraction) const {
  fraction = std::clamp(fraction, 0.0, 1.0);
  auto left = at_ - Clock::now();
  if (left <= Clock::duration::zero()) return *this;
  return Deadline(Clock::now() + std::chrono::duration_cast<Clock::duration>(left * fraction));
}

}  // namespace pmmha
