// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/text.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace pmmha {

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}
}  // namespace

std::optional<bool> ParseBoolean(std::string_view value) {
  for (std::string_view yes : {"yes", "true", "1", "on", "y"}) {
    if (EqualsIgnoreCase(value, yes)) return true;
  }
  for (std::string_view no : {"no", "false", "0", "off", "n"}) {
    if (EqualsIgnoreCase(value, no)) return false;
  }
  return std::nullopt;
}

std::optional<long long> ParseInteger(std::string_view value) {
  if (value.empty()) return std::nullopt;
  std::string_view digits = value;
  if (digits.front() == '+') digits.remove_prefix(1);
  long long n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return n;
}

std::string Quote(std::string_view value) {
  constexpr std::size_t kShown = 64;
  std::string out = "'";
  for (std::size_t i = 0; i < value.size() && i < kShown; ++i) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += "'";
  if (value.size() > kShown) out += fmt::format(" (cut, {} bytes)", value.size());
  return out;
}

std::string OneLine(std::string_view text, std::size_t max) {
  std::string out;
  for (char c : text) {
    bool blank = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (blank && (out.empty() || out.back() == ' ')) continue;
    out += blank ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > max) out = out.substr(0, max) + "...";
  return out;
}

std::string LastLine(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  auto nl = text.rfind('\n');
  return std::string(nl == std::string_view::npos ? text : text.substr(nl + 1));
}

std::string Errno(int err) { return std::strerror(err); }

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

bool IsName(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsNameChar);
}

}  // namespace pmmha
