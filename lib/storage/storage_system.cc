// SPDX-License-Identifier: GPL-2.0-or-later
// The real StorageSystem: libmount, libblkid, /proc, and forked children for
// everything that touches a mounted filesystem or may block on a device.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <libmount/libmount.h>

#include "pmmha/core/owned_fd.h"
#include "pmmha/core/pidfd.h"
#include "pmmha/core/state_file.h"
#include "pmmha/core/text.h"
#include "pmmha/storage/block_device.h"
#include "pmmha/storage/bounded_check.h"
#include "pmmha/storage/kernel_tasks.h"
#include "pmmha/storage/storage.h"

namespace pmmha {

namespace {

constexpr std::size_t kBlock = 4096;

struct ContextFree {
  void operator()(libmnt_context* c) const { mnt_free_context(c); }
};

// Whether /proc/filesystems lists `name` ("nodev\tname" or "\tname").
bool KernelLists(const std::string& name) {
  std::ifstream in("/proc/filesystems");
  std::string line;
  while (std::getline(in, line)) {
    auto tab = line.rfind('\t');
    if (tab != std::string::npos && line.compare(tab + 1, std::string::npos, name) == 0)
      return true;
  }
  return false;
}

// Whether a module provides filesystem `name`: the kernel loads it on the
// first mount(2), so an unlisted type is not yet a missing one.
bool ModuleProvides(const std::string& name) {
  utsname u;
  if (uname(&u) != 0) return false;
  std::ifstream in(fmt::format("/lib/modules/{}/modules.alias", u.release));
  std::string want = fmt::format("alias fs-{} ", name);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, want.size(), want) == 0) return true;
  }
  return false;
}

// A 4 KiB buffer aligned for O_DIRECT.
struct AlignedBlock {
  AlignedBlock() {
    if (posix_memalign(&data, kBlock, kBlock) != 0) data = nullptr;
  }
  ~AlignedBlock() { std::free(data); }
  AlignedBlock(const AlignedBlock&) = delete;
  AlignedBlock& operator=(const AlignedBlock&) = delete;
  char* bytes() { return static_cast<char*>(data); }
  void* data = nullptr;
};

int OpenMaybeDirect(const std::string& path, int flags, bool direct) {
  if (direct) {
    int fd = open(path.c_str(), flags | O_DIRECT, 0600);
    // tmpfs and some FUSE filesystems refuse O_DIRECT: fall back to fsync.
    if (fd >= 0 || errno != EINVAL) return fd;
  }
  return open(path.c_str(), flags, 0600);
}

Status IoError(std::string_view what, const std::string& path, int e) {
  if (e == EROFS) {
    return Status::Error("cannot {} {}: the filesystem is read-only", what, Quote(path));
  }
  return Status::Error("cannot {} {}: {}", what, Quote(path), Errno(e));
}

Status WriteReadRemove(const std::string& path, bool direct, ChildProgress& progress) {
  AlignedBlock block;
  if (block.data == nullptr) return Status::Error("out of memory");
  std::string stamp = fmt::format("pmm-storage status {} {}\n", getpid(), std::time(nullptr));
  std::memset(block.data, '.', kBlock);
  std::memcpy(block.data, stamp.data(), std::min(stamp.size(), kBlock));
  block.bytes()[kBlock - 1] = '\n';

  progress.Step(fmt::format("writing {}", Quote(path)));
  OwnedFd fd(OpenMaybeDirect(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, direct));
  if (!fd.valid()) return IoError("create the status file", path, errno);
  ssize_t n = write(fd.get(), block.data, kBlock);
  int e = errno;
  if (n != static_cast<ssize_t>(kBlock)) {
    unlink(path.c_str());
    return IoError("write the status file", path, n < 0 ? e : EIO);
  }
  progress.Step(fmt::format("fsync of {}", Quote(path)));
  if (fsync(fd.get()) != 0) {
    e = errno;
    unlink(path.c_str());
    return IoError("fsync the status file", path, e);
  }
  fd.reset();

  progress.Step(fmt::format("reading back {}", Quote(path)));
  AlignedBlock back;
  if (back.data == nullptr) return Status::Error("out of memory");
  fd.reset(OpenMaybeDirect(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, direct));
  if (!fd.valid()) return IoError("open the status file", path, errno);
  n = pread(fd.get(), back.data, kBlock, 0);
  e = errno;
  fd.reset();
  if (n != static_cast<ssize_t>(kBlock) || std::memcmp(block.data, back.data, kBlock) != 0) {
    unlink(path.c_str());
    if (n < 0) return IoError("read back the status file", path, e);
    return Status::Error("the status file {} read back differs from what was written", Quote(path));
  }
  progress.Step(fmt::format("removing {}", Quote(path)));
  if (unlink(path.c_str()) != 0) return IoError("remove the status file", path, errno);
  return Status::Ok();
}

