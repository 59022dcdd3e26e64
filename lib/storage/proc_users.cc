// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/storage/proc_users.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "pmmha/core/owned_fd.h"
#include "pmmha/core/text.h"
#include "pmmha/storage/mount_table.h"
#include "pmmha/storage/storage_params.h"

namespace pmmha {

namespace {

struct DirClose {
  void operator()(DIR* d) const { closedir(d); }
};

std::string ReadLink(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  if (n <= 0) return {};
  return std::string(buf, static_cast<std::size_t>(n));
}

// A small /proc file, read whole (up to `cap` bytes).
std::string ReadSmall(const std::string& path, std::size_t cap) {
  OwnedFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return {};
  std::string out;
  char buf[8192];
  while (out.size() < cap) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string_view StripDeleted(std::string_view link) {
  constexpr std::string_view kDeleted = " (deleted)";
  if (link.size() > kDeleted.size() && link.substr(link.size() - kDeleted.size()) == kDeleted) {
    link.remove_suffix(kDeleted.size());
  }
  return link;
}

bool WithinAny(std::string_view path, const std::vector<std::string>& dirs) {
  path = StripDeleted(path);
  return std::any_of(dirs.begin(), dirs.end(),
                     [path](const std::string& d) { return PathIsWithin(path, d); });
}

int MntIdOf(const std::string& fdinfo) {
  constexpr std::string_view kKey = "mnt_id:";
  auto pos = fdinfo.find(kKey);
  if (pos == std::string::npos) return -1;
  pos += kKey.size();
  while (pos < fdinfo.size() && (fdinfo[pos] == ' ' || fdinfo[pos] == '\t')) ++pos;
  auto end = fdinfo.find('\n', pos);
  return static_cast<int>(
      ParseInteger(std::string_view(fdinfo).substr(pos, end - pos)).value_or(-1));
}

// One maps line: "start-end perms offset MAJ:MIN inode path".
bool MapsLineMatches(std::string_view line, const MountUserQuery& q, bool same_ns) {
  std::size_t pos = 0;
  std::string_view fields[5];
  for (int i = 0; i < 5; ++i) {
    while (pos < line.size() && line[pos] == ' ') ++pos;
    std::size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) end = line.size();
    fields[i] = line.substr(pos, end - pos);
    pos = end;
  }
  if (fields[4].empty() || fields[4] == "0") return false;  // anonymous memory
  if (q.maps_device != 0) {
    auto colon = fields[3].find(':');
    if (colon == std::string_view::npos) return false;
    unsigned long maj = std::strtoul(std::string(fields[3].substr(0, colon)).c_str(), nullptr, 16);
    unsigned long min = std::strtoul(std::string(fields[3].substr(colon + 1)).c_str(), nullptr, 16);
    return makedev(maj, min) == q.maps_device;
  }
  if (!same_ns) return false;
  while (pos < line.size() && line[pos] == ' ') ++pos;
  return WithinAny(line.substr(pos), q.paths);
}

}  // namespace

ProcScanner::ProcScanner(std::string proc_root, pid_t self)
    : root_(std::move(proc_root)), self_(self) {}

std::vector<pid_t> ProcScanner::Pids() const {
  std::vector<pid_t> pids;
  std::unique_ptr<DIR, DirClose> dir(opendir(root_.c_str()));
  if (!dir) return pids;
  while (dirent* e = readdir(dir.get())) {
    auto n = ParseInteger(e->d_name);
    if (!n || *n <= 1 || *n == self_) continue;
    pids.push_back(static_cast<pid_t>(*n));
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

std::string ProcScanner::Path(pid_t pid, const char* entry) const {
  return fmt::format("{}/{}/{}", root_, pid, entry);
}

std::string ProcScanner::Comm(pid_t pid) const {
  std::string comm = ReadSmall(Path(pid, "comm"), 64);
  while (!comm.empty() && comm.back() == '\n') comm.pop_back();
  return comm.empty() ? "?" : comm;
}

std::vector<ProcUser> ProcScanner::FindUsers(const MountUserQuery& q) const {
  std::vector<ProcUser> users;
  std::string own_ns = ReadLink(Path(self_, "ns/mnt"));
  for (pid_t pid : Pids()) {
    std::string ns = ReadLink(Path(pid, "ns/mnt"));
    // Paths are only meaningful in our own mount namespace; an unreadable
    // link (a process just exiting) is judged as ours.
    bool same_ns = own_ns.empty() || ns.empty() || ns == own_ns;
    std::string how;
    if (same_ns) {
      for (const char* link : {"cwd", "root", "exe"}) {
        std::string target = ReadLink(Path(pid, link));
        if (!target.empty() && WithinAny(target, q.paths)) {
          how = link == std::string_view("exe") ? "executable" : link;
          break;
        }
      }
    }
    if (how.empty() && !q.mount_ids.empty()) {
      std::string fdinfo_dir = Path(pid, "fdinfo");
      std::unique_ptr<DIR, DirClose> dir(opendir(fdinfo_dir.c_str()));
      while (dir && how.empty()) {
        dirent* e = readdir(dir.get());
        if (e == nullptr) break;
        if (e->d_name[0] == '.') continue;
        int id = MntIdOf(ReadSmall(fmt::format("{}/{}", fdinfo_dir, e->d_name), 4096));
        if (std::find(q.mount_ids.begin(), q.mount_ids.end(), id) != q.mount_ids.end()) {
          how = "open file";
        }
      }
    }
    if (how.empty()) {
      std::string maps = ReadSmall(Path(pid, "maps"), 16 * 1024 * 1024);
      std::size_t start = 0;
      while (start < maps.size() && how.empty()) {
        std::size_t end = maps.find('\n', start);
        if (end == std::string::npos) end = maps.size();
        if (MapsLineMatches(std::string_view(maps).substr(start, end - start), q, same_ns)) {
          how = "memory map";
        }
        start = end + 1;
      }
    }
    if (!how.empty()) users.push_back({pid, Comm(pid), how});
  }
  return users;
}

std::vector<ProcUser> ProcScanner::FindHolders(dev_t devno) const {
  std::vector<ProcUser> holders;
  std::string own_ns = ReadLink(Path(self_, "ns/mnt"));
  if (own_ns.empty()) return holders;
  std::map<std::string, bool> holds;  // per namespace: has devno mounted
  for (pid_t pid : Pids()) {
    std::string ns = ReadLink(Path(pid, "ns/mnt"));
    if (ns.empty() || ns == own_ns) continue;
    auto it = holds.find(ns);
    if (it == holds.end()) {
      auto table = MountTable::Read(Path(pid, "mountinfo"));
      bool has = table.ok() && !table->WithDevice(devno).empty();
      it = holds.emplace(ns, has).first;
    }
    if (it->second) holders.push_back({pid, Comm(pid), "mount namespace"});
  }
  return holders;
}

std::string DescribeUsers(const std::vector<ProcUser>& users, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < users.size() && i < max; ++i) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} ({}: {})", users[i].pid, users[i].comm, users[i].how);
  }
  if (users.size() > max) out += fmt::format(" and {} more", users.size() - max);
  return out;
}

}  // namespace pmmha
