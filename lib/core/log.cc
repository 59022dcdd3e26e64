// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/log.h"

#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <string>

namespace pmmha {

namespace {

struct Facility {
  std::string_view name;
  int value;
};

constexpr Facility kFacilities[] = {
    {"daemon", LOG_DAEMON},     {"user", LOG_USER},     {"auth", LOG_AUTH},
    {"authpriv", LOG_AUTHPRIV}, {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},
    {"local2", LOG_LOCAL2},     {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
    {"local5", LOG_LOCAL5},     {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

std::string_view Prefix(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG: ";
    case LogLevel::kInfo: return "INFO: ";
    case LogLevel::kWarning: return "WARNING: ";
    case LogLevel::kError: return "ERROR: ";
  }
  return "";
}

int SyslogPriority(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return LOG_DEBUG;
    case LogLevel::kInfo: return LOG_INFO;
    case LogLevel::kWarning: return LOG_WARNING;
    case LogLevel::kError: return LOG_ERR;
  }
  return LOG_NOTICE;
}

std::string Now(const std::string& format) {
  char buf[128];
  std::time_t t = std::time(nullptr);
  struct tm tm;
  localtime_r(&t, &tm);
  std::size_t n = std::strftime(buf, sizeof(buf), format.c_str(), &tm);
  return std::string(buf, n);
}

void Append(const std::string& path, std::string_view line) {
  // Opened per line, like ocf-shellfuncs' ">>": log rotation keeps working.
  if (FILE* f = std::fopen(path.c_str(), "ae")) {
    std::fwrite(line.data(), 1, line.size(), f);
    std::fclose(f);
  }
}

}  // namespace

Logger::Logger(const Environment& env, std::string_view agent, std::string_view instance)
    : enabled_(true) {
  // HA_LOGTAG, when set, is the tag (ocf-shellfuncs' set_logtag).
  tag_ = env.GetOr("HA_LOGTAG", "");
  if (tag_.empty()) {
    tag_ = instance.empty() ? fmt::format("{}[{}]", agent, getpid())
                            : fmt::format("{}({})[{}]", agent, instance, getpid());
  }
  auto debug = env.GetOr("HA_debug", env.GetOr("HA_DEBUG", "0"));
  debug_ = debug != "0" && !debug.empty();
  logfile_ = env.GetOr("HA_LOGFILE", "");
  debuglog_ = env.GetOr("HA_DEBUGLOG", "");
  date_format_ = env.GetOr("HA_DATEFMT", "%b %d %T ");
  auto facility = env.GetOr("HA_LOGFACILITY", "none");
  for (const auto& f : kFacilities) {
    if (f.name == facility) syslog_facility_ = f.value;
  }
  stderr_is_tty_ = isatty(STDERR_FILENO) == 1;
}

void Logger::Log(LogLevel level, std::string_view message) const {
  if (!enabled_) return;
  if (level == LogLevel::kDebug && !debug_) return;
  std::string text = fmt::format("{}{}", Prefix(level), message);
  if (stderr_is_tty_) {
    // A person at a terminal: only the terminal, as ocf-shellfuncs does.
    fmt::print(stderr, "{}: {}\n", tag_, text);
    return;
  }
  if (syslog_facility_ >= 0) {
    openlog(tag_.c_str(), 0, syslog_facility_);
    syslog(SyslogPriority(level), "%s", text.c_str());
    closelog();
  }
  if (level != LogLevel::kDebug && !logfile_.empty()) {
    Append(logfile_, fmt::format("{}{}:    {}\n", Now(date_format_), tag_, text));
  }
  // A line already in HA_LOGFILE is not written twice when HA_DEBUGLOG is
  // the same file (debug lines go to HA_DEBUGLOG only), as ocf-shellfuncs.
  if (!debuglog_.empty() && (level == LogLevel::kDebug || debuglog_ != logfile_)) {
    Append(debuglog_, fmt::format("{}:\t{}{}\n", tag_, Now(date_format_), text));
  }
  if (syslog_facility_ < 0 && logfile_.empty()) {
    // Pacemaker's executor copies the agent's stderr into its own log.
    fmt::print(stderr, "{}{}\n", Now(date_format_), text);
  }
}

void Logger::ExitReason(std::string_view reason, bool error) const {
  std::string line = fmt::format("ocf-exit-reason:{}\n", reason);
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  if (!enabled_ || stderr_is_tty_) return;
  // The reason is already on stderr: only the other destinations get it.
  std::string text = fmt::format("{}: {}", error ? "ERROR" : "WARNING", reason);
  if (syslog_facility_ >= 0) {
    openlog(tag_.c_str(), 0, syslog_facility_);
    syslog(error ? LOG_ERR : LOG_WARNING, "%s", text.c_str());
    closelog();
  }
  if (!logfile_.empty()) {
    Append(logfile_, fmt::format("{}{}:    {}\n", Now(date_format_), tag_, text));
  }
  if (!debuglog_.empty() && debuglog_ != logfile_) {
    Append(debuglog_, fmt::format("{}:\t{}{}\n", tag_, Now(date_format_), text));
  }
}

}  // namespace pmmha
