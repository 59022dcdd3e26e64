// SPDX-License-Identifier: GPL-2.0-or-later
// pmm-ha-check: reads the live CIB (cibadmin --query) or a CIB file and
// reports the configuration mistakes that make a PMM cluster lose data or
// fail over badly, each with its fix. Exit 0: no findings; 1: findings;
// 2: the CIB could not be read (or the command line is wrong).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/program_options.hpp>

#include "pmmha/check/cib.h"
#include "pmmha/check/doctor.h"
#include "pmmha/core/deadline.h"
#include "pmmha/core/process.h"
#include "pmmha/core/text.h"
#include "pmmha/core/version.h"

namespace {

namespace po = boost::program_options;
using namespace pmmha;

constexpr int kExitClean = 0;
constexpr int kExitFindings = 1;
constexpr int kExitCannotCheck = 2;

struct Options {
  std::string cib_file;
  bool json = false;
  bool list = false;
  std::vector<std::string> ignore;
  int timeout = 30;
};

Result<std::string> ReadFile(const std::string& path) {
  if (path == "-") {
    std::ostringstream s;
    s << std::cin.rdbuf();
    return s.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error("cannot read {}: {}", Quote(path), Errno(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<std::string> QueryLiveCib(int timeout) {
  auto runner = MakeProcessRunner();
  Deadline deadline = Deadline::After(std::chrono::seconds(timeout));
  ProcessOptions options{.output_cap = 64 * 1024 * 1024};
  auto r =
      runner->Run({"cibadmin", "--query", "--timeout", std::to_string(timeout)}, deadline, options);
  if (!r.ok()) return r.status();
  if (!r->Succeeded()) {
    return Status::Error("cibadmin --query: {}{}", r->Describe(),
                         r->err.empty() ? "" : ": " + OneLine(r->err));
  }
  if (r->out_truncated) return Status::Error("cibadmin --query: the CIB is larger than 64 MiB");
  return r->out;
}

int Run(const Options& o) {
  if (o.list) {
    for (const CheckInfo& c : Checks()) {
      std::printf("%-32s %-8s %.*s\n", std::string(c.id).c_str(),
                  std::string(SeverityName(c.severity)).c_str(), static_cast<int>(c.summary.size()),
                  c.summary.data());
    }
    return kExitClean;
  }
  for (const std::string& id : o.ignore) {
    if (!FindCheck(id)) {
      std::fprintf(stderr, "pmm-ha-check: no check is called %s (see --list)\n", Quote(id).c_str());
      return kExitCannotCheck;
    }
  }
  auto xml = o.cib_file.empty() ? QueryLiveCib(o.timeout) : ReadFile(o.cib_file);
  if (!xml.ok()) {
    std::fprintf(stderr, "pmm-ha-check: cannot read the CIB: %s\n", xml.status().reason().c_str());
    return kExitCannotCheck;
  }
  auto cib = ParseCib(*xml);
  if (!cib.ok()) {
    std::fprintf(stderr, "pmm-ha-check: cannot read the CIB: %s\n", cib.status().reason().c_str());
    return kExitCannotCheck;
  }
  std::vector<Finding> findings;
  for (Finding& f : Diagnose(*cib)) {
    if (std::find(o.ignore.begin(), o.ignore.end(), f.id) == o.ignore.end()) {
      findings.push_back(std::move(f));
    }
  }
  ReportHeader header{.source = o.cib_file.empty() ? "the live CIB" : o.cib_file,
                      .nodes = cib->nodes.size()};
  for (const CibPrimitive& p : cib->primitives) {
    header.pmm_resources += p.standard == "ocf" && p.type.starts_with("pmm-");
  }
  std::string report = o.json ? RenderJson(header, findings) : RenderText(header, findings);
  std::fwrite(report.data(), 1, report.size(), stdout);
  return findings.empty() ? kExitClean : kExitFindings;
}

int RealMain(int argc, char** argv) {
  Options o;
  po::options_description desc(
      "Usage: pmm-ha-check [--cib FILE] [--json] [--ignore ID]...\n"
      "Checks a Pacemaker cluster's PMM configuration (the live CIB, or FILE)\n"
      "and prints each finding with its fix as pcs and crmsh commands.\n"
      "Exit status: 0 no findings, 1 findings, 2 the CIB could not be read.\n\n"
      "Options");
  desc.add_options()("help,h", "show this help")("version", "show the version")(
      "cib", po::value(&o.cib_file)->value_name("FILE"),
      "check this CIB file (cibadmin --query > FILE; - for stdin) instead of the live cluster")(
      "json", po::bool_switch(&o.json), "print the findings as JSON")(
      "ignore", po::value(&o.ignore)->value_name("ID")->composing(),
      "leave out the findings of this check (repeatable)")("list", po::bool_switch(&o.list),
                                                           "list the checks and exit")(
      "timeout", po::value(&o.timeout)->value_name("SECONDS")->default_value(30),
      "how long to wait for the live CIB");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "pmm-ha-check: %s (see --help)\n", e.what());
    return kExitCannotCheck;
  }
  if (vm.count("help")) {
    std::cout << desc << "\nSee pmm-ha-check(8).\n";
    return kExitClean;
  }
  if (vm.count("version")) {
    std::printf("pmm-ha-check %.*s\n", static_cast<int>(kProjectVersion.size()),
                kProjectVersion.data());
    return kExitClean;
  }
  if (o.timeout <= 0) {
    std::fprintf(stderr, "pmm-ha-check: --timeout must be a positive number of seconds\n");
    return kExitCannotCheck;
  }
  return Run(o);
}

}  // namespace

int main(int argc, char** argv) { return RealMain(argc, argv); }
