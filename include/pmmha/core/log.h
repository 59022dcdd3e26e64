// SPDX-License-Identifier: GPL-2.0-or-later
// Logging the way ocf-shellfuncs does it, so our agents' messages land where
// the admin already looks: stderr (which Pacemaker copies into its log),
// HA_LOGFILE, HA_DEBUGLOG, syslog with HA_LOGFACILITY; debug only with
// HA_debug/HA_DEBUG=1. Every line carries the tag "<agent>(<instance>)[<pid>]".
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

#include "pmmha/core/environment.h"

namespace pmmha {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

class Logger {
 public:
  // A logger that writes nothing (for tests and library defaults).
  Logger() = default;
  Logger(const Environment& env, std::string_view agent, std::string_view instance);

  void Log(LogLevel level, std::string_view message) const;

  template <typename... Args>
  void Debug(fmt::format_string<Args...> f, Args&&... args) const {
    if (debug_) Log(LogLevel::kDebug, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void Info(fmt::format_string<Args...> f, Args&&... args) const {
    Log(LogLevel::kInfo, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void Warn(fmt::format_string<Args...> f, Args&&... args) const {
    Log(LogLevel::kWarning, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void Error(fmt::format_string<Args...> f, Args&&... args) const {
    Log(LogLevel::kError, fmt::format(f, std::forward<Args>(args)...));
  }

  // The exit reason: "ocf-exit-reason:<reason>" on stderr (Pacemaker shows
  // the last such line, cut at 128 characters) and an ERROR line in the log
  // files and syslog (a WARNING line unless `error`: the reason of a
  // degraded or not running monitor). The dispatcher calls this once, as the
  // last output.
  void ExitReason(std::string_view reason, bool error = true) const;

  bool debug_enabled() const { return debug_; }
  const std::string& tag() const { return tag_; }

 private:
  bool enabled_ = false;
  bool debug_ = false;
  bool stderr_is_tty_ = false;
  std::string tag_;
  std::string logfile_;
  std::string debuglog_;
  std::string date_format_ = "%b %d %T ";
  int syslog_facility_ = -1;  // -1: no syslog
};

}  // namespace pmmha
