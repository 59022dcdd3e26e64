// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/process_identity.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <string>

#include <fmt/format.h>

#include "pmmha/core/owned_fd.h"

namespace pmmha {

std::optional<unsigned long long> ParseStatStartTime(std::string_view stat) {
  // "PID (COMM) STATE ...": COMM may hold spaces and parentheses, so the
  // fields are counted from the last ')'. STATE is field 3, starttime 22.
  auto close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = stat.substr(close + 1);
  int field = 2;
  std::size_t pos = 0;
  while (pos < rest.size()) {
    while (pos < rest.size() && rest[pos] == ' ') ++pos;
    std::size_t end = rest.find_first_of(" \n", pos);
    if (end == std::string_view::npos) end = rest.size();
    if (pos == end) break;
    ++field;
    std::string_view word = rest.substr(pos, end - pos);
    if (field == 3 && (word == "Z" || word == "X")) return std::nullopt;
    if (field == 22) {
      unsigned long long value = 0;
      auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
      if (ec != std::errc() || p != word.data() + word.size()) return std::nullopt;
      return value;
    }
    pos = end;
  }
  return std::nullopt;
}

std::optional<ProcessIdentity> IdentifyProcess(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  OwnedFd fd(open(fmt::format("/proc/{}/stat", pid).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  char buf[1024];
  ssize_t n = read(fd.get(), buf, sizeof buf);
  if (n <= 0) return std::nullopt;
  auto start = ParseStatStartTime(std::string_view(buf, static_cast<std::size_t>(n)));
  if (!start) return std::nullopt;
  return ProcessIdentity{pid, *start};
}

}  // namespace pmmha
