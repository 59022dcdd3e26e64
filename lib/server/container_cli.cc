// SPDX-License-Identifier: GPL-2.0-or-later
// The CLI backend: one podman/docker process per call.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "pmmha/core/text.h"
#include "pmmha/server/container.h"

namespace pmmha {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool SaysNoSuchContainer(const std::string& err) {
  std::string e = Lower(err);
  return e.find("no such container") != std::string::npos ||
         e.find("no container with name or id") != std::string::npos;
}

class CliEngine final : public ContainerEngine {
 public:
  CliEngine(EngineKind kind, std::string binary, ProcessRunner& runner)
      : kind_(kind), binary_(std::move(binary)), runner_(runner) {}

  EngineKind kind() const override { return kind_; }
  std::string Describe() const override { return fmt::format("{} CLI", EngineName(kind_)); }

  Result<ContainerInfo> Inspect(const std::string& name, const Deadline& deadline) override {
    auto r = Exec({"container", "inspect", name}, deadline);
    if (!r) return r.status();
    if (!r->Succeeded()) {
      if (SaysNoSuchContainer(r->err)) return ContainerInfo{};
      return Failure("inspect", *r);
    }
    return ParseContainerInspect(r->out);
  }

  Result<bool> HasImage(const std::string& image, const Deadline& deadline) override {
    auto r = Exec({"image", "inspect", "--format", "{{.Id}}", image}, deadline);
    if (!r) return r.status();
    if (r->Succeeded()) return true;
    std::string e = Lower(r->err);
    if (e.find("no such image") != std::string::npos ||
        e.find("image not known") != std::string::npos ||
        e.find("failed to find image") != std::string::npos) {
      return false;
    }
    return Failure("image inspect", *r);
  }

  Status Pull(const std::string& image, const Deadline& deadline) override {
    return Check("pull", Exec({"pull", image}, deadline));
  }

  Status Run(const std::vector<std::string>& args, const Deadline& deadline) override {
    std::vector<std::string> words{"run"};
    words.insert(words.end(), args.begin(), args.end());
    return Check("run", Exec(words, deadline));
  }

  Status Start(const std::string& name, const Deadline& deadline) override {
    return Check("start", Exec({"start", name}, deadline));
  }

  Status Stop(const std::string& name, std::chrono::seconds grace,
              const Deadline& deadline) override {
    auto r = Exec({"stop", "-t", std::to_string(grace.count()), name}, deadline);
    if (r && !r->Succeeded() && SaysNoSuchContainer(r->err)) return Status::Ok();
    return Check("stop", r);
  }

  Status Kill(const std::string& name, const Deadline& deadline) override {
    auto r = Exec({"kill", name}, deadline);
    if (r && !r->Succeeded()) {
      std::string e = Lower(r->err);
      if (SaysNoSuchContainer(r->err) || e.find("not running") != std::string::npos) {
        return Status::Ok();
      }
    }
    return Check("kill", r);
  }

  Status Remove(const std::string& name, const Deadline& deadline) override {
    // Never -v: volumes may hold data.
    auto r = Exec({"rm", "-f", name}, deadline);
    if (r && !r->Succeeded() && SaysNoSuchContainer(r->err)) return Status::Ok();
    return Check("rm", r);
  }

  Status RemoveFromStorage(const std::string& name, const Deadline& deadline) override {
    if (kind_ != EngineKind::kPodman) return Status::Ok();
    auto r = Exec({"rm", "--storage", name}, deadline);
    if (r && !r->Succeeded() && SaysNoSuchContainer(r->err)) return Status::Ok();
    return Check("rm --storage", r);
  }

  Result<std::string> Logs(const std::string& name, int lines, const Deadline& deadline) override {
    auto r = Exec({"logs", "--tail", std::to_string(lines), name}, deadline);
    if (!r) return r.status();
    if (!r->Succeeded()) return Failure("logs", *r);
    return r->out + r->err;
  }

 private:
  Result<ProcessResult> Exec(std::vector<std::string> words, const Deadline& deadline) {
    words.insert(words.begin(), binary_);
    return runner_.Run(words, deadline);
  }

  Status Failure(std::string_view what, const ProcessResult& r) const {
    std::string detail = LastLine(r.err);
    if (detail.empty()) detail = r.Describe();
    return Status::Error("{} {} failed: {}", EngineName(kind_), what, detail);
  }

  Status Check(std::string_view what, const Result<ProcessResult>& r) const {
    if (!r) return r.status();
    if (!r->Succeeded()) return Failure(what, *r);
    return Status::Ok();
  }

  EngineKind kind_;
  std::string binary_;
  ProcessRunner& runner_;
};

}  // namespace

std::unique_ptr<ContainerEngine> MakeCliEngine(EngineKind kind, std::string binary,
                                               ProcessRunner& runner) {
  return std::make_unique<CliEngine>(kind, std::move(binary), runner);
}

}  // namespace pmmha
