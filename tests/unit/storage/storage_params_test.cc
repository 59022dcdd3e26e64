// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/storage/storage_params.h"

#include <string>

#include <catch2/catch.hpp>

using namespace pmmha;

TEST_CASE("directories are normalized or refused with a reason") {
  static const struct {
    const char* in;
    const char* out;     // nullptr: refused
    const char* reason;  // part of the reason when refused
  } cases[] = {
      {"/srv", "/srv", nullptr},
      {"/srv/", "/srv", nullptr},
      {"//srv//pmm///", "/srv/pmm", nullptr},
      {"/mnt/with space", "/mnt/with space", nullptr},
      {"srv", nullptr, "absolute"},
      {"", nullptr, "absolute"},
      {"/", nullptr, "root directory"},
      {"///", nullptr, "root directory"},
      {"/srv/../etc", nullptr, "'..'"},
      {"/srv/./x", nullptr, "'.'"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto r = NormalizeDirectory(c.in);
    if (c.out != nullptr) {
      REQUIRE(r.ok());
      CHECK(*r == c.out);
    } else {
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == ExitCode::kErrConfigured);
      CHECK_THAT(r.status().reason(), Catch::Contains(c.reason));
    }
  }
  CHECK_FALSE(NormalizeDirectory("/" + std::string(2000, 'x')).ok());
}

TEST_CASE("device specifications: block path, bind directory, tags") {
  static const struct {
    const char* in;
    bool ok;
    DeviceKind kind;
    const char* path_or_value;
  } cases[] = {
      {"/dev/sdb1", true, DeviceKind::kBlockPath, "/dev/sdb1"},
      {"/dev/disk/by-id/wwn-0x5000", true, DeviceKind::kBlockPath, "/dev/disk/by-id/wwn-0x5000"},
      {"/dev//mapper/vg-srv/", true, DeviceKind::kBlockPath, "/dev/mapper/vg-srv"},
      {"/data/pmm", true, DeviceKind::kBindDirectory, "/data/pmm"},
      {"/devices/x", true, DeviceKind::kBindDirectory, "/devices/x"},
      {"UUID=0a1b-2c3d", true, DeviceKind::kTag, "0a1b-2c3d"},
      {"LABEL=pmm-srv", true, DeviceKind::kTag, "pmm-srv"},
      {"LABEL=\"pmm srv\"", true, DeviceKind::kTag, "pmm srv"},
      {"PARTUUID=abc", true, DeviceKind::kTag, "abc"},
      {"UUID=", false, DeviceKind::kTag, ""},
      {"SERIAL=abc", false, DeviceKind::kTag, ""},
      {"LABEL=a/b", false, DeviceKind::kTag, ""},
      {"nfs:/export", false, DeviceKind::kTag, ""},
      {"sdb1", false, DeviceKind::kTag, ""},
      {"/dev", false, DeviceKind::kTag, ""},
      {"/", false, DeviceKind::kTag, ""},
      {"/dev/../etc/passwd", false, DeviceKind::kTag, ""},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto r = ParseDeviceSpec(c.in);
    REQUIRE(r.ok() == c.ok);
    if (!c.ok) {
      CHECK(r.status().code() == ExitCode::kErrConfigured);
      continue;
    }
    CHECK(r->kind == c.kind);
    CHECK((c.kind == DeviceKind::kTag ? r->value : r->path) == c.path_or_value);
  }
  // Filesystem's network shares are named as such.
  for (const char* share : {"nfs1:/export/pmm", "[2001:db8::1]:/export"}) {
    INFO(share);
    auto r = ParseDeviceSpec(share);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().reason(), Catch::Contains("network share (NFS or CIFS)"));
  }
  // //host/share was a bind directory before: it stays one (a stop of one
  // started then must still work).
  CHECK(ParseDeviceSpec("//data/pmm")->kind == DeviceKind::kBindDirectory);
  CHECK(ParseDeviceSpec("UUID=abc")->Describe() == "UUID=abc");
  CHECK(ParseDeviceSpec("UUID=abc")->tag == "UUID");
}

