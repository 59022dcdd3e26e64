// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/environment.h"

#include <sys/utsname.h>

#include <fmt/format.h>

#include "pmmha/core/text.h"

extern char** environ;

namespace pmmha {

Environment Environment::FromProcess() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.vars_.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

std::optional<std::string> Environment::Get(std::string_view name) const {
  auto it = vars_.find(name);
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

std::string Environment::GetOr(std::string_view name, std::string_view fallback) const {
  auto it = vars_.find(name);
  if (it == vars_.end() || it->second.empty()) return std::string(fallback);
  return it->second;
}

void Environment::Set(std::string_view name, std::string_view value) {
  vars_.insert_or_assign(std::string(name), std::string(value));
}

std::optional<std::string> Environment::Param(std::string_view name) const {
  return Get(fmt::format("OCF_RESKEY_{}", name));
}

std::optional<std::string> Environment::Meta(std::string_view name) const {
  std::string key = fmt::format("OCF_RESKEY_CRM_meta_{}", name);
  for (char& c : key) {
    if (c == '-') c = '_';
  }
  return Get(key);
}

bool Request::IsProbe() const { return action == "monitor" && meta.interval.count() == 0; }

// Pacemaker's own fallback (pcmk_hostname()) is uname's nodename as it is,
// without cutting the domain: a node named by its FQDN keeps it.
std::string Request::NodeName() const {
  if (!node_name.empty()) return node_name;
  struct utsname u;
  if (uname(&u) != 0) return {};
  return u.nodename;
}

namespace {

// A non-negative integer meta attribute; nothing when absent or empty.
Result<std::optional<long long>> MetaNumber(const Environment& env, std::string_view name) {
  auto text = env.Meta(name);
  if (!text || text->empty()) return std::optional<long long>();
  auto n = ParseInteger(*text);
  if (!n || *n < 0) {
    return Status::BadArgs("meta attribute '{}' is not a non-negative number: {}", name,
                           Quote(*text));
  }
  return std::optional<long long>(*n);
}

bool MetaTrue(const Environment& env, std::string_view name) {
  auto text = env.Meta(name);
  return text && ParseBoolean(*text).value_or(false);
}

}  // namespace

Result<Request> ParseRequest(const Environment& env, std::string_view action) {
  Request r;
  r.action = std::string(action);

  auto timeout = MetaNumber(env, "timeout");
  if (!timeout) return timeout.status();
  if (*timeout && **timeout > 0) r.meta.timeout = std::chrono::milliseconds(**timeout);

  auto interval = MetaNumber(env, "interval");
  if (!interval) return interval.status();
  r.meta.interval = std::chrono::milliseconds(interval->value_or(0));

  auto clone_max = MetaNumber(env, "clone_max");
  if (!clone_max) return clone_max.status();
  r.meta.clone_max = static_cast<int>(clone_max->value_or(0));
  r.meta.clone = env.Meta("clone").has_value() || r.meta.clone_max > 0;

  auto promoted_max = MetaNumber(env, "promoted_max");
  if (!promoted_max) return promoted_max.status();
  if (!*promoted_max) promoted_max = MetaNumber(env, "master_max");  // Pacemaker < 2.1
  if (!promoted_max) return promoted_max.status();
  r.meta.promoted_max = static_cast<int>(promoted_max->value_or(0));
  // Pacemaker (2.1.5 at least) does not pass CRM_meta_promotable; it passes
  // promoted_max (and master_max) for promotable clones only.
  r.meta.promotable = MetaTrue(env, "promotable") || promoted_max->has_value();
  r.meta.notify = MetaTrue(env, "notify");
  r.meta.notify_type = env.Meta("notify_type").value_or("");
  r.meta.notify_operation = env.Meta("notify_operation").value_or("");

  if (auto level = env.Get("OCF_CHECK_LEVEL"); level && !level->empty()) {
    auto n = ParseInteger(*level);
    if (!n || *n < 0) {
      return Status::BadArgs("OCF_CHECK_LEVEL is not a depth: {}", Quote(*level));
    }
    r.check_level = static_cast<int>(*n);
  }
  r.instance = env.GetOr("OCF_RESOURCE_INSTANCE", "default");
  r.rsc_tmp = env.GetOr("HA_RSCTMP", "/run/resource-agents");
  r.node_name = env.Meta("on_node").value_or("");
  return r;
}

}  // namespace pmmha
