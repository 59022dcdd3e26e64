// SPDX-License-Identifier: GPL-2.0-or-later
// OCF 1.1 meta-data and usage text, generated from the agent's tables.
#include <algorithm>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join from fmt 11 on

#include "pmmha/core/agent.h"

namespace pmmha {

namespace {

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string_view ContentType(ParamType type) {
  switch (type) {
    case ParamType::kInteger: return "integer";
    case ParamType::kBoolean: return "boolean";
    case ParamType::kString: break;
  }
  return "string";
}

bool UsesReload(const AgentSpec& agent) {
  bool reloadable = std::any_of(agent.params.begin(), agent.params.end(),
                                [](const ParamSpec* p) { return p->Has(kReloadable); });
  bool action = std::any_of(agent.actions.begin(), agent.actions.end(),
                            [](const ActionSpec& a) { return a.name == "reload-agent"; });
  return reloadable || action;
}

// The longdesc of a parameter, with the allowed values of an enumeration
// appended so that they are written only in the table.
std::string ParamLongdesc(const ParamSpec& p) {
  std::string text(p.longdesc.empty() ? p.shortdesc : p.longdesc);
  if (!p.choices.empty()) {
    text += fmt::format(" Allowed values: {}.", fmt::join(p.choices, ", "));
  }
  if (p.type == ParamType::kInteger && (p.min != 0 || p.max != 0)) {
    text += fmt::format(" Range: {} to {}.", p.min, p.max);
  }
  return text;
}

void AppendAction(std::string& out, std::string_view name, int timeout_s, int interval_s, int depth,
                  std::string_view role) {
  out += fmt::format("<action name=\"{}\" timeout=\"{}s\"", name, timeout_s);
  if (interval_s > 0) out += fmt::format(" interval=\"{}s\"", interval_s);
  if (depth >= 0) out += fmt::format(" depth=\"{}\"", depth);
  if (!role.empty()) out += fmt::format(" role=\"{}\"", role);
  out += " />\n";
}

}  // namespace

std::string RenderMetadata(const AgentSpec& agent) {
  std::string out = "<?xml version=\"1.0\"?>\n";
  if (UsesReload(agent)) {
    // OCF 1.1 added reloadable parameters and the reload-agent action after
    // the ra-api-1.dtd that resource-agents still ships (and ocf-tester
    // validates against); declaring them here keeps the document valid.
    out +=
        "<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\" [\n"
        "<!ATTLIST parameter reloadable (1|0) \"0\">\n"
        "<!ATTLIST action name CDATA #REQUIRED>\n"
        "]>\n";
  } else {
    out += "<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n";
  }
  out += fmt::format("<resource-agent name=\"{}\" version=\"{}\">\n", Escape(agent.name),
                     Escape(agent.version));
  out += "<version>1.1</version>\n";
  out += fmt::format("<longdesc lang=\"en\">\n{}\n</longdesc>\n", Escape(agent.longdesc));
  out += fmt::format("<shortdesc lang=\"en\">{}</shortdesc>\n", Escape(agent.shortdesc));
  out += "<parameters>\n";
  for (const ParamSpec* p : agent.params) {
    out += fmt::format("<parameter name=\"{}\"", Escape(p->name));
    if (p->Has(kRequired)) out += " required=\"1\"";
    out += fmt::format(" unique=\"{}\"", p->Has(kUnique) ? 1 : 0);
    if (p->Has(kReloadable)) out += " reloadable=\"1\"";
    out += ">\n";
    out += fmt::format("<longdesc lang=\"en\">\n{}\n</longdesc>\n", Escape(ParamLongdesc(*p)));
    out += fmt::format("<shortdesc lang=\"en\">{}</shortdesc>\n", Escape(p->shortdesc));
    out += fmt::format("<content type=\"{}\"", ContentType(p->type));
    if (!p->default_value.empty()) {
      out += fmt::format(" default=\"{}\"", Escape(p->default_value));
    }
    out += " />\n</parameter>\n";
  }
  out += "</parameters>\n<actions>\n";
  for (const ActionSpec& a : agent.actions) {
    AppendAction(out, a.name, a.timeout_s, a.interval_s, a.depth, a.role);
  }
  AppendAction(out, "meta-data", 5, 0, -1, {});
  AppendAction(out, "validate-all", agent.validate_timeout_s, 0, -1, {});
  out += "</actions>\n</resource-agent>\n";
  return out;
}

std::string RenderUsage(const AgentSpec& agent) {
  std::vector<std::string_view> names;
  for (const ActionSpec& a : agent.actions) {
    if (a.handler != nullptr && std::find(names.begin(), names.end(), a.name) == names.end()) {
      names.push_back(a.name);
    }
  }
  names.push_back("validate-all");
  names.push_back("meta-data");
  names.push_back("usage");
  return fmt::format(
      "usage: {0} {{{1}}} [--PARAMETER VALUE ...] [--timeout SECONDS] [--interval SECONDS]"
      " [--depth N]\n"
      "       {0} --help | --version\n"
      "\n"
      "{0} is an OCF resource agent: Pacemaker runs it with the action as the only\n"
      "argument and the parameters in OCF_RESKEY_<name>. '{0} --help' lists the parameters.\n",
      agent.name, fmt::join(names, "|"));
}

}  // namespace pmmha
