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
  std::string socket =
      !p.api_socket.empty() ? p.api_socket : DefaultApiSocket(s.kind, env.GetOr("DOCKER_HOST", ""));
  if (node.IsSocket(socket)) {
    s.socket = socket;
  } else if (p.backend == "api") {
    return Status::NotInstalled(
        "backend=api but {} is not a socket (is the {} service "
        "running?)",
        Quote(socket), EngineName(s.kind));
  }
  return Status::Ok();
}

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
    promotion =
        MakeCrmPromotionScore(*runner, setup->crm_attribute, setup->config.promotion_cache_path);
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

Result<ServerSetup> ResolveServer(const ServerParams& p, const Request& request,
                                  const Environment& env, const NodeLookup& node) {
  ServerSetup s;
  if (Status engine = ResolveEngine(p, env, node, s); !engine.ok()) return engine;
  ServerConfig& c = s.config;
  if (Status container = ResolveContainer(p, request, c); !container.ok()) return container;
  // Named after the resource, not the clone instance: the number may change.
  auto state_path = [&](std::string_view suffix) {
    return fmt::format("{}/pmm-server-{}.{}", request.rsc_tmp, ResourceNameOf(request.instance),
                       suffix);
  };
  c.failure_counter_path = state_path("failures");
  c.promotable = request.meta.promotable;
  c.drop_in_dependency = p.drop_in_dependency;
  c.require_fs_uuid = p.require_fs_uuid;
  c.systemd_root = env.GetOr("PMMHA_SYSTEMD_ROOT", "/");
  if (request.action == "start" || request.action == "validate-all") {
    // What may not create a container. Stop and monitor still work on a
    // resource configured so (a container an earlier version created).
    if (Status clone = CheckCloneMode(request.meta, p.ha); !clone.ok()) return clone;
    if (Status opts = CheckRunOptsForCreate(c.run_opts); !opts.ok()) return opts;
  }
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
