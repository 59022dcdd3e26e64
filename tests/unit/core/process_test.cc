// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/process.h"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>

using namespace pmmha;
using std::chrono::milliseconds;

namespace {

Result<ProcessResult> Sh(const std::string& script, milliseconds budget = milliseconds(5000),
                         ProcessOptions options = {}) {
  // The tests use sh as a convenient child; the runner itself never does.
  return MakeProcessRunner()->Run({"/bin/sh", "-c", script}, Deadline::After(budget), options);
}

}  // namespace

TEST_CASE("exit codes and output are captured") {
  auto r = Sh("echo out; echo err >&2; exit 3");
  REQUIRE(r.ok());
  CHECK(r->exited);
  CHECK(r->exit_code == 3);
  CHECK(r->out == "out\n");
  CHECK(r->err == "err\n");
  CHECK_FALSE(r->Succeeded());
  CHECK(r->Describe() == "exit 3");
}

TEST_CASE("a program is found on PATH and run with argv, not a shell") {
  auto r =
      MakeProcessRunner()->Run({"echo", "a;b", "$(id)", "*"}, Deadline::After(milliseconds(5000)));
  REQUIRE(r.ok());
  CHECK(r->out == "a;b $(id) *\n");
}

TEST_CASE("a missing program is ERR_INSTALLED") {
  auto r = MakeProcessRunner()->Run({"no-such-program-pmmha"}, Deadline::After(milliseconds(1000)));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == ExitCode::kErrInstalled);
  CHECK_THAT(r.status().reason(), Catch::Contains("'no-such-program-pmmha' not found"));
}

TEST_CASE("no time left means the program is not started") {
  auto r = MakeProcessRunner()->Run({"/bin/true"}, Deadline::Expired());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == ExitCode::kErrGeneric);
}

TEST_CASE("a signal that ended the child is reported") {
  auto r = Sh("kill -KILL $$");
  REQUIRE(r.ok());
  CHECK_FALSE(r->exited);
  CHECK(r->term_signal == SIGKILL);
  CHECK(r->Describe() == "killed by SIGKILL");
}

TEST_CASE("output beyond the cap is dropped and flagged") {
  ProcessOptions options;
  options.output_cap = 1000;
  auto r = Sh("head -c 100000 /dev/zero", milliseconds(5000), options);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);  // the child was not blocked by a full pipe
  CHECK(r->out.size() == 1000);
  CHECK(r->out_truncated);
}

TEST_CASE("at the deadline the child gets SIGTERM") {
  auto start = std::chrono::steady_clock::now();
  auto r = Sh("sleep 30", milliseconds(300));
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(r.ok());
  CHECK(r->timed_out);
  CHECK(r->term_signal == SIGTERM);
  CHECK(took < milliseconds(2000));
  CHECK_THAT(r->Describe(), Catch::StartsWith("timed out"));
}

TEST_CASE("a child that ignores SIGTERM is killed after the grace period, before the deadline") {
  ProcessOptions options;
  options.kill_grace = milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  // The shell itself ignores TERM while looping.
  auto r = Sh("trap '' TERM; while :; do sleep 0.05; done", milliseconds(2000), options);
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(r.ok());
  CHECK(r->timed_out);
  CHECK(r->term_signal == SIGKILL);
  // TERM 500 ms before the deadline (a quarter of 2 s), KILL 312 ms before it.
  CHECK(took >= milliseconds(1650));
  // The runner used to overrun by the grace and a second after SIGKILL.
  CHECK(took < milliseconds(2150));
}

TEST_CASE("the kill tail fits before the deadline, and shrinks for short budgets") {
  // The default grace on a long budget: TERM 1.5 s ahead, KILL 0.5 s ahead.
  KillPlan p = PlanKill(milliseconds(20000), milliseconds(1000));
  CHECK(p.term_before == milliseconds(1500));
  CHECK(p.kill_before == milliseconds(500));
  // A 2 s budget keeps three quarters for the program.
  p = PlanKill(milliseconds(2000), milliseconds(1000));
  CHECK(p.term_before == milliseconds(500));
  CHECK(p.kill_before == milliseconds(166));
  // Nothing left: both at the deadline.
  p = PlanKill(milliseconds(0), milliseconds(1000));
  CHECK(p.term_before == milliseconds(0));
  CHECK(p.kill_before == milliseconds(0));
  // No grace: SIGKILL follows SIGTERM at once.
  p = PlanKill(milliseconds(10000), milliseconds(0));
  CHECK(p.term_before == p.kill_before);
}

TEST_CASE("a grandchild holding the pipe open does not hold us") {
  auto start = std::chrono::steady_clock::now();
  auto r = Sh("echo parent; sleep 5 & exit 0");
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  CHECK(r->out == "parent\n");
  CHECK_FALSE(r->timed_out);
  CHECK(took < milliseconds(2000));
}

TEST_CASE("the child starts with stdin from /dev/null, default SIGPIPE, no leaked fds") {
  signal(SIGPIPE, SIG_IGN);  // as if Pacemaker or a library had ignored it
  auto r = Sh("cat; grep SigIgn /proc/self/status; ls /proc/self/fd | sort -n | tr '\\n' ' '");
  signal(SIGPIPE, SIG_DFL);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  // SIGPIPE is bit 13 (0x1000) of SigIgn.
  CHECK_THAT(r->out, Catch::Contains("SigIgn:\t0000000000000000"));
  CHECK_THAT(r->out, Catch::EndsWith("0 1 2 3 "));  // 3: ls's own directory fd
}

TEST_CASE("the child stays in our process group") {
  auto r = Sh("ps -o pgid= -p $$ | tr -d ' '");
  REQUIRE(r.ok());
  CHECK(r->out == std::to_string(getpgrp()) + "\n");
}

TEST_CASE("extra environment entries reach the child") {
  ProcessOptions options;
  options.extra_env = {"PMMHA_TEST=yes", "PATH=/usr/bin:/bin"};
  auto r = Sh("echo $PMMHA_TEST $PATH", milliseconds(5000), options);
  REQUIRE(r.ok());
  CHECK(r->out == "yes /usr/bin:/bin\n");
}

TEST_CASE("FindExecutable searches PATH") {
  CHECK(FindExecutable("sh", "/nonexistent:/bin") == "/bin/sh");
  CHECK_FALSE(FindExecutable("sh", "/nonexistent").has_value());
  CHECK(FindExecutable("/bin/sh", "") == "/bin/sh");
  CHECK_FALSE(FindExecutable("/etc/passwd", "").has_value());
  CHECK_FALSE(FindExecutable("", "/bin").has_value());
}