std::optional<std::string> ReadSmallFile(const std::string& path) {
  OwnedFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > 65536) return std::nullopt;
  }
}

// A bounded check whose child also hands back data: what it writes to the
// descriptor it is given (a pipe; a few hundred bytes at most, so the child
// never blocks on it). `data` gets what arrived, also after a timeout.
using DataWork = std::function<Status(ChildProgress& progress, int out)>;
Status RunBoundedWithData(std::string_view what, const Deadline& deadline, const DataWork& work,
                          std::string& data) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return Status::Error("{}: pipe: {}", what, Errno(errno));
  }
  OwnedFd read_end(fds[0]);
  OwnedFd write_end(fds[1]);
  Status s = RunBoundedCheck(
      what, deadline, [&](ChildProgress& progress) { return work(progress, write_end.get()); });
  write_end.reset();
  data = DrainPipe(read_end.get());
  return s;
}

// The libblkid calls, each in a bounded child: a dying device blocks the
// reads libblkid makes, and monitor and stop must still answer.
Result<std::string> BoundedFindDeviceByTag(const std::string& tag, const std::string& value,
                                           const Deadline& deadline) {
  std::string data;
  std::string what = fmt::format("finding the device of {}={} with libblkid", tag, Quote(value));
  Status s = RunBoundedWithData(
      what, deadline,
      [&](ChildProgress& progress, int out) -> Status {
        progress.Step("libblkid's device scan");
        auto found = FindDeviceByTag(tag, value);
        if (!found) return found.status();
        WriteAll(out, *found);
        return Status::Ok();
      },
      data);
  if (!s.ok()) return s;
  if (data.empty()) return Status::Error("{}: no answer from the child", what);
  return data;
}

Result<FsProbe> BoundedProbeFilesystem(const std::string& device, const Deadline& deadline) {
  std::string data;
  std::string what = fmt::format("probing the filesystem on {} with libblkid", Quote(device));
  Status s = RunBoundedWithData(
      what, deadline,
      [&](ChildProgress& progress, int out) -> Status {
        progress.Step(fmt::format("reading the superblock of {}", Quote(device)));
        auto probe = ProbeFilesystem(device);
        if (!probe) return probe.status();
        WriteAll(out, fmt::format("{}\n{}\n", probe->type, probe->uuid));
        return Status::Ok();
      },
      data);
  if (!s.ok()) return s;
  auto nl = data.find('\n');
  auto nl2 = nl == std::string::npos ? nl : data.find('\n', nl + 1);
  if (nl2 == std::string::npos) return Status::Error("{}: no answer from the child", what);
  return FsProbe{.type = data.substr(0, nl), .uuid = data.substr(nl + 1, nl2 - nl - 1)};
}

class RealStorageSystem final : public StorageSystem {
 public:
  RealStorageSystem()
      : runner_(MakeProcessRunner()),
        procs_("/proc", getpid(), {}, [this](bool files) { return KernelView(files); }) {}

