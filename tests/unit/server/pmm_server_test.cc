// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/server/pmm_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <map>

#include <catch2/catch.hpp>

#include "pmmha/core/state_file.h"
#include "pmmha/server/server_params.h"

using namespace pmmha;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// A container engine that holds one container's state in memory.
class FakeEngine : public ContainerEngine {
 public:
  ContainerInfo info;  // current state
  bool reachable = true;
  bool has_image = true;
  int run_failures_in_use = 0;  // "name already in use" this many times
  bool stop_ignored = false;    // SIGTERM ignored: Stop leaves it running
  bool kill_ignored = false;
  bool remove_fails = false;
  bool storage_remove_fails = false;
  // Podman once the container's conmon died: stop ends the process (unless
  // stop_ignored) but the state stays "stopping" for ever, and kill refuses.
  bool conmon_dead = false;
  std::map<int, unsigned long long>* processes = nullptr;  // the node's, to end
  int exit_after_run = -1;                          // the container exits at once with this code
  std::map<std::string, std::string> image_labels;  // what the image gives its containers
  std::vector<std::string> calls;
  std::vector<std::string> last_run_args;
  std::string env_file_seen;
  seconds last_grace{-1};

  EngineKind kind() const override { return EngineKind::kPodman; }
  std::string Describe() const override { return "fake"; }

  Result<ContainerInfo> Inspect(const std::string&, const Deadline&) override {
    calls.push_back("inspect");
    if (!reachable) return Status::Error("cannot connect to the engine");
    return info;
  }
  Result<bool> HasImage(const std::string&, const Deadline&) override {
    calls.push_back("has_image");
    return has_image;
  }
  Status Pull(const std::string&, const Deadline&) override {
    calls.push_back("pull");
    has_image = true;
    return Status::Ok();
  }
  Status Run(const std::vector<std::string>& args, const Deadline&) override {
    calls.push_back("run");
    last_run_args = args;
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == "--env-file" && env_file_seen.empty()) {
        std::ifstream f(args[i + 1]);
        env_file_seen.assign(std::istreambuf_iterator<char>(f), {});
      }
    }
    if (run_failures_in_use > 0) {
      --run_failures_in_use;
      return Status::Error(
          "podman run failed: the container name \"pmm\" is "
          "already in use by abc");
    }
    info = ContainerInfo{};
    info.labels = image_labels;
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] != "--label") continue;
      auto eq = args[i + 1].find('=');
      info.labels[args[i + 1].substr(0, eq)] = args[i + 1].substr(eq + 1);
    }
    info.state = exit_after_run >= 0 ? ContainerState::kExited : ContainerState::kRunning;
    info.state_text = exit_after_run >= 0 ? "exited" : "running";
    info.exit_code = exit_after_run >= 0 ? exit_after_run : 0;
    info.pid = 100;
    info.id = "c0ffee";
    if (exit_after_run < 0) Spawn();
    return Status::Ok();
  }
  Status Start(const std::string&, const Deadline&) override {
    calls.push_back("start");
    info.state = ContainerState::kRunning;
    info.state_text = "running";
    Spawn();
    return Status::Ok();
  }
  // The container's process (pid 100, a new start time) and its conmon (pid
  // 200) begin, on the node's process table.
  void Spawn() {
    if (processes == nullptr) return;
    (*processes)[100] = ++starts;
    info.conmon_pid = 200;
    (*processes)[200] = 9000 + starts;
  }
  unsigned long long starts = 5555;
  Status Stop(const std::string&, seconds grace, const Deadline&) override {
    calls.push_back("stop");
    last_grace = grace;
    if (conmon_dead) {
      info.state = ContainerState::kStopping;
      info.state_text = "stopping";
      if (!stop_ignored && processes != nullptr) processes->erase(info.pid);
      return Status::Ok();
    }
    if (!stop_ignored) SetExited();
    return Status::Ok();
  }
  Status Kill(const std::string&, const Deadline&) override {
    calls.push_back("kill");
    if (conmon_dead) return Status::Error("container state improper: stopped");
    if (!kill_ignored) SetExited();
    return Status::Ok();
  }
  Status Remove(const std::string&, const Deadline&) override {
    calls.push_back("remove");
    if (remove_fails) return Status::Error("rm failed");
    info = ContainerInfo{};
    return Status::Ok();
  }
  Status RemoveFromStorage(const std::string&, const Deadline&) override {
    calls.push_back("remove_storage");
    if (storage_remove_fails) return Status::Error("rm --storage failed");
    return Status::Ok();
  }
  Result<std::string> Logs(const std::string&, int, const Deadline&) override {
    calls.push_back("logs");
    return std::string("panic: cannot open /srv/postgres14\n");
  }

  // A container this resource created (its label), unless `ours` is false.
  void SetRunning(bool ours = true) {
    info.state = ContainerState::kRunning;
    info.state_text = "running";
    info.pid = 100;
    SetLabel(ours);
  }
  void SetExited(bool ours = true) {
    info.state = ContainerState::kExited;
    info.state_text = "exited";
    SetLabel(ours);
    // Its process and conmon are gone with it.
    if (processes != nullptr) {
      processes->erase(info.pid);
      processes->erase(info.conmon_pid);
    }
  }
  void SetLabel(bool ours) {
    if (ours) {
      info.labels[kResourceLabel] = "pmm";
    } else {
      info.labels.clear();
    }
  }
  int Count(const std::string& call) const {
    return static_cast<int>(std::count(calls.begin(), calls.end(), call));
  }
};

// Answers readiness requests from a script, and leader checks from another;
// the last answer of each repeats.
class FakeHttp : public HttpClient {
 public:
  std::deque<Result<HttpResponse>> answers{HttpResponse{200, "{}"}};
  std::deque<Result<HttpResponse>> leader{HttpResponse{400, "{}"}};
  int requests = 0;
  int leader_requests = 0;
  HttpRequest last;

  // Other hosts (HA peers) by URL; a URL not listed gets no answer.
  std::map<std::string, HttpResponse> peers;
  std::vector<std::string> peer_urls;

  Result<HttpResponse> Send(const HttpRequest& request, const Deadline&) override {
    if (request.url.find("//127.0.0.1:") == std::string::npos) {
      peer_urls.push_back(request.url);
      auto it = peers.find(request.url);
      if (it == peers.end()) return Status::Error("connection refused");
      return it->second;
    }
    bool is_leader = request.url.find("leaderHealthCheck") != std::string::npos;
    auto& script = is_leader ? leader : answers;
    ++(is_leader ? leader_requests : requests);
    if (!is_leader) last = request;
    auto a = script.front();
    if (script.size() > 1) script.pop_front();
    return a;
  }
};

class FakePromotion : public PromotionScore {
 public:
  std::vector<std::string> calls;
  Status Set(int score, const Deadline&) override {
    calls.push_back("set " + std::to_string(score));
    return Status::Ok();
  }
  Status SetLeader(const Deadline&) override {
    calls.push_back("leader");
    return Status::Ok();
  }
  Status Clear(const Deadline&) override {
    calls.push_back("clear");
    return Status::Ok();
  }
  std::string Last() const { return calls.empty() ? "" : calls.back(); }
};

class FakeHost : public ServerHost {
 public:
  Status mount_check;
  bool srv_is_data_dir = true;
  int mount_checks = 0;
  Status CheckMountPoint(const std::string&, const Deadline&) override {
    ++mount_checks;
    return mount_check;
  }
  Result<bool> SrvIsDataDir(int, const std::string&, const Deadline&) override {
    return srv_is_data_dir;
  }
  std::optional<bool> frozen = false;
  std::optional<bool> Frozen(int) override { return frozen; }
  Status writable;
  std::vector<std::string> writable_asked;  // "DIR UID:GID"
  Status CheckWritableBy(const std::string& dir, unsigned uid, unsigned gid,
                         const Deadline&) override {
    writable_asked.push_back(dir + " " + std::to_string(uid) + ":" + std::to_string(gid));
    return writable;
  }
  Status fs_uuid_check;
  std::string fs_uuid_asked;
  Status CheckFsUuid(const std::string&, const std::string& uuid, const Deadline&) override {
    fs_uuid_asked = uuid;
    return fs_uuid_check;
  }
  // Threads in D state, one list per scan (the last one repeats).
  std::vector<std::vector<int>> stuck_threads;
  std::size_t stuck_scans = 0;
  std::vector<int> UninterruptibleThreads(int) override {
    if (stuck_threads.empty()) return {};
    return stuck_threads[std::min(stuck_scans++, stuck_threads.size() - 1)];
  }
  std::vector<PortHolder> port_holders;  // whatever the needs
  std::vector<PortNeed> ports_asked;
  std::vector<PortHolder> PortHolders(const std::vector<PortNeed>& needs,
                                      const Deadline&) override {
    ports_asked = needs;
    return port_holders;
  }
  Status probe_answer;
  int probes = 0;
  Status ProbeAnswers(const std::string&, const Deadline&) override {
    ++probes;
    return probe_answer;
  }
  std::vector<DropIn> drop_ins;
  Result<DropInResult> drop_in_result = DropInResult::kWritten;
  Result<DropInResult> InstallDropIn(const std::string&, const DropIn& d,
                                     const Deadline&) override {
    drop_ins.push_back(d);
    return drop_in_result;
  }
  // The real host's digest (sha256sum): a file's content is the test's.
  Result<std::string> Sha256Of(const std::string& path, const Deadline& deadline) override {
    return MakeServerHost()->Sha256Of(path, deadline);
  }
};

// Processes by pid with their start times; Terminate ends them unless told
// they survive.
class FakeProcesses : public ProcessControl {
 public:
  std::map<int, unsigned long long> alive;
  bool survives = false;
  std::vector<std::string> calls;
  seconds last_grace{-1};

