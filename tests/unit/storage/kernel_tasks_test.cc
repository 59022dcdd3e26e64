// SPDX-License-Identifier: GPL-2.0-or-later
// The BPF iterators against the running kernel: what they list must be what
// /proc says, process by process and file by file.
#include "pmmha/storage/kernel_tasks.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "pmmha/core/owned_fd.h"

using namespace pmmha;

namespace {

int FdinfoMountId(int fd) {
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
  std::string key;
  while (in >> key) {
    if (key == "mnt_id:") {
      int id = -1;
      in >> id;
      return id;
    }
  }
  return -1;
}

// The mount ID of the mount `path` is on, as mountinfo numbers it (through
// an O_PATH descriptor's fdinfo, which opens nothing on the filesystem).
int MountIdOf(const char* path) {
  OwnedFd fd(open(path, O_PATH | O_CLOEXEC));
  return fd.valid() ? FdinfoMountId(fd.get()) : -2;
}

const OpenFile* Find(const std::vector<OpenFile>& files, pid_t pid, int fd) {
  for (const OpenFile& f : files) {
    if (f.pid == pid && f.fd == fd) return &f;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("the BPF iterators list each process and open file as /proc shows them") {
  auto loaded = KernelTasks::Load();
  struct stat btf;
  if (geteuid() != 0 || stat("/sys/kernel/btf/vmlinux", &btf) != 0) {
    // Not root, or a kernel without BTF: refused, saying why.
    REQUIRE_FALSE(loaded.ok());
    CHECK_FALSE(loaded.status().reason().empty());
    return;
  }
  REQUIRE(loaded.ok());
  // A high number, which the iterator's own descriptor will not take.
  OwnedFd file(
      fcntl(OwnedFd(open("/proc/self/status", O_RDONLY | O_CLOEXEC)).get(), F_DUPFD_CLOEXEC, 700));
  OwnedFd dir(open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(file.valid());
  REQUIRE(dir.valid());

  auto tasks = (*loaded)->Tasks();
  REQUIRE(tasks.ok());
  const KernelTask* me = nullptr;
  for (const KernelTask& t : *tasks) {
    if (t.pid == getpid()) me = &t;
  }
  REQUIRE(me != nullptr);
  struct stat ns;
  REQUIRE(stat("/proc/self/ns/mnt", &ns) == 0);
  CHECK(me->mount_ns == ns.st_ino);
  CHECK(me->cwd == MountIdOf("."));
  CHECK(me->root == MountIdOf("/"));
  CHECK(me->exe == MountIdOf("/proc/self/exe"));
  CHECK(me->root_is_top);

  auto files = (*loaded)->Files();
  REQUIRE(files.ok());
  CHECK(files->size() > 10);
  for (int fd : {file.get(), dir.get()}) {
    INFO("fd " << fd);
    const OpenFile* f = Find(*files, getpid(), fd);
    REQUIRE(f != nullptr);
    CHECK(f->mount_id == FdinfoMountId(fd));
    struct stat st;
    REQUIRE(fstat(fd, &st) == 0);
    CHECK(f->device == st.st_dev);
  }
  // A descriptor closed is not listed any more.
  const int closed = file.get();
  file.reset();
  files = (*loaded)->Files();
  REQUIRE(files.ok());
  CHECK(Find(*files, getpid(), closed) == nullptr);

  SECTION("a child of the process that loaded it walks it, under the same PIDs") {
    pid_t child = fork();
    if (child == 0) {
      auto listed = (*loaded)->Files();
      _exit(listed.ok() && Find(*listed, getppid(), dir.get()) != nullptr ? 0 : 1);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
}
