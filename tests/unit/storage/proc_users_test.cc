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

TEST_CASE("holders: processes whose other namespace still mounts the device") {
  FakeProc proc;
  const char* with = "50 1 7:3 / /srv rw - ext4 /dev/loop3 rw\n";
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
  auto holders = scanner.FindHolders(makedev(7, 3));
  REQUIRE(holders.size() == 2);
  CHECK(holders[0].pid == 500);
  CHECK(holders[1].pid == 501);
  CHECK(holders[0].how == "mount namespace");
  CHECK(scanner.FindHolders(makedev(8, 1)).empty());
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