  std::optional<unsigned long long> StartTime(int pid) const override {
    auto it = alive.find(pid);
    if (it == alive.end()) return std::nullopt;
    return it->second;
  }
  Status Terminate(const ContainerIdentity& id, seconds grace, const Deadline&) override {
    calls.push_back("terminate " + std::to_string(id.pid));
    last_grace = grace;
    if (survives) return Status::Error("process {} is still alive after SIGKILL", id.pid);
    alive.erase(id.pid);
    return Status::Ok();
  }
};

HttpResponse NotReady() { return {500, R"({"code":13,"message":"PMM Server is not ready yet."})"}; }

// The node's attributes, as attrd would hold them; every call counted.
class FakeAttributes : public NodeAttributes {
 public:
  std::map<std::string, std::string, std::less<>> values;
  int calls = 0;
  Status Set(std::string_view name, std::string_view value, const Deadline&) override {
    ++calls;
    values[std::string(name)] = value;
    return Status::Ok();
  }
  std::vector<std::string> deleted;
  Status Delete(std::string_view name, const Deadline&) override {
    ++calls;
    deleted.emplace_back(name);
    values.erase(std::string(name));
    return Status::Ok();
  }
  std::string Get(std::string_view name) const {
    auto it = values.find(name);
    return it == values.end() ? "(none)" : it->second;
  }
};

struct Fixture {
  ServerConfig config;
  FakeEngine engine;
  FakeHttp http;
  FakeHost host;
  Logger log;
  FakePromotion promotion;
  FakeProcesses processes;
  FakeAttributes attributes;
  PmmServer server{config, engine, http, host, log, &promotion, &processes, &attributes};

  Fixture() {
    config.name = "pmm";
    config.image = "percona/pmm-server:3";
    config.instance = "pmm";
    config.data_dir = "/srv/pmm";
    config.health_url = "http://127.0.0.1:8080/v1/server/readyz";
    config.env_file_dir = "/tmp";
    config.failure_counter_path = "/tmp/pmmha-unit-failures-" + std::to_string(getpid());
    unlink(config.failure_counter_path.c_str());
    config.identity_path = "/tmp/pmmha-unit-identity-" + std::to_string(getpid());
    unlink(config.identity_path.c_str());
    processes.alive[100] = 5555;  // the fake engine's containers run as pid 100
    engine.processes = &processes.alive;
  }
  ~Fixture() {
    unlink(config.failure_counter_path.c_str());
    unlink((config.failure_counter_path + ".common").c_str());
    unlink((config.failure_counter_path + ".leaders").c_str());
    unlink(config.identity_path.c_str());
    if (!config.promoted_path.empty()) unlink(config.promoted_path.c_str());
  }

  // A PMM 3 HA instance of a promotable clone on node2 of three.
  void MakeHa() {
    HaSettings ha;
    ha.node_id = "node2";
    ha.advertise_address = "10.0.0.12";
    ha.peers = "10.0.0.11,10.0.0.12,10.0.0.13";
    ha.key_file = "/etc/pmm/ha.key";
    config.ha = ha;
    config.promotable = true;
    config.leader_url = "http://127.0.0.1:8080/v1/server/leaderHealthCheck";
    config.promoted_path = "/tmp/pmmha-unit-promoted-" + std::to_string(getpid());
    unlink(config.promoted_path.c_str());
  }

  Deadline Soon(long ms = 5000) { return Deadline::After(milliseconds(ms)); }
};

}  // namespace

TEST_CASE("start creates the container and returns when PMM is ready") {
  Fixture f;
  f.http.answers = {NotReady(), NotReady(), HttpResponse{200, "{}"}};
  Status s = f.server.Start(f.Soon());
  CHECK(s.ok());
  CHECK(f.engine.Count("run") == 1);
  CHECK(f.http.requests == 3);
  CHECK(f.host.mount_checks == 1);
}

TEST_CASE("a start whose PMM answers at once asks the engine once after creating it") {
  // Every engine call of the CLI backend is a podman fork (about 0.1 s): a
  // failover waits for each. Before the run: the container (and the image);
  // after it: one look that records the process and gives the drop-in its id.
  Fixture f;
  f.config.drop_in_dependency = true;
  f.config.systemd_root = "/tmp/root";
  f.http.answers = {HttpResponse{200, "{}"}};
  REQUIRE(f.server.Start(f.Soon()).ok());
  CHECK(f.engine.calls == std::vector<std::string>{"inspect", "has_image", "run", "inspect"});
  REQUIRE(f.host.drop_ins.size() == 1);
  CHECK_THAT(f.host.drop_ins[0].content, Catch::Contains("libpod-c0ffee.scope"));  // the run's
  struct stat recorded;
  CHECK(stat(f.config.identity_path.c_str(), &recorded) == 0);
}

TEST_CASE("start refuses a data_dir that is not mounted, before creating anything") {
  Fixture f;
  f.host.mount_check = Status::Error("data_dir '/srv/pmm' is not a mount point");
  Status s = f.server.Start(f.Soon());
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK_THAT(s.reason(), Catch::Contains("not a mount point"));
  CHECK(f.engine.Count("run") == 0);
  CHECK(f.engine.Count("pull") == 0);
}

TEST_CASE("require_mount=false skips the mount check") {
  Fixture f;
  f.config.require_mount = false;
  f.host.mount_check = Status::Error("not a mount point");
  CHECK(f.server.Start(f.Soon()).ok());
  CHECK(f.host.mount_checks == 0);
}

TEST_CASE("start refuses a data_dir PMM 3's user cannot write (5), before creating anything") {
  Fixture f;
  f.host.writable = Status::Error("data_dir '/srv/pmm' is not writable by PMM's user");
  Status s = f.server.Start(f.Soon());
  CHECK(s.code() == ExitCode::kErrInstalled);
  CHECK_THAT(s.reason(), Catch::Contains("not writable by PMM's user"));
  CHECK(f.host.writable_asked == std::vector<std::string>{f.config.data_dir + " 1000:1000"});
  CHECK(f.engine.Count("run") == 0);
  CHECK(f.engine.Count("pull") == 0);
}

TEST_CASE("the data_dir owner check is asked also without require_mount, and passes") {
  Fixture f;
  f.config.require_mount = false;
  CHECK(f.server.Start(f.Soon()).ok());
  CHECK(f.host.writable_asked.size() == 1);
}

TEST_CASE("PMM 2 (root) and a user chosen in run_opts skip the data_dir owner check") {
  Fixture f;
  f.host.writable = Status::Error("not writable");
  SECTION("PMM 2") { f.config.pmm_major = 2; }
  SECTION("--user") { f.config.run_opts = {"--user", "0"}; }
  SECTION("--userns=") { f.config.run_opts = {"--userns=keep-id"}; }
  SECTION("-u") { f.config.run_opts = {"-u0"}; }
  CHECK(f.server.Start(f.Soon()).ok());
  CHECK(f.host.writable_asked.empty());
}

TEST_CASE("start on a running container is idempotent") {
  Fixture f;
  f.engine.SetRunning();
  CHECK(f.server.Start(f.Soon()).ok());
  CHECK(f.engine.Count("run") == 0);
  CHECK(f.engine.Count("remove") == 0);
}

TEST_CASE("start removes a stale container, or reuses it when asked") {
  for (bool reuse : {false, true}) {
    Fixture f;
    f.config.reuse = reuse;
    f.engine.SetExited();
    INFO("reuse " << reuse);
    CHECK(f.server.Start(f.Soon()).ok());
    CHECK(f.engine.Count("remove") == (reuse ? 0 : 1));
    CHECK(f.engine.Count("run") == (reuse ? 0 : 1));
    CHECK(f.engine.Count("start") == (reuse ? 1 : 0));
  }
}

TEST_CASE("a container stuck in stopping is killed and removed before start") {
  Fixture f;
  f.engine.info.state = ContainerState::kStopping;
  f.engine.SetLabel(true);
  f.engine.info.state_text = "stopping";
  CHECK(f.server.Start(f.Soon()).ok());
  CHECK(f.engine.Count("kill") == 1);
  CHECK(f.engine.Count("remove") == 1);
  CHECK(f.engine.Count("run") == 1);
}

TEST_CASE("podman's 'name already in use' ghost is cleared from storage") {
  Fixture f;
  f.engine.run_failures_in_use = 1;
  CHECK(f.server.Start(f.Soon()).ok());
  CHECK(f.engine.Count("remove_storage") == 1);
  CHECK(f.engine.Count("run") == 2);
}

TEST_CASE("a container that exits while starting fails start with its log") {
  Fixture f;
  f.engine.exit_after_run = 1;
  f.http.answers = {Status::Error("connection refused")};
  Status s = f.server.Start(f.Soon());
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK_THAT(s.reason(), Catch::Contains("exited while PMM was starting (exited 1)"));
  CHECK_THAT(s.reason(), Catch::Contains("panic: cannot open /srv/postgres14"));
}

TEST_CASE("start gives up at the deadline with the last answer") {
  Fixture f;
  f.http.answers = {NotReady()};
  auto begin = std::chrono::steady_clock::now();
  Status s = f.server.Start(f.Soon(600));
  CHECK(std::chrono::steady_clock::now() - begin < milliseconds(1000));
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK_THAT(s.reason(), Catch::Contains("did not become ready"));
  CHECK_THAT(s.reason(), Catch::Contains("HTTP 500"));
}

TEST_CASE("the image is handled per pull policy") {
  SECTION("never: a missing image is not installed") {
    Fixture f;
    f.config.pull = PullPolicy::kNever;
    f.engine.has_image = false;
    Status s = f.server.Start(f.Soon());
    CHECK(s.code() == ExitCode::kErrInstalled);
    CHECK_THAT(s.reason(), Catch::Contains("pull=never"));
    CHECK(f.engine.Count("run") == 0);
  }
  SECTION("missing: pulled once when absent") {
    Fixture f;
    f.engine.has_image = false;
    CHECK(f.server.Start(f.Soon()).ok());
    CHECK(f.engine.Count("pull") == 1);
  }
  SECTION("always: pulled even when present") {
    Fixture f;
    f.config.pull = PullPolicy::kAlways;
    CHECK(f.server.Start(f.Soon()).ok());
    CHECK(f.engine.Count("pull") == 1);
  }
}

