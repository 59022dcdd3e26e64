// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/storage/escalation.h"

#include <signal.h>

#include <map>
#include <thread>

#include <catch2/catch.hpp>

using namespace pmmha;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

enum class Reaction { kDiesOnTerm, kIgnoresTerm, kNeverDies };

struct FakeUser {
  std::string comm;
  Reaction reaction;
  bool alive = true;
};

// A busy mount and its users. The mount is busy while a user lives, or for
// `anonymous_busy` more tries (a reference no process shows).
class FakeWorld : public ProcessControl {
 public:
  std::map<pid_t, FakeUser> users;
  int anonymous_busy = 0;
  int tries = 0;
  std::string unfinished;  // the search for users is cut short, saying this
  bool fail_attempt = false;
  struct Sent {
    pid_t pid;
    int signal;
    milliseconds at;
  };
  std::vector<Sent> sent;
  Clock::time_point begun = Clock::now();

  EscalationStep Step() {
    return {[this] {
              ++tries;
              if (fail_attempt) return Attempt::Failed("Invalid argument");
              for (auto& [pid, u] : users) {
                if (u.alive) return Attempt::Busy();
              }
              if (anonymous_busy > 0) {
                --anonymous_busy;
                return Attempt::Busy();
              }
              return Attempt::Done();
            },
            [this] {
              UserSearch out;
              for (auto& [pid, u] : users) {
                if (u.alive) out.users.push_back({pid, u.comm, "cwd"});
              }
              out.unfinished = unfinished;
              return out;
            }};
  }

  void Signal(pid_t pid, int sig) override {
    sent.push_back({pid, sig, std::chrono::duration_cast<milliseconds>(Clock::now() - begun)});
    FakeUser& u = users.at(pid);
    if (u.reaction == Reaction::kNeverDies) return;
    if (sig == SIGKILL || u.reaction == Reaction::kDiesOnTerm) u.alive = false;
  }
  bool WaitExit(const std::vector<pid_t>& pids, const Deadline& until) override {
    for (pid_t p : pids) {
      if (users.at(p).alive) {
        Pause(until);
        return false;
      }
    }
    return true;
  }
  void Pause(const Deadline& until) override { std::this_thread::sleep_until(until.at()); }
  int Count(int sig) const {
    int n = 0;
    for (const auto& s : sent) n += s.signal == sig;
    return n;
  }
};

Status Run(FakeWorld& w, EscalationPolicy policy, milliseconds budget = milliseconds(400)) {
  return Escalate("unmount of '/srv'", w.Step(), w, policy, Deadline::After(budget), Logger());
}

}  // namespace

TEST_CASE("a free mount is unmounted at once, nobody signalled") {
  FakeWorld w;
  CHECK(Run(w, {}).ok());
  CHECK(w.tries == 1);
  CHECK(w.sent.empty());
}

TEST_CASE("the escalation plan per kind of user") {
  static const struct {
    const char* name;
    Reaction reaction;
    ForceUnmount force;
    bool ok;
    int terms, kills;
  } cases[] = {
      {"leaves on SIGTERM", Reaction::kDiesOnTerm, ForceUnmount::kYes, true, 1, 0},
      {"ignores SIGTERM", Reaction::kIgnoresTerm, ForceUnmount::kYes, true, 1, 1},
      {"safe is as forceful", Reaction::kIgnoresTerm, ForceUnmount::kSafe, true, 1, 1},
      {"never dies (D state)", Reaction::kNeverDies, ForceUnmount::kYes, false, 1, 1},
      {"force_unmount=false signals nobody", Reaction::kDiesOnTerm, ForceUnmount::kNo, false, 0, 0},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    FakeWorld w;
    w.users[4242] = {"sleep", c.reaction};
    Status s = Run(w, {.force = c.force, .term_share = 0.5});
    CHECK(s.ok() == c.ok);
    CHECK(w.Count(SIGTERM) == c.terms);
    CHECK(w.Count(SIGKILL) == c.kills);
    if (!c.ok) {
      CHECK(s.code() == ExitCode::kErrGeneric);
      CHECK_THAT(s.reason(),
                 Catch::Contains("unmount of '/srv' did not succeed before the stop timeout"));
      CHECK_THAT(s.reason(), Catch::Contains("4242 (sleep: cwd)"));
    }
  }
}

