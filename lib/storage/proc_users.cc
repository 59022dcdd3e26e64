// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/storage/proc_users.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "pmmha/core/bounded.h"
#include "pmmha/core/owned_fd.h"
#include "pmmha/core/text.h"
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

std::string ReadFd(int fd, std::size_t cap) {
  std::string out;
  char buf[8192];
  while (out.size() < cap) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// A small /proc file, read whole (up to `cap` bytes).
std::string ReadSmall(const std::string& path, std::size_t cap) {
  OwnedFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return {};
  return ReadFd(fd.get(), cap);
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
struct MapsLine {
  dev_t dev = 0;
  bool file = false;  // not anonymous memory
  std::string_view path;
};

MapsLine ParseMapsLine(std::string_view line) {
  MapsLine out;
  std::size_t pos = 0;
  std::string_view fields[5];
  for (int i = 0; i < 5; ++i) {
    while (pos < line.size() && line[pos] == ' ') ++pos;
    std::size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) end = line.size();
    fields[i] = line.substr(pos, end - pos);
    pos = end;
  }
  if (fields[4].empty() || fields[4] == "0") return out;  // anonymous memory
  out.file = true;
  auto colon = fields[3].find(':');
  if (colon != std::string_view::npos) {
    unsigned long maj = std::strtoul(std::string(fields[3].substr(0, colon)).c_str(), nullptr, 16);
    unsigned long min = std::strtoul(std::string(fields[3].substr(colon + 1)).c_str(), nullptr, 16);
    out.dev = makedev(maj, min);
  }
  while (pos < line.size() && line[pos] == ' ') ++pos;
  out.path = StripDeleted(line.substr(pos));
  return out;
}

// `path` as a process with root `root` names it: the mount tables of /proc
// show mount points relative to the reading process's root.
std::optional<std::string> RelativeToRoot(std::string_view path, std::string_view root) {
  if (root.empty() || root == "/") return std::string(path);
  if (!PathIsWithin(path, root)) return std::nullopt;
  std::string_view rest = path.substr(root.size());
  return rest.empty() ? std::string("/") : std::string(rest);
}

// mountinfo escapes blanks and backslashes as \ooo.
std::string Unescape(std::string_view field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      std::string_view oct = field.substr(i + 1, 3);
      if (oct.size() == 3 &&
          std::all_of(oct.begin(), oct.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        out += static_cast<char>((oct[0] - '0') * 64 + (oct[1] - '0') * 8 + (oct[2] - '0'));
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

dev_t StatSourceDevice(const std::string& source) {
  if (source.rfind("/dev/", 0) != 0) return 0;
  struct stat st;
  if (stat(source.c_str(), &st) != 0 || !S_ISBLK(st.st_mode)) return 0;
  return st.st_rdev;
}

// Fields on a line of the scan's report: tabs and newlines would break it.
std::string Field(std::string_view text) {
  std::string out(text);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\t' || c == '\n'; }, ' ');
  return out;
}

std::vector<std::string_view> SplitTabs(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  for (;;) {
    std::size_t tab = line.find('\t', pos);
    out.push_back(line.substr(pos, tab == std::string_view::npos ? tab : tab - pos));
    if (tab == std::string_view::npos) return out;
    pos = tab + 1;
  }
}

}  // namespace

// A process as the scan sees it.
struct ProcScanner::ProcInfo {
  pid_t pid = 0;
  const KernelTask* task = nullptr;  // the kernel's view of it, when it gave one
  std::string ns;                    // empty: unreadable (a process exiting, or not ours to see)
  std::string root;                  // readlink of /proc/PID/root
  bool same_ns = true;
};

// One mount namespace: its mounts of the filesystem, from the mountinfo of
// one of its processes (preferably one whose root is the namespace's root,
// so the mount points are the namespace's own).
struct ProcScanner::Namespace {
  pid_t pid = 0;
  std::string root = "/";  // that process's root: the mount points are relative to it
  MountTable table;
  std::vector<const MountEntry*> ours;

  // Whether `path` (absolute in the namespace) lies on one of our mounts:
  // the mount that holds it, judged from the path alone, is ours.
  bool Holds(std::string_view path) const {
    if (ours.empty() || path.empty()) return false;
    auto rel = RelativeToRoot(StripDeleted(path), root);
    if (!rel) return false;
    const MountEntry* holder = table.Containing(*rel);
    return holder != nullptr && std::find(ours.begin(), ours.end(), holder) != ours.end();
  }
};

ProcScanner::ProcScanner(std::string proc_root, pid_t self, SourceDevice source_device,
                         KernelViewSource kernel_view)
    : root_(std::move(proc_root)),
      self_(self),
      source_device_(source_device ? std::move(source_device) : SourceDevice(StatSourceDevice)),
      kernel_view_(std::move(kernel_view)) {}

std::vector<pid_t> ProcScanner::Pids() const {
  std::vector<pid_t> pids;
  std::unique_ptr<DIR, DirClose> dir(opendir(root_.c_str()));
  if (!dir) return pids;
  const pid_t me = getpid();  // a scan may run in a child of `self_`
  while (dirent* e = readdir(dir.get())) {
    auto n = ParseInteger(e->d_name);
    if (!n || *n <= 1 || *n == self_ || *n == me) continue;
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

bool ProcScanner::IsOurs(const MountEntry& e, const FilesystemRef& fs) const {
  if (fs.devno == 0 || !PathIsWithin(e.root.empty() ? "/" : e.root, fs.root)) return false;
  if (e.devno == fs.devno) return true;
  // An anonymous device (btrfs, one per superblock): the source names the
  // block device it was mounted from.
  return major(e.devno) == 0 && !e.source.empty() && source_device_(e.source) == fs.devno;
}

std::vector<ProcUser> ProcScanner::FindUsers(
    const MountUserQuery& q, const std::function<void(const ProcUser&)>& found,
    const std::function<void(const ScanProgress&)>& progress) const {
  std::string own_ns = ReadLink(Path(self_, "ns/mnt"));
  // The kernel's own view of every process and open file (BPF iterators),
  // when it can be had; else each process's /proc links and fdinfo.
  std::optional<KernelView> kernel;
  std::string open_files = "/proc";
  if (kernel_view_) {
    auto view = kernel_view_(true);
    if (view) {
      kernel = std::move(*view);
    } else {
      open_files = fmt::format("/proc (no BPF iterators: {})", view.status().reason());
    }
  }
  std::vector<ProcInfo> procs;
  if (kernel) {
    const pid_t me = getpid();
    for (const KernelTask& t : kernel->tasks) {
      if (t.pid <= 1 || t.pid == self_ || t.pid == me) continue;
      ProcInfo p;
      p.pid = t.pid;
      p.ns = t.mount_ns == 0 ? "" : fmt::format("mnt:[{}]", t.mount_ns);
      // The root's path matters only to a chrooted process's paths.
      p.root = t.root_is_top ? "/" : ReadLink(Path(t.pid, "root"));
      p.same_ns = own_ns.empty() || p.ns.empty() || p.ns == own_ns;
      p.task = &t;
      procs.push_back(std::move(p));
    }
    std::sort(procs.begin(), procs.end(),
              [](const ProcInfo& a, const ProcInfo& b) { return a.pid < b.pid; });
  } else {
    for (pid_t pid : Pids()) {
      ProcInfo p;
      p.pid = pid;
      p.ns = ReadLink(Path(pid, "ns/mnt"));
      p.root = ReadLink(Path(pid, "root"));
      // Paths in the query are only meaningful in our own mount namespace; an
      // unreadable link (a process just exiting) is judged as ours.
      p.same_ns = own_ns.empty() || p.ns.empty() || p.ns == own_ns;
      procs.push_back(std::move(p));
    }
  }
  ScanProgress report{.examined = 0, .total = procs.size(), .open_files = {}};
  if (progress) progress(report);

  // Each namespace's mounts of the filesystem; their IDs (unique across
  // namespaces) and device numbers (one per superblock) in every namespace.
  std::map<std::string, Namespace> spaces;
  std::set<int> ids(q.mount_ids.begin(), q.mount_ids.end());
  std::set<dev_t> devs;
  if (q.maps_device != 0) devs.insert(q.maps_device);
  if (q.filesystem.devno != 0) {
    for (const ProcInfo& p : procs) {
      if (p.ns.empty()) continue;
      auto it = spaces.find(p.ns);
      if (it != spaces.end() && (it->second.root == "/" || p.root != "/")) continue;
      auto table = MountTable::Read(Path(p.pid, "mountinfo"));
      if (!table.ok()) continue;
      Namespace& space = spaces[p.ns];
      space.pid = p.pid;
      space.root = p.root.empty() ? "/" : p.root;
      space.table = std::move(*table);
      space.ours.clear();
    }
    for (auto& [ns, space] : spaces) {
      for (const MountEntry& e : space.table.entries()) {
        if (!IsOurs(e, q.filesystem)) continue;
        space.ours.push_back(&e);
        ids.insert(e.id);
        // Memory maps show the superblock's device: only a whole filesystem
        // (not a bind mount of one directory) is found by it.
        if (q.filesystem.root == "/") devs.insert(e.devno);
      }
    }
  }

  // The processes with an open file on one of the mounts, from the
  // kernel's file tables when it gave them; else each process's fdinfo.
  std::optional<std::set<pid_t>> open_on_ours;
  if (kernel && !ids.empty()) {
    open_on_ours.emplace();
    for (const OpenFile& f : kernel->files) {
      if (ids.count(f.mount_id) != 0) open_on_ours->insert(f.pid);
    }
    open_files = fmt::format(
        "the kernel's task and file tables (BPF iterators, {} processes, "
        "{} open files)",
        kernel->tasks.size(), kernel->files.size());
  }
  report.open_files = open_files;
  if (progress) progress(report);

  std::vector<ProcUser> users;
  for (const ProcInfo& p : procs) {
    const pid_t pid = p.pid;
    if (progress && ++report.examined % 256 == 0) progress(report);
    auto sit = spaces.find(p.ns);
    const Namespace* space = sit == spaces.end() ? nullptr : &sit->second;
    std::string how;
    if (p.task != nullptr && open_on_ours) {
      // The mounts the kernel holds for its cwd, root and executable.
      if (ids.count(p.task->cwd) != 0) {
        how = "cwd";
      } else if (ids.count(p.task->root) != 0) {
        how = "root";
      } else if (ids.count(p.task->exe) != 0) {
        how = "executable";
      }
    } else {
      for (const char* link : {"cwd", "root", "exe"}) {
        std::string target = std::string_view(link) == "root" ? p.root : ReadLink(Path(pid, link));
        if (target.empty()) continue;
        if ((p.same_ns && WithinAny(target, q.paths)) || (space && space->Holds(target))) {
          how = link == std::string_view("exe") ? "executable" : link;
          break;
        }
      }
    }
    if (how.empty() && open_on_ours) {
      if (open_on_ours->count(pid) != 0) how = "open file";
    } else if (how.empty() && !ids.empty()) {
      std::string fdinfo_dir = Path(pid, "fdinfo");
      std::unique_ptr<DIR, DirClose> dir(opendir(fdinfo_dir.c_str()));
      while (dir && how.empty()) {
        dirent* e = readdir(dir.get());
        if (e == nullptr) break;
        if (e->d_name[0] == '.') continue;
        int id = MntIdOf(ReadSmall(fmt::format("{}/{}", fdinfo_dir, e->d_name), 4096));
        if (ids.count(id) != 0) how = "open file";
      }
    }
    if (how.empty()) {
      std::string maps = ReadSmall(Path(pid, "maps"), 16 * 1024 * 1024);
      std::size_t start = 0;
      while (start < maps.size() && how.empty()) {
        std::size_t end = maps.find('\n', start);
        if (end == std::string::npos) end = maps.size();
        MapsLine m = ParseMapsLine(std::string_view(maps).substr(start, end - start));
        if (m.file && (devs.count(m.dev) != 0 ||
                       (q.maps_device == 0 && p.same_ns && WithinAny(m.path, q.paths)) ||
                       (space && q.filesystem.root != "/" && space->Holds(m.path)))) {
          how = "memory map";
        }
        start = end + 1;
      }
    }
    if (how.empty()) continue;
    users.push_back({pid, Comm(pid), how, p.ns});
    if (found) found(users.back());
  }
  report.examined = procs.size();
  if (progress) progress(report);
  return users;
}

std::vector<NamespaceMounts> ProcScanner::FindNamespaceMounts(const FilesystemRef& fs) const {
  std::vector<NamespaceMounts> out;
  std::string own_ns = ReadLink(Path(self_, "ns/mnt"));
  if (own_ns.empty() || fs.devno == 0) return out;
  // Per namespace: the first process whose root is the namespace's root
  // (its mountinfo shows every mount), else the first one at all.
  std::map<std::string, std::pair<pid_t, std::string>> chosen;
  std::vector<std::string> order;
  auto consider = [&](pid_t pid, const std::string& ns, const std::function<std::string()>& root) {
    if (ns.empty() || ns == own_ns) return;
    auto it = chosen.find(ns);
    if (it == chosen.end()) {
      chosen.emplace(ns, std::make_pair(pid, root()));
      order.push_back(ns);
    } else if (it->second.second != "/") {
      if (std::string r = root(); r == "/") it->second = {pid, r};
    }
  };
  // The kernel's list of processes and their namespaces when it gives one;
  // else two links of each process in /proc.
  auto view = kernel_view_ ? kernel_view_(false) : Result<KernelView>(Status::Error("none"));
  if (view) {
    const pid_t me = getpid();
    std::vector<KernelTask> tasks = std::move(view->tasks);
    std::sort(tasks.begin(), tasks.end(),
              [](const KernelTask& a, const KernelTask& b) { return a.pid < b.pid; });
    for (const KernelTask& t : tasks) {
      if (t.pid <= 1 || t.pid == self_ || t.pid == me || t.mount_ns == 0) continue;
      consider(t.pid, fmt::format("mnt:[{}]", t.mount_ns),
               [&]() { return t.root_is_top ? std::string("/") : ReadLink(Path(t.pid, "root")); });
    }
  } else {
    for (pid_t pid : Pids()) {
      consider(pid, ReadLink(Path(pid, "ns/mnt")), [&]() { return ReadLink(Path(pid, "root")); });
    }
  }
  for (const std::string& ns : order) {
    auto [pid, root] = chosen.at(ns);
    auto table = MountTable::Read(Path(pid, "mountinfo"));
    if (!table.ok()) continue;
    NamespaceMounts space{.ns = ns, .pid = pid, .comm = Comm(pid), .mounts = {}};
    // mountinfo lists children after their parents: reversed, deeper paths
    // first, each mount comes before the one it sits on.
    std::vector<const MountEntry*> ours;
    for (const MountEntry& e : table->entries()) {
      if (IsOurs(e, fs)) ours.push_back(&e);
    }
    std::reverse(ours.begin(), ours.end());
    std::stable_sort(ours.begin(), ours.end(), [](const MountEntry* a, const MountEntry* b) {
      return std::count(a->target.begin(), a->target.end(), '/') >
             std::count(b->target.begin(), b->target.end(), '/');
    });
    for (const MountEntry* e : ours) {
      std::string target = root.empty() || root == "/" ? e->target
                           : e->target == "/"          ? root
                                                       : root + e->target;
      space.mounts.push_back({e->id, std::move(target)});
    }
    if (!space.mounts.empty()) out.push_back(std::move(space));
  }
  return out;
}

Status ProcScanner::UnmountInNamespace(const NamespaceMounts& space,
                                       const std::function<void(const std::string&)>& step) const {
  const std::string where = fmt::format("the mount namespace of {} ({})", space.pid, space.comm);
  // Our own /proc directory, opened before entering: the namespace's /proc
  // may be another instance (a container's) that does not show us.
  OwnedFd self(open(fmt::format("{}/self", root_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!self.valid()) return Status::Error("cannot open {}/self: {}", root_, Errno(errno));
  OwnedFd ns(open(Path(space.pid, "ns/mnt").c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) {
    // The process is gone; its namespace with it, or the next scan finds
    // another process in it.
    if (errno == ENOENT || errno == ESRCH) return Status::Ok();
    return Status::Error("cannot open {}: {}", Quote(Path(space.pid, "ns/mnt")), Errno(errno));
  }
  if (setns(ns.get(), CLONE_NEWNS) != 0) {
    return Status::Error("cannot enter {}: {}", where, Errno(errno));
  }
  auto read_table = [&]() {
    OwnedFd fd(openat(self.get(), "mountinfo", O_RDONLY | O_CLOEXEC));
    return fd.valid() ? ParseMountIds(ReadFd(fd.get(), 64 * 1024 * 1024))
                      : std::vector<MountEntry>{};
  };
  auto unmount_one = [&](int id) -> Status {
    // Mounts stacked over ours on its mount point sit on our filesystem (as
    // a stack at `directory` in our namespace does): they go first, each
    // popped by a plain unmount of the path (a busy one fails the stop).
    for (int popped = 0;; ++popped) {
      std::vector<MountEntry> table = read_table();
      auto me =
          std::find_if(table.begin(), table.end(), [&](const MountEntry& e) { return e.id == id; });
      if (me == table.end()) return Status::Ok();  // gone meanwhile (a propagated unmount)
      const std::string target = me->target;
      bool covered = false, has_children = false;
      for (const MountEntry& e : table) {
        if (e.parent_id != me->id) continue;
        if (e.target == target) covered = true;
        has_children = true;
      }
      if (covered) {
        if (popped >= 8) {
          return Status::Error("{} has our filesystem at {} under too many mounts", where,
                               Quote(target));
        }
        if (step) step(fmt::format("umount2 of a mount over {} in {}", Quote(target), where));
        if (umount2(target.c_str(), UMOUNT_NOFOLLOW) != 0) {
          return Status::Error("{} has our filesystem at {} covered by another mount: {}", where,
                               Quote(target), Errno(errno));
        }
        continue;
      }
      if (step) step(fmt::format("umount2 of {} in {}", Quote(target), where));
      if (umount2(target.c_str(), UMOUNT_NOFOLLOW) == 0) return Status::Ok();
      int e = errno;
      if (e == EBUSY && has_children) {
        // Busy because of the mounts below it (nobody uses our filesystem):
        // detach them with it.
        if (umount2(target.c_str(), UMOUNT_NOFOLLOW | MNT_DETACH) == 0) return Status::Ok();
        e = errno;
      }
      if (e == EINVAL) {
        std::vector<MountEntry> now = read_table();
        if (std::none_of(now.begin(), now.end(), [&](const MountEntry& x) { return x.id == id; })) {
          return Status::Ok();
        }
      }
      if (e == EBUSY) {
        return Status::Error("{} has our filesystem at {} busy, but no process using it was found",
                             where, Quote(target));
      }
      return Status::Error("cannot unmount {} in {}: {}", Quote(target), where, Errno(e));
    }
  };
  for (const NamespaceMounts::Mount& planned : space.mounts) {
    if (Status s = unmount_one(planned.id); !s.ok()) return s;
  }
  return Status::Ok();
}

// The ID, parent ID and mount point of each mountinfo line: what the
// unmount in another namespace needs, parsed without libmount's file API
// (the file is read through a descriptor there, not a path).
std::vector<MountEntry> ParseMountIds(std::string_view text) {
  std::vector<MountEntry> out;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    std::string_view fields[5];
    std::size_t pos = 0;
    for (auto& f : fields) {
      std::size_t next = line.find(' ', pos);
      if (next == std::string_view::npos) next = line.size();
      f = line.substr(pos, next - pos);
      pos = std::min(line.size(), next + 1);
    }
    auto id = ParseInteger(fields[0]);
    auto parent = ParseInteger(fields[1]);
    if (!id || !parent || fields[4].empty()) continue;
    MountEntry e;
    e.id = static_cast<int>(*id);
    e.parent_id = static_cast<int>(*parent);
    e.target = Unescape(fields[4]);
    out.push_back(std::move(e));
  }
  return out;
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

std::string DescribeNamespaces(const std::vector<NamespaceMounts>& spaces, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < spaces.size() && i < max; ++i) {
    if (!out.empty()) out += ", ";
    std::string targets;
    for (const auto& m : spaces[i].mounts) {
      if (!targets.empty()) targets += " ";
      targets += Quote(m.target);
    }
    out +=
        fmt::format("{} in the mount namespace of {} ({})", targets, spaces[i].pid, spaces[i].comm);
  }
  if (spaces.size() > max) out += fmt::format(" and {} more", spaces.size() - max);
  return out;
}

std::string EncodeUser(const ProcUser& u) {
  return fmt::format("U\t{}\t{}\t{}\t{}\n", u.pid, Field(u.how), Field(u.ns), Field(u.comm));
}

std::string EncodeNamespace(const NamespaceMounts& space) {
  std::string out = fmt::format("N\t{}\t{}\t{}\n", space.pid, Field(space.ns), Field(space.comm));
  for (const auto& m : space.mounts) out += fmt::format("M\t{}\t{}\n", m.id, Field(m.target));
  return out;
}

std::string EncodeProgress(const ScanProgress& p) {
  return fmt::format("P\t{}\t{}\t{}\n", p.examined, p.total, Field(p.open_files));
}

bool DecodeScan(std::string_view text, std::vector<ProcUser>* users,
                std::vector<NamespaceMounts>* spaces, ScanProgress* progress) {
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    if (end == std::string_view::npos) return false;  // cut short
    std::vector<std::string_view> f = SplitTabs(text.substr(0, end));
    text.remove_prefix(end + 1);
    if (f[0] == "U" && f.size() == 5 && users != nullptr) {
      auto pid = ParseInteger(f[1]);
      if (!pid) return false;
      users->push_back(
          {static_cast<pid_t>(*pid), std::string(f[4]), std::string(f[2]), std::string(f[3])});
    } else if (f[0] == "N" && f.size() == 4 && spaces != nullptr) {
      auto pid = ParseInteger(f[1]);
      if (!pid) return false;
      spaces->push_back({.ns = std::string(f[2]),
                         .pid = static_cast<pid_t>(*pid),
                         .comm = std::string(f[3]),
                         .mounts = {}});
    } else if (f[0] == "P" && f.size() == 4) {
      auto examined = ParseInteger(f[1]);
      auto total = ParseInteger(f[2]);
      if (!examined || !total) return false;
      if (progress != nullptr) {
        *progress = {.examined = static_cast<std::size_t>(*examined),
                     .total = static_cast<std::size_t>(*total),
                     .open_files = std::string(f[3])};
      }
    } else if (f[0] == "M" && f.size() == 3 && spaces != nullptr && !spaces->empty()) {
      auto id = ParseInteger(f[1]);
      if (!id) return false;
      spaces->back().mounts.push_back({static_cast<int>(*id), std::string(f[2])});
    } else {
      return false;
    }
  }
  return true;
}

Deadline ScanDeadline(const Deadline& deadline) {
  constexpr std::chrono::milliseconds kLeast{300};
  return deadline.Remaining() < kLeast ? Deadline::After(kLeast) : deadline;
}

ScanOutput RunBoundedScan(std::string_view what, const Deadline& deadline,
                          const std::function<void(const ScanEmit& emit)>& scan) {
  ScanOutput out;
  // A memory file rather than a pipe: the child never blocks on a full
  // buffer, and the parent reads it after the child is done or abandoned.
  OwnedFd file(memfd_create("pmmha-scan", MFD_CLOEXEC));
  if (!file.valid()) {
    out.error = fmt::format("{}: memfd_create: {}", what, Errno(errno));
    return out;
  }
  constexpr std::string_view kEnd = "E\n";
  auto run = RunBounded(what, deadline, [&]() {
    auto write_all = [&](std::string_view data) {
      while (!data.empty()) {
        ssize_t n = write(file.get(), data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        data.remove_prefix(static_cast<std::size_t>(n));
      }
    };
    scan([&](std::string_view line) { write_all(line); });
    write_all(kEnd);
    return 0;
  });
  std::string text;
  char buf[65536];
  for (off_t at = 0;;) {
    ssize_t n = pread(file.get(), buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    at += n;
  }
  // Whole lines only: an abandoned child may be writing one.
  text.erase(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  // The end marker is a line of its own.
  out.complete = run.ok() && (text == kEnd || (text.size() > kEnd.size() &&
                                               text.compare(text.size() - kEnd.size() - 1,
                                                            std::string::npos, "\nE\n") == 0));
  if (out.complete) {
    text.resize(text.size() - kEnd.size());
  } else {
    out.error = run.ok() ? fmt::format("{}: ended without a result", what) : run.status().reason();
  }
  out.text = std::move(text);
  return out;
}

}  // namespace pmmha
