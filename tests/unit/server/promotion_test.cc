// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/server/promotion.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

using namespace pmmha;
using std::chrono::milliseconds;

namespace {

class CrmAttribute : public ProcessRunner {
 public:
  std::vector<std::string> updates;  // the values written, "delete" for a deletion
  Result<ProcessResult> Run(const std::vector<std::string>& argv, const Deadline&,
                            const ProcessOptions&) override {
    updates.push_back(argv.size() >= 4 && argv[2] == "--update" ? argv[3] : "delete");
    ProcessResult r;
    r.exited = true;
    r.exit_code = 0;
    return r;
  }
};

int Score(const std::string& value) { return std::atoi(value.c_str()); }

}  // namespace

TEST_CASE("a new leader's score says when it began to lead, in tenths of a second") {
  using std::chrono::system_clock;
  const system_clock::time_point epoch{};
  CHECK(NewLeaderScoreAt(epoch) == kNewLeaderScore);
  CHECK(NewLeaderScoreAt(epoch + milliseconds(100)) == kNewLeaderScore + 1);
  CHECK(NewLeaderScoreAt(epoch + milliseconds(199)) == kNewLeaderScore + 1);
  CHECK(NewLeaderScoreAt(epoch + std::chrono::seconds(80000) - milliseconds(100)) ==
        kNewLeaderScore + kNewLeaderTerms - 1);
  CHECK(NewLeaderScoreAt(epoch + std::chrono::seconds(80000)) ==
        kNewLeaderScore);  // the cycle's end
  // Below Pacemaker's INFINITY (1000000): a score, not a requirement; and
  // far above a settled leader's.
  CHECK(kNewLeaderScore + kNewLeaderTerms < 1000000);
  CHECK(kNewLeaderScore >= 100 * kLeaderScore);
}

TEST_CASE("a leader keeps the score it got when it began to lead, a new leader gets a newer one") {
  char tmpl[] = "/tmp/pmmha-score-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string cache = dir + "/score";
  CrmAttribute crm;
  auto promotion = MakeCrmPromotionScore(crm, "crm_attribute", cache);
  const Deadline later = Deadline::After(milliseconds(1000));

  REQUIRE(promotion->SetLeader(later).ok());
  REQUIRE(crm.updates.size() == 1);
  const int first = Score(crm.updates[0]);
  CHECK(first >= kNewLeaderScore);
  CHECK(first == NewLeaderScoreAt(std::chrono::system_clock::now()));

  // Still leading: nothing written while the cache is fresh...
  usleep(150000);
  REQUIRE(promotion->SetLeader(later).ok());
  CHECK(crm.updates.size() == 1);
  // ...and the same score when it is written again (the cache aged: the
  // cluster may have dropped the attribute).
  struct timespec old[2] = {{0, UTIME_OMIT}, {1, 0}};
  REQUIRE(utimensat(AT_FDCWD, cache.c_str(), old, 0) == 0);
  REQUIRE(promotion->SetLeader(later).ok());
  REQUIRE(crm.updates.size() == 2);
  CHECK(Score(crm.updates[1]) == first);

  // Settled (pmm-server sets kLeaderScore once promoted a while): it keeps
  // that one while it leads.
  REQUIRE(promotion->Set(kLeaderScore, later).ok());
  REQUIRE(utimensat(AT_FDCWD, cache.c_str(), old, 0) == 0);
  REQUIRE(promotion->SetLeader(later).ok());
  CHECK(Score(crm.updates.back()) == kLeaderScore);

  // It stops leading, then leads again: a newer score than the first.
  REQUIRE(promotion->Clear(later).ok());
  CHECK(crm.updates.back() == "delete");
  REQUIRE(promotion->SetLeader(later).ok());
  CHECK(Score(crm.updates.back()) > first);
  std::filesystem::remove_all(dir);
}
