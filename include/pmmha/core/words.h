// SPDX-License-Identifier: GPL-2.0-or-later
// Splitting a value such as run_opts into argv words, with the quoting rules
// users know from the shell, but never through a shell.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pmmha/core/status.h"

namespace pmmha {

// Splits `text` the way a POSIX shell splits a simple command line, without
// any expansion: blanks separate words; 'single quotes' keep everything
// literally; "double quotes" keep everything but \" \\ and \$; a backslash
// outside quotes escapes the next character. Fails with kErrConfigured on an
// unterminated quote, and on shell syntax that would mean something else
// without a shell: unquoted ; | & < > ( ) ` $ and ` or $ inside double quotes.
Result<std::vector<std::string>> SplitWords(std::string_view text);

}  // namespace pmmha
