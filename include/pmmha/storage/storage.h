// SPDX-License-Identifier: GPL-2.0-or-later
// The pmm-storage agent's logic: start, stop, monitor, validate for one
// filesystem mounted at one directory. The OS side sits behind StorageSystem
// (real: libmount, libblkid, /proc, forked probes; tests: a fake), so every
// decision here is unit-tested.
//
// Never hang: the only calls that touch the mounted filesystem or read a
// device are StorageSystem::CheckReadable/CheckWritable/ApplyOwner,
// Mount/Unmount and the libblkid ones (FindDeviceByTag, ProbeFilesystem,
// HasMmp), which the real system runs in a child it abandons at the deadline.
//
// Identity: start records what it mounted (MountRecord, in HA_RSCTMP): the
// mount ID, the source and device number as mountinfo shows them, the
// filesystem UUID. Monitor and stop recognise our mount by that record
// first, whatever the configured device path resolves to now; without it,
// by the device (number, path, filesystem UUID). What they cannot prove not
// ours is never reported stopped.
// Never lose data: nothing in the directory is deleted but our own status
// file; a block device is never lazily unmounted; nothing is mounted over
// something already mounted below the directory.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pmmha/core/deadline.h"
#include "pmmha/core/log.h"
#include "pmmha/core/node_attribute.h"
#include "pmmha/core/process.h"
#include "pmmha/core/process_identity.h"
#include "pmmha/core/status.h"
#include "pmmha/storage/block_device.h"
#include "pmmha/storage/escalation.h"
#include "pmmha/storage/mount_table.h"
#include "pmmha/storage/proc_users.h"
#include "pmmha/storage/statmount.h"
#include "pmmha/storage/storage_params.h"

namespace pmmha {

enum class FsckPolicy { kAuto, kForce, kNo };
FsckPolicy ParseFsckPolicy(std::string_view value);  // "auto" | "force" | "no"

struct StorageConfig {
  DeviceSpec device;
  std::string directory;        // normalized
  std::string fstype = "auto";  // "auto", "none" or a type name
  MountOptions options;
  FsckPolicy run_fsck = FsckPolicy::kAuto;
  std::optional<OwnerSpec> owner;
  bool create_directory = true;
  bool require_mmp = false;
  EscalationPolicy stop;
  std::string status_name;   // depth-20 file name, unique per resource and node
  std::string state_path;    // the MountRecord, in HA_RSCTMP
  std::string space_path;    // in HA_RSCTMP: the space level last seen (ok, low, full)
  int free_space_warn = 10;  // percent free below which /srv's space is low
  bool clone = false;        // an instance of a clone (CRM_meta_clone, clone_max > 0)
};

// What start mounted (or began to mount), kept in StorageConfig::state_path.
struct MountRecord {
  std::string directory = {};
  std::string configured = {};  // the device parameter, as written (DeviceSpec::Describe)
  std::string device = {};      // the device node start mounted, symbolic links resolved
  dev_t rdev = 0;               // its st_rdev
  std::string fstype = {};
  std::string uuid = {};  // filesystem UUID (libblkid), empty when it has none
  // As mountinfo showed the mount after start; 0 / empty while pending.
  int mount_id = 0;
  // The kernel's unique ID of that mount (statx, Linux 6.8): monitors ask
  // statmount(2) about it instead of reading the mount table; 0: unknown.
  std::uint64_t unique_id = 0;
  dev_t devno = 0;  // 0:NN for btrfs, NFS, tmpfs: not the device's number
  std::string source = {};
  std::string root = {};
  // mount(2) still running in a child abandoned at start's deadline: it may
  // attach the filesystem later.
  std::optional<ProcessIdentity> child = {};
};

// One "key=value" line each; values hold no newline (device paths and
// mountinfo fields do not).
std::string FormatMountRecord(const MountRecord& record);
// Nothing when `text` is not a record (a truncated or foreign file).
std::optional<MountRecord> ParseMountRecord(std::string_view text);

// Only gfs2 and ocfs2 may be mounted on several nodes at once.
bool ClusterAware(std::string_view fstype);

// The configured device as found on this node.
struct ResolvedDevice {
  DeviceKind kind = DeviceKind::kBlockPath;  // kBlockPath (also for tags) or kBindDirectory
  std::string path;                          // the device node, or the bind source directory
  std::string
      canonical;   // block devices: `path` with symbolic links resolved, as mountinfo shows it
  dev_t rdev = 0;  // block devices: the device number mounts of it show

