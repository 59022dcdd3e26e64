// ocf:percona:pmm-server: PMM Server in a Podman or Docker container, started
// and monitored by readiness, stopped with the grace PMM needs.
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "pmmha/core/agent.h"
#include "pmmha/core/environment.h"
#include "pmmha/core/process.h"
#include "pmmha/core/status.h"
#include "pmmha/core/words.h"
#include "pmmha/server/container.h"
#include "pmmha/server/http.h"
#include "pmmha/server/pmm_server.h"
#include "pmmha/server/promotion.h"
#include "pmmha/server/server_params.h"

namespace {

using namespace pmmha;

const ParamSpec kImage{
    .name = "image",
    .flags = kRequired,
    .shortdesc = "PMM Server image",
    .longdesc = "The PMM Server image, e.g. percona/pmm-server:3 or docker.io/percona/"
                "pmm-server:2.44.0. Its tag also tells the PMM major version (see pmm_version).",
};
const ParamSpec kName{
    .name = "name",
    .flags = kUnique,
    .shortdesc = "Container name",
    .longdesc = "The container's name. Default: the resource name (':' of a clone instance "
                "becomes '-').",
    .check = CheckContainerName,
};
const ParamSpec kRuntime{
    .name = "runtime",
    .default_value = "auto",
    .shortdesc = "Container engine",
    .longdesc = "podman or docker; auto uses podman when it is installed, else docker.",
    .choices = {"auto", "podman", "docker"},
};
const ParamSpec kBackend{
    .name = "backend",
    .default_value = "auto",
    .shortdesc = "How to talk to the engine",
    .longdesc = "api: the Docker-compatible Engine API on api_socket (dockerd's socket or "
                "the one 'podman system service' serves), one request per check and no "
                "process to start; cli: the podman/docker command. auto: api when the socket "
                "exists, else cli. Containers are always created with the CLI, because "
                "run_opts are CLI options.",
    .choices = {"auto", "api", "cli"},
};
const ParamSpec kApiSocket{
    .name = "api_socket",
    .shortdesc = "Engine API socket",
    .longdesc = "The unix socket of the Engine API. Default: /run/podman/podman.sock for "
                "podman, /var/run/docker.sock (or DOCKER_HOST's unix:// path) for docker.",
    .check = CheckDataDir,
};
const ParamSpec kDataDir{
    .name = "data_dir",
    .flags = kRequired | kUnique,
    .shortdesc = "Host directory mounted at /srv",
    .longdesc = "The host directory that holds all of PMM's state (PostgreSQL, ClickHouse, "
                "VictoriaMetrics, Grafana) and is mounted at /srv in the container: normally "
                "the directory of an ocf:percona:pmm-storage resource.",
    .check = CheckDataDir,
};
const ParamSpec kRequireMount{
    .name = "require_mount",
    .type = ParamType::kBoolean,
    .default_value = "true",
    .shortdesc = "Refuse a data_dir that is not a mount",
    .longdesc = "Refuse to start unless data_dir is a mount point of a filesystem other than "
                "the root's, so PMM never initialises an empty /srv on a local disk because "
                "the shared disk did not mount.",
};
const ParamSpec kNetwork{
    .name = "network",
    .default_value = "host",
    .shortdesc = "Container network",
    .longdesc = "host: PMM's ports are the node's ports (and so answer on the VIP); bridge: "
                "the engine's bridge network with the ports in publish.",
    .choices = {"host", "bridge"},
};
const ParamSpec kPublish{
    .name = "publish",
    .shortdesc = "Published ports (bridge network)",
    .longdesc = "Comma-separated [IP:]HOSTPORT:CONTAINERPORT[/PROTO] mappings for the bridge "
                "network, e.g. '443:8443' for PMM 3 or '443:443' for PMM 2.",
    .check = CheckPublish,
};
const ParamSpec kEnv{
    .name = "env",
    .flags = kPrivate,
    .shortdesc = "Environment of the container",
    .longdesc = "NAME=VALUE settings for PMM (PMM_* variables), separated by blanks, quoted "
                "like in a shell (no shell is used). Values may be secrets: they are never "
                "logged and never put on a command line. PMM_ENABLE_UPDATES=0 is added unless "
                "set here: under a cluster manager PMM must not update itself.",
    .check = CheckEnvList,
};
const ParamSpec kEnvFile{
    .name = "env_file",
    .shortdesc = "File of NAME=VALUE lines",
    .longdesc = "An env file (absolute path) passed to the engine, for settings that should "
                "not be in the CIB.",
    .check = CheckDataDir,
};
const ParamSpec kHealthUrl{
    .name = "health_url",
    .shortdesc = "Readiness URL",
    .longdesc = "The URL whose HTTP 200 means PMM Server is ready. Default: PMM's readyz on "
                "its plain-HTTP port on loopback (8080 for PMM 3, 80 for PMM 2; with the "
                "bridge network the host port published for it).",
    .check = CheckHealthUrl,
};
const ParamSpec kPmmVersion{
    .name = "pmm_version",
    .default_value = "auto",
    .shortdesc = "PMM major version",
    .longdesc = "2 or 3: decides the default health_url. auto: from the image tag (3 unless "
                "the tag starts with 2).",
    .choices = {"auto", "2", "3"},
};
const ParamSpec kHealthTimeout{
    .name = "health_timeout",
    .type = ParamType::kInteger,
    .default_value = "5",
    .shortdesc = "Seconds one readiness request may take",
    .min = 1,
    .max = 300,
};
const ParamSpec kHealthFailures{
    .name = "health_failures",
    .type = ParamType::kInteger,
    .default_value = "3",
    .shortdesc = "Failed readiness checks before a failure",
    .longdesc = "How many monitors in a row may find PMM running but not ready: they report "
                "degraded (190), the next one a failure, so the cluster recovers PMM.",
    .min = 1,
    .max = 1000,
};
const ParamSpec kTlsVerify{
    .name = "tls_verify",
    .type = ParamType::kBoolean,
    .default_value = "false",
    .shortdesc = "Verify the TLS certificate of an https health_url",
    .longdesc = "PMM ships a self-signed certificate, so this is off by default.",
};
const ParamSpec kStopGrace{
    .name = "stop_grace",
    .type = ParamType::kInteger,
    .shortdesc = "Seconds PMM gets to shut down",
    .longdesc = "How long the container gets between SIGTERM and SIGKILL. Default: the stop "
                "timeout less a reserve for kill and removal. PMM needs minutes: "
                "VictoriaMetrics flushes for up to 300 s.",
    .min = 0,
    .max = 86400,
};
const ParamSpec kPull{
    .name = "pull",
    .default_value = "missing",
    .shortdesc = "When to pull the image",
    .longdesc = "never: the image must be on the node; missing: pull it when absent; always: "
                "pull on every start.",
    .choices = {"never", "missing", "always"},
};
const ParamSpec kReuse{
    .name = "reuse",
    .type = ParamType::kBoolean,
    .default_value = "false",
    .shortdesc = "Restart an existing container instead of recreating it",
    .longdesc = "false: every start creates the container anew from the configuration.",
};
const ParamSpec kRunOpts{
    .name = "run_opts",
    .shortdesc = "Extra options for 'run'",
    .longdesc = "More options for podman/docker run, split with shell quoting rules but never "
                "passed to a shell; shell syntax (; | & $ ...) outside quotes is refused.",
    .check = CheckRunOpts,
};

const ParamSpec kHa{
    .name = "ha",
    .type = ParamType::kBoolean,
    .default_value = "false",
    .shortdesc = "PMM 3 HA: PMM elects its own leader",
    .longdesc = "true: run as one of several PMM 3 Servers that share external PostgreSQL, "
                "ClickHouse and VictoriaMetrics and elect a leader with Raft (PMM_HA_*). Run "
                "the resource as a promotable clone with promoted-max=1: every node runs its "
                "PMM Server, and the promoted instance (and a VIP colocated with it) follows "
                "PMM's leader. The agent never chooses the leader: monitors ask PMM's "
                "/v1/server/leaderHealthCheck and set the promotion score, 1000 where PMM "
                "leads; a promoted instance whose PMM stopped leading keeps 1, so it stays "
                "promoted until PMM names a new leader; other instances have none and are "
                "never promoted. While there is no leader nothing changes; when the leader's "
                "node fails, no instance is promoted (and the VIP is down) until PMM elects "
                "a new leader and that node's next monitor sees it. A promotable clone with "
                "ha=false is refused: two PMM Servers on one data set corrupt it.",
};
const ParamSpec kHaPeers{
    .name = "ha_peers",
    .shortdesc = "All PMM Servers of the HA cluster",
    .longdesc = "Comma-separated NODE=ADDRESS entries, one per cluster node that runs PMM "
                "(NODE: the cluster node name; ADDRESS: the address PMM advertises there), "
                "e.g. 'node1=10.0.0.11,node2=10.0.0.12,node3=10.0.0.13'. The addresses become "
                "PMM_HA_PEERS; this node's entry gives its advertise address. Plain addresses "
                "are accepted with ha_advertise_address. The first entry's node bootstraps the "
                "Raft cluster (PMM_HA_BOOTSTRAP).",
    .check = CheckHaPeers,
};
const ParamSpec kHaNodeId{
    .name = "ha_node_id",
    .shortdesc = "PMM_HA_NODE_ID",
    .longdesc = "This PMM Server's id in the HA cluster. Default: the cluster node name, "
                "which differs on every node as it must.",
    .check = CheckContainerName,
};
const ParamSpec kHaAdvertiseAddress{
    .name = "ha_advertise_address",
    .shortdesc = "PMM_HA_ADVERTISE_ADDRESS",
    .longdesc = "The address the other PMM Servers reach this one at. Default: this node's "
                "entry in ha_peers. A clone has one value for all nodes: leave it unset "
                "unless every node has its own rule-based value.",
    .check = CheckHaAddress,
};
const ParamSpec kHaRaftPort{
    .name = "ha_raft_port",
    .type = ParamType::kInteger,
    .default_value = "9097",
    .shortdesc = "PMM_HA_RAFT_PORT (TCP)",
    .min = 1,
    .max = 65535,
};
const ParamSpec kHaGossipPort{
    .name = "ha_gossip_port",
    .type = ParamType::kInteger,
    .default_value = "9096",
    .shortdesc = "PMM_HA_GOSSIP_PORT (TCP and UDP)",
    .min = 1,
    .max = 65535,
};
const ParamSpec kHaGrafanaGossipPort{
    .name = "ha_grafana_gossip_port",
    .type = ParamType::kInteger,
    .default_value = "9094",
    .shortdesc = "PMM_HA_GRAFANA_GOSSIP_PORT",
    .min = 1,
    .max = 65535,
};
const ParamSpec kHaKeyFile{
    .name = "ha_key_file",
    .shortdesc = "The encryption key all PMM Servers share",
    .longdesc = "Host path of the encryption key file, the same on every node (PMM encrypts "
                "secrets in its database with it). Mounted read-only into the container and "
                "named by PMM_ENCRYPTION_KEY_PATH.",
    .check = CheckDataDir,
};

const ParamTable kParams{&kImage,      &kName,       &kRuntime,  &kBackend,       &kApiSocket,
                         &kDataDir,    &kRequireMount, &kNetwork, &kPublish,      &kEnv,
                         &kEnvFile,    &kHealthUrl,  &kPmmVersion, &kHealthTimeout, &kHealthFailures,
                         &kTlsVerify,  &kStopGrace,  &kPull,     &kReuse,         &kRunOpts,
                         &kHa,         &kHaPeers,    &kHaNodeId, &kHaAdvertiseAddress,
                         &kHaRaftPort, &kHaGossipPort, &kHaGrafanaGossipPort, &kHaKeyFile};

}  // namespace

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
  bool tls_verify = false;
  std::optional<long long> stop_grace_s;
  std::string pull = "missing";  // never | missing | always
  bool reuse = false;
  std::string run_opts;
  bool ha = false;
  std::string ha_peers;
  std::string ha_node_id;
  std::string ha_advertise_address;
  long long ha_raft_port = 9097;
  long long ha_gossip_port = 9096;
  long long ha_grafana_gossip_port = 9094;
  std::string ha_key_file;
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
};

