// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/check/doctor.h"

#include <algorithm>
#include <functional>
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "pmmha/core/text.h"
#include "pmmha/server/pmm_server.h"

namespace pmmha {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr long long kInfinity = 1000000;
// Pacemaker's operation timeout when neither the op nor op_defaults set one.
constexpr milliseconds kPacemakerDefaultTimeout{20000};
// PMM starts in 1-3 minutes on real hardware, more on a first start or an
// upgrade (domain facts; Helm allows about 6 minutes).
constexpr seconds kPmmBootTime{300};
// supervisord gives VictoriaMetrics up to 300 s to flush on stop.
constexpr seconds kPmmFlushTime{300};

// The agents' defaults the checks depend on (tests/integration/doctor.sh
// compares them with the agents' meta-data).
constexpr std::string_view kDefaultHealthTimeout = "5";
constexpr std::string_view kDefaultRequireMount = "true";
constexpr std::string_view kDefaultForceUnmount = "true";
constexpr std::string_view kDefaultHa = "false";

// Attribute names and values the agents publish (pmm-server, pmm-image).
constexpr std::string_view kAttrImage = "pmm-image";
constexpr std::string_view kAttrHaKey = "pmm-ha-key";
constexpr std::string_view kAttrData = "pmm-data";
constexpr std::string_view kAttrSrvSpace = "pmm-srv-space";
constexpr std::string_view kAttrSrvFree = "pmm-srv-free";

const CheckInfo kChecks[] = {
    {"fencing-disabled", Severity::kError,
     "stonith-enabled=false while pmm-storage mounts a shared device"},
    {"fencing-no-device", Severity::kError,
     "no fence device can fence a node that may run pmm-storage"},
    {"fencing-two-node-delay", Severity::kWarning,
     "a two-node cluster without a fencing delay (both nodes may fence each other)"},
    {"order-server-after-storage", Severity::kError, "pmm-server is not started after pmm-storage"},
    {"colocation-server-with-storage", Severity::kError,
     "pmm-server is not kept on the node where pmm-storage runs"},
    {"colocation-vip-with-server", Severity::kError,
     "the VIP is not kept with pmm-server (PMM 3 HA: with its Promoted role)"},
    {"order-vip-after-server", Severity::kWarning,
     "the VIP is not started after pmm-server (PMM 3 HA: after its promotion)"},
    {"clone-not-promotable", Severity::kError, "pmm-server in a clone that is not promotable"},
    {"promotable-ha-false", Severity::kError, "a promotable pmm-server with ha=false"},
    {"promotable-max", Severity::kError, "a promotable pmm-server with promoted-max other than 1"},
    {"role-monitors-missing", Severity::kError,
     "a promotable pmm-server without a monitor for each role"},
    {"timeout-stop-grace", Severity::kError,
     "the stop timeout cannot hold stop_grace plus the kill reserve"},
    {"timeout-stop", Severity::kWarning,
     "the stop timeout leaves PMM less than the 300 s VictoriaMetrics may need to flush"},
    {"timeout-start", Severity::kWarning, "the start timeout is shorter than PMM's boot (300 s)"},
    {"timeout-monitor", Severity::kError, "a monitor timeout not longer than health_timeout"},
    {"require-mount-false", Severity::kError,
     "require_mount=false outside PMM 3 HA (PMM may start on an empty local /srv)"},
    {"run-opts-restart", Severity::kError,
     "run_opts with --restart (the engine restarts what the cluster stopped)"},
    {"device-unstable", Severity::kWarning,
     "pmm-storage's device is a kernel name (/dev/sdX) that may differ between nodes"},
    {"force-unmount-without-fencing", Severity::kError,
     "force_unmount=false without fencing (a busy /srv blocks the resource forever)"},
    {"image-not-watched", Severity::kWarning,
     "no pmm-image clone reports whether each node has the PMM image"},
    {"node-image-absent", Severity::kError, "a node that may run pmm-server lacks its image"},
    {"node-ha-key-differs", Severity::kError, "the PMM 3 HA encryption key differs between nodes"},
    {"node-data-not-writable", Severity::kError,
     "pmm-server's data_dir is not writable by PMM's uid 1000 on a node"},
    {"node-srv-space", Severity::kWarning, "/srv is low on space or full on a node"},
};

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : std::string(sep)) + i;
  return out;
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Splits a host list as Pacemaker does: on blanks, commas and semicolons.
std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == ' ' || c == ',' || c == ';' || c == '\t' || c == '\n') {
      if (!cur.empty()) out.push_back(std::exchange(cur, {}));
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string Seconds(milliseconds ms) {
  return fmt::format("{}s", std::chrono::duration_cast<seconds>(ms).count());
}

class Doctor {
 public:
  explicit Doctor(const Cib& cib) : cib_(cib) {
    for (const auto& p : cib_.primitives) {
      if (p.IsOurs("pmm-server")) servers_.push_back(&p);
      if (p.IsOurs("pmm-storage")) storages_.push_back(&p);
      if (p.IsOurs("pmm-vip")) vips_.push_back(&p);
      if (p.IsOurs("pmm-image")) images_.push_back(&p);
      if (p.IsStonith()) fence_devices_.push_back(&p);
    }
    BuildOrderGraph();
    BuildTogetherGraph();
  }

  std::vector<Finding> Run() {
    Fencing();
    StorageRelations();
    VipRelations();
    Promotable();
    Timeouts();
    DataSafety();
    Nodes();
    std::stable_sort(findings_.begin(), findings_.end(), [](const Finding& a, const Finding& b) {
      return FindCheck(a.id) < FindCheck(b.id);
    });
    return std::move(findings_);
  }

 private:
  void Add(std::string_view id, std::string subject, std::string message,
           std::vector<std::string> pcs, std::vector<std::string> crm) {
    const CheckInfo* info = FindCheck(id);
    findings_.push_back({.id = std::string(id),
                         .severity = info ? info->severity : Severity::kError,
                         .subject = std::move(subject),
                         .message = std::move(message),
                         .fix_pcs = std::move(pcs),
                         .fix_crm = std::move(crm)});
  }

  // --- cluster-wide facts ----------------------------------------------------

  bool FencingEnabled() const {
    return ParseBoolean(cib_.Property("stonith-enabled", "true")).value_or(true);
  }

  // Watchdog-only SBD fences every node by itself.
  bool WatchdogFencing() const {
    auto t = ParseCibDuration(cib_.Property("stonith-watchdog-timeout", "0"));
    return t && t->count() != 0;
  }

  static bool Disabled(const CibPrimitive& p) {
    auto it = p.meta.find("target-role");
    return it != p.meta.end() && it->second == "Stopped";
  }

  bool CanFence(const CibPrimitive& device, const std::string& node) const {
    if (Disabled(device)) return false;
    std::string list = device.Param("pcmk_host_list");
    std::string map = device.Param("pcmk_host_map");
    std::string check = device.Param("pcmk_host_check");
    if (!list.empty() && Contains(SplitList(list), node)) return true;
    for (const std::string& entry : SplitList(map)) {
      if (entry.substr(0, entry.find(':')) == node) return true;
    }
    // Without a list or map the device is asked which nodes it can fence
    // (dynamic-list): assume it can.
    return list.empty() && map.empty() && check != "static-list" && check != "none";
  }

  // The nodes a resource may run on: every node but those a -INFINITY
  // location bans (only the locations naming a score and a node are read).
  std::vector<std::string> AllowedNodes(const CibPrimitive& p) const {
    auto containers = cib_.Containers(p);
    bool opt_in = !ParseBoolean(cib_.Property("symmetric-cluster", "true")).value_or(true);
    std::vector<std::string> out;
    for (const auto& n : cib_.nodes) {
      bool banned = false, allowed = !opt_in;
      for (const auto& l : cib_.locations) {
        if (!Contains(containers, l.rsc)) continue;
        if (l.has_rule) allowed = true;  // a rule may allow it: assume so
        if (l.node != n.uname) continue;
        auto score = ParseCibScore(l.score).value_or(0);
        if (score <= -kInfinity) banned = true;
        if (score > 0) allowed = true;
      }
      if (allowed && !banned) out.push_back(n.uname);
    }
    return out;
  }

  static bool SharedDevice(const CibPrimitive& storage) {
    std::string d = storage.Param("device");
    for (std::string_view prefix : {"/dev/", "UUID=", "LABEL=", "PARTUUID=", "PARTLABEL="}) {
      if (d.starts_with(prefix)) return true;
    }
    return false;
  }

  std::optional<milliseconds> OpTimeout(const CibOp& op) const {
    if (!op.timeout.empty()) return ParseCibDuration(op.timeout);
    return DefaultTimeout();
  }
  std::optional<milliseconds> DefaultTimeout() const {
    auto it = cib_.op_defaults.find("timeout");
    if (it != cib_.op_defaults.end()) return ParseCibDuration(it->second);
    return kPacemakerDefaultTimeout;
  }
  const CibOp* FindOp(const CibPrimitive& p, std::string_view name) const {
    for (const auto& op : p.ops) {
      if (op.name == name) return &op;
    }
    return nullptr;
  }

  bool Promotable(const CibPrimitive& p) const {
    const CibClone* c = cib_.Clone(p.clone);
    return c && c->promotable;
  }

  // --- ordering and colocation ---------------------------------------------

  // Group members and mandatory colocations (any role, either direction).
  void BuildTogetherGraph() {
    auto link = [&](const std::string& x, const std::string& y) {
      together_edges_[x].insert(y);
      together_edges_[y].insert(x);
    };
    for (const auto& g : cib_.groups) {
      for (std::size_t i = 1; i < g.members.size(); ++i) link(g.members[i - 1], g.members[i]);
    }
    for (const auto& c : cib_.colocations) {
      if (!Mandatory(c)) continue;
      for (const CibPrimitive* x : cib_.Contents(c.rsc)) {
        for (const CibPrimitive* y : cib_.Contents(c.with)) link(x->id, y->id);
      }
    }
  }

  void BuildOrderGraph() {
    auto edge = [&](const std::string& a, const std::string& b) { order_edges_[a].insert(b); };
    for (const auto& g : cib_.groups) {
      for (std::size_t i = 1; i < g.members.size(); ++i) edge(g.members[i - 1], g.members[i]);
    }
    for (const auto& o : cib_.orders) {
      if (!o.mandatory) continue;
      for (const CibPrimitive* a : cib_.Contents(o.first)) {
        for (const CibPrimitive* b : cib_.Contents(o.then)) edge(a->id, b->id);
      }
    }
  }

  // `a` is started (or promoted) before `b` starts, through any chain of
  // mandatory orders and group members.
  bool Precedes(const CibPrimitive& a, const CibPrimitive& b) const {
    std::set<std::string> seen{a.id};
    std::vector<std::string> todo{a.id};
    while (!todo.empty()) {
      std::string cur = todo.back();
      todo.pop_back();
      auto it = order_edges_.find(cur);
      if (it == order_edges_.end()) continue;
      for (const std::string& next : it->second) {
        if (next == b.id) return true;
        if (seen.insert(next).second) todo.push_back(next);
      }
    }
    return false;
  }

  static bool Mandatory(const CibColocation& c) {
    return ParseCibScore(c.score).value_or(0) >= kInfinity;
  }

  // `a` and `b` always run on the same node: one group, or a chain of
  // mandatory colocations (of any role, in either direction).
  bool Together(const CibPrimitive& a, const CibPrimitive& b) const {
    std::set<std::string> seen{a.id};
    std::vector<std::string> todo{a.id};
    while (!todo.empty()) {
      std::string cur = todo.back();
      todo.pop_back();
      if (cur == b.id) return true;
      auto it = together_edges_.find(cur);
      if (it == together_edges_.end()) continue;
      for (const std::string& next : it->second) {
        if (seen.insert(next).second) todo.push_back(next);
      }
    }
    return false;
  }

  // The storage that holds a server's data_dir: the one whose directory
  // contains it, or the only one.
  const CibPrimitive* StorageOf(const CibPrimitive& server) const {
    std::string data = server.Param("data_dir");
    const CibPrimitive* best = nullptr;
    for (const CibPrimitive* s : storages_) {
      std::string dir = s->Param("directory");
      while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
      if (!dir.empty() && (data == dir || data.starts_with(dir + "/"))) {
        if (!best || dir.size() > best->Param("directory").size()) best = s;
      }
    }
    if (!best && storages_.size() == 1) best = storages_.front();
    return best;
  }

  // --- the checks ------------------------------------------------------------

  void Fencing() {
    std::vector<const CibPrimitive*> shared;
    for (const CibPrimitive* s : storages_) {
      if (SharedDevice(*s)) shared.push_back(s);
    }
    if (shared.empty() && servers_.empty()) return;
    if (!FencingEnabled()) {
      if (!shared.empty()) {
        Add("fencing-disabled", "cluster",
            fmt::format("stonith-enabled=false, and {} mounts the shared device {}: a node that "
                        "stops answering may still have it mounted when another node mounts it, "
                        "and two nodes writing one filesystem corrupt it (configure a fence device "
                        "for every node first, e.g. crm-examples/fencing.*)",
                        shared.front()->id, Quote(shared.front()->Param("device"))),
            {"pcs property set stonith-enabled=true"},
            {"crm configure property stonith-enabled=true"});
      }
      return;
    }
    if (!WatchdogFencing()) {
      std::set<std::string> reported;
      for (const CibPrimitive* s : shared) {
        for (const std::string& node : AllowedNodes(*s)) {
          bool fenceable = std::any_of(fence_devices_.begin(), fence_devices_.end(),
                                       [&](const CibPrimitive* d) { return CanFence(*d, node); });
          if (fenceable || !reported.insert(node).second) continue;
          std::string params = fmt::format(
              "ip=BMC_ADDRESS username=USER password=PASSWORD lanplus=1 pcmk_host_list={}", node);
          Add("fencing-no-device", node,
              fmt::format("no fence device can fence {}, where {} may mount {}: if the node stops "
                          "answering, the cluster can neither fence it nor safely mount the "
                          "device elsewhere, and PMM stays down",
                          node, s->id, Quote(s->Param("device"))),
              {fmt::format("pcs stonith create fence-{} fence_ipmilan {}", node, params)},
              {fmt::format("crm configure primitive fence-{} stonith:fence_ipmilan params {}", node,
                           params)});
        }
      }
    }
    if (cib_.nodes.size() == 2 && !HasFencingDelay()) {
      Add("fencing-two-node-delay", "cluster",
          "two nodes and no fencing delay: when the link between them breaks, each fences the "
          "other at once and both may go down; priority-fencing-delay (with resource "
          "priorities) spares the node running the resources",
          {"pcs property set priority-fencing-delay=30s",
           "pcs resource defaults update priority=1"},
          {"crm configure property priority-fencing-delay=30s",
           "crm configure rsc_defaults priority=1"});
    }
  }

  bool HasFencingDelay() const {
    for (const CibPrimitive* d : fence_devices_) {
      for (std::string_view name : {"pcmk_delay_base", "pcmk_delay_max"}) {
        auto t = ParseCibDuration(d->Param(name, "0"));
        if (t && t->count() > 0) return true;
      }
    }
    auto delay = ParseCibDuration(cib_.Property("priority-fencing-delay", "0"));
    if (!delay || delay->count() == 0) return false;
    // The delay applies to the node whose resources have the higher total
    // priority: without priorities there is nothing to compare.
    auto positive = [](const NameValues& meta) {
      auto it = meta.find("priority");
      return it != meta.end() && ParseCibScore(it->second).value_or(0) > 0;
    };
    if (positive(cib_.rsc_defaults)) return true;
    return std::any_of(cib_.primitives.begin(), cib_.primitives.end(),
                       [&](const CibPrimitive& p) { return positive(p.meta); });
  }

  void StorageRelations() {
    for (const CibPrimitive* server : servers_) {
      if (!server->clone.empty()) continue;  // PMM 3 HA: each node its own /srv
      const CibPrimitive* storage = StorageOf(*server);
      if (!storage) continue;
      bool same_group = !server->group.empty() && server->group == storage->group;
      if (!Precedes(*storage, *server)) {
        std::string msg = fmt::format(
            "{} is not started after {}: PMM may start on the empty directory under the "
            "mount point before the shared filesystem is mounted (and be stopped after it "
            "is unmounted)",
            server->id, storage->id);
        if (same_group) {
          Add("order-server-after-storage", server->id, std::move(msg),
              {fmt::format("pcs resource group add {} {} --after {}", server->group, server->id,
                           storage->id)},
              {fmt::format("crm configure modgroup {} remove {}", server->group, server->id),
               fmt::format("crm configure modgroup {} add {} after {}", server->group, server->id,
                           storage->id)});
        } else {
          Add("order-server-after-storage", server->id, std::move(msg),
              {fmt::format("pcs constraint order start {} then start {}", cib_.Top(*storage),
                           cib_.Top(*server))},
              {fmt::format("crm configure order {}-after-{} Mandatory: {} {}", server->id,
                           storage->id, cib_.Top(*storage), cib_.Top(*server))});
        }
      }
      if (!Together(*server, *storage)) {
        Add("colocation-server-with-storage", server->id,
            fmt::format("{} is not kept with {}: PMM may start on a node where /srv is not "
                        "mounted, on an empty local directory",
                        server->id, storage->id),
            {fmt::format("pcs constraint colocation add {} with {} INFINITY", cib_.Top(*server),
                         cib_.Top(*storage))},
            {fmt::format("crm configure colocation {}-with-{} inf: {} {}", server->id, storage->id,
                         cib_.Top(*server), cib_.Top(*storage))});
      }
    }
  }

  void VipRelations() {
    if (servers_.empty()) return;
    for (const CibPrimitive* vip : vips_) {
      const CibPrimitive* server = servers_.front();
      for (const CibPrimitive* s : servers_) {
        if (Together(*vip, *s)) server = s;
      }
      std::string v = cib_.Top(*vip);
      if (Promotable(*server)) {
        const std::string& clone = server->clone;
        bool with_promoted = std::any_of(
            cib_.colocations.begin(), cib_.colocations.end(), [&](const CibColocation& c) {
              return Mandatory(c) && c.with == clone && c.with_role == "Promoted" &&
                     Contains(cib_.Containers(*vip), c.rsc);
            });
        if (!with_promoted) {
          Add("colocation-vip-with-server", vip->id,
              fmt::format("{} is not kept with the Promoted role of {}: the VIP may stay on, or "
                          "go to, a node where PMM does not lead",
                          vip->id, clone),
              {fmt::format("pcs constraint colocation add {} with Promoted {} INFINITY", v, clone)},
              {fmt::format("crm configure colocation {}-with-leader inf: {} {}:Promoted", vip->id,
                           v, clone)});
        }
        bool after_promote =
            std::any_of(cib_.orders.begin(), cib_.orders.end(), [&](const CibOrder& o) {
              auto contents = cib_.Contents(o.then);
              return o.mandatory && o.first == clone && o.first_action == "promote" &&
                     std::find(contents.begin(), contents.end(), vip) != contents.end();
            });
        if (!after_promote) {
          Add("order-vip-after-server", vip->id,
              fmt::format("{} is not started after the promotion of {}: clients may reach the "
                          "new leader's node before Pacemaker has promoted it",
                          vip->id, clone),
              {fmt::format("pcs constraint order promote {} then start {} symmetrical=false", clone,
                           v)},
              {fmt::format("crm configure order {}-after-promote Mandatory: {}:promote {}:start "
                           "symmetrical=false",
                           vip->id, clone, v)});
        }
        continue;
      }
      std::string s = cib_.Top(*server);
      if (!Together(*vip, *server)) {
        Add("colocation-vip-with-server", vip->id,
            fmt::format("{} is not kept with {}: clients may connect to a node where PMM does "
                        "not run",
                        vip->id, server->id),
            {fmt::format("pcs constraint colocation add {} with {} INFINITY", v, s)},
            {fmt::format("crm configure colocation {}-with-{} inf: {} {}", vip->id, server->id, v,
                         s)});
      }
      if (!Precedes(*server, *vip)) {
        bool same_group = !vip->group.empty() && vip->group == server->group;
        std::string msg = fmt::format(
            "{} is not started after {}: clients reach the node before PMM answers there, and "
            "on a move keep writing to a PMM that is flushing its data",
            vip->id, server->id);
        if (same_group) {
          Add("order-vip-after-server", vip->id, std::move(msg),
              {fmt::format("pcs resource group add {} {} --after {}", vip->group, vip->id,
                           server->id)},
              {fmt::format("crm configure modgroup {} remove {}", vip->group, vip->id),
               fmt::format("crm configure modgroup {} add {} after {}", vip->group, vip->id,
                           server->id)});
        } else {
          Add("order-vip-after-server", vip->id, std::move(msg),
              {fmt::format("pcs constraint order start {} then start {}", s, v)},
              {fmt::format("crm configure order {}-after-{} Mandatory: {} {}", vip->id, server->id,
                           s, v)});
        }
      }
    }
  }

  void Promotable() {
    for (const CibPrimitive* server : servers_) {
      const CibClone* clone = cib_.Clone(server->clone);
      if (!clone) continue;
      if (!clone->promotable) {
        Add("clone-not-promotable", clone->id,
            fmt::format("{} clones {} without promotable=true: every node runs a PMM Server and "
                        "none is told apart as the leader the VIP follows",
                        clone->id, server->id),
            {fmt::format("pcs resource meta {} promotable=true promoted-max=1", clone->id)},
            {fmt::format("crm resource meta {} set promotable true", clone->id)});
        continue;
      }
      if (!ParseBoolean(server->Param("ha", kDefaultHa)).value_or(false)) {
        // ha_peers too, unless it is there already.
        bool peers = !server->Param("ha_peers").empty();
        std::string list = "NODE1=IP1,NODE2=IP2,NODE3=IP3";
        std::vector<std::string> crm{fmt::format("crm resource param {} set ha true", server->id)};
        if (!peers)
          crm.push_back(fmt::format("crm resource param {} set ha_peers {}", server->id, list));
        Add("promotable-ha-false", server->id,
            fmt::format("{} is promotable but ha=false: the PMM Servers do not form a PMM 3 HA "
                        "cluster, each promotes itself as its own leader",
                        server->id),
            {fmt::format("pcs resource update {} ha=true{}", server->id,
                         peers ? "" : " ha_peers=" + list)},
            std::move(crm));
      }
      std::string max = "1";
      for (std::string_view name : {"promoted-max", "master-max"}) {
        if (auto it = clone->meta.find(name); it != clone->meta.end()) max = it->second;
      }
      if (max != "1") {
        Add("promotable-max", clone->id,
            fmt::format("{} has promoted-max={}: PMM has one leader, and the VIP must follow "
                        "exactly one promoted instance",
                        clone->id, Quote(max)),
            {fmt::format("pcs resource meta {} promoted-max=1", clone->id)},
            {fmt::format("crm resource meta {} set promoted-max 1", clone->id)});
      }
      for (std::string_view role : {"Promoted", "Unpromoted"}) {
        bool has = std::any_of(server->ops.begin(), server->ops.end(), [&](const CibOp& op) {
          return op.name == "monitor" && op.role == role;
        });
        if (has) continue;
        std::string op = fmt::format("monitor interval={} role={} timeout=30s",
                                     role == "Promoted" ? "3s" : "1s", role);
        Add("role-monitors-missing", server->id,
            fmt::format("{} has no monitor for the {} role: Pacemaker cancels role-less monitors "
                        "on promotion, so {}",
                        server->id, role,
                        role == "Promoted" ? "the leader goes unmonitored"
                                           : "no node notices that PMM elected it leader"),
            {fmt::format("pcs resource op add {} {}", server->id, op)},
            {fmt::format("crm configure edit {}   # add: op {}", server->id, op)});
      }
    }
  }

  // The smallest stop timeout (whole seconds) whose grace, as the agent
  // splits it, is at least `grace`.
  static seconds StopTimeoutFor(seconds grace) {
    seconds t = grace;
    while (StopGrace(t, std::nullopt) < grace) t += seconds(1);
    return t;
  }

  std::string SetOpTimeoutCrm(const CibPrimitive& p, std::string_view op, seconds value) const {
    if (FindOp(p, op))
      return fmt::format("crm configure set {}.{}.timeout {}s", p.id, op, value.count());
    return fmt::format("crm configure edit {}   # add: op {} timeout={}s interval=0", p.id, op,
                       value.count());
  }

  void Timeouts() {
    for (const CibPrimitive* server : servers_) {
      const CibOp* stop = FindOp(*server, "stop");
      auto stop_timeout = stop ? OpTimeout(*stop) : DefaultTimeout();
      auto requested = ParseInteger(server->Param("stop_grace"));
      if (stop_timeout) {
        seconds grace = StopGrace(*stop_timeout, std::nullopt);
        if (requested && grace < seconds(*requested)) {
          seconds need = StopTimeoutFor(seconds(*requested));
          Add("timeout-stop-grace", server->id,
              fmt::format("the stop timeout ({}) leaves PMM {} s before the kill, less than "
                          "stop_grace={}: the agent shortens the grace, and VictoriaMetrics may "
                          "be killed before it has flushed",
                          Seconds(*stop_timeout), grace.count(), *requested),
              {fmt::format("pcs resource update {} op stop timeout={}s", server->id, need.count())},
              {SetOpTimeoutCrm(*server, "stop", need)});
        } else if (std::min(grace, requested ? seconds(*requested) : grace) < kPmmFlushTime) {
          seconds need = StopTimeoutFor(kPmmFlushTime);
          Add("timeout-stop", server->id,
              fmt::format("the stop timeout ({}) gives PMM {} s to stop; VictoriaMetrics may need "
                          "up to {} s to flush, and is killed before it has",
                          Seconds(*stop_timeout),
                          std::min(grace, requested ? seconds(*requested) : grace).count(),
                          kPmmFlushTime.count()),
              {fmt::format("pcs resource update {} op stop timeout={}s", server->id, need.count())},
              {SetOpTimeoutCrm(*server, "stop", need)});
        }
      }
      const CibOp* start = FindOp(*server, "start");
      auto start_timeout = start ? OpTimeout(*start) : DefaultTimeout();
      if (start_timeout && *start_timeout < kPmmBootTime) {
        Add("timeout-start", server->id,
            fmt::format("the start timeout ({}) is shorter than PMM's boot (1-3 minutes, more on "
                        "a first start or an upgrade): the start fails and PMM moves on",
                        Seconds(*start_timeout)),
            {fmt::format("pcs resource update {} op start timeout={}s", server->id,
                         kPmmBootTime.count())},
            {SetOpTimeoutCrm(*server, "start", kPmmBootTime)});
      }
      auto health = ParseInteger(server->Param("health_timeout", kDefaultHealthTimeout));
      for (const CibOp& op : server->ops) {
        if (op.name != "monitor" || !health) continue;
        auto t = OpTimeout(op);
        if (!t || *t > seconds(*health)) continue;
        seconds need = seconds(*health + 10);
        std::string interval = op.interval.empty() ? "0" : op.interval;
        Add("timeout-monitor", server->id,
            fmt::format("the monitor every {} has a timeout of {}, not longer than "
                        "health_timeout={}: a slow readiness answer times the monitor out and "
                        "PMM is restarted",
                        interval, Seconds(*t), *health),
            {fmt::format("pcs resource update {} op monitor interval={}{} timeout={}s", server->id,
                         interval, op.role.empty() ? "" : " role=" + op.role, need.count())},
            {fmt::format("crm configure set {}.monitor.{}.timeout {}s", server->id, interval,
                         need.count())});
      }
    }
  }

  void DataSafety() {
    for (const CibPrimitive* server : servers_) {
      // (In a clone every node has its own /srv: PMM 3 HA, or the mistake
      // clone-not-promotable reports.)
      if (server->clone.empty() &&
          !ParseBoolean(server->Param("require_mount", kDefaultRequireMount)).value_or(true)) {
        Add("require-mount-false", server->id,
            fmt::format("{} has require_mount=false outside PMM 3 HA: when /srv is not mounted, "
                        "PMM starts on the empty local directory, and a new, empty PMM answers "
                        "on the VIP",
                        server->id),
            {fmt::format("pcs resource update {} require_mount=true", server->id)},
            {fmt::format("crm resource param {} set require_mount true", server->id)});
      }
      std::vector<std::string> words = SplitList(server->Param("run_opts"));
      std::vector<std::string> kept;
      bool restart = false;
      for (std::size_t i = 0; i < words.size(); ++i) {
        if (words[i] == "--restart") {
          restart = true;
          ++i;  // and its value
        } else if (words[i].starts_with("--restart=")) {
          restart = true;
        } else {
          kept.push_back(words[i]);
        }
      }
      if (restart) {
        std::string opts = Join(kept, " ");
        Add("run-opts-restart", server->id,
            fmt::format("{}'s run_opts set a restart policy: the engine restarts a PMM the "
                        "cluster stopped or moved, and two nodes may run it on one /srv",
                        server->id),
            {fmt::format("pcs resource update {} run_opts='{}'", server->id, opts)},
            {opts.empty()
                 ? fmt::format("crm resource param {} delete run_opts", server->id)
                 : fmt::format("crm resource param {} set run_opts '{}'", server->id, opts)});
      }
    }
    static const std::regex kKernelName(
        R"(/dev/((sd|vd|xvd|hd)[a-z]+[0-9]*|nvme[0-9]+n[0-9]+(p[0-9]+)?|mmcblk[0-9]+(p[0-9]+)?|dm-[0-9]+|md[0-9]+(p[0-9]+)?|loop[0-9]+(p[0-9]+)?))");
    bool fencing = FencingEnabled() && (WatchdogFencing() || !fence_devices_.empty());
    for (const CibPrimitive* storage : storages_) {
      std::string device = storage->Param("device");
      if (std::regex_match(device, kKernelName)) {
        std::string name = device.substr(5);
        Add("device-unstable", storage->id,
            fmt::format("{}'s device {} is a kernel name: the same LUN may be another /dev/sdX "
                        "on another node, or after a reboot, and the wrong disk gets mounted",
                        storage->id, Quote(device)),
            {fmt::format("ls -l /dev/disk/by-id/ | grep -w {}   # pick the wwn- or scsi- link",
                         name),
             fmt::format("pcs resource update {} device=/dev/disk/by-id/THAT-LINK", storage->id)},
            {fmt::format("ls -l /dev/disk/by-id/ | grep -w {}   # pick the wwn- or scsi- link",
                         name),
             fmt::format("crm resource param {} set device /dev/disk/by-id/THAT-LINK",
                         storage->id)});
      }
      if (!fencing &&
          !ParseBoolean(storage->Param("force_unmount", kDefaultForceUnmount)).value_or(true)) {
        Add("force-unmount-without-fencing", storage->id,
            fmt::format("{} has force_unmount=false and the cluster cannot fence: a process "
                        "holding /srv fails the stop, and without fencing the resource stays "
                        "blocked until someone intervenes",
                        storage->id),
            {fmt::format("pcs resource update {} force_unmount=true", storage->id)},
            {fmt::format("crm resource param {} set force_unmount true", storage->id)});
      }
    }
  }

  void Nodes() {
    if (servers_.empty()) return;
    if (images_.empty()) {
      // The clone and the rule of the examples: pmm-image checks the image on
      // every node, the rule keeps PMM off a node that lacks it.
      const CibPrimitive* s = servers_.front();
      std::string image = s->Param("image");
      std::string params = fmt::format("image={} runtime={} pull={}", image,
                                       s->Param("runtime", "auto"), s->Param("pull", "missing"));
      std::string top = cib_.Top(*s);
      std::vector<std::string> pcs{fmt::format(
          "pcs resource create pmm-image ocf:percona:pmm-image {} op start timeout=600s op "
          "monitor interval=300s timeout=30s clone interleave=true",
          params)};
      std::vector<std::string> crm{
          fmt::format("crm configure primitive pmm-image ocf:percona:pmm-image params {} op start "
                      "timeout=600s interval=0 op monitor interval=300s timeout=30s",
                      params),
          "crm configure clone pmm-image-clone pmm-image meta interleave=true"};
      bool has_rule = std::any_of(cib_.locations.begin(), cib_.locations.end(), [&](auto& l) {
        return Contains(cib_.Containers(*s), l.rsc) && Contains(l.rule_attributes, kAttrImage);
      });
      if (!has_rule) {
        pcs.push_back(fmt::format(
            "pcs constraint location {} rule score=-INFINITY pmm-image eq absent", top));
        crm.push_back(fmt::format(
            "crm configure location pmm-needs-image {} rule -inf: pmm-image eq absent", top));
      }
      Add("image-not-watched", "cluster",
          fmt::format("nothing reports whether each node has {}: a node without it finds out at "
                      "the failover, and waits for a pull of several GB (or fails) while PMM is "
                      "down",
                      Quote(image)),
          std::move(pcs), std::move(crm));
    }
    std::set<std::string> may_run;
    for (const CibPrimitive* s : servers_) {
      for (const std::string& n : AllowedNodes(*s)) may_run.insert(n);
    }
    const CibPrimitive* server = servers_.front();
    std::map<std::string, std::vector<std::string>> by_key;
    for (const CibNode& node : cib_.nodes) {
      auto attr = [&](std::string_view name) {
        auto it = node.attributes.find(name);
        return it == node.attributes.end() ? std::string() : it->second;
      };
      if (may_run.contains(node.uname) && attr(kAttrImage) == "absent") {
        std::string engine = server->Param("runtime", "podman");
        if (engine == "auto") engine = "podman";
        std::string cmd =
            fmt::format("{} pull {}   # on {}", engine, server->Param("image"), node.uname);
        Add("node-image-absent", node.uname,
            fmt::format("{} may run {} but has no {}: a failover there waits for the pull, or "
                        "fails when the registry cannot be reached",
                        node.uname, server->id, Quote(server->Param("image"))),
            {cmd}, {cmd});
      }
      if (std::string key = attr(kAttrHaKey); !key.empty()) by_key[key].push_back(node.uname);
      if (attr(kAttrData) == "not-writable") {
        std::string cmd =
            fmt::format("chown 1000:1000 {}   # on {}", server->Param("data_dir"), node.uname);
        Add("node-data-not-writable", node.uname,
            fmt::format("{} on {} is not writable by uid 1000: PMM exits at start "
                        "(\"/srv is not writable\")",
                        Quote(server->Param("data_dir")), node.uname),
            {cmd}, {cmd});
      }
      if (std::string space = attr(kAttrSrvSpace); space == "low" || space == "full") {
        std::string free = attr(kAttrSrvFree);
        std::string msg = fmt::format(
            "/srv on {} is {}{}: PMM stops ingesting metrics when it fills (grow the "
            "filesystem, or shorten PMM's data retention)",
            node.uname, space == "full" ? "full" : "low on space",
            free.empty() ? "" : fmt::format(" ({}% free)", free));
        std::string cmd = fmt::format("df -h {}   # on {}", server->Param("data_dir"), node.uname);
        Add("node-srv-space", node.uname, std::move(msg), {cmd}, {cmd});
      }
    }
    if (by_key.size() > 1) {
      // The key most nodes share is taken as the right one.
      auto reference = std::max_element(by_key.begin(), by_key.end(), [](auto& a, auto& b) {
        return a.second.size() < b.second.size();
      });
      std::string file = server->Param("ha_key_file");
      for (const auto& [key, nodes] : by_key) {
        if (&key == &reference->first) continue;
        for (const std::string& node : nodes) {
          std::string cmd =
              fmt::format("scp -p {}:{} {}:{}", reference->second.front(), file, node, file);
          Add("node-ha-key-differs", node,
              fmt::format("the PMM 3 HA encryption key {} on {} differs from the one on {}: PMM "
                          "on {} cannot read what the others encrypted",
                          Quote(file), node, Join(reference->second, ", "), node),
              {cmd}, {cmd});
        }
      }
    }
  }

  const Cib& cib_;
  std::vector<const CibPrimitive*> servers_, storages_, vips_, images_, fence_devices_;
  std::map<std::string, std::set<std::string>> order_edges_, together_edges_;
  std::vector<Finding> findings_;
};

}  // namespace

std::string_view SeverityName(Severity s) { return s == Severity::kError ? "error" : "warning"; }

std::span<const CheckInfo> Checks() { return kChecks; }

const CheckInfo* FindCheck(std::string_view id) {
  for (const CheckInfo& c : kChecks) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

std::vector<Finding> Diagnose(const Cib& cib) { return Doctor(cib).Run(); }

}  // namespace pmmha