  Result<MountTable> ReadMounts() override { return MountTable::Read(); }
  MountLookup LookUpMount(std::uint64_t unique_id) override {
    return pmmha::LookUpMount(unique_id);
  }
  std::optional<std::uint64_t> UniqueMountIdAt(const std::string& dir,
                                               const Deadline& deadline) override {
    // statx walks into the filesystem: in a bounded child.
    std::string data;
    Status s = RunBoundedWithData(
        fmt::format("asking the unique mount ID of {}", Quote(dir)), deadline,
        [&](ChildProgress& progress, int out) -> Status {
          progress.Step(fmt::format("statx of {}", Quote(dir)));
          if (auto id = UniqueMountIdOf(dir)) WriteAll(out, std::to_string(*id));
          return Status::Ok();
        },
        data);
    auto id = ParseInteger(data);
    if (!s.ok() || !id || *id <= 0) return std::nullopt;
    return static_cast<std::uint64_t>(*id);
  }

  PathInfo Stat(const std::string& path) override {
    PathInfo info;
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return info;
    info.exists = true;
    info.is_dir = S_ISDIR(st.st_mode);
    info.is_block = S_ISBLK(st.st_mode);
    info.rdev = st.st_rdev;
    return info;
  }

  Result<std::string> RealPath(const std::string& path) override {
    char buf[PATH_MAX];
    if (realpath(path.c_str(), buf) == nullptr) {
      return Status::Error("cannot resolve {}: {}", Quote(path), Errno(errno));
    }
    return std::string(buf);
  }

  Result<std::string> FindDeviceByTag(const std::string& tag, const std::string& value,
                                      const Deadline& deadline) override {
    return BoundedFindDeviceByTag(tag, value, deadline);
  }

  Result<FsProbe> ProbeFilesystem(const std::string& device, const Deadline& deadline) override {
    return BoundedProbeFilesystem(device, deadline);
  }

  Result<bool> HasMmp(const std::string& device, const Deadline& deadline) override {
    std::string data;
    Status s = RunBoundedWithData(
        fmt::format("reading the superblock of {}", Quote(device)), deadline,
        [&](ChildProgress& progress, int out) -> Status {
          progress.Step(fmt::format("O_DIRECT read of {}", Quote(device)));
          auto sb = ReadExtSuperblock(device);
          if (!sb) return sb.status();
          WriteAll(out, sb->mmp ? "1" : "0");
          return Status::Ok();
        },
        data);
    if (!s.ok()) return s;
    return data == "1";
  }

  std::optional<std::string> ReadState(const std::string& path) override {
    return ReadSmallFile(path);
  }

  Status WriteState(const std::string& path, const std::string& text) override {
    return ReplaceFile(path, text);
  }

  void RemoveState(const std::string& path) override { unlink(path.c_str()); }

  bool ProcessAlive(const ProcessIdentity& id) override { return IdentifyProcess(id.pid) == id; }

