// SPDX-License-Identifier: GPL-2.0-or-later
// The agents' runtime state in HA_RSCTMP: small files replaced whole.
#pragma once

#include <string>
#include <string_view>

#include "pmmha/core/status.h"

namespace pmmha {

// Writes `text` to `path` through a temporary file renamed over it, so a
// reader (the next action, maybe after a crash) never sees half a record;
// creates the directory when missing (HA_RSCTMP is made at boot by
// resource-agents' tmpfiles, by hand it may not be) and follows no symbolic
// link at the temporary file. On failure kErrGeneric naming the file.
Status ReplaceFile(const std::string& path, std::string_view text);

}  // namespace pmmha
