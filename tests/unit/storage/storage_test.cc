// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/storage/storage.h"

#include <signal.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <map>
#include <thread>

#include <catch2/catch.hpp>

using namespace pmmha;
using std::chrono::milliseconds;

namespace {

const dev_t kLoop3 = makedev(7, 3);
const dev_t kLoop4 = makedev(7, 4);
const dev_t kRootDev = makedev(254, 1);
const dev_t kAnon = makedev(0, 60);
const char* const kState = "/run/resource-agents/pmm-storage-srv.mount";

MountEntry Entry(int id, dev_t devno, std::string source, std::string target,
                 std::string fstype = "ext4", std::string opts = "rw,relatime",
                 std::string root = "/") {
  return MountEntry{.id = id,
                    .parent_id = 1,
                    .devno = devno,
                    .source = std::move(source),
                    .target = std::move(target),
                    .root = std::move(root),
                    .fstype = std::move(fstype),
                    .vfs_options = std::move(opts)};
}

// The OS as a small in-memory world: a mount table, device nodes, paths,
// processes using mounts. Records what the agent asked for.
class FakeSystem final : public StorageSystem {
 public:
  // The kernel's unique mount IDs (statmount): none by default, as before 6.8.
  std::map<std::uint64_t, MountLookup> kernel_mounts;
  std::optional<std::uint64_t> unique_at_dir;
  int table_reads = 0;
  MountLookup LookUpMount(std::uint64_t id) override {
    auto it = kernel_mounts.find(id);
    if (it != kernel_mounts.end()) return it->second;
    MountLookup none;
    none.state =
        kernel_mounts.empty() ? MountLookup::State::kUnsupported : MountLookup::State::kGone;
    return none;
  }
  std::optional<std::uint64_t> UniqueMountIdAt(const std::string&, const Deadline&) override {
    return unique_at_dir;
  }
  std::vector<MountEntry> mounts = {Entry(20, kRootDev, "/dev/vda1", "/", "ext4", "rw")};
  std::map<std::string, PathInfo> paths = {
      {"/dev/loop3", {.exists = true, .is_block = true, .rdev = kLoop3}},
      {"/dev/loop4", {.exists = true, .is_block = true, .rdev = kLoop4}},
      {"/srv", {.exists = true, .is_dir = true}},
      {"/data/pmm", {.exists = true, .is_dir = true}},
  };
  std::map<std::string, std::string> tags = {{"UUID=1234", "/dev/loop3"}};
  std::map<std::string, std::string> real_paths;
  std::map<std::string, std::string> fs_types = {{"/dev/loop3", "ext4"}, {"/dev/loop4", "xfs"}};
  std::map<std::string, std::string> uuids = {{"/dev/loop3", "1234"}, {"/dev/loop4", "5678"}};
  bool blkid_hangs = false;
  int blkid_calls = 0;
  bool mmp = false;
  // State and abandoned children.
  std::map<std::string, std::string> state;
  std::vector<ProcessIdentity> alive;
  std::optional<ProcessIdentity> abandon;  // Mount times out, leaving this child
  bool child_ends = true;                  // WaitProcessGone: the child ends (and mounts)
  std::vector<MountEntry> late_mounts;     // what the abandoned child attaches
  int waits = 0;
  std::vector<std::string> kernel_fs = {"ext4", "xfs", "ext2"};
  std::vector<std::string> programs = {"fsck.ext4", "fsck.ext2", "fsck.xfs"};
  int fsck_exit = 0;
  bool user_pmm_exists = true;
  Status readable, writable;
  // Stop side.
  std::map<std::string, std::vector<ProcUser>> users_of;  // mount point -> users
  std::vector<ProcUser> holders;  // users of the filesystem in other mount namespaces
  bool holders_die = true;
  std::vector<NamespaceMounts> namespaces;  // other namespaces that have it mounted
  bool namespaces_readable = true;
  Status ns_unmount_result;
  std::vector<std::string> ns_unmounted;  // "ns target"
  std::vector<MountUserQuery> queries;
  bool busy_forever = false;
  // Records.
  std::vector<std::vector<std::string>> ran;
  std::vector<MountRequest> mounted;
  std::vector<std::string> unmounted;  // "target" or "target (lazy)"
  std::vector<std::string> made_dirs;
  std::vector<std::pair<std::string, std::string>> owned;  // dir, "uid:gid"
  std::vector<std::string> checks;
  std::vector<std::pair<pid_t, int>> signals;

