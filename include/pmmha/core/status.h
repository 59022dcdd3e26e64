// SPDX-License-Identifier: GPL-2.0-or-later
// Exit codes of the OCF resource agent API and the error value every library
// call returns. No exception crosses the library API: a call that can fail
// returns a Status (or a Result<T>) carrying the OCF exit code that the failure
// maps to and one human-readable reason.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace pmmha {

// OCF 1.1 exit codes (resource-agent-api.md, "Return codes").
enum class ExitCode : int {
  kSuccess = 0,
  kErrGeneric = 1,  // soft error: restart here or move
  kErrArgs = 2,     // hard: never on this node
  kErrUnimplemented = 3,
  kErrPerm = 4,
  kErrInstalled = 5,   // hard; Pacemaker masks it to 7 on a probe
  kErrConfigured = 6,  // fatal: stopped everywhere
  kNotRunning = 7,
  kRunningPromoted = 8,
  kFailedPromoted = 9,
  kDegraded = 190,
  kDegradedPromoted = 191,
};

// "OCF_SUCCESS", "OCF_ERR_GENERIC", ...; "OCF_UNKNOWN" for other values.
std::string_view ExitCodeName(ExitCode code);

// An exit code and, when it is not plain success, why.
class Status {
 public:
  Status() = default;  // success
  Status(ExitCode code, std::string reason = {}) : code_(code), reason_(std::move(reason)) {}

  static Status Ok() { return {}; }
  // Named constructors, so that a call site reads as a sentence:
  //   return Status::NotConfigured("ha_peers names no address for {}", Quote(node));
  // The reason is a fmt format string and its arguments, or one string.
  template <typename... Args>
  static Status Error(fmt::format_string<Args...> f, Args&&... args) {
    return {ExitCode::kErrGeneric, fmt::format(f, std::forward<Args>(args)...)};
  }
  static Status Error(std::string reason = {}) {
    return {ExitCode::kErrGeneric, std::move(reason)};
  }
  template <typename... Args>
  static Status BadArgs(fmt::format_string<Args...> f, Args&&... args) {
    return {ExitCode::kErrArgs, fmt::format(f, std::forward<Args>(args)...)};
  }
  static Status BadArgs(std::string reason = {}) { return {ExitCode::kErrArgs, std::move(reason)}; }
  template <typename... Args>
  static Status Unimplemented(fmt::format_string<Args...> f, Args&&... args) {
    return {ExitCode::kErrUnimplemented, fmt::format(f, std::forward<Args>(args)...)};
  }
  static Status Unimplemented(std::string reason = {}) {
    return {ExitCode::kErrUnimplemented, std::move(reason)};
  }
  template <typename... Args>
  static Status NotInstalled(fmt::format_string<Args...> f, Args&&... args) {
    return {ExitCode::kErrInstalled, fmt::format(f, std::forward<Args>(args)...)};
  }
  static Status NotInstalled(std::string reason = {}) {
    return {ExitCode::kErrInstalled, std::move(reason)};
  }
  template <typename... Args>
  static Status NotConfigured(fmt::format_string<Args...> f, Args&&... args) {
    return {ExitCode::kErrConfigured, fmt::format(f, std::forward<Args>(args)...)};
  }
  static Status NotConfigured(std::string reason = {}) {
    return {ExitCode::kErrConfigured, std::move(reason)};
  }
  template <typename... Args>
  static Status NotRunning(fmt::format_string<Args...> f, Args&&... args) {
    return {ExitCode::kNotRunning, fmt::format(f, std::forward<Args>(args)...)};
  }
  static Status NotRunning(std::string reason = {}) {
    return {ExitCode::kNotRunning, std::move(reason)};
  }

  bool ok() const { return code_ == ExitCode::kSuccess; }
  ExitCode code() const { return code_; }
  const std::string& reason() const { return reason_; }

  // The same code with "context: reason" as the reason.
  Status Prefixed(std::string_view context) const;

 private:
  ExitCode code_ = ExitCode::kSuccess;
  std::string reason_;
};

// A value or the Status that explains why there is none. A Result built from
// a Status must not be built from an ok() Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Status status) : v_(std::move(status)) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  // The failure; Status::Ok() when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace pmmha