  bool WaitProcessGone(const ProcessIdentity& id, const Deadline& until) override {
    // The pidfd pins the process: once open and still the recorded one, it
    // becomes readable when that process exits, whoever reaps it.
    OwnedFd pidfd(PidfdOpen(id.pid));
    if (!ProcessAlive(id)) return true;
    for (;;) {
      long long left = until.Remaining().count();
      if (left <= 0) return !ProcessAlive(id);
      if (pidfd.valid()) {
        pollfd p{pidfd.get(), POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(std::min(left, 60000LL))) > 0) return true;
      } else {
        usleep(static_cast<useconds_t>(std::min(left, 50LL) * 1000));
        if (!ProcessAlive(id)) return true;
      }
    }
  }

  bool FsTypeSupported(const std::string& kernel_fs) override {
    return KernelLists(kernel_fs) || ModuleProvides(kernel_fs);
  }

  std::optional<std::string> FindProgram(const std::string& name) override {
    const char* path = std::getenv("PATH");
    return FindExecutable(name,
                          path != nullptr && *path != '\0' ? std::string_view(path) : kDefaultPath);
  }

  Result<ProcessResult> Run(const std::vector<std::string>& argv,
                            const Deadline& deadline) override {
    return runner_->Run(argv, deadline);
  }

  Status MakeDirectory(const std::string& dir) override {
    std::size_t pos = 0;
    while (pos != std::string::npos) {
      pos = dir.find('/', pos + 1);
      std::string part = dir.substr(0, pos);
      if (mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
        return Status::Error("cannot create directory {}: {}", Quote(part), Errno(errno));
      }
    }
    return Status::Ok();
  }

  Result<OwnerSpec> ResolveOwner(const OwnerSpec& owner) override {
    OwnerSpec out = owner;
    std::vector<char> buf(16384);
    if (!owner.user_name.empty()) {
      passwd pw, *found = nullptr;
      getpwnam_r(owner.user_name.c_str(), &pw, buf.data(), buf.size(), &found);
      if (found == nullptr) {
        return Status::NotInstalled("user {} does not exist on this node", Quote(owner.user_name));
      }
      out.uid = found->pw_uid;
    }
    if (!owner.group_name.empty()) {
      group gr, *found = nullptr;
      getgrnam_r(owner.group_name.c_str(), &gr, buf.data(), buf.size(), &found);
      if (found == nullptr) {
        return Status::NotInstalled("group {} does not exist on this node",
                                    Quote(owner.group_name));
      }
      out.gid = found->gr_gid;
    }
    return out;
  }

  MountOutcome Mount(const MountRequest& request, const Deadline& deadline) override {
    std::string what =
        fmt::format("mount of {} at {}", Quote(request.source), Quote(request.target));
    std::string data;
    Status s = RunBoundedWithData(
        what, deadline,
        [&](ChildProgress& progress, int out) -> Status {
          // Who mounts: if the deadline abandons this child, it may still
          // attach the filesystem, and start records it for stop.
          WriteAll(out, fmt::format("{}\n", getpid()));
          progress.Step("mount(2)");
          std::unique_ptr<libmnt_context, ContextFree> cxt(mnt_new_context());
          if (!cxt) return Status::Error("libmount: out of memory");
          // The kernel mounts; no /sbin/mount.<type> helper, no fstab lookup.
          mnt_context_disable_helpers(cxt.get(), 1);
          mnt_context_set_optsmode(cxt.get(), MNT_OMODE_IGNORE);
          mnt_context_set_source(cxt.get(), request.source.c_str());
          mnt_context_set_target(cxt.get(), request.target.c_str());
          std::string options = request.options;
          if (request.bind) {
            options = options.empty() ? "bind" : fmt::format("bind,{}", options);
          } else if (!request.fstype.empty()) {
            mnt_context_set_fstype(cxt.get(), request.fstype.c_str());
          }
          if (!options.empty()) mnt_context_set_options(cxt.get(), options.c_str());
          int rc = mnt_context_mount(cxt.get());
          char buf[BUFSIZ] = {};
          int ex = mnt_context_get_excode(cxt.get(), rc, buf, sizeof buf);
          if (ex == MNT_EX_SUCCESS) return Status::Ok();
          std::string why = buf[0] != '\0' ? buf : fmt::format("libmount error {}", rc);
          return Status::Error("{} failed: {}", what, why);
        },
        data);
    MountOutcome outcome{.status = s, .abandoned = std::nullopt};
    if (!s.ok()) {
      auto pid = ParseInteger(data.substr(0, data.find('\n')));
      if (pid && *pid > 0) outcome.abandoned = IdentifyProcess(static_cast<pid_t>(*pid));
    }
    return outcome;
  }

  // umount2(2) directly rather than libmount's mnt_context_umount(): libmount
  // canonicalizes the target and looks it up with stat(), which blocks on a
  // hung filesystem; UMOUNT_NOFOLLOW on the exact mount-table path does not.
  UnmountResult Unmount(const std::string& target, bool lazy, const Deadline& deadline) override {
    std::string what = fmt::format("unmount of {}", Quote(target));
    Status s = RunBoundedCheck(what, deadline, [&](ChildProgress& progress) -> Status {
      progress.Step("umount2(2)");
      if (umount2(target.c_str(), UMOUNT_NOFOLLOW | (lazy ? MNT_DETACH : 0)) == 0) {
        return Status::Ok();
      }
      // The errno travels as the reason; only this function reads it.
      return Status::Error(std::to_string(errno));
    });
    if (s.ok()) return {UnmountResult::Kind::kUnmounted, {}};
    auto e = ParseInteger(s.reason());
    if (!e) return {UnmountResult::Kind::kFailed, s.reason()};
    if (*e == EBUSY) return {UnmountResult::Kind::kBusy, {}};
    if (*e == EINVAL || *e == ENOENT) {
      auto table = ReadMounts();
      if (table && table->At(target) == nullptr) return {UnmountResult::Kind::kNotMounted, {}};
    }
    return {UnmountResult::Kind::kFailed, Errno(static_cast<int>(*e))};
  }

  Status ApplyOwner(const std::string& dir, const OwnerSpec& owner,
                    const Deadline& deadline) override {
    return RunBoundedCheck(fmt::format("setting the owner of {}", Quote(dir)), deadline,
                           [&](ChildProgress& progress) -> Status {
                             progress.Step(fmt::format("stat of {}", Quote(dir)));
                             struct stat st;
                             if (lstat(dir.c_str(), &st) != 0) return IoError("stat", dir, errno);
                             uid_t uid = owner.uid.value_or(st.st_uid);
                             gid_t gid = owner.gid.value_or(st.st_gid);
                             if (st.st_uid == uid && st.st_gid == gid) return Status::Ok();
                             progress.Step(fmt::format("chown of {}", Quote(dir)));
                             if (lchown(dir.c_str(), uid, gid) != 0) {
                               return IoError(fmt::format("give {}:{}", uid, gid), dir, errno);
                             }
                             return Status::Ok();
                           });
  }

  Status CheckReadable(const std::string& dir, const ResolvedDevice& device,
                       const Deadline& deadline) override {
    return RunBoundedCheck(fmt::format("read check of {}", Quote(dir)), deadline,
                           [&](ChildProgress& progress) -> Status {
                             progress.Step(fmt::format("stat of {}", Quote(dir)));
                             struct stat st;
                             if (stat(dir.c_str(), &st) != 0) return IoError("stat", dir, errno);
                             if (device.IsBind()) {
                               progress.Step(fmt::format("listing {}", Quote(dir)));
                               DIR* d = opendir(dir.c_str());
                               if (d == nullptr) return IoError("list", dir, errno);
                               errno = 0;
                               bool ok = readdir(d) != nullptr || errno == 0;
                               int e = errno;
                               closedir(d);
                               if (!ok) return IoError("list", dir, e);
                               return Status::Ok();
                             }
                             progress.Step(fmt::format("O_DIRECT read of {}", Quote(device.path)));
                             auto head = ReadDeviceHead(device.path);
                             return head.ok() ? Status::Ok() : head.status();
                           });
  }

  Result<SpaceUsage> FreeSpace(const std::string& dir, const Deadline& deadline) override {
    // The child's result travels as its reason: "AVAILABLE TOTAL".
    Status s = RunBoundedCheck(
        fmt::format("free space of {}", Quote(dir)), deadline,
        [&](ChildProgress& progress) -> Status {
          progress.Step(fmt::format("statvfs of {}", Quote(dir)));
          struct statvfs st;
          if (statvfs(dir.c_str(), &st) != 0) {
            return IoError("statvfs", dir, errno);
          }
          return Status(ExitCode::kSuccess,
                        fmt::format("{} {}", st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize));
        });
    if (!s.ok()) return s;
    SpaceUsage usage;
    auto space = s.reason().find(' ');
    auto available = ParseInteger(s.reason().substr(0, space));
    auto total =
        space == std::string::npos ? std::nullopt : ParseInteger(s.reason().substr(space + 1));
    if (!available || !total) {
      return Status::Error("free space of {}: no answer from the check", Quote(dir));
    }
    usage.available = static_cast<std::uint64_t>(*available);
    usage.total = static_cast<std::uint64_t>(*total);
    return usage;
  }

  Status CheckWritable(const std::string& dir, const std::string& name, bool direct_io,
                       const Deadline& deadline) override {
    std::string path = fmt::format("{}/{}", dir, name);
    return RunBoundedCheck(
        fmt::format("write check of {}", Quote(dir)), deadline,
        [&](ChildProgress& progress) { return WriteReadRemove(path, direct_io, progress); });
  }

  // The /proc scans run in a child bounded by the deadline (see
  // RunBoundedScan); the namespace's unmount too (setns changes the caller).
  UserSearch FindUsers(const MountUserQuery& query, const Deadline& deadline) override {
    // Loaded here, once, so that each scan's child only walks them.
    if (!kernel_tasks_) kernel_tasks_ = LoadKernelTasks();
    ScanOutput scan =
        RunBoundedScan("search for the filesystem's users", deadline, [&](const ScanEmit& emit) {
          procs_.FindUsers(
              query, [&](const ProcUser& user) { emit(EncodeUser(user)); },
              [&](const ScanProgress& progress) { emit(EncodeProgress(progress)); });
        });
    UserSearch search;
    ScanProgress progress;
    DecodeScan(scan.text, &search.users, nullptr, &progress);
    search.open_files = progress.open_files;
    if (!scan.complete) {
      search.unfinished =
          progress.total == 0
              ? fmt::format("the search for its users did not get through /proc ({})", scan.error)
              : fmt::format("the search for its users was cut short after {} of {} processes ({})",
                            progress.examined, progress.total, scan.error);
    }
    return search;
  }

  Result<std::vector<NamespaceMounts>> FindNamespaceMounts(const FilesystemRef& fs,
                                                           const Deadline& deadline) override {
    if (!kernel_tasks_) kernel_tasks_ = LoadKernelTasks();
    ScanOutput scan =
        RunBoundedScan("search for other mount namespaces", deadline, [&](const ScanEmit& emit) {
          for (const NamespaceMounts& space : procs_.FindNamespaceMounts(fs)) {
            emit(EncodeNamespace(space));
          }
        });
    if (!scan.complete) return Status::Error("{}", scan.error);
    std::vector<NamespaceMounts> spaces;
    if (!DecodeScan(scan.text, nullptr, &spaces)) {
      return Status::Error("search for other mount namespaces: unreadable result");
    }
    return spaces;
  }

  Status UnmountInNamespace(const NamespaceMounts& space, const Deadline& deadline) override {
    return RunBoundedCheck(
        fmt::format("unmount in the mount namespace of {} ({})", space.pid, space.comm), deadline,
        [&](ChildProgress& progress) {
          return procs_.UnmountInNamespace(space,
                                           [&](const std::string& step) { progress.Step(step); });
        });
  }

  void Signal(pid_t pid, int signal) override { control_.Signal(pid, signal); }
  bool WaitExit(const std::vector<pid_t>& pids, const Deadline& until) override {
    return control_.WaitExit(pids, until);
  }
  void Pause(const Deadline& until) override { control_.Pause(until); }

 private:
  std::unique_ptr<ProcessRunner> runner_;
  ProcScanner procs_;
  std::optional<Result<std::shared_ptr<const KernelTasks>>> kernel_tasks_;

  // On a busy host the kernel's own tables (BPF iterators) answer in a
  // fraction of the time /proc takes; loading them (about 0.1 s: libbpf
  // reads the kernel's BTF) costs more than reading /proc on a quiet one.
  static Result<std::shared_ptr<const KernelTasks>> LoadKernelTasks() {
    constexpr std::size_t kBusyHost = 500;  // processes
    std::size_t processes = 0;
    if (std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir("/proc"), closedir); dir) {
      while (dirent* e = readdir(dir.get())) {
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9') ++processes;
      }
    }
    if (processes < kBusyHost) {
      return Status::Error("{} processes, fewer than {}: /proc is quicker", processes, kBusyHost);
    }
    return KernelTasks::Load();
  }

  Result<ProcScanner::KernelView> KernelView(bool with_files) const {
    if (!kernel_tasks_) return Status::Error("the BPF iterators are not loaded");
    if (!*kernel_tasks_) return kernel_tasks_->status();
    const KernelTasks& kernel = ***kernel_tasks_;
    auto tasks = kernel.Tasks();
    if (!tasks) return tasks.status();
    ProcScanner::KernelView view{.tasks = std::move(*tasks), .files = {}};
    if (with_files) {
      auto files = kernel.Files();
      if (!files) return files.status();
      view.files = std::move(*files);
    }
    return view;
  }
  SystemProcessControl control_;
};

}  // namespace

std::unique_ptr<StorageSystem> MakeStorageSystem() { return std::make_unique<RealStorageSystem>(); }

}  // namespace pmmha
