// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/storage/storage.h"

#include <sys/sysmacros.h>

#include <algorithm>
#include <array>

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join from fmt 11 on

#include "pmmha/core/text.h"

namespace pmmha {

namespace {

using std::chrono::milliseconds;

bool IsExt(std::string_view fstype) {
  return fstype == "ext2" || fstype == "ext3" || fstype == "ext4" || fstype == "ext4dev";
}

// Filesystems that recover by themselves when mounted (a journal or log),
// which is why ocf:heartbeat:Filesystem skips fsck for them under "auto".
constexpr std::array kSelfRecovering = {
    std::string_view("ext3"),     std::string_view("ext4"),    std::string_view("ext4dev"),
    std::string_view("xfs"),      std::string_view("btrfs"),   std::string_view("jfs"),
    std::string_view("reiserfs"), std::string_view("reiser4"), std::string_view("nilfs2"),
    std::string_view("f2fs"),     std::string_view("ocfs2"),   std::string_view("gfs2"),
    std::string_view("zfs"),
};

std::string Describe(const MountEntry& e) {
  return fmt::format("{} ({})", Quote(e.source), e.fstype);
}

}  // namespace

FsckPolicy ParseFsckPolicy(std::string_view value) {
  if (value == "force") return FsckPolicy::kForce;
  if (value == "no") return FsckPolicy::kNo;
  return FsckPolicy::kAuto;
}

bool IsMountOf(const MountEntry& entry, const ResolvedDevice& device, const MountTable& table) {
  if (!device.IsBind()) {
    return (device.rdev != 0 && entry.devno == device.rdev) || entry.source == device.path;
  }
  const MountEntry* holder = table.Containing(device.path);
  if (holder == nullptr || holder == &entry) return false;
  return entry.devno == holder->devno && entry.root == RootWithin(*holder, device.path);
}

std::optional<std::vector<std::string>> FsckCommand(FsckPolicy policy, const std::string& fstype,
                                                    const std::string& device) {
  if (policy == FsckPolicy::kNo || fstype.empty() || fstype == "none") return std::nullopt;
  if (policy == FsckPolicy::kAuto &&
      std::find(kSelfRecovering.begin(), kSelfRecovering.end(), fstype) != kSelfRecovering.end()) {
    return std::nullopt;
  }
  // -p: repair what is safe without a person, fail (exit >= 4) on the rest.
  return std::vector<std::string>{fmt::format("fsck.{}", fstype), "-p", device};
}

namespace {

// "7:3" as mountinfo writes it.
std::string DevText(dev_t devno) { return fmt::format("{}:{}", major(devno), minor(devno)); }

std::optional<dev_t> ParseDev(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto maj = ParseInteger(text.substr(0, colon));
  auto min = ParseInteger(text.substr(colon + 1));
  if (!maj || !min || *maj < 0 || *min < 0 || *maj > 0xfffff || *min > 0xfffffff) {
    return std::nullopt;
  }
  return makedev(static_cast<unsigned>(*maj), static_cast<unsigned>(*min));
}

bool IsDevicePath(std::string_view source) { return PathIsWithin(source, "/dev"); }

}  // namespace

std::string FormatMountRecord(const MountRecord& r) {
  std::string out = fmt::format(
      "directory={}\nconfigured={}\ndevice={}\nrdev={}\nfstype={}\nuuid={}\nmount_id={}\n"
      "devno={}\nsource={}\nroot={}\n",
      r.directory, r.configured, r.device, DevText(r.rdev), r.fstype, r.uuid, r.mount_id,
      DevText(r.devno), r.source, r.root);
  if (r.unique_id != 0) out += fmt::format("unique_id={}\n", r.unique_id);
  if (r.child) out += fmt::format("child={} {}\n", r.child->pid, r.child->start_time);
  return out;
}

std::optional<MountRecord> ParseMountRecord(std::string_view text) {
  MountRecord r;
  bool has_directory = false;
  while (!text.empty()) {
    auto end = text.find('\n');
    if (end == std::string_view::npos) return std::nullopt;  // cut short
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    auto eq = line.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view key = line.substr(0, eq);
    std::string value(line.substr(eq + 1));
    if (key == "directory") {
      r.directory = value;
      has_directory = !value.empty();
    } else if (key == "configured") {
      r.configured = value;
    } else if (key == "device") {
      r.device = value;
    } else if (key == "fstype") {
      r.fstype = value;
    } else if (key == "uuid") {
      r.uuid = value;
    } else if (key == "source") {
      r.source = value;
    } else if (key == "root") {
      r.root = value;
    } else if (key == "rdev" || key == "devno") {
      auto dev = ParseDev(value);
      if (!dev) return std::nullopt;
      (key == "rdev" ? r.rdev : r.devno) = *dev;
    } else if (key == "mount_id") {
      auto id = ParseInteger(value);
      if (!id || *id < 0 || *id > 0x7fffffff) return std::nullopt;
      r.mount_id = static_cast<int>(*id);
    } else if (key == "unique_id") {
      auto id = ParseInteger(value);
      if (!id || *id <= 0) return std::nullopt;
      r.unique_id = static_cast<std::uint64_t>(*id);
    } else if (key == "child") {
      auto space = value.find(' ');
      if (space == std::string::npos) return std::nullopt;
      auto pid = ParseInteger(std::string_view(value).substr(0, space));
      auto start = ParseInteger(std::string_view(value).substr(space + 1));
      if (!pid || !start || *pid <= 0 || *pid > 0x3fffffff || *start < 0) return std::nullopt;
      r.child = ProcessIdentity{static_cast<pid_t>(*pid), static_cast<unsigned long long>(*start)};
    }
  }
  if (!has_directory) return std::nullopt;
  return r;
}

bool ClusterAware(std::string_view fstype) { return fstype == "gfs2" || fstype == "ocfs2"; }

Result<ResolvedDevice> Storage::Resolve(const Deadline& deadline) {
  const DeviceSpec& spec = config_.device;
  ResolvedDevice dev;
  dev.kind = spec.IsBind() ? DeviceKind::kBindDirectory : DeviceKind::kBlockPath;
  if (spec.IsBind()) {
    dev.path = spec.path;
    dev.canonical = spec.path;
    return dev;
  }
  if (spec.kind == DeviceKind::kTag) {
    auto found = sys_.FindDeviceByTag(spec.tag, spec.value, deadline);
    if (!found) return found.status();
    dev.path = *found;
  } else {
    dev.path = spec.path;
  }
  PathInfo info = sys_.Stat(dev.path);
  if (!info.exists) {
    return Status::NotInstalled("device {} does not exist on this node", Quote(dev.path));
  }
  if (!info.is_block) {
    return Status::NotConfigured("device {} is not a block device", Quote(dev.path));
  }
  dev.rdev = info.rdev;
  auto real = sys_.RealPath(dev.path);
  dev.canonical = real ? *real : dev.path;
  return dev;
}

const Result<ResolvedDevice>& Storage::Device(const Deadline& deadline) {
  if (!device_) device_ = Resolve(deadline);
  return *device_;
}

std::string Storage::OurUuid(const Deadline& deadline) {
  if (uuid_) return *uuid_;
  uuid_ = std::string();
  if (record_ && !record_->uuid.empty()) {
    uuid_ = record_->uuid;
  } else if (config_.device.kind == DeviceKind::kTag && config_.device.tag == "UUID") {
    uuid_ = config_.device.value;
  } else if (const auto& dev = Device(deadline); dev.ok() && !dev->IsBind()) {
    if (auto probe = sys_.ProbeFilesystem(dev->path, deadline)) uuid_ = probe->uuid;
  }
  return *uuid_;
}

void Storage::LoadRecord() {
  record_.reset();
  if (config_.state_path.empty()) return;
  auto text = sys_.ReadState(config_.state_path);
  if (!text) return;
  record_ = ParseMountRecord(*text);
  if (!record_) {
    log_.Warn("ignoring {}: not a record of this agent", Quote(config_.state_path));
  } else if (record_->directory != config_.directory) {
    // Written for another directory (the parameter changed): it says
    // nothing about what is mounted here.
    record_.reset();
  } else if (record_->configured != config_.device.Describe()) {
    // Written for another device parameter: its identity is not this
    // one's, but a mount child it left at this directory still counts.
    record_ = MountRecord{
        .directory = config_.directory, .configured = record_->configured, .child = record_->child};
  }
}

Status Storage::SaveRecord() {
  if (!record_ || config_.state_path.empty()) return Status::Ok();
  return sys_.WriteState(config_.state_path, FormatMountRecord(*record_));
}

Storage::Verdict Storage::Judge(const MountEntry& e, const MountTable& table,
                                const Deadline& deadline) {
  const MountRecord* r = record_ ? &*record_ : nullptr;
  if (r != nullptr && r->mount_id != 0 && e.id == r->mount_id && e.devno == r->devno &&
      e.source == r->source) {
    return {Ownership::kOurs, {}};
  }
  if (config_.device.IsBind()) {
    const auto& dev = Device(deadline);
    if (dev.ok() && IsMountOf(e, *dev, table)) return {Ownership::kOurs, {}};
    return {Ownership::kNotOurs, fmt::format("not a bind mount of {}", Quote(config_.device.path))};
  }
  // The same block device, by the name or number start used or the
  // configured path as written.
  if (!config_.device.path.empty() && e.source == config_.device.path) {
    return {Ownership::kOurs, {}};
  }
  if (r != nullptr) {
    if ((!r->device.empty() && e.source == r->device) ||
        (!r->source.empty() && e.source == r->source) ||
        (r->rdev != 0 && !e.Anonymous() && e.devno == r->rdev)) {
      return {Ownership::kOurs, {}};
    }
  }
  const auto& dev = Device(deadline);
  if (dev.ok() && ((dev->rdev != 0 && e.devno == dev->rdev) || e.source == dev->path ||
                   e.source == dev->canonical)) {
    return {Ownership::kOurs, {}};
  }
  if (!IsDevicePath(e.source)) {
    return {Ownership::kNotOurs, fmt::format("{} is no block device", Quote(e.source))};
  }
  // Another name of the device (a multipath alias, a renamed node) or a
  // filesystem whose device number is anonymous (btrfs): the UUID decides.
  std::string ours = OurUuid(deadline);
  if (!ours.empty()) {
    if (auto theirs = sys_.ProbeFilesystem(e.source, deadline); theirs && !theirs->uuid.empty()) {
      if (theirs->uuid == ours) return {Ownership::kOurs, {}};
      return {Ownership::kNotOurs,
              fmt::format("its filesystem UUID is {}, ours {}", theirs->uuid, ours)};
    }
  }
  // Another block device than the one we know to be ours.
  dev_t known = r != nullptr && r->rdev != 0 ? r->rdev : dev.ok() ? dev->rdev : 0;
  if (known != 0 && !e.Anonymous()) {
    return {Ownership::kNotOurs,
            fmt::format("device {} is not ours ({})", DevText(e.devno), DevText(known))};
  }
  std::string why = !dev.ok()
                        ? dev.status().reason()
                        : fmt::format("the filesystem on {} cannot be identified", Quote(e.source));
  if (r == nullptr) why += ", and no record of what start mounted";
  return {Ownership::kUnknown, why};
}

bool Storage::OursElsewhere(const MountEntry& e, dev_t our_devno, const std::string& our_source) {
  if (config_.device.IsBind() || our_devno == 0 || e.devno != our_devno) return false;
  // An anonymous number is reused once its superblock is gone: the source
  // must match too.
  return !e.Anonymous() || e.source == our_source;
}

Status Storage::AwaitAbandonedMount(const Deadline& until) {
  if (!record_ || !record_->child) return Status::Ok();
  const ProcessIdentity child = *record_->child;
  if (sys_.ProcessAlive(child)) {
    log_.Info("waiting for the mount of {} that start abandoned (process {})",
              Quote(record_->device.empty() ? record_->configured : record_->device), child.pid);
    if (!sys_.WaitProcessGone(child, until)) {
      return Status::Error(
          "the mount of {} that start abandoned at its deadline still runs (process {}, "
          "blocked in the kernel?) and may still attach the filesystem at {}",
          Quote(record_->device.empty() ? record_->configured : record_->device), child.pid,
          Quote(config_.directory));
    }
  }
  record_->child.reset();
  return Status::Ok();
}

Status Storage::Validate(std::string_view action, bool /*probe*/, const Deadline& deadline) {
  const DeviceSpec& spec = config_.device;
  const std::string& dir = config_.directory;
  if (config_.options.bind && !spec.IsBind()) {
    return Status::NotConfigured("options ask for a bind mount but device {} is not a directory",
                                 Quote(spec.Describe()));
  }
  if (spec.IsBind() && (PathIsWithin(spec.path, dir) || PathIsWithin(dir, spec.path))) {
    return Status::NotConfigured("device {} and directory {} overlap", Quote(spec.path),
                                 Quote(dir));
  }
  if (!spec.IsBind() && config_.fstype == "none") {
    return Status::NotConfigured("fstype 'none' is for bind mounts, but device is a block device");
  }
  // Monitor (a probe too) and stop decide from the mount table and the
  // record: a missing device does not mean that nothing is mounted.
  if (action == "monitor" || action == "stop" || action == "reload-agent") return Status::Ok();

  if (config_.clone) {
    if (spec.IsBind() || !ClusterAware(config_.fstype)) {
      return Status::NotConfigured(
          "pmm-storage is a clone, but {} is not a cluster filesystem: only gfs2 and ocfs2 "
          "(set fstype) may be mounted on several nodes at once; anything else is corrupted",
          spec.IsBind() ? std::string("a bind mount") : Quote(config_.fstype));
    }
  }
  // Start resolves the device itself: it may find ours mounted through a
  // path that is gone now (idempotent), and fails with the same reason when not.
  if (action != "start") {
    if (auto dev = Resolve(deadline); !dev) return dev.status();
  }
  if (spec.IsBind()) {
    PathInfo info = sys_.Stat(spec.path);
    if (!info.exists) {
      return Status::NotInstalled("directory {} to bind-mount does not exist on this node",
                                  Quote(spec.path));
    }
    if (!info.is_dir) {
      return Status::NotConfigured("device {} is neither below /dev nor a directory",
                                   Quote(spec.path));
    }
  } else if (config_.fstype != "auto") {
    if (!sys_.FsTypeSupported(KernelFsName(config_.fstype))) {
      return Status::NotInstalled("filesystem type {} is not supported by this kernel",
                                  Quote(config_.fstype));
    }
    if (auto cmd = FsckCommand(config_.run_fsck, config_.fstype, spec.Describe())) {
      if (!sys_.FindProgram(cmd->front())) {
        return Status::NotInstalled("{} is not installed (needed by run_fsck={})",
                                    Quote(cmd->front()),
                                    config_.run_fsck == FsckPolicy::kForce ? "force" : "auto");
      }
    }
  }
  if (config_.owner) {
    if (auto owner = sys_.ResolveOwner(*config_.owner); !owner) return owner.status();
  }
  return Status::Ok();
}

std::uint64_t Storage::UniqueIdOf(const MountRecord& record, const Deadline& deadline) {
  // statx walks into the filesystem: a small share of the budget, and
  // nothing lost without it (monitors read the mount table instead).
  auto id = sys_.UniqueMountIdAt(record.directory, deadline.Fraction(0.1));
  if (!id) return 0;
  // The same mount as the table showed, not one attached since.
  MountLookup look = sys_.LookUpMount(*id);
  if (look.state != MountLookup::State::kFound ||
      look.id_old != static_cast<std::uint32_t>(record.mount_id)) {
    return 0;
  }
  return *id;
}

bool Storage::DeviceNodeGone(const std::string& source) {
  return !config_.device.IsBind() && IsDevicePath(source) && !sys_.Stat(source).exists;
}

bool Storage::StillMountedAsRecorded() {
  if (!record_ || record_->unique_id == 0 || record_->child) return false;
  MountLookup look = sys_.LookUpMount(record_->unique_id);
  if (look.state != MountLookup::State::kFound) return false;
  const std::string& dir = config_.directory;
  if (look.mount_point != dir || look.id_old != static_cast<std::uint32_t>(record_->mount_id)) {
    return false;
  }
  // Something mounted over it, a read-only remount, a device node gone: the
  // mount table tells the whole story (and the monitor fails with it).
  for (const auto& child : look.children) {
    if (child == dir) return false;
  }
  if (look.read_only && !config_.options.read_only) return false;
  return !DeviceNodeGone(record_->source);
}

int FreePercent(const SpaceUsage& usage) {
  if (usage.total == 0) return 100;
  return static_cast<int>(static_cast<unsigned __int128>(usage.available) * 100 / usage.total);
}

std::string_view SpaceLevel(int free_percent, int warn_percent) {
  if (free_percent < 1) return "full";
  if (free_percent < warn_percent) return "low";
  return "ok";
}

void Storage::PublishSpace(const Deadline& deadline) {
  if (attributes_ == nullptr) return;
  const std::string& dir = config_.directory;
  auto usage = sys_.FreeSpace(dir, deadline);
  if (!usage) {
    log_.Warn("free space of {} unknown: {}", Quote(dir), usage.status().reason());
    return;
  }
  const int free = FreePercent(*usage);
  const std::string level(SpaceLevel(free, config_.free_space_warn));
  const std::string before = sys_.ReadState(config_.space_path).value_or("ok");
  if (level != before) {
    if (level == "ok") {
      log_.Info("{} has {} % free again", Quote(dir), free);
    } else {
      log_.Warn("{} has {} % free ({} of {} MiB){}", Quote(dir), free, usage->available >> 20,
                usage->total >> 20,
                level == "full"
                    ? ": PMM stops ingesting data when /srv is full"
                    : fmt::format(", below free_space_warn={} %", config_.free_space_warn));
    }
  }
  if (level != before || !sys_.ReadState(config_.space_path)) {
    WarnIfFailed(log_, sys_.WriteState(config_.space_path, level));
  }
  WarnIfFailed(log_, attributes_->Set(kAttrSrvFree, std::to_string(free), deadline));
  WarnIfFailed(log_, attributes_->Set(kAttrSrvSpace, level, deadline));
}

Status Storage::Monitor(int depth, bool probe, const Deadline& deadline) {
  Status s = CheckMount(depth, probe, deadline);
  // Depth 0 runs every few seconds and must never touch the filesystem (a
  // statvfs blocks on a dead disk); depths 10 and 20 touched it already,
  // in bounded children, and asking for its space is one more.
  if (s.ok() && depth >= 10) PublishSpace(deadline);
  return s;
}

Status Storage::CheckMount(int depth, bool probe, const Deadline& deadline) {
  const std::string& dir = config_.directory;
  LoadRecord();
  if (record_ && record_->child && sys_.ProcessAlive(*record_->child)) {
    // Neither running nor stopped: stop must wait for it.
    return Status::Error("the mount of {} that start abandoned still runs (process {})",
                         Quote(record_->device.empty() ? record_->configured : record_->device),
                         record_->child->pid);
  }
  // Depth 0: the kernel answers for our one mount (statmount), instead of
  // generating the whole mount table, whose cost grows with the host's
  // mounts. Anything unusual, or an older kernel, reads the table.
  if (depth < 10 && StillMountedAsRecorded()) {
    log_.Debug("{} is mounted as start recorded it (statmount)", Quote(dir));
    return Status::Ok();
  }
  log_.Debug("reading the mount table for {}", Quote(dir));
  auto table = sys_.ReadMounts();
  if (!table) return table.status();
  auto stack = table->StackAt(dir);
  if (stack.empty()) return Status::NotRunning();

  const MountEntry* top = stack.back();
  std::string unknown;
  for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
    Verdict v = Judge(**it, *table, deadline);
    if (v.ownership == Ownership::kOurs) {
      if (*it != top) {
        return Status::Error("{} has {} mounted over ours ({}): what is written there is lost",
                             Quote(dir), Describe(*top), Describe(**it));
      }
      break;
    }
    if (v.ownership == Ownership::kUnknown && unknown.empty()) {
      unknown = fmt::format("{} has {} mounted and it cannot be told whether it is {}: {}",
                            Quote(dir), Describe(**it), Quote(config_.device.Describe()), v.why);
    }
    if (it + 1 == stack.rend()) {
      // Nothing in the stack is ours.
      if (!unknown.empty()) return Status::Error(unknown);
      std::string what = fmt::format("{} has {} mounted, not {}", Quote(dir), Describe(*top),
                                     Quote(config_.device.Describe()));
      if (probe) {
        log_.Warn("{}: not running", what);
        return Status::NotRunning();
      }
      return Status::Error(what);
    }
  }

