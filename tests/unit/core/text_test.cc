// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/text.h"

#include <cerrno>

#include <catch2/catch.hpp>

using namespace pmmha;

TEST_CASE("OCF booleans are parsed like ocf_is_true") {
  static const struct {
    const char* text;
    std::optional<bool> value;
  } cases[] = {{"yes", true},  {"TRUE", true}, {"1", true},      {"on", true},
               {"Y", true},    {"no", false},  {"False", false}, {"0", false},
               {"OFF", false}, {"", {}},       {"2", {}},        {"yes ", {}}};
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(ParseBoolean(c.text) == c.value);
  }
}

TEST_CASE("integers are whole decimal numbers") {
  CHECK(ParseInteger("0") == 0);
  CHECK(ParseInteger("+7") == 7);
  CHECK(ParseInteger("-7") == -7);
  CHECK_FALSE(ParseInteger("").has_value());
  CHECK_FALSE(ParseInteger("7 ").has_value());
  CHECK_FALSE(ParseInteger("0x10").has_value());
  CHECK_FALSE(ParseInteger("1e3").has_value());
}

TEST_CASE("Quote shows control characters and cuts long values") {
  CHECK(Quote("eth0") == "'eth0'");
  CHECK(Quote("a;b") == "'a;b'");
  CHECK(Quote("\x01") == "'\\x01'");
  CHECK(Quote(std::string(100, 'x')) == "'" + std::string(64, 'x') + "' (cut, 100 bytes)");
}

TEST_CASE("OneLine folds program output into one line of a reason") {
  static const struct {
    const char* text;
    std::size_t max;
    const char* line;
  } cases[] = {
      {"", 300, ""},
      {"one line", 300, "one line"},
      {"Error: no such container\n", 300, "Error: no such container"},
      {"first\r\n\tsecond  third\n\n", 300, "first second third"},
      {"  leading", 300, "leading"},
      {"abcdefgh", 5, "abcde..."},
      {"abcde", 5, "abcde"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(OneLine(c.text, c.max) == c.line);
  }
}

TEST_CASE("LastLine is the last non-empty line of a program's output") {
  CHECK(LastLine("") == "");
  CHECK(LastLine("only") == "only");
  CHECK(LastLine("warning: x\nError: the real reason\n\n") == "Error: the real reason");
  CHECK(LastLine("a\nb \n") == "b");
}

TEST_CASE("Errno names the error") { CHECK(Errno(ENOENT) == "No such file or directory"); }

TEST_CASE("names are [A-Za-z0-9_.-] and nothing else") {
  CHECK(IsName("pmm-server_1.local"));
  for (const char* bad : {"", "a b", "a/b", "a:b", "a;b", "a$b", "\x01", "\xc3\xa9"}) {
    INFO(bad);
    CHECK_FALSE(IsName(bad));
  }
}
