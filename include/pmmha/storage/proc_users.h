// SPDX-License-Identifier: GPL-2.0-or-later
// Which processes use a filesystem, in every mount namespace, found from
// /proc alone.
//
// fuser(1) and lsof stat every open file, which hangs on a dead filesystem
// (the classic Filesystem-agent stop hang). This finder never stats, opens or
// reads anything on the mounts it looks for: it reads /proc/PID/fdinfo/*
// (the kernel's mnt_id of every open file), readlink()s the cwd, root and exe
// magic links (the kernel prints the path without asking the filesystem),
// compares the device numbers in /proc/PID/maps, and reads each mount
// namespace's /proc/PID/mountinfo.
//
// Other mount namespaces (systemd services with PrivateTmp/ProtectSystem,
// containers, `unshare -m`) have their own copies of our mount, with their
// own mount IDs, possibly at other paths. So the filesystem is found in each
// namespace by its device number, never by our namespace's mount IDs or
// paths: per distinct namespace, its mountinfo is read once, and a process's
// open files, cwd, root and executable are matched against that namespace's
// mounts of the filesystem.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "pmmha/core/deadline.h"
#include "pmmha/core/status.h"
#include "pmmha/storage/kernel_tasks.h"
#include "pmmha/storage/mount_table.h"

namespace pmmha {

struct ProcUser {
  ProcUser() = default;
  ProcUser(pid_t p, std::string c, std::string h, std::string n = {})
      : pid(p), comm(std::move(c)), how(std::move(h)), ns(std::move(n)) {}

  pid_t pid = 0;
  std::string comm;  // /proc/PID/comm, for messages
  std::string how;   // "cwd", "root", "executable", "open file", "memory map"
  std::string ns;    // its mount namespace ("mnt:[4026532999]"), when known
};

// A filesystem as the mount tables of every namespace show it.
struct FilesystemRef {
  // The mountinfo device number (major:minor) of the filesystem; 0: none.
  // Filesystems with an anonymous device (btrfs: 0:NN, the same in every
  // namespace for one superblock) are also recognised by the block device
  // they were mounted from, when this is that device's number.
  dev_t devno = 0;
  // Only mounts of this directory of the filesystem or below it (a bind
  // mount's root); "/": every mount of the filesystem.
  std::string root = "/";
};

// What identifies the mounts to look for.
struct MountUserQuery {
  std::vector<int> mount_ids;      // matched against fdinfo mnt_id (any namespace)
  std::vector<std::string> paths;  // mount points: cwd/root/exe (and maps when
                                   // maps_device is 0) at or below one of them
                                   // (processes of our mount namespace only)
  dev_t maps_device = 0;           // nonzero: maps entries of this device
  FilesystemRef filesystem;        // devno nonzero: its mounts in every namespace
};

// Another mount namespace that has the filesystem mounted.
struct NamespaceMounts {
  std::string ns;  // "mnt:[4026532999]"
  pid_t pid = 0;   // a process in it: /proc/PID/ns/mnt enters it
  std::string comm;
  struct Mount {
    int id = 0;
    std::string target;  // as the namespace sees it
  };
  std::vector<Mount> mounts;  // deepest first (the order to unmount them)
};

// How far a search for users got; reported every few hundred processes.
struct ScanProgress {
  std::size_t examined = 0;  // processes
  std::size_t total = 0;
  std::string open_files;  // how processes and open files were read (for the debug log)
};

// What a search for the users of a filesystem found, and whether it finished.
struct UserSearch {
  std::vector<ProcUser> users;
  // Empty when every process was examined; else how far the search got
  // ("the search for its users was cut short by the deadline after 2300 of
  // 5066 processes"), for the stop's reason.
  std::string unfinished;
  std::string open_files;
};

class ProcScanner {
 public:
  // Every process and (when asked) every open file on the host at once
  // (KernelTasks), or an error: then each process's /proc links and fdinfo
  // are read.
  struct KernelView {
    std::vector<KernelTask> tasks;
    std::vector<OpenFile> files;
  };
  using KernelViewSource = std::function<Result<KernelView>(bool with_files)>;

