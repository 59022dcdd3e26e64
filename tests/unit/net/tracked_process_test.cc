// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/net/tracked_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

using namespace pmmha;

namespace {

// A child that waits to be killed.
pid_t Sleeper() {
  pid_t pid = fork();
  if (pid == 0) {
    for (;;) pause();
  }
  return pid;
}

std::string TempPath(const char* name) {
  return std::string("/tmp/pmmha-tracked-") + std::to_string(getpid()) + "-" + name;
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

}  // namespace

TEST_CASE("a live process has an identity, a missing one none") {
  auto self = IdentifyProcess(getpid());
  REQUIRE(self);
  CHECK(self->pid == getpid());
  CHECK(self->start_time > 0);
  CHECK(IdentifyProcess(getpid()) == self);
  CHECK_FALSE(IdentifyProcess(0));
  CHECK_FALSE(IdentifyProcess(0x3ffffff0));
}

TEST_CASE("identities survive the round trip through the state file, junk does not load") {
  std::string path = TempPath("roundtrip");
  REQUIRE(SaveProcessIdentity(path, {1234, 98765}).ok());
  CHECK(LoadProcessIdentity(path) == ProcessIdentity{1234, 98765});
  for (const char* junk : {"", "abc", "-5 10", "12", "0 5"}) {
    INFO(junk);
    std::ofstream(path) << junk;
    CHECK_FALSE(LoadProcessIdentity(path));
  }
  unlink(path.c_str());
  CHECK_FALSE(LoadProcessIdentity(path));
}

TEST_CASE("the record's directory is created when missing") {
  std::string dir = TempPath("dir");
  std::string path = dir + "/announcer";
  REQUIRE(SaveProcessIdentity(path, {1234, 98765}).ok());
  CHECK(LoadProcessIdentity(path) == ProcessIdentity{1234, 98765});
  unlink(path.c_str());
  rmdir(dir.c_str());
}

TEST_CASE("the recorded process is ended and the record removed") {
  std::string path = TempPath("end");
  pid_t child = Sleeper();
  REQUIRE(SaveProcessIdentity(path, *IdentifyProcess(child)).ok());
  CHECK(TrackedProcessRunning(path));
  REQUIRE(EndTrackedProcess(path, Deadline::After(std::chrono::seconds(5))).ok());
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  CHECK_FALSE(Exists(path));
  CHECK(EndTrackedProcess(path, Deadline::After(std::chrono::seconds(1))).ok());  // nothing left
}

TEST_CASE("a pid now used by another process is left alone") {
  std::string path = TempPath("reused");
  pid_t child = Sleeper();
  auto id = *IdentifyProcess(child);
  // The record of an earlier process that had the same pid.
  REQUIRE(SaveProcessIdentity(path, {id.pid, id.start_time - 1}).ok());
  CHECK_FALSE(TrackedProcessRunning(path));
  REQUIRE(EndTrackedProcess(path, Deadline::After(std::chrono::seconds(1))).ok());
  CHECK(kill(child, 0) == 0);
  CHECK_FALSE(Exists(path));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
}

TEST_CASE("a process that has exited (a zombie not yet reaped) counts as gone") {
  std::string path = TempPath("zombie");
  pid_t child = fork();
  if (child == 0) _exit(0);
  REQUIRE(SaveProcessIdentity(path, {child, 1}).ok());
  siginfo_t info{};
  REQUIRE(waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT) == 0);
  CHECK_FALSE(IdentifyProcess(child));
  CHECK_FALSE(TrackedProcessRunning(path));
  CHECK(EndTrackedProcess(path, Deadline::After(std::chrono::seconds(1))).ok());
  waitpid(child, nullptr, 0);
}
