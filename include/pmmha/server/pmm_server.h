// SPDX-License-Identifier: GPL-2.0-or-later
// The PMM Server container lifecycle: what pmm-server's start, stop and
// monitor do, independent of how the agent reads its parameters. The engine,
// HTTP client and host checks are interfaces, so the decisions are unit-tested
// against fakes and integration-tested against podman and dockerd.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pmmha/core/deadline.h"
#include "pmmha/core/log.h"
#include "pmmha/core/node_attribute.h"
#include "pmmha/core/status.h"
#include "pmmha/server/container.h"
#include "pmmha/server/container_process.h"
#include "pmmha/server/http.h"
#include "pmmha/server/ports.h"
#include "pmmha/server/promotion.h"

namespace pmmha {

enum class PullPolicy { kNever, kMissing, kAlways };

// PMM 3 HA: several PMM Servers on external databases elect a leader among
// themselves with Raft. Becomes PMM_HA_* in the container's environment.
struct HaSettings {
  std::string node_id;
  std::string advertise_address;
  std::string peers;  // comma-separated addresses, PMM_HA_PEERS
  int raft_port = 9097;
  int gossip_port = 9096;
  int grafana_gossip_port = 9094;
  bool bootstrap = false;  // this node bootstraps the Raft cluster (the first peer)
  std::string key_file;    // host path of the shared encryption key; may be empty
};

// Where the in-container path of the shared HA encryption key is.
inline constexpr const char* kHaKeyInContainer = "/etc/pmm-ha/encryption.key";
// PMM 3 runs as user pmm, uid and gid 1000, in its container.
inline constexpr unsigned kPmmUid = 1000;

struct ServerConfig {
  std::string name;  // container name
  std::string image;
  int pmm_major = 3;     // 2 or 3: the environment names PMM reads
  std::string instance;  // resource instance, for the container label
  std::string data_dir;  // host directory mounted at /srv
  bool require_mount = true;
  bool host_network = false;
  std::vector<std::string> publish;  // "[ip:]host:container[/proto]" entries
  std::vector<std::string> env;      // NAME=VALUE (secret: never logged)
  std::string env_file;              // passed to the engine as is
  std::string env_file_dir;          // where the private env file is written
  std::string health_url;
  bool tls_verify = false;
  std::chrono::milliseconds health_timeout{5000};
  int health_failures = 3;
  // At least this long from the first not-ready monitor to a failure.
  std::chrono::seconds health_grace{0};
  // The clock health_grace is measured on (system-wide, so one monitor's
  // reading means the same to the next); tests move it.
  std::function<std::chrono::steady_clock::time_point()> now = std::chrono::steady_clock::now;
  std::optional<std::chrono::seconds> stop_grace;  // nothing: most of the budget
  PullPolicy pull = PullPolicy::kMissing;
  bool reuse = false;
  std::vector<std::string> run_opts;
  std::string volume_options;        // after data_dir:/srv: "z", "Z" or none (SELinux)
  std::string failure_counter_path;  // in HA_RSCTMP
  std::string identity_path;         // in HA_RSCTMP: the started container's process
  std::optional<HaSettings> ha;      // PMM 3 HA mode
  bool promotable = false;           // an instance of a promotable clone
  std::string leader_url;            // PMM's leaderHealthCheck (HA mode)
  std::string promoted_path;         // in HA_RSCTMP: Pacemaker promoted us
  std::string promotion_cache_path;  // in HA_RSCTMP: the score last set
  // Start writes the shutdown ordering drop-in (ShutdownOrderDropIn).
  bool drop_in_dependency = false;
  std::string systemd_root = "/";  // where /run/systemd lives; moved by tests only
  std::string require_fs_uuid;     // non-empty: data_dir must be on this filesystem
};

// The stop timeout the meta-data advises; the container's own stop timeout
// (what an engine gives PMM on a stop the agent does not issue) is derived
// from it when stop_grace is not set.
inline constexpr std::chrono::seconds kDefaultStopTimeout{300};

// The --stop-timeout the container is created with: stop_grace, or the grace
// StopGrace gives within kDefaultStopTimeout.
std::chrono::seconds ContainerStopTimeout(const ServerConfig& config);

// A systemd drop-in: a file and its content.
struct DropIn {
  std::string path;
  std::string content;
};

// The drop-in for resource-agents-deps.target that makes systemd stop
// Pacemaker (which is After= that target), and so this resource, before it
// stops the engine and the container at shutdown:
// ROOT/run/systemd/system/resource-agents-deps.target.d/99-pmm-server-NAME.conf
// with After= the engine's units (docker.service and containerd.service, or
// podman.socket and podman.service for the API) and the container's scopes
// (docker-ID.scope, or libpod-ID.scope and libpod-conmon-ID.scope), which
// systemd would otherwise stop at once, in parallel with Pacemaker.
DropIn ShutdownOrderDropIn(const std::string& systemd_root, const std::string& name,
                           EngineKind kind, const std::string& container_id);

// Whether the mount table `mountinfo` (/proc/self/mountinfo's text) shows
// `dir` as a filesystem PMM's data may live on: Ok, or kErrGeneric when
// nothing is mounted at `dir`, when it is a memory or overlay filesystem
// (tmpfs, ramfs, overlay: gone at reboot, never the shared disk), or when it
// is the root filesystem again (a bind mount of a directory of /, a btrfs
// subvolume of the filesystem at /: the mount table shows one device for
// every mount of one filesystem, whatever subvolume). Reasons name the
// filesystem type and source.
Status CheckDataMount(const std::string& dir, std::string_view mountinfo);

// A filesystem as its superblock names it.
struct FsIdentity {
  std::string type;  // ext4 (also ext2, ext3), xfs, btrfs
  std::string uuid;  // lower case, 8-4-4-4-12, as blkid prints it
};
// How much of a device IdentifySuperblock needs (btrfs's is at 64 KiB).
inline constexpr std::size_t kSuperblockSpan = 64 * 1024 + 4096;
// The filesystem whose superblock is in `head`, the first bytes of a device;
// nothing for another filesystem or too short a head.
std::optional<FsIdentity> IdentifySuperblock(std::string_view head);
// "0123ABCD-..." -> "0123abcd-...": what IdentifySuperblock prints.
std::string NormalizeUuid(std::string_view uuid);

// What installing a drop-in did.
enum class DropInResult { kNoSystemd, kUnchanged, kWritten };
// The label start gives the containers it creates: KEY=INSTANCE. A container
// without it (or with another resource's name in it) is not ours: start does
// not adopt or remove it, stop and monitor leave it alone.
inline constexpr const char* kResourceLabel = "io.percona.pmm-ha.resource";
// The image label PMM's images carry their version in (build/docker/server/
// Dockerfile.el9); containers inherit it in Config.Labels.
inline constexpr const char* kVersionLabel = "org.opencontainers.image.version";

// A promoted instance whose PMM no longer leads keeps a token score: it stays
// promoted (and the VIP where it is) until PMM names a new leader, instead of
// leaving no instance promoted during every election.
inline constexpr int kFormerLeaderScore = 1;

// How long after its promote a leading instance settles: its score goes down
// to kLeaderScore and pmm-leader is set. Not sooner: a node attribute written
// while the promote's transition runs aborts it, and the VIP's start would
// wait for the next one.
inline constexpr std::chrono::seconds kSettleAfterPromote{5};

// What PMM's leaderHealthCheck said.
enum class Leadership { kLeader, kFollower, kUnknown };

// How long PMM may lead here while a peer's PMM leads too before the agent
// calls PMM 3 HA not working (an image that ignores PMM_HA_*): far more than
// Raft needs to depose a leader cut off from its quorum (its lease, ~1 s).
inline constexpr std::chrono::seconds kSeveralLeadersGrace{10};

// Host-side checks that touch filesystems, which may hang: the real one runs
// them in a bounded child (RunBounded).
class ServerHost {
 public:
  virtual ~ServerHost() = default;
  // Ok when `dir` is a directory and a mount point that CheckDataMount
  // accepts; a tmpfs, ramfs or overlay also by statfs (bounded: the
  // filesystem may hang).
  virtual Status CheckMountPoint(const std::string& dir, const Deadline& deadline) = 0;
  // Ok when the filesystem mounted at `dir` (its device as the mount table
  // names it, superblock read in a bounded child) has the UUID `uuid`.
  virtual Status CheckFsUuid(const std::string& dir, const std::string& uuid,
                             const Deadline& deadline) = 0;
  // Ok when the user `uid`:`gid` (no supplementary groups) may create files
  // in `dir`: asked in a bounded child that takes that identity, so that
  // modes, ACLs, NFS's squashing and a read-only mount all count. An error
  // saying why not, or that the filesystem did not answer in time.
  virtual Status CheckWritableBy(const std::string& dir, unsigned uid, unsigned gid,
                                 const Deadline& deadline) = 0;
  // Whether /srv inside the container whose PID 1 is `pid` is the same
  // filesystem object as `dir` on the host.
  virtual Result<bool> SrvIsDataDir(int pid, const std::string& dir, const Deadline& deadline) = 0;
  // Whether process `pid` is frozen (its cgroup's freezer: a paused
  // container); nothing when it cannot be told. Reads /proc and the cgroup
  // filesystem only.
  virtual std::optional<bool> Frozen(int pid) = 0;
  // The threads of process `pid` and of every process below it that are in
  // uninterruptible sleep (state D): waiting for I/O. Reads /proc only.
  virtual std::vector<int> UninterruptibleThreads(int pid) = 0;
  // Ok when the filesystem at `dir` answers a small write and fdatasync
  // before `deadline`, whatever the answer (an error is an answer: a
  // read-only filesystem answers); an error when it does not answer.
  virtual Status ProbeAnswers(const std::string& dir, const Deadline& deadline) = 0;
  // Writes `drop_in` when systemd runs under `systemd_root` (it has
  // run/systemd/system) and the file is absent or says something else, then
  // has systemd reload its units (systemctl daemon-reload, bounded).
  virtual Result<DropInResult> InstallDropIn(const std::string& systemd_root, const DropIn& drop_in,
                                             const Deadline& deadline) = 0;
  // The listeners in this network namespace in the way of `needs`, with the
  // process holding each when /proc tells before `deadline`.
  virtual std::vector<PortHolder> PortHolders(const std::vector<PortNeed>& needs,
                                              const Deadline& deadline) = 0;
  // The SHA-256 of the file at `path`, as 64 lowercase hex digits
  // (coreutils' sha256sum, bounded by `deadline`).
  virtual Result<std::string> Sha256Of(const std::string& path, const Deadline& deadline) = 0;
};

std::unique_ptr<ServerHost> MakeServerHost();

// One readiness check: ready, or why not.
struct Readiness {
  bool ready = false;
  std::string detail;  // "HTTP 500 {...}", "connection refused", ...
};

class PmmServer {
 public:
  // `promotion` may be null unless config.ha is set. Without `processes`
  // stop and monitor cannot decide when the engine cannot be asked, and
  // fail instead.
  PmmServer(const ServerConfig& config, ContainerEngine& engine, HttpClient& http, ServerHost& host,
            const Logger& log, PromotionScore* promotion = nullptr,
            ProcessControl* processes = nullptr, NodeAttributes* attributes = nullptr)
      : config_(config),
        engine_(engine),
        http_(http),
        host_(host),
        log_(log),
        promotion_(promotion),
        processes_(processes),
        attributes_(attributes) {}