  const MountEntry& entry = *top;
  if (DeviceNodeGone(entry.source)) {
    return Status::Error("{} mounted at {} does not exist on this node any more",
                         Quote(entry.source), Quote(dir));
  }
  if (entry.ReadOnly() && !config_.options.read_only) {
    return Status::Error(
        "{} is mounted read-only although options do not ask for 'ro' "
        "(remounted after an I/O error?)",
        Quote(dir));
  }
  // The checks read the device that is mounted, not what the configured
  // path names now.
  ResolvedDevice checked;
  checked.kind = config_.device.IsBind() ? DeviceKind::kBindDirectory : DeviceKind::kBlockPath;
  checked.path = config_.device.IsBind() ? config_.device.path : entry.source;
  checked.rdev = entry.devno;
  if (depth >= 10) {
    if (Status s = sys_.CheckReadable(dir, checked, deadline); !s.ok()) return s;
  }
  if (depth >= 20 && !config_.options.read_only) {
    if (Status s = sys_.CheckWritable(dir, config_.status_name, !checked.IsBind(), deadline);
        !s.ok()) {
      return s;
    }
  }
  return Status::Ok();
}

Status Storage::CheckStartable(const MountTable& table, const ResolvedDevice& device) {
  const std::string& dir = config_.directory;
  if (const MountEntry* entry = table.At(dir)) {
    return Status::Error("{} already has {} mounted; refusing to mount {} over it", Quote(dir),
                         Describe(*entry), Quote(config_.device.Describe()));
  }
  if (auto below = table.Below(dir); !below.empty()) {
    return Status::Error("{} is mounted below {}; refusing to hide it under a new mount",
                         Quote(below.back()->target), Quote(dir));
  }
  if (!device.IsBind()) {
    if (auto elsewhere = table.WithDevice(device.rdev); !elsewhere.empty()) {
      return Status::Error("device {} is already mounted at {} on this node", Quote(device.path),
                           Quote(elsewhere.front()->target));
    }
  }
  return Status::Ok();
}

