// SPDX-License-Identifier: GPL-2.0-or-later
// The process environment as a value, and the request Pacemaker makes of an
// agent through it: which action, with which meta attributes.
#pragma once

#include <chrono>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "pmmha/core/status.h"

namespace pmmha {

// A snapshot of environment variables. Agents read the environment only
// through this, so tests build one from a map.
class Environment {
 public:
  using Vars = std::map<std::string, std::string, std::less<>>;

  Environment() = default;
  explicit Environment(Vars vars) : vars_(std::move(vars)) {}
  Environment(std::initializer_list<Vars::value_type> vars) : vars_(vars) {}
  // The current process environment (environ).
  static Environment FromProcess();

  std::optional<std::string> Get(std::string_view name) const;
  // The value, or `fallback` when unset or empty.
  std::string GetOr(std::string_view name, std::string_view fallback) const;
  void Set(std::string_view name, std::string_view value);
  const Vars& vars() const { return vars_; }

  // OCF_RESKEY_<param>, unset when absent.
  std::optional<std::string> Param(std::string_view name) const;
  // OCF_RESKEY_CRM_meta_<name> ('-' in `name` becomes '_').
  std::optional<std::string> Meta(std::string_view name) const;

 private:
  Vars vars_;
};

// Meta attributes Pacemaker passes with every operation.
struct MetaAttributes {
  std::optional<std::chrono::milliseconds> timeout;  // CRM_meta_timeout
  std::chrono::milliseconds interval{0};             // CRM_meta_interval
  bool clone = false;            // CRM_meta_clone present: an instance of a clone
  int clone_max = 0;             // CRM_meta_clone_max, 0 when not a clone
  bool promotable = false;       // CRM_meta_promotable, or promoted_max present
  int promoted_max = 0;          // CRM_meta_promoted_max (or the older master_max)
  bool notify = false;           // CRM_meta_notify
  std::string notify_type;       // CRM_meta_notify_type: pre | post
  std::string notify_operation;  // CRM_meta_notify_operation: start | stop | ...
};

// What Pacemaker (or an admin) asked for.
struct Request {
  std::string action;
  MetaAttributes meta;
  int check_level = 0;    // OCF_CHECK_LEVEL (0, 10, 20)
  std::string instance;   // OCF_RESOURCE_INSTANCE, "default" if unset
  std::string rsc_tmp;    // HA_RSCTMP, default /run/resource-agents
  std::string node_name;  // OCF_RESKEY_CRM_meta_on_node, may be empty

  // A probe is a monitor with interval 0: it asks for the true state and must
  // not treat "not running" as a failure.
  bool IsProbe() const;
  // The name of this node in the cluster: node_name when Pacemaker gave it,
  // else the name Pacemaker itself uses for this host, the kernel's node
  // name (uname -n) in full, domain included. Empty only when uname fails.
  std::string NodeName() const;
};

// Reads the meta attributes and OCF_* variables for `action`. Malformed
// numbers (Pacemaker never sends them; a person might) give kErrArgs.
Result<Request> ParseRequest(const Environment& env, std::string_view action);

}  // namespace pmmha