  // Start: idempotent; returns when PMM answers ready. A container of the
  // same name that is not running is removed first (reuse=false) or
  // restarted (reuse=true). A container of that name without our label
  // (kResourceLabel) is neither adopted nor removed: start fails (1). Start
  // records the container's process (config.identity_path). Before creating
  // anything: 5 when PMM 3's user cannot write data_dir. In HA mode, once
  // ready: 6 when PMM leads here and on a peer (CheckSoleLeader, waiting).
  Status Start(const Deadline& deadline);
  // An error naming every port PMM binds on this node (PmmHostPorts) that
  // another listener holds already (start fails with it before creating
  // the container; validate-all warns); looked up within a short part of
  // `deadline`.
  Status CheckPorts(const Deadline& deadline);
  // Stop: graceful stop with the grace, then kill, then remove; Ok when
  // there is nothing to stop; fails only when the container still runs.
  // A container that is not ours is left alone (Ok, with a warning). When
  // the engine cannot be asked: Ok when no process was recorded or the
  // recorded one is gone; a live one gets SIGTERM, the grace, SIGKILL, and
  // stop is Ok once it is gone, a failure while it lives. A stop that
  // cannot finish fails early, before any signal: PMM's threads stuck in
  // uninterruptible sleep while data_dir's filesystem does not answer
  // (a hung LUN) ignore every signal, so waiting out the grace only delays
  // the fencing that must follow.
  Status Stop(const Deadline& deadline);
  // Monitor: 7 absent, exited or not ours; 0 running and ready; 190
  // running, not ready, fewer than health_failures times in a row or for
  // less than health_grace since the first of them; 1 after that. A probe
  // does not count failures. depth >= 10 also checks /srv is data_dir. A
  // promoted instance answers 8 / 191 / 9 instead of 0 / 190 / 1. In HA
  // mode it also asks PMM who leads and sets the promotion score from it;
  // an unpromoted instance whose PMM leads (from its second monitor so)
  // asks the peers too, and answers 6 when one of them has led as well for
  // kSeveralLeadersGrace (CheckSoleLeader). When the engine cannot be
  // asked: 7 when the recorded process is gone (or none was recorded);
  // when it is alive, PMM's readiness decides as above, except that ready
  // is 190 (191 promoted): running, degraded while the engine is down. 1
  // when the engine lists no container but the recorded process runs.
  Status Monitor(const Deadline& deadline, bool probe, int depth);
  // Promote and demote only record the role Pacemaker gave (PMM's leader is
  // PMM's choice): 0 while the container runs, 7 when it does not. Demote
  // with the engine down decides from the recorded process.
  Status Promote(const Deadline& deadline);
  Status Demote(const Deadline& deadline);

