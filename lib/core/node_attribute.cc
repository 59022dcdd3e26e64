// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/node_attribute.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "pmmha/core/log.h"
#include "pmmha/core/state_file.h"
#include "pmmha/core/text.h"

namespace pmmha {

namespace {

// What the cache says of a deletion: no value can be this (values are one
// line, and this is none).
constexpr std::string_view kDeleted = "\n";
constexpr auto kCallBudget = std::chrono::milliseconds(5000);

class AttrdAttributes final : public NodeAttributes {
 public:
  AttrdAttributes(ProcessRunner& runner, std::string binary, std::string cache_dir)
      : runner_(runner), binary_(std::move(binary)), cache_dir_(std::move(cache_dir)) {}

  Status Set(std::string_view name, std::string_view value, const Deadline& deadline) override {
    if (value.empty() || value.find('\n') != std::string_view::npos) {
      return Status::Error("attribute {}: no value to set", name);
    }
    return Write(name, value, {"-n", std::string(name), "-U", std::string(value)}, deadline);
  }
  Status Delete(std::string_view name, const Deadline& deadline) override {
    return Write(name, kDeleted, {"-n", std::string(name), "-D"}, deadline);
  }

 private:
  std::string CachePath(std::string_view name) const {
    return fmt::format("{}/pmm-attr.{}", cache_dir_, name);
  }

  // The value last written, when that was less than kAttributeRefresh ago.
  std::optional<std::string> Cached(const std::string& path) const {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return std::nullopt;
    auto written = std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec);
    if (std::chrono::system_clock::now() - written >= kAttributeRefresh) return std::nullopt;
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // A failure less than kAttributeRetry ago: attrd does not answer
  // (no cluster runs here, or Pacemaker is restarting), and each try costs an
  // attrd_updater start (~50 ms here), every monitor.
  bool BackingOff() const {
    struct stat st;
    if (stat(UnreachablePath().c_str(), &st) != 0) return false;
    auto failed = std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec);
    return std::chrono::system_clock::now() - failed < kAttributeRetry;
  }
  std::string UnreachablePath() const { return fmt::format("{}/pmm-attr.failed", cache_dir_); }

  Status Write(std::string_view name, std::string_view value, std::vector<std::string> args,
               const Deadline& deadline) {
    if (binary_.empty()) return Status::Ok();
    const std::string path = CachePath(name);
    if (Cached(path) == value) return Status::Ok();
    // A deletion is always tried: a stale "ready" after a stop would mislead.
    if (value != kDeleted && BackingOff()) return Status::Ok();
    args.insert(args.begin(), binary_);
    auto r = runner_.Run(args, deadline.Within(kCallBudget));
    if (!r || !r->Succeeded()) {
      unlink(path.c_str());
      ReplaceFile(UnreachablePath(), "");
      std::string why =
          r ? fmt::format("{}: {}", r->Describe(), OneLine(r->err)) : r.status().reason();
      return Status::Error("attrd_updater could not {} node attribute {}: {}",
                           value == kDeleted ? "delete" : "set", name, why);
    }
    if (Status s = ReplaceFile(path, value); !s.ok()) unlink(path.c_str());
    unlink(UnreachablePath().c_str());
    return Status::Ok();
  }

  ProcessRunner& runner_;
  std::string binary_;
  std::string cache_dir_;
};

}  // namespace

std::unique_ptr<NodeAttributes> MakeAttrdAttributes(ProcessRunner& runner, std::string binary,
                                                    std::string cache_dir) {
  return std::make_unique<AttrdAttributes>(runner, std::move(binary), std::move(cache_dir));
}

void WarnIfFailed(const Logger& log, const Status& s) {
  if (!s.ok()) log.Warn("{}", s.reason());
}

}  // namespace pmmha