// stat(), access() and the PATH search of the real node.
std::unique_ptr<NodeLookup> MakeNodeLookup();

// Everything an action needs, resolved from the parameters.
struct ServerSetup {
  ServerConfig config;
  EngineKind kind = EngineKind::kPodman;
  std::string binary;         // the podman or docker command
  std::string socket;         // non-empty: talk to the engine through its API
  std::string crm_attribute;  // promotable: sets the promotion score
};

// The PMM_HA_* settings for this node (request.NodeName()), or why they do
// not add up: promoted-max above 1, no ha_peers, this node absent from
// ha_peers without ha_advertise_address (all kErrConfigured).
Result<HaSettings> ResolveHa(const ServerParams& params, const Request& request);

// The engine and the container's configuration. kErrInstalled when the
// engine (or crm_attribute, for a promotable clone) is not installed or
// backend=api finds no socket; kErrConfigured when the parameters do not
// add up (a bad container name, bridge without publish, env or run_opts
// that do not parse, a promotable clone without ha, ResolveHa's reasons).
// State files in request.rsc_tmp are named after the resource, not the
// clone instance. `env` gives PATH and DOCKER_HOST.
Result<ServerSetup> ResolveServer(const ServerParams& params, const Request& request,
                                  const Environment& env, const NodeLookup& node);