  // How a mount source names a block device: its device number, 0 when it
  // is none. The default stat()s sources below /dev (device nodes, never a
  // mounted filesystem of ours).
  using SourceDevice = std::function<dev_t(const std::string& source)>;

  // `proc_root` is "/proc" on a real system, a directory tree in tests;
  // `self` is never reported (nor is pid 1, which cannot be signalled away).
  ProcScanner(std::string proc_root, pid_t self, SourceDevice source_device = {},
              KernelViewSource kernel_view = {});

  // Every process using one of the mounts, each once, by pid; `found` is
  // called for each as it is found (so a scan cut short still reports some),
  // `progress` every few hundred processes and at the end.
  std::vector<ProcUser> FindUsers(
      const MountUserQuery& query, const std::function<void(const ProcUser&)>& found = {},
      const std::function<void(const ScanProgress&)>& progress = {}) const;

  // The mount namespaces other than ours that have `fs` mounted.
  std::vector<NamespaceMounts> FindNamespaceMounts(const FilesystemRef& fs) const;

  // Enters `space`'s mount namespace (setns through /proc/PID/ns/mnt) and
  // unmounts its mounts, deepest first, each checked by mount ID first (a
  // mount gone meanwhile is skipped). Mounts stacked over one of ours on its
  // mount point are unmounted first (an error when one is busy). A mount
  // busy only because other mounts sit below it is detached (MNT_DETACH)
  // with them; one busy otherwise is an error (a user /proc did not show). The caller found no
  // process using the filesystem. Changes the calling process's namespace: run it in a child.
  // `step` announces each unmount.
  Status UnmountInNamespace(const NamespaceMounts& space,
                            const std::function<void(const std::string&)>& step) const;

 private:
  struct Namespace;
  struct ProcInfo;

  std::vector<pid_t> Pids() const;
  std::string Comm(pid_t pid) const;
  std::string Path(pid_t pid, const char* entry) const;
  bool IsOurs(const MountEntry& entry, const FilesystemRef& fs) const;

  std::string root_;
  pid_t self_;
  SourceDevice source_device_;
  KernelViewSource kernel_view_;
};

// The mount ID, parent ID and mount point (unescaped) of each line of a
// mountinfo text, parsed without libmount's file API: the unmount in another
// namespace reads the file through a descriptor, not a path.
std::vector<MountEntry> ParseMountIds(std::string_view text);

// "123 (sleep: cwd), 456 (python3: memory map)", at most `max` of them.
std::string DescribeUsers(const std::vector<ProcUser>& users, std::size_t max = 6);

// "'/srv' in the mount namespace of 123 (sleep)", for each namespace.
std::string DescribeNamespaces(const std::vector<NamespaceMounts>& spaces, std::size_t max = 3);

// One line of text for a user, a namespace or the progress (tabs separate
// the fields), and back: how a scan run in a child reports to its parent.
std::string EncodeUser(const ProcUser& user);
std::string EncodeNamespace(const NamespaceMounts& space);
std::string EncodeProgress(const ScanProgress& progress);
// Decodes `text` (lines from the Encode functions; the last progress line
// wins); false on a malformed line.
bool DecodeScan(std::string_view text, std::vector<ProcUser>* users,
                std::vector<NamespaceMounts>* spaces, ScanProgress* progress = nullptr);

// The deadline for one /proc scan under an operation's `deadline`: at least
// 300 ms from now, so that the escalation's last look at who keeps a mount
// (taken when the deadline has passed, for the reason) still answers, inside
// the margin the agent keeps below Pacemaker's timeout (0.5 s or more).
Deadline ScanDeadline(const Deadline& deadline);

// Runs `scan` in a child (RunBounded) abandoned at `deadline`: reading
// /proc/PID/maps waits for the process's mmap lock, which a process stuck in
// a page fault on a dead filesystem can hold. What the child passed to
// `emit` comes back whole lines at a time, also from a scan cut short;
// `complete` tells whether it finished.
struct ScanOutput {
  std::string text;
  bool complete = false;
  std::string error;  // why not complete
};
using ScanEmit = std::function<void(std::string_view line)>;
ScanOutput RunBoundedScan(std::string_view what, const Deadline& deadline,
                          const std::function<void(const ScanEmit& emit)>& scan);

}  // namespace pmmha