TEST_CASE("the run arguments mount data_dir at /srv and keep env values off argv") {
  Fixture f;
  f.config.env = {"GF_SECURITY_ADMIN_PASSWORD=s3cret"};
  f.config.run_opts = {"--cpus", "2"};
  CHECK(f.server.Start(f.Soon()).ok());
  const auto& args = f.engine.last_run_args;
  auto has = [&](std::vector<std::string> seq) {
    return std::search(args.begin(), args.end(), seq.begin(), seq.end()) != args.end();
  };
  CHECK(has({"--volume", "/srv/pmm:/srv"}));
  CHECK(has({"--name", "pmm"}));
  CHECK(has({"--pull", "never"}));
  CHECK(has({"--label", "io.percona.pmm-ha.resource=pmm"}));
  CHECK(has({"--cpus", "2", "percona/pmm-server:3"}));
  CHECK(args.back() == "percona/pmm-server:3");
  for (const auto& a : args) CHECK_THAT(a, !Catch::Contains("s3cret"));
  CHECK_THAT(f.engine.env_file_seen, Catch::Contains("GF_SECURITY_ADMIN_PASSWORD=s3cret\n"));
  CHECK_THAT(f.engine.env_file_seen, Catch::Contains("PMM_ENABLE_UPDATES=0\n"));
}

TEST_CASE("selinux_relabel adds the volume's relabel option, nothing else does") {
  Fixture f;
  auto volume = [&] {
    auto args = f.server.RunArguments("/x");
    auto v = std::find(args.begin(), args.end(), "--volume");
    return v != args.end() && v + 1 != args.end() ? *(v + 1) : std::string();
  };
  CHECK(volume() == "/srv/pmm:/srv");
  f.config.volume_options = "z";
  CHECK(volume() == "/srv/pmm:/srv:z");
  f.config.volume_options = "Z";
  CHECK(volume() == "/srv/pmm:/srv:Z");
}

TEST_CASE("start fails at once, before creating anything, when a port PMM binds is in use") {
  Fixture f;
  f.config.host_network = true;
  f.host.port_holders = {{9090, "0.0.0.0", "cockpit-ws (pid 812)"}};
  Status s = f.server.Start(f.Soon());
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK(s.reason() ==
        "port 9090 (VictoriaMetrics) is in use by cockpit-ws (pid 812) on 0.0.0.0: PMM would "
        "never become ready on this node (network=host)");
  CHECK(f.engine.Count("run") == 0);
  CHECK(f.http.requests == 0);
  f.host.port_holders.clear();
  CHECK(f.server.Start(f.Soon()).ok());
  CHECK(f.engine.Count("run") == 1);
  // A running container is not checked again (its own ports would be in use).
  f.host.port_holders = {{9090, "127.0.0.1", "pmm (pid 100)"}};
  CHECK(f.server.Start(f.Soon()).ok());
}

TEST_CASE("network host or published ports") {
  Fixture f;
  f.config.host_network = true;
  f.config.publish = {"443:8443"};
  auto host = f.server.RunArguments("/x");
  CHECK(std::find(host.begin(), host.end(), "host") != host.end());
  CHECK(std::find(host.begin(), host.end(), "443:8443") == host.end());
  f.config.host_network = false;
  auto bridge = f.server.RunArguments("/x");
  CHECK(std::find(bridge.begin(), bridge.end(), "443:8443") != bridge.end());
}

TEST_CASE("updates are disabled by the name the PMM major version reads") {
  Fixture f;
  CHECK(f.server.EnvFileContent() == "PMM_ENABLE_UPDATES=0\n");
  f.config.pmm_major = 2;
  CHECK(f.server.EnvFileContent() == "DISABLE_UPDATES=true\n");
  f.config.env = {"DISABLE_UPDATES=false"};
  CHECK(f.server.EnvFileContent() == "DISABLE_UPDATES=false\n");
}

TEST_CASE("a user's PMM_ENABLE_UPDATES is kept") {
  Fixture f;
  f.config.env = {"PMM_ENABLE_UPDATES=1"};
  CHECK(f.server.EnvFileContent() == "PMM_ENABLE_UPDATES=1\n");
}

TEST_CASE("stop: graceful, then kill, then remove") {
  SECTION("a container that stops in its grace") {
    Fixture f;
    f.engine.SetRunning();
    CHECK(f.server.Stop(f.Soon(100000)).ok());
    CHECK(f.engine.Count("stop") == 1);
    CHECK(f.engine.Count("kill") == 0);
    CHECK(f.engine.Count("remove") == 1);
    // Most of the budget goes to the grace: 100 s less a 15 s reserve.
    CHECK(f.engine.last_grace.count() >= 84);
    CHECK(f.engine.last_grace.count() <= 85);
  }
  SECTION("a container ignoring SIGTERM is killed") {
    Fixture f;
    f.engine.SetRunning();
    f.engine.stop_ignored = true;
    CHECK(f.server.Stop(f.Soon()).ok());
    CHECK(f.engine.Count("kill") == 1);
    CHECK(f.engine.Count("remove") == 1);
  }
  SECTION("a container that survives the kill fails the stop") {
    Fixture f;
    f.engine.SetRunning();
    f.engine.stop_ignored = true;
    f.engine.kill_ignored = true;
    Status s = f.server.Stop(f.Soon());
    CHECK(s.code() == ExitCode::kErrGeneric);
    CHECK_THAT(s.reason(), Catch::Contains("still running after kill"));
  }
  SECTION("nothing to stop is success") {
    Fixture f;
    CHECK(f.server.Stop(f.Soon()).ok());
    CHECK(f.engine.Count("stop") == 0);
  }
  SECTION("an exited container is only removed") {
    Fixture f;
    f.engine.SetExited();
    CHECK(f.server.Stop(f.Soon()).ok());
    CHECK(f.engine.Count("stop") == 0);
    CHECK(f.engine.Count("remove") == 1);
  }
  SECTION("a failed removal of a stopped container is not a failed stop") {
    Fixture f;
    f.engine.SetRunning();
    f.engine.remove_fails = true;
    CHECK(f.server.Stop(f.Soon()).ok());
  }
  SECTION("a user's stop_grace caps the grace") {
    Fixture f;
    f.engine.SetRunning();
    f.config.stop_grace = seconds(30);
    CHECK(f.server.Stop(f.Soon(100000)).ok());
    CHECK(f.engine.last_grace == seconds(30));
  }
}

TEST_CASE("stop fails at once, before any signal, when PMM waits on storage that does not answer") {
  const Status no_answer = Status::Error("no answer within 20000 ms (hung filesystem?)");
  static const struct {
    const char* name;
    // Threads in D state, scan by scan: before the probe, after it, once
    // the container has stopped.
    std::vector<std::vector<int>> stuck;
    bool answers;
    int probes;
    bool fails;
  } cases[] = {
      {"no thread waits for I/O: no probe, an ordinary stop", {}, false, 0, false},
      {"threads wait, the filesystem answers: an ordinary stop", {{101, 102}, {}}, true, 1, false},
      {"no answer, and the same threads still wait: fencing's turn",
       {{101, 102}, {102}},
       false,
       1,
       true},
      {"no answer, but other threads wait now (I/O moves): an ordinary stop",
       {{101}, {103}, {}},
       false,
       1,
       false},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Fixture f;
    f.engine.SetRunning();
    f.host.stuck_threads = c.stuck;
    f.host.probe_answer = c.answers ? Status::Ok() : no_answer;
    Status s = f.server.Stop(f.Soon(100000));
    CHECK(f.host.probes == c.probes);
    if (c.fails) {
      CHECK(s.code() == ExitCode::kErrGeneric);
      CHECK_THAT(s.reason(), Catch::Contains("wait for I/O") && Catch::Contains("'/srv/pmm'") &&
                                 Catch::Contains("fenced"));
      // Nothing sent: a fenced node flushes nothing anyway, and nothing
      // else may look like a stop that worked.
      CHECK(f.engine.Count("stop") == 0);
      CHECK(f.engine.Count("kill") == 0);
      CHECK(f.engine.Count("remove") == 0);
    } else {
      CHECK(s.ok());
      CHECK(f.engine.Count("stop") == 1);
      CHECK(f.engine.Count("remove") == 1);
    }
  }
}

TEST_CASE("stop fails while a thread of PMM still waits for I/O after the kill") {
  // runc reports a container whose PID 1 is a zombie as stopped; a thread
  // stuck in D state lives on.
  Fixture f;
  f.engine.SetRunning();
  f.engine.stop_ignored = true;
  f.host.stuck_threads = {{}, {101}};
  Status s = f.server.Stop(f.Soon(100000));
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK_THAT(s.reason(), Catch::Contains("still wait for I/O"));
  CHECK(f.engine.Count("kill") == 1);
  CHECK(f.engine.Count("remove") == 0);
}

TEST_CASE("the stop grace leaves a reserve for kill and removal") {
  static const struct {
    long long budget_ms;
    std::optional<long long> requested;
    long long grace_s;
  } cases[] = {
      {295000, {}, 280},  // 300 s op timeout less 5 s margin, 15 s reserve
      {18000, {}, 14},    // 20 s op timeout: 3.6 s reserve
      {5000, {}, 3},      // at least 2 s reserve
      {1000, {}, 0},     {295000, 60, 60},
      {18000, 60, 14},  // a grace longer than the budget is cut
  };
  for (const auto& c : cases) {
    INFO(c.budget_ms);
    std::optional<seconds> req;
    if (c.requested) req = seconds(*c.requested);
    CHECK(StopGrace(milliseconds(c.budget_ms), req).count() == c.grace_s);
  }
}