  bool IsBind() const { return kind == DeviceKind::kBindDirectory; }
};

struct PathInfo {
  bool exists = false;
  bool is_dir = false;
  bool is_block = false;
  dev_t rdev = 0;
};

// A filesystem's size and the space its unprivileged users (PMM 3's uid 1000)
// may still fill, in bytes (statvfs: f_blocks and f_bavail).
struct SpaceUsage {
  std::uint64_t total = 0;
  std::uint64_t available = 0;
};

// The percentage of `usage` free, rounded down (100 for an empty size).
int FreePercent(const SpaceUsage& usage);
// pmm-srv-space for `free_percent`: "full" below 1 % (PMM stops ingesting
// when /srv fills), "low" below `warn_percent`, else "ok".
std::string_view SpaceLevel(int free_percent, int warn_percent);

struct MountRequest {
  std::string source;
  std::string target;
  std::string fstype;   // empty for a bind mount
  std::string options;  // for libmount
  bool bind = false;
};

// A mount that did not finish by the deadline: the child doing mount(2) is
// abandoned, and when it still lives it may attach the filesystem later.
struct MountOutcome {
  Status status;
  std::optional<ProcessIdentity> abandoned;
};

struct UnmountResult {
  enum class Kind { kUnmounted, kNotMounted, kBusy, kFailed };
  Kind kind = Kind::kUnmounted;
  std::string error;
};

// The OS as the storage agent sees it.
class StorageSystem : public ProcessControl {
 public:
  virtual Result<MountTable> ReadMounts() = 0;
  // statmount(2) and listmount(2): see statmount.h.
  virtual MountLookup LookUpMount(std::uint64_t unique_id) = 0;
  virtual std::optional<std::uint64_t> UniqueMountIdAt(const std::string& dir,
                                                       const Deadline& deadline) = 0;
  // stat(2) of a path that is not on a mount we manage (a /dev node, a
  // directory before mounting).
  virtual PathInfo Stat(const std::string& path) = 0;
  virtual Result<std::string> RealPath(const std::string& path) = 0;
  // libblkid, bounded by the deadline (a child on the real system): a dying
  // device blocks its reads.
  virtual Result<std::string> FindDeviceByTag(const std::string& tag, const std::string& value,
                                              const Deadline& deadline) = 0;
  virtual Result<FsProbe> ProbeFilesystem(const std::string& device, const Deadline& deadline) = 0;
  virtual Result<bool> HasMmp(const std::string& device, const Deadline& deadline) = 0;
  // Whether the kernel can mount `kernel_fs` (listed, or loadable as a module).
  virtual bool FsTypeSupported(const std::string& kernel_fs) = 0;
  virtual std::optional<std::string> FindProgram(const std::string& name) = 0;
  virtual Result<ProcessResult> Run(const std::vector<std::string>& argv,
                                    const Deadline& deadline) = 0;
  virtual Status MakeDirectory(const std::string& dir) = 0;
  // Numeric ids for a spec with names; kErrInstalled for an unknown name.
  virtual Result<OwnerSpec> ResolveOwner(const OwnerSpec& owner) = 0;

  // The state file: its text, nothing when absent; written whole or not at all.
  virtual std::optional<std::string> ReadState(const std::string& path) = 0;
  virtual Status WriteState(const std::string& path, const std::string& text) = 0;
  virtual void RemoveState(const std::string& path) = 0;
  // Whether the process recorded as `id` still runs (not a zombie, not a
  // reused pid), and a wait for its end bounded by `until`: true once gone.
  virtual bool ProcessAlive(const ProcessIdentity& id) = 0;
  virtual bool WaitProcessGone(const ProcessIdentity& id, const Deadline& until) = 0;

  // Bounded by the deadline (a child on the real system).
  virtual MountOutcome Mount(const MountRequest& request, const Deadline& deadline) = 0;
  virtual UnmountResult Unmount(const std::string& target, bool lazy, const Deadline& deadline) = 0;
  virtual Status ApplyOwner(const std::string& dir, const OwnerSpec& owner,
                            const Deadline& deadline) = 0;
  // Depth 10: the mount answers (stat; the device's first block for block devices).
  virtual Status CheckReadable(const std::string& dir, const ResolvedDevice& device,
                               const Deadline& deadline) = 0;
  // Depth 20: write, fsync, read back and remove `dir`/`name`.
  virtual Status CheckWritable(const std::string& dir, const std::string& name, bool direct_io,
                               const Deadline& deadline) = 0;
  // The space of the filesystem at `dir` (statvfs, which blocks on a dead
  // NFS server or a hung device: in a child abandoned at `deadline`).
  virtual Result<SpaceUsage> FreeSpace(const std::string& dir, const Deadline& deadline) = 0;

