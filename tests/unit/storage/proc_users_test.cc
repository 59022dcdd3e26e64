// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/storage/proc_users.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

using namespace pmmha;
namespace fs = std::filesystem;

namespace {

constexpr pid_t kSelf = 100;
constexpr const char* kOurNs = "mnt:[4026531841]";
constexpr const char* kOtherNs = "mnt:[4026532999]";

// A fake /proc: per pid, comm, ns/mnt, cwd/root/exe links, fdinfo files,
// maps and mountinfo, as the kernel shows them.
class FakeProc {
 public:
  FakeProc() {
    char tmpl[] = "/tmp/pmmha-fakeproc-XXXXXX";
    root_ = mkdtemp(tmpl);
    Process(kSelf, "pmm-storage");
  }
  ~FakeProc() { fs::remove_all(root_); }

  FakeProc& Process(pid_t pid, const std::string& comm, const char* ns = kOurNs) {
    fs::path d = Dir(pid);
    fs::create_directories(d / "ns");
    fs::create_directories(d / "fdinfo");
    std::ofstream(d / "comm") << comm << "\n";
    fs::create_symlink(ns, d / "ns/mnt");
    Link(pid, "cwd", "/");
    Link(pid, "root", "/");
    Link(pid, "exe", "/usr/bin/" + comm);
    std::ofstream(d / "maps") << "55d0c0000000-55d0c0001000 r--p 00000000 fe:01 1234   /usr/bin/"
                              << comm
                              << "\n7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0  [stack]\n";
    return *this;
  }
  FakeProc& Link(pid_t pid, const char* name, const std::string& target) {
    fs::path p = Dir(pid) / name;
    fs::remove(p);
    fs::create_symlink(target, p);
    return *this;
  }
  FakeProc& OpenFile(pid_t pid, int fd, int mnt_id) {
    std::ofstream(Dir(pid) / "fdinfo" / std::to_string(fd))
        << "pos:\t0\nflags:\t0100000\nmnt_id:\t" << mnt_id << "\nino:\t12\n";
    return *this;
  }
  FakeProc& Map(pid_t pid, const std::string& dev, const std::string& inode,
                const std::string& path) {
    std::ofstream(Dir(pid) / "maps", std::ios::app) << "7f0000000000-7f0000001000 rw-s 00000000 "
                                                    << dev << " " << inode << "   " << path << "\n";
    return *this;
  }
  FakeProc& Mountinfo(pid_t pid, const std::string& text) {
    std::ofstream(Dir(pid) / "mountinfo") << text;
    return *this;
  }
  std::string root() const { return root_; }

 private:
  fs::path Dir(pid_t pid) const { return fs::path(root_) / std::to_string(pid); }
  std::string root_;
};

MountUserQuery BlockQuery() {
  MountUserQuery q;
  q.mount_ids = {77, 78};
  q.paths = {"/srv"};
  q.maps_device = makedev(7, 3);
  return q;
}

std::string HowOf(const std::vector<ProcUser>& users, pid_t pid) {
  for (const auto& u : users) {
    if (u.pid == pid) return u.how;
  }
  return "";
}

}  // namespace

TEST_CASE("each way of using a mount is found from /proc alone") {
  FakeProc proc;
  proc.Process(200, "bystander")
      .Process(201, "shell")
      .Link(201, "cwd", "/srv/postgres14")
      .Process(202, "clickhouse")
      .OpenFile(202, 3, 12)
      .OpenFile(202, 7, 78)
      .Process(203, "python3")
      .Map(203, "07:03", "5555", "/srv/data.bin")
      .Process(204, "chrooted")
      .Link(204, "root", "/srv")
      .Process(205, "grafana")
      .Link(205, "exe", "/srv/bin/grafana (deleted)")
      .Process(206, "other-mount")
      .OpenFile(206, 4, 12)
      .Link(206, "cwd", "/srv2")
      .Process(207, "anon")
      .Map(207, "07:03", "0", "");
  ProcScanner scanner(proc.root(), kSelf);
  auto users = scanner.FindUsers(BlockQuery());
  static const struct {
    pid_t pid;
    const char* how;
  } expected[] = {
      {200, ""},           {201, "cwd"}, {202, "open file"}, {203, "memory map"}, {204, "root"},
      {205, "executable"}, {206, ""},    {207, ""},          {kSelf, ""},
  };
  for (const auto& e : expected) {
    INFO(e.pid);
    CHECK(HowOf(users, e.pid) == e.how);
  }
  CHECK(users.size() == 5);
  for (const auto& u : users) {
    if (u.pid == 202) CHECK(u.comm == "clickhouse");
  }
}

