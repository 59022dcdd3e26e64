// SPDX-License-Identifier: GPL-2.0-or-later
// ocf:percona:pmm-image: PMM Server's image kept on every node, so a standby
// is ready before a failover needs it. Runs as a clone: start pulls the image
// when absent (as pmm-server's pull says), monitor checks that it is still
// there and publishes pmm-image (present or absent) for crm_mon -A1 and
// location rules; an absent image fails the monitor, so a registry outage
// shows as a failed action days before a failover needs the image, and
// Pacemaker's recovery (stop, start: a pull) retries it. Stop never removes
// the image.
#pragma once

#include <string>

#include "pmmha/core/agent.h"
#include "pmmha/core/log.h"
#include "pmmha/core/node_attribute.h"
#include "pmmha/core/status.h"
#include "pmmha/server/container.h"
#include "pmmha/server/pmm_server.h"
#include "pmmha/server/server_agent.h"

namespace pmmha {

struct ImageParams {
  std::string image;
  std::string runtime = "auto";  // auto | podman | docker
  std::string backend = "auto";  // auto | api | cli
  std::string api_socket;
  std::string pull = "missing";  // never | missing | always
};

struct ImageConfig {
  std::string image;
  PullPolicy pull = PullPolicy::kMissing;
  // In HA_RSCTMP: start succeeded here (probes say 7 without it).
  std::string started_path;
};

class ImageKeeper {
 public:
  // `attributes` may be null (nothing published).
  ImageKeeper(const ImageConfig& config, ContainerEngine& engine, NodeAttributes* attributes,
              const Logger& log)
      : config_(config), engine_(engine), attributes_(attributes), log_(log) {}

  // Pulls as the pull policy says, within `deadline`: 0 with the image on
  // the node; 5 when it is absent and pull=never (loading it is the admin's
  // work: no retry here helps); 1 when a pull failed (a registry outage:
  // the cluster may retry) or the engine cannot be asked.
  Status Start(const Deadline& deadline);
  // Forgets start; never fails and never removes the image. pmm-image is
  // set to what the engine says of the image now (so a node whose start
  // failed stays "absent" for location rules), left alone when it cannot
  // be asked.
  Status Stop(const Deadline& deadline);
  // 7 when start did not succeed here (probes included); 0 with the image
  // present; 1 when it is absent (with the way out) or the engine cannot
  // be asked.
  Status Monitor(const Deadline& deadline, bool probe);

 private:
  bool Started() const;
  void Publish(bool present, const Deadline& deadline);

  const ImageConfig& config_;
  ContainerEngine& engine_;
  NodeAttributes* attributes_;
  const Logger& log_;
};

enum class ImageAction { kStart, kStop, kMonitor, kValidate };

// One action on `runtime` (the engine from runtime, backend and api_socket
// as pmm-server resolves them): start and validate-all strictly (a missing
// engine is 5, a short image name podman cannot pull unattended 6), stop
// and monitor tolerantly (no engine: stop succeeds, monitor says 7 unless
// start succeeded here).
Status RunImageAction(ImageAction action, const ImageParams& params, Context& ctx,
                      ServerRuntime& runtime);

// The agent's actions on the real node.
Status ImageStart(const ImageParams& params, Context& ctx);
Status ImageStop(const ImageParams& params, Context& ctx);
Status ImageMonitor(const ImageParams& params, Context& ctx);
// The validation hook: resolves and checks for validate-all only (every
// other action does it as its first step).
Status ImageValidate(const ImageParams& params, Context& ctx);

}  // namespace pmmha