TEST_CASE("SIGKILL comes only after the SIGTERM share of the budget") {
  FakeWorld w;
  w.users[1] = {"stubborn", Reaction::kIgnoresTerm};
  w.users[2] = {"polite", Reaction::kDiesOnTerm};
  REQUIRE(Run(w, {.force = ForceUnmount::kYes, .term_share = 0.5}, milliseconds(400)).ok());
  REQUIRE(w.sent.size() == 3);
  CHECK(w.sent[0].signal == SIGTERM);
  CHECK(w.sent[1].signal == SIGTERM);
  CHECK(w.sent[2].signal == SIGKILL);
  CHECK(w.sent[2].pid == 1);
  CHECK(w.sent[2].at >= milliseconds(180));
  CHECK(w.sent[2].at < milliseconds(350));
}

TEST_CASE("term_grace 0 kills at once") {
  FakeWorld w;
  w.users[1] = {"stubborn", Reaction::kIgnoresTerm};
  REQUIRE(Run(w, {.force = ForceUnmount::kYes, .term_share = 0.0}).ok());
  CHECK(w.Count(SIGTERM) == 0);
  CHECK(w.Count(SIGKILL) == 1);
  CHECK(w.sent[0].at < milliseconds(50));
}

TEST_CASE("busy with no user found: retried, nobody signalled") {
  FakeWorld w;
  w.anonymous_busy = 3;
  REQUIRE(Run(w, {}).ok());
  CHECK(w.tries == 4);
  CHECK(w.sent.empty());

  FakeWorld forever;
  forever.anonymous_busy = 1 << 30;
  Status s = Run(forever, {}, milliseconds(200));
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.reason(), Catch::Contains("no process using it found"));
}

TEST_CASE("a failed attempt ends the escalation at once") {
  FakeWorld w;
  w.users[1] = {"x", Reaction::kDiesOnTerm};
  w.fail_attempt = true;
  Status s = Run(w, {});
  REQUIRE_FALSE(s.ok());
  CHECK(s.reason() == "unmount of '/srv' failed: Invalid argument");
  CHECK(w.sent.empty());
}

TEST_CASE("an attempt cut short by the deadline reports who holds the mount") {
  // The last try before the deadline fails only because no time was left:
  // the reason must name the user, not the timed-out try.
  FakeWorld w;
  w.users[42] = {"sleep", Reaction::kNeverDies};
  auto begin = Clock::now();
  EscalationStep step = w.Step();
  auto busy_then_late = step.attempt;
  step.attempt = [&]() {
    if (Clock::now() - begin < milliseconds(300)) return busy_then_late();
    std::this_thread::sleep_for(milliseconds(150));  // runs past the 400 ms deadline
    return Attempt::Failed("no answer within 0 ms (hung filesystem?)");
  };
  EscalationPolicy policy;
  policy.force = ForceUnmount::kNo;
  Status s =
      Escalate("unmount of '/srv'", step, w, policy, Deadline::After(milliseconds(400)), Logger());
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK_THAT(s.reason(), Catch::Contains("still used by 42 (sleep: cwd) (force_unmount=false)"));
  CHECK_THAT(s.reason(), !Catch::Contains("no answer"));
}

TEST_CASE("a search for users cut short says how far it got in the reason") {
  // A host with more processes than the stop has time to look through: the
  // users found are still ended, and the reason tells the admin why the
  // rest may have been missed.
  FakeWorld w;
  w.users[42] = {"sleep", Reaction::kNeverDies};
  w.unfinished = "the search for its users was cut short after 2300 of 5066 processes";
  Status s = Escalate("unmount of '/srv'", w.Step(), w, EscalationPolicy{},
                      Deadline::After(milliseconds(300)), Logger());
  CHECK(s.code() == ExitCode::kErrGeneric);
  CHECK(w.Count(SIGTERM) == 1);
  CHECK_THAT(s.reason(), Catch::Contains("still used by 42 (sleep: cwd); the search for its users "
                                         "was cut short after 2300 of 5066 processes"));

  // Nobody found at all: the same words.
  w.users.clear();
  w.anonymous_busy = 1000;
  s = Escalate("unmount of '/srv'", w.Step(), w, EscalationPolicy{},
               Deadline::After(milliseconds(200)), Logger());
  CHECK_THAT(s.reason(), Catch::Contains("no process using it found; the search for its users "
                                         "was cut short after 2300"));
}

TEST_CASE("force_unmount values") {
  CHECK(ParseForceUnmount("true") == ForceUnmount::kYes);
  CHECK(ParseForceUnmount("safe") == ForceUnmount::kSafe);
  CHECK(ParseForceUnmount("false") == ForceUnmount::kNo);
}
