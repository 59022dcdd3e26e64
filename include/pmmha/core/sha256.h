// SPDX-License-Identifier: GPL-2.0-or-later
// SHA-256 (FIPS 180-4), for fingerprints that let nodes be compared without
// showing what they hold (pmm-server's pmm-ha-key attribute).
#pragma once

#include <string>
#include <string_view>

#include "pmmha/core/status.h"

namespace pmmha {

// The digest of `data` as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view data);

// The digest of the file at `path` (read whole; meant for small files such
// as keys, up to 1 MiB); kErrGeneric naming the file when it cannot be read.
Result<std::string> Sha256HexOfFile(const std::string& path);

}  // namespace pmmha