  Result<MountTable> ReadMounts() override {
    ++table_reads;
    return MountTable(mounts);
  }
  PathInfo Stat(const std::string& path) override {
    auto it = paths.find(path);
    return it == paths.end() ? PathInfo{} : it->second;
  }
  Result<std::string> RealPath(const std::string& path) override {
    auto it = real_paths.find(path);
    return it == real_paths.end() ? path : it->second;
  }
  Result<std::string> FindDeviceByTag(const std::string& tag, const std::string& value,
                                      const Deadline&) override {
    ++blkid_calls;
    if (blkid_hangs) return Status::Error("finding the device: no answer within 500 ms");
    auto it = tags.find(tag + "=" + value);
    if (it == tags.end()) return Status::NotInstalled("no device with " + tag);
    return it->second;
  }
  Result<FsProbe> ProbeFilesystem(const std::string& device, const Deadline&) override {
    ++blkid_calls;
    if (blkid_hangs) return Status::Error("probing: no answer within 500 ms");
    std::string real = *RealPath(device);
    auto it = fs_types.find(real);
    if (it == fs_types.end()) return Status::Error("no filesystem found");
    auto u = uuids.find(real);
    return FsProbe{.type = it->second, .uuid = u == uuids.end() ? "" : u->second};
  }
  Result<bool> HasMmp(const std::string&, const Deadline&) override { return mmp; }
  std::optional<std::string> ReadState(const std::string& path) override {
    auto it = state.find(path);
    if (it == state.end()) return std::nullopt;
    return it->second;
  }
  Status WriteState(const std::string& path, const std::string& text) override {
    state[path] = text;
    return Status::Ok();
  }
  void RemoveState(const std::string& path) override { state.erase(path); }
  bool ProcessAlive(const ProcessIdentity& id) override {
    return std::find(alive.begin(), alive.end(), id) != alive.end();
  }
  bool WaitProcessGone(const ProcessIdentity& id, const Deadline&) override {
    ++waits;
    if (!child_ends) return !ProcessAlive(id);
    alive.erase(std::remove(alive.begin(), alive.end(), id), alive.end());
    // The abandoned mount(2) completes as its child ends.
    for (auto& m : late_mounts) mounts.push_back(m);
    late_mounts.clear();
    return true;
  }
  bool FsTypeSupported(const std::string& fs) override {
    return std::find(kernel_fs.begin(), kernel_fs.end(), fs) != kernel_fs.end();
  }
  std::optional<std::string> FindProgram(const std::string& name) override {
    if (std::find(programs.begin(), programs.end(), name) == programs.end()) return std::nullopt;
    return "/sbin/" + name;
  }
  Result<ProcessResult> Run(const std::vector<std::string>& argv, const Deadline&) override {
    ran.push_back(argv);
    ProcessResult r;
    r.exited = true;
    r.exit_code = fsck_exit;
    r.out = fsck_exit >= 4 ? "" : "/dev/loop3: clean, 11/8192 files\n";
    r.err = fsck_exit >= 4 ? "/dev/loop3: UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY.\n" : "";
    return r;
  }
  Status MakeDirectory(const std::string& dir) override {
    made_dirs.push_back(dir);
    paths[dir] = {.exists = true, .is_dir = true};
    return Status::Ok();
  }
  Result<OwnerSpec> ResolveOwner(const OwnerSpec& owner) override {
    OwnerSpec out = owner;
    if (!owner.user_name.empty()) {
      if (!user_pmm_exists) return Status::NotInstalled("user 'pmm' does not exist");
      out.uid = 1000;
    }
    if (!owner.group_name.empty()) out.gid = 1000;
    return out;
  }
  MountOutcome Mount(const MountRequest& request, const Deadline&) override {
    mounted.push_back(request);
    if (abandon) {
      alive.push_back(*abandon);
      return {Status::Error("mount of '/dev/loop3' at '/srv': no answer within 500 ms"), abandon};
    }
    MountEntry e;
    if (request.bind) {
      MountTable table(mounts);
      const MountEntry* holder = table.Containing(request.source);
      e = Entry(100 + static_cast<int>(mounted.size()), holder->devno, holder->source,
                request.target, holder->fstype, "rw", RootWithin(*holder, request.source));
    } else {
      // The kernel shows the path libmount gave it, symbolic links resolved;
      // btrfs an anonymous device number.
      std::string source = *RealPath(request.source);
      dev_t devno = fs_types[source] == "btrfs" ? kAnon : paths.at(request.source).rdev;
      e = Entry(100 + static_cast<int>(mounted.size()), devno, source, request.target,
                request.fstype);
    }
    mounts.push_back(e);
    return {Status::Ok(), std::nullopt};
  }
  UnmountResult Unmount(const std::string& target, bool lazy, const Deadline&) override {
    auto it = std::find_if(mounts.rbegin(), mounts.rend(),
                           [&](const MountEntry& e) { return e.target == target; });
    if (it == mounts.rend()) return {UnmountResult::Kind::kNotMounted, {}};
    if (!lazy && (busy_forever || !users_of[target].empty()))
      return {UnmountResult::Kind::kBusy, {}};
    unmounted.push_back(lazy ? target + " (lazy)" : target);
    mounts.erase(std::next(it).base());
    return {UnmountResult::Kind::kUnmounted, {}};
  }
  Status ApplyOwner(const std::string& dir, const OwnerSpec& owner, const Deadline&) override {
    owned.emplace_back(
        dir, std::to_string(owner.uid.value_or(-1)) + ":" + std::to_string(owner.gid.value_or(-1)));
    return Status::Ok();
  }
  Status CheckReadable(const std::string& dir, const ResolvedDevice& dev,
                       const Deadline&) override {
    checks.push_back("read " + dir + " " + dev.path);
    return readable;
  }
  SpaceUsage usage{1000, 370};
  Status space_error;
  int space_checks = 0;
  Result<SpaceUsage> FreeSpace(const std::string& dir, const Deadline&) override {
    CHECK(dir == "/srv");
    ++space_checks;
    if (!space_error.ok()) return space_error;
    return usage;
  }
  Status CheckWritable(const std::string& dir, const std::string& name, bool direct,
                       const Deadline&) override {
    checks.push_back("write " + dir + "/" + name + (direct ? " direct" : ""));
    return writable;
  }
  UserSearch FindUsers(const MountUserQuery& q, const Deadline&) override {
    queries.push_back(q);
    UserSearch out;
    for (const auto& p : q.paths) {
      for (const auto& u : users_of[p]) out.users.push_back(u);
    }
    // Users in other mount namespaces are found by the filesystem.
    if (q.filesystem.devno != 0) {
      out.users.insert(out.users.end(), holders.begin(), holders.end());
    }
    return out;
  }
  Result<std::vector<NamespaceMounts>> FindNamespaceMounts(const FilesystemRef& fs,
                                                           const Deadline&) override {
    if (!namespaces_readable) return Status::Error("search for other mount namespaces: timeout");
    if (fs.devno == 0) return std::vector<NamespaceMounts>{};
    return namespaces;
  }
  Status UnmountInNamespace(const NamespaceMounts& space, const Deadline&) override {
    for (const auto& m : space.mounts) ns_unmounted.push_back(space.ns + " " + m.target);
    if (!ns_unmount_result.ok()) return ns_unmount_result;
    namespaces.erase(std::remove_if(namespaces.begin(), namespaces.end(),
                                    [&](const NamespaceMounts& n) { return n.ns == space.ns; }),
                     namespaces.end());
    return Status::Ok();
  }
  void Signal(pid_t pid, int sig) override {
    signals.emplace_back(pid, sig);
    for (auto& [target, users] : users_of) {
      users.erase(std::remove_if(users.begin(), users.end(),
                                 [pid](const ProcUser& u) { return u.pid == pid; }),
                  users.end());
    }
    if (holders_die) {
      holders.erase(std::remove_if(holders.begin(), holders.end(),
                                   [pid](const ProcUser& u) { return u.pid == pid; }),
                    holders.end());
    }
  }
  bool WaitExit(const std::vector<pid_t>&, const Deadline&) override { return true; }
  void Pause(const Deadline& until) override { std::this_thread::sleep_until(until.at()); }

  void MountOurs() { mounts.push_back(Entry(40, kLoop3, "/dev/loop3", "/srv")); }
};

StorageConfig Config(std::string device = "/dev/loop3") {
  StorageConfig c;
  c.device = *ParseDeviceSpec(device);
  c.directory = "/srv";
  c.status_name = ".pmm-storage-rsc-node1";
  c.state_path = kState;
  return c;
}

Deadline Soon() { return Deadline::After(milliseconds(500)); }

struct Fixture {
  FakeSystem sys;
  Logger log;
  Status Start(StorageConfig c = Config()) { return Storage(std::move(c), sys, log).Start(Soon()); }
  Status Stop(StorageConfig c = Config()) { return Storage(std::move(c), sys, log).Stop(Soon()); }
  Status Monitor(int depth, bool probe, StorageConfig c = Config()) {
    return Storage(std::move(c), sys, log).Monitor(depth, probe, Soon());
  }
  Status Validate(std::string_view action, bool probe, StorageConfig c = Config()) {
    return Storage(std::move(c), sys, log).Validate(action, probe, Soon());
  }
};

}  // namespace

TEST_CASE("monitor decisions") {
  enum Setup { kNothing, kOurs, kOursRo, kOther, kOursNoDevice, kOtherNoDevice };
  static const struct {
    const char* name;
    Setup setup;
    int depth;
    bool probe;
    ExitCode code;
    const char* reason;  // substring, "" for none
    int checks;          // CheckReadable/CheckWritable calls
  } cases[] = {
      {"nothing mounted", kNothing, 0, false, ExitCode::kNotRunning, "", 0},
      {"nothing mounted, probe", kNothing, 20, true, ExitCode::kNotRunning, "", 0},
      {"ours, depth 0", kOurs, 0, false, ExitCode::kSuccess, "", 0},
      {"ours, depth 10", kOurs, 10, false, ExitCode::kSuccess, "", 1},
      {"ours, depth 15 rounds down to 10", kOurs, 15, false, ExitCode::kSuccess, "", 1},
      {"ours, depth 20", kOurs, 20, false, ExitCode::kSuccess, "", 2},
      {"ours, remounted read-only", kOursRo, 0, false, ExitCode::kErrGeneric, "read-only", 0},
      {"wrong device at the mount point", kOther, 0, false, ExitCode::kErrGeneric,
       "'/srv' has '/dev/loop4' (xfs) mounted, not '/dev/loop3'", 0},
      {"wrong device at the mount point, probe", kOther, 0, true, ExitCode::kNotRunning, "", 0},
      {"device gone while mounted", kOursNoDevice, 0, false, ExitCode::kErrGeneric,
       "does not exist on this node", 0},
      // Our filesystem is mounted: a probe that said 7 would let it be
      // mounted on a second node.
      {"device gone, probe", kOursNoDevice, 0, true, ExitCode::kErrGeneric,
       "does not exist on this node", 0},
      {"device gone, other mount", kOtherNoDevice, 0, false, ExitCode::kErrGeneric, "loop4", 0},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Fixture f;
    switch (c.setup) {
      case kNothing: break;
      case kOurs: f.sys.MountOurs(); break;
      case kOursRo:
        f.sys.mounts.push_back(Entry(40, kLoop3, "/dev/loop3", "/srv", "ext4", "ro"));
        break;
      case kOther: f.sys.mounts.push_back(Entry(40, kLoop4, "/dev/loop4", "/srv", "xfs")); break;
      case kOursNoDevice:
        f.sys.MountOurs();
        f.sys.paths.erase("/dev/loop3");
        break;
      case kOtherNoDevice:
        f.sys.mounts.push_back(Entry(40, kLoop4, "/dev/loop4", "/srv", "xfs"));
        f.sys.paths.erase("/dev/loop3");
        break;
    }
    Status s = f.Monitor(c.depth, c.probe);
    CHECK(s.code() == c.code);
    CHECK_THAT(s.reason(), Catch::Contains(c.reason));
    CHECK(f.sys.checks.size() == static_cast<std::size_t>(c.checks));
  }
}