Result<FsProbe> Storage::DecideFsType(const ResolvedDevice& device, const Deadline& deadline) {
  if (device.IsBind()) return FsProbe{};
  auto found = sys_.ProbeFilesystem(device.path, deadline);
  if (config_.fstype == "auto") return found;
  if (!found) return FsProbe{.type = config_.fstype, .uuid = {}};
  if (found->type != config_.fstype) {
    return Status::NotConfigured("device {} holds {}, not {}", Quote(device.path),
                                 Quote(found->type), Quote(config_.fstype));
  }
  return found;
}

Status Storage::Fsck(const std::string& fstype, const ResolvedDevice& device,
                     const Deadline& deadline) {
  auto cmd = FsckCommand(config_.run_fsck, fstype, device.path);
  if (!cmd) return Status::Ok();
  log_.Info("checking {} with {}", Quote(device.path), fmt::join(*cmd, " "));
  auto run = sys_.Run(*cmd, deadline);
  if (!run) return run.status().Prefixed("fsck");
  std::string said = LastLine(run->out.empty() ? run->err : run->out);
  if (run->exited && run->exit_code < 4) {
    log_.Info("{}: {} ({})", cmd->front(), said, run->Describe());
    return Status::Ok();
  }
  return Status::Error("{} {} found errors it cannot repair unattended ({}); not mounting: {}",
                       cmd->front(), Quote(device.path), run->Describe(),
                       OneLine(run->out + "\n" + run->err));
}

