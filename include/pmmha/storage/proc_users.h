// SPDX-License-Identifier: GPL-2.0-or-later
// Which processes use a mount, found from /proc alone.
//
// fuser(1) and lsof stat every open file, which hangs on a dead filesystem
// (the classic Filesystem-agent stop hang). This finder never stats, opens or
// reads anything on the mounts it looks for: it reads /proc/PID/fdinfo/*
// (the kernel's mnt_id of every open file), readlink()s the cwd, root and exe
// magic links (the kernel prints the path without asking the filesystem),
// and compares the device numbers in /proc/PID/maps.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace pmmha {

struct ProcUser {
  pid_t pid = 0;
  std::string comm;  // /proc/PID/comm, for messages
  std::string how;   // "cwd", "root", "executable", "open file", "memory map",
                     // "mount namespace"
};

// What identifies the mounts to look for.
struct MountUserQuery {
  std::vector<int> mount_ids;      // matched against fdinfo mnt_id (any namespace)
  std::vector<std::string> paths;  // mount points: cwd/root/exe (and maps when
                                   // maps_device is 0) at or below one of them
                                   // (processes of our mount namespace only)
  dev_t maps_device = 0;           // nonzero: maps entries of this device
};

class ProcScanner {
 public:
  // `proc_root` is "/proc" on a real system, a directory tree in tests;
  // `self` is never reported (nor is pid 1, which cannot be signalled away).
  ProcScanner(std::string proc_root, pid_t self);

  // Every process using one of the mounts, each once, by pid.
  std::vector<ProcUser> FindUsers(const MountUserQuery& query) const;

  // Processes in another mount namespace whose namespace has a filesystem
  // of device `devno` mounted: after our unmount they still keep it in use.
  std::vector<ProcUser> FindHolders(dev_t devno) const;

 private:
  std::vector<pid_t> Pids() const;
  std::string Comm(pid_t pid) const;
  std::string Path(pid_t pid, const char* entry) const;

  std::string root_;
  pid_t self_;
};

// "123 (sleep: cwd), 456 (python3: memory map)", at most `max` of them.
std::string DescribeUsers(const std::vector<ProcUser>& users, std::size_t max = 6);

}  // namespace pmmha
