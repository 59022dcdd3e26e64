// SPDX-License-Identifier: GPL-2.0-or-later
// Container engine control for Podman and Docker, through their CLI or
// through the Docker-compatible Engine API on a unix socket (dockerd's, or
// the one "podman system service" serves).
//
// Containers are always created with the CLI ("run"), because run_opts are
// CLI options that have no exact API equivalent; everything after that
// (inspect, stop, kill, remove, logs, image lookup) goes through the chosen
// backend. The API saves a process start per call, which matters on monitor.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pmmha/core/deadline.h"
#include "pmmha/core/process.h"
#include "pmmha/core/status.h"
#include "pmmha/server/http.h"

namespace pmmha {

enum class ContainerState {
  kAbsent,   // no such container
  kCreated,  // exists, never started (podman shows crashed nodes' leftovers so)
  kRunning,
  kPaused,
  kRestarting,
  kStopping,  // podman: stop in progress (or stuck)
  kExited,
  kDead,
  kUnknown,
};

struct ContainerMount {
  std::string source;       // host path
  std::string destination;  // path inside the container
};

struct ContainerInfo {
  ContainerState state = ContainerState::kAbsent;
  std::string state_text;  // what the engine said, for messages
  std::string id;
  std::string image;
  int pid = 0;  // of the container's PID 1, 0 when not running
  // Podman: the conmon that watches the container and records its exit (0:
  // unknown, or docker). Without it podman never sees the container exit.
  int conmon_pid = 0;
  int exit_code = 0;
  std::vector<ContainerMount> mounts;
  std::map<std::string, std::string> labels;  // Config.Labels
};

// Parses "inspect" JSON as podman and docker print it (an array of one
// object) or the Engine API returns it (the object).
Result<ContainerInfo> ParseContainerInspect(std::string_view json);

enum class EngineKind { kPodman, kDocker };
std::string_view EngineName(EngineKind kind);

class ContainerEngine {
 public:
  virtual ~ContainerEngine() = default;

  virtual EngineKind kind() const = 0;
  // "podman CLI", "docker API at /run/docker.sock": for messages.
  virtual std::string Describe() const = 0;

  // The container's state; ContainerState::kAbsent when there is none. Fails
  // when the engine cannot be asked (daemon down, socket missing, timeout).
  virtual Result<ContainerInfo> Inspect(const std::string& name, const Deadline& deadline) = 0;
  virtual Result<bool> HasImage(const std::string& image, const Deadline& deadline) = 0;
  virtual Status Pull(const std::string& image, const Deadline& deadline) = 0;
  // Creates and starts a container: `args` are the words after "run".
  virtual Status Run(const std::vector<std::string>& args, const Deadline& deadline) = 0;
  // Starts an existing, stopped container again.
  virtual Status Start(const std::string& name, const Deadline& deadline) = 0;
  // Asks the container to stop: SIGTERM, and SIGKILL after `grace`.
  virtual Status Stop(const std::string& name, std::chrono::seconds grace,
                      const Deadline& deadline) = 0;
  virtual Status Kill(const std::string& name, const Deadline& deadline) = 0;
  // Removes the container (never volumes or bind-mounted data). Succeeds
  // when there is no such container.
  virtual Status Remove(const std::string& name, const Deadline& deadline) = 0;
  // Removes a name podman's storage still holds although podman itself no
  // longer knows the container (the "name is already in use" ghost after a
  // crash). A no-op for docker.
  virtual Status RemoveFromStorage(const std::string& name, const Deadline& deadline) = 0;
  // The last `lines` lines of the container's output.
  virtual Result<std::string> Logs(const std::string& name, int lines,
                                   const Deadline& deadline) = 0;
};

// The CLI backend: `binary` is podman or docker (a path or a name on PATH).
std::unique_ptr<ContainerEngine> MakeCliEngine(EngineKind kind, std::string binary,
                                               ProcessRunner& runner);

// The API backend on `socket`; `cli` does what the API cannot (run, pull,
// podman's storage clean-up).
std::unique_ptr<ContainerEngine> MakeApiEngine(EngineKind kind, std::string socket,
                                               HttpClient& http,
                                               std::unique_ptr<ContainerEngine> cli);

// An engine that is not there (no podman or docker on the node): every call
// fails with `reason`, so that stop and monitor decide as when the engine's
// daemon is down (see PmmServer::Stop).
std::unique_ptr<ContainerEngine> MakeUnavailableEngine(std::string reason);

// The default API socket of an engine: /run/podman/podman.sock or
// /var/run/docker.sock (or DOCKER_HOST's unix:// path for docker).
std::string DefaultApiSocket(EngineKind kind, const std::string& docker_host);

}  // namespace pmmha