Status Storage::FixOwner(const Deadline& deadline) {
  if (!config_.owner) return Status::Ok();
  auto owner = sys_.ResolveOwner(*config_.owner);
  if (!owner) return owner.status();
  return sys_.ApplyOwner(config_.directory, *owner, deadline);
}

Status Storage::Start(const Deadline& deadline) {
  Status s = Mount(deadline);
  if (s.ok()) PublishSpace(deadline.Within(deadline.Remaining() / 2));
  return s;
}

Status Storage::Mount(const Deadline& deadline) {
  const std::string& dir = config_.directory;
  LoadRecord();
  if (record_ && record_->child && sys_.ProcessAlive(*record_->child)) {
    return Status::Error(
        "the mount of {} that an earlier start abandoned still runs (process {}); not mounting "
        "again",
        Quote(record_->device.empty() ? record_->configured : record_->device),
        record_->child->pid);
  }
  auto table = sys_.ReadMounts();
  if (!table) return table.status();
  // Already ours (idempotent; by the record also when the device path is
  // gone or points elsewhere now).
  auto stack = table->StackAt(dir);
  for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
    const MountEntry& e = **it;
    if (Judge(e, *table, deadline).ownership != Ownership::kOurs) continue;
    if (&e != stack.back()) {
      return Status::Error("{} has {} mounted over ours ({}); refusing to go on", Quote(dir),
                           Describe(*stack.back()), Describe(e));
    }
    log_.Info("{} is already mounted at {}", Quote(e.source), Quote(dir));
    if (!record_ || record_->mount_id != e.id) {
      const auto& known = Device(deadline);
      record_ = MountRecord{.directory = dir,
                            .configured = config_.device.Describe(),
                            .device = known.ok() ? known->canonical : e.source,
                            .rdev = known.ok() ? known->rdev : 0,
                            .fstype = e.fstype,
                            .uuid = OurUuid(deadline),
                            .mount_id = e.id,
                            .devno = e.devno,
                            .source = e.source,
                            .root = e.root};
      record_->unique_id = UniqueIdOf(*record_, deadline);
      if (Status s = SaveRecord(); !s.ok()) return s;
    }
    return FixOwner(deadline);
  }
  const auto& dev = Device(deadline);
  if (!dev) return dev.status();
  if (Status s = CheckStartable(*table, *dev); !s.ok()) return s;

  // libblkid and the superblock read get a share of the budget: on a dying
  // device the mount must still be tried (and recorded) before the deadline.
  const Deadline probing = deadline.Fraction(0.3);
  auto fs = DecideFsType(*dev, probing);
  if (!fs) return fs.status();
  if (config_.clone && (dev->IsBind() || !ClusterAware(fs->type))) {
    return Status::NotConfigured(
        "pmm-storage is a clone, but {} is not a cluster filesystem (only gfs2 and ocfs2 may be "
        "mounted on several nodes at once)",
        dev->IsBind() ? std::string("a bind mount") : Quote(fs->type));
  }
  if (config_.require_mmp && !dev->IsBind()) {
    if (IsExt(fs->type)) {
      auto mmp = sys_.HasMmp(dev->path, probing);
      if (!mmp) return mmp.status();
      if (!*mmp) {
        return Status::NotConfigured(
            "{} has no multi-mount protection and require_mmp is set; "
            "enable it with 'tune2fs -O mmp' while it is mounted nowhere",
            Quote(dev->path));
      }
    } else {
      log_.Info("require_mmp: {} has no multi-mount protection to check", Quote(fs->type));
    }
  }
  if (Status s = Fsck(fs->type, *dev, deadline); !s.ok()) return s;

  PathInfo info = sys_.Stat(dir);
  if (!info.exists) {
    if (!config_.create_directory) {
      return Status::NotInstalled("directory {} does not exist and create_directory is false",
                                  Quote(dir));
    }
    if (Status s = sys_.MakeDirectory(dir); !s.ok()) return s;
  } else if (!info.is_dir) {
    return Status::NotConfigured("{} exists and is not a directory", Quote(dir));
  }
  // The mount table shows resolved paths: a symlink in `directory` would
  // make every later monitor miss the mount.
  for (const std::string& path : {dir, dev->IsBind() ? dev->path : std::string()}) {
    if (path.empty()) continue;
    auto real = sys_.RealPath(path);
    if (!real) return real.status();
    if (*real != path) {
      return Status::NotConfigured("{} resolves to {}: give the path without symbolic links",
                                   Quote(path), Quote(*real));
    }
  }

  MountRequest request{.source = dev->path,
                       .target = dir,
                       .fstype = fs->type,
                       .options = config_.options.ForMount(),
                       .bind = dev->IsBind()};
  // Recorded before mount(2): whatever happens next, stop knows what may
  // be mounted.
  record_ = MountRecord{.directory = dir,
                        .configured = config_.device.Describe(),
                        .device = dev->IsBind() ? dev->path : dev->canonical,
                        .rdev = dev->rdev,
                        .fstype = fs->type,
                        .uuid = fs->uuid};
  uuid_ = fs->uuid.empty() ? std::optional<std::string>() : fs->uuid;
  if (Status s = SaveRecord(); !s.ok()) return s;
  log_.Info("mounting {} at {}{}", Quote(dev->path), Quote(dir),
            request.bind ? " (bind)" : fmt::format(" ({})", request.fstype));
  MountOutcome outcome = sys_.Mount(request, deadline);
  if (!outcome.status.ok()) {
    if (outcome.abandoned) {
      record_->child = outcome.abandoned;
      SaveRecord();
      return Status::Error("{}; mount(2) goes on in process {}, which stop waits for",
                           outcome.status.reason(), outcome.abandoned->pid);
    }
    sys_.RemoveState(config_.state_path);
    return outcome.status;
  }

  auto after = sys_.ReadMounts();
  if (!after) return after.status();
  const MountEntry* entry = after->At(dir);
  if (entry == nullptr || Judge(*entry, *after, deadline).ownership != Ownership::kOurs) {
    return Status::Error("mount of {} at {} succeeded but the mount table does not show it",
                         Quote(dev->path), Quote(dir));
  }
  record_->mount_id = entry->id;
  record_->devno = entry->devno;
  record_->source = entry->source;
  record_->root = entry->root;
  record_->unique_id = UniqueIdOf(*record_, deadline);
  if (Status s = SaveRecord(); !s.ok()) return s;
  return FixOwner(deadline);
}