TEST_CASE("a bind mount's maps are matched by path, not by the shared device") {
  FakeProc proc;
  proc.Process(300, "libc-user")
      .Map(300, "fe:01", "999", "/usr/lib/libc.so.6")
      .Process(301, "mapper")
      .Map(301, "fe:01", "1000", "/srv/file");
  MountUserQuery q;
  q.mount_ids = {90};
  q.paths = {"/srv"};
  ProcScanner scanner(proc.root(), kSelf);
  auto users = scanner.FindUsers(q);
  REQUIRE(users.size() == 1);
  CHECK(users[0].pid == 301);
}

TEST_CASE("paths of another mount namespace are not compared, mount ids are") {
  FakeProc proc;
  proc.Process(400, "container-shell", kOtherNs)
      .Link(400, "cwd", "/srv")
      .Process(401, "container-db", kOtherNs)
      .OpenFile(401, 5, 77);
  ProcScanner scanner(proc.root(), kSelf);
  auto users = scanner.FindUsers(BlockQuery());
  REQUIRE(users.size() == 1);
  CHECK(users[0].pid == 401);
  CHECK(users[0].how == "open file");
}

namespace {

// Another namespace's view of the filesystem: its own mount IDs, and here
// its own mount point too.
constexpr const char* kSlaveMounts =
    "60 1 254:1 / / rw - ext4 /dev/vda1 rw\n"
    "61 60 7:3 / /var/lib/pmm rw master:3 - ext4 /dev/loop3 rw\n"
    "62 61 0:44 / /var/lib/pmm/tmp rw - tmpfs tmpfs rw\n";

MountUserQuery FilesystemQuery(dev_t devno = makedev(7, 3)) {
  MountUserQuery q = BlockQuery();
  q.filesystem.devno = devno;
  return q;
}

}  // namespace

TEST_CASE("other namespaces: users are found by the filesystem, not by our IDs and paths") {
  FakeProc proc;
  proc.Process(400, "svc-shell", kOtherNs)
      .Mountinfo(400, kSlaveMounts)
      .Link(400, "cwd", "/var/lib/pmm/data")
      .Process(401, "svc-db", kOtherNs)
      .Mountinfo(401, kSlaveMounts)
      .OpenFile(401, 5, 61)
      .Process(402, "svc-tmp", kOtherNs)
      .Mountinfo(402, kSlaveMounts)
      .Link(402, "cwd", "/var/lib/pmm/tmp/x")
      .OpenFile(402, 3, 62)
      .Process(403, "svc-srv", kOtherNs)
      .Mountinfo(403, kSlaveMounts)
      .Link(403, "cwd", "/srv")
      .Process(404, "svc-exe", kOtherNs)
      .Mountinfo(404, kSlaveMounts)
      .Link(404, "exe", "/var/lib/pmm/bin/tool (deleted)")
      .Process(405, "svc-map", kOtherNs)
      .Mountinfo(405, kSlaveMounts)
      .Map(405, "07:03", "77", "/var/lib/pmm/lib.so");
  ProcScanner scanner(proc.root(), kSelf);
  SECTION("before: only our mount IDs, so nobody there is found") {
    CHECK(scanner.FindUsers(BlockQuery()).size() == 1);  // the map, by device
  }
  SECTION("by the filesystem: cwd, open file, executable, map; not a tmpfs below it") {
    std::vector<ProcUser> reported;
    auto users =
        scanner.FindUsers(FilesystemQuery(), [&](const ProcUser& u) { reported.push_back(u); });
    CHECK(HowOf(users, 400) == "cwd");
    CHECK(HowOf(users, 401) == "open file");
    CHECK(HowOf(users, 402) == "");
    CHECK(HowOf(users, 403) == "");  // /srv is not our filesystem there
    CHECK(HowOf(users, 404) == "executable");
    CHECK(HowOf(users, 405) == "memory map");
    CHECK(users.size() == 4);
    CHECK(reported.size() == 4);
    CHECK(users[0].ns == kOtherNs);
  }
}

