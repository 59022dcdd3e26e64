// SPDX-License-Identifier: GPL-2.0-or-later
// pmm-server's actions on the real system: from the parameter values the
// agent's table validated to an engine, a ServerConfig and a PmmServer.
// The decisions (which engine, which backend, the container's configuration,
// PMM 3 HA) are made on a NodeLookup, so that tests run them on a fake node.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pmmha/core/agent.h"
#include "pmmha/core/environment.h"
#include "pmmha/core/node_attribute.h"
#include "pmmha/core/status.h"
#include "pmmha/server/container.h"
#include "pmmha/server/container_process.h"
#include "pmmha/server/http.h"
#include "pmmha/server/pmm_server.h"
#include "pmmha/server/promotion.h"

namespace pmmha {

// The parameter values as the table validated them one by one. An empty
// string is a parameter the user did not set (OCF treats "" as unset).
struct ServerParams {
  std::string image;
  std::string name;
  std::string runtime = "auto";  // auto | podman | docker
  std::string backend = "auto";  // auto | api | cli
  std::string api_socket;
  std::string data_dir;
  bool require_mount = true;
  std::string network = "host";  // host | bridge
  std::string publish;
  std::string env;
  std::string env_file;
  std::string health_url;
  std::string pmm_version = "auto";  // auto | 2 | 3
  long long health_timeout_s = 5;
  long long health_failures = 3;
  long long health_grace_s = 0;
  bool tls_verify = false;
  std::optional<long long> stop_grace_s;
  std::string pull = "missing";  // never | missing | always
  bool reuse = false;
  std::string run_opts;
  std::string selinux_relabel = "none";  // none | shared | private
  bool ha = false;
  std::string ha_peers;
  std::string ha_node_id;
  std::string ha_advertise_address;
  long long ha_raft_port = 9097;
  long long ha_gossip_port = 9096;
  long long ha_grafana_gossip_port = 9094;
  std::string ha_key_file;
  bool drop_in_dependency = true;
  std::string require_fs_uuid;
};

// What resolving the parameters looks up on the node.
class NodeLookup {
 public:
  virtual ~NodeLookup() = default;
  // The absolute path of the executable `name` found in `path_env` (PATH),
  // or nothing.
  virtual std::optional<std::string> FindExecutable(std::string_view name,
                                                    std::string_view path_env) const = 0;
  // Whether `path` exists and is a unix socket.
  virtual bool IsSocket(const std::string& path) const = 0;
  // Whether this process may read `path`.
  virtual bool IsReadable(const std::string& path) const = 0;
  // Whether user `uid` of group `gid` may read the file `path` (by its
  // permission bits: a file bind-mounted into a container, its directories
  // not in the way).
  virtual bool IsReadableBy(const std::string& path, unsigned uid, unsigned gid) const = 0;
};

// Whether permission bits `mode` of a file owned by file_uid:file_gid let
// uid:gid read it (the owner's bits for the owner, the group's for the
// group, the others' for the rest).
bool ModeLetsRead(unsigned mode, unsigned file_uid, unsigned file_gid, unsigned uid, unsigned gid);

// stat(), access() and the PATH search of the real node.
std::unique_ptr<NodeLookup> MakeNodeLookup();

// How much of the node an action needs.
enum class Resolution {
  // start, promote, validate-all: everything, and what is missing on this
  // node is an error (5, or 6 for this node absent from ha_peers).
  kStrict,
  // stop, demote, monitor: what finds the container and tells whether it
  // runs. A stop must not fail, and a probe must not say 5 or 6, for a
  // resource that cannot be running here, so what is missing on this node
  // is tolerated: no engine (ServerSetup::no_engine: stop and monitor then
  // decide as when the engine's daemon is down), no API socket (the CLI),
  // no crm_attribute (scores left alone), this node absent from ha_peers.
  // A configuration no node can run is ServerSetup::invalid.
  kTolerant,
};

// Everything an action needs, resolved from the parameters.
struct ServerSetup {
  ServerConfig config;
  EngineKind kind = EngineKind::kPodman;
  std::string binary;         // the podman or docker command; empty: see no_engine
  std::string socket;         // non-empty: talk to the engine through its API
  std::string crm_attribute;  // promotable: sets the promotion score; may be empty (kTolerant)
  // kTolerant only:
  std::string no_engine;           // why there is no engine
  std::vector<std::string> notes;  // what was tolerated, for the log
  Status invalid;                  // why no node could start this configuration
};

// The engine (setup.kind, binary, socket; kTolerant: no_engine and notes):
// podman or docker as params.runtime asks and the node has them, its API
// socket when params.backend allows it and the socket is there. Reads
// runtime, backend and api_socket only (pmm-image shares them).
// kErrInstalled (kStrict) when the engine or backend=api's socket is
// missing.
Status ResolveEngine(const ServerParams& params, const Environment& env, const NodeLookup& node,
                     Resolution mode, ServerSetup& setup);

// The PMM_HA_* settings for this node (request.NodeName()), or why they do
// not add up: promoted-max above 1, no ha_peers, this node absent from
// ha_peers without ha_advertise_address (all kErrConfigured). kTolerant
// accepts the last with an empty advertise_address (it matters to the
// container's creation only).
Result<HaSettings> ResolveHa(const ServerParams& params, const Request& request,
                             Resolution mode = Resolution::kStrict);

// The engine and the container's configuration. kErrInstalled when the
// engine (or crm_attribute, for a promotable clone) is not installed or
// backend=api finds no socket; kErrConfigured when the parameters do not
// add up (a bad container name, bridge without publish, env or run_opts
// that do not parse, a promotable clone without ha, ResolveHa's reasons)
// and, for start and validate-all only, when a container may not be created
// so (CheckCloneMode, CheckRunOptsForCreate). PMMHA_SYSTEMD_ROOT in `env`
// (for tests only) moves the root under which the drop-in is written.
// State files in request.rsc_tmp are named after the resource, not the
// clone instance. `env` gives PATH and DOCKER_HOST.
// kTolerant: see Resolution; fails only for what no action can go without.
Result<ServerSetup> ResolveServer(const ServerParams& params, const Request& request,
                                  const Environment& env, const NodeLookup& node,
                                  Resolution mode = Resolution::kStrict);

// The checks beyond resolving: the health_url can be requested from here
// (kErrInstalled when https needs a libcurl that does not load), env_file
// is readable (kErrInstalled; not asked of a probe).
Status ValidateServer(const ServerSetup& setup, bool probe, const NodeLookup& node);

// What an action runs on: the node's lookups, and the engine, HTTP client,
// host checks, process control and promotion scores for a setup. The real
// node, or fakes in the tests.
class ServerRuntime {
 public:
  virtual ~ServerRuntime() = default;
  virtual const NodeLookup& node() = 0;
  // The engine for a setup with a binary (an API in front of the CLI when
  // setup.socket is set).
  virtual std::unique_ptr<ContainerEngine> Engine(const ServerSetup& setup) = 0;
  virtual HttpClient& http() = 0;
  virtual ServerHost& host() = 0;
  virtual ProcessControl& processes() = 0;
  // For a setup with crm_attribute.
  virtual std::unique_ptr<PromotionScore> Promotion(const ServerSetup& setup) = 0;
  // The node attributes an action publishes (crm_mon -A); nullptr: none.
  virtual std::unique_ptr<NodeAttributes> Attributes(const Request& request,
                                                     const Environment& env) {
    (void)request;
    (void)env;
    return nullptr;
  }
};

std::unique_ptr<ServerRuntime> MakeServerRuntime();

enum class ServerAction { kStart, kStop, kMonitor, kPromote, kDemote, kValidate, kReload };

// One action: resolves (kStrict for start, promote and validate-all, which
// also run ValidateServer; kTolerant for the others), logs what was
// tolerated, and runs PmmServer with the operation's deadline. Stop and
// demote go on by the container's name when the configuration is invalid;
// monitor returns the reason (6).
Status RunServerAction(ServerAction action, const ServerParams& params, Context& ctx,
                       ServerRuntime& runtime);

// The agent's actions: RunServerAction on the real node. State lives in
// HA_RSCTMP (see ResolveServer).
Status ServerStart(const ServerParams& params, Context& ctx);
Status ServerStop(const ServerParams& params, Context& ctx);
Status ServerMonitor(const ServerParams& params, Context& ctx);
Status ServerPromote(const ServerParams& params, Context& ctx);
Status ServerDemote(const ServerParams& params, Context& ctx);
// reload-agent: the reloadable parameters (the readiness check's) take
// effect at the next monitor; checks they resolve, logs them, changes
// nothing in the container.
Status ServerReload(const ServerParams& params, Context& ctx);
// The agent's validation hook. The dispatcher runs it before every action,
// and the action would resolve the same parameters again (PATH search,
// socket stat, parsing env and run_opts) on every monitor. So it resolves
// and validates for validate-all only; every other action does both itself,
// once, before it touches anything, and fails with the same status.
Status ServerValidate(const ServerParams& params, Context& ctx);

}  // namespace pmmha
