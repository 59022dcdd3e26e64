// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/check/cib.h"

#include <algorithm>
#include <cctype>
#include <memory>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "pmmha/core/text.h"

namespace pmmha {
namespace {

using Doc = std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)>;

bool Is(const xmlNode* n, std::string_view name) {
  return n->type == XML_ELEMENT_NODE &&
         std::string_view(reinterpret_cast<const char*>(n->name)) == name;
}

std::string Attr(const xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  if (!v) return {};
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

// The element children of `n` named `name` (all of them when name is "").
std::vector<const xmlNode*> Children(const xmlNode* n, std::string_view name = {}) {
  std::vector<const xmlNode*> out;
  for (const xmlNode* c = n ? n->children : nullptr; c; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && (name.empty() || Is(c, name))) out.push_back(c);
  }
  return out;
}

const xmlNode* Child(const xmlNode* n, std::string_view name) {
  auto all = Children(n, name);
  return all.empty() ? nullptr : all.front();
}

// Merges the nvpairs of every <set_name> under `n` into `into`; the first
// value of a name wins, as the first set does in Pacemaker without rules.
void ReadSets(const xmlNode* n, std::string_view set_name, NameValues& into) {
  for (const xmlNode* set : Children(n, set_name)) {
    for (const xmlNode* nv : Children(set, "nvpair")) {
      into.emplace(Attr(nv, "name"), Attr(nv, "value"));
    }
  }
}

CibOp ReadOp(const xmlNode* n) {
  CibOp op{.id = Attr(n, "id"),
           .name = Attr(n, "name"),
           .interval = Attr(n, "interval"),
           .role = CanonicalRole(Attr(n, "role")),
           .timeout = Attr(n, "timeout")};
  NameValues meta, inst;
  ReadSets(n, "meta_attributes", meta);
  ReadSets(n, "instance_attributes", inst);
  if (op.timeout.empty() && meta.contains("timeout")) op.timeout = meta.at("timeout");
  if (auto it = inst.find("OCF_CHECK_LEVEL"); it != inst.end()) op.depth = it->second;
  if (auto it = meta.find("OCF_CHECK_LEVEL"); op.depth.empty() && it != meta.end()) {
    op.depth = it->second;
  }
  return op;
}

CibPrimitive ReadPrimitive(const xmlNode* n,
                           const std::map<std::string, const xmlNode*>& templates) {
  CibPrimitive p{.id = Attr(n, "id"),
                 .standard = Attr(n, "class"),
                 .provider = Attr(n, "provider"),
                 .type = Attr(n, "type")};
  std::vector<const xmlNode*> sources{n};
  if (auto it = templates.find(Attr(n, "template")); it != templates.end()) {
    sources.push_back(it->second);  // the primitive's own values win
    if (p.type.empty()) {
      p.standard = Attr(it->second, "class");
      p.provider = Attr(it->second, "provider");
      p.type = Attr(it->second, "type");
    }
  }
  for (const xmlNode* s : sources) {
    ReadSets(s, "instance_attributes", p.params);
    ReadSets(s, "meta_attributes", p.meta);
    for (const xmlNode* op : Children(Child(s, "operations"), "op")) p.ops.push_back(ReadOp(op));
  }
  return p;
}

// The members of a <resource_set>, and its attributes.
struct ResourceSet {
  std::vector<std::string> ids{};
  bool sequential = true;
  std::string action{}, role{};
};

std::vector<ResourceSet> ReadResourceSets(const xmlNode* n) {
  std::vector<ResourceSet> sets;
  for (const xmlNode* s : Children(n, "resource_set")) {
    ResourceSet set{.sequential = ParseBoolean(Attr(s, "sequential")).value_or(true),
                    .action = Attr(s, "action"),
                    .role = CanonicalRole(Attr(s, "role"))};
    for (const xmlNode* r : Children(s, "resource_ref")) set.ids.push_back(Attr(r, "id"));
    sets.push_back(std::move(set));
  }
  return sets;
}

void ReadOrder(const xmlNode* n, std::vector<CibOrder>& out) {
  CibOrder base{.id = Attr(n, "id")};
  std::string kind = Attr(n, "kind");
  std::string score = Attr(n, "score");
  if (!kind.empty()) {
    base.mandatory = kind == "Mandatory";
  } else if (!score.empty()) {
    base.mandatory = ParseCibScore(score).value_or(0) > 0;
  }
  base.symmetrical = ParseBoolean(Attr(n, "symmetrical")).value_or(true);
  auto action = [](std::string a) { return a.empty() ? std::string("start") : a; };
  auto sets = ReadResourceSets(n);
  if (sets.empty()) {
    CibOrder o = base;
    o.first = Attr(n, "first");
    o.then = Attr(n, "then");
    o.first_action = action(Attr(n, "first-action"));
    o.then_action = action(Attr(n, "then-action"));
    out.push_back(std::move(o));
    return;
  }
  auto pair = [&](const std::string& a, const ResourceSet& sa, const std::string& b,
                  const ResourceSet& sb) {
    CibOrder o = base;
    o.first = a;
    o.then = b;
    o.first_action = action(sa.action);
    o.then_action = action(sb.action);
    out.push_back(std::move(o));
  };
  for (std::size_t i = 0; i < sets.size(); ++i) {
    const ResourceSet& s = sets[i];
    for (std::size_t k = 1; s.sequential && k < s.ids.size(); ++k)
      pair(s.ids[k - 1], s, s.ids[k], s);
    if (i + 1 == sets.size()) continue;
    for (const std::string& a : s.ids) {
      for (const std::string& b : sets[i + 1].ids) pair(a, s, b, sets[i + 1]);
    }
  }
}

void ReadColocation(const xmlNode* n, std::vector<CibColocation>& out) {
  CibColocation base{.id = Attr(n, "id"), .score = Attr(n, "score")};
  auto sets = ReadResourceSets(n);
  if (sets.empty()) {
    CibColocation c = base;
    c.rsc = Attr(n, "rsc");
    c.with = Attr(n, "with-rsc");
    c.rsc_role = CanonicalRole(Attr(n, "rsc-role"));
    c.with_role = CanonicalRole(Attr(n, "with-rsc-role"));
    out.push_back(std::move(c));
    return;
  }
  // In a set each member is placed with the one before it; of two sets, the
  // members of the first are placed with those of the second.
  auto pair = [&](const std::string& a, const ResourceSet& sa, const std::string& b,
                  const ResourceSet& sb) {
    CibColocation c = base;
    c.rsc = a;
    c.with = b;
    c.rsc_role = sa.role;
    c.with_role = sb.role;
    out.push_back(std::move(c));
  };
  for (std::size_t i = 0; i < sets.size(); ++i) {
    const ResourceSet& s = sets[i];
    for (std::size_t k = 1; s.sequential && k < s.ids.size(); ++k)
      pair(s.ids[k], s, s.ids[k - 1], s);
    if (i + 1 == sets.size()) continue;
    for (const std::string& a : s.ids) {
      for (const std::string& b : sets[i + 1].ids) pair(a, s, b, sets[i + 1]);
    }
  }
}

void ReadLocation(const xmlNode* n, std::vector<CibLocation>& out) {
  CibLocation base{.id = Attr(n, "id"),
                   .node = Attr(n, "node"),
                   .score = Attr(n, "score"),
                   .has_rule = Child(n, "rule") != nullptr};
  // Expressions may nest in rules within rules.
  std::vector<const xmlNode*> rules = Children(n, "rule");
  while (!rules.empty()) {
    const xmlNode* r = rules.back();
    rules.pop_back();
    for (const xmlNode* e : Children(r, "expression")) {
      base.rule_attributes.push_back(Attr(e, "attribute"));
    }
    for (const xmlNode* inner : Children(r, "rule")) rules.push_back(inner);
  }
  auto sets = ReadResourceSets(n);
  if (sets.empty()) {
    base.rsc = Attr(n, "rsc");
    out.push_back(std::move(base));
    return;
  }
  for (const ResourceSet& s : sets) {
    for (const std::string& id : s.ids) {
      CibLocation l = base;
      l.rsc = id;
      out.push_back(std::move(l));
    }
  }
}

class Reader {
 public:
  explicit Reader(Cib& cib) : cib_(cib) {}

