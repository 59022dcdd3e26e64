// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/param.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace pmmha;

namespace {

std::optional<std::string> NoSlash(std::string_view v) {
  if (v.find('/') != std::string_view::npos) return std::string("must not contain '/'");
  return std::nullopt;
}

const ParamSpec kName{.name = "name", .flags = kRequired, .shortdesc = "n", .check = NoSlash};
const ParamSpec kCount{.name = "count",
                       .type = ParamType::kInteger,
                       .default_value = "5",
                       .shortdesc = "c",
                       .min = 1,
                       .max = 100};
const ParamSpec kFlag{
    .name = "flag", .type = ParamType::kBoolean, .default_value = "true", .shortdesc = "f"};
const ParamSpec kMode{.name = "mode",
                      .default_value = "request",
                      .shortdesc = "m",
                      .choices = {"request", "reply", "both"}};
const ParamSpec kSecret{.name = "secret", .flags = kPrivate, .shortdesc = "s", .check = NoSlash};
const ParamTable kTable{&kName, &kCount, &kFlag, &kMode, &kSecret};

Environment With(std::map<std::string, std::string, std::less<>> params) {
  std::map<std::string, std::string, std::less<>> vars;
  for (auto& [k, v] : params) vars["OCF_RESKEY_" + k] = v;
  return Environment(std::move(vars));
}

}  // namespace

TEST_CASE("defaults apply when a value is unset or empty") {
  for (const char* count : std::initializer_list<const char*>{"", nullptr}) {
    auto env = With({{"name", "x"}});
    if (count) env.Set("OCF_RESKEY_count", count);
    auto p = ValidateParams(kTable, env);
    REQUIRE(p.ok());
    CHECK(p->Integer(kCount) == 5);
    CHECK_FALSE(p->IsSet(kCount));
    CHECK(p->Boolean(kFlag));
    CHECK(p->String(kMode) == "request");
    CHECK(p->String(kSecret).empty());
    CHECK(p->IsSet(kName));
  }
}

TEST_CASE("typed values are parsed") {
  auto p = ValidateParams(kTable,
                          With({{"name", "x"}, {"count", "42"}, {"flag", "No"}, {"mode", "both"}}));
  REQUIRE(p.ok());
  CHECK(p->Integer(kCount) == 42);
  CHECK_FALSE(p->Boolean(kFlag));
  CHECK(p->String(kMode) == "both");
}

TEST_CASE("bad values give ERR_CONFIGURED with a reason naming parameter and value") {
  static const struct {
    const char* param;
    std::string value;
    const char* message;
  } cases[] = {
      {"count", "5x", "parameter 'count' = '5x': is not an integer"},
      {"count", "0", "parameter 'count' = '0': is out of range (1 to 100)"},
      {"count", "99999999999999999999", "is not an integer"},
      {"flag", "maybe", "parameter 'flag' = 'maybe': is not a boolean"},
      {"mode", "gratuitous", "must be one of: request, reply, both"},
      {"name", "a/b", "parameter 'name' = 'a/b': must not contain '/'"},
      {"name", "a\nb", "parameter 'name' = 'a\\x0ab': contains a control character"},
      {"name", std::string(10240, 'x'), "is 10240 bytes long, more than the 4096 allowed"},
  };
  for (const auto& c : cases) {
    INFO(c.param << " = " << c.value.substr(0, 20));
    auto env = With({{"name", "ok"}});
    env.Set(std::string("OCF_RESKEY_") + c.param, c.value);
    auto p = ValidateParams(kTable, env);
    REQUIRE_FALSE(p.ok());
    CHECK(p.status().code() == ExitCode::kErrConfigured);
    CHECK_THAT(p.status().reason(), Catch::Contains(c.message));
  }
}

TEST_CASE("a missing required parameter is named") {
  auto p = ValidateParams(kTable, With({}));
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == ExitCode::kErrConfigured);
  CHECK(p.status().reason() == "required parameter 'name' is not set");
}

TEST_CASE("a private value never appears in a message") {
  auto p = ValidateParams(kTable, With({{"name", "x"}, {"secret", "hunter2/"}}));
  REQUIRE_FALSE(p.ok());
  CHECK_THAT(p.status().reason(), !Catch::Contains("hunter2"));
  CHECK_THAT(p.status().reason(), Catch::Contains("'secret' (value hidden)"));
}

namespace {

std::optional<std::string> PullFromAllow(std::string_view v) {
  if (v == "maybe") return std::nullopt;
  return std::string(IsOcfTrue(v) ? "missing" : "never");
}
const ParamSpec kLabel{.name = "label",
                       .shortdesc = "l",
                       .check = NoSlash,
                       .aliases = {{.name = "iflabel", .agent = "ocf:heartbeat:IPaddr2"}}};
const ParamSpec kPull{.name = "pull",
                      .default_value = "missing",
                      .shortdesc = "p",
                      .choices = {"never", "missing", "always"},
                      .aliases = {{.name = "allow_pull",
                                   .agent = "ocf:heartbeat:podman",
                                   .type = ParamType::kBoolean,
                                   .translate = PullFromAllow}}};
const ParamTable kAliased{&kLabel, &kPull};

}  // namespace

