// SPDX-License-Identifier: GPL-2.0-or-later
// The command line for humans: "AGENT ACTION --PARAM VALUE ...". Private to
// the dispatcher.
#pragma once

#include <string>

#include "pmmha/core/agent.h"

namespace pmmha {

struct CommandLine {
  enum class Kind { kAction, kHelp, kVersion, kMissingAction };
  Kind kind = Kind::kMissingAction;
  std::string action;
};

// Parses argv. Parameter options are written into `env` as OCF_RESKEY_*;
// --timeout/--interval (seconds) as CRM_meta_timeout/interval (milliseconds),
// --depth as OCF_CHECK_LEVEL. Words after the action that are not options are
// ignored, as OCF asks. Unknown options and missing values give kErrArgs.
Result<CommandLine> ParseCommandLine(const AgentSpec& agent, int argc, const char* const* argv,
                                     Environment& env);

// The help text: usage and every parameter with its description and default.
std::string RenderHelp(const AgentSpec& agent);

}  // namespace pmmha
