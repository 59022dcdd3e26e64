// SPDX-License-Identifier: GPL-2.0-or-later
// pmm-server's parameters resolved on the node, and the agent's actions.
#include "pmmha/server/server_agent.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "pmmha/core/process.h"
#include "pmmha/core/text.h"
#include "pmmha/core/words.h"
#include "pmmha/server/http.h"
#include "pmmha/server/promotion.h"
#include "pmmha/server/server_params.h"

#include "http_transport.h"

namespace pmmha {

namespace {

// Where executables are looked for when PATH is unset.
std::string SearchPath(const Environment& env) { return env.GetOr("PATH", kDefaultPath); }

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
  bool IsReadableBy(const std::string& path, unsigned uid, unsigned gid) const override {
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           ModeLetsRead(st.st_mode, st.st_uid, st.st_gid, uid, gid);
  }
};

// The container's configuration, without HA and promotion.
Status ResolveContainer(const ServerParams& p, const Request& request, ServerConfig& c) {
  c.image = p.image;
  c.instance = request.instance;
  c.name = !p.name.empty() ? p.name : ResourceNameOf(c.instance);
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
  c.pmm_major = p.pmm_version == "auto" ? PmmMajorFromImage(c.image) : std::stoi(p.pmm_version);
  if (!p.health_url.empty()) {
    c.health_url = p.health_url;
  } else {
    auto url = DeriveHealthUrl(c.pmm_major, c.host_network, c.publish);
    if (!url) return url.status();
    c.health_url = *url;
  }
  c.tls_verify = p.tls_verify;
  c.health_timeout = std::chrono::seconds(p.health_timeout_s);
  c.health_failures = static_cast<int>(p.health_failures);
  c.health_grace = std::chrono::seconds(p.health_grace_s);
  if (p.stop_grace_s) c.stop_grace = std::chrono::seconds(*p.stop_grace_s);
  c.pull = p.pull == "never"    ? PullPolicy::kNever
           : p.pull == "always" ? PullPolicy::kAlways
                                : PullPolicy::kMissing;
  c.reuse = p.reuse;
  c.volume_options = p.selinux_relabel == "shared"    ? "z"
                     : p.selinux_relabel == "private" ? "Z"
                                                      : "";
  auto opts = SplitWords(p.run_opts);
  if (!opts) return opts.status().Prefixed("parameter 'run_opts'");
  c.run_opts = std::move(*opts);
  return Status::Ok();
}

// Resolving once per process: see ServerValidate in the header.
class RealServerRuntime final : public ServerRuntime {
 public:
  const NodeLookup& node() override { return node_; }
  std::unique_ptr<ContainerEngine> Engine(const ServerSetup& setup) override {
    std::unique_ptr<ContainerEngine> engine = MakeCliEngine(setup.kind, setup.binary, *runner_);
    if (setup.socket.empty()) return engine;
    return MakeApiEngine(setup.kind, setup.socket, *http_, std::move(engine));
  }
  HttpClient& http() override { return *http_; }
  ServerHost& host() override { return *host_; }
  ProcessControl& processes() override { return *processes_; }
  std::unique_ptr<PromotionScore> Promotion(const ServerSetup& setup) override {
    return MakeCrmPromotionScore(*runner_, setup.crm_attribute, setup.config.promotion_cache_path);
  }
  std::unique_ptr<NodeAttributes> Attributes(const Request& request,
                                             const Environment& env) override {
    return MakeAttrdAttributes(*runner_,
                               pmmha::FindExecutable("attrd_updater", SearchPath(env)).value_or(""),
                               request.rsc_tmp);
  }

 private:
  RealNodeLookup node_;
  std::unique_ptr<ProcessRunner> runner_ = MakeProcessRunner();
  std::unique_ptr<HttpClient> http_ = MakeHttpClient();
  std::unique_ptr<ServerHost> host_ = MakeServerHost();
  std::unique_ptr<ProcessControl> processes_ = MakeProcessControl();
};

Status RunOnRealNode(ServerAction action, const ServerParams& params, Context& ctx) {
  auto runtime = MakeServerRuntime();
  return RunServerAction(action, params, ctx, *runtime);
}

}  // namespace

