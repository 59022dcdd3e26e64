// SPDX-License-Identifier: GPL-2.0-or-later
// One parameter table per agent. The table is the only place a parameter's
// name, type, default, flags and descriptions are written: the meta-data XML,
// the validation, the command line for humans and the typed access all come
// from it.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pmmha/core/environment.h"
#include "pmmha/core/status.h"

namespace pmmha {

// Meta-data content types that both the DTD and the RelaxNG schema shipped
// with resource-agents accept.
enum class ParamType { kString, kInteger, kBoolean };

enum ParamFlag : std::uint32_t {
  kRequired = 1u << 0,
  kUnique = 1u << 1,      // no two resources may share the value
  kReloadable = 1u << 2,  // a change reloads (reload-agent) instead of restarting
  kPrivate = 1u << 3,     // a secret: never logged, never shown in errors
};

// A check of one value beyond its type; returns an error message (without
// the parameter name, which the caller adds) or nothing.
using ValueCheck = std::optional<std::string> (*)(std::string_view value);

// Another agent's name for a parameter (IPaddr2's iflabel for label), so
// that its configuration works unchanged: accepted, and declared in the
// meta-data as deprecated, replaced with the parameter's own name.
struct ParamAlias {
  std::string_view name;
  std::string_view agent;  // "ocf:heartbeat:IPaddr2"
  // The alias's own type, when its values are not the parameter's (with
  // `translate`); nothing: the parameter's.
  std::optional<ParamType> type = std::nullopt;
  // The parameter's value for the alias's `value`; nothing when `value`
  // is not one the other agent accepts. nullptr: the same value.
  std::optional<std::string> (*translate)(std::string_view value) = nullptr;
};

// A parameter of a stock agent that this one does not support. Set to
// anything but a `harmless` value (what means "off" there, or what this
// agent does anyway) it is refused, never silently ignored: a migrated
// configuration would lose its meaning.
struct ForeignParam {
  std::string_view name;
  std::string_view agent;                              // "ocf:heartbeat:IPaddr2"
  std::string_view why;                                // why not, and what to do instead
  bool (*harmless)(std::string_view value) = nullptr;  // nullptr: no value is
};

// What ocf-shellfuncs' ocf_is_true calls true (y, yes, on, true, 1 in any
// case), and false: everything else.
bool IsOcfTrue(std::string_view value);
inline bool IsOcfFalse(std::string_view value) { return !IsOcfTrue(value); }

struct ParamSpec {
  std::string_view name;
  ParamType type = ParamType::kString;
  std::string_view default_value = {};  // empty: no default
  std::uint32_t flags = 0;
  std::string_view shortdesc = {};
  std::string_view longdesc = {};
  // kString: the allowed values, if the parameter is an enumeration.
  std::vector<std::string_view> choices = {};
  // kInteger: the allowed range.
  long long min = 0;
  long long max = 0;
  ValueCheck check = nullptr;
  std::vector<ParamAlias> aliases = {};

  bool Has(ParamFlag flag) const { return (flags & flag) != 0; }
};

using ParamTable = std::vector<const ParamSpec*>;

// The longest value any parameter accepts. Longer values are a
// misconfiguration, not something to pass to the kernel or a daemon.
inline constexpr std::size_t kMaxValueLength = 4096;

// Validated parameter values with typed access. Only the ParamSpec objects of
// the table the values were validated against may be passed to the getters.
class Params {
 public:
  Params() = default;
  // The value, or the default when unset ("" when there is none).
  const std::string& String(const ParamSpec& spec) const;
  long long Integer(const ParamSpec& spec) const;  // 0 when unset, no default
  bool Boolean(const ParamSpec& spec) const;       // false when unset, no default
  // True when the value came from the user, not from the default.
  bool IsSet(const ParamSpec& spec) const;

  // Builds values directly (for tests and for the validator).
  void Put(const ParamSpec& spec, std::string value, bool user_set);

 private:
  struct Value {
    std::string text;
    bool user_set = false;
  };
  const Value& Find(const ParamSpec& spec) const;
  std::map<std::string_view, Value> values_;
};

// Reads every parameter of `table` from OCF_RESKEY_* in `env` (or from one
// of its aliases; the two set to different values is an error) and checks
// it: required values present, length, no control characters, type,
// choices, range, then the spec's own check. A `foreign` parameter set to
// other than a harmless value is an error too. The first problem is
// returned as kErrConfigured with a reason naming the parameter and
// (unless it is private) the value in single quotes. Not `strict` (stop,
// monitor, probes, demote, which must not fail for what a start would
// refuse: a failed stop fences the node): foreign parameters are not
// looked at, and of a parameter and its alias set to different values the
// parameter's own name wins.
Result<Params> ValidateParams(const ParamTable& table, const Environment& env,
                              const std::vector<ForeignParam>& foreign = {}, bool strict = true);

}  // namespace pmmha