  void Resources(const xmlNode* resources) {
    for (const xmlNode* t : Children(resources, "template")) templates_[Attr(t, "id")] = t;
    for (const xmlNode* r : Children(resources)) Resource(r, "", "");
  }

 private:
  void Resource(const xmlNode* r, const std::string& group, const std::string& clone) {
    if (Is(r, "primitive")) {
      CibPrimitive p = ReadPrimitive(r, templates_);
      p.group = group;
      p.clone = clone;
      cib_.primitives.push_back(std::move(p));
    } else if (Is(r, "group")) {
      CibGroup g{.id = Attr(r, "id"), .clone = clone};
      ReadSets(r, "meta_attributes", g.meta);
      for (const xmlNode* m : Children(r, "primitive")) {
        g.members.push_back(Attr(m, "id"));
        Resource(m, g.id, clone);
      }
      cib_.groups.push_back(std::move(g));
    } else if (Is(r, "clone") || Is(r, "master")) {
      CibClone c{.id = Attr(r, "id")};
      ReadSets(r, "meta_attributes", c.meta);
      auto promotable = c.meta.find("promotable");
      c.promotable = Is(r, "master") || (promotable != c.meta.end() &&
                                         ParseBoolean(promotable->second).value_or(false));
      for (const xmlNode* child : Children(r)) {
        if (Is(child, "primitive") || Is(child, "group")) {
          c.child = Attr(child, "id");
          Resource(child, "", c.id);
        }
      }
      cib_.clones.push_back(std::move(c));
    }
  }