bool ModeLetsRead(unsigned mode, unsigned file_uid, unsigned file_gid, unsigned uid, unsigned gid) {
  if (uid == file_uid) return (mode & S_IRUSR) != 0;
  if (gid == file_gid) return (mode & S_IRGRP) != 0;
  return (mode & S_IROTH) != 0;
}

std::unique_ptr<NodeLookup> MakeNodeLookup() { return std::make_unique<RealNodeLookup>(); }

std::unique_ptr<ServerRuntime> MakeServerRuntime() { return std::make_unique<RealServerRuntime>(); }

Status ResolveEngine(const ServerParams& p, const Environment& env, const NodeLookup& node,
                     Resolution mode, ServerSetup& s) {
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
    std::string missing = p.runtime == "auto"
                              ? std::string("neither podman nor docker is installed")
                              : fmt::format("{} is not installed", p.runtime);
    if (mode == Resolution::kStrict) return Status::NotInstalled("{}", missing);
    s.no_engine = std::move(missing);
    return Status::Ok();
  }
  if (p.backend == "cli") return Status::Ok();
  std::string socket =
      !p.api_socket.empty() ? p.api_socket : DefaultApiSocket(s.kind, env.GetOr("DOCKER_HOST", ""));
  if (node.IsSocket(socket)) {
    s.socket = socket;
  } else if (p.backend == "api" && mode == Resolution::kTolerant) {
    // The CLI reaches the same containers (podman's own storage, or the
    // daemon DOCKER_HOST names): stop and monitor need no socket.
    s.notes.push_back(fmt::format("backend=api but {} is not a socket: using the {} CLI",
                                  Quote(socket), EngineName(s.kind)));
  } else if (p.backend == "api") {
    return Status::NotInstalled(
        "backend=api but {} is not a socket (is the {} service "
        "running?)",
        Quote(socket), EngineName(s.kind));
  }
  return Status::Ok();
}

