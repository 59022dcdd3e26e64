// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/server/container_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

using namespace pmmha;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("the identity record round-trips, junk is no record") {
  ContainerIdentity id{"3f2a", 4242, 987654};
  auto back = ParseIdentity(FormatIdentity(id));
  REQUIRE(back);
  CHECK(back->id == "3f2a");
  CHECK(back->pid == 4242);
  CHECK(back->start_time == 987654);
  CHECK(back->conmon_pid == 0);
  ContainerIdentity with_conmon{"3f2a", 4242, 987654, 4240, 987650};
  CHECK(FormatIdentity(with_conmon) == "3f2a 4242 987654 4240 987650\n");
  auto conmon = ParseIdentity(FormatIdentity(with_conmon));
  REQUIRE(conmon);
  CHECK(conmon->conmon_pid == 4240);
  CHECK(conmon->conmon_start_time == 987650);
  CHECK(ParseIdentity("3f2a 4242 987654 x")->conmon_pid == 0);  // an older record's shape
  CHECK_FALSE(ParseIdentity(""));
  CHECK_FALSE(ParseIdentity("abc"));
  CHECK_FALSE(ParseIdentity("abc 0 5"));
}

namespace {

// A child that sleeps; with `ignore_term` it survives SIGTERM. Returns once
// the child has set its SIGTERM disposition (a loaded machine may take long
// to run it; a fixed sleep raced with that).
pid_t Spawn(bool ignore_term) {
  int ready[2];
  if (pipe(ready) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    // Not Catch's handlers, which the child inherits.
    signal(SIGTERM, ignore_term ? SIG_IGN : SIG_DFL);
    close(ready[0]);
    if (write(ready[1], "r", 1) != 1) _exit(1);
    close(ready[1]);
    for (;;) pause();
  }
  close(ready[1]);
  char c;
  ssize_t n = pid > 0 ? read(ready[0], &c, 1) : -1;
  close(ready[0]);
  return n == 1 ? pid : -1;
}

}  // namespace

TEST_CASE("a live process is terminated, one that ignores SIGTERM killed after the grace") {
  auto control = MakeProcessControl();
  for (bool ignore_term : {false, true}) {
    INFO("ignores SIGTERM: " << ignore_term);
    pid_t pid = Spawn(ignore_term);
    REQUIRE(pid > 0);
    auto start = control->StartTime(pid);
    REQUIRE(start);
    ContainerIdentity id{"c", pid, *start};
    CHECK(control->IsAlive(id));
    auto t0 = std::chrono::steady_clock::now();
    CHECK(control->Terminate(id, seconds(1), Deadline::After(milliseconds(5000))).ok());
    auto took = std::chrono::steady_clock::now() - t0;
    // Gone means gone: the zombie counts as exited before we reap it.
    CHECK_FALSE(control->IsAlive(id));
    CHECK((took >= milliseconds(900)) == ignore_term);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WTERMSIG(status) == (ignore_term ? SIGKILL : SIGTERM));
  }
}

TEST_CASE("a pid reused by another process is not signalled") {
  auto control = MakeProcessControl();
  pid_t pid = Spawn(false);
  REQUIRE(pid > 0);
  auto start = control->StartTime(pid);
  REQUIRE(start);
  ContainerIdentity other{"c", pid, *start + 1};  // recorded for an older process
  CHECK_FALSE(control->IsAlive(other));
  CHECK(control->Terminate(other, seconds(1), Deadline::After(milliseconds(2000))).ok());
  CHECK(control->StartTime(pid));  // untouched
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  CHECK_FALSE(control->StartTime(pid));
}