TEST_CASE("monitor: state and readiness") {
  SECTION("no container: not running") {
    Fixture f;
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kNotRunning);
  }
  SECTION("an exited container: not running, with the exit code in the reason") {
    Fixture f;
    f.engine.SetExited();
    f.engine.info.exit_code = 137;
    Status s = f.server.Monitor(f.Soon(), false, 0);
    CHECK(s.code() == ExitCode::kNotRunning);
    CHECK_THAT(s.reason(), Catch::Contains("exit code 137"));
  }
  SECTION("running and ready") {
    Fixture f;
    f.engine.SetRunning();
    CHECK(f.server.Monitor(f.Soon(), false, 0).ok());
    CHECK(f.http.last.url == f.config.health_url);
  }
  SECTION("paused is an error") {
    Fixture f;
    f.engine.info.state = ContainerState::kPaused;
    f.engine.SetLabel(true);
    f.engine.info.state_text = "paused";
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kErrGeneric);
  }
}

TEST_CASE("monitor counts readiness failures: degraded, then failed, then reset") {
  Fixture f;
  f.engine.SetRunning();
  f.config.health_failures = 3;
  f.http.answers = {NotReady()};
  Status first = f.server.Monitor(f.Soon(), false, 0);
  CHECK(first.code() == ExitCode::kDegraded);
  CHECK_THAT(first.reason(), Catch::Contains("(1 of 3)"));
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kDegraded);
  Status third = f.server.Monitor(f.Soon(), false, 0);
  CHECK(third.code() == ExitCode::kErrGeneric);
  CHECK_THAT(third.reason(), Catch::Contains("not been ready for 3 monitors: HTTP 500"));
  f.http.answers = {HttpResponse{200, "{}"}};
  CHECK(f.server.Monitor(f.Soon(), false, 0).ok());
  f.http.answers = {NotReady()};
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kDegraded);
}

TEST_CASE("health_grace: a failure needs the monitors and the seconds, however often it runs") {
  Fixture f;
  f.engine.SetRunning();
  f.config.health_failures = 3;
  f.config.health_grace = std::chrono::seconds(20);
  auto clock = std::chrono::steady_clock::time_point(std::chrono::hours(100));
  f.config.now = [&] { return clock; };
  f.http.answers = {NotReady()};
  // A monitor every second: three monitors are not yet 20 s.
  for (int i = 1; i <= 20; ++i) {
    Status s = f.server.Monitor(f.Soon(), false, 0);
    INFO("monitor " << i);
    REQUIRE(s.code() == ExitCode::kDegraded);
    if (i == 4) CHECK_THAT(s.reason(), Catch::Contains("(4 of 3, 3 s of 20 s)"));
    clock += std::chrono::seconds(1);
  }
  Status failed = f.server.Monitor(f.Soon(), false, 0);
  CHECK(failed.code() == ExitCode::kErrGeneric);
  CHECK_THAT(failed.reason(), Catch::Contains("not been ready for 21 monitors (20 s): HTTP 500"));
  SECTION("ready once starts both over") {
    f.http.answers = {HttpResponse{200, "{}"}};
    CHECK(f.server.Monitor(f.Soon(), false, 0).ok());
    f.http.answers = {NotReady()};
    clock += std::chrono::seconds(60);
    Status s = f.server.Monitor(f.Soon(), false, 0);
    CHECK(s.code() == ExitCode::kDegraded);
    CHECK_THAT(s.reason(), Catch::Contains("(1 of 3, 0 s of 20 s)"));
  }
  SECTION("a long interval: the monitors are what is left to wait for") {
    f.http.answers = {HttpResponse{200, "{}"}};
    CHECK(f.server.Monitor(f.Soon(), false, 0).ok());
    f.http.answers = {NotReady()};
    for (int i = 1; i <= 2; ++i) {
      CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kDegraded);
      clock += std::chrono::seconds(30);
    }
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kErrGeneric);
  }
  SECTION("a counter without its time (an older agent's) starts the grace now") {
    REQUIRE(ReplaceFile(f.config.failure_counter_path, "5\n").ok());
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kDegraded);
    clock += std::chrono::seconds(20);
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kErrGeneric);
  }
}

TEST_CASE("a probe reports the truth and does not count failures") {
  Fixture f;
  f.engine.SetRunning();
  f.config.health_failures = 1;
  f.http.answers = {NotReady()};
  CHECK(f.server.Monitor(f.Soon(), true, 0).code() == ExitCode::kDegraded);
  CHECK(f.server.Monitor(f.Soon(), true, 0).code() == ExitCode::kDegraded);
}

TEST_CASE("an unreachable engine: nothing recorded, not running") {
  Fixture f;
  f.engine.reachable = false;
  CHECK(f.server.Monitor(f.Soon(), true, 0).code() == ExitCode::kNotRunning);
  Status s = f.server.Monitor(f.Soon(), false, 0);
  CHECK(s.code() == ExitCode::kNotRunning);
  CHECK_THAT(s.reason(), Catch::Contains("cannot connect"));
}

TEST_CASE("without process control an unreachable engine fails a monitor, as before") {
  Fixture f;
  PmmServer blind{f.config, f.engine, f.http, f.host, f.log, &f.promotion};
  f.engine.reachable = false;
  CHECK(blind.Monitor(f.Soon(), true, 0).code() == ExitCode::kNotRunning);
  CHECK(blind.Monitor(f.Soon(), false, 0).code() == ExitCode::kErrGeneric);
  CHECK(blind.Stop(f.Soon()).code() == ExitCode::kErrGeneric);
}

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  return {std::istreambuf_iterator<char>(f), {}};
}

}  // namespace

TEST_CASE("start records the container's process, stop forgets it") {
  Fixture f;
  REQUIRE(f.server.Start(f.Soon()).ok());
  auto identity = ParseIdentity(ReadFile(f.config.identity_path));
  REQUIRE(identity);
  CHECK(identity->pid == 100);
  CHECK(identity->start_time == f.processes.alive[100]);  // the process start spawned
  CHECK(identity->start_time == f.engine.starts);
  REQUIRE(f.server.Stop(f.Soon()).ok());
  CHECK(access(f.config.identity_path.c_str(), F_OK) != 0);
}

TEST_CASE("stop with the engine down decides from the recorded process") {
  SECTION("nothing recorded: nothing of ours can run") {
    Fixture f;
    f.engine.reachable = false;
    CHECK(f.server.Stop(f.Soon()).ok());
    CHECK(f.processes.calls.empty());
  }
  SECTION("the recorded process is gone") {
    Fixture f;
    REQUIRE(f.server.Start(f.Soon()).ok());
    f.engine.reachable = false;
    f.processes.alive.clear();
    CHECK(f.server.Stop(f.Soon()).ok());
    CHECK(f.processes.calls.empty());
  }
  SECTION("a pid reused by another process is not ours") {
    Fixture f;
    REQUIRE(f.server.Start(f.Soon()).ok());
    f.engine.reachable = false;
    f.processes.alive[100] = 7777;
    CHECK(f.server.Stop(f.Soon()).ok());
    CHECK(f.processes.calls.empty());
  }
  SECTION("the recorded process lives: signalled with the grace, stopped once gone") {
    Fixture f;
    f.config.stop_grace = seconds(7);
    REQUIRE(f.server.Start(f.Soon()).ok());
    f.engine.reachable = false;
    CHECK(f.server.Stop(f.Soon(60000)).ok());
    CHECK(f.processes.calls == std::vector<std::string>{"terminate 100"});
    CHECK(f.processes.last_grace == seconds(7));
    CHECK(access(f.config.identity_path.c_str(), F_OK) != 0);
  }
  SECTION("a process that survives fails the stop, with both reasons") {
    Fixture f;
    REQUIRE(f.server.Start(f.Soon()).ok());
    f.engine.reachable = false;
    f.processes.survives = true;
    Status s = f.server.Stop(f.Soon());
    CHECK(s.code() == ExitCode::kErrGeneric);
    CHECK_THAT(s.reason(), Catch::Contains("cannot connect to the engine") &&
                               Catch::Contains("still alive after SIGKILL"));
  }
  SECTION("the engine lost the container but its process lives") {
    Fixture f;
    REQUIRE(f.server.Start(f.Soon()).ok());
    f.engine.info = ContainerInfo{};
    Status probe = f.server.Monitor(f.Soon(), true, 0);
    CHECK(probe.code() == ExitCode::kErrGeneric);
    CHECK_THAT(probe.reason(), Catch::Contains("lists no container 'pmm', but its process 100"));
    CHECK(f.server.Stop(f.Soon()).ok());
    CHECK(f.processes.calls == std::vector<std::string>{"terminate 100"});
    CHECK(f.server.Monitor(f.Soon(), true, 0).code() == ExitCode::kNotRunning);
  }
}