Status Storage::UnmountOne(const std::string& target, bool may_detach, dev_t devno,
                           const Deadline& deadline) {
  EscalationStep step;
  step.attempt = [&]() {
    UnmountResult r = sys_.Unmount(target, false, deadline);
    switch (r.kind) {
      case UnmountResult::Kind::kUnmounted:
      case UnmountResult::Kind::kNotMounted: return Attempt::Done();
      case UnmountResult::Kind::kBusy: return Attempt::Busy();
      case UnmountResult::Kind::kFailed: break;
    }
    return Attempt::Failed(r.error);
  };
  step.users = [&]() {
    MountUserQuery query;
    query.paths = {target};
    query.maps_device = devno;
    // The filesystem in every mount namespace: a slave copy of our mount (a
    // service with PrivateTmp, a container with an rslave bind) that a
    // process uses makes our unmount busy, under mount IDs and paths of its
    // own. (A bind mount, devno 0, is judged in our namespace only: its
    // source filesystem's other users are not ours to end.)
    query.filesystem.devno = devno;
    if (auto table = sys_.ReadMounts()) {
      for (const MountEntry& e : table->entries()) {
        if (PathIsWithin(e.target, target)) query.mount_ids.push_back(e.id);
      }
    }
    return sys_.FindUsers(query, ScanDeadline(deadline));
  };
  std::string what = fmt::format("unmount of {}", Quote(target));
  // A bind mount may be detached as a last resort (its source filesystem
  // stays mounted and in use anyway); keep a little time for that.
  Deadline until = may_detach ? deadline.Fraction(0.9) : deadline;
  Status s = Escalate(what, step, sys_, config_.stop, until, log_);
  if (s.ok() || !may_detach) return s;
  UnmountResult r = sys_.Unmount(target, true, deadline.Within(milliseconds(1000)));
  if (r.kind == UnmountResult::Kind::kUnmounted || r.kind == UnmountResult::Kind::kNotMounted) {
    log_.Warn("{}; detached the bind mount instead (its users keep the source directory)",
              s.reason());
    return Status::Ok();
  }
  return s;
}

