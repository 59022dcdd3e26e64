// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/server/container.h"

#include <nlohmann/json.hpp>

namespace pmmha {

std::string_view EngineName(EngineKind kind) {
  return kind == EngineKind::kPodman ? "podman" : "docker";
}

namespace {

ContainerState StateFromText(std::string_view s) {
  static const struct {
    std::string_view text;
    ContainerState state;
  } kStates[] = {
      {"running", ContainerState::kRunning},    {"created", ContainerState::kCreated},
      {"configured", ContainerState::kCreated}, {"initialized", ContainerState::kCreated},
      {"paused", ContainerState::kPaused},      {"restarting", ContainerState::kRestarting},
      {"stopping", ContainerState::kStopping},  {"removing", ContainerState::kStopping},
      {"exited", ContainerState::kExited},      {"stopped", ContainerState::kExited},
      {"dead", ContainerState::kDead},
  };
  for (const auto& s2 : kStates) {
    if (s2.text == s) return s2.state;
  }
  return ContainerState::kUnknown;
}

std::string StringAt(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<ContainerInfo> ParseContainerInspect(std::string_view text) {
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Status::Error("the engine's inspect output is not JSON");
  }
  if (doc.is_array()) {
    if (doc.empty()) return ContainerInfo{};
    doc = doc.at(0);
  }
  if (!doc.is_object() || !doc.contains("State") || !doc["State"].is_object()) {
    return Status::Error("the engine's inspect output has no State");
  }
  const auto& state = doc["State"];
  ContainerInfo info;
  info.state_text = StringAt(state, "Status");
  info.state = StateFromText(info.state_text);
  if (info.state == ContainerState::kUnknown && state.value("Running", false)) {
    info.state = ContainerState::kRunning;
  }
  info.id = StringAt(doc, "Id");
  info.pid = state.value("Pid", 0);
  info.conmon_pid = state.value("ConmonPid", 0);
  info.exit_code = state.value("ExitCode", 0);
  info.image = StringAt(doc, "ImageName");  // podman
  if (info.image.empty() && doc.contains("Config") && doc["Config"].is_object()) {
    info.image = StringAt(doc["Config"], "Image");  // docker
  }
  if (auto c = doc.find("Config"); c != doc.end() && c->is_object()) {
    if (auto l = c->find("Labels"); l != c->end() && l->is_object()) {
      for (const auto& [key, value] : l->items()) {
        if (value.is_string()) info.labels[key] = value.get<std::string>();
      }
    }
  }
  if (auto m = doc.find("Mounts"); m != doc.end() && m->is_array()) {
    for (const auto& mount : *m) {
      if (!mount.is_object()) continue;
      info.mounts.push_back({StringAt(mount, "Source"), StringAt(mount, "Destination")});
    }
  }
  return info;
}

namespace {

class UnavailableEngine final : public ContainerEngine {
 public:
  explicit UnavailableEngine(std::string reason) : reason_(std::move(reason)) {}
  EngineKind kind() const override { return EngineKind::kPodman; }
  std::string Describe() const override { return "no container engine"; }
  Result<ContainerInfo> Inspect(const std::string&, const Deadline&) override { return Fail(); }
  Result<bool> HasImage(const std::string&, const Deadline&) override { return Fail(); }
  Status Pull(const std::string&, const Deadline&) override { return Fail(); }
  Status Run(const std::vector<std::string>&, const Deadline&) override { return Fail(); }
  Status Start(const std::string&, const Deadline&) override { return Fail(); }
  Status Stop(const std::string&, std::chrono::seconds, const Deadline&) override { return Fail(); }
  Status Kill(const std::string&, const Deadline&) override { return Fail(); }
  Status Remove(const std::string&, const Deadline&) override { return Fail(); }
  Status RemoveFromStorage(const std::string&, const Deadline&) override { return Fail(); }
  Result<std::string> Logs(const std::string&, int, const Deadline&) override { return Fail(); }

 private:
  Status Fail() const { return Status::NotInstalled("{}", reason_); }
  std::string reason_;
};

}  // namespace

std::unique_ptr<ContainerEngine> MakeUnavailableEngine(std::string reason) {
  return std::make_unique<UnavailableEngine>(std::move(reason));
}

std::string DefaultApiSocket(EngineKind kind, const std::string& docker_host) {
  if (kind == EngineKind::kPodman) return "/run/podman/podman.sock";
  constexpr std::string_view kUnix = "unix://";
  if (docker_host.rfind(kUnix, 0) == 0) return docker_host.substr(kUnix.size());
  return "/var/run/docker.sock";
}

}  // namespace pmmha
