// SPDX-License-Identifier: GPL-2.0-or-later
// pmm-ha-check's findings: configuration mistakes that make a PMM cluster
// lose data or fail over badly, found in a CIB, each with the fix as a pcs
// and a crmsh command. Node facts (image present, key checksum, /srv
// writable and free) come from the transient attributes the agents publish,
// so a CIB saved from a live cluster (cibadmin -Q) carries them too.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pmmha/check/cib.h"

namespace pmmha {

enum class Severity { kError, kWarning };
std::string_view SeverityName(Severity s);  // "error", "warning"

// One check of the catalogue.
struct CheckInfo {
  std::string_view id;  // stable, for --ignore and scripts: "fencing-disabled"
  Severity severity;
  std::string_view summary;  // one line, for --list and the man page
};
std::span<const CheckInfo> Checks();
const CheckInfo* FindCheck(std::string_view id);

struct Finding {
  std::string id{};
  Severity severity = Severity::kError;
  std::string subject{};               // the resource or node it is about, or "cluster"
  std::string message{};               // what is wrong and what it leads to
  std::vector<std::string> fix_pcs{};  // commands, in order
  std::vector<std::string> fix_crm{};
};

// Every finding of every check on `cib`, in catalogue order.
std::vector<Finding> Diagnose(const Cib& cib);

// What was checked, for the report's first line.
struct ReportHeader {
  std::string source{};  // "the live CIB", "cib.xml"
  std::size_t nodes = 0;
  std::size_t pmm_resources = 0;
};
std::string RenderText(const ReportHeader& header, const std::vector<Finding>& findings);
std::string RenderJson(const ReportHeader& header, const std::vector<Finding>& findings);

}  // namespace pmmha