TEST_CASE("monitor: depth 10/20 failures are the monitor's failure") {
  Fixture f;
  f.sys.MountOurs();
  f.sys.readable = Status::Error("read check of '/srv' got no answer");
  CHECK(f.Monitor(20, false).reason() == "read check of '/srv' got no answer");
  CHECK(f.sys.checks.size() == 1);  // no write after a failed read

  Fixture w;
  w.sys.MountOurs();
  w.sys.writable = Status::Error("the filesystem is read-only");
  CHECK(w.Monitor(20, false).code() == ExitCode::kErrGeneric);
  REQUIRE(w.sys.checks.size() == 2);
  CHECK(w.sys.checks[0] == "read /srv /dev/loop3");
  CHECK(w.sys.checks[1] == "write /srv/.pmm-storage-rsc-node1 direct");
}

TEST_CASE("monitor: configured read-only mounts are not written") {
  Fixture f;
  f.sys.mounts.push_back(Entry(40, kLoop3, "/dev/loop3", "/srv", "ext4", "ro"));
  StorageConfig c = Config();
  c.options = *ParseMountOptions("ro");
  CHECK(f.Monitor(20, false, c).ok());
  CHECK(f.sys.checks.size() == 1);
}

TEST_CASE("monitor: bind mounts are recognized by source filesystem and root") {
  Fixture f;
  f.sys.mounts.push_back(Entry(30, kLoop4, "/dev/loop4", "/data", "xfs"));
  f.sys.mounts.push_back(Entry(40, kLoop4, "/dev/loop4", "/srv", "xfs", "rw", "/pmm"));
  CHECK(f.Monitor(0, false, Config("/data/pmm")).ok());
  CHECK(f.Monitor(0, false, Config("/data/other")).code() == ExitCode::kErrGeneric);
  CHECK(f.Monitor(10, false, Config("/data/pmm")).ok());
  CHECK(f.sys.checks.back() == "read /srv /data/pmm");
}

TEST_CASE("monitor: UUID= resolves through libblkid's answer") {
  Fixture f;
  f.sys.MountOurs();
  CHECK(f.Monitor(0, false, Config("UUID=1234")).ok());
  CHECK(f.Monitor(0, true, Config("UUID=9999")).code() == ExitCode::kNotRunning);
}