TEST_CASE("other namespaces: a process chrooted there is judged from its root") {
  FakeProc proc;
  // The namespace's mount table as a process with root "/" sees it, and one
  // chrooted below /var/lib/c: mount points relative to its root.
  proc.Process(410, "init", kOtherNs)
      .Mountinfo(410,
                 "70 1 254:1 / / rw - ext4 /dev/vda1 rw\n"
                 "71 70 7:3 / /var/lib/c/srv rw - ext4 /dev/loop3 rw\n")
      .Process(411, "chrooted", kOtherNs)
      .Link(411, "root", "/var/lib/c")
      .Link(411, "cwd", "/var/lib/c/srv/db")
      .Mountinfo(411, "71 70 7:3 / /srv rw - ext4 /dev/loop3 rw\n")
      .Process(412, "jailed", kOtherNs)
      .Link(412, "root", "/var/lib/c/srv");
  ProcScanner scanner(proc.root(), kSelf);
  auto users = scanner.FindUsers(FilesystemQuery());
  CHECK(HowOf(users, 410) == "");
  CHECK(HowOf(users, 411) == "cwd");
  CHECK(HowOf(users, 412) == "root");
}

TEST_CASE("an anonymous device (btrfs) is recognised by the block device it was mounted from") {
  FakeProc proc;
  const char* btrfs =
      "80 1 254:1 / / rw - ext4 /dev/vda1 rw\n"
      "81 80 0:39 / /srv rw - btrfs /dev/loop5 rw,subvolid=5,subvol=/\n";
  proc.Process(420, "holder", kOtherNs)
      .Mountinfo(420, btrfs)
      .OpenFile(420, 3, 81)
      .Process(421, "mapper", "mnt:[4026533001]")
      .Mountinfo(421, btrfs)
      .Map(421, "00:27", "256", "/srv/x");
  ProcScanner::SourceDevice loop5 = [](const std::string& source) -> dev_t {
    return source == "/dev/loop5" ? makedev(7, 5) : 0;
  };
  ProcScanner scanner(proc.root(), kSelf, loop5);
  // The agent may know the block device's number or the filesystem's.
  for (dev_t devno : {makedev(7, 5), makedev(0, 39)}) {
    INFO(major(devno) << ":" << minor(devno));
    auto users = scanner.FindUsers(FilesystemQuery(devno));
    CHECK(HowOf(users, 420) == "open file");
    CHECK(HowOf(users, 421) == "memory map");  // maps show the superblock's 0:39
    auto spaces = scanner.FindNamespaceMounts({.devno = devno, .root = "/"});
    CHECK(spaces.size() == 2);
  }
  // A filesystem with a real device number is never matched by its source.
  proc.Mountinfo(420, "90 1 8:1 / /srv rw - ext4 /dev/loop5 rw\n");
  CHECK(ProcScanner(proc.root(), kSelf, loop5).FindNamespaceMounts({makedev(7, 5), "/"}).size() ==
        1);
}

