// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/log.h"

#include <stdio.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "capture.h"

using namespace pmmha;

namespace {

std::string TempPath(const char* name) {
  return std::string("/tmp/pmmha-log-test-") + std::to_string(getpid()) + "-" + name;
}

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("the tag is agent(instance)[pid]") {
  Logger log(Environment(), "pmm-vip", "vip");
  CHECK(log.tag() == "pmm-vip(vip)[" + std::to_string(getpid()) + "]");
}

TEST_CASE("HA_LOGTAG, when set, is the tag") {
  Logger log(Environment{{"HA_LOGTAG", "pmm-ha"}}, "pmm-vip", "vip");
  CHECK(log.tag() == "pmm-ha");
  CHECK(Logger(Environment{{"HA_LOGTAG", ""}}, "pmm-vip", "").tag() ==
        "pmm-vip[" + std::to_string(getpid()) + "]");
}

TEST_CASE("HA_DEBUGLOG the same file as HA_LOGFILE: each line once") {
  std::string logfile = TempPath("same");
  unlink(logfile.c_str());
  CaptureOutput capture;
  Logger log(Environment{{"HA_LOGFILE", logfile}, {"HA_DEBUGLOG", logfile}, {"HA_debug", "1"}},
             "pmm-storage", "fs");
  log.Info("mounted");
  log.Debug("details");
  log.ExitReason("mount failed");
  const std::string text = Slurp(logfile);
  auto count = [&](std::string_view what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  CHECK(count("INFO: mounted") == 1);
  CHECK(count("DEBUG: details") == 1);
  CHECK(count("ERROR: mount failed") == 1);
  unlink(logfile.c_str());
}

TEST_CASE("without HA_LOGFILE or syslog, messages go to stderr") {
  CaptureOutput capture;
  Logger log(Environment(), "pmm-vip", "vip");
  log.Info("added {}", "192.0.2.10");
  log.Debug("hidden");
  CHECK_THAT(capture.err(), Catch::Contains("INFO: added 192.0.2.10\n"));
  CHECK_THAT(capture.err(), !Catch::Contains("hidden"));
}

TEST_CASE("HA_LOGFILE gets tagged lines, HA_DEBUGLOG gets debug, stderr stays clean") {
  std::string logfile = TempPath("log"), debuglog = TempPath("debug");
  unlink(logfile.c_str());
  unlink(debuglog.c_str());
  CaptureOutput capture;
  Logger log(Environment{{"HA_LOGFILE", logfile}, {"HA_DEBUGLOG", debuglog}, {"HA_debug", "1"}},
             "pmm-storage", "fs");
  log.Warn("slow");
  log.Debug("details");
  log.ExitReason("mount failed");
  std::string main_log = Slurp(logfile), debug_log = Slurp(debuglog);
  CHECK_THAT(main_log, Catch::Contains(log.tag() + ":    WARNING: slow"));
  CHECK_THAT(main_log, Catch::Contains(log.tag() + ":    ERROR: mount failed"));
  CHECK_THAT(main_log, !Catch::Contains("details"));
  CHECK_THAT(debug_log, Catch::Contains("DEBUG: details"));
  CHECK(capture.err() == "ocf-exit-reason:mount failed\n");
  unlink(logfile.c_str());
  unlink(debuglog.c_str());
}

TEST_CASE("the reason of a degraded or not running result is a warning in the log file") {
  std::string logfile = TempPath("log");
  unlink(logfile.c_str());
  CaptureOutput capture;
  Logger log(Environment{{"HA_LOGFILE", logfile}}, "pmm-server", "pmm");
  log.ExitReason("PMM Server is not ready (1 of 3)", false);
  CHECK_THAT(Slurp(logfile), Catch::Contains(":    WARNING: PMM Server is not ready (1 of 3)"));
  CHECK(capture.err() == "ocf-exit-reason:PMM Server is not ready (1 of 3)\n");
  unlink(logfile.c_str());
}

TEST_CASE("HA_DEBUG=1 enables debug messages too") {
  CHECK(Logger(Environment{{"HA_DEBUG", "1"}}, "a", "b").debug_enabled());
  CHECK_FALSE(Logger(Environment{{"HA_DEBUG", "0"}}, "a", "b").debug_enabled());
  CHECK_FALSE(Logger(Environment(), "a", "b").debug_enabled());
}

TEST_CASE("a default logger writes only the exit reason") {
  CaptureOutput capture;
  Logger log;
  log.Error("nothing");
  log.ExitReason("why");
  CHECK(capture.err() == "ocf-exit-reason:why\n");
}