Status Storage::DrainHolders(dev_t devno, const Deadline& deadline) {
  // Our mounts are gone, but other mount namespaces may still have the
  // filesystem: slave copies follow our unmount, private ones (unshare -m,
  // a container made with its own propagation) do not. Processes that use
  // it are ended as any user; in a namespace that merely has the mount, the
  // mount is taken out inside it (setns, umount): nobody is killed for
  // having a copy of the mount table.
  const FilesystemRef fs{.devno = devno, .root = "/"};
  std::string left;  // what still has it, for the reason
  EscalationStep step;
  step.users = [&]() {
    MountUserQuery query;
    query.maps_device = devno;
    query.filesystem = fs;
    return sys_.FindUsers(query, ScanDeadline(deadline));
  };
  step.attempt = [&]() {
    auto spaces = sys_.FindNamespaceMounts(fs, deadline);
    if (!spaces) return Attempt::Failed(spaces.status().reason());
    if (spaces->empty()) return Attempt::Done();
    left = DescribeNamespaces(*spaces);
    // Users first: unmounting under them would only hide them (and a search
    // cut short may have missed some).
    UserSearch users = step.users();
    if (!users.users.empty() || !users.unfinished.empty()) return Attempt::Busy();
    for (const NamespaceMounts& space : *spaces) {
      log_.Info(
          "{} is still mounted in the mount namespace of {} ({}), used by no process: "
          "unmounting it there",
          Quote(config_.device.Describe()), space.pid, space.comm);
      if (Status s = sys_.UnmountInNamespace(space, deadline); !s.ok()) {
        log_.Warn("{}", s.reason());
        left = s.reason();
        return Attempt::Busy();
      }
    }
    auto after = sys_.FindNamespaceMounts(fs, deadline);
    if (!after) return Attempt::Failed(after.status().reason());
    if (after->empty()) return Attempt::Done();
    left = DescribeNamespaces(*after);
    return Attempt::Busy();
  };
  Status s = Escalate(
      fmt::format("release of {} by other mount namespaces", Quote(config_.device.Describe())),
      step, sys_, config_.stop, deadline, log_);
  if (s.ok() || left.empty()) return s;
  return Status::Error("{}; still mounted: {}", s.reason(), left);
}

