// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/storage/bounded_check.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <string>

#include <fmt/format.h>

#include "pmmha/core/bounded.h"
#include "pmmha/core/owned_fd.h"
#include "pmmha/core/text.h"

namespace pmmha {

namespace {

// The child's lines: "S<step>" announces a step, "R<code> <reason>" is the
// result.
struct Report {
  std::string step;
  bool has_result = false;
  Status result;
};

Report ParseReport(std::string_view buffer) {
  Report r;
  while (!buffer.empty()) {
    auto end = buffer.find('\n');
    if (end == std::string_view::npos) break;
    std::string_view line = buffer.substr(0, end);
    buffer.remove_prefix(end + 1);
    if (line.empty()) continue;
    if (line.front() == 'S') {
      r.step = std::string(line.substr(1));
    } else if (line.front() == 'R') {
      line.remove_prefix(1);
      auto space = line.find(' ');
      auto code = ParseInteger(line.substr(0, space));
      r.has_result = code.has_value();
      r.result = Status(static_cast<ExitCode>(code.value_or(1)),
                        space == std::string_view::npos ? "" : std::string(line.substr(space + 1)));
    }
  }
  return r;
}

// The pipe's protocol is one line a message: the text whole, on one line.
std::string Line(std::string_view text) { return OneLine(text, std::string_view::npos); }

}  // namespace

void ChildProgress::Step(std::string_view what) { WriteAll(fd_, fmt::format("S{}\n", Line(what))); }

void ChildProgress::Finish(const Status& status) {
  WriteAll(fd_, fmt::format("R{} {}\n", static_cast<int>(status.code()), Line(status.reason())));
}

Status RunBoundedCheck(std::string_view what, const Deadline& deadline, const CheckWork& work) {
  int fds[2];
  // Non-blocking read end: after a timeout we take what the child wrote and
  // do not wait for more. The few short lines fit in the pipe buffer, so the
  // child never blocks writing them.
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return Status::Error("{}: pipe: {}", what, Errno(errno));
  }
  OwnedFd read_end(fds[0]);
  OwnedFd write_end(fds[1]);
  fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
  auto run = RunBounded(what, deadline, [&]() {
    read_end.reset();
    ChildProgress progress(write_end.get());
    Status status;
    try {
      status = work(progress);
    } catch (const std::exception& e) {
      status = Status::Error("internal error: {}", e.what());
    }
    progress.Finish(status);
    return 0;
  });
  write_end.reset();
  Report report = ParseReport(DrainPipe(read_end.get()));
  if (report.has_result) return report.result;
  if (run.ok()) {
    return Status::Error("{}: the check ended without a result", what);
  }
  if (report.step.empty()) return run.status();
  return Status::Error("{} (stuck in {})", run.status().reason(), report.step);
}

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string DrainPipe(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return out;
  }
}

}  // namespace pmmha