  // Processes using the mounts of `query`, in every mount namespace, from
  // /proc alone; bounded by `deadline` (a scan cut short gives those found
  // and says how far it got).
  virtual UserSearch FindUsers(const MountUserQuery& query, const Deadline& deadline) = 0;
  // The mount namespaces other than ours that have `fs` mounted; an error
  // when /proc could not be read whole before `deadline`.
  virtual Result<std::vector<NamespaceMounts>> FindNamespaceMounts(const FilesystemRef& fs,
                                                                   const Deadline& deadline) = 0;
  // Unmounts `space.mounts` inside that namespace (see
  // ProcScanner::UnmountInNamespace), bounded by `deadline`.
  virtual Status UnmountInNamespace(const NamespaceMounts& space, const Deadline& deadline) = 0;
};

// The real system: libmount, libblkid, /proc, forked probes.
std::unique_ptr<StorageSystem> MakeStorageSystem();

// Whether `entry` is a mount of `device` (device numbers, not names; for a
// bind mount: the source's filesystem and directory, judged lexically so no
// filesystem is touched).
bool IsMountOf(const MountEntry& entry, const ResolvedDevice& device, const MountTable& table);

// The fsck command for `fstype` on `device` under `policy`, or nothing when
// none is to run. auto: like ocf:heartbeat:Filesystem, only filesystems that
// do not recover by themselves at mount (no journal or log: ext2, vfat, ...).
std::optional<std::vector<std::string>> FsckCommand(FsckPolicy policy, const std::string& fstype,
                                                    const std::string& device);

class Storage {
 public:
  // `attributes`: where pmm-srv-free and pmm-srv-space go (nullptr: nowhere).
  Storage(StorageConfig config, StorageSystem& system, const Logger& log,
          NodeAttributes* attributes = nullptr)
      : config_(std::move(config)), sys_(system), log_(log), attributes_(attributes) {}

  // Environment checks for `action` (the table has checked the syntax).
  // Monitor and stop check nothing here: they must report the truth, which
  // the mount table tells, also when the device is gone.
  Status Validate(std::string_view action, bool probe, const Deadline& deadline);
  // Start and stop also publish and remove /srv's space (PublishSpace).
  Status Start(const Deadline& deadline);
  Status Stop(const Deadline& deadline);
  // depth: OCF_CHECK_LEVEL (0, 10, 20; others round down). Depth 0 never
  // touches the filesystem; depths 10 and 20 also publish its space.
  Status Monitor(int depth, bool probe, const Deadline& deadline);
  // Applies the reloadable parameters to a running resource (the owner).
  Status Reload(const Deadline& deadline);

 private:
  enum class Ownership { kOurs, kNotOurs, kUnknown };
  struct Verdict {
    Ownership ownership;
    std::string why;  // kNotOurs, kUnknown: for messages
  };
  Status Mount(const Deadline& deadline);
  Status Unmount(const Deadline& deadline);
  Status CheckMount(int depth, bool probe, const Deadline& deadline);
  // pmm-srv-free and pmm-srv-space from a bounded statvfs of the directory,
  // and a log line when the level changes (a warning when it gets low).
  // Never fails: the space is for people and rules to read.
  void PublishSpace(const Deadline& deadline);
  Result<ResolvedDevice> Resolve(const Deadline& deadline);
  // The configured device, resolved once per action (lazily: a record that
  // matches makes it unneeded).
  const Result<ResolvedDevice>& Device(const Deadline& deadline);
  // Our filesystem's UUID when known: recorded, configured or probed.
  std::string OurUuid(const Deadline& deadline);
  // Whether `entry` is our filesystem, on every evidence at hand.
  Verdict Judge(const MountEntry& entry, const MountTable& table, const Deadline& deadline);
  // A cheap judgement for mounts outside the directory: only device numbers
  // and sources that are certainly ours.
  bool OursElsewhere(const MountEntry& entry, dev_t our_devno, const std::string& our_source);
  void LoadRecord();
  Status SaveRecord();
  // The unique mount ID of the mount `record` describes, checked against
  // its mountinfo ID; 0 when the kernel has none or it cannot be told.
  std::uint64_t UniqueIdOf(const MountRecord& record, const Deadline& deadline);
  // Depth 0 without the mount table: the recorded mount (by unique ID) is
  // still at directory, not hidden, read-write as configured, its device
  // node present. False whenever the table must decide.
  bool StillMountedAsRecorded();
  // A mount's source is a device node (not a bind mount) that no longer
  // exists on this node.
  bool DeviceNodeGone(const std::string& source);
  // The mount start abandoned, if it still runs: an error unless it ends
  // by `until`.
  Status AwaitAbandonedMount(const Deadline& until);
  Status CheckStartable(const MountTable& table, const ResolvedDevice& device);
  Result<FsProbe> DecideFsType(const ResolvedDevice& device, const Deadline& deadline);
  Status Fsck(const std::string& fstype, const ResolvedDevice& device, const Deadline& deadline);
  Status FixOwner(const Deadline& deadline);
  Status UnmountOne(const std::string& target, bool may_detach, dev_t devno,
                    const Deadline& deadline);
  Status DrainHolders(dev_t devno, const Deadline& deadline);

  StorageConfig config_;
  StorageSystem& sys_;
  const Logger& log_;
  NodeAttributes* attributes_;
  std::optional<MountRecord> record_;
  std::optional<Result<ResolvedDevice>> device_;
  std::optional<std::string> uuid_;
};

}  // namespace pmmha
