// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/net/link_record.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include <catch2/catch.hpp>

using namespace pmmha;

namespace {

std::string TempDir() { return std::string("/tmp/pmmha-link-record-") + std::to_string(getpid()); }

LinkInfo Link(int index, const char* name) {
  LinkInfo l;
  l.index = index;
  l.name = name;
  return l;
}

}  // namespace

TEST_CASE("a link record is read back as written, anything else is no record") {
  std::vector<RecordedLink> links = {{2, "eth0"}, {17, "bond0.100"}};
  CHECK(FormatLinkRecord(links) == "2 eth0\n17 bond0.100\n");
  CHECK(ParseLinkRecord(FormatLinkRecord(links)) == links);
  CHECK(ParseLinkRecord("") == std::vector<RecordedLink>{});

  static const char* const not_records[] = {
      "2 eth0",                // cut short
      "2\n",                   // no name
      "x eth0\n",              // no index
      "0 eth0\n",              // no link has index 0
      "-3 eth0\n",             //
      "2 eth0 extra\n",        // a name with a blank
      "2 averylongname123\n",  // longer than IFNAMSIZ - 1
      "2 eth0\n\n",            // an empty line
  };
  for (const char* text : not_records) {
    INFO(text);
    CHECK_FALSE(ParseLinkRecord(text));
  }
}

TEST_CASE("the file record: none, added to, cleared to empty, not the same as none") {
  std::string dir = TempDir();
  std::string path = dir + "/vip.links";  // the directory is made on write
  auto record = MakeLinkRecord(path);
  CHECK_FALSE(record->Load());

  REQUIRE(record->Add(Link(2, "eth0")).ok());
  REQUIRE(record->Add(Link(3, "eth1")).ok());
  REQUIRE(record->Add(Link(2, "eth0")).ok());  // once
  CHECK(record->Load() == std::vector<RecordedLink>{{2, "eth0"}, {3, "eth1"}});
  CHECK(access((path + ".tmp").c_str(), F_OK) != 0);

  REQUIRE(record->Clear().ok());
  auto cleared = record->Load();
  REQUIRE(cleared);  // a record that says: no link since the last stop
  CHECK(cleared->empty());

  std::ofstream(path) << "garbage";
  CHECK_FALSE(record->Load());  // not a record: as if there were none
  REQUIRE(record->Add(Link(4, "eth2")).ok());
  CHECK(record->Load() == std::vector<RecordedLink>{{4, "eth2"}});

  unlink(path.c_str());
  rmdir(dir.c_str());
}

TEST_CASE("a record that cannot be written fails with the path") {
  auto record = MakeLinkRecord("/proc/pmmha-no/vip.links");
  Status s = record->Add(Link(2, "eth0"));
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK_THAT(s.reason(), Catch::StartsWith("cannot write '/proc/pmmha-no/vip.links.tmp'"));
}