  Cib& cib_;
  std::map<std::string, const xmlNode*> templates_;
};

}  // namespace

std::string CibPrimitive::Agent() const {
  if (provider.empty()) return standard + ":" + type;
  return standard + ":" + provider + ":" + type;
}

bool CibPrimitive::IsOurs(std::string_view agent_type) const {
  return standard == "ocf" && type == agent_type;
}

std::string CibPrimitive::Param(std::string_view name, std::string_view fallback) const {
  auto it = params.find(name);
  return it == params.end() ? std::string(fallback) : it->second;
}

const CibPrimitive* Cib::Primitive(std::string_view id) const {
  for (const auto& p : primitives) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

const CibGroup* Cib::Group(std::string_view id) const {
  for (const auto& g : groups) {
    if (g.id == id) return &g;
  }
  return nullptr;
}

const CibClone* Cib::Clone(std::string_view id) const {
  for (const auto& c : clones) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

std::vector<std::string> Cib::Containers(const CibPrimitive& p) const {
  std::vector<std::string> ids{p.id};
  if (!p.group.empty()) ids.push_back(p.group);
  if (!p.clone.empty()) ids.push_back(p.clone);
  return ids;
}

std::string Cib::Top(const CibPrimitive& p) const { return Containers(p).back(); }

std::vector<const CibPrimitive*> Cib::Contents(std::string_view id) const {
  if (const CibPrimitive* p = Primitive(id)) return {p};
  std::vector<const CibPrimitive*> out;
  if (const CibClone* c = Clone(id)) return Contents(c->child);
  if (const CibGroup* g = Group(id)) {
    for (const std::string& m : g->members) {
      if (const CibPrimitive* p = Primitive(m)) out.push_back(p);
    }
  }
  return out;
}

std::string Cib::Property(std::string_view name, std::string_view fallback) const {
  auto it = properties.find(name);
  return it == properties.end() ? std::string(fallback) : it->second;
}

Result<Cib> ParseCib(std::string_view xml) {
  Doc doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "cib.xml", nullptr,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING),
          xmlFreeDoc);
  if (!doc) {
    const xmlError* e = xmlGetLastError();
    return Status::Error("the CIB is not XML{}",
                         e && e->message
                             ? fmt::format(" (line {}: {})", e->line, OneLine(e->message))
                             : std::string());
  }
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  const xmlNode* configuration = root && Is(root, "cib") ? Child(root, "configuration") : nullptr;
  if (!configuration) return Status::Error("the document is not a CIB (no <cib><configuration>)");

  Cib cib;
  ReadSets(Child(configuration, "crm_config"), "cluster_property_set", cib.properties);
  ReadSets(Child(configuration, "rsc_defaults"), "meta_attributes", cib.rsc_defaults);
  ReadSets(Child(configuration, "op_defaults"), "meta_attributes", cib.op_defaults);
  Reader(cib).Resources(Child(configuration, "resources"));
  for (const xmlNode* c : Children(Child(configuration, "constraints"))) {
    if (Is(c, "rsc_order")) ReadOrder(c, cib.orders);
    if (Is(c, "rsc_colocation")) ReadColocation(c, cib.colocations);
    if (Is(c, "rsc_location")) ReadLocation(c, cib.locations);
  }
  for (const xmlNode* n : Children(Child(configuration, "nodes"), "node")) {
    std::string type = Attr(n, "type");
    if (type == "remote" || type == "ping") continue;
    cib.nodes.push_back({.id = Attr(n, "id"), .uname = Attr(n, "uname")});
  }
  if (const xmlNode* status = Child(root, "status")) {
    cib.has_status = true;
    for (const xmlNode* s : Children(status, "node_state")) {
      std::string id = Attr(s, "id");
      auto node = std::find_if(cib.nodes.begin(), cib.nodes.end(),
                               [&](const CibNode& cn) { return cn.id == id; });
      if (node == cib.nodes.end()) continue;
      node->online = Attr(s, "crmd") == "online";
      for (const xmlNode* t : Children(s, "transient_attributes")) {
        ReadSets(t, "instance_attributes", node->attributes);
      }
    }
  }
  return cib;
}