TEST_CASE("podman after the container's conmon died: the process decides, not the stale state") {
  Fixture f;
  REQUIRE(f.server.Start(f.Soon()).ok());  // records process 100
  f.engine.conmon_dead = true;
  const auto conmon_start = f.processes.alive.at(200);
  f.processes.alive.erase(200);  // the conmon start recorded
  SECTION("PMM serves: degraded (190), naming the conmon; 0 while the conmon lives") {
    Status s = f.server.Monitor(f.Soon(), false, 0);
    CHECK(s.code() == ExitCode::kDegraded);
    CHECK_THAT(s.reason(), Catch::Contains("conmon 200 is gone"));
    f.processes.alive[200] = conmon_start;
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kSuccess);
  }
  SECTION("stop: the process ends, the container left 'stopping' is removed, stop succeeds") {
    CHECK(f.server.Stop(f.Soon()).ok());
    CHECK(f.processes.alive.count(100) == 0);
    CHECK(f.engine.Count("stop") == 1);
    CHECK(f.engine.Count("kill") == 0);  // podman refuses it
    CHECK(f.engine.Count("remove") == 1);
    CHECK(f.engine.info.state == ContainerState::kAbsent);
    CHECK(access(f.config.identity_path.c_str(), F_OK) != 0);
  }
  SECTION("stop: 'stopping' while the process lives is a failed stop") {
    f.engine.stop_ignored = true;
    Status s = f.server.Stop(f.Soon());
    CHECK(s.code() == ExitCode::kErrGeneric);
    CHECK_THAT(s.reason(), Catch::Contains("still stopping after kill"));
    CHECK(f.engine.Count("remove") == 0);
  }
  SECTION("PMM exited unseen: monitor and probe say not running, stop only removes") {
    f.processes.alive.erase(100);
    Status s = f.server.Monitor(f.Soon(), false, 0);
    CHECK(s.code() == ExitCode::kNotRunning);
    CHECK_THAT(s.reason(), Catch::Contains("is running for the fake, but its process 100 has "
                                           "exited (its conmon 200 is gone"));
    CHECK(f.server.Monitor(f.Soon(), true, 0).code() == ExitCode::kNotRunning);
    CHECK(f.server.Stop(f.Soon()).ok());
    CHECK(f.engine.Count("stop") == 0);
    CHECK(f.engine.Count("remove") == 1);
  }
  SECTION("a container that cannot be removed: stop succeeds, probes still say not running") {
    f.processes.alive.erase(100);
    f.engine.remove_fails = true;
    f.engine.storage_remove_fails = true;
    CHECK(f.server.Stop(f.Soon()).ok());
    CHECK(f.engine.Count("remove_storage") == 1);
    CHECK(f.server.Monitor(f.Soon(), true, 0).code() == ExitCode::kNotRunning);
    CHECK(f.server.Stop(f.Soon()).ok());
  }
  SECTION("without the start's record nothing is assumed: a process not known gone is running") {
    unlink(f.config.identity_path.c_str());
    f.processes.alive.erase(100);
    f.engine.stop_ignored = true;
    Status s = f.server.Stop(f.Soon());
    CHECK(s.code() == ExitCode::kErrGeneric);
    CHECK_THAT(s.reason(), Catch::Contains("still stopping after kill"));
  }
}

TEST_CASE("HA: not ready here nor on any peer that answers is a common cause: degraded") {
  Fixture f;
  f.MakeHa();
  f.config.health_failures = 1;
  REQUIRE(f.server.Start(f.Soon()).ok());
  f.http.answers = {NotReady()};
  const std::string peer1 = "http://10.0.0.11:8080/v1/server/readyz";
  const std::string peer3 = "http://10.0.0.13:8080/v1/server/readyz";
  SECTION("every peer answers not ready") {
    f.http.peers[peer1] = HttpResponse{503, "{}"};
    f.http.peers[peer3] = HttpResponse{503, "{}"};
    Status s = f.server.Monitor(f.Soon(), false, 0);
    CHECK(s.code() == ExitCode::kDegraded);
    CHECK_THAT(s.reason(), Catch::Contains("nor is any peer (10.0.0.11: HTTP 503, 10.0.0.13: "
                                           "HTTP 503): a common cause, not this node"));
    // This node is never asked as a peer.
    CHECK(f.http.peer_urls == std::vector<std::string>{peer1, peer3});
  }
  SECTION("peers recover first: this node gets health_failures monitors of its own again") {
    f.config.health_failures = 2;
    f.http.peers[peer1] = HttpResponse{503, "{}"};
    f.http.peers[peer3] = HttpResponse{503, "{}"};
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kDegraded);  // 1 of 2
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kDegraded);  // common
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kDegraded);  // 1 of 2
    f.http.peers[peer1] = HttpResponse{200, "{}"};
    // node1 is back while this one still is not: 1 of 2 again, not a failure.
    Status s = f.server.Monitor(f.Soon(), false, 0);
    CHECK(s.code() == ExitCode::kDegraded);
    CHECK_THAT(s.reason(), Catch::StartsWith("PMM Server is not ready (1 of 2) after an outage "
                                             "of every peer, now over elsewhere"));
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kErrGeneric);
  }
  SECTION("one peer answers, the other is down: still a common cause") {
    f.http.peers[peer3] = HttpResponse{503, "{}"};
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kDegraded);
  }
  SECTION("a peer is ready: this node's own trouble, a failure") {
    f.http.peers[peer1] = HttpResponse{503, "{}"};
    f.http.peers[peer3] = HttpResponse{200, "{}"};
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kErrGeneric);
  }
  SECTION("no peer answers (this node cut off?): a failure") {
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kErrGeneric);
  }
  SECTION("without HA peers are never asked") {
    Fixture plain;
    plain.config.health_failures = 1;
    REQUIRE(plain.server.Start(plain.Soon()).ok());
    plain.http.answers = {NotReady()};
    CHECK(plain.server.Monitor(plain.Soon(), false, 0).code() == ExitCode::kErrGeneric);
    CHECK(plain.http.peer_urls.empty());
  }
}

TEST_CASE("HA: PMM leading here and on a peer past the grace is PMM HA not working (6)") {
  Fixture f;
  f.MakeHa();
  const std::string leader1 = "http://10.0.0.11:8080/v1/server/leaderHealthCheck";
  const std::string mark = f.config.failure_counter_path + ".leaders";
  auto age_mark = [&](std::chrono::seconds age) {
    auto since = std::chrono::duration_cast<milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch() - age)
                     .count();
    REQUIRE(ReplaceFile(mark, "several " + std::to_string(since) + "\n").ok());
  };
  f.http.leader = {HttpResponse{200, "{}"}};  // PMM leads on this node
  f.http.peers[leader1] = HttpResponse{200, "{}"};
  SECTION("start waits for Raft within its budget; a claim not over the grace yet is a warning") {
    auto began = std::chrono::steady_clock::now();
    CHECK(f.server.Start(f.Soon(2000)).ok());
    CHECK(std::chrono::steady_clock::now() - began >= milliseconds(900));
    CHECK(access(mark.c_str(), F_OK) == 0);
  }
  SECTION("monitor: the first asks nobody, the next marks the time, one past the grace is 6") {
    REQUIRE(f.server.Start(f.Soon(200)).ok());
    unlink(mark.c_str());  // as if start had seen a follower here
    f.http.peer_urls.clear();
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kSuccess);
    CHECK(f.http.peer_urls.empty());
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kSuccess);
    CHECK(f.http.peer_urls.size() == 2);
    std::ifstream in(mark);
    std::string word;
    in >> word;
    CHECK(word == "several");
    age_mark(kSeveralLeadersGrace + std::chrono::seconds(1));
    Status s = f.server.Monitor(f.Soon(), false, 0);
    CHECK(s.code() == ExitCode::kErrConfigured);
    CHECK_THAT(s.reason(), Catch::StartsWith("PMM 3 HA is not working: PMM leads on this node "
                                             "and on 10.0.0.11 at once for 11 s; the image "
                                             "ignores PMM_HA_*"));
    CHECK(f.promotion.Last() == "clear");
  }
  SECTION("the other claim ends: all is well again") {
    REQUIRE(f.server.Start(f.Soon(200)).ok());
    age_mark(kSeveralLeadersGrace + std::chrono::seconds(1));
    f.http.peers[leader1] = HttpResponse{400, "{}"};
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kSuccess);
    CHECK(f.promotion.Last() == "leader");
    f.http.peers[leader1] = HttpResponse{200, "{}"};
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kSuccess);  // counts anew
  }
  SECTION("promote asks nobody (the unpromoted monitors do)") {
    REQUIRE(f.server.Start(f.Soon(200)).ok());
    age_mark(kSeveralLeadersGrace + std::chrono::seconds(1));
    f.http.peer_urls.clear();
    CHECK(f.server.Promote(f.Soon()).ok());
    CHECK(f.http.peer_urls.empty());
  }
  SECTION("the promoted instance does not ask: the others do") {
    REQUIRE(f.server.Start(f.Soon(200)).ok());
    f.http.peers.erase(leader1);
    REQUIRE(f.server.Promote(f.Soon()).ok());
    f.http.peers[leader1] = HttpResponse{200, "{}"};
    f.http.peer_urls.clear();
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kRunningPromoted);
    CHECK(f.http.peer_urls.empty());
  }
  SECTION("a follower here asks nobody") {
    f.http.leader = {HttpResponse{400, "{}"}};
    REQUIRE(f.server.Start(f.Soon()).ok());
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kSuccess);
    CHECK(f.http.peer_urls.empty());
  }
}

TEST_CASE("peer readiness URLs: health_url's scheme, port and path on the peer's address") {
  CHECK(PeerHealthUrl("http://127.0.0.1:8080/v1/server/readyz", "10.0.0.2") ==
        "http://10.0.0.2:8080/v1/server/readyz");
  CHECK(PeerHealthUrl("https://[::1]:8443/v1/server/readyz", "fd00::2") ==
        "https://[fd00::2]:8443/v1/server/readyz");
  CHECK(PeerHealthUrl("http://127.0.0.1/v1/readyz", "pmm2.example.com") ==
        "http://pmm2.example.com/v1/readyz");
}

