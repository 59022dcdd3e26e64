// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/storage/mount_table.h"

#include <sys/sysmacros.h>
#include <unistd.h>

#include <fstream>

#include <catch2/catch.hpp>

using namespace pmmha;

namespace {

// A mountinfo as the kernel writes it: ids, parent ids, major:minor, root,
// mount point (octal escapes), per-mount options, '-', type, source, super options.
constexpr const char* kMountinfo =
    "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    "30 22 0:25 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw\n"
    "40 30 7:3 / /tmp/srv rw,relatime - ext4 /dev/loop3 rw\n"
    "41 40 0:50 / /tmp/srv/sub rw - tmpfs tmpfs rw\n"
    "42 41 0:51 / /tmp/srv/sub/deeper rw - tmpfs tmpfs rw\n"
    "43 30 7:3 /pmm /tmp/other rw - ext4 /dev/loop3 rw\n"
    "44 40 7:4 / /tmp/srv ro,relatime - xfs /dev/loop4 ro\n"
    "45 22 254:1 /data/pmm /tmp/with\\040space rw - ext4 /dev/vda1 rw\n"
    "46 22 7:5 / /tmp/errors rw,relatime - ext4 /dev/loop5 ro,errors=remount-ro\n";

struct TempFile {
  explicit TempFile(const char* text) {
    char name[] = "/tmp/pmmha-mountinfo-XXXXXX";
    int fd = mkstemp(name);
    close(fd);
    path = name;
    std::ofstream(path) << text;
  }
  ~TempFile() { unlink(path.c_str()); }
  std::string path;
};

MountTable Fixture() {
  TempFile f(kMountinfo);
  auto t = MountTable::Read(f.path);
  REQUIRE(t.ok());
  return *t;
}

}  // namespace

TEST_CASE("libmount reads every field of mountinfo") {
  MountTable t = Fixture();
  REQUIRE(t.entries().size() == 9);
  const MountEntry& e = t.entries()[2];
  CHECK(e.id == 40);
  CHECK(e.parent_id == 30);
  CHECK(e.devno == makedev(7, 3));
  CHECK(e.source == "/dev/loop3");
  CHECK(e.target == "/tmp/srv");
  CHECK(e.root == "/");
  CHECK(e.fstype == "ext4");
  CHECK_FALSE(e.ReadOnly());
  CHECK(t.entries()[7].target == "/tmp/with space");
  CHECK(t.entries()[7].root == "/data/pmm");
  // ext4 remounted itself read-only after an error: only the superblock says so.
  CHECK(t.entries()[8].vfs_options == "rw,relatime");
  CHECK(t.entries()[8].ReadOnly());
}

TEST_CASE("a missing mount table is an error, not an empty table") {
  auto t = MountTable::Read("/nonexistent/mountinfo");
  REQUIRE_FALSE(t.ok());
  CHECK_THAT(t.status().reason(), Catch::Contains("/nonexistent/mountinfo"));
}

TEST_CASE("the visible mount at a target is the topmost of a stack") {
  MountTable t = Fixture();
  const MountEntry* top = t.At("/tmp/srv");
  REQUIRE(top != nullptr);
  CHECK(top->id == 44);
  CHECK(top->ReadOnly());
  CHECK(t.At("/tmp/nothing") == nullptr);
  CHECK(t.At("/tmp/sr") == nullptr);
}

TEST_CASE("the whole stack at a target, bottom first") {
  MountTable t = Fixture();
  auto stack = t.StackAt("/tmp/srv");
  REQUIRE(stack.size() == 2);
  CHECK(stack[0]->id == 40);  // ours, hidden
  CHECK(stack[1]->id == 44);  // mounted over it
  CHECK(t.StackAt("/tmp/nothing").empty());
  // Three layers listed out of order still come bottom first, by parent.
  MountTable three({MountEntry{.id = 9, .parent_id = 8, .target = "/s"},
                    MountEntry{.id = 7, .parent_id = 1, .target = "/s"},
                    MountEntry{.id = 8, .parent_id = 7, .target = "/s"}});
  auto s = three.StackAt("/s");
  REQUIRE(s.size() == 3);
  CHECK(s[0]->id == 7);
  CHECK(s[1]->id == 8);
  CHECK(s[2]->id == 9);
}

TEST_CASE("anonymous device numbers") {
  CHECK(MountEntry{.devno = makedev(0, 44)}.Anonymous());
  CHECK_FALSE(MountEntry{.devno = makedev(7, 3)}.Anonymous());
}

TEST_CASE("mounts below a directory come deepest first") {
  MountTable t = Fixture();
  auto below = t.Below("/tmp/srv");
  REQUIRE(below.size() == 2);
  CHECK(below[0]->target == "/tmp/srv/sub/deeper");
  CHECK(below[1]->target == "/tmp/srv/sub");
  CHECK(t.Below("/tmp/srv/sub/deeper").empty());
}

TEST_CASE("mounts of one device, and the mount holding a path") {
  MountTable t = Fixture();
  auto loop3 = t.WithDevice(makedev(7, 3));
  REQUIRE(loop3.size() == 2);
  CHECK(loop3[1]->target == "/tmp/other");
  CHECK(t.Containing("/tmp/x/y")->target == "/tmp");
  CHECK(t.Containing("/etc/passwd")->target == "/");
  CHECK(t.Containing("/tmp/srv/a")->id == 44);
}

TEST_CASE("the root a bind mount of a path would show") {
  MountEntry root_fs{.target = "/", .root = "/"};
  MountEntry data{.target = "/data", .root = "/"};
  MountEntry bound{.target = "/mnt/b", .root = "/export"};
  CHECK(RootWithin(root_fs, "/srv/x") == "/srv/x");
  CHECK(RootWithin(data, "/data/pmm") == "/pmm");
  CHECK(RootWithin(data, "/data") == "/");
  CHECK(RootWithin(bound, "/mnt/b/pmm") == "/export/pmm");
}