  Readiness CheckReady(const Deadline& deadline);
  Leadership CheckLeader(const Deadline& deadline);
  // The words after "run" that create the container. The env values go to
  // `env_file_path`, which the caller writes (never on the command line).
  std::vector<std::string> RunArguments(const std::string& env_file_path) const;
  // The lines of the private env file.
  std::string EnvFileContent() const;

 private:
  // One GET of a PMM endpoint with the configured TLS and timeout.
  Result<HttpResponse> Probe(const std::string& url, const Deadline& deadline);
  Status StartContainer(const Deadline& deadline);
  void InstallShutdownOrder(const Deadline& deadline);
  Status PrepareImage(const Deadline& deadline);
  // PMM 3 runs as uid 1000 and exits at once when it cannot write /srv:
  // start fails first (5, the reason naming the fix) when data_dir is not
  // writable by that user.
  Status CheckDataDirOwner(const Deadline& deadline);
  Status RemoveStale(const ContainerInfo& info, const Deadline& deadline);
  Status CreateContainer(const Deadline& deadline);
  Status WaitReady(const Deadline& deadline);
  // PMM 3 HA: the answers of the other peers' readiness ("10.0.0.11: HTTP
  // 503, ...") when every peer that answered is not ready and one did at
  // least; nothing when a peer is ready, none answered, or ha is off.
  std::optional<std::string> PeersNotReady(const Deadline& deadline);
  // The other peers of ha_peers, by address (empty without HA).
  std::vector<std::string> OtherPeers() const;
  // The other peers whose PMM says it leads (leaderHealthCheck 200).
  std::vector<std::string> OtherLeaders(const Deadline& deadline);
  // PMM leads on this node (`seen`): an error (6) when a peer's PMM has led
  // too for kSeveralLeadersGrace: PMM 3 HA is not working (an image without
  // it leads everywhere), and this instance must not be promoted (its score
  // is cleared). `wait` (start): asks again within `deadline` until the
  // grace is over or the other claim ends. Else (an unpromoted instance's
  // monitor) a mark in HA_RSCTMP carries what earlier monitors saw: the
  // first that sees PMM lead here asks nobody (a new leader is promoted at
  // once, and a dead peer would delay that promote), the next ones ask.
  Status CheckSoleLeader(Leadership seen, bool wait, const Deadline& deadline);
  std::string SeveralLeadersMark() const;
  // Whether the container carries our label (see kResourceLabel).
  bool IsOurs(const ContainerInfo& info) const;
  Status NotOurs(const ContainerInfo& info, std::string_view refusal) const;
  // The record of the started container's process in config.identity_path.
  void RecordIdentity(const ContainerInfo& info) const;
  std::optional<ContainerIdentity> ReadIdentity() const;
  void ClearIdentity() const;
  // The PID 1 of the container start recorded when it still runs, with its
  // conmon (podman), and is not paused: the monitor's answer without the
  // engine. Nothing when any of it is not so or cannot be told.
  std::optional<int> RunningAsRecorded() const;
  // Whether the recorded process is alive: nothing when it cannot be told
  // (no ProcessControl), else false when nothing was recorded.
  std::optional<bool> RecordedAlive() const;
  // Whether the engine's view of the container is stale: start recorded this
  // container's process and it is gone, while the engine still calls the
  // container running or stopping. Podman does so for ever once the
  // container's conmon died (nobody records the exit). False when it cannot
  // be told (nothing recorded, or another container).
  bool ExitedUnseen(const ContainerInfo& info) const;
  std::string ExitedUnseenText(const ContainerInfo& info) const;
  // Node attributes for crm_mon -A (see node_attribute.h): set only when
  // the value changes, a failure logged, never the operation's.
  void SetAttribute(std::string_view name, std::string_view value, const Deadline& deadline);
  void DeleteAttribute(std::string_view name, const Deadline& deadline);
  // pmm-version from the container's labels, when it has the label.
  void PublishVersion(const ContainerInfo& info, const Deadline& deadline);
  // pmm-ha-key: the first 16 hex digits of the HA key's SHA-256 (HA mode).
  void PublishHaKey(const Deadline& deadline);
  // Podman: the container's conmon, as the engine says, else as start
  // recorded it for this container (the Docker-compatible API does not say).
  int ConmonOf(const ContainerInfo& info) const;
  // Podman: the container's conmon is gone (PMM runs on, unwatched).
  bool ConmonGone(const ContainerInfo& info) const;
  // `ready` (a monitor's result) as running but degraded, for `reason`,
  // when it says running (0, or 8 promoted); any other result as it is.
  static Status DegradedIfReady(Status ready, std::string reason);
  // HA_RSCTMP's mark of a common cause seen by the last failing monitor
  // (see MonitorReadiness); empty without a failure counter.
  std::string CommonCauseMark() const;
  // Monitor's checks of a running container whose PID 1 is `pid`: /srv at
  // depth >= 10, then PMM's readiness with its failure count.
  Status MonitorReadiness(int pid, const Deadline& deadline, bool probe, int depth);
  // Stop when the engine cannot be asked (`why`).
  Status StopWithoutEngine(const Status& why, const Deadline& deadline);
  // An error when the container whose PID 1 is `pid` cannot be stopped:
  // threads in D state before and after data_dir's filesystem failed to
  // answer a probe. Ok otherwise (the usual case costs one /proc scan).
  Status CheckStoppable(int pid, const Deadline& deadline);
  Status ExitedReason(std::string_view when, const ContainerInfo& info, const Deadline& deadline);
  // Monitors in a row that found PMM not ready, and when the first did.
  struct NotReadyRun {
    int count = 0;
    std::chrono::steady_clock::time_point since;
  };
  NotReadyRun ReadFailures() const;
  // Writes `count` not-ready monitors since `since` (0: forgets the run).
  void WriteFailures(int count, std::chrono::steady_clock::time_point since = {}) const;
  bool IsPromoted() const;
  void SetPromoted(bool promoted) const;
  // Promoted for kSettleAfterPromote at least (a promotion recorded by an
  // older version, with no time, counts as settled).
  bool SettledPromoted() const;
  // Observes leadership, sets the promotion score from it and returns what
  // it saw (kUnknown, without asking, when there is no score to set).
  Leadership UpdatePromotionScore(const Deadline& deadline);

  const ServerConfig& config_;
  ContainerEngine& engine_;
  HttpClient& http_;
  ServerHost& host_;
  const Logger& log_;
  PromotionScore* promotion_;
  ProcessControl* processes_;
  NodeAttributes* attributes_;
  mutable bool identity_recorded_ = false;
  // The container id start last saw (for the shutdown ordering drop-in).
  std::string started_id_;
  // PMM's version as the container's labels say (kVersionLabel); empty
  // when unknown.
  std::string version_;
};

// Splits a stop budget: the grace for the graceful stop, leaving a reserve
// for kill and removal (a fifth of the budget, 2 to 15 s); never more than
// `requested` when the user set a grace.
std::chrono::seconds StopGrace(std::chrono::milliseconds budget,
                               std::optional<std::chrono::seconds> requested);

}  // namespace pmmha
