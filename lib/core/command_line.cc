// SPDX-License-Identifier: GPL-2.0-or-later
#include "command_line.h"

#include <boost/program_options.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join from fmt 11 on

#include "pmmha/core/text.h"

namespace po = boost::program_options;

namespace pmmha {

namespace {

constexpr std::string_view kMetaOptions[] = {"timeout", "interval", "depth", "instance"};

po::options_description Options(const AgentSpec& agent) {
  po::options_description desc;
  for (const ParamSpec* p : agent.params) {
    desc.add_options()(std::string(p->name).c_str(), po::value<std::string>(),
                       std::string(p->shortdesc).c_str());
  }
  desc.add_options()("timeout", po::value<std::string>(), "operation timeout, seconds")(
      "interval", po::value<std::string>(), "monitor interval, seconds (0: a probe)")(
      "depth", po::value<std::string>(), "monitor depth (OCF_CHECK_LEVEL)")(
      "instance", po::value<std::string>(), "resource instance name");
  return desc;
}

Result<std::string> SecondsToMs(std::string_view option, const std::string& text) {
  auto n = ParseInteger(text);
  if (!n || *n < 0 || *n > 86400 * 365) {
    return Status::BadArgs("--{} wants whole seconds, not {}", option, Quote(text));
  }
  return std::to_string(*n * 1000);
}

}  // namespace

Result<CommandLine> ParseCommandLine(const AgentSpec& agent, int argc, const char* const* argv,
                                     Environment& env) {
  CommandLine cl;
  if (argc < 2) return cl;
  std::string_view first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    cl.kind = CommandLine::Kind::kHelp;
    return cl;
  }
  if (first == "--version") {
    cl.kind = CommandLine::Kind::kVersion;
    return cl;
  }
  if (first.empty() || first.front() == '-') {
    return Status::BadArgs("the first argument must be an action, not {}", Quote(first));
  }
  cl.kind = CommandLine::Kind::kAction;
  cl.action = std::string(first);
  if (argc == 2) return cl;  // Pacemaker's way: nothing more to parse

  po::variables_map vm;
  try {
    po::options_description desc = Options(agent);
    po::positional_options_description ignored;
    ignored.add("__ignored", -1);
    desc.add_options()("__ignored", po::value<std::vector<std::string>>(), "");
    po::store(
        po::command_line_parser(argc - 1, argv + 1)  // it skips its argv[0]: our action
            .options(desc)
            .positional(ignored)
            .style(po::command_line_style::unix_style & ~po::command_line_style::allow_guessing)
            .run(),
        vm);
  } catch (const po::error& e) {
    return Status::BadArgs("command line: {}", e.what());
  }
  for (const ParamSpec* p : agent.params) {
    if (vm.count(std::string(p->name))) {
      env.Set(fmt::format("OCF_RESKEY_{}", p->name), vm[std::string(p->name)].as<std::string>());
    }
  }
  for (std::string_view meta : kMetaOptions) {
    if (!vm.count(std::string(meta))) continue;
    const auto& text = vm[std::string(meta)].as<std::string>();
    if (meta == "timeout" || meta == "interval") {
      auto ms = SecondsToMs(meta, text);
      if (!ms) return ms.status();
      env.Set(fmt::format("OCF_RESKEY_CRM_meta_{}", meta), *ms);
    } else if (meta == "depth") {
      env.Set("OCF_CHECK_LEVEL", text);
    } else {
      env.Set("OCF_RESOURCE_INSTANCE", text);
    }
  }
  return cl;
}

std::string RenderHelp(const AgentSpec& agent) {
  std::string out = fmt::format("{} {}: {}\n\n{}\n", agent.name, agent.version, agent.shortdesc,
                                RenderUsage(agent));
  out += "\nParameters (each also read from OCF_RESKEY_<name>):\n";
  for (const ParamSpec* p : agent.params) {
    std::string notes;
    if (p->Has(kRequired)) notes += ", required";
    if (!p->default_value.empty()) notes += fmt::format(", default {}", p->default_value);
    if (!p->choices.empty()) notes += fmt::format(", one of {}", fmt::join(p->choices, "|"));
    out += fmt::format("  --{} VALUE\n      {}{}\n", p->name, p->shortdesc, notes);
  }
  out +=
      "\nOperation options:\n"
      "  --timeout SECONDS    operation timeout (OCF_RESKEY_CRM_meta_timeout)\n"
      "  --interval SECONDS   monitor interval; 0 makes a monitor a probe\n"
      "  --depth N            monitor depth (OCF_CHECK_LEVEL: 0, 10, 20)\n"
      "  --instance NAME      resource name (OCF_RESOURCE_INSTANCE)\n";
  return out;
}

}  // namespace pmmha
