// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/status.h"

#include <fmt/format.h>

namespace pmmha {

std::string_view ExitCodeName(ExitCode code) {
  switch (code) {
    case ExitCode::kSuccess: return "OCF_SUCCESS";
    case ExitCode::kErrGeneric: return "OCF_ERR_GENERIC";
    case ExitCode::kErrArgs: return "OCF_ERR_ARGS";
    case ExitCode::kErrUnimplemented: return "OCF_ERR_UNIMPLEMENTED";
    case ExitCode::kErrPerm: return "OCF_ERR_PERM";
    case ExitCode::kErrInstalled: return "OCF_ERR_INSTALLED";
    case ExitCode::kErrConfigured: return "OCF_ERR_CONFIGURED";
    case ExitCode::kNotRunning: return "OCF_NOT_RUNNING";
    case ExitCode::kRunningPromoted: return "OCF_RUNNING_PROMOTED";
    case ExitCode::kFailedPromoted: return "OCF_FAILED_PROMOTED";
    case ExitCode::kDegraded: return "OCF_DEGRADED";
    case ExitCode::kDegradedPromoted: return "OCF_DEGRADED_PROMOTED";
  }
  return "OCF_UNKNOWN";
}

Status Status::Prefixed(std::string_view context) const {
  if (reason_.empty()) return Status(code_, std::string(context));
  return Status(code_, fmt::format("{}: {}", context, reason_));
}

}  // namespace pmmha
