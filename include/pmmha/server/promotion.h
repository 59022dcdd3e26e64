// SPDX-License-Identifier: GPL-2.0-or-later
// The promotion score of this node's instance of a promotable clone: how an
// agent tells Pacemaker where to promote. pmm-server cannot choose PMM's Raft
// leader, so it reports where the leader is through this score.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "pmmha/core/deadline.h"
#include "pmmha/core/process.h"
#include "pmmha/core/status.h"

namespace pmmha {

// Promotion scores: where PMM leads, Pacemaker must promote.
//   - A new leader scores kNewLeaderScore plus the tenths of a second since
//     the epoch modulo kNewLeaderTerms (a cycle of 22 hours) at which it began
//     to lead, and keeps it while it leads: it outranks a former leader whose
//     own monitor has not yet seen it lose the lead, so the promoted role (and
//     the VIP) moves in the transition the new leader's monitor starts.
//   - A leader promoted for a few seconds settles at kLeaderScore: the next
//     new leader then outranks it by far more than any resource-stickiness
//     the promoted instance gets (the examples' 100 is 10 s of tenths), and
//     whenever it comes (the tenths' cycle decides only between new leaders,
//     never promoted, seconds apart).
inline constexpr int kLeaderScore = 1000;
inline constexpr int kNewLeaderScore = 100000;
inline constexpr int kNewLeaderTerms = 800000;

// The score of a new leader whose PMM began to lead at `now`.
int NewLeaderScoreAt(std::chrono::system_clock::time_point now);

class PromotionScore {
 public:
  virtual ~PromotionScore() = default;
  // Sets this node's score for the resource (a transient node attribute).
  virtual Status Set(int score, const Deadline& deadline) = 0;
  // This node's PMM leads: the leader score it has (a new leader's, or the
  // settled kLeaderScore), or a new leader's (NewLeaderScoreAt) when it did
  // not lead before.
  virtual Status SetLeader(const Deadline& deadline) = 0;
  // Removes it: the instance here must not be promoted.
  virtual Status Clear(const Deadline& deadline) = 0;
};

// `crm_attribute --promotion` (Pacemaker 2.1+; the resource is taken from
// OCF_RESOURCE_INSTANCE in the environment, the node is the local one). The
// last value written is remembered in `cache_path` and not written again
// while it is fresh (60 s): a monitor then forks nothing, and an attribute
// the cluster dropped (a node that left and came back) is restored within a
// minute.
std::unique_ptr<PromotionScore> MakeCrmPromotionScore(ProcessRunner& runner,
                                                      std::string crm_attribute,
                                                      std::string cache_path);

}  // namespace pmmha
