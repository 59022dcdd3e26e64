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

// ra-api-1.dtd, which resource-agents ships and ocf-tester validates
// meta-data against, describes OCF 1.0. OCF 1.1's additions (reloadable
// parameters, reload-agent, unique-group, deprecated parameters, select
// with its options) cannot be declared on top of it: a DTD may add
// attributes in the document's internal subset but not redefine an
// element. So the document carries ra-api-1.dtd itself, extended by those
// additions as OCF 1.1's schema has them (the tests validate it with
// xmllint, as ocf-tester does, and against pcs's OCF 1.1 schema).
constexpr std::string_view kOcf11Dtd = R"(<!DOCTYPE resource-agent [
<!ELEMENT resource-agent (version,longdesc,shortdesc,parameters?,actions)>
<!ATTLIST resource-agent name CDATA #REQUIRED version CDATA #IMPLIED>
<!ELEMENT version (#PCDATA)>
<!ELEMENT parameters (parameter*)>
<!ELEMENT actions (action*)>
<!ELEMENT parameter (longdesc+,shortdesc+,deprecated?,content)>
<!ATTLIST parameter name CDATA #REQUIRED required (1|0) "0" unique (1|0) "0"
  unique-group CDATA #IMPLIED reloadable (1|0) "0">
<!ELEMENT longdesc ANY>
<!ATTLIST longdesc lang NMTOKEN #IMPLIED>
<!ELEMENT shortdesc ANY>
<!ATTLIST shortdesc lang NMTOKEN #IMPLIED>
<!ELEMENT deprecated (replaced-with*)>
<!ELEMENT replaced-with EMPTY>
<!ATTLIST replaced-with name CDATA #REQUIRED>
<!ELEMENT content (option*)>
<!ATTLIST content type (string|integer|boolean|time|select) #REQUIRED default CDATA #IMPLIED>
<!ELEMENT option EMPTY>
<!ATTLIST option value CDATA #REQUIRED>
<!ELEMENT action EMPTY>
<!ATTLIST action name CDATA #REQUIRED timeout CDATA #REQUIRED interval CDATA #IMPLIED
  start-delay CDATA #IMPLIED role CDATA #IMPLIED depth CDATA #IMPLIED>
]>
)";

// Ends `text` with a period unless it ends a sentence already.
std::string Sentence(std::string text) {
  if (!text.empty() && text.back() != '.' && !text.ends_with(".)")) text += '.';
  return text;
}

// The longdesc of a parameter, with the allowed values of an enumeration
// appended so that they are written only in the table.
std::string ParamLongdesc(const ParamSpec& p) {
  std::string text = Sentence(std::string(p.longdesc.empty() ? p.shortdesc : p.longdesc));
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

// <content .../> or, for an enumeration, OCF 1.1's select with its options.
std::string Content(ParamType type, const std::vector<std::string_view>& choices,
                    std::string_view default_value) {
  std::string out =
      fmt::format("<content type=\"{}\"", choices.empty() ? ContentType(type) : "select");
  if (!default_value.empty()) out += fmt::format(" default=\"{}\"", Escape(default_value));
  if (choices.empty()) return out + " />\n";
  out += ">\n";
  for (std::string_view c : choices) out += fmt::format("<option value=\"{}\" />\n", Escape(c));
  return out + "</content>\n";
}

// An alias: deprecated, replaced with the parameter's own name.
void AppendAlias(std::string& out, const ParamSpec& p, const ParamAlias& alias) {
  const std::string text =
      fmt::format("{}'s name for {}, accepted so that its configuration works unchanged; use {}.",
                  alias.agent, p.name, p.name);
  out += fmt::format("<parameter name=\"{}\">\n", Escape(alias.name));
  out += fmt::format("<longdesc lang=\"en\">\n{}\n</longdesc>\n", Escape(text));
  out += fmt::format("<shortdesc lang=\"en\">{}'s name for {}</shortdesc>\n", Escape(alias.agent),
                     Escape(p.name));
  out += fmt::format("<deprecated><replaced-with name=\"{}\" /></deprecated>\n", Escape(p.name));
  if (alias.type) {
    out += Content(*alias.type, {}, {});
  } else {
    out += Content(p.type, p.choices, {});
  }
  out += "</parameter>\n";
}

}  // namespace

std::string RenderMetadata(const AgentSpec& agent) {
  std::string out = "<?xml version=\"1.0\"?>\n";
  out += kOcf11Dtd;
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
    // OCF 1.1's form, which pcs reads (it ignores unique in 1.1 meta-data):
    // no two resources of this agent may share the value.
    if (p->Has(kUnique)) out += fmt::format(" unique-group=\"{}\"", Escape(p->name));
    if (p->Has(kReloadable)) out += " reloadable=\"1\"";
    out += ">\n";
    out += fmt::format("<longdesc lang=\"en\">\n{}\n</longdesc>\n", Escape(ParamLongdesc(*p)));
    out += fmt::format("<shortdesc lang=\"en\">{}</shortdesc>\n", Escape(p->shortdesc));
    out += Content(p->type, p->choices, p->default_value);
    out += "</parameter>\n";
    for (const ParamAlias& alias : p->aliases) AppendAlias(out, *p, alias);
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
