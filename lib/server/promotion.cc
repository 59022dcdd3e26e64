// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/server/promotion.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include <fmt/format.h>

#include "pmmha/core/text.h"

namespace pmmha {

namespace {

constexpr auto kFresh = std::chrono::seconds(60);

class CrmPromotionScore final : public PromotionScore {
 public:
  CrmPromotionScore(ProcessRunner& runner, std::string crm_attribute, std::string cache_path)
      : runner_(runner),
        crm_attribute_(std::move(crm_attribute)),
        cache_path_(std::move(cache_path)) {}

  Status Set(int score, const Deadline& deadline) override {
    return Write(std::to_string(score), {"--promotion", "--update", std::to_string(score)},
                 deadline);
  }
  Status SetLeader(const Deadline& deadline) override {
    // Still the score it has, even if the cache is no longer fresh: another
    // node's newer leader score must keep ranking above.
    std::string last;
    std::ifstream(cache_path_) >> last;
    auto score = ParseInteger(last);
    if (score && (*score == kLeaderScore ||
                  (*score >= kNewLeaderScore && *score < kNewLeaderScore + kNewLeaderTerms))) {
      return Set(static_cast<int>(*score), deadline);
    }
    return Set(NewLeaderScoreAt(std::chrono::system_clock::now()), deadline);
  }
  Status Clear(const Deadline& deadline) override {
    return Write("none", {"--promotion", "--delete"}, deadline);
  }

 private:
  Status Write(const std::string& value, std::vector<std::string> args, const Deadline& deadline) {
    if (Cached() == value) return Status::Ok();
    args.insert(args.begin(), crm_attribute_);
    auto r = runner_.Run(args, deadline);
    if (!r) return r.status();
    if (!r->Succeeded()) {
      std::string err = r->err;
      while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
      unlink(cache_path_.c_str());
      return Status::Error("crm_attribute --promotion failed ({}): {}", r->Describe(), err);
    }
    std::ofstream(cache_path_, std::ios::trunc) << value;
    return Status::Ok();
  }

  // The value last written, when that was less than kFresh ago.
  std::string Cached() const {
    struct stat st;
    if (stat(cache_path_.c_str(), &st) != 0) return {};
    auto written = std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec);
    if (std::chrono::system_clock::now() - written >= kFresh) return {};
    std::string value;
    std::ifstream(cache_path_) >> value;
    return value;
  }

  ProcessRunner& runner_;
  std::string crm_attribute_;
  std::string cache_path_;
};

}  // namespace

int NewLeaderScoreAt(std::chrono::system_clock::time_point now) {
  const auto tenths =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() / 100;
  return kNewLeaderScore + static_cast<int>(tenths % kNewLeaderTerms);
}

std::unique_ptr<PromotionScore> MakeCrmPromotionScore(ProcessRunner& runner,
                                                      std::string crm_attribute,
                                                      std::string cache_path) {
  return std::make_unique<CrmPromotionScore>(runner, std::move(crm_attribute),
                                             std::move(cache_path));
}

}  // namespace pmmha