std::optional<std::chrono::milliseconds> ParseCibDuration(std::string_view text) {
  using std::chrono::milliseconds;
  std::string t;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) t += static_cast<char>(std::tolower(c));
  }
  if (t.starts_with("pt") || t.starts_with("p")) {  // ISO 8601: PnDTnHnMnS
    long long total = 0;
    bool in_time = false, any = false;
    std::string number;
    for (std::size_t i = 1; i < t.size(); ++i) {
      char c = t[i];
      if (std::isdigit(static_cast<unsigned char>(c))) {
        number += c;
        continue;
      }
      if (c == 't') {
        in_time = true;
        continue;
      }
      auto n = ParseInteger(number);
      if (!n) return std::nullopt;
      number.clear();
      long long unit = c == 'd' && !in_time  ? 86400
                       : c == 'h' && in_time ? 3600
                       : c == 'm' && in_time ? 60
                       : c == 's' && in_time ? 1
                                             : 0;
      if (unit == 0) return std::nullopt;
      total += *n * unit;
      any = true;
    }
    if (!any || !number.empty()) return std::nullopt;
    return milliseconds(total * 1000);
  }
  std::size_t digits = 0;
  while (digits < t.size() && std::isdigit(static_cast<unsigned char>(t[digits]))) ++digits;
  auto n = ParseInteger(std::string_view(t).substr(0, digits));
  if (!n) return std::nullopt;
  std::string_view unit = std::string_view(t).substr(digits);
  static const struct {
    std::string_view unit;
    double ms;
  } kUnits[] = {{"", 1000},     {"s", 1000},    {"sec", 1000},   {"ms", 1},
                {"msec", 1},    {"us", 0.001},  {"usec", 0.001}, {"m", 60000},
                {"min", 60000}, {"h", 3600000}, {"hr", 3600000}};
  for (const auto& u : kUnits) {
    if (u.unit == unit) return milliseconds(static_cast<long long>(static_cast<double>(*n) * u.ms));
  }
  return std::nullopt;
}

std::optional<long long> ParseCibScore(std::string_view text) {
  constexpr long long kInfinity = 1000000;
  std::string t;
  for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "infinity" || t == "+infinity" || t == "inf" || t == "+inf") return kInfinity;
  if (t == "-infinity" || t == "-inf") return -kInfinity;
  bool negative = t.starts_with('-');
  auto n = ParseInteger(negative ? std::string_view(t).substr(1) : std::string_view(t));
  if (!n) return std::nullopt;
  return std::clamp(negative ? -*n : *n, -kInfinity, kInfinity);
}

std::string CanonicalRole(std::string_view role) {
  if (role == "Master") return "Promoted";
  if (role == "Slave") return "Unpromoted";
  return std::string(role);
}

}  // namespace pmmha