TEST_CASE("monitor: the container start recorded, running with its conmon, asks no engine") {
  Fixture f;
  REQUIRE(f.server.Start(f.Soon()).ok());
  const int inspects = f.engine.Count("inspect");
  SECTION("running as recorded: 0, the engine not asked, PMM's readiness still asked") {
    const int probes = f.http.requests;
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kSuccess);
    CHECK(f.engine.Count("inspect") == inspects);
    CHECK(f.http.requests == probes + 1);
    f.http.answers = {NotReady()};
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kDegraded);
    CHECK(f.engine.Count("inspect") == inspects);
  }
  SECTION("promote and demote do not ask the engine either (they delay the VIP)") {
    f.config.promotable = true;
    f.config.promoted_path = f.config.failure_counter_path + ".promoted";
    CHECK(f.server.Promote(f.Soon()).ok());
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kRunningPromoted);
    CHECK(f.server.Demote(f.Soon()).ok());
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kSuccess);
    CHECK(f.engine.Count("inspect") == inspects);
    unlink(f.config.promoted_path.c_str());
  }
  SECTION("probes and depth 10 ask the engine") {
    CHECK(f.server.Monitor(f.Soon(), true, 0).code() == ExitCode::kSuccess);
    CHECK(f.server.Monitor(f.Soon(), false, 10).code() == ExitCode::kSuccess);
    CHECK(f.engine.Count("inspect") == inspects + 2);
  }
  SECTION("stopped or killed behind the agent's back: the process is gone, the engine says") {
    f.engine.SetExited();
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kNotRunning);
    CHECK(f.engine.Count("inspect") == inspects + 1);
  }
  SECTION("replaced behind the agent's back: another start time, the engine says") {
    f.processes.alive[100] = 1;
    f.engine.SetRunning(false);
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kNotRunning);
    CHECK(f.engine.Count("inspect") == inspects + 1);
  }
  SECTION("paused (frozen), or frozen unknown: the engine says") {
    f.engine.info.state = ContainerState::kPaused;
    f.engine.info.state_text = "paused";
    for (std::optional<bool> frozen : {std::optional<bool>(true), std::optional<bool>()}) {
      f.host.frozen = frozen;
      CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kErrGeneric);
    }
    CHECK(f.engine.Count("inspect") == inspects + 2);
  }
  SECTION("the conmon gone: the engine is asked (podman would not see PMM exit)") {
    f.processes.alive.erase(200);
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kDegraded);
    CHECK(f.engine.Count("inspect") == inspects + 1);
  }
  SECTION("a record of an older version (no conmon): the engine is asked") {
    std::ofstream(f.config.identity_path) << "c0ffee 100 " << f.processes.alive.at(100) << "\n";
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kSuccess);
    CHECK(f.engine.Count("inspect") == inspects + 1);
  }
}

TEST_CASE("monitor with the engine down: PMM's readiness decides while the process lives") {
  Fixture f;
  REQUIRE(f.server.Start(f.Soon()).ok());
  f.engine.reachable = false;
  f.config.health_failures = 2;
  SECTION("ready: running, degraded (a dead daemon must not fail a serving PMM over)") {
    const auto runs = f.engine.Count("run");  // start's
    for (bool probe : {true, false}) {
      Status s = f.server.Monitor(f.Soon(), probe, 10);
      CHECK(s.code() == ExitCode::kDegraded);
      CHECK_THAT(s.reason(), Catch::StartsWith("container 'pmm' runs (process 100) and PMM is "
                                               "ready, but the fake cannot be asked: cannot "
                                               "connect to the engine"));
    }
    CHECK(f.processes.calls.empty());
    CHECK(f.engine.Count("run") == runs);
  }
  SECTION("promoted and ready: degraded promoted (depth 10 asks the engine)") {
    f.MakeHa();
    f.engine.reachable = true;
    REQUIRE(f.server.Promote(f.Soon()).ok());
    f.engine.reachable = false;
    CHECK(f.server.Monitor(f.Soon(), false, 10).code() == ExitCode::kDegradedPromoted);
    // At depth 0 the start's record answers, without asking the engine.
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kRunningPromoted);
  }
  SECTION("not ready: counted as with the engine up, then failed") {
    f.http.answers = {NotReady()};
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kDegraded);
    Status s = f.server.Monitor(f.Soon(), false, 0);
    CHECK(s.code() == ExitCode::kErrGeneric);
    CHECK_THAT(s.reason(), Catch::Contains("not been ready for 2 monitors"));
  }
  SECTION("/srv no longer data_dir at depth 10: failed") {
    f.host.srv_is_data_dir = false;
    CHECK(f.server.Monitor(f.Soon(), false, 10).code() == ExitCode::kErrGeneric);
  }
  SECTION("the process gone: not running") {
    f.processes.alive.clear();
    CHECK(f.server.Monitor(f.Soon(), true, 0).code() == ExitCode::kNotRunning);
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kNotRunning);
  }
}

TEST_CASE("a container without our label is not adopted, removed, stopped or reported") {
  for (bool running : {true, false}) {
    INFO("running: " << running);
    Fixture f;
    if (running) {
      f.engine.SetRunning(false);
    } else {
      f.engine.SetExited(false);
    }
    Status s = f.server.Start(f.Soon());
    CHECK(s.code() == ExitCode::kErrGeneric);
    CHECK_THAT(s.reason(), Catch::Contains("container 'pmm' was not created by resource 'pmm' "
                                           "(label io.percona.pmm-ha.resource missing)"));
    CHECK(f.engine.Count("remove") == 0);
    CHECK(f.engine.Count("run") == 0);
    CHECK(f.http.requests == 0);  // not adopted: its readiness was not waited for
    CHECK(f.server.Stop(f.Soon()).ok());
    CHECK(f.engine.Count("stop") == 0);
    CHECK(f.engine.Count("kill") == 0);
    CHECK(f.engine.Count("remove") == 0);
    CHECK(f.server.Monitor(f.Soon(), true, 0).code() == ExitCode::kNotRunning);
    CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kNotRunning);
  }
  Fixture f;
  f.engine.SetRunning();
  f.engine.info.labels[kResourceLabel] = "other:2";
  CHECK_THAT(f.server.Start(f.Soon()).reason(),
             Catch::Contains("label io.percona.pmm-ha.resource = 'other:2'"));
  f.engine.info.labels[kResourceLabel] = "pmm:2";  // another instance number of ours
  CHECK(f.server.Start(f.Soon()).ok());
}

TEST_CASE("depth 10 checks that /srv is still data_dir") {
  Fixture f;
  f.engine.SetRunning();
  CHECK(f.server.Monitor(f.Soon(), false, 10).ok());
  f.host.srv_is_data_dir = false;
  CHECK(f.server.Monitor(f.Soon(), false, 0).ok());  // depth 0 does not look
  Status s = f.server.Monitor(f.Soon(), false, 10);
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK_THAT(s.reason(), Catch::Contains("/srv in container 'pmm' is no longer '/srv/pmm'"));
}

TEST_CASE("the readiness request follows the configuration") {
  Fixture f;
  f.config.tls_verify = true;
  f.config.health_timeout = milliseconds(2000);
  f.server.CheckReady(f.Soon());
  CHECK(f.http.last.tls_verify);
  CHECK(f.http.last.timeout == milliseconds(2000));
  CHECK(f.http.last.unix_socket.empty());
}

TEST_CASE("HA: the container gets PMM_HA_* and the shared key, the user's settings win") {
  Fixture f;
  f.MakeHa();
  f.config.env = {"PMM_HA_RAFT_PORT=19097"};
  std::string env = f.server.EnvFileContent();
  for (const char* line :
       {"PMM_HA_ENABLE=1\n", "PMM_HA_NODE_ID=node2\n", "PMM_HA_ADVERTISE_ADDRESS=10.0.0.12\n",
        "PMM_HA_PEERS=10.0.0.11,10.0.0.12,10.0.0.13\n", "PMM_HA_GOSSIP_PORT=9096\n",
        "PMM_HA_GRAFANA_GOSSIP_PORT=9094\n", "PMM_HA_BOOTSTRAP=0\n",
        "PMM_ENCRYPTION_KEY_PATH=/etc/pmm-ha/encryption.key\n", "PMM_HA_RAFT_PORT=19097\n"}) {
    CHECK_THAT(env, Catch::Contains(line));
  }
  CHECK_THAT(env, !Catch::Contains("PMM_HA_RAFT_PORT=9097"));
  auto args = f.server.RunArguments("/tmp/x.env");
  CHECK(std::find(args.begin(), args.end(), "/etc/pmm/ha.key:/etc/pmm-ha/encryption.key:ro") !=
        args.end());

  Fixture plain;
  CHECK_THAT(plain.server.EnvFileContent(), !Catch::Contains("PMM_HA"));
}

TEST_CASE("HA monitor: the role Pacemaker gave, the score from PMM's leader") {
  Fixture f;
  f.MakeHa();
  f.engine.SetRunning();
  static const struct {
    bool promoted;
    Result<HttpResponse> leader;
    ExitCode rc;
    const char* score;  // the promotion call made, "" for none
  } cases[] = {
      {false, HttpResponse{200, "{}"}, ExitCode::kSuccess, "leader"},
      {false, HttpResponse{400, "{}"}, ExitCode::kSuccess, "clear"},
      {true, HttpResponse{200, "{}"}, ExitCode::kRunningPromoted, "leader"},
      // Promoted, but PMM leads elsewhere or is electing: stay promoted, token score.
      {true, HttpResponse{400, "{}"}, ExitCode::kRunningPromoted, "set 1"},
      // No clear answer: the score is left alone, nothing flaps.
      {true, HttpResponse{503, "{}"}, ExitCode::kRunningPromoted, ""},
      {false, Status::Error("timed out after 5000 ms"), ExitCode::kSuccess, ""},
  };
  for (const auto& c : cases) {
    INFO("promoted " << c.promoted << ", leader check " << (c.leader ? c.leader->status : 0));
    if (c.promoted) {
      REQUIRE(f.server.Promote(f.Soon()).ok());
    } else {
      REQUIRE(f.server.Demote(f.Soon()).ok());
    }
    f.http.leader = {c.leader};
    f.promotion.calls.clear();
    for (bool probe : {false, true}) {
      CHECK(f.server.Monitor(f.Soon(), probe, 0).code() == c.rc);
      CHECK(f.promotion.Last() == c.score);
    }
  }
}