TEST_CASE("namespaces that have the filesystem mounted, deepest mount first") {
  FakeProc proc;
  const char* with =
      "50 1 254:1 / / rw - ext4 /dev/vda1 rw\n"
      "51 50 7:3 / /srv rw - ext4 /dev/loop3 rw\n"
      "52 51 7:3 /sub /srv/a/b rw - ext4 /dev/loop3 rw\n";
  const char* without = "60 1 254:1 / / rw - ext4 /dev/vda1 rw\n";
  proc.Process(500, "conmon", kOtherNs)
      .Mountinfo(500, with)
      .Process(501, "pmm-managed", kOtherNs)
      .Mountinfo(501, with)
      .Process(502, "udevd", "mnt:[4026533000]")
      .Mountinfo(502, without)
      .Process(503, "ours")
      .Mountinfo(503, with);
  ProcScanner scanner(proc.root(), kSelf);
  auto spaces = scanner.FindNamespaceMounts({.devno = makedev(7, 3), .root = "/"});
  REQUIRE(spaces.size() == 1);
  CHECK(spaces[0].ns == kOtherNs);
  CHECK(spaces[0].pid == 500);
  CHECK(spaces[0].comm == "conmon");
  REQUIRE(spaces[0].mounts.size() == 2);
  CHECK(spaces[0].mounts[0].id == 52);
  CHECK(spaces[0].mounts[0].target == "/srv/a/b");
  CHECK(spaces[0].mounts[1].id == 51);
  CHECK(DescribeNamespaces(spaces) == "'/srv/a/b' '/srv' in the mount namespace of 500 (conmon)");
  CHECK(scanner.FindNamespaceMounts({.devno = makedev(8, 1), .root = "/"}).empty());
  SECTION("a bind mount's root narrows it to that directory of the filesystem") {
    CHECK(scanner.FindNamespaceMounts({.devno = makedev(7, 3), .root = "/sub"})[0].mounts.size() ==
          1);
    CHECK(scanner.FindNamespaceMounts({.devno = makedev(7, 3), .root = "/other"}).empty());
  }
  SECTION("the namespace is read from a process whose root is the namespace's") {
    proc.Link(500, "root", "/var/lib/c").Mountinfo(500, "");
    auto again = scanner.FindNamespaceMounts({.devno = makedev(7, 3), .root = "/"});
    REQUIRE(again.size() == 1);
    CHECK(again[0].pid == 501);
  }
  SECTION("the kernel's list of processes names their namespaces instead of /proc") {
    // /proc's links say nothing here (every process in our namespace): the
    // kernel's list decides, and only the tasks, not the files, are asked.
    FakeProc plain;
    plain.Process(500, "conmon").Mountinfo(500, with).Process(501, "pmm-managed");
    plain.Mountinfo(501, with).Process(502, "udevd").Mountinfo(502, without);
    bool asked_files = true;
    ProcScanner kernel(plain.root(), kSelf, {}, [&](bool with_files) {
      asked_files = with_files;
      auto task = [](pid_t pid, unsigned long ns, bool top) {
        return KernelTask{
            .pid = pid, .mount_ns = ns, .cwd = 1, .root = 1, .exe = 1, .root_is_top = top};
      };
      return Result<ProcScanner::KernelView>(ProcScanner::KernelView{
          .tasks = {task(kSelf, 4026531841, true), task(502, 4026533000, true),
                    task(501, 4026532999, true), task(500, 4026532999, false)},
          .files = {}});
    });
    plain.Link(500, "root", "/var/lib/c");
    auto found = kernel.FindNamespaceMounts({.devno = makedev(7, 3), .root = "/"});
    CHECK_FALSE(asked_files);
    REQUIRE(found.size() == 1);
    CHECK(found[0].ns == kOtherNs);
    CHECK(found[0].pid == 501);  // its root is the namespace's
    CHECK(found[0].mounts.size() == 2);
  }
}

TEST_CASE("the unmount in another namespace reads mount IDs and unescaped mount points") {
  auto entries = ParseMountIds(
      "60 1 254:1 / / rw - ext4 /dev/vda1 rw\n"
      "61 60 7:3 / /srv/a\\040b rw master:3 - ext4 /dev/loop3 rw\n"
      "62 61 0:44 / /srv/a\\040b/t\\134x rw - tmpfs tmpfs rw\n"
      "garbage\n");
  REQUIRE(entries.size() == 3);
  CHECK(entries[1].id == 61);
  CHECK(entries[1].parent_id == 60);
  CHECK(entries[1].target == "/srv/a b");
  CHECK(entries[2].target == "/srv/a b/t\\x");
}