Result<HaSettings> ResolveHa(const ServerParams& p, const Request& request, Resolution mode) {
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
    if (ha.advertise_address.empty() && mode == Resolution::kStrict) {
      return Status::NotConfigured(
          "ha_peers names no address for this node {}: write it as "
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

namespace {

// The configuration after the engine; the first reason it does not add up.
Status ResolveConfig(const ServerParams& p, const Request& request, const Environment& env,
                     const NodeLookup& node, Resolution mode, ServerSetup& s) {
  ServerConfig& c = s.config;
  // Named after the resource, not the clone instance: the number may change.
  auto state_path = [&](std::string_view suffix) {
    return fmt::format("{}/pmm-server-{}.{}", request.rsc_tmp, ResourceNameOf(request.instance),
                       suffix);
  };
  // First: a stop goes on with these even when the rest does not add up.
  c.failure_counter_path = state_path("failures");
  c.identity_path = state_path("container");
  if (p.stop_grace_s) c.stop_grace = std::chrono::seconds(*p.stop_grace_s);
  if (request.meta.promotable) c.promoted_path = state_path("promoted");
  if (Status container = ResolveContainer(p, request, c); !container.ok()) return container;
  c.promotable = request.meta.promotable;
  c.drop_in_dependency = p.drop_in_dependency;
  c.require_fs_uuid = p.require_fs_uuid;
  c.systemd_root = env.GetOr("PMMHA_SYSTEMD_ROOT", "/");
  const bool creates = request.action == "start" || request.action == "validate-all";
  if (creates) {
    // What may not create a container. Stop and monitor still work on a
    // resource configured so (a container an earlier version created).
    if (Status clone = CheckCloneMode(request.meta, p.ha); !clone.ok()) return clone;
    if (Status opts = CheckRunOptsForCreate(c.run_opts); !opts.ok()) return opts;
    // Works where the image is present, fails on the node a failover needs
    // it on: refused everywhere, before anything runs.
    if (auto qualified = QualifiedImage(c.image); qualified && s.kind == EngineKind::kPodman &&
                                                  !s.binary.empty() &&
                                                  c.pull != PullPolicy::kNever) {
      return Status::NotConfigured(
          "image {} is a short name: podman cannot pull it unattended where short-name-mode is "
          "enforcing (RHEL, Fedora); use {} (or pull=never with the image on every node)",
          Quote(c.image), Quote(*qualified));
    }
  }
  if (creates && p.ha && c.pmm_major == 2) {
    // PMM 2 reads no PMM_HA_*: every node would run a leader of its own.
    return Status::NotConfigured("ha=true needs PMM 3 (its HA mode); image {} is PMM 2 by {}",
                                 Quote(c.image),
                                 p.pmm_version == "auto" ? "its tag" : "pmm_version");
  }
  if (p.ha) {
    auto ha = ResolveHa(p, request, mode);
    if (!ha) return ha.status();
    if (ha->advertise_address.empty()) {
      s.notes.push_back(
          fmt::format("ha_peers names no address for this node {}: only start needs it",
                      Quote(request.NodeName())));
    }
    if (creates && !ha->advertise_address.empty() && !IsIpLiteral(ha->advertise_address)) {
      // memberlist takes an IP literal only: with a host name PMM's HA never
      // starts on this node, while its readiness may still say 200.
      return Status::NotConfigured(
          "this node's advertise address {} ({}) is a host name: PMM advertises an IP address "
          "only (a host name means HA never starts on this node); write its IP address",
          Quote(ha->advertise_address),
          p.ha_advertise_address.empty() ? "its ha_peers entry" : "ha_advertise_address");
    }
    if (creates && ha->key_file.empty()) {
      return Status::NotConfigured(
          "ha=true needs ha_key_file, the encryption key every PMM Server shares: without it "
          "each node makes its own, and none can read what another encrypted");
    }
    c.ha = std::move(*ha);
    c.leader_url = LeaderCheckUrl(c.health_url);
  } else if (c.promotable) {
    return Status::NotConfigured(
        "a promotable clone needs ha=true (PMM 3 HA on external databases): without "
        "it every instance would run its own PMM on one data set and corrupt it");
  }
  if (c.promotable) {
    c.promotion_cache_path = state_path("score");
    auto crm_attribute = node.FindExecutable("crm_attribute", SearchPath(env));
    if (crm_attribute) {
      s.crm_attribute = *crm_attribute;
    } else if (mode == Resolution::kStrict) {
      return Status::NotInstalled("crm_attribute (Pacemaker) is needed to set promotion scores");
    } else {
      s.notes.push_back(
          "crm_attribute (Pacemaker) is not installed: promotion scores left as they are");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ServerSetup> ResolveServer(const ServerParams& p, const Request& request,
                                  const Environment& env, const NodeLookup& node, Resolution mode) {
  ServerSetup s;
  if (Status engine = ResolveEngine(p, env, node, mode, s); !engine.ok()) return engine;
  Status config = ResolveConfig(p, request, env, node, mode, s);
  if (config.ok()) return s;
  if (mode == Resolution::kStrict || config.code() != ExitCode::kErrConfigured) return config;
  s.invalid = std::move(config);
  return s;
}

Status ValidateServer(const ServerSetup& setup, bool probe, const NodeLookup& node) {
  // https or a host name in health_url needs libcurl, loaded at run time.
  if (Status s = CheckHttpSupport(setup.config.health_url); !s.ok()) return s;
  const std::string& env_file = setup.config.env_file;
  if (!env_file.empty() && !probe && !node.IsReadable(env_file)) {
    return Status::NotInstalled("env_file {} is not readable on this node", Quote(env_file));
  }
  if (const auto& ha = setup.config.ha; ha && !ha->key_file.empty() && !probe) {
    if (!node.IsReadable(ha->key_file)) {
      return Status::NotInstalled("ha_key_file {} is not readable on this node",
                                  Quote(ha->key_file));
    }
    if (!node.IsReadableBy(ha->key_file, kPmmUid, kPmmUid)) {
      return Status::NotInstalled(
          "ha_key_file {} is not readable by PMM's user (uid {}, gid {}) in the container: "
          "e.g. chown root:{} and chmod 0640 it",
          Quote(ha->key_file), kPmmUid, kPmmUid, kPmmUid);
    }
  }
  return Status::Ok();
}

Status RunServerAction(ServerAction action, const ServerParams& params, Context& ctx,
                       ServerRuntime& runtime) {
  const bool strict = action == ServerAction::kStart || action == ServerAction::kPromote ||
                      action == ServerAction::kValidate;
  auto setup = ResolveServer(params, ctx.request(), ctx.env(), runtime.node(),
                             strict ? Resolution::kStrict : Resolution::kTolerant);
  if (!setup) return setup.status();
  if (strict) {
    if (Status s = ValidateServer(*setup, ctx.IsProbe(), runtime.node()); !s.ok()) return s;
    if (action == ServerAction::kValidate) {
      // A port in use may be freed before a start: a warning, not a refusal.
      std::vector<PortNeed> needs = PmmHostPorts(setup->config);
      for (const auto& h : runtime.host().PortHolders(needs, ctx.deadline())) {
        ctx.log().Warn("port {} that PMM binds is in use by {} on {}: start would fail here",
                       h.port, h.owner, h.address);
      }
      return Status::Ok();
    }
  }
  for (const auto& note : setup->notes) ctx.log().Info("{}", note);
  if (action == ServerAction::kReload) {
    // The reloadable parameters are the readiness check's, which every
    // monitor reads afresh: nothing in the container changes.
    if (!setup->invalid.ok()) return setup->invalid;
    const ServerConfig& c = setup->config;
    ctx.log().Info(
        "reloaded: monitors check {} (timeout {} ms{}), {} failures and {} s before "
        "a failure",
        c.health_url, c.health_timeout.count(), c.tls_verify ? ", TLS verified" : "",
        c.health_failures, c.health_grace.count());
    return Status::Ok();
  }
  if (!setup->invalid.ok()) {
    if (action == ServerAction::kMonitor) return setup->invalid;
    // A stop (or demote) needs the container's name only: the parameters
    // may have changed to values no node can start while it runs.
    if (auto bad = CheckContainerName(setup->config.name)) {
      ctx.log().Info("{}; no container can be named {}: nothing to {}", setup->invalid.reason(),
                     Quote(setup->config.name), ctx.request().action);
      return Status::Ok();
    }
    ctx.log().Info("{}; going on with the container's name", setup->invalid.reason());
  }
  std::unique_ptr<ContainerEngine> engine =
      setup->binary.empty() ? MakeUnavailableEngine(setup->no_engine) : runtime.Engine(*setup);
  std::unique_ptr<PromotionScore> promotion;
  if (!setup->crm_attribute.empty()) promotion = runtime.Promotion(*setup);
  std::unique_ptr<NodeAttributes> attributes = runtime.Attributes(ctx.request(), ctx.env());
  PmmServer server(setup->config, *engine, runtime.http(), runtime.host(), ctx.log(),
                   promotion.get(), &runtime.processes(), attributes.get());
  ctx.log().Debug("using the {}", engine->Describe());
  const Deadline& deadline = ctx.deadline();
  switch (action) {
    case ServerAction::kStart: return server.Start(deadline);
    case ServerAction::kStop: return server.Stop(deadline);
    case ServerAction::kMonitor:
      return server.Monitor(deadline, ctx.IsProbe(), ctx.request().check_level);
    case ServerAction::kPromote: return server.Promote(deadline);
    case ServerAction::kDemote: return server.Demote(deadline);
    case ServerAction::kValidate:
    case ServerAction::kReload: break;
  }
  return Status::Ok();
}

Status ServerStart(const ServerParams& params, Context& ctx) {
  return RunOnRealNode(ServerAction::kStart, params, ctx);
}
Status ServerStop(const ServerParams& params, Context& ctx) {
  return RunOnRealNode(ServerAction::kStop, params, ctx);
}
Status ServerMonitor(const ServerParams& params, Context& ctx) {
  return RunOnRealNode(ServerAction::kMonitor, params, ctx);
}
Status ServerPromote(const ServerParams& params, Context& ctx) {
  return RunOnRealNode(ServerAction::kPromote, params, ctx);
}
Status ServerDemote(const ServerParams& params, Context& ctx) {
  return RunOnRealNode(ServerAction::kDemote, params, ctx);
}

Status ServerReload(const ServerParams& params, Context& ctx) {
  return RunOnRealNode(ServerAction::kReload, params, ctx);
}

Status ServerValidate(const ServerParams& params, Context& ctx) {
  if (ctx.request().action != "validate-all") return Status::Ok();
  return RunOnRealNode(ServerAction::kValidate, params, ctx);
}

}  // namespace pmmha