TEST_CASE("HA: a promoted leader settles at the leader score, which any new leader outranks") {
  Fixture f;
  f.MakeHa();
  f.engine.SetRunning();
  auto clock = std::chrono::steady_clock::time_point(std::chrono::hours(100));
  f.config.now = [&] { return clock; };
  f.http.leader = {HttpResponse{200, "{}"}};
  REQUIRE(f.server.Promote(f.Soon()).ok());
  f.promotion.calls.clear();
  // The monitors right after promote keep the new leader's score: changing
  // it would abort the transition that moves the VIP.
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kRunningPromoted);
  CHECK(f.promotion.Last() == "leader");
  clock += kSettleAfterPromote - std::chrono::milliseconds(1);
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kRunningPromoted);
  CHECK(f.promotion.Last() == "leader");
  clock += std::chrono::milliseconds(1);
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kRunningPromoted);
  CHECK(f.promotion.Last() == "set " + std::to_string(kLeaderScore));
  // A second promote keeps the first promotion's time: still settled.
  REQUIRE(f.server.Promote(f.Soon()).ok());
  CHECK(f.promotion.Last() == "set " + std::to_string(kLeaderScore));
  // Once it no longer leads: the former leader's token score, then none.
  f.http.leader = {HttpResponse{400, "{}"}};
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kRunningPromoted);
  CHECK(f.promotion.Last() == "set " + std::to_string(kFormerLeaderScore));
  REQUIRE(f.server.Demote(f.Soon()).ok());
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kSuccess);
  CHECK(f.promotion.Last() == "clear");
  // Promoted again later: a new leader's score until it settles again.
  f.http.leader = {HttpResponse{200, "{}"}};
  REQUIRE(f.server.Promote(f.Soon()).ok());
  CHECK(f.promotion.Last() == "leader");
  // The new leader's score range and the settled one: no stickiness below
  // their distance keeps the role on a settled former leader.
  CHECK(kNewLeaderScore - kLeaderScore > 10000);
}

TEST_CASE("HA demote leaves the score to the next monitor: the promote it makes way for waits") {
  Fixture f;
  f.MakeHa();
  f.engine.SetRunning();
  f.http.leader = {HttpResponse{200, "{}"}};
  REQUIRE(f.server.Promote(f.Soon()).ok());
  f.promotion.calls.clear();
  f.http.leader = {HttpResponse{400, "{}"}};  // PMM's leader is elsewhere now
  CHECK(f.server.Demote(f.Soon()).ok());
  CHECK(f.promotion.calls.empty());
  // The next monitor sees a follower, not promoted: no score.
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kSuccess);
  CHECK(f.promotion.Last() == "clear");
}

TEST_CASE("HA promote and demote record the role and never depend on leadership") {
  Fixture f;
  f.MakeHa();
  f.engine.SetRunning();
  f.http.leader = {HttpResponse{400, "{}"}};  // PMM's leader is elsewhere
  CHECK(f.server.Promote(f.Soon()).ok());
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kRunningPromoted);
  CHECK(f.server.Demote(f.Soon()).ok());
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kSuccess);

  f.engine.SetExited();
  CHECK(f.server.Promote(f.Soon()).code() == ExitCode::kNotRunning);
  CHECK(f.server.Demote(f.Soon()).code() == ExitCode::kNotRunning);
  f.engine.info = ContainerInfo{};
  CHECK(f.server.Monitor(f.Soon(), true, 0).code() == ExitCode::kNotRunning);
}

TEST_CASE("HA: a promoted PMM that is not ready is degraded-promoted, then failed-promoted") {
  Fixture f;
  f.MakeHa();
  f.config.health_failures = 2;
  f.engine.SetRunning();
  REQUIRE(f.server.Promote(f.Soon()).ok());
  f.http.answers = {NotReady()};
  f.promotion.calls.clear();
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kDegradedPromoted);
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kFailedPromoted);
  CHECK(f.promotion.calls.empty());  // a PMM that is not ready says nothing about leadership
}

TEST_CASE("HA start leaves the instance unpromoted and scores it, stop clears both") {
  Fixture f;
  f.MakeHa();
  f.engine.SetRunning();
  REQUIRE(f.server.Promote(f.Soon()).ok());
  f.http.leader = {HttpResponse{200, "{}"}};
  CHECK(f.server.Start(f.Soon()).ok());
  CHECK(f.promotion.Last() == "leader");
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kSuccess);
  REQUIRE(f.server.Promote(f.Soon()).ok());
  CHECK(f.server.Stop(f.Soon()).ok());
  CHECK(f.promotion.Last() == "clear");
  f.engine.SetRunning();
  CHECK(f.server.Monitor(f.Soon(), true, 0).code() == ExitCode::kSuccess);
}

// --- guards that keep a second PMM off the data set ----------------------

namespace {

// The value after `flag` in `args`, or "" when it is absent.
std::string ValueOf(const std::vector<std::string>& args, const std::string& flag) {
  auto it = std::find(args.begin(), args.end(), flag);
  return it != args.end() && it + 1 != args.end() ? *(it + 1) : "";
}

}  // namespace

TEST_CASE("the container is created with restart policy no and stop_grace as its stop timeout") {
  Fixture f;
  f.config.run_opts = {"--cpus", "2"};
  CHECK(f.server.Start(f.Soon()).ok());
  const auto& args = f.engine.last_run_args;
  CHECK(ValueOf(args, "--restart") == "no");
  CHECK(ValueOf(args, "--stop-timeout") == "285");  // StopGrace of the advised 300 s
  // Before run_opts, which may only repeat --restart no (CheckRunOptsForCreate).
  auto restart = std::find(args.begin(), args.end(), "--restart");
  auto cpus = std::find(args.begin(), args.end(), "--cpus");
  CHECK(restart < cpus);
  CHECK(args.back() == f.config.image);

  f.config.stop_grace = seconds(120);
  CHECK(ValueOf(f.server.RunArguments("/tmp/env"), "--stop-timeout") == "120");
  f.config.stop_grace = seconds(0);
  CHECK(ValueOf(f.server.RunArguments("/tmp/env"), "--stop-timeout") == "0");
  CHECK(ContainerStopTimeout(ServerConfig{}) == seconds(285));
}

TEST_CASE("the shutdown ordering drop-in: its exact path and content") {
  DropIn podman = ShutdownOrderDropIn("/", "pmm", EngineKind::kPodman, "0123abcd");
  CHECK(podman.path == "/run/systemd/system/resource-agents-deps.target.d/99-pmm-server-pmm.conf");
  CHECK(podman.content ==
        "# Written by ocf:percona:pmm-server (drop_in_dependency=true) for container pmm:\n"
        "# at shutdown Pacemaker stops PMM before the engine or systemd do.\n"
        "[Unit]\n"
        "After=podman.socket podman.service libpod-0123abcd.scope "
        "libpod-conmon-0123abcd.scope\n");
  DropIn docker = ShutdownOrderDropIn("/tmp/root/", "pmm-a", EngineKind::kDocker, "ff00");
  CHECK(docker.path ==
        "/tmp/root/run/systemd/system/resource-agents-deps.target.d/99-pmm-server-pmm-a.conf");
  CHECK(docker.content ==
        "# Written by ocf:percona:pmm-server (drop_in_dependency=true) for container pmm-a:\n"
        "# at shutdown Pacemaker stops PMM before the engine or systemd do.\n"
        "[Unit]\n"
        "After=docker.service containerd.service docker-ff00.scope\n");
}

TEST_CASE("start installs the drop-in only when asked, and a failure does not fail it") {
  for (bool asked : {false, true}) {
    Fixture f;
    f.config.drop_in_dependency = asked;
    f.config.systemd_root = "/tmp/root";
    f.engine.SetRunning();
    f.engine.info.id = "cafe";
    INFO("drop_in_dependency " << asked);
    CHECK(f.server.Start(f.Soon()).ok());
    REQUIRE(f.host.drop_ins.size() == (asked ? 1u : 0u));
    if (asked) {
      CHECK(f.host.drop_ins[0].path ==
            ShutdownOrderDropIn("/tmp/root", "pmm", EngineKind::kPodman, "cafe").path);
      CHECK_THAT(f.host.drop_ins[0].content, Catch::Contains("libpod-cafe.scope"));
    }
  }
  Fixture f;
  f.config.drop_in_dependency = true;
  f.engine.SetRunning();
  f.engine.info.id = "cafe";
  f.host.drop_in_result = Status::Error("cannot write it");
  CHECK(f.server.Start(f.Soon()).ok());
  // A failed start writes nothing.
  Fixture g;
  g.config.drop_in_dependency = true;
  g.host.mount_check = Status::Error("not a mount point");
  CHECK_FALSE(g.server.Start(g.Soon()).ok());
  CHECK(g.host.drop_ins.empty());
}

