// SPDX-License-Identifier: GPL-2.0-or-later
// ocf:percona:pmm-server: PMM Server in a Podman or Docker container, started
// and monitored by readiness, stopped with the grace PMM needs.
// The parameter table and the action table; the work is in
// pmmha/server/server_agent.h.
#include "pmmha/core/agent.h"
#include "pmmha/server/engine_params.h"
#include "pmmha/server/server_agent.h"
#include "pmmha/server/server_params.h"

namespace {

using namespace pmmha;

const ParamSpec kImage{
    .name = "image",
    .flags = kRequired,
    .shortdesc = "PMM Server image",
    .longdesc =
        "The PMM Server image, fully qualified: e.g. docker.io/percona/pmm-server:3 or "
        "docker.io/percona/pmm-server:2.44.0. Its tag also tells the PMM major version "
        "(see pmm_version). With podman, a short name (percona/pmm-server:3) is refused "
        "unless pull=never: podman cannot pull it unattended where short-name-mode is "
        "enforcing (RHEL, Fedora), so the node a failover needs it on would fail.",
};
const ParamSpec kName{
    .name = "name",
    .flags = kUnique,
    .shortdesc = "Container name",
    .longdesc =
        "The container's name. Default: the resource name; a clone instance drops "
        "its ':N' (one instance runs per node, and Pacemaker may number it "
        "differently after a restart). The agent labels the containers it creates "
        "(io.percona.pmm-ha.resource=<resource>); a container of this name without "
        "that label is not the resource's: start refuses to adopt or remove it (1, "
        "naming it), stop leaves it running and succeeds (stopping someone else's "
        "workload because it took the name would be worse; start reports the clash), "
        "monitor says not running.",
    .check = CheckContainerName,
};
const ParamSpec kDataDir{
    .name = "data_dir",
    .flags = kRequired | kUnique,
    .shortdesc = "Host directory mounted at /srv",
    .longdesc =
        "The host directory that holds all of PMM's state (PostgreSQL, ClickHouse, "
        "VictoriaMetrics, Grafana) and is mounted at /srv in the container: normally "
        "the directory of an ocf:percona:pmm-storage resource. PMM 3 runs as uid 1000 "
        "and exits at once on a /srv it cannot write: start refuses (5) a data_dir "
        "that uid 1000 cannot write (pmm-storage's owner=1000:1000, or chown it), "
        "unless run_opts chooses another user.",
    .check = CheckDataDir,
};
const ParamSpec kRequireMount{
    .name = "require_mount",
    .type = ParamType::kBoolean,
    .default_value = "true",
    .shortdesc = "Refuse a data_dir that is not a mount",
    .longdesc =
        "Refuse to start unless data_dir is a mount point of a filesystem other than "
        "the root's, so PMM never initialises an empty /srv on a local disk because "
        "the shared disk did not mount. Also refused: a tmpfs, ramfs or overlay at "
        "data_dir (never the shared disk, gone at reboot), and the root filesystem "
        "mounted again there: a bind mount of one of its directories or a btrfs "
        "subvolume of it (SLES' /srv layout), which the mount table shows with the "
        "root's device.",
};
const ParamSpec kRequireFsUuid{
    .name = "require_fs_uuid",
    .shortdesc = "UUID of the filesystem data_dir must be on",
    .longdesc =
        "When set, start also refuses unless the filesystem mounted at data_dir has this "
        "UUID (as blkid shows it; ext4, xfs or btrfs), read from its device's superblock: "
        "PMM starts only on the filesystem the storage resource mounts, not on another "
        "disk mounted there by hand or by mistake. Needs require_mount.",
    .check = CheckFsUuid,
};
const ParamSpec kNetwork{
    .name = "network",
    .default_value = "host",
    .shortdesc = "Container network",
    .longdesc =
        "host: PMM's ports are the node's ports (and so answer on the VIP); bridge: "
        "the engine's bridge network with the ports in publish. Start fails at once, "
        "naming the port and the process, when one PMM binds on the node is taken "
        "(Cockpit on 9090, a host pmm-agent on 7777; with bridge, a published one); "
        "validate-all warns.",
    .choices = {"host", "bridge"},
};
const ParamSpec kPublish{
    .name = "publish",
    .shortdesc = "Published ports (bridge network)",
    .longdesc =
        "Comma-separated [IP:]HOSTPORT:CONTAINERPORT[/PROTO] mappings for the bridge "
        "network, e.g. '443:8443' for PMM 3 or '443:443' for PMM 2.",
    .check = CheckPublish,
};
const ParamSpec kEnv{
    .name = "env",
    .flags = kPrivate,
    .shortdesc = "Environment of the container",
    .longdesc =
        "NAME=VALUE settings for PMM (PMM_* variables), separated by blanks, quoted "
        "like in a shell (no shell is used). Values may be secrets: they are never "
        "logged and never put on a command line. PMM_ENABLE_UPDATES=0 (PMM 2: "
        "DISABLE_UPDATES=true) is added unless set here: under a cluster manager PMM "
        "must not update itself.",
    .check = CheckEnvList,
};
const ParamSpec kEnvFile{
    .name = "env_file",
    .shortdesc = "File of NAME=VALUE lines",
    .longdesc =
        "An env file (absolute path) passed to the engine, for settings that should "
        "not be in the CIB.",
    .check = CheckDataDir,
};
const ParamSpec kHealthUrl{
    .name = "health_url",
    .flags = kReloadable,
    .shortdesc = "Readiness URL",
    .longdesc =
        "The URL whose HTTP 200 means PMM Server is ready. Default: PMM's readyz on "
        "its plain-HTTP port on loopback (8080 for PMM 3, 80 for PMM 2; with the "
        "bridge network the host port published for it).",
    .check = CheckHealthUrl,
};
const ParamSpec kPmmVersion{
    .name = "pmm_version",
    .default_value = "auto",
    .shortdesc = "PMM major version",
    .longdesc =
        "2 or 3: decides the default health_url. auto: from the image tag (3 unless "
        "the tag starts with 2).",
    .choices = {"auto", "2", "3"},
};
const ParamSpec kHealthTimeout{
    .name = "health_timeout",
    .type = ParamType::kInteger,
    .default_value = "5",
    .flags = kReloadable,
    .shortdesc = "Seconds one readiness request may take",
    .min = 1,
    .max = 300,
};
const ParamSpec kHealthFailures{
    .name = "health_failures",
    .type = ParamType::kInteger,
    .default_value = "3",
    .flags = kReloadable,
    .shortdesc = "Failed readiness checks before a failure",
    .longdesc =
        "How many monitors in a row may find PMM running but not ready: they report "
        "degraded (190), the next one a failure, so the cluster recovers PMM.",
    .min = 1,
    .max = 1000,
};
const ParamSpec kHealthGrace{
    .name = "health_grace",
    .type = ParamType::kInteger,
    .default_value = "0",
    .flags = kReloadable,
    .shortdesc = "Seconds PMM may be not ready before a failure",
    .longdesc =
        "The least time, in seconds, from the first monitor that finds PMM running but not "
        "ready to the one that reports a failure, on top of health_failures: with a short "
        "monitor interval it keeps the grace PMM gets (a restart of its databases, an "
        "outage of PMM 3 HA's external ones) from shrinking with the interval. 0: "
        "health_failures alone decides.",
    .min = 0,
    .max = 3600,
};
const ParamSpec kTlsVerify{
    .name = "tls_verify",
    .type = ParamType::kBoolean,
    .default_value = "false",
    .flags = kReloadable,
    .shortdesc = "Verify the TLS certificate of an https health_url",
    .longdesc = "PMM ships a self-signed certificate, so this is off by default.",
};
const ParamSpec kStopGrace{
    .name = "stop_grace",
    .type = ParamType::kInteger,
    .shortdesc = "Seconds PMM gets to shut down",
    .longdesc =
        "How long the container gets between SIGTERM and SIGKILL. Default: the stop "
        "timeout less a reserve for kill and removal. PMM needs minutes: "
        "VictoriaMetrics flushes for up to 300 s. The container is also created with "
        "it as its stop timeout (--stop-timeout; without stop_grace, the default for "
        "the advised 300 s stop timeout: 285 s), which is what PMM gets from a stop "
        "the agent does not issue (an admin's, the engine's own at shutdown) instead "
        "of the engines' 10 s.",
    .min = 0,
    .max = 86400,
};
const ParamSpec kReuse{
    .name = "reuse",
    .type = ParamType::kBoolean,
    .default_value = "false",
    .shortdesc = "Restart an existing container instead of recreating it",
    .longdesc = "false: every start creates the container anew from the configuration.",
};
const ParamSpec kSelinuxRelabel{
    .name = "selinux_relabel",
    .default_value = "none",
    .shortdesc = "SELinux label for data_dir in the container",
    .longdesc =
        "On an SELinux-enforcing host (RHEL with podman) PMM cannot write a data_dir "
        "without a container label. none: data_dir is mounted as it is labelled; shared "
        "(:z) or private (:Z): the engine relabels every file under data_dir when it "
        "creates the container, minutes on a large PMM. For a filesystem of PMM's own, "
        "pmm-storage's options=context=\"system_u:object_r:container_file_t:s0\" labels "
        "the whole mount at no cost instead (the examples say so).",
    .choices = {"none", "shared", "private"},
};
const ParamSpec kRunOpts{
    .name = "run_opts",
    .shortdesc = "Extra options for 'run'",
    .longdesc =
        "More options for podman/docker run, split with shell quoting rules but never "
        "passed to a shell; shell syntax (; | & $ ...) outside quotes is refused. "
        "Start and validate-all refuse a restart policy other than 'no' (--restart "
        "always, as Percona's docker instructions have it: the engine would restart "
        "PMM after a crash or a fence, outside the cluster and without the "
        "require_mount check; the container is created with --restart no) and "
        "--stop-timeout (set from stop_grace). Stop and monitor still act on a "
        "resource configured so, so that it can be stopped.",
    .check = CheckRunOpts,
};

const ParamSpec kDropIn{
    .name = "drop_in_dependency",
    .type = ParamType::kBoolean,
    .default_value = "true",
    .shortdesc = "Order Pacemaker's stop before the engine's at shutdown",
    .longdesc =
        "true: start writes /run/systemd/system/resource-agents-deps.target.d/"
        "99-pmm-server-NAME.conf (when it is absent or names another container) and "
        "reloads systemd. Pacemaker is ordered after resource-agents-deps.target, and "
        "the drop-in orders that target after the engine (docker.service and "
        "containerd.service, or podman.socket and podman.service) and the container's "
        "scopes, so a plain reboot lets Pacemaker stop PMM, with its stop_grace, before "
        "systemd or the engine stop the container: the ordering resource-agents' podman "
        "agent gets with its drop_in_dependency (which writes Before=pacemaker.service into "
        "the container's transient scopes instead). On by default, unlike there: without it a "
        "plain reboot has the engine stop PMM in 10 s while Pacemaker is still stopping it, "
        "and the failed stop fences the node mid-shutdown. Nothing is written where systemd "
        "does not run (no /run/systemd/system); a failure to write it is logged, it does not "
        "fail the start.",
};

const ParamSpec kHa{
    .name = "ha",
    .type = ParamType::kBoolean,
    .default_value = "false",
    .shortdesc = "PMM 3 HA: PMM elects its own leader",
    .longdesc =
        "true: run as one of several PMM 3 Servers that share external PostgreSQL, "
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
        "ha=false is refused, and so is a plain clone with ha=false (by start and "
        "validate-all, with 6, as Filesystem refuses clones of ext4 and xfs): two "
        "PMM Servers on one data set corrupt it. An image that ignores PMM_HA_* (PMM 2, "
        "or PMM 3 before HA) leads on every node: when PMM leads on this node and on "
        "a peer at once for 10 s (Raft deposes a cut-off leader within a second or "
        "two), start and the unpromoted instances' monitors fail with 6, "
        "which stops the clone everywhere: several leaders would each run the "
        "leader's work against the one shared database.",
};
const ParamSpec kHaPeers{
    .name = "ha_peers",
    .shortdesc = "All PMM Servers of the HA cluster",
    .longdesc =
        "Comma-separated NODE=ADDRESS entries, one per cluster node that runs PMM "
        "(NODE: the cluster node name; ADDRESS: the IP address PMM advertises there), "
        "e.g. 'node1=10.0.0.11,node2=10.0.0.12,node3=10.0.0.13'. The addresses become "
        "PMM_HA_PEERS; this node's entry gives its advertise address. Plain addresses "
        "are accepted with ha_advertise_address. The first entry's node bootstraps the "
        "Raft cluster (PMM_HA_BOOTSTRAP).",
    .check = CheckHaPeers,
};
const ParamSpec kHaNodeId{
    .name = "ha_node_id",
    .shortdesc = "PMM_HA_NODE_ID",
    .longdesc =
        "This PMM Server's id in the HA cluster. Default: the cluster node name, "
        "which differs on every node as it must.",
    .check = CheckContainerName,
};
const ParamSpec kHaAdvertiseAddress{
    .name = "ha_advertise_address",
    .shortdesc = "PMM_HA_ADVERTISE_ADDRESS",
    .longdesc =
        "The IP address the other PMM Servers reach this one at (PMM advertises an IP "
        "address only: start refuses a host name). Default: this node's entry in "
        "ha_peers. A clone has one value for all nodes: leave it unset unless every "
        "node has its own rule-based value.",
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
    .longdesc =
        "Host path of the encryption key file, the same on every node (PMM encrypts "
        "secrets in its database with it): required with ha=true, since each node would "
        "otherwise make its own and none could read what another encrypted. Make it once "
        "(e.g. the /srv/pmm-encryption.key a PMM 3 Server generated on first start), copy "
        "it to every node, readable by PMM's user (uid 1000): chown root:1000, chmod 0640. "
        "Mounted read-only into the container and named by PMM_ENCRYPTION_KEY_PATH.",
    .check = CheckDataDir,
};

const ParamTable kParams{&kImage,
                         &kName,
                         &kEngineRuntime,
                         &kEngineBackend,
                         &kEngineApiSocket,
                         &kDataDir,
                         &kRequireMount,
                         &kNetwork,
                         &kPublish,
                         &kEnv,
                         &kEnvFile,
                         &kHealthUrl,
                         &kPmmVersion,
                         &kHealthTimeout,
                         &kHealthFailures,
                         &kHealthGrace,
                         &kTlsVerify,
                         &kStopGrace,
                         &kEnginePull,
                         &kReuse,
                         &kRunOpts,
                         &kSelinuxRelabel,
                         &kHa,
                         &kHaPeers,
                         &kHaNodeId,
                         &kHaAdvertiseAddress,
                         &kHaRaftPort,
                         &kHaGossipPort,
                         &kHaGrafanaGossipPort,
                         &kHaKeyFile,
                         &kDropIn,
                         &kRequireFsUuid};

ServerParams Read(const Context& ctx) {
  const Params& p = ctx.params();
  return {
      .image = p.String(kImage),
      .name = p.String(kName),
      .runtime = p.String(kEngineRuntime),
      .backend = p.String(kEngineBackend),
      .api_socket = p.String(kEngineApiSocket),
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
      .health_grace_s = p.Integer(kHealthGrace),
      .tls_verify = p.Boolean(kTlsVerify),
      .stop_grace_s = p.IsSet(kStopGrace) ? std::optional(p.Integer(kStopGrace)) : std::nullopt,
      .pull = p.String(kEnginePull),
      .reuse = p.Boolean(kReuse),
      .run_opts = p.String(kRunOpts),
      .selinux_relabel = p.String(kSelinuxRelabel),
      .ha = p.Boolean(kHa),
      .ha_peers = p.String(kHaPeers),
      .ha_node_id = p.String(kHaNodeId),
      .ha_advertise_address = p.String(kHaAdvertiseAddress),
      .ha_raft_port = p.Integer(kHaRaftPort),
      .ha_gossip_port = p.Integer(kHaGossipPort),
      .ha_grafana_gossip_port = p.Integer(kHaGrafanaGossipPort),
      .ha_key_file = p.String(kHaKeyFile),
      .drop_in_dependency = p.Boolean(kDropIn),
      .require_fs_uuid = p.String(kRequireFsUuid),
  };
}

Status Start(Context& ctx) { return ServerStart(Read(ctx), ctx); }
Status Stop(Context& ctx) { return ServerStop(Read(ctx), ctx); }
Status Monitor(Context& ctx) { return ServerMonitor(Read(ctx), ctx); }
Status Promote(Context& ctx) { return ServerPromote(Read(ctx), ctx); }
Status Demote(Context& ctx) { return ServerDemote(Read(ctx), ctx); }
Status Reload(Context& ctx) { return ServerReload(Read(ctx), ctx); }
Status Validate(Context& ctx) { return ServerValidate(Read(ctx), ctx); }

constexpr std::string_view kPodman = "ocf:heartbeat:podman/docker";
// podman's and docker's parameters that pmm-server does not have (README's
// migration table).
const std::vector<ForeignParam> kForeign = {
    {"run_cmd", kPodman, "PMM's image runs its own entrypoint; run_opts passes engine options"},
    {"mount_points", kPodman,
     "data_dir is PMM's /srv; other host directories go in run_opts ('-v /host:/path')"},
    {"monitor_cmd", kPodman,
     "monitor asks PMM's readiness over HTTP (health_url) from the agent, without an exec into "
     "the container"},
    {"force_kill", kPodman,
     "stop gives PMM stop_grace to shut its databases down, then kills (stop_grace sets it)",
     IsOcfFalse},
    {"query_docker_health", kPodman,
     "monitor asks PMM's own readiness (health_url), what a health check in the image would ask",
     IsOcfFalse},
};

const AgentSpec kAgent{
    .name = "pmm-server",
    .shortdesc = "PMM Server container (Podman or Docker), readiness-aware",
    .longdesc =
        "Runs Percona Monitoring and Management Server in a Podman or Docker container on "
        "the node's /srv storage. Start returns when PMM answers ready (not merely when the "
        "container exists); monitor checks the container and PMM's readiness in-process "
        "(degraded for health_failures monitors before a failure); stop gives PMM the time "
        "its databases need to shut down, then kills, then removes the container, never "
        "the data. With require_mount (default) PMM never starts on a data_dir that is not "
        "a mounted filesystem. With ha=true (PMM 3 HA) it runs as a promotable clone whose "
        "promoted instance follows the leader PMM elects. Stop never fails for what only "
        "this node lacks (podman/docker, the API socket, crm_attribute, a readable "
        "env_file, an entry in ha_peers): start, promote and validate-all check those; "
        "stop, demote and monitor go on without them (the CLI for a missing socket, "
        "scores untouched without crm_attribute). Start records the container's process "
        "in HA_RSCTMP. When the engine cannot be asked (its daemon down or hung, or not "
        "installed), stop decides from that record: a process that is gone, or none "
        "recorded (HA_RSCTMP is emptied at boot, with every container), cannot be running "
        "PMM, so stop succeeds; a live one gets SIGTERM, the stop grace and SIGKILL, and "
        "stop succeeds only once it is gone. Monitor and probe then say 190 (running, "
        "degraded) while the process lives and PMM is ready, 7 once it is gone. Podman "
        "whose conmon died never sees the container exit: monitor says 190 while PMM "
        "serves, 7 once the recorded process is gone, and stop removes the container "
        "left 'stopping' once that process is gone. Node attributes (crm_mon -A1), written "
        "only when they change: pmm-state (ready, or degraded while PMM runs but is not "
        "ready) and pmm-version (the image's org.opencontainers.image.version label), "
        "removed by stop; pmm-leader=yes while promoted (PMM 3 HA; set by the promoted monitor), "
        "removed by demote and "
        "stop; pmm-data (writable or not-writable by PMM 3's uid 1000, from start) and "
        "pmm-ha-key (the first 16 hex digits of ha_key_file's sha256, to compare nodes "
        "without showing the key), which describe the node and stay.",
    .params = kParams,
    .foreign = kForeign,
    .actions =
        {
            {.name = "start", .timeout_s = 300, .handler = Start},
            {.name = "stop",
             .timeout_s = static_cast<int>(kDefaultStopTimeout.count()),
             .handler = Stop},
            {.name = "monitor", .timeout_s = 30, .handler = Monitor, .interval_s = 10, .depth = 0},
            {.name = "monitor", .timeout_s = 30, .handler = Monitor, .interval_s = 60, .depth = 10},
            // A promotable clone's instances: the promoted one, and the
            // unpromoted ones, whose monitor sees a new leader (intervals
            // differ: Pacemaker keys monitors by interval).
            {.name = "monitor",
             .timeout_s = 30,
             .handler = Monitor,
             .interval_s = 5,
             .depth = 0,
             .role = "Promoted"},
            {.name = "monitor",
             .timeout_s = 30,
             .handler = Monitor,
             .interval_s = 6,
             .depth = 0,
             .role = "Unpromoted"},
            // Pacemaker cancels role-less monitors on promotion: the
            // promoted instance's own check that /srv is data_dir.
            {.name = "monitor",
             .timeout_s = 30,
             .handler = Monitor,
             .interval_s = 61,
             .depth = 10,
             .role = "Promoted"},
            {.name = "promote", .timeout_s = 30, .handler = Promote},
            {.name = "demote", .timeout_s = 30, .handler = Demote},
            {.name = "reload-agent", .timeout_s = 20, .handler = Reload},
        },
    .validate = Validate,
};

}  // namespace

int main(int argc, char** argv) { return pmmha::RunAgent(kAgent, argc, argv); }
