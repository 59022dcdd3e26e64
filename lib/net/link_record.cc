// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/net/link_record.h"

#include <fcntl.h>
#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include <fmt/format.h>

#include "pmmha/core/owned_fd.h"
#include "pmmha/core/state_file.h"
#include "pmmha/core/text.h"

namespace pmmha {

std::string FormatLinkRecord(const std::vector<RecordedLink>& links) {
  std::string text;
  for (const RecordedLink& l : links) text += fmt::format("{} {}\n", l.index, l.name);
  return text;
}

std::optional<std::vector<RecordedLink>> ParseLinkRecord(std::string_view text) {
  std::vector<RecordedLink> links;
  while (!text.empty()) {
    auto end = text.find('\n');
    // A line without its newline is a record cut short: not a record.
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    auto space = line.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    RecordedLink l;
    auto [ptr, ec] = std::from_chars(line.data(), line.data() + space, l.index);
    if (ec != std::errc() || ptr != line.data() + space || l.index <= 0) return std::nullopt;
    l.name = std::string(line.substr(space + 1));
    // The kernel's names have no blanks (dev_valid_name).
    if (l.name.empty() || l.name.size() >= IFNAMSIZ ||
        l.name.find_first_of(" \t\r") != std::string::npos) {
      return std::nullopt;
    }
    links.push_back(std::move(l));
  }
  return links;
}

namespace {

class FileLinkRecord : public LinkRecord {
 public:
  explicit FileLinkRecord(std::string path) : path_(std::move(path)) {}

  std::optional<std::vector<RecordedLink>> Load() override {
    OwnedFd fd(open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return std::nullopt;
    char buf[4096];
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0 || n == static_cast<ssize_t>(sizeof buf)) return std::nullopt;
    return ParseLinkRecord(std::string_view(buf, static_cast<std::size_t>(n)));
  }

  Status Add(const LinkInfo& link) override {
    std::vector<RecordedLink> links = Load().value_or(std::vector<RecordedLink>{});
    if (std::none_of(links.begin(), links.end(),
                     [&](const RecordedLink& l) { return l.index == link.index; })) {
      links.push_back({link.index, link.name});
    }
    return Write(FormatLinkRecord(links));
  }

  Status Clear() override { return Write(""); }

 private:
  Status Write(const std::string& text) { return ReplaceFile(path_, text); }

  std::string path_;
};

}  // namespace

std::unique_ptr<LinkRecord> MakeLinkRecord(std::string path) {
  return std::make_unique<FileLinkRecord>(std::move(path));
}

}  // namespace pmmha