TEST_CASE("mount options: what reaches libmount and what is refused") {
  static const struct {
    const char* in;
    const char* for_mount;  // nullptr: refused
    bool ro, bind;
    const char* reason;
  } cases[] = {
      {"", "", false, false, nullptr},
      {"noatime", "noatime", false, false, nullptr},
      {"noatime,ro", "noatime,ro", true, false, nullptr},
      {"ro,rw", "ro,rw", false, false, nullptr},
      {"bind,ro", "ro", true, true, nullptr},
      {"rbind", "", false, true, nullptr},
      {"data=ordered,commit=5", "data=ordered,commit=5", false, false, nullptr},
      {"context=\"system_u:object_r:a,b\"", "context=\"system_u:object_r:a,b\"", false, false,
       nullptr},
      {"remount,ro", nullptr, false, false, "remount"},
      {"move", nullptr, false, false, "move"},
      {"loop", nullptr, false, false, "losetup"},
      {"loop=/dev/loop0", nullptr, false, false, "losetup"},
      {"make-shared", nullptr, false, false, "propagation"},
      {"rslave", nullptr, false, false, "propagation"},
      {"noatime,,ro", nullptr, false, false, "empty option"},
      {"noatime;rm -rf /", nullptr, false, false, "character"},
      {"$(reboot)", nullptr, false, false, "character"},
      {"a`b`", nullptr, false, false, "character"},
      {"x=\"unbalanced", nullptr, false, false, "unbalanced"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto r = ParseMountOptions(c.in);
    if (c.for_mount == nullptr) {
      REQUIRE_FALSE(r.ok());
      CHECK_THAT(r.status().reason(), Catch::Contains(c.reason));
      continue;
    }
    REQUIRE(r.ok());
    CHECK(r->ForMount() == c.for_mount);
    CHECK(r->read_only == c.ro);
    CHECK(r->bind == c.bind);
  }
}

TEST_CASE("owner: numbers, names, and what is refused") {
  static const struct {
    const char* in;
    bool ok;
    long uid, gid;  // -1: unset
    const char* user;
    const char* group;
  } cases[] = {
      {"1000:1000", true, 1000, 1000, "", ""},
      {"1000", true, 1000, -1, "", ""},
      {"0:0", true, 0, 0, "", ""},
      {"pmm:pmm", true, -1, -1, "pmm", "pmm"},
      {"pmm:1000", true, -1, 1000, "pmm", ""},
      {"_svc$", true, -1, -1, "_svc$", ""},
      {"", false, -1, -1, "", ""},
      {":1000", false, -1, -1, "", ""},
      {"1000:", false, -1, -1, "", ""},
      {"4294967295", false, -1, -1, "", ""},
      {"99999999999999999999", false, -1, -1, "", ""},
      {"-1", false, -1, -1, "", ""},
      {"root;id", false, -1, -1, "", ""},
      {"Pmm", false, -1, -1, "", ""},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto r = ParseOwner(c.in);
    REQUIRE(r.ok() == c.ok);
    if (!c.ok) continue;
    CHECK(r->uid.has_value() == (c.uid >= 0));
    if (c.uid >= 0) CHECK(*r->uid == static_cast<uid_t>(c.uid));
    CHECK(r->gid.has_value() == (c.gid >= 0));
    if (c.gid >= 0) CHECK(*r->gid == static_cast<gid_t>(c.gid));
    CHECK(r->user_name == c.user);
    CHECK(r->group_name == c.group);
  }
}

TEST_CASE("filesystem type names") {
  for (const char* ok : {"ext4", "xfs", "auto", "none", "fuse.sshfs", "ext4dev", "9p"}) {
    INFO(ok);
    CHECK(ParseFsType(ok).ok());
  }
  for (const char* bad : {"", "EXT4", "ext4;reboot", "x y", "../ext4"}) {
    INFO(bad);
    CHECK_FALSE(ParseFsType(bad).ok());
  }
  CHECK_FALSE(ParseFsType(std::string(100, 'x')).ok());
  CHECK(KernelFsName("fuse.sshfs") == "fuse");
  CHECK(KernelFsName("ext4") == "ext4");
}

TEST_CASE("paths within a directory are compared component-wise") {
  CHECK(PathIsWithin("/srv", "/srv"));
  CHECK(PathIsWithin("/srv/pmm/x", "/srv"));
  CHECK_FALSE(PathIsWithin("/srv2", "/srv"));
  CHECK_FALSE(PathIsWithin("/sr", "/srv"));
  CHECK(PathIsWithin("/anything", "/"));
}

TEST_CASE("check adapters return the parse error or nothing") {
  CHECK_FALSE(CheckDirectoryValue("/srv").has_value());
  CHECK(CheckDirectoryValue("srv") == std::string("must be an absolute path"));
  CHECK_FALSE(CheckDeviceValue("LABEL=x").has_value());
  CHECK(CheckOptionsValue("remount").has_value());
  CHECK(CheckOwnerValue("x y").has_value());
  CHECK(CheckFsTypeValue("Ext4").has_value());
}