// The checks beyond resolving: the health_url can be requested from here
// (kErrInstalled when https needs a libcurl that does not load), env_file
// is readable (kErrInstalled; not asked of a probe).
Status ValidateServer(const ServerSetup& setup, bool probe, const NodeLookup& node);

// The agent's actions: each resolves and validates once, then runs
// PmmServer with the operation's deadline on the real engine, HTTP client
// and host. State lives in HA_RSCTMP (see ResolveServer).
Status ServerStart(const ServerParams& params, Context& ctx);
Status ServerStop(const ServerParams& params, Context& ctx);
Status ServerMonitor(const ServerParams& params, Context& ctx);
Status ServerPromote(const ServerParams& params, Context& ctx);
Status ServerDemote(const ServerParams& params, Context& ctx);
// The agent's validation hook. The dispatcher runs it before every action,
// and the action would resolve the same parameters again (PATH search,
// socket stat, parsing env and run_opts) on every monitor. So it resolves
// and validates for validate-all only; every other action does both itself,
// once, before it touches anything, and fails with the same status.
Status ServerValidate(const ServerParams& params, Context& ctx);

namespace {

// Where executables are looked for when PATH is unset.
std::string SearchPath(const Environment& env) {
  return env.GetOr("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
}

class RealNodeLookup : public NodeLookup {
 public:
  std::optional<std::string> FindExecutable(std::string_view name,
                                            std::string_view path_env) const override {
    return pmmha::FindExecutable(name, path_env);
  }
  bool IsSocket(const std::string& path) const override {
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
  }
  bool IsReadable(const std::string& path) const override {
    return access(path.c_str(), R_OK) == 0;
  }
};

// The engine: podman or docker as runtime asks and the node has them; its
// API socket when the backend allows it and the socket is there.
Status ResolveEngine(const ServerParams& p, const Environment& env, const NodeLookup& node,
                     ServerSetup& s) {
  const std::string path = SearchPath(env);
  if (p.runtime != "docker") {
    if (auto podman = node.FindExecutable("podman", path)) {
      s.kind = EngineKind::kPodman;
      s.binary = *podman;
    }
  }
  if (s.binary.empty() && p.runtime != "podman") {
    if (auto docker = node.FindExecutable("docker", path)) {
      s.kind = EngineKind::kDocker;
      s.binary = *docker;
    }
  }
  if (s.binary.empty()) {
    return Status::NotInstalled(p.runtime == "auto"
                                    ? std::string("neither podman nor docker is installed")
                                    : fmt::format("{} is not installed", p.runtime));
  }
  if (p.backend == "cli") return Status::Ok();
  std::string socket = !p.api_socket.empty()
                           ? p.api_socket
                           : DefaultApiSocket(s.kind, env.GetOr("DOCKER_HOST", ""));
  if (node.IsSocket(socket)) {
    s.socket = socket;
  } else if (p.backend == "api") {
    return Status::NotInstalled("backend=api but {} is not a socket (is the {} service "
                                "running?)",
                                Quote(socket), EngineName(s.kind));
  }
  return Status::Ok();
}

// The container's configuration, without HA and promotion.
Status ResolveContainer(const ServerParams& p, const Request& request, ServerConfig& c) {
  c.image = p.image;
  c.instance = request.instance;
  c.name = !p.name.empty() ? p.name : ContainerNameFor(c.instance);
  if (auto bad = CheckContainerName(c.name)) {
    return Status::NotConfigured("the container name {} from the resource name {}; set name",
                                 Quote(c.name), *bad);
  }
  c.data_dir = p.data_dir;
  while (c.data_dir.size() > 1 && c.data_dir.back() == '/') c.data_dir.pop_back();
  c.require_mount = p.require_mount;
  c.host_network = p.network == "host";
  c.publish = SplitPublish(p.publish);
  if (!c.host_network && c.publish.empty() && p.health_url.empty()) {
    return Status::NotConfigured("network=bridge needs publish (e.g. 443:8443)");
  }
  auto env = ParseEnvList(p.env);
  if (!env) return env.status().Prefixed("parameter 'env'");
  c.env = std::move(*env);
  c.env_file = p.env_file;
  c.env_file_dir = request.rsc_tmp;
  if (!p.health_url.empty()) {
    c.health_url = p.health_url;
  } else {
    int major = p.pmm_version == "auto" ? PmmMajorFromImage(c.image) : std::stoi(p.pmm_version);
    auto url = DeriveHealthUrl(major, c.host_network, c.publish);
    if (!url) return url.status();
    c.health_url = *url;
  }
  c.tls_verify = p.tls_verify;
  c.health_timeout = std::chrono::seconds(p.health_timeout_s);
  c.health_failures = static_cast<int>(p.health_failures);
  if (p.stop_grace_s) c.stop_grace = std::chrono::seconds(*p.stop_grace_s);
  c.pull = p.pull == "never"    ? PullPolicy::kNever
           : p.pull == "always" ? PullPolicy::kAlways
                                : PullPolicy::kMissing;
  c.reuse = p.reuse;
  auto opts = SplitWords(p.run_opts);
  if (!opts) return opts.status().Prefixed("parameter 'run_opts'");
  c.run_opts = std::move(*opts);
  return Status::Ok();
}

// Resolving once per process: see ServerValidate in the header.
Result<ServerSetup> ResolveAndValidate(const ServerParams& params, const Context& ctx) {
  auto node = MakeNodeLookup();
  auto setup = ResolveServer(params, ctx.request(), ctx.env(), *node);
  if (!setup) return setup.status();
  if (Status s = ValidateServer(*setup, ctx.IsProbe(), *node); !s.ok()) return s;
  return setup;
}

// Runs `action` on a PmmServer built for this node: the engine (CLI, or the
// API in front of it), the HTTP client, host checks and promotion scores.
template <typename Action>
Status WithServer(const ServerParams& params, Context& ctx, Action action) {
  auto setup = ResolveAndValidate(params, ctx);
  if (!setup) return setup.status();
  auto runner = MakeProcessRunner();
  auto http = MakeHttpClient();
  std::unique_ptr<ContainerEngine> engine = MakeCliEngine(setup->kind, setup->binary, *runner);
  if (!setup->socket.empty()) {
    engine = MakeApiEngine(setup->kind, setup->socket, *http, std::move(engine));
  }
  auto host = MakeServerHost();
  std::unique_ptr<PromotionScore> promotion;
  if (!setup->crm_attribute.empty()) {
    promotion = MakeCrmPromotionScore(*runner, setup->crm_attribute,
                                      setup->config.promotion_cache_path);
  }
  PmmServer server(setup->config, *engine, *http, *host, ctx.log(), promotion.get());
  ctx.log().Debug("using the {}", engine->Describe());
  return action(server);
}

}  // namespace

std::unique_ptr<NodeLookup> MakeNodeLookup() { return std::make_unique<RealNodeLookup>(); }

Result<HaSettings> ResolveHa(const ServerParams& p, const Request& request) {
  if (request.meta.promotable && request.meta.promoted_max > 1) {
    return Status::NotConfigured("promoted-max={}: PMM has one leader, set promoted-max=1",
                                 request.meta.promoted_max);
  }
  if (p.ha_peers.empty()) {
    return Status::NotConfigured("ha=true needs ha_peers, the PMM Servers of the cluster");
  }
  auto peers = ParseHaPeers(p.ha_peers);
  if (!peers) return peers.status().Prefixed("parameter 'ha_peers'");
  HaSettings ha;
  const std::string node = request.NodeName();
  ha.node_id = !p.ha_node_id.empty() ? p.ha_node_id : node;
  if (!p.ha_advertise_address.empty()) {
    ha.advertise_address = p.ha_advertise_address;
  } else {
    for (const auto& peer : *peers) {
      if (peer.node == node) ha.advertise_address = peer.address;
    }
    if (ha.advertise_address.empty()) {
      return Status::NotConfigured("ha_peers names no address for this node {}: write it as "
                                   "NODE=ADDRESS entries or set ha_advertise_address",
                                   Quote(node));
    }
  }
  for (const auto& peer : *peers) {
    if (!ha.peers.empty()) ha.peers += ',';
    ha.peers += peer.address;
  }
  ha.bootstrap = ha.advertise_address == peers->front().address;
  ha.raft_port = static_cast<int>(p.ha_raft_port);
  ha.gossip_port = static_cast<int>(p.ha_gossip_port);
  ha.grafana_gossip_port = static_cast<int>(p.ha_grafana_gossip_port);
  ha.key_file = p.ha_key_file;
  return ha;
}

Result<ServerSetup> ResolveServer(const ServerParams& p, const Request& request,
                                  const Environment& env, const NodeLookup& node) {
  ServerSetup s;
  if (Status engine = ResolveEngine(p, env, node, s); !engine.ok()) return engine;
  ServerConfig& c = s.config;
  if (Status container = ResolveContainer(p, request, c); !container.ok()) return container;
  // Named after the resource, not the clone instance: the number may change.
  auto state_path = [&](std::string_view suffix) {
    return fmt::format("{}/pmm-server-{}.{}", request.rsc_tmp,
                       ResourceNameOf(request.instance), suffix);
  };
  c.failure_counter_path = state_path("failures");
  c.promotable = request.meta.promotable;
  if (p.ha) {
    auto ha = ResolveHa(p, request);
    if (!ha) return ha.status();
    c.ha = std::move(*ha);
    c.leader_url = LeaderCheckUrl(c.health_url);
  } else if (c.promotable) {
    return Status::NotConfigured(
        "a promotable clone needs ha=true (PMM 3 HA on external databases): without "
        "it every instance would run its own PMM on one data set and corrupt it");
  }
  if (c.promotable) {
    c.promoted_path = state_path("promoted");
    auto crm_attribute = node.FindExecutable("crm_attribute", SearchPath(env));
    if (!crm_attribute) {
      return Status::NotInstalled("crm_attribute (Pacemaker) is needed to set promotion scores");
    }
    s.crm_attribute = *crm_attribute;
    c.promotion_cache_path = state_path("score");
  }
  return s;
}

Status ValidateServer(const ServerSetup& setup, bool probe, const NodeLookup& node) {
  // https or a host name in health_url needs libcurl, loaded at run time.
  if (Status s = CheckHttpSupport(setup.config.health_url); !s.ok()) return s;
  const std::string& env_file = setup.config.env_file;
  if (!env_file.empty() && !probe && !node.IsReadable(env_file)) {
    return Status::NotInstalled("env_file {} is not readable on this node", Quote(env_file));
  }
  return Status::Ok();
}

Status ServerStart(const ServerParams& params, Context& ctx) {
  return WithServer(params, ctx, [&](PmmServer& s) { return s.Start(ctx.deadline()); });
}
Status ServerStop(const ServerParams& params, Context& ctx) {
  return WithServer(params, ctx, [&](PmmServer& s) { return s.Stop(ctx.deadline()); });
}
Status ServerMonitor(const ServerParams& params, Context& ctx) {
  return WithServer(params, ctx, [&](PmmServer& s) {
    return s.Monitor(ctx.deadline(), ctx.IsProbe(), ctx.request().check_level);
  });
}
Status ServerPromote(const ServerParams& params, Context& ctx) {
  return WithServer(params, ctx, [&](PmmServer& s) { return s.Promote(ctx.deadline()); });
}
Status ServerDemote(const ServerParams& params, Context& ctx) {
  return WithServer(params, ctx, [&](PmmServer& s) { return s.Demote(ctx.deadline()); });
}

Status ServerValidate(const ServerParams& params, Context& ctx) {
  if (ctx.request().action != "validate-all") return Status::Ok();
  return ResolveAndValidate(params, ctx).status();
}

}  // namespace pmmha

