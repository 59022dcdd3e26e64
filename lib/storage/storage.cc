// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/storage/storage.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

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

Result<ResolvedDevice> Storage::Resolve() {
  const DeviceSpec& spec = config_.device;
  ResolvedDevice dev;
  dev.kind = spec.IsBind() ? DeviceKind::kBindDirectory : DeviceKind::kBlockPath;
  if (spec.IsBind()) {
    dev.path = spec.path;
    return dev;
  }
  if (spec.kind == DeviceKind::kTag) {
    auto found = sys_.FindDeviceByTag(spec.tag, spec.value);
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
  return dev;
}

Status Storage::Validate(std::string_view action, bool probe) {
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
  if (action == "monitor") {
    // A probe must report the truth without failing: no device, not running.
    if (probe && !spec.IsBind()) {
      if (auto dev = Resolve(); !dev) {
        log_.Info("probe: {}: not running", dev.status().reason());
        return Status::NotRunning();
      }
    }
    return Status::Ok();
  }
  if (action == "stop") return Status::Ok();

  auto dev = Resolve();
  if (!dev) return dev.status();
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
    if (auto cmd = FsckCommand(config_.run_fsck, config_.fstype, dev->path)) {
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

Status Storage::Monitor(int depth, bool probe, const Deadline& deadline) {
  auto table = sys_.ReadMounts();
  if (!table) return table.status();
  const std::string& dir = config_.directory;
  const MountEntry* entry = table->At(dir);
  auto dev = Resolve();
  if (!dev) {
    if (entry == nullptr || probe) return Status::NotRunning();
    return Status::Error("{} has {} mounted, but {}", Quote(dir), Describe(*entry),
                         dev.status().reason());
  }
  if (entry == nullptr) return Status::NotRunning();
  if (!IsMountOf(*entry, *dev, *table)) {
    std::string what = fmt::format("{} has {} mounted, not {}", Quote(dir), Describe(*entry),
                                   Quote(config_.device.Describe()));
    if (probe) {
      log_.Warn("{}: not running", what);
      return Status::NotRunning();
    }
    return Status::Error(what);
  }
  if (entry->ReadOnly() && !config_.options.read_only) {
    return Status::Error(
        "{} is mounted read-only although options do not ask for 'ro' "
        "(remounted after an I/O error?)",
        Quote(dir));
  }
  if (depth >= 10) {
    if (Status s = sys_.CheckReadable(dir, *dev, deadline); !s.ok()) return s;
  }
  if (depth >= 20 && !config_.options.read_only) {
    if (Status s = sys_.CheckWritable(dir, config_.status_name, !dev->IsBind(), deadline);
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

Result<std::string> Storage::DecideFsType(const ResolvedDevice& device) {
  if (device.IsBind()) return std::string();
  auto found = sys_.ProbeFsType(device.path);
  if (config_.fstype == "auto") return found;
  if (found && *found != config_.fstype) {
    return Status::NotConfigured("device {} holds {}, not {}", Quote(device.path), Quote(*found),
                                 Quote(config_.fstype));
  }
  return config_.fstype;
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
  const std::string& dir = config_.directory;
  auto table = sys_.ReadMounts();
  if (!table) return table.status();
  auto dev = Resolve();
  if (!dev) return dev.status();
  if (const MountEntry* entry = table->At(dir);
      entry != nullptr && IsMountOf(*entry, *dev, *table)) {
    log_.Info("{} is already mounted at {}", Quote(dev->path), Quote(dir));
    return FixOwner(deadline);
  }
  if (Status s = CheckStartable(*table, *dev); !s.ok()) return s;

  auto fstype = DecideFsType(*dev);
  if (!fstype) return fstype.status();
  if (config_.require_mmp && !dev->IsBind()) {
    if (IsExt(*fstype)) {
      auto mmp = sys_.HasMmp(dev->path);
      if (!mmp) return mmp.status();
      if (!*mmp) {
        return Status::NotConfigured(
            "{} has no multi-mount protection and require_mmp is set; "
            "enable it with 'tune2fs -O mmp' while it is mounted nowhere",
            Quote(dev->path));
      }
    } else {
      log_.Info("require_mmp: {} has no multi-mount protection to check", Quote(*fstype));
    }
  }
  if (Status s = Fsck(*fstype, *dev, deadline); !s.ok()) return s;

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
                       .fstype = *fstype,
                       .options = config_.options.ForMount(),
                       .bind = dev->IsBind()};
  log_.Info("mounting {} at {}{}", Quote(dev->path), Quote(dir),
            request.bind ? " (bind)" : fmt::format(" ({})", request.fstype));
  if (Status s = sys_.Mount(request, deadline); !s.ok()) return s;

  auto after = sys_.ReadMounts();
  if (!after) return after.status();
  const MountEntry* entry = after->At(dir);
  if (entry == nullptr || !IsMountOf(*entry, *dev, *after)) {
    return Status::Error("mount of {} at {} succeeded but the mount table does not show it",
                         Quote(dev->path), Quote(dir));
  }
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
    // Users first: unmounting under them would only hide them.
    if (!step.users().empty()) return Attempt::Busy();
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
  const std::string& dir = config_.directory;
  auto dev = Resolve();
  const bool bind = config_.device.IsBind();
  // Up to a few rounds: mounts may be stacked at the directory.
  for (int round = 0; round < 4; ++round) {
    auto table = sys_.ReadMounts();
    if (!table) return table.status();
    const MountEntry* entry = table->At(dir);
    std::vector<std::string> targets;
    dev_t devno = dev && !bind ? dev->rdev : 0;
    if (entry != nullptr) {
      bool ours = dev ? IsMountOf(*entry, *dev, *table) : entry->source == config_.device.path;
      if (!ours) {
        if (round == 0) {
          log_.Warn("{} has {} mounted, which is not {}: leaving it alone", Quote(dir),
                    Describe(*entry), Quote(config_.device.Describe()));
        }
      } else {
        for (const MountEntry* below : table->Below(dir)) targets.push_back(below->target);
        targets.push_back(dir);
        if (!bind && devno == 0) devno = entry->devno;
      }
    }
    // Other mounts of our device (a bind of a subdirectory made while we
    // ran) keep it in use: another node must not mount it while they stay.
    if (devno != 0) {
      for (const MountEntry* e : table->WithDevice(devno)) {
        if (!PathIsWithin(e->target, dir)) targets.push_back(e->target);
      }
    }
    if (targets.empty()) {
      if (devno != 0) return DrainHolders(devno, deadline);
      return Status::Ok();
    }
    for (const std::string& target : targets) {
      log_.Info("unmounting {}", Quote(target));
      Status s = UnmountOne(target, bind && target == dir, devno, deadline);
      if (!s.ok()) return s;
    }
  }
  return Status::Error("{} is still mounted after unmounting it several times", Quote(dir));
}

Status Storage::Reload(const Deadline& deadline) {
  auto table = sys_.ReadMounts();
  if (!table) return table.status();
  auto dev = Resolve();
  if (!dev) return Status::Ok();
  const MountEntry* entry = table->At(config_.directory);
  if (entry == nullptr || !IsMountOf(*entry, *dev, *table)) return Status::Ok();
  return FixOwner(deadline);
}

}  // namespace pmmha
