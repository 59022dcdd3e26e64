// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/state_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

using namespace pmmha;

namespace {

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("ReplaceFile replaces the whole file, makes a missing directory, leaves no temporary") {
  char dir_template[] = "/tmp/pmmha-state-XXXXXX";
  std::string dir = mkdtemp(dir_template);
  std::string path = dir + "/rsctmp/x.state";
  REQUIRE(ReplaceFile(path, "first record\n").ok());
  CHECK(Slurp(path) == "first record\n");
  REQUIRE(ReplaceFile(path, "2").ok());
  CHECK(Slurp(path) == "2");
  CHECK(access((path + ".tmp").c_str(), F_OK) != 0);
  unlink(path.c_str());
  rmdir((dir + "/rsctmp").c_str());
  rmdir(dir.c_str());
}

TEST_CASE("ReplaceFile names the file it could not write") {
  Status s = ReplaceFile("/proc/pmmha-no/x.state", "x");
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK_THAT(s.reason(), Catch::StartsWith("cannot write '/proc/pmmha-no/x.state.tmp'"));
}
