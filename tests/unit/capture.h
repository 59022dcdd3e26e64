// SPDX-License-Identifier: GPL-2.0-or-later
// Captures what the code under test writes to stdout and stderr.
#pragma once

#include <stdio.h>
#include <unistd.h>

#include <string>

class CaptureOutput {
 public:
  CaptureOutput() {
    fflush(stdout);
    fflush(stderr);
    out_file_ = tmpfile();
    err_file_ = tmpfile();
    saved_out_ = dup(STDOUT_FILENO);
    saved_err_ = dup(STDERR_FILENO);
    dup2(fileno(out_file_), STDOUT_FILENO);
    dup2(fileno(err_file_), STDERR_FILENO);
  }
  ~CaptureOutput() {
    Restore();
    fclose(out_file_);
    fclose(err_file_);
  }
  // Stops capturing; returns nothing, the text is in out() and err().
  void Restore() {
    if (saved_out_ < 0) return;
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out_, STDOUT_FILENO);
    dup2(saved_err_, STDERR_FILENO);
    close(saved_out_);
    close(saved_err_);
    saved_out_ = saved_err_ = -1;
    out_ = Read(out_file_);
    err_ = Read(err_file_);
  }
  const std::string& out() {
    Restore();
    return out_;
  }
  const std::string& err() {
    Restore();
    return err_;
  }

 private:
  static std::string Read(FILE* f) {
    std::string text;
    rewind(f);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    return text;
  }
  FILE* out_file_;
  FILE* err_file_;
  int saved_out_ = -1, saved_err_ = -1;
  std::string out_, err_;
};