namespace {

ServerParams Read(const Context& ctx) {
  const Params& p = ctx.params();
  return {
      .image = p.String(kImage),
      .name = p.String(kName),
      .runtime = p.String(kRuntime),
      .backend = p.String(kBackend),
      .api_socket = p.String(kApiSocket),
      .data_dir = p.String(kDataDir),
      .require_mount = p.Boolean(kRequireMount),
      .network = p.String(kNetwork),
      .publish = p.String(kPublish),
      .env = p.String(kEnv),
      .env_file = p.String(kEnvFile),
      .health_url = p.String(kHealthUrl),
      .pmm_version = p.String(kPmmVersion),
      .health_timeout_s = p.Integer(kHealthTimeout),
      .health_failures = p.Integer(kHealthFailures),
      .tls_verify = p.Boolean(kTlsVerify),
      .stop_grace_s = p.IsSet(kStopGrace) ? std::optional(p.Integer(kStopGrace)) : std::nullopt,
      .pull = p.String(kPull),
      .reuse = p.Boolean(kReuse),
      .run_opts = p.String(kRunOpts),
      .ha = p.Boolean(kHa),
      .ha_peers = p.String(kHaPeers),
      .ha_node_id = p.String(kHaNodeId),
      .ha_advertise_address = p.String(kHaAdvertiseAddress),
      .ha_raft_port = p.Integer(kHaRaftPort),
      .ha_gossip_port = p.Integer(kHaGossipPort),
      .ha_grafana_gossip_port = p.Integer(kHaGrafanaGossipPort),
      .ha_key_file = p.String(kHaKeyFile),
  };
}

Status Start(Context& ctx) { return ServerStart(Read(ctx), ctx); }
Status Stop(Context& ctx) { return ServerStop(Read(ctx), ctx); }
Status Monitor(Context& ctx) { return ServerMonitor(Read(ctx), ctx); }
Status Promote(Context& ctx) { return ServerPromote(Read(ctx), ctx); }
Status Demote(Context& ctx) { return ServerDemote(Read(ctx), ctx); }
Status Validate(Context& ctx) { return ServerValidate(Read(ctx), ctx); }

const AgentSpec kAgent{
    .name = "pmm-server",
    .version = "0.1.0",
    .shortdesc = "PMM Server container (Podman or Docker), readiness-aware",
    .longdesc =
        "Runs Percona Monitoring and Management Server in a Podman or Docker container on "
        "the node's /srv storage. Start returns when PMM answers ready (not merely when the "
        "container exists); monitor checks the container and PMM's readiness in-process "
        "(degraded for health_failures monitors before a failure); stop gives PMM the time "
        "its databases need to shut down, then kills, then removes the container, never "
        "the data. With require_mount (default) PMM never starts on a data_dir that is not "
        "a mounted filesystem. With ha=true (PMM 3 HA) it runs as a promotable clone whose "
        "promoted instance follows the leader PMM elects.",
    .params = kParams,
    .actions =
        {
            {.name = "start", .timeout_s = 300, .handler = Start},
            {.name = "stop", .timeout_s = 300, .handler = Stop},
            {.name = "monitor", .timeout_s = 30, .handler = Monitor, .interval_s = 10,
             .depth = 0},
            {.name = "monitor", .timeout_s = 30, .handler = Monitor, .interval_s = 60,
             .depth = 10},
            {.name = "promote", .timeout_s = 30, .handler = Promote},
            {.name = "demote", .timeout_s = 30, .handler = Demote},
        },
    .validate = Validate,
};

}  // namespace

int main(int argc, char** argv) { return pmmha::RunAgent(kAgent, argc, argv); }
