// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/words.h"

#include <catch2/catch.hpp>

using namespace pmmha;
using Words = std::vector<std::string>;

TEST_CASE("words split like a shell would, without expansion") {
  static const struct {
    const char* text;
    Words words;
  } cases[] = {
      {"", {}},
      {"   ", {}},
      {"--cpus 2", {"--cpus", "2"}},
      {"  --cpus\t2 \n", {"--cpus", "2"}},
      {"--label 'a b'", {"--label", "a b"}},
      {"--label 'a;b|c&d$e'", {"--label", "a;b|c&d$e"}},
      {"-e \"X=a b\"", {"-e", "X=a b"}},
      {"-e \"X=\\\"q\\\" \\$HOME\"", {"-e", "X=\"q\" $HOME"}},
      {"a\\ b", {"a b"}},
      {"a\\;b", {"a;b"}},
      {"pre'mid'\"post\"", {"premidpost"}},
      {"''", {""}},
      {"--ulimit nofile=1024:1024", {"--ulimit", "nofile=1024:1024"}},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto w = SplitWords(c.text);
    REQUIRE(w.ok());
    CHECK(*w == c.words);
  }
}

TEST_CASE("shell syntax and broken quoting are refused with a position") {
  static const struct {
    const char* text;
    const char* message;
  } cases[] = {
      {"--cpus 2; rm -rf /", "';' at position 9"},
      {"a | b", "'|' at position 3"},
      {"a && b", "'&' at position 3"},
      {"$(id)", "'$' at position 1"},
      {"`id`", "'`' at position 1"},
      {"a > /etc/passwd", "'>' at position 3"},
      {"\"$HOME\"", "'$' inside double quotes at position 2"},
      {"'open", "unterminated ' quote at position 1"},
      {"x \"open", "unterminated \" quote at position 3"},
      {"trailing\\", "a trailing backslash"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto w = SplitWords(c.text);
    REQUIRE_FALSE(w.ok());
    CHECK(w.status().code() == ExitCode::kErrConfigured);
    CHECK_THAT(w.status().reason(), Catch::Contains(c.message));
  }
}
