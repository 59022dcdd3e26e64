// SPDX-License-Identifier: GPL-2.0-or-later
// Small text helpers every room uses: values quoted for messages, program
// output folded into a reason, numbers parsed without exceptions, the name
// alphabet, the default PATH.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace pmmha {

// The PATH a process gets when its environment has none (ocf-shellfuncs
// and Pacemaker use the same directories).
inline constexpr std::string_view kDefaultPath = "/usr/sbin:/usr/bin:/sbin:/bin";

// A value quoted for a message: 'value', cut to 64 characters, control
// characters escaped.
std::string Quote(std::string_view value);

// Text on one line for a reason or a log line: line breaks and tabs become
// blanks, runs of blanks one, no trailing blank; cut to `max` characters
// with "..." appended.
std::string OneLine(std::string_view text, std::size_t max = 300);

// The last non-empty line of a program's output, without trailing blanks.
std::string LastLine(std::string_view text);

// strerror(err), for a reason.
std::string Errno(int err);

// Parses an OCF boolean the way ocf_is_true does (yes/true/1/on/y, no/false/
// 0/off/n, case-insensitive); nothing for anything else.
std::optional<bool> ParseBoolean(std::string_view value);
// Parses a whole decimal integer (an optional '+'); nothing on junk or
// overflow.
std::optional<long long> ParseInteger(std::string_view value);

// The conservative name alphabet [A-Za-z0-9_.-]: what we accept in names we
// pass to the kernel, an engine or a file name. It keeps out shell
// metacharacters, '/', ':' and blanks.
bool IsNameChar(char c);
bool IsName(std::string_view s);  // non-empty and all IsNameChar

}  // namespace pmmha
