// SPDX-License-Identifier: GPL-2.0-or-later
// ocf:percona:pmm-image: PMM Server's image kept on every node (a clone), so
// a standby is ready before a failover needs it. The parameter table and the
// action table; the work is in pmmha/server/image_agent.h.
#include "pmmha/core/agent.h"
#include "pmmha/server/engine_params.h"
#include "pmmha/server/image_agent.h"

namespace {

using namespace pmmha;

const ParamSpec kImage{
    .name = "image",
    .flags = kRequired,
    .shortdesc = "PMM Server image",
    .longdesc =
        "The image pmm-server runs, written the same way (e.g. "
        "docker.io/percona/pmm-server:3), fully qualified: with podman a short name is "
        "refused unless pull=never, since podman cannot pull it unattended where "
        "short-name-mode is enforcing (RHEL, Fedora).",
    .check = CheckImageName,
};

const ParamTable kParams{&kImage, &kEngineRuntime, &kEngineBackend, &kEngineApiSocket,
                         &kEnginePull};

ImageParams Read(const Context& ctx) {
  const Params& p = ctx.params();
  return {
      .image = p.String(kImage),
      .runtime = p.String(kEngineRuntime),
      .backend = p.String(kEngineBackend),
      .api_socket = p.String(kEngineApiSocket),
      .pull = p.String(kEnginePull),
  };
}

Status Start(Context& ctx) { return ImageStart(Read(ctx), ctx); }
Status Stop(Context& ctx) { return ImageStop(Read(ctx), ctx); }
Status Monitor(Context& ctx) { return ImageMonitor(Read(ctx), ctx); }
Status Validate(Context& ctx) { return ImageValidate(Read(ctx), ctx); }

const AgentSpec kAgent{
    .name = "pmm-image",
    .shortdesc = "PMM Server's image on every node, ready before a failover needs it",
    .longdesc =
        "Keeps the PMM Server image on the node; meant to run as a clone on every node "
        "that may run pmm-server. Start pulls the image when it is absent (as pull says; "
        "pull=never: start fails with 'not installed' until the image is loaded). Monitor "
        "checks that the image is still there (with the API backend, one request and no "
        "process started) and fails when it is not, so a registry outage or a removed "
        "image shows as a failed action in crm_mon long before a failover needs the "
        "image; Pacemaker's recovery (a restart: a pull) retries it. Stop never removes "
        "the image. Node attribute (crm_mon -A1): pmm-image, 'present' or 'absent', "
        "written when it changes; stop sets it to what the engine says then (a node whose "
        "start failed stays 'absent'), or leaves it when the engine cannot be asked. A "
        "location rule on pmm-image eq absent keeps pmm-server off a node known to lack "
        "the image (see the examples); an undefined attribute (a node that just joined) "
        "bans nothing.",
    .params = kParams,
    .actions =
        {
            {.name = "start", .timeout_s = 600, .handler = Start},
            {.name = "stop", .timeout_s = 20, .handler = Stop},
            {.name = "monitor", .timeout_s = 30, .handler = Monitor, .interval_s = 300},
        },
    .validate = Validate,
};

}  // namespace

int main(int argc, char** argv) { return pmmha::RunAgent(kAgent, argc, argv); }
