// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/param.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join from fmt 11 on

#include "pmmha/core/text.h"

namespace pmmha {

namespace {

std::string_view TypeName(ParamType type) {
  switch (type) {
    case ParamType::kInteger: return "an integer";
    case ParamType::kBoolean: return "a boolean (true/false, yes/no, 1/0, on/off)";
    case ParamType::kString: break;
  }
  return "a string";
}

// "'label'", or "'iflabel' (ocf:heartbeat:IPaddr2's name for label)".
std::string Named(const ParamSpec& spec, const ParamAlias* via) {
  if (via == nullptr) return fmt::format("'{}'", spec.name);
  return fmt::format("'{}' ({}'s name for {})", via->name, via->agent, spec.name);
}

Status Invalid(const ParamSpec& spec, std::string_view value, std::string_view why,
               const ParamAlias* via = nullptr) {
  if (spec.Has(kPrivate)) {
    return Status::NotConfigured("parameter {} (value hidden): {}", Named(spec, via), why);
  }
  return Status::NotConfigured("parameter {} = {}: {}", Named(spec, via), Quote(value), why);
}

std::optional<std::string> CheckValue(const ParamSpec& spec, std::string_view value) {
  if (value.size() > kMaxValueLength) {
    return fmt::format("is {} bytes long, more than the {} allowed", value.size(), kMaxValueLength);
  }
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return std::string("contains a control character");
    }
  }
  switch (spec.type) {
    case ParamType::kBoolean:
      if (!ParseBoolean(value)) return fmt::format("is not {}", TypeName(spec.type));
      break;
    case ParamType::kInteger: {
      auto n = ParseInteger(value);
      if (!n) return fmt::format("is not {}", TypeName(spec.type));
      if (spec.min != 0 || spec.max != 0) {
        if (*n < spec.min || *n > spec.max) {
          return fmt::format("is out of range ({} to {})", spec.min, spec.max);
        }
      }
      break;
    }
    case ParamType::kString:
      if (!spec.choices.empty() &&
          std::find(spec.choices.begin(), spec.choices.end(), value) == spec.choices.end()) {
        return fmt::format("must be one of: {}", fmt::join(spec.choices, ", "));
      }
      break;
  }
  if (spec.check != nullptr) return spec.check(value);
  return std::nullopt;
}

// The value given for `spec` under its own name or an alias (nothing when
// unset; OCF treats an empty value like an unset one, as ocf-shellfuncs'
// ${X:-default} does), and the alias it came from.
struct Given {
  std::optional<std::string> value;
  const ParamAlias* via = nullptr;
};

Result<Given> ReadGiven(const ParamSpec& spec, const Environment& env, bool strict) {
  Given given;
  if (auto own = env.Param(spec.name); own && !own->empty()) given.value = std::move(own);
  for (const ParamAlias& alias : spec.aliases) {
    auto raw = env.Param(alias.name);
    if (!raw || raw->empty()) continue;
    std::optional<std::string> value = *raw;
    if (alias.translate != nullptr) {
      value = alias.translate(*raw);
      if (!value) return Invalid(spec, *raw, "is not a value it accepts", &alias);
    }
    if (given.value && *given.value != *value && strict) {
      std::string mine = Named(spec, given.via);
      if (spec.Has(kPrivate)) {
        return Status::NotConfigured("parameters {} and {} are both set, to different values", mine,
                                     Named(spec, &alias));
      }
      return Status::NotConfigured(
          "parameters {} = {} and {} = {} are both set, to different "
          "values: set one",
          mine, Quote(*given.value), Named(spec, &alias), Quote(*raw));
    }
    if (!given.value) {
      given.value = std::move(value);
      given.via = &alias;
    }
  }
  return given;
}

}  // namespace

bool IsOcfTrue(std::string_view value) {
  // ParseBoolean's true spellings, and ocf_is_true's t.
  return ParseBoolean(value).value_or(false) || value == "t" || value == "T";
}

const Params::Value& Params::Find(const ParamSpec& spec) const {
  auto it = values_.find(spec.name);
  if (it == values_.end()) {
    // A getter called with a spec from another table: a programming error
    // that every agent's tests would hit at once.
    fmt::print(stderr, "internal error: parameter '{}' is not in the table\n", spec.name);
    std::abort();
  }
  return it->second;
}

const std::string& Params::String(const ParamSpec& spec) const { return Find(spec).text; }

long long Params::Integer(const ParamSpec& spec) const {
  return ParseInteger(Find(spec).text).value_or(0);
}

bool Params::Boolean(const ParamSpec& spec) const {
  return ParseBoolean(Find(spec).text).value_or(false);
}

bool Params::IsSet(const ParamSpec& spec) const { return Find(spec).user_set; }

void Params::Put(const ParamSpec& spec, std::string value, bool user_set) {
  values_.insert_or_assign(spec.name, Value{std::move(value), user_set});
}

Result<Params> ValidateParams(const ParamTable& table, const Environment& env,
                              const std::vector<ForeignParam>& foreign, bool strict) {
  for (const ForeignParam& f : strict ? foreign : std::vector<ForeignParam>{}) {
    auto value = env.Param(f.name);
    if (!value || value->empty()) continue;
    if (f.harmless != nullptr && f.harmless(*value)) continue;
    return Status::NotConfigured("parameter '{}' = {} of {} is not supported: {}", f.name,
                                 Quote(*value), f.agent, f.why);
  }
  Params params;
  for (const ParamSpec* spec : table) {
    auto read = ReadGiven(*spec, env, strict);
    if (!read) return read.status();
    auto& given = read->value;
    const bool user_set = given.has_value();
    if (!user_set) {
      if (spec->Has(kRequired)) {
        return Status::NotConfigured("required parameter '{}' is not set", spec->name);
      }
      params.Put(*spec, std::string(spec->default_value), false);
      continue;
    }
    if (auto why = CheckValue(*spec, *given)) return Invalid(*spec, *given, *why, read->via);
    params.Put(*spec, std::move(*given), true);
  }
  return params;
}

}  // namespace pmmha