Status Storage::Stop(const Deadline& deadline) {
  if (attributes_ != nullptr) {
    // The space of a filesystem no longer here says nothing of this node.
    const Deadline attributes = deadline.Within(deadline.Remaining() / 10);
    WarnIfFailed(log_, attributes_->Delete(kAttrSrvFree, attributes));
    WarnIfFailed(log_, attributes_->Delete(kAttrSrvSpace, attributes));
  }
  sys_.RemoveState(config_.space_path);
  return Unmount(deadline);
}

Status Storage::Unmount(const Deadline& deadline) {
  const std::string& dir = config_.directory;
  const bool bind = config_.device.IsBind();
  LoadRecord();
  // A mount start abandoned may still attach the filesystem: wait for it
  // with half the budget, keeping the rest to unmount what it mounted.
  if (Status s = AwaitAbandonedMount(deadline.Fraction(0.5)); !s.ok()) return s;
  // Telling our filesystem from others may need libblkid on a dying
  // device: a quarter of what is left, the rest is for unmounting.
  const Deadline identify = deadline.Fraction(0.25);

  // The device number of our filesystem as mountinfo shows it, for the
  // holders in other mount namespaces; its source, for anonymous numbers.
  dev_t our_devno = 0;
  std::string our_source;
  if (record_ && record_->mount_id != 0) {
    our_devno = record_->devno;
    our_source = record_->source;
  }
  // Up to a few rounds: mounts may be stacked at the directory.
  for (int round = 0; round < 6; ++round) {
    auto table = sys_.ReadMounts();
    if (!table) return table.status();
    auto stack = table->StackAt(dir);
    // Unmounted from the top down to our lowest layer: what is stacked on
    // our mount point goes with it. Below ours, only what is provably not
    // ours is left alone.
    int lowest_ours = -1;
    std::vector<Verdict> verdicts;
    for (const MountEntry* e : stack) verdicts.push_back(Judge(*e, *table, identify));
    for (std::size_t i = 0; i < stack.size(); ++i) {
      if (verdicts[i].ownership == Ownership::kOurs) {
        lowest_ours = static_cast<int>(i);
        break;
      }
      if (verdicts[i].ownership == Ownership::kUnknown) {
        return Status::Error(
            "{} has {} mounted and it cannot be told whether it is {} ({}): not reporting the "
            "resource stopped",
            Quote(dir), Describe(*stack[i]), Quote(config_.device.Describe()), verdicts[i].why);
      }
    }
    // Each with the device number of our filesystem when it is ours, for
    // the memory maps of its files; others' users are found by path (their
    // number may be the root filesystem's, a bind mount's).
    std::vector<std::pair<std::string, dev_t>> targets;
    if (lowest_ours >= 0) {
      for (const MountEntry* below : table->Below(dir)) targets.emplace_back(below->target, 0);
      for (int i = static_cast<int>(stack.size()) - 1; i >= lowest_ours; --i) {
        if (i != lowest_ours) {
          log_.Warn("{} is mounted over ours at {}: unmounting it too", Describe(*stack[i]),
                    Quote(dir));
        }
        targets.emplace_back(dir, i == lowest_ours && !bind ? stack[i]->devno : 0);
      }
      if (!bind) {
        our_devno = stack[lowest_ours]->devno;
        our_source = stack[lowest_ours]->source;
      }
    } else if (round == 0 && !stack.empty()) {
      log_.Warn("{} has {} mounted, which is not {} ({}): leaving it alone", Quote(dir),
                Describe(*stack.back()), Quote(config_.device.Describe()), verdicts.back().why);
    }
    // Without a record or a mount at the directory, the configured device
    // names our filesystem.
    if (our_devno == 0 && !bind) {
      const auto& dev = Device(identify);
      if (dev.ok()) {
        our_devno = dev->rdev;
        our_source = dev->canonical;
      }
    }
    // Other mounts of our filesystem (a bind of a subdirectory made while
    // we ran) keep it in use: another node must not mount it while they stay.
    for (const MountEntry& e : table->entries()) {
      if (!PathIsWithin(e.target, dir) && OursElsewhere(e, our_devno, our_source)) {
        targets.emplace_back(e.target, e.devno);
      }
    }
    if (targets.empty()) {
      if (our_devno != 0 && !bind) {
        if (Status s = DrainHolders(our_devno, deadline); !s.ok()) return s;
      }
      if (record_) sys_.RemoveState(config_.state_path);
      return Status::Ok();
    }
    for (const auto& [target, devno] : targets) {
      log_.Info("unmounting {}", Quote(target));
      Status s = UnmountOne(target, bind && target == dir, devno, deadline);
      if (!s.ok()) return s;
    }
  }
  return Status::Error("{} is still mounted after unmounting it several times", Quote(dir));
}

Status Storage::Reload(const Deadline& deadline) {
  LoadRecord();
  auto table = sys_.ReadMounts();
  if (!table) return table.status();
  const MountEntry* entry = table->At(config_.directory);
  if (entry == nullptr || Judge(*entry, *table, deadline).ownership != Ownership::kOurs) {
    return Status::Ok();
  }
  return FixOwner(deadline);
}

}  // namespace pmmha
