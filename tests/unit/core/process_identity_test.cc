// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/process_identity.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

using namespace pmmha;

TEST_CASE("the start time is field 22 of /proc/PID/stat, counted after the command") {
  static const struct {
    const char* stat;
    long long start;  // -1: nothing
  } cases[] = {
      {"42 (sleep) S 1 42 42 0 -1 4194560 96 0 0 0 0 0 0 0 20 0 1 0 123456 2232320 128", 123456},
      {"42 (a b) c) R 1 42 42 0 -1 4194560 96 0 0 0 0 0 0 0 20 0 1 0 77 2232320 128", 77},
      {"42 (pmm) Z 1 42 42 0 -1 4194560 96 0 0 0 0 0 0 0 20 0 1 0 77 0 0", -1},
      {"42 (short) S 1 42", -1},
      {"garbage", -1},
  };
  for (const auto& c : cases) {
    INFO(c.stat);
    auto t = ParseStatStartTime(c.stat);
    if (c.start < 0) {
      CHECK_FALSE(t);
    } else {
      REQUIRE(t);
      CHECK(*t == static_cast<unsigned long long>(c.start));
    }
  }
}

TEST_CASE("a live process has an identity, a zombie, pid 0 and an unused pid have none") {
  auto self = IdentifyProcess(getpid());
  REQUIRE(self);
  CHECK(self->pid == getpid());
  CHECK(IdentifyProcess(getpid()) == self);
  CHECK_FALSE(IdentifyProcess(0));
  CHECK_FALSE(IdentifyProcess(0x3ffffff0));
  pid_t child = fork();
  if (child == 0) _exit(0);
  REQUIRE(child > 0);
  // Exited but not reaped: a zombie is no longer the process recorded.
  for (int i = 0; i < 200 && IdentifyProcess(child); ++i) usleep(5000);
  CHECK_FALSE(IdentifyProcess(child));
  int status;
  waitpid(child, &status, 0);
}
