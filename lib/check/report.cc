// SPDX-License-Identifier: GPL-2.0-or-later
// The report: text for people, JSON for scripts.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pmmha/check/doctor.h"

namespace pmmha {

std::string RenderText(const ReportHeader& header, const std::vector<Finding>& findings) {
  std::string out = fmt::format("pmm-ha-check: {} ({} nodes, {} PMM resources): ", header.source,
                                header.nodes, header.pmm_resources);
  if (findings.empty()) return out + "no findings\n";
  std::size_t errors = 0;
  for (const Finding& f : findings) errors += f.severity == Severity::kError;
  out += fmt::format("{} error{}, {} warning{}\n", errors, errors == 1 ? "" : "s",
                     findings.size() - errors, findings.size() - errors == 1 ? "" : "s");
  for (const Finding& f : findings) {
    out +=
        fmt::format("\n{} {} ({})\n  {}.\n", SeverityName(f.severity), f.id, f.subject, f.message);
    for (const std::string& c : f.fix_pcs) out += fmt::format("  pcs:  {}\n", c);
    for (const std::string& c : f.fix_crm) out += fmt::format("  crm:  {}\n", c);
  }
  return out;
}

std::string RenderJson(const ReportHeader& header, const std::vector<Finding>& findings) {
  nlohmann::ordered_json j;
  j["source"] = header.source;
  j["nodes"] = header.nodes;
  j["pmm_resources"] = header.pmm_resources;
  j["findings"] = nlohmann::ordered_json::array();
  for (const Finding& f : findings) {
    j["findings"].push_back({{"id", f.id},
                             {"severity", SeverityName(f.severity)},
                             {"subject", f.subject},
                             {"message", f.message},
                             {"fix", {{"pcs", f.fix_pcs}, {"crm", f.fix_crm}}}});
  }
  return j.dump(2) + "\n";
}

}  // namespace pmmha
