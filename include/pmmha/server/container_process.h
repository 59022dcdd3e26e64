// SPDX-License-Identifier: GPL-2.0-or-later
// The container's process as the kernel knows it, without the engine.
//
// Start records which process the container runs as (its PID 1 and that
// process's start time, which tells it from a later process that reuses
// the pid). When the engine cannot be asked (its daemon is down, its
// storage is locked, it is not installed), stop and monitor decide from
// this record: a process that is gone cannot be running PMM; one that is
// alive is stopped with signals, as the engine would have stopped it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pmmha/core/deadline.h"
#include "pmmha/core/process_identity.h"
#include "pmmha/core/status.h"

namespace pmmha {

struct ContainerIdentity {
  std::string id;                     // the engine's container id
  int pid = 0;                        // the container's PID 1, in our pid namespace
  unsigned long long start_time = 0;  // /proc/PID/stat field 22: ticks after boot
  // Podman: the container's conmon, which records its exit (0: none known).
  int conmon_pid = 0;
  unsigned long long conmon_start_time = 0;
};

// The state file's one line ("ID PID START_TIME", then "CONMON_PID
// CONMON_START_TIME" when a conmon is known), and back; nothing when the
// text is not such a line.
std::string FormatIdentity(const ContainerIdentity& identity);
std::optional<ContainerIdentity> ParseIdentity(std::string_view text);

class ProcessControl {
 public:
  virtual ~ProcessControl() = default;
  // The start time of the live process `pid`; nothing when there is none
  // (or it is a zombie).
  virtual std::optional<unsigned long long> StartTime(int pid) const = 0;
  // SIGTERM, up to `grace` for it to exit, then SIGKILL, and waits until
  // the process is gone or `deadline` passes. Signals reach the recorded
  // process only (pidfd), never a process that reuses its pid. Ok when it
  // is gone (or was gone already); an error when it is still alive.
  virtual Status Terminate(const ContainerIdentity& identity, std::chrono::seconds grace,
                           const Deadline& deadline) = 0;

  // Podman: the conmon that watches the container whose PID 1 is `pid` (its
  // parent, when that is a conmon); for an engine that does not say (the
  // Docker-compatible API). Nothing when there is none.
  virtual std::optional<int> Conmon(int /*pid*/) const { return std::nullopt; }

  // Whether the recorded process is still the one running under its pid.
  bool IsAlive(const ContainerIdentity& identity) const {
    auto t = StartTime(identity.pid);
    return identity.pid > 0 && t && *t == identity.start_time;
  }
};

// /proc and signals of the real node.
std::unique_ptr<ProcessControl> MakeProcessControl();

}  // namespace pmmha
