// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/server/pmm_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join from fmt 11 on

#include "pmmha/core/bounded.h"
#include "pmmha/core/process.h"
#include "pmmha/core/state_file.h"
#include "pmmha/core/text.h"
#include "pmmha/server/server_params.h"

namespace pmmha {

using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

std::string ReadSmallFile(const std::string& path, bool* ok) {
  std::ifstream in(path);
  *ok = static_cast<bool>(in);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Between readiness checks during start: short at first, never above 250 ms,
// so start returns soon after PMM turns ready.
constexpr milliseconds kFirstBackoff{50};
constexpr milliseconds kMaxBackoff{250};
constexpr int kLogLines = 5;
// The longest a stop waits for the engine's first answer.
constexpr milliseconds kInspectAtStop{30000};
// What a stop gives attrd_updater at most, for its three deletions.
constexpr milliseconds kAttributeTime{5000};
// How long data_dir's filesystem has to answer a write and fdatasync while
// PMM's threads wait for I/O, before stop calls the storage hung: longer
// than a SAN path failover, far shorter than the stop's grace.
constexpr milliseconds kStorageAnswer{20000};

bool IsRunningLike(ContainerState s) {
  return s == ContainerState::kRunning || s == ContainerState::kStopping ||
         s == ContainerState::kPaused || s == ContainerState::kRestarting;
}

bool HasStopped(ContainerState s) {
  return s == ContainerState::kAbsent || s == ContainerState::kCreated ||
         s == ContainerState::kExited || s == ContainerState::kDead;
}

}  // namespace

seconds StopGrace(milliseconds budget, std::optional<seconds> requested) {
  milliseconds reserve = std::clamp(budget / 5, milliseconds(2000), milliseconds(15000));
  milliseconds available = std::max(budget - reserve, milliseconds(0));
  seconds grace = std::chrono::duration_cast<seconds>(available);
  if (requested) grace = std::min(grace, *requested);
  return grace;
}

seconds ContainerStopTimeout(const ServerConfig& config) {
  return config.stop_grace ? *config.stop_grace : StopGrace(kDefaultStopTimeout, std::nullopt);
}

DropIn ShutdownOrderDropIn(const std::string& systemd_root, const std::string& name,
                           EngineKind kind, const std::string& container_id) {
  std::string root = systemd_root;
  while (!root.empty() && root.back() == '/') root.pop_back();
  DropIn d;
  d.path = fmt::format("{}/run/systemd/system/resource-agents-deps.target.d/99-pmm-server-{}.conf",
                       root, name);
  std::string after =
      kind == EngineKind::kDocker
          ? fmt::format("docker.service containerd.service docker-{}.scope", container_id)
          : fmt::format(
                "podman.socket podman.service libpod-{0}.scope "
                "libpod-conmon-{0}.scope",
                container_id);
  d.content = fmt::format(
      "# Written by ocf:percona:pmm-server (drop_in_dependency=true) for container {}:\n"
      "# at shutdown Pacemaker stops PMM before the engine or systemd do.\n"
      "[Unit]\n"
      "After={}\n",
      name, after);
  return d;
}

Result<HttpResponse> PmmServer::Probe(const std::string& url, const Deadline& deadline) {
  HttpRequest request;
  request.url = url;
  request.tls_verify = config_.tls_verify;
  request.timeout = config_.health_timeout;
  request.body_cap = 512;
  return http_.Send(request, deadline);
}

Readiness PmmServer::CheckReady(const Deadline& deadline) {
  auto r = Probe(config_.health_url, deadline);
  if (!r) return {false, r.status().reason()};
  if (r->status == 200) return {true, "HTTP 200"};
  return {false, fmt::format("HTTP {} {}", r->status, OneLine(r->body, 100))};
}

std::vector<std::string> PmmServer::OtherPeers() const {
  std::vector<std::string> others;
  if (!config_.ha) return others;
  const std::string& peers = config_.ha->peers;
  for (std::size_t start = 0; start <= peers.size();) {
    std::size_t end = std::min(peers.find(',', start), peers.size());
    std::string peer = peers.substr(start, end - start);
    start = end + 1;
    if (!peer.empty() && peer != config_.ha->advertise_address) others.push_back(peer);
  }
  return others;
}

std::vector<std::string> PmmServer::OtherLeaders(const Deadline& deadline) {
  const Deadline within = deadline.Within(deadline.Remaining() / 2);
  std::vector<std::string> leaders;
  for (const auto& peer : OtherPeers()) {
    auto r = Probe(PeerHealthUrl(config_.leader_url, peer), within);
    if (r && r->status == 200) leaders.push_back(peer);
  }
  return leaders;
}

std::string PmmServer::SeveralLeadersMark() const {
  return config_.failure_counter_path.empty() ? "" : config_.failure_counter_path + ".leaders";
}

Status PmmServer::CheckSoleLeader(Leadership seen, bool wait, const Deadline& deadline) {
  const std::string mark = SeveralLeadersMark();
  if (!config_.ha || mark.empty()) return Status::Ok();
  if (seen != Leadership::kLeader) {
    unlink(mark.c_str());
    return Status::Ok();
  }
  auto now_ms = [] {
    return std::chrono::duration_cast<milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  // The mark: "led" since an earlier monitor saw PMM lead here, "several
  // MS" since a peer was seen leading too.
  bool read = false;
  const std::string text = ReadSmallFile(mark, &read);
  if (!wait && !read) {
    // The first monitor to see PMM lead here asks nobody: after an election
    // the new leader is promoted within moments, and a dead peer (the old
    // leader's node) would hold this monitor, and the promote queued behind
    // it, for the probe's timeout.
    ReplaceFile(mark, "led\n");
    return Status::Ok();
  }
  std::vector<std::string> others = OtherLeaders(deadline);
  long long since = now_ms();
  if (long long earlier = 0;
      std::sscanf(text.c_str(), "several %lld", &earlier) == 1 && earlier > 0 && earlier <= since) {
    since = earlier;
  }
  const long long grace_ms = milliseconds(kSeveralLeadersGrace).count();
  // Start waits here for Raft to settle, within half its budget.
  const Deadline patience = deadline.Within(deadline.Remaining() / 2);
  while (wait && !others.empty() && now_ms() - since < grace_ms && !patience.HasExpired()) {
    std::this_thread::sleep_for(std::min(milliseconds(1000), patience.Remaining()));
    if (CheckLeader(deadline) != Leadership::kLeader) others.clear();
    if (!others.empty()) others = OtherLeaders(deadline);
  }
  if (others.empty()) {
    ReplaceFile(mark, "led\n");
    return Status::Ok();
  }
  const long long seconds_seen = (now_ms() - since) / 1000;
  if (now_ms() - since < grace_ms) {
    ReplaceFile(mark, fmt::format("several {}\n", since));
    log_.Warn("PMM leads here and on {} too (for {} s): waiting for Raft to settle",
              fmt::join(others, ", "), seconds_seen);
    return Status::Ok();
  }
  if (promotion_ != nullptr) {
    if (Status s = promotion_->Clear(deadline); !s.ok()) log_.Warn("{}", s.reason());
  }
  return Status::NotConfigured(
      "PMM 3 HA is not working: PMM leads on this node and on {} at once for {} s; the image "
      "ignores PMM_HA_* (PMM 2, or PMM 3 before HA) or HA did not start; not promoting",
      fmt::join(others, ", "), seconds_seen);
}

std::optional<std::string> PmmServer::PeersNotReady(const Deadline& deadline) {
  if (!config_.ha) return std::nullopt;
  const Deadline within = deadline.Within(deadline.Remaining() / 2);
  std::vector<std::string> answers;
  for (const auto& peer : OtherPeers()) {
    auto r = Probe(PeerHealthUrl(config_.health_url, peer), within);
    if (!r) continue;                           // no answer: not evidence either way
    if (r->status == 200) return std::nullopt;  // a peer is ready: this node's own trouble
    answers.push_back(fmt::format("{}: HTTP {}", peer, r->status));
  }
  if (answers.empty()) return std::nullopt;
  return fmt::format("{}", fmt::join(answers, ", "));
}

Leadership PmmServer::CheckLeader(const Deadline& deadline) {
  auto r = Probe(config_.leader_url, deadline);
  if (!r) {
    log_.Debug("leader check: {}", r.status().reason());
    return Leadership::kUnknown;
  }
  if (r->status == 200) return Leadership::kLeader;
  if (r->status == 400) return Leadership::kFollower;
  log_.Debug("leader check: HTTP {} {}", r->status, OneLine(r->body, 100));
  return Leadership::kUnknown;
}

std::string PmmServer::EnvFileContent() const {
  std::string content;
  // What the agent adds never overrides what the user set in env.
  auto add = [&](std::string_view name, const std::string& value) {
    if (!EnvValue(config_.env, name)) content += fmt::format("{}={}\n", name, value);
  };
  // Under a cluster manager PMM must not update itself behind its back
  // (PMM 3's name; PMM 2 reads DISABLE_UPDATES).
  if (config_.pmm_major == 2) {
    add("DISABLE_UPDATES", "true");
  } else {
    add("PMM_ENABLE_UPDATES", "0");
  }
  if (config_.ha) {
    const HaSettings& ha = *config_.ha;
    add("PMM_HA_ENABLE", "1");
    add("PMM_HA_NODE_ID", ha.node_id);
    add("PMM_HA_ADVERTISE_ADDRESS", ha.advertise_address);
    add("PMM_HA_PEERS", ha.peers);
    add("PMM_HA_RAFT_PORT", std::to_string(ha.raft_port));
    add("PMM_HA_GOSSIP_PORT", std::to_string(ha.gossip_port));
    add("PMM_HA_GRAFANA_GOSSIP_PORT", std::to_string(ha.grafana_gossip_port));
    add("PMM_HA_BOOTSTRAP", ha.bootstrap ? "1" : "0");
    if (!ha.key_file.empty()) add("PMM_ENCRYPTION_KEY_PATH", kHaKeyInContainer);
  }
  for (const auto& e : config_.env) content += e + "\n";
  return content;
}

std::vector<std::string> PmmServer::RunArguments(const std::string& env_file_path) const {
  std::vector<std::string> args{
      "--detach",
      "--name",
      config_.name,
      "--label",
      fmt::format("io.percona.pmm-ha.resource={}", config_.instance),
      "--pull",
      "never",  // pulling is PrepareImage's job, bounded by the deadline
      // Only the cluster restarts PMM: an engine that did (after a crash, a
      // fence, a reboot) would skip the require_mount check and could run
      // PMM here while the cluster runs it elsewhere.
      "--restart",
      "no",
      // What a stop the agent does not issue (an admin, the engine's own
      // shutdown) gives PMM, instead of the engines' 10 s.
      "--stop-timeout",
      std::to_string(ContainerStopTimeout(config_).count()),
      "--volume",
      config_.volume_options.empty()
          ? fmt::format("{}:/srv", config_.data_dir)
          : fmt::format("{}:/srv:{}", config_.data_dir, config_.volume_options),
      "--env-file",
      env_file_path,
  };
  if (!config_.env_file.empty()) {
    args.insert(args.end(), {"--env-file", config_.env_file});
  }
  if (config_.ha && !config_.ha->key_file.empty()) {
    args.insert(args.end(),
                {"--volume", fmt::format("{}:{}:ro", config_.ha->key_file, kHaKeyInContainer)});
  }
  if (config_.host_network) {
    args.insert(args.end(), {"--network", "host"});
  } else {
    for (const auto& p : config_.publish) args.insert(args.end(), {"--publish", p});
  }
  args.insert(args.end(), config_.run_opts.begin(), config_.run_opts.end());
  args.push_back(config_.image);
  return args;
}

std::string PmmServer::CommonCauseMark() const {
  return config_.failure_counter_path.empty() ? "" : config_.failure_counter_path + ".common";
}

// The counter file: "COUNT SINCE_MS", SINCE_MS on the steady clock.
PmmServer::NotReadyRun PmmServer::ReadFailures() const {
  NotReadyRun run;
  if (config_.failure_counter_path.empty()) return run;
  if (FILE* f = std::fopen(config_.failure_counter_path.c_str(), "re")) {
    int count = 0;
    long long since_ms = 0;
    const int got = std::fscanf(f, "%d %lld", &count, &since_ms);
    std::fclose(f);
    if (got >= 1 && count > 0) {
      run.count = count;
      // A file without the time (written by an older agent) starts the grace now.
      run.since = got == 2
                      ? std::chrono::steady_clock::time_point(std::chrono::milliseconds(since_ms))
                      : config_.now();
    }
  }
  return run;
}

void PmmServer::WriteFailures(int count, std::chrono::steady_clock::time_point since) const {
  if (config_.failure_counter_path.empty()) return;
  if (count == 0) {
    unlink(config_.failure_counter_path.c_str());
    return;
  }
  std::string tmp = config_.failure_counter_path + ".new";
  if (FILE* f = std::fopen(tmp.c_str(), "we")) {
    std::fprintf(f, "%d %lld\n", count,
                 static_cast<long long>(
                     std::chrono::duration_cast<std::chrono::milliseconds>(since.time_since_epoch())
                         .count()));
    std::fclose(f);
    std::rename(tmp.c_str(), config_.failure_counter_path.c_str());
  }
}

bool PmmServer::IsOurs(const ContainerInfo& info) const {
  auto label = info.labels.find(kResourceLabel);
  return label != info.labels.end() &&
         ResourceNameOf(label->second) == ResourceNameOf(config_.instance);
}

Status PmmServer::NotOurs(const ContainerInfo& info, std::string_view refusal) const {
  auto label = info.labels.find(kResourceLabel);
  return Status::Error("container {} was not created by resource {} (label {} {}): {}",
                       Quote(config_.name), Quote(ResourceNameOf(config_.instance)), kResourceLabel,
                       label == info.labels.end() ? std::string("missing")
                                                  : fmt::format("= {}", Quote(label->second)),
                       refusal);
}

void PmmServer::RecordIdentity(const ContainerInfo& info) const {
  if (config_.identity_path.empty() || processes_ == nullptr || info.pid <= 0) return;
  auto start_time = processes_->StartTime(info.pid);
  if (!start_time) return;
  ContainerIdentity record{info.id, info.pid, *start_time};
  // The Docker-compatible API does not name podman's conmon: /proc does.
  int conmon = info.conmon_pid;
  if (conmon <= 0 && engine_.kind() == EngineKind::kPodman) {
    conmon = processes_->Conmon(info.pid).value_or(0);
  }
  if (conmon > 0) {
    if (auto conmon_start = processes_->StartTime(conmon)) {
      record.conmon_pid = conmon;
      record.conmon_start_time = *conmon_start;
    }
  }
  Status saved = ReplaceFile(config_.identity_path, FormatIdentity(record));
  if (!saved.ok()) {
    log_.Warn("cannot record the container's process: {}", saved.reason());
    return;
  }
  identity_recorded_ = true;
}

std::optional<ContainerIdentity> PmmServer::ReadIdentity() const {
  if (config_.identity_path.empty()) return std::nullopt;
  std::ifstream f(config_.identity_path);
  std::string line;
  if (!std::getline(f, line)) return std::nullopt;
  return ParseIdentity(line);
}

void PmmServer::ClearIdentity() const {
  if (!config_.identity_path.empty()) unlink(config_.identity_path.c_str());
}

std::optional<bool> PmmServer::RecordedAlive() const {
  if (processes_ == nullptr) return std::nullopt;
  auto identity = ReadIdentity();
  return identity && processes_->IsAlive(*identity);
}

bool PmmServer::ExitedUnseen(const ContainerInfo& info) const {
  if (processes_ == nullptr || info.pid <= 0) return false;
  auto identity = ReadIdentity();
  // The recorded identity proves the pid is one of our pid namespace and
  // tells the process from a later one that reuses its pid.
  if (!identity || identity->id != info.id || identity->pid != info.pid) return false;
  return !processes_->IsAlive(*identity);
}

std::string PmmServer::ExitedUnseenText(const ContainerInfo& info) const {
  return fmt::format("container {} is {} for the {}, but its process {} has exited{}",
                     Quote(config_.name), info.state_text, engine_.Describe(), info.pid,
                     ConmonGone(info) ? fmt::format(" (its conmon {} is gone: nobody recorded the "
                                                    "exit)",
                                                    ConmonOf(info))
                                      : "");
}

int PmmServer::ConmonOf(const ContainerInfo& info) const {
  if (info.conmon_pid > 0) return info.conmon_pid;
  auto record = ReadIdentity();
  return record && record->id == info.id ? record->conmon_pid : 0;
}

bool PmmServer::ConmonGone(const ContainerInfo& info) const {
  if (processes_ == nullptr || engine_.kind() != EngineKind::kPodman) return false;
  const int conmon = ConmonOf(info);
  return conmon > 0 && !processes_->StartTime(conmon);
}

bool PmmServer::IsPromoted() const {
  return !config_.promoted_path.empty() && access(config_.promoted_path.c_str(), F_OK) == 0;
}

void PmmServer::SetPromoted(bool promoted) const {
  if (config_.promoted_path.empty()) return;
  if (!promoted) {
    unlink(config_.promoted_path.c_str());
    return;
  }
  // When (the monotonic clock, ms): a promote of an instance already
  // promoted keeps the first time.
  if (access(config_.promoted_path.c_str(), F_OK) == 0) return;
  const auto ms = std::chrono::duration_cast<milliseconds>(config_.now().time_since_epoch());
  if (Status s = ReplaceFile(config_.promoted_path, std::to_string(ms.count())); !s.ok()) {
    log_.Warn("{}", s.reason());
  }
}

bool PmmServer::SettledPromoted() const {
  if (config_.promoted_path.empty()) return false;
  std::ifstream in(config_.promoted_path);
  if (!in) return false;  // not promoted
  std::string text;
  in >> text;
  auto ms = ParseInteger(text);
  if (!ms) return true;
  const auto promoted_at = std::chrono::steady_clock::time_point(milliseconds(*ms));
  return config_.now() - promoted_at >= kSettleAfterPromote;
}

void PmmServer::SetAttribute(std::string_view name, std::string_view value,
                             const Deadline& deadline) {
  if (attributes_ != nullptr) WarnIfFailed(log_, attributes_->Set(name, value, deadline));
}

void PmmServer::DeleteAttribute(std::string_view name, const Deadline& deadline) {
  if (attributes_ != nullptr) WarnIfFailed(log_, attributes_->Delete(name, deadline));
}

void PmmServer::PublishVersion(const ContainerInfo& info, const Deadline& deadline) {
  auto label = info.labels.find(kVersionLabel);
  if (label == info.labels.end() || label->second.empty()) return;
  version_ = OneLine(label->second, 64);
  SetAttribute(kAttrVersion, version_, deadline);
}

void PmmServer::PublishHaKey(const Deadline& deadline) {
  if (!config_.ha || config_.ha->key_file.empty()) return;
  auto digest = host_.Sha256Of(config_.ha->key_file, deadline);
  if (!digest) {
    log_.Warn("no {} attribute: {}", kAttrHaKey, digest.status().reason());
    return;
  }
  // A prefix tells nodes apart without giving the key's digest away whole.
  SetAttribute(kAttrHaKey, digest->substr(0, 16), deadline);
}

Leadership PmmServer::UpdatePromotionScore(const Deadline& deadline) {
  if (promotion_ == nullptr) return Leadership::kUnknown;
  const Leadership seen = CheckLeader(deadline);
  Status s;
  switch (seen) {
    case Leadership::kLeader:
      s = SettledPromoted() ? promotion_->Set(kLeaderScore, deadline)
                            : promotion_->SetLeader(deadline);
      break;
    case Leadership::kFollower:
      s = IsPromoted() ? promotion_->Set(kFormerLeaderScore, deadline)
                       : promotion_->Clear(deadline);
      break;
    case Leadership::kUnknown:
      // An election under way or a slow answer: change nothing, so the
      // promoted role does not flap on a missed check.
      return seen;
  }
  if (!s.ok()) log_.Warn("{}", s.reason());
  return seen;
}

Status PmmServer::ExitedReason(std::string_view when, const ContainerInfo& info,
                               const Deadline& deadline) {
  std::string logs;
  if (auto l = engine_.Logs(config_.name, kLogLines, deadline.Within(milliseconds(3000)))) {
    logs = OneLine(*l, 300);
  }
  return Status::Error("container {} {} ({} {}){}{}", Quote(config_.name), when, info.state_text,
                       info.exit_code, logs.empty() ? "" : ": ", logs);
}

Status PmmServer::PrepareImage(const Deadline& deadline) {
  if (config_.pull == PullPolicy::kAlways) {
    log_.Info("pulling {}", config_.image);
    return engine_.Pull(config_.image, deadline);
  }
  auto present = engine_.HasImage(config_.image, deadline);
  if (!present) return present.status();
  if (*present) return Status::Ok();
  if (config_.pull == PullPolicy::kNever) {
    return Status::NotInstalled("image {} is not present on this node and pull=never",
                                Quote(config_.image));
  }
  log_.Info("image {} is missing, pulling it", config_.image);
  return engine_.Pull(config_.image, deadline);
}

Status PmmServer::RemoveStale(const ContainerInfo& info, const Deadline& deadline) {
  log_.Info("removing the {} container {} left from before", info.state_text, config_.name);
  if (info.state == ContainerState::kStopping) {
    // Stuck in "stopping": a stop is already under way; end it.
    if (Status s = engine_.Kill(config_.name, deadline); !s.ok()) {
      log_.Warn("kill of the stopping container failed: {}", s.reason());
    }
  }
  Status removed = engine_.Remove(config_.name, deadline);
  if (!removed.ok()) {
    log_.Warn("{}; removing it from storage", removed.reason());
    return engine_.RemoveFromStorage(config_.name, deadline);
  }
  return Status::Ok();
}

Status PmmServer::CreateContainer(const Deadline& deadline) {
  // The env values can be secrets: they go to a private file, not to argv
  // where every user on the node could read them in /proc.
  std::string env_path =
      fmt::format("{}/pmm-server-{}.env.{}", config_.env_file_dir, config_.name, getpid());
  int fd = open(env_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Status::Error("cannot write {}: {}", env_path, Errno(errno));
  }
  std::string content = EnvFileContent();
  bool written = write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  close(fd);
  if (!written) {
    unlink(env_path.c_str());
    return Status::Error("cannot write {}", env_path);
  }
  auto args = RunArguments(env_path);
  log_.Info("creating container {} from {}", config_.name, config_.image);
  Status run = engine_.Run(args, deadline);
  if (!run.ok() && run.reason().find("already in use") != std::string::npos) {
    // Podman's storage still holds the name of a container that podman no
    // longer lists (typical after a node crash).
    log_.Warn("{}; clearing the name from storage and retrying", run.reason());
    if (Status s = engine_.RemoveFromStorage(config_.name, deadline); !s.ok()) {
      unlink(env_path.c_str());
      return s;
    }
    run = engine_.Run(args, deadline);
  }
  unlink(env_path.c_str());
  return run;
}

Status PmmServer::CheckPorts(const Deadline& deadline) {
  std::vector<PortNeed> needs = PmmHostPorts(config_);
  if (needs.empty()) return Status::Ok();
  auto holders = host_.PortHolders(
      needs, deadline.Within(std::min(deadline.Remaining() / 10, milliseconds(2000))));
  if (holders.empty()) return Status::Ok();
  std::vector<std::string> held;
  for (const auto& h : holders) {
    std::string what;
    for (const auto& n : needs) {
      if (n.port == h.port) what = n.what;
    }
    held.push_back(
        fmt::format("port {} ({}) is in use by {} on {}", h.port, what, h.owner, h.address));
  }
  return Status::Error("{}: PMM would never become ready on this node{}", fmt::join(held, "; "),
                       config_.host_network ? " (network=host)" : "");
}

Status PmmServer::WaitReady(const Deadline& deadline) {
  milliseconds backoff = kFirstBackoff;
  Readiness last;
  for (;;) {
    // PMM first: an image that answers at once (or a container that was
    // already running) costs one engine call, not one before every probe.
    last = CheckReady(deadline);
    auto info = identity_recorded_ && last.ready ? Result<ContainerInfo>(Status::Error("known"))
                                                 : engine_.Inspect(config_.name, deadline);
    if (info && HasStopped(info->state)) {
      return ExitedReason("exited while PMM was starting", *info, deadline);
    }
    // As soon as it runs, so a stop after a failed start finds it too.
    if (info && info->state == ContainerState::kRunning && !identity_recorded_) {
      RecordIdentity(*info);
    }
    if (info) started_id_ = info->id;
    if (info && info->state == ContainerState::kRunning && version_.empty()) {
      PublishVersion(*info, deadline);
    }
    if (last.ready && (!info || info->state == ContainerState::kRunning)) {
      WriteFailures(0);
      return Status::Ok();
    }
    if (deadline.Remaining() <= backoff) break;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
  return Status::Error(
      "PMM Server did not become ready before the start timeout; "
      "last answer from {}: {}",
      config_.health_url, last.detail);
}

Status PmmServer::Start(const Deadline& deadline) {
  // A started instance is unpromoted until Pacemaker promotes it.
  SetPromoted(false);
  // An earlier life's sighting of several leaders is no evidence now.
  if (std::string mark = SeveralLeadersMark(); !mark.empty()) unlink(mark.c_str());
  PublishHaKey(deadline);
  Status started = StartContainer(deadline);
  if (started.ok()) SetAttribute(kAttrState, "ready", deadline);
  if (started.ok() && config_.drop_in_dependency) InstallShutdownOrder(deadline);
  if (started.ok() && config_.ha) {
    started = CheckSoleLeader(UpdatePromotionScore(deadline), true, deadline);
  }
  return started;
}

void PmmServer::InstallShutdownOrder(const Deadline& deadline) {
  // PMM runs and answers: a missing ordering is worth a warning, not a
  // failed start (the cluster would stop a working PMM for it). The id is
  // the one start's last look at the container saw, when it had one.
  std::string id = started_id_;
  if (id.empty()) {
    auto info = engine_.Inspect(config_.name, deadline);
    if (!info || info->id.empty()) {
      log_.Warn("no shutdown ordering drop-in: the container's id is unknown{}{}", info ? "" : ": ",
                info ? "" : info.status().reason());
      return;
    }
    id = info->id;
  }
  DropIn d = ShutdownOrderDropIn(config_.systemd_root, config_.name, engine_.kind(), id);
  auto r = host_.InstallDropIn(config_.systemd_root, d, deadline);
  if (!r) {
    log_.Warn("no shutdown ordering drop-in: {}", r.status().reason());
  } else if (*r == DropInResult::kNoSystemd) {
    log_.Debug("systemd does not run here: no shutdown ordering drop-in");
  } else if (*r == DropInResult::kWritten) {
    log_.Info("wrote {}: Pacemaker stops before the container at shutdown", d.path);
  }
}

Status PmmServer::CheckDataDirOwner(const Deadline& deadline) {
  // PMM 2 runs as root. A user given in run_opts is the user's choice.
  if (config_.pmm_major < 3 || RunOptsSetUser(config_.run_opts)) return Status::Ok();
  Status s = host_.CheckWritableBy(config_.data_dir, kPmmUid, kPmmUid, deadline);
  if (s.ok() || s.code() == ExitCode::kErrGeneric) {
    SetAttribute(kAttrData, s.ok() ? "writable" : "not-writable", deadline);
  }
  if (s.ok() || s.code() != ExitCode::kErrGeneric) return s;
  // This node's directory: Pacemaker may try another node.
  return Status(ExitCode::kErrInstalled, s.reason());
}

Status PmmServer::StartContainer(const Deadline& deadline) {
  auto info = engine_.Inspect(config_.name, deadline);
  if (!info) return info.status();
  if (info->state != ContainerState::kAbsent && !IsOurs(*info)) {
    return NotOurs(*info, "refusing to adopt or remove it; remove or rename it, or set name");
  }
  if (info->state == ContainerState::kRunning) {
    log_.Info("container {} is already running", config_.name);
    return WaitReady(deadline);
  }
  // Never let PMM initialise an empty /srv on a local disk because the
  // shared one did not mount.
  if (config_.require_mount) {
    if (Status s = host_.CheckMountPoint(config_.data_dir, deadline); !s.ok()) return s;
    if (!config_.require_fs_uuid.empty()) {
      Status same = host_.CheckFsUuid(config_.data_dir, config_.require_fs_uuid, deadline);
      if (!same.ok()) return same;
    }
  }
  if (Status s = CheckDataDirOwner(deadline); !s.ok()) return s;
  if (Status s = PrepareImage(deadline); !s.ok()) return s;
  if (info->state != ContainerState::kAbsent) {
    bool restartable =
        info->state == ContainerState::kExited || info->state == ContainerState::kCreated;
    if (config_.reuse && restartable) {
      log_.Info("reusing the {} container {}", info->state_text, config_.name);
      if (Status s = CheckPorts(deadline); !s.ok()) return s;
      if (Status s = engine_.Start(config_.name, deadline); !s.ok()) return s;
      return WaitReady(deadline);
    }
    if (Status s = RemoveStale(*info, deadline); !s.ok()) return s;
  }
  // Fails at once, naming the holder, instead of after the start timeout.
  if (Status s = CheckPorts(deadline); !s.ok()) return s;
  if (Status s = CreateContainer(deadline); !s.ok()) return s;
  return WaitReady(deadline);
}

Status PmmServer::Stop(const Deadline& deadline) {
  WriteFailures(0);
  SetPromoted(false);
  // What describes a running PMM goes first; pmm-data and pmm-ha-key describe
  // the node and stay for pmm-ha-check to compare.
  const Deadline attributes = deadline.Within(std::min(deadline.Remaining() / 10, kAttributeTime));
  for (std::string_view name : {kAttrState, kAttrVersion, kAttrLeader}) {
    DeleteAttribute(name, attributes);
  }
  if (promotion_ != nullptr) {
    // A stopped instance must never be chosen for promotion.
    if (Status s = promotion_->Clear(deadline.Within(milliseconds(5000))); !s.ok()) {
      log_.Warn("{}", s.reason());
    }
  }
  // An engine that hangs (podman's storage lock) must leave the time to
  // decide without it.
  auto info = engine_.Inspect(config_.name,
                              deadline.Within(std::min(deadline.Remaining() / 4, kInspectAtStop)));
  if (!info) return StopWithoutEngine(info.status(), deadline);
  if (info->state == ContainerState::kAbsent) {
    if (RecordedAlive().value_or(false)) {
      // The engine lost the container (its state wiped, a storage ghost) but
      // the process start recorded still runs: it is ours all the same.
      return StopWithoutEngine(
          Status::Error("the {} lists no container {}", engine_.Describe(), Quote(config_.name)),
          deadline);
    }
    ClearIdentity();
    return Status::Ok();
  }
  if (!IsOurs(*info)) {
    // Not ours to stop: someone else's container under the name (see the
    // meta-data). Nothing the resource started can be running in it.
    log_.Warn("{}", NotOurs(*info, "leaving it alone: stop has nothing to do").reason());
    return Status::Ok();
  }
  // The engine may never see the exit (podman once the container's conmon
  // died: "stopping" for ever, and kill refuses it): the recorded process,
  // gone, says the container has stopped.
  bool unseen = false;
  if (IsRunningLike(info->state)) {
    const int pid = info->pid;
    unseen = ExitedUnseen(*info);
    if (!unseen) {
      if (Status stoppable = CheckStoppable(pid, deadline); !stoppable.ok()) return stoppable;
      seconds grace = StopGrace(deadline.Remaining(), config_.stop_grace);
      log_.Info("stopping container {} with {} s to shut down", config_.name, grace.count());
      Status stopped = engine_.Stop(config_.name, grace, deadline);
      if (!stopped.ok()) log_.Warn("{}", stopped.reason());
      info = engine_.Inspect(config_.name, deadline);
      if (info && IsRunningLike(info->state) && !ExitedUnseen(*info)) {
        log_.Warn("container {} still {} after the grace: killing it", config_.name,
                  info->state_text);
        if (Status s = engine_.Kill(config_.name, deadline); !s.ok()) log_.Warn("{}", s.reason());
        info = engine_.Inspect(config_.name, deadline);
      }
      if (!info) return StopWithoutEngine(info.status(), deadline);
      unseen = IsRunningLike(info->state) && ExitedUnseen(*info);
      if (IsRunningLike(info->state) && !unseen) {
        return Status::Error("container {} is still {} after kill", Quote(config_.name),
                             info->state_text);
      }
    }
    if (unseen) log_.Warn("{}: removing it", ExitedUnseenText(*info));
    // The engine calls a container stopped once its PID 1 is a zombie, while
    // a thread of it may still wait for I/O, holding data_dir.
    if (auto left = host_.UninterruptibleThreads(pid); !left.empty()) {
      return Status::Error(
          "container {} is {}, but {} of its threads still wait for I/O (uninterruptible): "
          "PMM has not stopped",
          Quote(config_.name), info->state_text, left.size());
    }
  }
  Status removed = engine_.Remove(config_.name, deadline);
  if (!removed.ok() && unseen) {
    log_.Warn("{}; removing it from storage", removed.reason());
    removed = engine_.RemoveFromStorage(config_.name, deadline);
  }
  if (!removed.ok()) {
    // Stopped is what the cluster needs; a leftover is removed on next start.
    log_.Warn("container {} stopped but not removed: {}", config_.name, removed.reason());
    // The engine still calls it running: the record is what tells probes
    // and the next stop that it is not.
    if (unseen) return Status::Ok();
  }
  ClearIdentity();
  return Status::Ok();
}

Status PmmServer::CheckStoppable(int pid, const Deadline& deadline) {
  if (pid <= 0) return Status::Ok();
  std::vector<int> before = host_.UninterruptibleThreads(pid);
  if (before.empty()) return Status::Ok();
  Status answers = host_.ProbeAnswers(
      config_.data_dir, deadline.Within(std::min(deadline.Remaining() / 4, kStorageAnswer)));
  if (answers.ok()) return Status::Ok();
  // Still stuck, the same threads: not a moment of heavy I/O.
  std::vector<int> after = host_.UninterruptibleThreads(pid);
  std::vector<int> stuck;
  for (int tid : after) {
    if (std::find(before.begin(), before.end(), tid) != before.end()) stuck.push_back(tid);
  }
  if (stuck.empty()) return Status::Ok();
  return Status::Error(
      "cannot stop container {}: {} of its threads wait for I/O (uninterruptible, signals "
      "cannot end them) and data_dir {} does not answer ({}): the node must be fenced",
      Quote(config_.name), stuck.size(), Quote(config_.data_dir), answers.reason());
}

Status PmmServer::StopWithoutEngine(const Status& why, const Deadline& deadline) {
  auto alive = RecordedAlive();
  if (!alive) return why;
  auto identity = ReadIdentity();
  if (!*alive) {
    log_.Info("{}; {}: container {} cannot be running", why.reason(),
              identity ? fmt::format("its process {} (recorded at start) is gone", identity->pid)
                       : std::string("no start recorded a container here"),
              config_.name);
    ClearIdentity();
    return Status::Ok();
  }
  seconds grace = StopGrace(deadline.Remaining(), config_.stop_grace);
  log_.Warn(
      "{}; container {} still runs as process {}: stopping it with signals ({} s to shut down)",
      why.reason(), config_.name, identity->pid, grace.count());
  if (Status s = processes_->Terminate(*identity, grace, deadline); !s.ok()) {
    return Status::Error("{}; container {}: {}", why.reason(), Quote(config_.name), s.reason());
  }
  log_.Info("container {}'s process {} is gone", config_.name, identity->pid);
  ClearIdentity();
  return Status::Ok();
}

std::optional<int> PmmServer::RunningAsRecorded() const {
  if (processes_ == nullptr) return std::nullopt;
  auto record = ReadIdentity();
  if (!record || !processes_->IsAlive(*record)) return std::nullopt;
  if (engine_.kind() == EngineKind::kPodman) {
    // Without its conmon podman would not see PMM exit: the engine's view
    // (and ConmonGone's degraded answer) is needed then.
    ContainerIdentity conmon{record->id, record->conmon_pid, record->conmon_start_time};
    if (record->conmon_pid <= 0 || !processes_->IsAlive(conmon)) return std::nullopt;
  }
  // Paused: the engine says so (and the monitor fails); unknown: ask it.
  if (host_.Frozen(record->pid).value_or(true)) return std::nullopt;
  return record->pid;
}

Status PmmServer::Monitor(const Deadline& deadline, bool probe, int depth) {
  // The container start recorded runs as it did, with its conmon, not
  // paused: nothing the engine could add, so it is not asked (a podman CLI
  // call is a fork and tens of milliseconds). Probes and depth 10 ask.
  if (!probe && depth < 10) {
    if (auto pid = RunningAsRecorded()) return MonitorReadiness(*pid, deadline, probe, depth);
  }
  auto info = engine_.Inspect(config_.name, deadline);
  if (!info) {
    // The engine cannot be asked (dockerd down, socket gone, not installed):
    // the process start recorded tells whether PMM can still be running.
    auto alive = RecordedAlive();
    if (alive.value_or(false)) {
      // A dead daemon is not a dead PMM: its containers live on (under
      // containerd-shim, or conmon). Failing here would stop a serving PMM
      // and start it where the engine answers, an outage for a daemon that
      // its service manager restarts in seconds. PMM's own readiness
      // decides; running is shown degraded until the engine answers again.
      const int pid = ReadIdentity()->pid;
      // What matters first: Pacemaker keeps the first 128 characters.
      return DegradedIfReady(
          MonitorReadiness(pid, deadline, probe, depth),
          fmt::format("container {} runs (process {}) and PMM is ready, but the {} cannot be "
                      "asked: {}",
                      Quote(config_.name), pid, engine_.Describe(), info.status().reason()));
    }
    if (!alive) {
      if (!probe) return info.status();
    } else if (!probe) {
      return Status::NotRunning(
          "{}; container {} cannot be running: no process recorded at its start is alive",
          info.status().reason(), Quote(config_.name));
    }
    log_.Warn("{}: reporting not running", info.status().reason());
    return Status::NotRunning();
  }
  if (info->state != ContainerState::kAbsent && !IsOurs(*info)) {
    Status foreign = NotOurs(*info, "this resource is not running here");
    if (!probe) return Status::NotRunning("{}", foreign.reason());
    log_.Warn("{}", foreign.reason());
    return Status::NotRunning();
  }
  if (IsRunningLike(info->state) && ExitedUnseen(*info)) {
    if (!probe) return Status::NotRunning("{}", ExitedUnseenText(*info));
    log_.Warn("{}: reporting not running", ExitedUnseenText(*info));
    return Status::NotRunning();
  }
  switch (info->state) {
    case ContainerState::kAbsent:
      // The engine lost the container, but the process start recorded runs:
      // PMM is up, outside the engine's and the cluster's control (stop ends it).
      if (RecordedAlive().value_or(false)) {
        return Status::Error("the {} lists no container {}, but its process {} still runs",
                             engine_.Describe(), Quote(config_.name), ReadIdentity()->pid);
      }
      return Status::NotRunning();
    case ContainerState::kCreated:
    case ContainerState::kExited:
    case ContainerState::kDead:
      if (probe) return Status::NotRunning();
      return Status::NotRunning("container {} is {} (exit code {})", Quote(config_.name),
                                info->state_text, info->exit_code);
    case ContainerState::kRunning: break;
    default: return Status::Error("container {} is {}", Quote(config_.name), info->state_text);
  }
  PublishVersion(*info, deadline);
  Status ready = MonitorReadiness(info->pid, deadline, probe, depth);
  if (!ConmonGone(*info)) return ready;
  // PMM serves: no reason to stop it. But podman would not see it exit, nor
  // keep its output: a restart of the resource, when convenient, mends it.
  return DegradedIfReady(
      std::move(ready),
      fmt::format("container {} runs and PMM is ready, but its conmon {} is gone: podman will "
                  "not see PMM exit; restart the resource when convenient",
                  Quote(config_.name), ConmonOf(*info)));
}

Status PmmServer::DegradedIfReady(Status ready, std::string reason) {
  if (ready.code() == ExitCode::kSuccess) return Status(ExitCode::kDegraded, std::move(reason));
  if (ready.code() == ExitCode::kRunningPromoted) {
    return Status(ExitCode::kDegradedPromoted, std::move(reason));
  }
  return ready;
}

Status PmmServer::MonitorReadiness(int pid, const Deadline& deadline, bool probe, int depth) {
  if (depth >= 10) {
    auto same = host_.SrvIsDataDir(pid, config_.data_dir, deadline);
    if (!same) return same.status();
    if (!*same) {
      return Status::Error("/srv in container {} is no longer {}", Quote(config_.name),
                           Quote(config_.data_dir));
    }
  }
  // The role is the one Pacemaker gave: reporting PMM's own leadership here
  // instead would make every Raft election a monitor failure. Leadership
  // reaches Pacemaker through the promotion score.
  const bool promoted = config_.promotable && IsPromoted();
  Readiness ready = CheckReady(deadline);
  SetAttribute(kAttrState, ready.ready ? "ready" : "degraded", deadline);
  // Both here, not in promote or demote, which lie on the VIP's way after a
  // leadership move (attrd_updater is a process start; once per change),
  // and not before the promoted instance settles (kSettleAfterPromote).
  if (config_.promotable && !promoted) {
    DeleteAttribute(kAttrLeader, deadline);
  } else if (promoted && SettledPromoted()) {
    SetAttribute(kAttrLeader, "yes", deadline);
  }
  if (ready.ready) {
    WriteFailures(0);
    if (config_.ha) {
      if (std::string mark = CommonCauseMark(); !mark.empty()) unlink(mark.c_str());
      const Leadership seen = UpdatePromotionScore(deadline);
      // The promoted instance leads as expected; another that leads too is
      // the one that asks (nothing to ask while PMM's HA works).
      if (Status sole = CheckSoleLeader(promoted ? Leadership::kFollower : seen, false, deadline);
          !sole.ok()) {
        return sole;
      }
    }
    return Status(promoted ? ExitCode::kRunningPromoted : ExitCode::kSuccess);
  }
  const ExitCode degraded = promoted ? ExitCode::kDegradedPromoted : ExitCode::kDegraded;
  if (probe) {
    return Status(degraded, fmt::format("PMM Server is not ready: {}", ready.detail));
  }
  const auto now = config_.now();
  NotReadyRun run = ReadFailures();
  if (run.count == 0) run.since = now;
  const int failures = ++run.count;
  WriteFailures(failures, run.since);
  const auto waited = std::chrono::duration_cast<std::chrono::seconds>(now - run.since);
  // "2 of 3" or, with a grace, "2 of 3, 4 s of 20 s".
  auto progress = [&](int count, std::chrono::seconds spent) {
    if (config_.health_grace.count() == 0) {
      return fmt::format("{} of {}", count, config_.health_failures);
    }
    return fmt::format("{} of {}, {} s of {} s", count, config_.health_failures, spent.count(),
                       config_.health_grace.count());
  };
  if (failures < config_.health_failures || waited < config_.health_grace) {
    return Status(degraded, fmt::format("PMM Server is not ready ({}): {}",
                                        progress(failures, waited), ready.detail));
  }
  // PMM 3 HA's readiness includes its external databases: one outage of
  // theirs fails every instance at once, and failing them all would ban PMM
  // everywhere. Not this node's fault: nothing to recover here.
  const std::string common_mark = CommonCauseMark();
  auto peers = PeersNotReady(deadline);
  if (!peers && !common_mark.empty() && unlink(common_mark.c_str()) == 0) {
    // The peers are back first (they reconnect one after the other when
    // such an outage ends): this one gets health_failures monitors of its
    // own, from now, before a failure.
    WriteFailures(1, now);
    return Status(degraded, fmt::format("PMM Server is not ready ({}) after an outage of "
                                        "every peer, now over elsewhere: {}",
                                        progress(1, std::chrono::seconds(0)), ready.detail));
  }
  if (peers) {
    WriteFailures(0);
    if (!common_mark.empty()) ReplaceFile(common_mark, "1\n");
    return Status(degraded, fmt::format("PMM Server has not been ready for {} monitors ({}), nor "
                                        "is any peer ({}): a common cause, not this node",
                                        failures, ready.detail, *peers));
  }
  return Status(
      promoted ? ExitCode::kFailedPromoted : ExitCode::kErrGeneric,
      fmt::format("PMM Server has not been ready for {} monitors{}: {}", failures,
                  config_.health_grace.count() == 0 ? "" : fmt::format(" ({} s)", waited.count()),
                  ready.detail));
}

Status PmmServer::Promote(const Deadline& deadline) {
  // Promote and demote lie on the path of the VIP when PMM's leader moves,
  // and a podman CLI call costs a fork and a good part of a second on a busy
  // node: the container start recorded, running as it did, is what the
  // engine would say (as for a monitor); the engine is asked otherwise.
  if (!RunningAsRecorded()) {
    auto info = engine_.Inspect(config_.name, deadline);
    if (!info) return info.status();
    if (info->state != ContainerState::kRunning) {
      return Status::NotRunning("cannot promote: container {} is {}", Quote(config_.name),
                                info->state_text);
    }
    if (!IsOurs(*info)) return Status::NotRunning("{}", NotOurs(*info, "cannot promote").reason());
  }
  SetPromoted(true);
  // pmm-leader is set by a promoted monitor once settled (seconds later),
  // not here: promote is on the VIP's way after a leadership move, and
  // attrd_updater is a process start.
  if (config_.ha) {
    // Nothing is forced: PMM keeps electing its leader, the score follows it.
    bool leads = UpdatePromotionScore(deadline) == Leadership::kLeader;
    log_.Info("promoted{}", leads ? ": PMM leads on this node"
                                  : " while PMM's leader is elsewhere or being elected; the "
                                    "promoted role follows PMM's leader");
  }
  return Status::Ok();
}

Status PmmServer::Demote(const Deadline& deadline) {
  SetPromoted(false);
  // pmm-leader goes with the unpromoted monitor that follows (a second away
  // in the examples), as it came with the promoted one.
  if (RunningAsRecorded()) return Status::Ok();  // as Promote: nothing to ask
  auto info = engine_.Inspect(config_.name, deadline);
  if (!info) {
    // Demoting changes nothing in the container: with the engine down the
    // recorded process says whether it still runs (the score stays as is).
    auto alive = RecordedAlive();
    if (!alive) return info.status();
    if (*alive) {
      log_.Warn("{}: demoted without touching the container or the score", info.status().reason());
      return Status::Ok();
    }
    return Status::NotRunning("demoted: {}; container {} cannot be running", info.status().reason(),
                              Quote(config_.name));
  }
  if (info->state != ContainerState::kRunning || !IsOurs(*info)) {
    return Status::NotRunning("demoted: container {} is {}", Quote(config_.name),
                              IsOurs(*info) ? info->state_text : "not ours");
  }
  // The score is left to this instance's next monitor (a second away in
  // the examples): the promote that waits for this demote is the one that
  // moves the VIP, and asking PMM and forking crm_attribute here would delay
  // it. The newest leader's score outranks this one's whatever it is.
  return Status::Ok();
}

namespace {

// One line of /proc/self/mountinfo:
// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
struct MountLine {
  std::string device;  // major:minor of the filesystem (one per superblock)
  std::string root;    // the directory of the filesystem mounted here
  std::string point;
  std::string fstype;
  std::string source;
};

// Undoes mountinfo's octal escapes (\040 for a blank).
std::string Unescape(std::string_view field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '3') {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                               (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

std::vector<MountLine> ParseMountinfo(std::string_view text) {
  std::vector<MountLine> mounts;
  while (!text.empty()) {
    auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    std::vector<std::string_view> f;
    for (std::size_t pos = 0; pos < line.size();) {
      auto sp = line.find(' ', pos);
      if (sp == std::string_view::npos) sp = line.size();
      f.push_back(line.substr(pos, sp - pos));
      pos = sp + 1;
    }
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 6 || dash == f.end() || f.end() - dash < 3 || dash - f.begin() < 6) continue;
    mounts.push_back({std::string(f[2]), Unescape(f[3]), Unescape(f[4]), std::string(dash[1]),
                      Unescape(dash[2])});
  }
  return mounts;
}

std::string Describe(const MountLine& m) {
  std::string what = fmt::format("{} {}", m.fstype, Quote(m.source));
  if (m.root != "/") what += fmt::format(", directory {} of it", Quote(m.root));
  return what;
}

}  // namespace

Status CheckDataMount(const std::string& dir, std::string_view mountinfo) {
  auto mounts = ParseMountinfo(mountinfo);
  // The last entry for a mount point is the one on top, the one visible there.
  const MountLine* here = nullptr;
  const MountLine* root = nullptr;
  for (const auto& m : mounts) {
    if (m.point == dir) here = &m;
    if (m.point == "/") root = &m;
  }
  if (here == nullptr) {
    return Status::Error(
        "data_dir {} is not a mount point: refusing to start PMM on "
        "a local directory (is the storage resource running here?)",
        Quote(dir));
  }
  for (std::string_view volatile_fs : {"tmpfs", "ramfs", "overlay"}) {
    if (here->fstype == volatile_fs) {
      return Status::Error(
          "data_dir {} is a {} mount ({}): refusing to start PMM on a filesystem "
          "that is not the shared storage and does not outlive a reboot",
          Quote(dir), here->fstype, Quote(here->source));
    }
  }
  if (root != nullptr && root->device == here->device) {
    return Status::Error(
        "data_dir {} is the root filesystem mounted again ({}; / is {}): refusing to start "
        "PMM on the node's own disk (require_mount=true)",
        Quote(dir), Describe(*here), Describe(*root));
  }
  return Status::Ok();
}

std::string NormalizeUuid(std::string_view uuid) {
  std::string hex;
  for (char c : uuid) {
    if (c != '-') hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (hex.size() != 32) return hex;
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4),
                     hex.substr(16, 4), hex.substr(20));
}

std::optional<FsIdentity> IdentifySuperblock(std::string_view head) {
  auto uuid_at = [&head](std::size_t offset) {
    std::string hex;
    for (std::size_t i = 0; i < 16; ++i) {
      hex += fmt::format("{:02x}", static_cast<unsigned char>(head[offset + i]));
    }
    return NormalizeUuid(hex);
  };
  auto has = [&head](std::size_t offset, std::string_view magic) {
    return head.size() >= offset + magic.size() && head.substr(offset, magic.size()) == magic;
  };
  // ext2/3/4: superblock at 1024, s_magic 0xEF53 (little-endian) at 0x38, s_uuid at 0x68.
  if (has(1024 + 0x38, std::string_view("\x53\xef", 2)) && head.size() >= 1024 + 0x78) {
    return FsIdentity{"ext4", uuid_at(1024 + 0x68)};
  }
  // xfs: "XFSB" at 0, sb_uuid at 32.
  if (has(0, "XFSB") && head.size() >= 48) return FsIdentity{"xfs", uuid_at(32)};
  // btrfs: superblock at 64 KiB, fsid at 0x20, "_BHRfS_M" at 0x40.
  if (has(65536 + 0x40, "_BHRfS_M")) return FsIdentity{"btrfs", uuid_at(65536 + 0x20)};
  return std::nullopt;
}

namespace {

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// What follows the command name in a /proc/.../stat line (state, ppid, ...):
// the name itself may hold spaces and parentheses.
std::string_view StatFields(std::string_view stat) {
  auto close = stat.rfind(')');
  if (close == std::string_view::npos || close + 2 > stat.size()) return {};
  return stat.substr(close + 2);
}

// The numeric entries of a /proc directory: pids, or a process's threads.
std::vector<int> NumericEntries(const std::string& dir) {
  std::vector<int> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = readdir(d)) {
    char* end = nullptr;
    long n = std::strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0' && n > 0) out.push_back(static_cast<int>(n));
  }
  closedir(d);
  return out;
}

class RealServerHost final : public ServerHost {
 public:
  Result<std::string> Sha256Of(const std::string& path, const Deadline& deadline) override {
    auto r = MakeProcessRunner()->Run({"sha256sum", "--", path}, deadline.Within(seconds(10)));
    if (!r.ok()) return r.status();
    if (!r->Succeeded()) {
      return Status::Error("sha256sum {}: {}: {}", Quote(path), r->Describe(), LastLine(r->err));
    }
    std::string digest = r->out.substr(0, r->out.find(' '));
    bool hex = digest.size() == 64 && std::all_of(digest.begin(), digest.end(), [](char c) {
                 return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
               });
    if (!hex) return Status::Error("sha256sum {}: no digest in {}", Quote(path), Quote(r->out));
    return digest;
  }
  std::optional<bool> Frozen(int pid) override {
    bool read = false;
    const std::string groups = ReadSmallFile(fmt::format("/proc/{}/cgroup", pid), &read);
    if (!read) return std::nullopt;
    std::string unified;  // the cgroup v2 path
    std::istringstream lines(groups);
    for (std::string line; std::getline(lines, line);) {
      // hierarchy-ID:controller-list:cgroup-path
      const auto first = line.find(':');
      const auto second = line.find(':', first + 1);
      if (first == std::string::npos || second == std::string::npos) continue;
      const std::string controllers = "," + line.substr(first + 1, second - first - 1) + ",";
      const std::string path = line.substr(second + 1);
      if (controllers.find(",freezer,") != std::string::npos) {
        // cgroup v1: THAWED, FREEZING or FROZEN.
        std::string state =
            ReadSmallFile(fmt::format("/sys/fs/cgroup/freezer{}/freezer.state", path), &read);
        if (!read) return std::nullopt;
        return state.rfind("THAWED", 0) != 0;
      }
      if (controllers == ",," && line.rfind("0:", 0) == 0) unified = path;
    }
    if (unified.empty() || unified == "/") return std::nullopt;
    for (const char* root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
      std::string events = ReadSmallFile(fmt::format("{}{}/cgroup.events", root, unified), &read);
      if (read) return events.find("frozen 1") != std::string::npos;
    }
    return std::nullopt;
  }

  Status CheckWritableBy(const std::string& dir, unsigned uid, unsigned gid,
                         const Deadline& deadline) override {
    enum { kWritable, kDenied, kReadOnly, kMissing, kNoIdentity };
    auto r = RunBounded(fmt::format("checking that uid {} can write data_dir {}", uid, Quote(dir)),
                        deadline, [&]() -> int {
                          // The child becomes PMM's user: access() then answers as the
                          // kernel will answer PMM (the effective ids are the real ones).
                          if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
                            return kNoIdentity;
                          }
                          if (access(dir.c_str(), W_OK | X_OK) == 0) return kWritable;
                          return errno == EROFS ? kReadOnly : errno == ENOENT ? kMissing : kDenied;
                        });
    if (!r) return r.status();
    switch (*r) {
      case kWritable: return Status::Ok();
      case kReadOnly: return Status::Error("data_dir {} is on a read-only filesystem", Quote(dir));
      case kMissing: return Status::Error("data_dir {} does not exist on this node", Quote(dir));
      case kNoIdentity:
        return Status::Error("cannot check data_dir {}: cannot become uid {}", Quote(dir), uid);
      default:
        return Status::Error(
            "data_dir {} is not writable by PMM's user (uid {}, gid {}): PMM would exit with "
            "\"FATAL: /srv is not writable\"; chown -R {}:{} it",
            Quote(dir), uid, gid, uid, gid);
    }
  }

  Status CheckMountPoint(const std::string& dir, const Deadline& deadline) override {
    enum { kOk, kMissing, kNotDir, kTmpfs, kRamfs, kOverlay };
    // stat and statfs touch the filesystem, which may hang: in a bounded child.
    auto r = RunBounded(fmt::format("checking data_dir {}", Quote(dir)), deadline, [&dir]() -> int {
      struct stat st;
      if (stat(dir.c_str(), &st) != 0) return kMissing;
      if (!S_ISDIR(st.st_mode)) return kNotDir;
      struct statfs fs;
      if (statfs(dir.c_str(), &fs) == 0) {
        if (fs.f_type == TMPFS_MAGIC) return kTmpfs;
        if (fs.f_type == RAMFS_MAGIC) return kRamfs;
        if (fs.f_type == OVERLAYFS_SUPER_MAGIC) return kOverlay;
      }
      return kOk;
    });
    if (!r) return r.status();
    switch (*r) {
      case kMissing: return Status::Error("data_dir {} does not exist on this node", Quote(dir));
      case kNotDir: return Status::Error("data_dir {} is not a directory", Quote(dir));
      case kOk: break;
      default:
        // Also when a directory of one is bind-mounted on a mount point.
        return Status::Error(
            "data_dir {} is on a {}: refusing to start PMM on a filesystem that is not the "
            "shared storage and does not outlive a reboot",
            Quote(dir),
            *r == kTmpfs   ? "tmpfs"
            : *r == kRamfs ? "ramfs"
                           : "overlay");
    }
    // The mount table is the kernel's, read without touching the filesystem.
    bool read = false;
    std::string mountinfo = ReadSmallFile("/proc/self/mountinfo", &read);
    if (!read) return Status::Error("cannot read /proc/self/mountinfo: {}", Errno(errno));
    return CheckDataMount(dir, mountinfo);
  }

  Status CheckFsUuid(const std::string& dir, const std::string& uuid,
                     const Deadline& deadline) override {
    bool read = false;
    std::string mountinfo = ReadSmallFile("/proc/self/mountinfo", &read);
    if (!read) return Status::Error("cannot read /proc/self/mountinfo: {}", Errno(errno));
    const MountLine* here = nullptr;
    auto mounts = ParseMountinfo(mountinfo);
    for (const auto& m : mounts) {
      if (m.point == dir) here = &m;
    }
    if (here == nullptr) return CheckDataMount(dir, mountinfo);
    const std::string want = NormalizeUuid(uuid);
    enum { kSame, kOther, kUnknownFs, kCannotRead };
    const std::string source = here->source;
    // The device may be dying: read its superblock in a bounded child.
    auto r = RunBounded(fmt::format("reading the superblock of {}", Quote(source)), deadline,
                        [&source, &want]() -> int {
                          int fd = open(source.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
                          if (fd < 0) return kCannotRead;
                          std::string head(kSuperblockSpan, '\0');
                          ssize_t n = pread(fd, head.data(), head.size(), 0);
                          close(fd);
                          if (n <= 0) return kCannotRead;
                          head.resize(static_cast<std::size_t>(n));
                          auto fs = IdentifySuperblock(head);
                          if (!fs) return kUnknownFs;
                          return fs->uuid == want ? kSame : kOther;
                        });
    if (!r) return r.status();
    switch (*r) {
      case kSame: return Status::Ok();
      case kOther:
        return Status::Error(
            "data_dir {} is not on the filesystem with UUID {} (require_fs_uuid): {} {} is "
            "mounted there; refusing to start PMM on another filesystem",
            Quote(dir), want, here->fstype, Quote(source));
      case kUnknownFs:
        return Status::Error(
            "data_dir {} is on {} {}, whose UUID the agent cannot read (it knows ext4, xfs and "
            "btrfs): cannot check require_fs_uuid",
            Quote(dir), here->fstype, Quote(source));
      default:
        return Status::Error(
            "cannot read the superblock of {}, mounted at data_dir {}: cannot check "
            "require_fs_uuid",
            Quote(source), Quote(dir));
    }
  }

  Result<bool> SrvIsDataDir(int pid, const std::string& dir, const Deadline& deadline) override {
    std::string srv = fmt::format("/proc/{}/root/srv", pid);
    auto r = RunBounded("comparing /srv in the container with data_dir", deadline, [&]() -> int {
      struct stat inside, outside;
      if (stat(srv.c_str(), &inside) != 0 || stat(dir.c_str(), &outside) != 0) return 2;
      return inside.st_dev == outside.st_dev && inside.st_ino == outside.st_ino ? 0 : 1;
    });
    if (!r) return r.status();
    if (*r == 2) {
      return Status::Error("cannot stat /srv of container PID {} or data_dir {}", pid, Quote(dir));
    }
    return *r == 0;
  }

  std::vector<int> UninterruptibleThreads(int pid) override {
    // Every process's parent, to walk the container's whole tree.
    std::map<int, std::vector<int>> children;
    for (int p : NumericEntries("/proc")) {
      bool ok = false;
      std::istringstream fields(
          std::string(StatFields(ReadSmallFile(fmt::format("/proc/{}/stat", p), &ok))));
      char state = 0;
      int ppid = 0;
      if (ok && fields >> state >> ppid) children[ppid].push_back(p);
    }
    std::vector<int> stuck;
    std::vector<int> todo{pid};
    std::set<int> seen;
    while (!todo.empty()) {
      int p = todo.back();
      todo.pop_back();
      if (!seen.insert(p).second) continue;
      // A process's own state is its main thread's: a worker in fsync shows
      // only in its task.
      for (int tid : NumericEntries(fmt::format("/proc/{}/task", p))) {
        bool ok = false;
        auto fields = StatFields(ReadSmallFile(fmt::format("/proc/{}/task/{}/stat", p, tid), &ok));
        if (ok && !fields.empty() && fields[0] == 'D') stuck.push_back(tid);
      }
      for (int c : children[p]) todo.push_back(c);
    }
    return stuck;
  }

  std::vector<PortHolder> PortHolders(const std::vector<PortNeed>& needs,
                                      const Deadline& deadline) override {
    std::vector<TcpListener> found;
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
      bool ok = false;
      for (const auto& l : ParseTcpListeners(ReadSmallFile(table, &ok))) {
        if (std::any_of(needs.begin(), needs.end(),
                        [&l](const PortNeed& need) { return BlocksPmm(l, need); })) {
          found.push_back(l);
        }
      }
    }
    std::vector<PortHolder> holders;
    if (found.empty()) return holders;
    // Who holds each socket: the process with it among its descriptors.
    std::map<unsigned long long, std::string> owners;
    for (const auto& l : found) owners[l.inode];
    std::size_t named = 0;
    for (int pid : NumericEntries("/proc")) {
      if (named == owners.size() || deadline.HasExpired()) break;
      const std::string fd_dir = fmt::format("/proc/{}/fd", pid);
      for (int fd : NumericEntries(fd_dir)) {
        char target[64];
        ssize_t n = readlink(fmt::format("{}/{}", fd_dir, fd).c_str(), target, sizeof target - 1);
        if (n <= 0) continue;
        target[n] = '\0';
        unsigned long long inode = 0;
        if (std::sscanf(target, "socket:[%llu]", &inode) != 1) continue;
        auto it = owners.find(inode);
        if (it == owners.end() || !it->second.empty()) continue;
        bool ok = false;
        std::string comm = ReadSmallFile(fmt::format("/proc/{}/comm", pid), &ok);
        while (!comm.empty() && comm.back() == '\n') comm.pop_back();
        it->second = fmt::format("{} (pid {})", ok ? comm : "?", pid);
        ++named;
      }
    }
    for (const auto& l : found) {
      const std::string& owner = owners[l.inode];
      holders.push_back({l.port, l.address, owner.empty() ? "a process not found" : owner});
    }
    return holders;
  }

  Status ProbeAnswers(const std::string& dir, const Deadline& deadline) override {
    std::string probe = dir + "/.pmm-server-stop-probe";
    auto r = RunBounded(
        fmt::format("a write and fdatasync in data_dir {}", Quote(dir)), deadline,
        [&probe]() -> int {
          // Any result is an answer: only the time counts.
          int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
          if (fd < 0) return 0;
          if (write(fd, "x", 1) == 1) fdatasync(fd);
          close(fd);
          unlink(probe.c_str());
          return 0;
        });
    return r ? Status::Ok() : r.status();
  }

  Result<DropInResult> InstallDropIn(const std::string& systemd_root, const DropIn& drop_in,
                                     const Deadline& deadline) override {
    // As resource-agents' systemd_is_running and systemd_drop_in: systemd
    // runs when it has /run/systemd/system; a file in /run lasts until reboot.
    if (!IsDirectory(fmt::format("{}/run/systemd/system", systemd_root))) {
      return DropInResult::kNoSystemd;
    }
    bool exists = false;
    if (ReadSmallFile(drop_in.path, &exists) == drop_in.content && exists) {
      return DropInResult::kUnchanged;
    }
    std::string dir = drop_in.path.substr(0, drop_in.path.rfind('/'));
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return Status::Error("cannot create {}: {}", dir, Errno(errno));
    }
    // systemd reads drop-ins as any user may (0644), and never half a file.
    std::string tmp = fmt::format("{}.{}", drop_in.path, getpid());
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return Status::Error("cannot write {}: {}", tmp, Errno(errno));
    const std::string& c = drop_in.content;
    bool written = write(fd, c.data(), c.size()) == static_cast<ssize_t>(c.size());
    written = fchmod(fd, 0644) == 0 && written;
    close(fd);
    if (!written || rename(tmp.c_str(), drop_in.path.c_str()) != 0) {
      Status failed = Status::Error("cannot write {}: {}", drop_in.path, Errno(errno));
      unlink(tmp.c_str());
      return failed;
    }
    auto runner = MakeProcessRunner();
    auto reload = runner->Run({"systemctl", "daemon-reload"}, deadline.Within(seconds(30)));
    if (!reload) return reload.status();
    if (!reload->Succeeded()) {
      return Status::Error("wrote {}, but systemctl daemon-reload failed: {}", drop_in.path,
                           reload->Describe());
    }
    return DropInResult::kWritten;
  }
};

}  // namespace

std::unique_ptr<ServerHost> MakeServerHost() { return std::make_unique<RealServerHost>(); }

}  // namespace pmmha