TEST_CASE("require_mount: which mounts at data_dir may hold PMM's data") {
  const std::string root_ext4 =
      "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
      "24 26 0:22 / /dev/shm rw,relatime - tmpfs tmpfs rw\n";
  static const struct {
    const char* what;
    std::string extra;    // mountinfo lines after the root's
    const char* refused;  // a part of the reason, or nullptr
  } cases[] = {
      {"ext4 of its own", "90 26 7:0 / /srv/pmm rw - ext4 /dev/loop0 rw\n", nullptr},
      {"xfs on a shared LV", "90 26 253:3 / /srv/pmm rw shared:5 - xfs /dev/mapper/vg-pmm rw\n",
       nullptr},
      {"nothing mounted", "90 26 7:0 / /srv/other rw - ext4 /dev/loop0 rw\n",
       "is not a mount point: refusing to start PMM"},
      {"a parent mounted, not data_dir", "90 26 7:0 / /srv rw - ext4 /dev/loop0 rw\n",
       "is not a mount point"},
      {"tmpfs", "90 26 0:50 / /srv/pmm rw - tmpfs tmpfs rw,size=1g\n", "is a tmpfs mount"},
      {"ramfs", "90 26 0:50 / /srv/pmm rw - ramfs none rw\n", "is a ramfs mount"},
      {"overlay", "90 26 0:51 / /srv/pmm rw - overlay overlay rw,lowerdir=/a\n",
       "is a overlay mount"},
      {"a bind mount of a directory of /", "90 26 254:0 /var/pmm /srv/pmm rw - ext4 /dev/vda rw\n",
       "is the root filesystem mounted again (ext4 '/dev/vda', directory '/var/pmm' of it"},
      {"tmpfs over the shared disk",
       "90 26 7:0 / /srv/pmm rw - ext4 /dev/loop0 rw\n"
       "91 90 0:52 / /srv/pmm rw - tmpfs tmpfs rw\n",
       "is a tmpfs mount"},
      {"the shared disk over a tmpfs",
       "91 26 0:52 / /srv/pmm rw - tmpfs tmpfs rw\n"
       "90 91 7:0 / /srv/pmm rw - ext4 /dev/loop0 rw\n",
       nullptr},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    Status s = CheckDataMount("/srv/pmm", root_ext4 + c.extra);
    if (c.refused == nullptr) {
      CHECK(s.ok());
    } else {
      CHECK(s.code() == ExitCode::kErrGeneric);
      CHECK_THAT(s.reason(), Catch::Contains(c.refused));
    }
  }
  // SLES: / and /srv are subvolumes of one btrfs; the mount table shows one
  // device for both (stat's st_dev differs per subvolume, so it cannot tell).
  const std::string sles =
      "68 1 0:39 /@/.snapshots/1/snapshot / rw - btrfs /dev/sda2 rw,subvolid=268\n"
      "69 68 0:39 /@/srv /srv rw - btrfs /dev/sda2 rw,subvolid=261\n"
      "70 69 0:39 /@/srv/pmm /srv/pmm rw - btrfs /dev/sda2 rw,subvolid=270\n";
  Status s = CheckDataMount("/srv/pmm", sles);
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK_THAT(s.reason(), Catch::Contains("is the root filesystem mounted again (btrfs "
                                         "'/dev/sda2', directory '/@/srv/pmm' of it; / is btrfs"));
  // Another btrfs is fine, and escaped blanks in paths are decoded.
  CHECK(CheckDataMount("/srv/pmm data", sles + "71 68 0:45 / /srv/pmm\\040data rw - btrfs "
                                               "/dev/sdb rw\n")
            .ok());
}

TEST_CASE("require_fs_uuid: start asks for the filesystem's UUID and refuses another") {
  Fixture f;
  CHECK(f.server.Start(f.Soon()).ok());
  CHECK(f.host.fs_uuid_asked.empty());  // not set: not asked

  Fixture g;
  g.config.require_fs_uuid = "0123ABCD-0000-4000-8000-00000000feed";
  g.host.fs_uuid_check = Status::Error("data_dir '/srv/pmm' is not on the filesystem with UUID");
  Status s = g.server.Start(g.Soon());
  CHECK(g.host.fs_uuid_asked == g.config.require_fs_uuid);
  CHECK_THAT(s.reason(), Catch::Contains("is not on the filesystem with UUID"));
  CHECK(g.engine.Count("run") == 0);
}

TEST_CASE("superblocks name their filesystem and UUID as blkid does") {
  const std::string uuid = "0123abcd-ef01-4234-8567-89abcdef0123";
  const unsigned char raw[16] = {0x01, 0x23, 0xab, 0xcd, 0xef, 0x01, 0x42, 0x34,
                                 0x85, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23};
  auto head_with = [&](std::size_t magic_at, std::string_view magic, std::size_t uuid_at) {
    std::string head(kSuperblockSpan, '\0');
    head.replace(magic_at, magic.size(), magic);
    head.replace(uuid_at, 16, reinterpret_cast<const char*>(raw), 16);
    return head;
  };
  auto ext4 =
      IdentifySuperblock(head_with(1024 + 0x38, std::string_view("\x53\xef", 2), 1024 + 0x68));
  REQUIRE(ext4);
  CHECK(ext4->type == "ext4");
  CHECK(ext4->uuid == uuid);
  auto xfs = IdentifySuperblock(head_with(0, "XFSB", 32));
  REQUIRE(xfs);
  CHECK(xfs->type == "xfs");
  CHECK(xfs->uuid == uuid);
  auto btrfs = IdentifySuperblock(head_with(65536 + 0x40, "_BHRfS_M", 65536 + 0x20));
  REQUIRE(btrfs);
  CHECK(btrfs->type == "btrfs");
  CHECK(btrfs->uuid == uuid);
  CHECK_FALSE(IdentifySuperblock(std::string(kSuperblockSpan, '\0')));
  CHECK_FALSE(IdentifySuperblock("XFS"));  // too short
  CHECK(NormalizeUuid("0123ABCDEF014234856789ABCDEF0123") == uuid);
  CHECK(NormalizeUuid("0123ABCD-EF01-4234-8567-89ABCDEF0123") == uuid);
}

// --- node attributes for crm_mon -A ---------------------------------------

TEST_CASE(
    "attributes: start publishes ready, the image's version and data_dir, and stop removes PMM's") {
  Fixture f;
  f.engine.image_labels[kVersionLabel] = "3.4.1";
  REQUIRE(f.server.Start(f.Soon()).ok());
  CHECK(f.attributes.Get(kAttrState) == "ready");
  CHECK(f.attributes.Get(kAttrVersion) == "3.4.1");
  CHECK(f.attributes.Get(kAttrData) == "writable");
  CHECK(f.attributes.Get(kAttrLeader) == "(none)");
  // Not a promotable clone: its monitors leave pmm-leader alone (no
  // attrd_updater for an attribute it never sets).
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kSuccess);
  CHECK(std::count(f.attributes.deleted.begin(), f.attributes.deleted.end(),
                   std::string(kAttrLeader)) == 0);
  REQUIRE(f.server.Stop(f.Soon()).ok());
  CHECK(f.attributes.Get(kAttrState) == "(none)");
  CHECK(f.attributes.Get(kAttrVersion) == "(none)");
  // The node's, not PMM's: pmm-ha-check compares it with stopped nodes too.
  CHECK(f.attributes.Get(kAttrData) == "writable");
}

TEST_CASE("attributes: a data_dir PMM cannot write is published with the failed start") {
  Fixture f;
  f.host.writable = Status::Error("'/srv/pmm' is not writable by uid 1000");
  CHECK(f.server.Start(f.Soon()).code() == ExitCode::kErrInstalled);
  CHECK(f.attributes.Get(kAttrData) == "not-writable");
  CHECK(f.attributes.Get(kAttrState) == "(none)");
}

TEST_CASE("attributes: monitor says ready or degraded, and depth 10 the version") {
  Fixture f;
  f.engine.image_labels[kVersionLabel] = "3.4.1";
  REQUIRE(f.server.Start(f.Soon()).ok());
  f.attributes.values.clear();
  f.http.answers = {NotReady()};
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kDegraded);
  CHECK(f.attributes.Get(kAttrState) == "degraded");
  f.http.answers = {HttpResponse{200, "{}"}};
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kSuccess);
  CHECK(f.attributes.Get(kAttrState) == "ready");
  // Depth 0 asks no engine, so it knows no labels; depth 10 asks.
  CHECK(f.attributes.Get(kAttrVersion) == "(none)");
  CHECK(f.server.Monitor(f.Soon(), false, 10).code() == ExitCode::kSuccess);
  CHECK(f.attributes.Get(kAttrVersion) == "3.4.1");
}

TEST_CASE("attributes: pmm-leader follows the promoted role, pmm-ha-key fingerprints the key") {
  Fixture f;
  f.MakeHa();
  char tmpl[] = "/tmp/pmmha-key-XXXXXX";
  int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, "abc", 3) == 3);
  close(fd);
  f.config.ha->key_file = tmpl;
  f.http.leader = {HttpResponse{400, "{}"}};
  auto clock = std::chrono::steady_clock::time_point(std::chrono::hours(100));
  f.config.now = [&] { return clock; };
  REQUIRE(f.server.Start(f.Soon()).ok());
  unlink(tmpl);
  // sha256("abc") (FIPS 180-4's example) begins so: the prefix, never the
  // whole digest or the key.
  CHECK(f.attributes.Get(kAttrHaKey) == "ba7816bf8f01cfea");
  CHECK(f.attributes.Get(kAttrLeader) == "(none)");
  REQUIRE(f.server.Promote(f.Soon()).ok());
  // Not in promote, on the VIP's way, nor in the monitors of the seconds
  // after it (a node attribute aborts the transition the VIP's start is in):
  // the promoted monitor sets it once settled.
  CHECK(f.attributes.Get(kAttrLeader) == "(none)");
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kRunningPromoted);
  CHECK(f.attributes.Get(kAttrLeader) == "(none)");
  clock += kSettleAfterPromote;
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kRunningPromoted);
  CHECK(f.attributes.Get(kAttrLeader) == "yes");
  f.attributes.values.erase(std::string(kAttrLeader));  // attrd restarted
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kRunningPromoted);
  CHECK(f.attributes.Get(kAttrLeader) == "yes");
  REQUIRE(f.server.Demote(f.Soon()).ok());
  // Nor in demote, which the new leader's promote waits for: the unpromoted
  // monitor that follows deletes it.
  CHECK(f.attributes.Get(kAttrLeader) == "yes");
  CHECK(f.server.Monitor(f.Soon(), false, 0).code() == ExitCode::kSuccess);
  CHECK(f.attributes.Get(kAttrLeader) == "(none)");
  REQUIRE(f.server.Promote(f.Soon()).ok());
  REQUIRE(f.server.Stop(f.Soon()).ok());
  CHECK(f.attributes.Get(kAttrLeader) == "(none)");
}

TEST_CASE("the host's SHA-256 of a file, and of one it cannot read") {
  char tmpl[] = "/tmp/pmmha-digest-XXXXXX";
  int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, "abc", 3) == 3);
  close(fd);
  auto host = MakeServerHost();
  auto digest = host->Sha256Of(tmpl, Deadline::After(std::chrono::seconds(10)));
  REQUIRE(digest.ok());
  CHECK(*digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  unlink(tmpl);
  auto missing = host->Sha256Of(tmpl, Deadline::After(std::chrono::seconds(10)));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().reason().find(tmpl) != std::string::npos);
}
