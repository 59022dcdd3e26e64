// ocf:percona:pmm-server: PMM Server in a Podman or Docker container, started
// and monitored by readiness, stopped with the grace PMM needs.
#include <sys/stat.h>

#include <fmt/format.h>

#include "pmmha/core/agent.h"
#include "pmmha/server/pmm_server.h"
#include "pmmha/server/server_params.h"
#include "pmmha/core/words.h"

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

// Everything an action needs, resolved from the parameters once.
struct Setup {
  ServerConfig config;
  EngineKind kind = EngineKind::kPodman;
  std::string binary;
  std::string socket;  // non-empty: use the API
  std::string crm_attribute;  // promotable: sets the promotion score
};

// The HA settings, or why they do not add up.
Result<HaSettings> ResolveHa(const Params& p, const Request& request) {
  if (request.meta.promotable && request.meta.promoted_max > 1) {
    return Status::NotConfigured("promoted-max={}: PMM has one leader, set promoted-max=1",
                           request.meta.promoted_max);
  }
  if (!p.IsSet(kHaPeers)) return Status::NotConfigured("ha=true needs ha_peers, the PMM Servers of the cluster");
  auto peers = ParseHaPeers(p.String(kHaPeers));
  if (!peers) return peers.status().Prefixed("parameter 'ha_peers'");
  HaSettings ha;
  const std::string node = request.NodeName();
  ha.node_id = p.IsSet(kHaNodeId) ? p.String(kHaNodeId) : node;
  if (p.IsSet(kHaAdvertiseAddress)) {
    ha.advertise_address = p.String(kHaAdvertiseAddress);
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
  ha.raft_port = static_cast<int>(p.Integer(kHaRaftPort));
  ha.gossip_port = static_cast<int>(p.Integer(kHaGossipPort));
  ha.grafana_gossip_port = static_cast<int>(p.Integer(kHaGrafanaGossipPort));
  ha.key_file = p.String(kHaKeyFile);
  return ha;
}

Result<Setup> Resolve(const Context& ctx) {
  const Params& p = ctx.params();
  Setup s;
  std::string path = ctx.env().GetOr("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
  const std::string& runtime = p.String(kRuntime);
  if (runtime != "docker") {
    if (auto podman = FindExecutable("podman", path)) {
      s.kind = EngineKind::kPodman;
      s.binary = *podman;
    }
  }
  if (s.binary.empty() && runtime != "podman") {
    if (auto docker = FindExecutable("docker", path)) {
      s.kind = EngineKind::kDocker;
      s.binary = *docker;
    }
  }
  if (s.binary.empty()) {
    return Status::NotInstalled(runtime == "auto" ? std::string("neither podman nor docker is installed")
                                    : fmt::format("{} is not installed", runtime));
  }
  const std::string& backend = p.String(kBackend);
  if (backend != "cli") {
    std::string socket = p.IsSet(kApiSocket)
                             ? p.String(kApiSocket)
                             : DefaultApiSocket(s.kind, ctx.env().GetOr("DOCKER_HOST", ""));
    struct stat st;
    bool present = stat(socket.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
    if (present) {
      s.socket = socket;
    } else if (backend == "api") {
      return Status::NotInstalled("backend=api but {} is not a socket (is the {} service "
                                "running?)",
                                Quote(socket), EngineName(s.kind));
    }
  }

  ServerConfig& c = s.config;
  c.image = p.String(kImage);
  c.instance = ctx.request().instance;
  c.name = p.IsSet(kName) ? p.String(kName) : ContainerNameFor(c.instance);
  if (auto bad = CheckContainerName(c.name)) {
    return Status::NotConfigured("the container name {} from the resource name {}; set name",
                              Quote(c.name), *bad);
  }
  c.data_dir = p.String(kDataDir);
  while (c.data_dir.size() > 1 && c.data_dir.back() == '/') c.data_dir.pop_back();
  c.require_mount = p.Boolean(kRequireMount);
  c.host_network = p.String(kNetwork) == "host";
  c.publish = SplitPublish(p.String(kPublish));
  if (!c.host_network && c.publish.empty() && !p.IsSet(kHealthUrl)) {
    return Status::NotConfigured("network=bridge needs publish (e.g. 443:8443)");
  }
  auto env = ParseEnvList(p.String(kEnv));
  if (!env) return env.status().Prefixed("parameter 'env'");
  c.env = std::move(*env);
  c.env_file = p.String(kEnvFile);
  c.env_file_dir = ctx.request().rsc_tmp;
  if (p.IsSet(kHealthUrl)) {
    c.health_url = p.String(kHealthUrl);
  } else {
    int major = p.String(kPmmVersion) == "auto" ? PmmMajorFromImage(c.image)
                                                : std::stoi(p.String(kPmmVersion));
    auto url = DeriveHealthUrl(major, c.host_network, c.publish);
    if (!url) return url.status();
    c.health_url = *url;
  }
  c.tls_verify = p.Boolean(kTlsVerify);
  c.health_timeout = std::chrono::seconds(p.Integer(kHealthTimeout));
  c.health_failures = static_cast<int>(p.Integer(kHealthFailures));
  if (p.IsSet(kStopGrace)) c.stop_grace = std::chrono::seconds(p.Integer(kStopGrace));
  const std::string& pull = p.String(kPull);
  c.pull = pull == "never" ? PullPolicy::kNever
           : pull == "always" ? PullPolicy::kAlways
                              : PullPolicy::kMissing;
  c.reuse = p.Boolean(kReuse);
  auto opts = SplitWords(p.String(kRunOpts));
  if (!opts) return opts.status().Prefixed("parameter 'run_opts'");
  c.run_opts = std::move(*opts);
  // Named after the resource, not the clone instance: the number may change.
  const Request& rq = ctx.request();
  auto state_path = [&](std::string_view suffix) {
    return fmt::format("{}/pmm-server-{}.{}", rq.rsc_tmp, ResourceNameOf(rq.instance), suffix);
  };
  c.failure_counter_path = state_path("failures");
  c.promotable = rq.meta.promotable;
  if (p.Boolean(kHa)) {
    auto ha = ResolveHa(p, rq);
    if (!ha) return ha.status();
    c.ha = std::move(*ha);
    c.leader_url = LeaderCheckUrl(c.health_url);
  } else if (c.promotable) {
    return Status::NotConfigured("a promotable clone needs ha=true (PMM 3 HA on external databases): without "
                  "it every instance would run its own PMM on one data set and corrupt it");
  }
  if (c.promotable) {
    c.promoted_path = state_path("promoted");
    auto crm_attribute = FindExecutable("crm_attribute", path);
    if (!crm_attribute) {
      return Status::NotInstalled("crm_attribute (Pacemaker) is needed to set promotion scores");
    }
    s.crm_attribute = *crm_attribute;
    s.config.promotion_cache_path = state_path("score");
  }
  return s;
}

// The validation and the action of one run need the same Setup: resolve it
// once (PATH search, socket stat, splitting env and run_opts), not twice on
// every monitor. One process runs one action, so one Setup per process.
const Result<Setup>& Resolved(const Context& ctx) {
  static const Result<Setup> setup = Resolve(ctx);
  return setup;
}

Status Validate(Context& ctx) {
  const auto& setup = Resolved(ctx);
  if (!setup) return setup.status();
  // https or a host name in health_url needs libcurl, loaded at run time.
  if (Status s = CheckHttpSupport(setup->config.health_url); !s.ok()) return s;
  const std::string& env_file = setup->config.env_file;
  if (!env_file.empty() && !ctx.IsProbe() && access(env_file.c_str(), R_OK) != 0) {
    return Status::NotInstalled("env_file {} is not readable on this node", Quote(env_file));
  }
  return Status::Ok();
}

// The engine, HTTP client and host checks for one action.
class Server {
 public:
  explicit Server(const Context& ctx) : setup_(Resolved(ctx)) {
    if (!setup_) return;
    runner_ = MakeProcessRunner();
    http_ = MakeHttpClient();
    engine_ = MakeCliEngine(setup_->kind, setup_->binary, *runner_);
    if (!setup_->socket.empty()) {
      engine_ = MakeApiEngine(setup_->kind, setup_->socket, *http_, std::move(engine_));
    }
    host_ = MakeServerHost();
    if (!setup_->crm_attribute.empty()) {
      promotion_ = MakeCrmPromotionScore(*runner_, setup_->crm_attribute,
                                         setup_->config.promotion_cache_path);
    }
    server_.emplace(setup_->config, *engine_, *http_, *host_, ctx.log(), promotion_.get());
    ctx.log().Debug("using the {}", engine_->Describe());
  }
  Status status() const { return setup_.status(); }
  PmmServer& operator*() { return *server_; }
  PmmServer* operator->() { return &*server_; }

 private:
  const Result<Setup>& setup_;  // the one Resolved() keeps
  std::unique_ptr<ProcessRunner> runner_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<ContainerEngine> engine_;
  std::unique_ptr<ServerHost> host_;
  std::unique_ptr<PromotionScore> promotion_;
  std::optional<PmmServer> server_;
};

// An action that is one PmmServer call with the operation's deadline.
template <Status (PmmServer::*kAction)(const Deadline&)>
Status ServerAction(Context& ctx) {
  Server server(ctx);
  if (!server.status().ok()) return server.status();
  return ((*server).*kAction)(ctx.deadline());
}

Status Monitor(Context& ctx) {
  Server server(ctx);
  if (!server.status().ok()) return server.status();
  return server->Monitor(ctx.deadline(), ctx.IsProbe(), ctx.request().check_level);
}

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
            {.name = "start", .timeout_s = 300, .handler = ServerAction<&PmmServer::Start>},
            {.name = "stop", .timeout_s = 300, .handler = ServerAction<&PmmServer::Stop>},
            {.name = "monitor", .timeout_s = 30, .handler = Monitor, .interval_s = 10,
             .depth = 0},
            {.name = "monitor", .timeout_s = 30, .handler = Monitor, .interval_s = 60,
             .depth = 10},
            {.name = "promote", .timeout_s = 30, .handler = ServerAction<&PmmServer::Promote>},
            {.name = "demote", .timeout_s = 30, .handler = ServerAction<&PmmServer::Demote>},
        },
    .validate = Validate,
};

}  // namespace

int main(int argc, char** argv) { return pmmha::RunAgent(kAgent, argc, argv); }