TEST_CASE("a scan's report survives the trip from the child") {
  std::vector<ProcUser> users = {{12, "my\tcomm", "cwd", "mnt:[1]"}, {13, "b", "open file", ""}};
  std::vector<NamespaceMounts> spaces = {
      {.ns = "mnt:[2]", .pid = 7, .comm = "c", .mounts = {{5, "/srv/a b"}, {4, "/srv"}}}};
  std::string text = EncodeUser(users[0]) + EncodeUser(users[1]) + EncodeNamespace(spaces[0]);
  std::vector<ProcUser> u;
  std::vector<NamespaceMounts> n;
  REQUIRE(DecodeScan(text, &u, &n));
  REQUIRE(u.size() == 2);
  CHECK(u[0].pid == 12);
  CHECK(u[0].comm == "my comm");
  CHECK(u[0].how == "cwd");
  CHECK(u[0].ns == "mnt:[1]");
  CHECK(u[1].ns.empty());
  REQUIRE(n.size() == 1);
  CHECK(n[0].pid == 7);
  REQUIRE(n[0].mounts.size() == 2);
  CHECK(n[0].mounts[0].target == "/srv/a b");
  CHECK_FALSE(DecodeScan("U\t12\n", &u, &n));
  CHECK_FALSE(DecodeScan(text.substr(0, text.size() - 1), &u, &n));
}

TEST_CASE("a scan runs in a child bounded by the deadline") {
  using std::chrono::milliseconds;
  auto done = RunBoundedScan("scan", Deadline::After(milliseconds(2000)), [](const ScanEmit& emit) {
    emit("a\n");
    emit("b\n");
  });
  CHECK(done.complete);
  CHECK(done.text == "a\nb\n");
  auto cut = RunBoundedScan("scan", Deadline::After(milliseconds(200)), [](const ScanEmit& emit) {
    emit("a\n");
    emit("half");
    sleep(5);
  });
  CHECK_FALSE(cut.complete);
  CHECK(cut.text == "a\n");
  CHECK_THAT(cut.error, Catch::Contains("scan"));
  // A last line that merely ends in "E" is no end marker.
  auto comm = RunBoundedScan("scan", Deadline::After(milliseconds(2000)),
                             [](const ScanEmit& emit) { emit("U\t1\tcwd\t\tXE\n"); });
  CHECK(comm.complete);
  CHECK(comm.text == "U\t1\tcwd\t\tXE\n");
  CHECK(ScanDeadline(Deadline::Expired()).Remaining() >= milliseconds(250));
}

TEST_CASE("a process that vanishes mid-scan is skipped, an empty /proc finds nobody") {
  FakeProc proc;
  proc.Process(600, "gone");
  fs::remove_all(fs::path(proc.root()) / "600" / "fdinfo");
  fs::remove(fs::path(proc.root()) / "600" / "maps");
  ProcScanner scanner(proc.root(), kSelf);
  CHECK(scanner.FindUsers(BlockQuery()).empty());
  CHECK(ProcScanner("/nonexistent", kSelf).FindUsers(BlockQuery()).empty());
}

TEST_CASE("users are described briefly") {
  std::vector<ProcUser> users = {{1, "a", "cwd"}, {2, "b", "open file"}, {3, "c", "root"}};
  CHECK(DescribeUsers(users) == "1 (a: cwd), 2 (b: open file), 3 (c: root)");
  CHECK(DescribeUsers(users, 2) == "1 (a: cwd), 2 (b: open file) and 1 more");
}