TEST_CASE("another agent's name for a parameter sets it") {
  static const struct {
    std::map<std::string, std::string, std::less<>> given;
    const char* label;  // nullptr: an error
    const char* pull;
    const char* reason;
  } cases[] = {
      {{{"iflabel", "pmm"}}, "pmm", "missing", nullptr},
      {{{"label", "pmm"}, {"iflabel", "pmm"}}, "pmm", "missing", nullptr},
      {{{"label", "pmm"}, {"iflabel", ""}}, "pmm", "missing", nullptr},
      {{{"allow_pull", "false"}}, "", "never", nullptr},
      {{{"allow_pull", "yes"}}, "", "missing", nullptr},
      {{{"pull", "never"}, {"allow_pull", "no"}}, "", "never", nullptr},
      {{{"label", "a"}, {"iflabel", "b"}},
       nullptr,
       nullptr,
       "parameters 'label' = 'a' and 'iflabel' (ocf:heartbeat:IPaddr2's name for label) = 'b' "
       "are both set, to different values"},
      {{{"pull", "always"}, {"allow_pull", "true"}},
       nullptr,
       nullptr,
       "'pull' = 'always' and 'allow_pull' (ocf:heartbeat:podman's name for pull) = 'true'"},
      {{{"allow_pull", "maybe"}},
       nullptr,
       nullptr,
       "parameter 'allow_pull' (ocf:heartbeat:podman's name for pull) = 'maybe': is not a value "
       "it accepts"},
      // The parameter's own checks, naming the name the user wrote.
      {{{"iflabel", "a/b"}},
       nullptr,
       nullptr,
       "parameter 'iflabel' (ocf:heartbeat:IPaddr2's name for label) = 'a/b': must not contain"},
  };
  for (const auto& c : cases) {
    auto p = ValidateParams(kAliased, With(c.given));
    INFO(c.given.begin()->first << "=" << c.given.begin()->second);
    if (c.label == nullptr) {
      REQUIRE_FALSE(p.ok());
      CHECK(p.status().code() == ExitCode::kErrConfigured);
      CHECK_THAT(p.status().reason(), Catch::Contains(c.reason));
      continue;
    }
    REQUIRE(p.ok());
    CHECK(p->String(kLabel) == c.label);
    CHECK(p->String(kPull) == c.pull);
  }
}

TEST_CASE("a stock agent's parameter we lack is refused unless it is harmless") {
  const std::vector<ForeignParam> foreign = {
      {"lvs_support", "ocf:heartbeat:IPaddr2", "no LVS", IsOcfFalse},
      {"send_arp_opts", "ocf:heartbeat:IPaddr2", "use arp_mode"},
  };
  static const struct {
    const char* name;
    const char* value;
    bool ok;
  } cases[] = {
      {"lvs_support", "false", true}, {"lvs_support", "0", true},     {"lvs_support", "", true},
      {"lvs_support", "No", true},    {"lvs_support", "true", false}, {"lvs_support", "YES", false},
      {"send_arp_opts", "-A", false}, {"send_arp_opts", "", true},
  };
  for (const auto& c : cases) {
    INFO(c.name << "=" << c.value);
    auto p = ValidateParams(kAliased, With({{c.name, c.value}}), foreign);
    CHECK(p.ok() == c.ok);
    if (!c.ok) {
      CHECK(p.status().code() == ExitCode::kErrConfigured);
      CHECK_THAT(p.status().reason(),
                 Catch::StartsWith(fmt::format("parameter '{}' = '{}' of ocf:heartbeat:IPaddr2 is "
                                               "not supported: ",
                                               c.name, c.value)));
    }
  }
}

TEST_CASE("not strict (stop, monitor): foreign parameters ignored, our name wins over an alias") {
  const std::vector<ForeignParam> foreign = {{"send_arp_opts", "ocf:heartbeat:IPaddr2", "no"}};
  auto env = With({{"label", "a"}, {"iflabel", "b"}, {"send_arp_opts", "-A"}});
  CHECK_FALSE(ValidateParams(kAliased, env, foreign, true).ok());
  auto p = ValidateParams(kAliased, env, foreign, false);
  REQUIRE(p.ok());
  CHECK(p->String(kLabel) == "a");
  // The alias alone still counts.
  auto alone = ValidateParams(kAliased, With({{"iflabel", "b"}}), foreign, false);
  REQUIRE(alone.ok());
  CHECK(alone->String(kLabel) == "b");
}

TEST_CASE("ocf_is_true's spellings") {
  for (const char* t : {"yes", "YES", "y", "true", "True", "on", "1", "t"}) CHECK(IsOcfTrue(t));
  for (const char* f : {"no", "false", "0", "off", "", "2", "yess"}) CHECK(IsOcfFalse(f));
}
