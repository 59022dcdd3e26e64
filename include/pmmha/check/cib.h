// SPDX-License-Identifier: GPL-2.0-or-later
// What pmm-ha-check reads of a Pacemaker CIB: resources with their
// parameters, meta attributes and operations; constraints (resource sets
// expanded into pairs); cluster properties and defaults; nodes with the
// transient attributes the agents publish (status section, when present).
// The parser keeps values as written: the checks interpret them.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pmmha/core/status.h"

namespace pmmha {

using NameValues = std::map<std::string, std::string, std::less<>>;

struct CibOp {
  std::string id{};
  std::string name{};      // start, stop, monitor, promote, demote, ...
  std::string interval{};  // as written; "" when not given (0)
  std::string role{};      // Promoted, Unpromoted (or Master, Slave); "" for any
  std::string timeout{};   // as written (attribute or op meta); "" when not set
  std::string depth{};     // OCF_CHECK_LEVEL; "" when not set
};

struct CibPrimitive {
  std::string id{};
  std::string standard{};  // ocf, stonith, systemd, ...
  std::string provider{};  // percona, heartbeat; "" outside OCF
  std::string type{};      // pmm-server, IPaddr2, fence_ipmilan, ...
  NameValues params{};
  NameValues meta{};
  std::vector<CibOp> ops{};
  std::string group{};  // the group it belongs to, or ""
  std::string clone{};  // the clone of it or of its group, or ""

  // "ocf:percona:pmm-server", "stonith:fence_ipmilan".
  std::string Agent() const;
  bool IsOurs(std::string_view agent_type) const;  // ocf:<any provider>:agent_type
  bool IsStonith() const { return standard == "stonith"; }
  // The parameter's value, or `fallback` when it is not set.
  std::string Param(std::string_view name, std::string_view fallback = "") const;
};

struct CibGroup {
  std::string id{};
  std::vector<std::string> members{};  // in order
  NameValues meta{};
  std::string clone{};  // the clone of the group, or ""
};

struct CibClone {
  std::string id{};
  std::string child{};      // a primitive or group id
  bool promotable = false;  // <master>, or promotable=true
  NameValues meta{};
};

// One ordering pair: `first` (first_action) before `then` (then_action).
struct CibOrder {
  std::string id{};
  std::string first{}, then{};
  std::string first_action = "start", then_action = "start";
  bool mandatory = true;  // kind Mandatory, or a legacy positive score
  bool symmetrical = true;
};

// One colocation pair: `rsc` (in rsc_role) placed with `with` (in with_role).
struct CibColocation {
  std::string id{};
  std::string rsc{}, with{};
  std::string rsc_role{}, with_role{};  // "" for any role
  std::string score{};                  // as written: INFINITY, -INFINITY, 100
};

struct CibLocation {
  std::string id{};
  std::string rsc{};
  std::string node{};   // "" for a rule-based constraint
  std::string score{};  // as written; "" for a rule-based constraint
  bool has_rule = false;
  std::vector<std::string> rule_attributes{};  // the node attributes its rules test
};

struct CibNode {
  std::string id{};
  std::string uname{};
  NameValues attributes{};  // transient, from the status section
  bool online = false;      // in the status section: crmd online
};

struct Cib {
  NameValues properties{};  // crm_config
  NameValues rsc_defaults{};
  NameValues op_defaults{};
  std::vector<CibPrimitive> primitives{};
  std::vector<CibGroup> groups{};
  std::vector<CibClone> clones{};
  std::vector<CibOrder> orders{};
  std::vector<CibColocation> colocations{};
  std::vector<CibLocation> locations{};
  std::vector<CibNode> nodes{};  // cluster nodes (members, not remote or ping)
  bool has_status = false;       // a status section: a live CIB or one saved from it

  const CibPrimitive* Primitive(std::string_view id) const;
  const CibGroup* Group(std::string_view id) const;
  const CibClone* Clone(std::string_view id) const;
  // The ids a constraint may name to mean this primitive: itself, its group,
  // its clone.
  std::vector<std::string> Containers(const CibPrimitive& p) const;
  // The outermost of those: what a new constraint should name.
  std::string Top(const CibPrimitive& p) const;
  // The primitives inside a primitive, group or clone id.
  std::vector<const CibPrimitive*> Contents(std::string_view id) const;
  std::string Property(std::string_view name, std::string_view fallback = "") const;
};

// Parses a CIB document (cibadmin -Q, or a file of one). Fails (kErrGeneric)
// when it is not XML or has no <cib><configuration>.
Result<Cib> ParseCib(std::string_view xml);

// A Pacemaker duration as crm_get_msec reads it: "90" (seconds), "90s",
// "500ms", "5min", "5m", "1h", "2hr", or ISO 8601 "PT5M"; nothing otherwise.
std::optional<std::chrono::milliseconds> ParseCibDuration(std::string_view text);

// A Pacemaker score: INFINITY (+INFINITY, inf, +inf) is 1000000,
// -INFINITY -1000000, integers are clamped; nothing on junk.
std::optional<long long> ParseCibScore(std::string_view text);

// Promoted/Master, Unpromoted/Slave, Started, Stopped: the OCF 1.1 names.
std::string CanonicalRole(std::string_view role);

}  // namespace pmmha