TEST_CASE("validate per action") {
  static const struct {
    const char* name;
    const char* action;
    bool probe;
    const char* device;
    const char* fstype;
    const char* options;
    FsckPolicy fsck;
    bool owner_by_name;
    ExitCode code;
    const char* reason;
  } cases[] = {
      {"good start", "start", false, "/dev/loop3", "ext4", "", FsckPolicy::kAuto, false,
       ExitCode::kSuccess, ""},
      {"probe, missing device: monitor decides", "monitor", true, "/dev/loop9", "ext4", "",
       FsckPolicy::kAuto, false, ExitCode::kSuccess, ""},
      {"probe, unknown UUID: monitor decides", "monitor", true, "UUID=9999", "ext4", "",
       FsckPolicy::kAuto, false, ExitCode::kSuccess, ""},
      {"monitor, missing device: monitor decides", "monitor", false, "/dev/loop9", "ext4", "",
       FsckPolicy::kAuto, false, ExitCode::kSuccess, ""},
      {"stop, missing device", "stop", false, "/dev/loop9", "ext4", "", FsckPolicy::kAuto, false,
       ExitCode::kSuccess, ""},
      {"validate-all, missing device", "validate-all", false, "/dev/loop9", "ext4", "",
       FsckPolicy::kAuto, false, ExitCode::kErrInstalled,
       "'/dev/loop9' does not exist on this node"},
      {"start, missing device: start decides (ours may be mounted)", "start", false, "/dev/loop9",
       "ext4", "", FsckPolicy::kAuto, false, ExitCode::kSuccess, ""},
      {"not a block device", "validate-all", false, "/dev/null0", "ext4", "", FsckPolicy::kAuto,
       false, ExitCode::kErrConfigured, "not a block device"},
      {"unknown fstype", "validate-all", false, "/dev/loop3", "nosuchfs", "", FsckPolicy::kAuto,
       false, ExitCode::kErrInstalled, "'nosuchfs' is not supported by this kernel"},
      {"fsck missing", "start", false, "/dev/loop3", "ext4", "", FsckPolicy::kForce, false,
       ExitCode::kErrInstalled, "'fsck.ext4'"},
      {"bind option on a block device", "start", false, "/dev/loop3", "ext4", "bind",
       FsckPolicy::kAuto, false, ExitCode::kErrConfigured, "bind mount"},
      {"fstype none on a block device", "start", false, "/dev/loop3", "none", "", FsckPolicy::kAuto,
       false, ExitCode::kErrConfigured, "'none'"},
      {"bind source missing", "start", false, "/data/none", "auto", "", FsckPolicy::kAuto, false,
       ExitCode::kErrInstalled, "'/data/none'"},
      {"bind source inside the mount point", "start", false, "/srv/x", "auto", "",
       FsckPolicy::kAuto, false, ExitCode::kErrConfigured, "overlap"},
      {"unknown owner name", "start", false, "/dev/loop3", "ext4", "", FsckPolicy::kAuto, true,
       ExitCode::kErrInstalled, "user 'pmm'"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Fixture f;
    f.sys.paths["/dev/null0"] = {.exists = true};
    f.sys.programs = {"fsck.ext2"};
    f.sys.user_pmm_exists = false;
    StorageConfig config = Config(c.device);
    config.fstype = c.fstype;
    config.options = *ParseMountOptions(c.options);
    config.run_fsck = c.fsck;
    if (c.owner_by_name) config.owner = *ParseOwner("pmm:pmm");
    Status s = f.Validate(c.action, c.probe, config);
    CHECK(s.code() == c.code);
    CHECK_THAT(s.reason(), Catch::Contains(c.reason));
  }
}

TEST_CASE("fsck policy per filesystem type") {
  static const struct {
    FsckPolicy policy;
    const char* fstype;
    bool runs;
  } cases[] = {
      {FsckPolicy::kAuto, "ext4", false}, {FsckPolicy::kAuto, "xfs", false},
      {FsckPolicy::kAuto, "ext2", true},  {FsckPolicy::kAuto, "vfat", true},
      {FsckPolicy::kForce, "ext4", true}, {FsckPolicy::kForce, "xfs", true},
      {FsckPolicy::kNo, "ext2", false},   {FsckPolicy::kForce, "", false},
  };
  for (const auto& c : cases) {
    INFO(c.fstype);
    auto cmd = FsckCommand(c.policy, c.fstype, "/dev/loop3");
    CHECK(cmd.has_value() == c.runs);
    if (cmd)
      CHECK(*cmd == std::vector<std::string>{std::string("fsck.") + c.fstype, "-p", "/dev/loop3"});
  }
}

TEST_CASE("start mounts, verifies and fixes the owner") {
  Fixture f;
  StorageConfig c = Config();
  c.options = *ParseMountOptions("noatime");
  c.owner = *ParseOwner("1000:1000");
  REQUIRE(f.Start(c).ok());
  REQUIRE(f.sys.mounted.size() == 1);
  CHECK(f.sys.mounted[0].source == "/dev/loop3");
  CHECK(f.sys.mounted[0].target == "/srv");
  CHECK(f.sys.mounted[0].fstype == "ext4");
  CHECK(f.sys.mounted[0].options == "noatime");
  CHECK_FALSE(f.sys.mounted[0].bind);
  CHECK(f.sys.owned == std::vector<std::pair<std::string, std::string>>{{"/srv", "1000:1000"}});
  CHECK(f.sys.ran.empty());  // ext4 under run_fsck=auto

  // Idempotent: mounted already, only the owner is checked again.
  REQUIRE(f.Start(c).ok());
  CHECK(f.sys.mounted.size() == 1);
  CHECK(f.sys.owned.size() == 2);
}

TEST_CASE("start refuses what would hide data or double-mount") {
  static const struct {
    const char* name;
    MountEntry extra;
    ExitCode code;
    const char* reason;
  } cases[] = {
      {"another device at the mount point", Entry(50, kLoop4, "/dev/loop4", "/srv", "xfs"),
       ExitCode::kErrGeneric, "already has '/dev/loop4' (xfs) mounted"},
      {"a mount below the directory", Entry(50, makedev(0, 44), "tmpfs", "/srv/sub", "tmpfs"),
       ExitCode::kErrGeneric, "'/srv/sub' is mounted below '/srv'"},
      {"the device mounted elsewhere", Entry(50, kLoop3, "/dev/loop3", "/mnt/x"),
       ExitCode::kErrGeneric, "already mounted at '/mnt/x' on this node"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Fixture f;
    f.sys.mounts.push_back(c.extra);
    Status s = f.Start();
    CHECK(s.code() == c.code);
    CHECK_THAT(s.reason(), Catch::Contains(c.reason));
    CHECK(f.sys.mounted.empty());
  }
}

TEST_CASE("start: filesystem type, MMP and fsck come before the mount") {
  SECTION("auto takes libblkid's type") {
    Fixture f;
    StorageConfig c = Config("/dev/loop4");
    REQUIRE(f.Start(c).ok());
    CHECK(f.sys.mounted.at(0).fstype == "xfs");
  }
  SECTION("a type other than the device's is refused") {
    Fixture f;
    StorageConfig c = Config("/dev/loop4");
    c.fstype = "ext4";
    Status s = f.Start(c);
    CHECK(s.code() == ExitCode::kErrConfigured);
    CHECK_THAT(s.reason(), Catch::Contains("holds 'xfs', not 'ext4'"));
    CHECK(f.sys.mounted.empty());
  }
  SECTION("require_mmp refuses ext4 without MMP, mounts it with") {
    Fixture f;
    StorageConfig c = Config();
    c.require_mmp = true;
    Status s = f.Start(c);
    CHECK(s.code() == ExitCode::kErrConfigured);
    CHECK_THAT(s.reason(), Catch::Contains("no multi-mount protection"));
    CHECK(f.sys.mounted.empty());
    f.sys.mmp = true;
    CHECK(f.Start(c).ok());
  }
  SECTION("require_mmp does not apply to xfs") {
    Fixture f;
    StorageConfig c = Config("/dev/loop4");
    c.require_mmp = true;
    CHECK(f.Start(c).ok());
  }
  SECTION("fsck exit 1 mounts, exit 4 does not") {
    Fixture f;
    StorageConfig c = Config();
    c.run_fsck = FsckPolicy::kForce;
    f.sys.fsck_exit = 1;
    REQUIRE(f.Start(c).ok());
    CHECK(f.sys.ran.at(0) == std::vector<std::string>{"fsck.ext4", "-p", "/dev/loop3"});
    Fixture g;
    g.sys.fsck_exit = 4;
    Status s = g.Start(c);
    CHECK(s.code() == ExitCode::kErrGeneric);
    CHECK_THAT(s.reason(), Catch::Contains("UNEXPECTED INCONSISTENCY"));
    CHECK(g.sys.mounted.empty());
  }
}

TEST_CASE("start: the mount point") {
  SECTION("created when missing") {
    Fixture f;
    f.sys.paths.erase("/srv");
    REQUIRE(f.Start().ok());
    CHECK(f.sys.made_dirs == std::vector<std::string>{"/srv"});
  }
  SECTION("not created with create_directory=false") {
    Fixture f;
    f.sys.paths.erase("/srv");
    StorageConfig c = Config();
    c.create_directory = false;
    CHECK(f.Start(c).code() == ExitCode::kErrInstalled);
    CHECK(f.sys.made_dirs.empty());
  }
  SECTION("a file is not a mount point") {
    Fixture f;
    f.sys.paths["/srv"] = {.exists = true};
    CHECK(f.Start().code() == ExitCode::kErrConfigured);
  }
  SECTION("a path through a symlink is refused: monitor would never find it") {
    Fixture f;
    f.sys.real_paths["/srv"] = "/data/srv";
    Status s = f.Start();
    CHECK(s.code() == ExitCode::kErrConfigured);
    CHECK_THAT(s.reason(), Catch::Contains("resolves to '/data/srv'"));
    CHECK(f.sys.mounted.empty());
  }
}

TEST_CASE("start: bind mount of a directory") {
  Fixture f;
  f.sys.mounts.push_back(Entry(30, kRootDev, "/dev/vda1", "/data", "ext4"));
  REQUIRE(f.Start(Config("/data/pmm")).ok());
  REQUIRE(f.sys.mounted.size() == 1);
  CHECK(f.sys.mounted[0].bind);
  CHECK(f.sys.mounted[0].fstype.empty());
  CHECK(f.sys.ran.empty());
}

TEST_CASE("stop") {
  SECTION("not mounted: nothing to do") {
    Fixture f;
    CHECK(f.Stop().ok());
    CHECK(f.sys.unmounted.empty());
  }
  SECTION("someone else's mount is left alone") {
    Fixture f;
    f.sys.mounts.push_back(Entry(40, kLoop4, "/dev/loop4", "/srv", "xfs"));
    CHECK(f.Stop().ok());
    CHECK(f.sys.unmounted.empty());
  }
  SECTION("submounts first, then ours, then other mounts of our device") {
    Fixture f;
    f.sys.MountOurs();
    f.sys.mounts.push_back(Entry(41, makedev(0, 50), "tmpfs", "/srv/a", "tmpfs"));
    f.sys.mounts.push_back(Entry(42, makedev(0, 51), "tmpfs", "/srv/a/b", "tmpfs"));
    f.sys.mounts.push_back(Entry(43, kLoop3, "/dev/loop3", "/var/lib/x", "ext4", "rw", "/x"));
    REQUIRE(f.Stop().ok());
    CHECK(f.sys.unmounted == std::vector<std::string>{"/srv/a/b", "/srv/a", "/srv", "/var/lib/x"});
  }
  SECTION("busy: users are signalled, the mount goes") {
    Fixture f;
    f.sys.MountOurs();
    f.sys.users_of["/srv"] = {{321, "postgres", "cwd"}};
    REQUIRE(f.Stop().ok());
    CHECK(f.sys.signals == std::vector<std::pair<pid_t, int>>{{321, SIGTERM}});
    CHECK(f.sys.unmounted == std::vector<std::string>{"/srv"});
  }
  SECTION("a block device is never lazily unmounted") {
    Fixture f;
    f.sys.MountOurs();
    f.sys.busy_forever = true;
    Status s = f.Stop();
    CHECK(s.code() == ExitCode::kErrGeneric);
    CHECK_THAT(s.reason(), Catch::Contains("unmount of '/srv' did not succeed"));
    CHECK(f.sys.unmounted.empty());
  }
  SECTION("a busy bind mount is detached as the last resort") {
    Fixture f;
    f.sys.mounts.push_back(Entry(30, kRootDev, "/dev/vda1", "/data", "ext4"));
    f.sys.mounts.push_back(Entry(40, kRootDev, "/dev/vda1", "/srv", "ext4", "rw", "/pmm"));
    f.sys.busy_forever = true;
    REQUIRE(f.Stop(Config("/data/pmm")).ok());
    CHECK(f.sys.unmounted == std::vector<std::string>{"/srv (lazy)"});
  }
  SECTION("a user in another mount namespace is ended, then the mount there is taken out") {
    Fixture f;
    f.sys.MountOurs();
    f.sys.holders = {{777, "postgres", "cwd", "mnt:[2]"}};
    f.sys.namespaces = {{.ns = "mnt:[2]", .pid = 700, .comm = "conmon", .mounts = {{90, "/srv"}}}};
    REQUIRE(f.Stop().ok());
    CHECK(f.sys.signals == std::vector<std::pair<pid_t, int>>{{777, SIGTERM}});
    CHECK(f.sys.ns_unmounted == std::vector<std::string>{"mnt:[2] /srv"});
  }
  SECTION("users in another mount namespace that stay fail the stop, so the node is fenced") {
    Fixture f;
    f.sys.MountOurs();
    f.sys.holders = {{777, "postgres", "cwd", "mnt:[2]"}};
    f.sys.holders_die = false;
    f.sys.namespaces = {{.ns = "mnt:[2]", .pid = 700, .comm = "conmon", .mounts = {{90, "/srv"}}}};
    Status s = f.Stop();
    CHECK(s.code() == ExitCode::kErrGeneric);
    CHECK_THAT(s.reason(), Catch::Contains("777 (postgres: cwd)"));
    CHECK_THAT(s.reason(), Catch::Contains("'/srv' in the mount namespace of 700 (conmon)"));
    CHECK(f.sys.ns_unmounted.empty());
  }
  SECTION("device gone: our mount is still found by its source") {
    Fixture f;
    f.sys.MountOurs();
    f.sys.paths.erase("/dev/loop3");
    REQUIRE(f.Stop().ok());
    CHECK(f.sys.unmounted == std::vector<std::string>{"/srv"});
  }
}

namespace {

// The matrix: every action in every situation, with the code the cluster
// must see. A situation sets up the fake (often by a real start) and gives
// the configuration the action runs with.
using Setup = StorageConfig (*)(Fixture& f);

constexpr const char* kLink = "/dev/disk/by-id/pmm";

StorageConfig LinkTo(Fixture& f, const std::string& target) {
  f.sys.paths[kLink] = f.sys.paths.at(target);
  f.sys.real_paths[kLink] = target;
  return Config(kLink);
}

StorageConfig Started(Fixture& f, StorageConfig c) {
  REQUIRE(f.Start(c).ok());
  REQUIRE(f.sys.state.count(kState) == 1);
  return c;
}

MountEntry Over(const Fixture& f, MountEntry e) {
  e.parent_id = f.sys.mounts.back().id;
  return e;
}

const struct {
  const char* name;
  Setup setup;
  // start, stop, monitor, probe, validate-all
  ExitCode start, stop, monitor, probe, validate;
  const char* left;  // what stop leaves mounted at /srv ("" nothing), when it succeeds
} kMatrix[] = {
    {"nothing mounted", [](Fixture&) { return Config(); }, ExitCode::kSuccess, ExitCode::kSuccess,
     ExitCode::kNotRunning, ExitCode::kNotRunning, ExitCode::kSuccess, ""},
    {"nothing mounted, device missing, no state",
     [](Fixture& f) {
       f.sys.paths.erase("/dev/loop3");
       return Config();
     },
     ExitCode::kErrInstalled, ExitCode::kSuccess, ExitCode::kNotRunning, ExitCode::kNotRunning,
     ExitCode::kErrInstalled, ""},
    {"ours, started", [](Fixture& f) { return Started(f, Config()); }, ExitCode::kSuccess,
     ExitCode::kSuccess, ExitCode::kSuccess, ExitCode::kSuccess, ExitCode::kSuccess, ""},
    {"ours, no state (started by an older agent)",
     [](Fixture& f) {
       f.sys.MountOurs();
       return Config();
     },
     ExitCode::kSuccess, ExitCode::kSuccess, ExitCode::kSuccess, ExitCode::kSuccess,
     ExitCode::kSuccess, ""},
    {"symlink repointed after start",
     [](Fixture& f) {
       StorageConfig c = Started(f, LinkTo(f, "/dev/loop3"));
       LinkTo(f, "/dev/loop4");
       return c;
     },
     ExitCode::kSuccess, ExitCode::kSuccess, ExitCode::kSuccess, ExitCode::kSuccess,
     ExitCode::kSuccess, ""},
    {"symlink gone after start",
     [](Fixture& f) {
       StorageConfig c = Started(f, LinkTo(f, "/dev/loop3"));
       f.sys.paths.erase(kLink);
       return c;
     },
     ExitCode::kSuccess, ExitCode::kSuccess, ExitCode::kSuccess, ExitCode::kSuccess,
     ExitCode::kErrInstalled, ""},
    {"symlink repointed, no state: another filesystem is not ours",
     [](Fixture& f) {
       StorageConfig c = Started(f, LinkTo(f, "/dev/loop3"));
       f.sys.state.clear();
       LinkTo(f, "/dev/loop4");
       return c;
     },
     ExitCode::kErrGeneric, ExitCode::kSuccess, ExitCode::kErrGeneric, ExitCode::kNotRunning,
     ExitCode::kSuccess, "/dev/loop3"},
    {"device gone, no state: ours by the configured path",
     [](Fixture& f) {
       f.sys.MountOurs();
       f.sys.paths.erase("/dev/loop3");
       return Config();
     },
     ExitCode::kSuccess, ExitCode::kSuccess, ExitCode::kErrGeneric, ExitCode::kErrGeneric,
     ExitCode::kErrInstalled, ""},
    {"btrfs through a symlink",
     [](Fixture& f) {
       f.sys.paths["/dev/loop5"] = {.exists = true, .is_block = true, .rdev = makedev(7, 5)};
       f.sys.fs_types["/dev/loop5"] = "btrfs";
       f.sys.uuids["/dev/loop5"] = "b7f5";
       return Started(f, LinkTo(f, "/dev/loop5"));
     },
     ExitCode::kSuccess, ExitCode::kSuccess, ExitCode::kSuccess, ExitCode::kSuccess,
     ExitCode::kSuccess, ""},
    {"btrfs, symlink repointed, no state: the UUID tells",
     [](Fixture& f) {
       f.sys.paths["/dev/loop5"] = {.exists = true, .is_block = true, .rdev = makedev(7, 5)};
       f.sys.fs_types["/dev/loop5"] = "btrfs";
       f.sys.uuids["/dev/loop5"] = "b7f5";
       f.sys.paths["/dev/loop6"] = {.exists = true, .is_block = true, .rdev = makedev(7, 6)};
       f.sys.fs_types["/dev/loop6"] = "btrfs";
       f.sys.uuids["/dev/loop6"] = "b7f5";  // another path to the same filesystem
       StorageConfig c = Started(f, LinkTo(f, "/dev/loop5"));
       f.sys.state.clear();
       LinkTo(f, "/dev/loop6");
       return c;
     },
     ExitCode::kSuccess, ExitCode::kSuccess, ExitCode::kSuccess, ExitCode::kSuccess,
     ExitCode::kSuccess, ""},
    {"stacked: tmpfs over ours",
     [](Fixture& f) {
       StorageConfig c = Started(f, Config());
       f.sys.mounts.push_back(Over(f, Entry(60, kAnon, "pmmt-over", "/srv", "tmpfs")));
       return c;
     },
     ExitCode::kErrGeneric, ExitCode::kSuccess, ExitCode::kErrGeneric, ExitCode::kErrGeneric,
     ExitCode::kSuccess, ""},
    {"stacked, no state, device gone",
     [](Fixture& f) {
       f.sys.MountOurs();
       f.sys.mounts.push_back(Over(f, Entry(60, kLoop4, "/dev/loop4", "/srv", "xfs")));
       f.sys.paths.erase("/dev/loop3");
       return Config();
     },
     ExitCode::kErrGeneric, ExitCode::kSuccess, ExitCode::kErrGeneric, ExitCode::kErrGeneric,
     ExitCode::kErrInstalled, ""},
    {"foreign tmpfs at the directory, device missing",
     [](Fixture& f) {
       f.sys.mounts.push_back(Entry(60, kAnon, "pmmt-other", "/srv", "tmpfs"));
       f.sys.paths.erase("/dev/loop3");
       return Config();
     },
     ExitCode::kErrInstalled, ExitCode::kSuccess, ExitCode::kErrGeneric, ExitCode::kNotRunning,
     ExitCode::kErrInstalled, "pmmt-other"},
    {"foreign block filesystem at the directory, device present",
     [](Fixture& f) {
       f.sys.mounts.push_back(Entry(60, kLoop4, "/dev/loop4", "/srv", "xfs"));
       return Config();
     },
     ExitCode::kErrGeneric, ExitCode::kSuccess, ExitCode::kErrGeneric, ExitCode::kNotRunning,
     ExitCode::kSuccess, "/dev/loop4"},
    {"unknown block filesystem at the directory: device gone, no state",
     [](Fixture& f) {
       f.sys.mounts.push_back(Entry(60, kLoop4, "/dev/loop4", "/srv", "xfs"));
       f.sys.paths.erase("/dev/loop3");
       return Config();
     },
     ExitCode::kErrInstalled, ExitCode::kErrGeneric, ExitCode::kErrGeneric, ExitCode::kErrGeneric,
     ExitCode::kErrInstalled, ""},
    {"abandoned mount child alive",
     [](Fixture& f) {
       f.sys.abandon = ProcessIdentity{4242, 99};
       f.sys.child_ends = false;
       REQUIRE(f.Start().code() == ExitCode::kErrGeneric);
       f.sys.abandon.reset();
       return Config();
     },
     ExitCode::kErrGeneric, ExitCode::kErrGeneric, ExitCode::kErrGeneric, ExitCode::kErrGeneric,
     ExitCode::kSuccess, ""},
    {"abandoned mount child that attaches the filesystem later",
     [](Fixture& f) {
       f.sys.abandon = ProcessIdentity{4242, 99};
       REQUIRE(f.Start().code() == ExitCode::kErrGeneric);
       f.sys.abandon.reset();
       f.sys.late_mounts = {Entry(70, kLoop3, "/dev/loop3", "/srv")};
       return Config();
     },
     ExitCode::kErrGeneric, ExitCode::kSuccess, ExitCode::kErrGeneric, ExitCode::kErrGeneric,
     ExitCode::kSuccess, ""},
    {"abandoned mount child gone, nothing mounted",
     [](Fixture& f) {
       f.sys.abandon = ProcessIdentity{4242, 99};
       REQUIRE(f.Start().code() == ExitCode::kErrGeneric);
       f.sys.abandon.reset();
       f.sys.alive.clear();
       return Config();
     },
     ExitCode::kSuccess, ExitCode::kSuccess, ExitCode::kNotRunning, ExitCode::kNotRunning,
     ExitCode::kSuccess, ""},
    {"clone of ext4",
     [](Fixture&) {
       StorageConfig c = Config();
       c.clone = true;
       return c;
     },
     ExitCode::kErrConfigured, ExitCode::kSuccess, ExitCode::kNotRunning, ExitCode::kNotRunning,
     ExitCode::kErrConfigured, ""},
    {"clone of a bind mount",
     [](Fixture& f) {
       f.sys.mounts.push_back(Entry(30, kRootDev, "/dev/vda1", "/data", "ext4"));
       StorageConfig c = Config("/data/pmm");
       c.clone = true;
       return c;
     },
     ExitCode::kErrConfigured, ExitCode::kSuccess, ExitCode::kNotRunning, ExitCode::kNotRunning,
     ExitCode::kErrConfigured, ""},
    {"UUID= device, libblkid hangs, started",
     [](Fixture& f) {
       StorageConfig c = Started(f, Config("UUID=1234"));
       f.sys.blkid_hangs = true;
       return c;
     },
     ExitCode::kSuccess, ExitCode::kSuccess, ExitCode::kSuccess, ExitCode::kSuccess,
     ExitCode::kErrGeneric, ""},
};

}  // namespace

TEST_CASE("the action x situation matrix") {
  enum { kStart, kStop, kMonitor, kProbe, kValidate };
  for (const auto& row : kMatrix) {
    for (int action : {kStart, kStop, kMonitor, kProbe, kValidate}) {
      static const char* const kNames[] = {"start", "stop", "monitor", "probe", "validate-all"};
      INFO(row.name << ": " << kNames[action]);
      Fixture f;
      StorageConfig c = row.setup(f);
      Status s;
      ExitCode want{};
      // As the dispatcher runs them: the agent's validation first.
      switch (action) {
        case kStart:
          s = f.Validate("start", false, c);
          if (s.ok()) s = f.Start(c);
          want = row.start;
          break;
        case kStop:
          s = f.Validate("stop", false, c);
          if (s.ok()) s = f.Stop(c);
          want = row.stop;
          break;
        case kMonitor:
        case kProbe:
          s = f.Validate("monitor", action == kProbe, c);
          if (s.ok()) s = f.Monitor(0, action == kProbe, c);
          want = action == kProbe ? row.probe : row.monitor;
          break;
        default: s = f.Validate("validate-all", false, c), want = row.validate; break;
      }
      INFO(s.reason());
      CHECK(s.code() == want);
      if (action == kStop && s.ok()) {
        const MountEntry* left = MountTable(f.sys.mounts).At("/srv");
        CHECK((left == nullptr ? std::string() : left->source) == row.left);
        CHECK(f.sys.state.count(kState) == 0);
      }
      if (action == kStop && !s.ok()) CHECK_FALSE(s.reason().empty());
    }
  }
}

TEST_CASE("start records what it mounted, stop forgets it") {
  Fixture f;
  StorageConfig c = LinkTo(f, "/dev/loop3");
  REQUIRE(f.Start(c).ok());
  auto r = ParseMountRecord(f.sys.state.at(kState));
  REQUIRE(r.has_value());
  CHECK(r->directory == "/srv");
  CHECK(r->device == "/dev/loop3");
  CHECK(r->rdev == kLoop3);
  CHECK(r->uuid == "1234");
  CHECK(r->fstype == "ext4");
  CHECK(r->mount_id == f.sys.mounts.back().id);
  CHECK(r->devno == kLoop3);
  CHECK(r->source == "/dev/loop3");
  CHECK_FALSE(r->child.has_value());
  REQUIRE(f.Stop(c).ok());
  CHECK(f.sys.state.empty());
}

TEST_CASE("btrfs: a symlink device starts, and the record keeps its anonymous number") {
  Fixture f;
  f.sys.paths["/dev/loop5"] = {.exists = true, .is_block = true, .rdev = makedev(7, 5)};
  f.sys.fs_types["/dev/loop5"] = "btrfs";
  f.sys.uuids["/dev/loop5"] = "b7f5";
  StorageConfig c = LinkTo(f, "/dev/loop5");
  REQUIRE(f.Start(c).ok());
  auto r = ParseMountRecord(f.sys.state.at(kState));
  REQUIRE(r.has_value());
  CHECK(r->devno == kAnon);
  CHECK(r->uuid == "b7f5");
  f.sys.paths.erase(kLink);
  REQUIRE(f.Stop(c).ok());
  CHECK(f.sys.unmounted == std::vector<std::string>{"/srv"});
}

TEST_CASE("stop unmounts a stack down to ours, and leaves what lies below") {
  Fixture f;
  f.sys.mounts.push_back(Entry(50, kAnon, "pmmt-below", "/srv", "tmpfs"));
  f.sys.mounts.push_back(Over(f, Entry(51, kLoop3, "/dev/loop3", "/srv")));
  f.sys.mounts.push_back(Over(f, Entry(52, makedev(0, 61), "pmmt-over", "/srv", "tmpfs")));
  f.sys.mounts.push_back(Over(f, Entry(53, makedev(0, 62), "pmmt-over2", "/srv", "tmpfs")));
  REQUIRE(f.Stop().ok());
  CHECK(f.sys.unmounted == std::vector<std::string>{"/srv", "/srv", "/srv"});
  REQUIRE(MountTable(f.sys.mounts).At("/srv") != nullptr);
  CHECK(MountTable(f.sys.mounts).At("/srv")->source == "pmmt-below");
}

TEST_CASE("the abandoned mount: recorded, waited for, then unmounted") {
  Fixture f;
  f.sys.abandon = ProcessIdentity{4242, 99};
  Status s = f.Start();
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK_THAT(s.reason(), Catch::Contains("process 4242, which stop waits for"));
  auto r = ParseMountRecord(f.sys.state.at(kState));
  REQUIRE(r.has_value());
  REQUIRE(r->child.has_value());
  CHECK(*r->child == ProcessIdentity{4242, 99});
  f.sys.abandon.reset();

  SECTION("while it runs, stop fails and says why") {
    f.sys.child_ends = false;
    Status stop = f.Stop();
    CHECK(stop.code() == ExitCode::kErrGeneric);
    CHECK_THAT(stop.reason(), Catch::Contains("still runs (process 4242"));
    CHECK(f.sys.state.count(kState) == 1);
  }
  SECTION("once it has mounted, stop unmounts") {
    f.sys.late_mounts = {Entry(70, kLoop3, "/dev/loop3", "/srv")};
    REQUIRE(f.Stop().ok());
    CHECK(f.sys.waits == 1);
    CHECK(f.sys.unmounted == std::vector<std::string>{"/srv"});
    CHECK(f.sys.state.empty());
  }
}

TEST_CASE("monitor with a record needs no libblkid") {
  Fixture f;
  StorageConfig c = Started(f, Config("UUID=1234"));
  int before = f.sys.blkid_calls;
  CHECK(f.Monitor(0, false, c).ok());
  CHECK(f.sys.blkid_calls == before);
  // Without it, a hung libblkid is a failure with its reason, not a hang.
  f.sys.state.clear();
  f.sys.blkid_hangs = true;
  Status s = f.Monitor(0, false, c);
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK_THAT(s.reason(), Catch::Contains("no answer within"));
}

TEST_CASE("monitor at depth 0 asks the kernel about the recorded mount, not the mount table") {
  Fixture f;
  StorageConfig c = LinkTo(f, "/dev/loop3");
  MountLookup ours;
  ours.state = MountLookup::State::kFound;
  ours.mount_point = "/srv";
  ours.id_old = 101;  // the fake's first mount
  f.sys.unique_at_dir = 0x80000042;
  f.sys.kernel_mounts[0x80000042] = ours;
  SECTION("start records no unique ID that is not the mount the table shows") {
    f.sys.kernel_mounts[0x80000042].id_old = 7;
    REQUIRE(f.Start(c).ok());
    CHECK(ParseMountRecord(f.sys.state.at(kState))->unique_id == 0);
    CHECK(f.Monitor(0, false, c).ok());  // from the table
    return;
  }
  REQUIRE(f.Start(c).ok());
  auto r = ParseMountRecord(f.sys.state.at(kState));
  REQUIRE(r.has_value());
  REQUIRE(r->mount_id == 101);
  REQUIRE(r->unique_id == 0x80000042);
  auto& kernel = f.sys.kernel_mounts[0x80000042];
  const int reads = f.sys.table_reads;
  SECTION("as recorded: 0 without reading the table") {
    CHECK(f.Monitor(0, false, c).ok());
    CHECK(f.Monitor(0, true, c).ok());
    CHECK(f.sys.table_reads == reads);
  }
  SECTION("depth 10 reads the table (and checks the mount)") {
    CHECK(f.Monitor(10, false, c).ok());
    CHECK(f.sys.table_reads == reads + 1);
  }
  SECTION("something mounted over it: the table tells, and the monitor fails") {
    kernel.children = {"/srv"};
    f.sys.mounts.push_back(Entry(99, makedev(0, 60), "tmpfs", "/srv", "tmpfs", "rw"));
    Status s = f.Monitor(0, false, c);
    CHECK(s.code() == ExitCode::kErrGeneric);
    CHECK_THAT(s.reason(), Catch::Contains("mounted over ours"));
    CHECK(f.sys.table_reads == reads + 1);
  }
  SECTION("a mount below it is no reason to read the table") {
    kernel.children = {"/srv/sub"};
    CHECK(f.Monitor(0, false, c).ok());
    CHECK(f.sys.table_reads == reads);
  }
  SECTION("remounted read-only: the table tells") {
    kernel.read_only = true;
    f.sys.mounts.back().vfs_options = "ro";
    CHECK(f.Monitor(0, false, c).code() == ExitCode::kErrGeneric);
    CHECK(f.sys.table_reads == reads + 1);
  }
  SECTION("unmounted behind the agent's back: gone for the kernel, the table says not running") {
    f.sys.kernel_mounts.erase(0x80000042);
    f.sys.kernel_mounts[1] = ours;  // statmount works, the mount is gone
    f.sys.mounts.pop_back();
    CHECK(f.Monitor(0, false, c).code() == ExitCode::kNotRunning);
    CHECK(f.sys.table_reads == reads + 1);
  }
  SECTION("another mount point (moved): the table decides") {
    kernel.mount_point = "/elsewhere";
    f.Monitor(0, false, c);
    CHECK(f.sys.table_reads == reads + 1);
  }
  SECTION("the device node gone: the table tells, and the monitor fails") {
    f.sys.paths.erase("/dev/loop3");
    CHECK(f.Monitor(0, false, c).code() == ExitCode::kErrGeneric);
    CHECK(f.sys.table_reads == reads + 1);
  }
}

TEST_CASE("mount records round-trip and refuse what is not one") {
  MountRecord r{.directory = "/srv",
                .configured = "UUID=b7f5",
                .device = "/dev/loop3",
                .rdev = kLoop3,
                .fstype = "btrfs",
                .uuid = "b7f5",
                .mount_id = 812,
                .devno = kAnon,
                .source = "/dev/loop3",
                .root = "/",
                .child = ProcessIdentity{77, 123456}};
  auto back = ParseMountRecord(FormatMountRecord(r));
  REQUIRE(back.has_value());
  CHECK(back->directory == r.directory);
  CHECK(back->configured == "UUID=b7f5");
  CHECK(back->rdev == r.rdev);
  CHECK(back->devno == r.devno);
  CHECK(back->mount_id == 812);
  CHECK(back->uuid == "b7f5");
  CHECK(back->child == r.child);
  std::string text = FormatMountRecord(r);
  CHECK_FALSE(ParseMountRecord(text.substr(0, text.size() - 3)).has_value());  // cut short
  CHECK_FALSE(ParseMountRecord("hello\n").has_value());
  CHECK_FALSE(ParseMountRecord("").has_value());
  CHECK_FALSE(ParseMountRecord("directory=/srv\nrdev=x\n").has_value());
}

TEST_CASE("a record written for another device or directory says nothing") {
  Fixture f;
  f.sys.mounts.push_back(Entry(30, kRootDev, "/dev/vda1", "/data", "ext4"));
  f.sys.paths["/data/other"] = {.exists = true, .is_dir = true};
  REQUIRE(f.Start(Config("/data/pmm")).ok());
  // The same resource with another device parameter: the bind of
  // /data/pmm at /srv is not a bind of /data/other.
  CHECK(f.Monitor(0, false, Config("/data/other")).code() == ExitCode::kErrGeneric);
  CHECK(f.Monitor(0, true, Config("/data/other")).code() == ExitCode::kNotRunning);
  StorageConfig elsewhere = Config("/data/pmm");
  elsewhere.directory = "/srv2";
  CHECK(f.Monitor(0, false, elsewhere).code() == ExitCode::kNotRunning);
}

TEST_CASE("a mount child left by a start with another device parameter still holds stop") {
  Fixture f;
  f.sys.abandon = ProcessIdentity{4242, 99};
  REQUIRE(f.Start().code() == ExitCode::kErrGeneric);
  f.sys.abandon.reset();
  f.sys.child_ends = false;
  Status s = f.Stop(Config("/dev/loop4"));
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK_THAT(s.reason(), Catch::Contains("'/dev/loop3' that start abandoned"));
  CHECK(f.Monitor(0, true, Config("/dev/loop4")).code() == ExitCode::kErrGeneric);
}
TEST_CASE("stop: other mount namespaces") {
  SECTION("our unmount looks for users of the filesystem in every namespace") {
    Fixture f;
    f.sys.MountOurs();
    f.sys.users_of["/srv"] = {{321, "postgres", "cwd"}};
    REQUIRE(f.Stop().ok());
    REQUIRE_FALSE(f.sys.queries.empty());
    CHECK(f.sys.queries[0].filesystem.devno == kLoop3);
    CHECK(f.sys.queries[0].filesystem.root == "/");
    CHECK(f.sys.queries[0].paths == std::vector<std::string>{"/srv"});
    CHECK(f.sys.queries[0].mount_ids == std::vector<int>{40});
  }
  SECTION("a bind mount's users are looked for in our namespace only") {
    Fixture f;
    f.sys.mounts.push_back(Entry(30, kRootDev, "/dev/vda1", "/data", "ext4"));
    f.sys.mounts.push_back(Entry(40, kRootDev, "/dev/vda1", "/srv", "ext4", "rw", "/pmm"));
    f.sys.users_of["/srv"] = {{321, "postgres", "cwd"}};
    REQUIRE(f.Stop(Config("/data/pmm")).ok());
    REQUIRE_FALSE(f.sys.queries.empty());
    CHECK(f.sys.queries[0].filesystem.devno == 0);
  }
  SECTION("a namespace that merely has the mount: taken out there, nobody killed") {
    Fixture f;
    f.sys.MountOurs();
    f.sys.namespaces = {
        {.ns = "mnt:[3]", .pid = 888, .comm = "sleep", .mounts = {{91, "/srv/x"}, {90, "/srv"}}}};
    REQUIRE(f.Stop().ok());
    CHECK(f.sys.unmounted == std::vector<std::string>{"/srv"});
    CHECK(f.sys.ns_unmounted == std::vector<std::string>{"mnt:[3] /srv/x", "mnt:[3] /srv"});
    CHECK(f.sys.signals.empty());
  }
  SECTION("with force_unmount=false a namespace without users is still taken out") {
    Fixture f;
    f.sys.MountOurs();
    f.sys.namespaces = {{.ns = "mnt:[3]", .pid = 888, .comm = "sleep", .mounts = {{90, "/srv"}}}};
    StorageConfig c = Config();
    c.stop.force = ForceUnmount::kNo;
    REQUIRE(f.Stop(c).ok());
    CHECK(f.sys.ns_unmounted == std::vector<std::string>{"mnt:[3] /srv"});
  }
  SECTION("with force_unmount=false a user there is not signalled and the stop fails") {
    Fixture f;
    f.sys.MountOurs();
    f.sys.holders = {{777, "postgres", "open file", "mnt:[2]"}};
    f.sys.namespaces = {
        {.ns = "mnt:[2]", .pid = 777, .comm = "postgres", .mounts = {{90, "/srv"}}}};
    StorageConfig c = Config();
    c.stop.force = ForceUnmount::kNo;
    Status s = f.Stop(c);
    CHECK(s.code() == ExitCode::kErrGeneric);
    CHECK_THAT(s.reason(), Catch::Contains("777 (postgres: open file)"));
    CHECK(f.sys.signals.empty());
    CHECK(f.sys.ns_unmounted.empty());
  }
  SECTION("a namespace's mount that cannot be taken out fails the stop with the reason") {
    Fixture f;
    f.sys.MountOurs();
    f.sys.namespaces = {{.ns = "mnt:[3]", .pid = 888, .comm = "sleep", .mounts = {{90, "/srv"}}}};
    f.sys.ns_unmount_result = Status::Error("'/srv' covered by another mount");
    Status s = f.Stop();
    CHECK(s.code() == ExitCode::kErrGeneric);
    CHECK_THAT(s.reason(), Catch::Contains("covered by another mount"));
    CHECK(f.sys.signals.empty());
  }
  SECTION("namespaces that cannot be searched fail the stop, never a 0") {
    Fixture f;
    f.sys.MountOurs();
    f.sys.namespaces_readable = false;
    Status s = f.Stop();
    CHECK(s.code() == ExitCode::kErrGeneric);
    CHECK_THAT(s.reason(), Catch::Contains("search for other mount namespaces"));
  }
  SECTION("nothing mounted here, but another namespace has our device: taken out, then 0") {
    Fixture f;
    f.sys.namespaces = {{.ns = "mnt:[3]", .pid = 888, .comm = "sleep", .mounts = {{90, "/srv"}}}};
    REQUIRE(f.Stop().ok());
    CHECK(f.sys.ns_unmounted == std::vector<std::string>{"mnt:[3] /srv"});
  }
}

namespace {

class FakeAttributes : public NodeAttributes {
 public:
  std::map<std::string, std::string, std::less<>> values;
  Status Set(std::string_view name, std::string_view value, const Deadline&) override {
    values[std::string(name)] = value;
    return Status::Ok();
  }
  Status Delete(std::string_view name, const Deadline&) override {
    values.erase(std::string(name));
    return Status::Ok();
  }
};

}  // namespace

TEST_CASE("free space levels: full below 1 %, low below free_space_warn") {
  static const struct {
    SpaceUsage usage;
    int warn;
    int percent;
    const char* level;
  } cases[] = {
      {{1000, 370}, 10, 37, "ok"},
      {{1000, 100}, 10, 10, "ok"},
      {{1000, 99}, 10, 9, "low"},
      {{1000, 10}, 10, 1, "low"},
      {{1000, 9}, 10, 0, "full"},
      {{1000, 0}, 10, 0, "full"},
      {{1000, 1000}, 10, 100, "ok"},
      {{1000, 240}, 25, 24, "low"},
      // 8 EiB filesystems do not overflow.
      {{~0ull, ~0ull / 2}, 10, 49, "ok"},
  };
  for (const auto& c : cases) {
    INFO(c.usage.available << " of " << c.usage.total);
    CHECK(FreePercent(c.usage) == c.percent);
    CHECK(SpaceLevel(FreePercent(c.usage), c.warn) == c.level);
  }
}

TEST_CASE("the space comes from start and depths 10 and 20, never depth 0, stop removes it") {
  FakeSystem sys;
  Logger log;
  FakeAttributes attrs;
  StorageConfig c = Config();
  c.space_path = "/run/space";
  auto storage = [&]() { return Storage(c, sys, log, &attrs); };
  REQUIRE(storage().Start(Soon()).ok());
  CHECK(sys.space_checks == 1);
  CHECK(attrs.values["pmm-srv-free"] == "37");
  CHECK(attrs.values["pmm-srv-space"] == "ok");

  sys.usage = {1000, 50};
  // Depth 0 runs every few seconds: a statvfs there could hang on a dead disk.
  CHECK(storage().Monitor(0, false, Soon()).ok());
  CHECK(sys.space_checks == 1);
  CHECK(storage().Monitor(10, false, Soon()).ok());
  CHECK(sys.space_checks == 2);
  CHECK(attrs.values["pmm-srv-free"] == "5");
  CHECK(attrs.values["pmm-srv-space"] == "low");
  CHECK(sys.state["/run/space"] == "low");
  sys.usage = {1000, 5};
  CHECK(storage().Monitor(20, false, Soon()).ok());
  CHECK(attrs.values["pmm-srv-space"] == "full");

  // A statvfs that does not answer is not the monitor's failure: the
  // read and write checks judge the filesystem.
  sys.space_error = Status::Error("free space of '/srv': no answer within 3000 ms");
  CHECK(storage().Monitor(20, false, Soon()).ok());
  CHECK(attrs.values["pmm-srv-space"] == "full");

  REQUIRE(storage().Stop(Soon()).ok());
  CHECK(attrs.values.count("pmm-srv-free") == 0);
  CHECK(attrs.values.count("pmm-srv-space") == 0);
  CHECK(sys.state.count("/run/space") == 0);
}
