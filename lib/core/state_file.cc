// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "pmmha/core/owned_fd.h"
#include "pmmha/core/text.h"

namespace pmmha {

Status ReplaceFile(const std::string& path, std::string_view text) {
  if (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
    mkdir(path.substr(0, slash).c_str(), 0755);
  }
  std::string tmp = path + ".tmp";
  OwnedFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd.valid() ||
      write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    int err = errno;
    unlink(tmp.c_str());
    return Status::Error("cannot write {}: {}", Quote(tmp), Errno(err));
  }
  fd.reset();
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return Status::Error("cannot write {}: {}", Quote(path), Errno(err));
  }
  return Status::Ok();
}

}  // namespace pmmha