TEST_CASE("the kernel's view of processes and open files replaces their /proc links and fdinfo") {
  // The BPF iterators' lists replace every process's links and fdinfo: a
  // cwd, root, executable or file they list on one of our mount IDs makes
  // its process a user, whatever /proc (here stale on purpose) says; maps
  // are still read from /proc.
  FakeProc proc;
  proc.Process(500, "writer")
      .OpenFile(500, 3, 12)
      .Process(501, "stale-fdinfo")
      .OpenFile(501, 3, 77)
      .Process(502, "stale-cwd")
      .Link(502, "cwd", "/srv")
      .Process(503, "shell")
      .Process(504, "chrooted")
      .Process(505, "binary")
      .Process(506, "mapper")
      .Map(506, "07:03", "5555", "/srv/data.bin")
      .Process(507, "parent-mount")
      .Link(507, "cwd", "/srv");
  auto task = [](pid_t pid, int cwd, int root, int exe) {
    return KernelTask{.pid = pid,
                      .mount_ns = 4026531841,
                      .cwd = cwd,
                      .root = root,
                      .exe = exe,
                      .root_is_top = true};
  };
  int calls = 0;
  auto view = [&](bool with_files) -> Result<ProcScanner::KernelView> {
    ++calls;
    CHECK(with_files);
    return ProcScanner::KernelView{
        .tasks = {task(kSelf, 78, 1, 1), task(500, 1, 1, 1), task(501, 1, 1, 1), task(502, 1, 1, 1),
                  task(503, 78, 1, 1), task(504, 1, 77, 1), task(505, 1, 1, 78), task(506, 1, 1, 1),
                  task(507, 20, 1, 1)},
        .files = {{.pid = 500, .fd = 3, .mount_id = 78, .device = 0},
                  {.pid = 501, .fd = 3, .mount_id = 12, .device = 0},
                  {.pid = 999, .fd = 1, .mount_id = 77, .device = 0}}};
  };
  std::vector<ScanProgress> reports;
  ProcScanner scanner(proc.root(), kSelf, {}, view);
  auto users =
      scanner.FindUsers(BlockQuery(), {}, [&](const ScanProgress& p) { reports.push_back(p); });
  CHECK(calls == 1);
  CHECK(HowOf(users, 500) == "open file");
  CHECK(HowOf(users, 501).empty());
  CHECK(HowOf(users, 502).empty());
  CHECK(HowOf(users, 503) == "cwd");
  CHECK(HowOf(users, 504) == "root");
  CHECK(HowOf(users, 505) == "executable");
  CHECK(HowOf(users, 506) == "memory map");
  // A cwd on the directory under the mount (chdir before the mount): not a
  // user of the mount, though its path is the mount point's.
  CHECK(HowOf(users, 507).empty());
  CHECK(users.size() == 5);  // not pid 999 (no task of it listed), never ourselves
  for (const auto& u : users) CHECK(u.ns == "mnt:[4026531841]");
  REQUIRE(!reports.empty());
  CHECK(reports.front().examined == 0);
  CHECK(reports.back().examined == 8);
  CHECK(reports.back().total == 8);
  CHECK_THAT(reports.back().open_files,
             Catch::Contains("BPF iterators, 9 processes, 3 open files"));

  SECTION("without the kernel's view, /proc, and the reason why") {
    ProcScanner fallback(proc.root(), kSelf, {}, [](bool) -> Result<ProcScanner::KernelView> {
      return Status::NotInstalled("libbpf.so.1 cannot be loaded");
    });
    reports.clear();
    users =
        fallback.FindUsers(BlockQuery(), {}, [&](const ScanProgress& p) { reports.push_back(p); });
    CHECK(HowOf(users, 500).empty());
    CHECK(HowOf(users, 501) == "open file");
    CHECK(HowOf(users, 502) == "cwd");
    REQUIRE(!reports.empty());
    CHECK_THAT(reports.back().open_files, Catch::Contains("/proc (no BPF iterators: ") &&
                                              Catch::Contains("libbpf.so.1 cannot be loaded"));
  }
  SECTION("no mount ID to look for: paths decide, as without the view") {
    MountUserQuery q;
    q.paths = {"/srv"};
    users = scanner.FindUsers(q);
    CHECK(HowOf(users, 502) == "cwd");
    CHECK(HowOf(users, 503).empty());
  }
}

TEST_CASE("the progress of a scan travels with its users from the child") {
  std::string text = EncodeUser({7, "sleep", "cwd", kOurNs}) +
                     EncodeProgress({.examined = 256, .total = 5066, .open_files = "fdinfo"}) +
                     EncodeProgress({.examined = 512, .total = 5066, .open_files = "fd\tinfo"});
  std::vector<ProcUser> users;
  ScanProgress progress;
  REQUIRE(DecodeScan(text, &users, nullptr, &progress));
  REQUIRE(users.size() == 1);
  CHECK(progress.examined == 512);
  CHECK(progress.total == 5066);
  CHECK(progress.open_files == "fd info");
  CHECK_FALSE(DecodeScan("P\tx\t1\t\n", &users, nullptr, &progress));
}
