// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/storage/kernel_tasks.h"

#include <dlfcn.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include "pmmha/core/owned_fd.h"

namespace pmmha {

// The functions of libbpf used here (external linkage: OpenFilesIterator
// keeps a pointer to them).
struct Libbpf {
  decltype(&libbpf_set_print) set_print;
  decltype(&bpf_object__open_mem) open_mem;
  decltype(&bpf_object__load) load;
  decltype(&bpf_object__find_program_by_name) find_program;
  decltype(&bpf_program__attach_iter) attach_iter;
  decltype(&bpf_link__fd) link_fd;
  decltype(&bpf_iter_create) iter_create;
  decltype(&bpf_link__destroy) link_destroy;
  decltype(&bpf_object__close) close;
};

namespace {

// bpf/tasks.bpf.c, compiled by clang at build time.
constexpr unsigned char kTasksObject[] = {
#include "tasks_bpf.inc"
};

// The records the BPF programs write (struct file_record, task_record).
struct FileRecord {
  std::uint32_t pid;
  std::uint32_t fd;
  std::int32_t mnt_id;
  std::uint32_t dev;  // the kernel's encoding: major << 20 | minor
};
struct TaskRecord {
  std::uint32_t pid;
  std::uint32_t mnt_ns;
  std::int32_t cwd;
  std::int32_t root;
  std::int32_t exe;
  std::uint32_t flags;
};
constexpr std::uint32_t kRootIsTop = 1;

dev_t KernelDevice(std::uint32_t dev) { return makedev(dev >> 20, dev & 0xfffff); }

constexpr const char* kLibbpf = "libbpf.so.1";

// libbpf's first warning: why loading failed, in its own words.
std::string& LibbpfMessage() {
  static std::string message;
  return message;
}

int KeepLibbpfMessage(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[512];
  int n = std::vsnprintf(line, sizeof line, format, args);
  if (n > 0) {
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    // The first warning says why (no BTF, say); the rest only that loading failed.
    if (!text.empty() && LibbpfMessage().empty()) LibbpfMessage() = text;
  }
  return 0;
}

// Never unloaded: the agent exits soon after its stop.
Result<const Libbpf*> LoadLibbpf() {
  static Libbpf bpf;
  static std::string error;
  static bool loaded = false;
  if (loaded) return &bpf;
  if (!error.empty()) return Status::NotInstalled(error);
  void* lib = dlopen(kLibbpf, RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    error = fmt::format("{} cannot be loaded: {}", kLibbpf, dlerror());
    return Status::NotInstalled(error);
  }
  bool ok = true;
  auto sym = [&](auto& fn, const char* name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
    if (fn == nullptr) ok = false;
  };
  sym(bpf.set_print, "libbpf_set_print");
  sym(bpf.open_mem, "bpf_object__open_mem");
  sym(bpf.load, "bpf_object__load");
  sym(bpf.find_program, "bpf_object__find_program_by_name");
  sym(bpf.attach_iter, "bpf_program__attach_iter");
  sym(bpf.link_fd, "bpf_link__fd");
  sym(bpf.iter_create, "bpf_iter_create");
  sym(bpf.link_destroy, "bpf_link__destroy");
  sym(bpf.close, "bpf_object__close");
  if (!ok) {
    error = fmt::format("{} lacks a function this agent needs", kLibbpf);
    return Status::NotInstalled(error);
  }
  bpf.set_print(KeepLibbpfMessage);
  loaded = true;
  return &bpf;
}

// "what: libbpf's last words (errno text)".
Status BpfFailure(std::string_view what, int err) {
  std::string why = LibbpfMessage().empty() ? std::string(std::strerror(err)) : LibbpfMessage();
  return Status::Error("{}: {}", what, why);
}

}  // namespace

struct KernelTasks::Loaded {
  const Libbpf* bpf = nullptr;
  bpf_object* obj = nullptr;
  bpf_link* tasks = nullptr;
  bpf_link* files = nullptr;
  ~Loaded() {
    if (tasks != nullptr) bpf->link_destroy(tasks);
    if (files != nullptr) bpf->link_destroy(files);
    if (obj != nullptr) bpf->close(obj);
  }

  // One pass of the iterator `link`: its records, whole.
  template <typename Record>
  Result<std::vector<Record>> Read(bpf_link* link) const {
    OwnedFd iter(bpf->iter_create(bpf->link_fd(link)));
    if (!iter.valid()) return BpfFailure("cannot create a BPF iterator", errno);
    std::vector<Record> records;
    std::string pending;
    char buf[1 << 16];
    for (;;) {
      ssize_t n = read(iter.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::Error("cannot read a BPF iterator: {}", std::strerror(errno));
      if (n == 0) break;
      pending.append(buf, static_cast<std::size_t>(n));
      const std::size_t whole = pending.size() / sizeof(Record);
      for (std::size_t i = 0; i < whole; ++i) {
        Record r;
        std::memcpy(&r, pending.data() + i * sizeof r, sizeof r);
        records.push_back(r);
      }
      pending.erase(0, whole * sizeof(Record));
    }
    return records;
  }
};

KernelTasks::KernelTasks(std::unique_ptr<Loaded> loaded) : loaded_(std::move(loaded)) {}
KernelTasks::~KernelTasks() = default;

Result<std::shared_ptr<const KernelTasks>> KernelTasks::Load() {
  auto lib = LoadLibbpf();
  if (!lib) return lib.status();
  const Libbpf& bpf = **lib;
  LibbpfMessage().clear();
  auto o = std::make_unique<Loaded>();
  o->bpf = &bpf;
  o->obj = bpf.open_mem(kTasksObject, sizeof kTasksObject, nullptr);
  if (o->obj == nullptr) return BpfFailure("cannot open the BPF object", errno);
  if (bpf.load(o->obj) != 0) return BpfFailure("cannot load the BPF iterators", errno);
  for (auto [name, link] : {std::pair{"tasks", &o->tasks}, std::pair{"files", &o->files}}) {
    bpf_program* program = bpf.find_program(o->obj, name);
    if (program == nullptr) return BpfFailure("the BPF object lacks a program", errno);
    *link = bpf.attach_iter(program, nullptr);
    if (*link == nullptr) return BpfFailure("cannot attach a BPF iterator", errno);
  }
  return std::shared_ptr<const KernelTasks>(new KernelTasks(std::move(o)));
}

Result<std::vector<KernelTask>> KernelTasks::Tasks() const {
  auto records = loaded_->Read<TaskRecord>(loaded_->tasks);
  if (!records) return records.status();
  std::vector<KernelTask> tasks;
  tasks.reserve(records->size());
  for (const TaskRecord& r : *records) {
    tasks.push_back({.pid = static_cast<pid_t>(r.pid),
                     .mount_ns = r.mnt_ns,
                     .cwd = r.cwd,
                     .root = r.root,
                     .exe = r.exe,
                     .root_is_top = (r.flags & kRootIsTop) != 0});
  }
  return tasks;
}

Result<std::vector<OpenFile>> KernelTasks::Files() const {
  auto records = loaded_->Read<FileRecord>(loaded_->files);
  if (!records) return records.status();
  std::vector<OpenFile> files;
  files.reserve(records->size());
  for (const FileRecord& r : *records) {
    files.push_back({.pid = static_cast<pid_t>(r.pid),
                     .fd = static_cast<int>(r.fd),
                     .mount_id = r.mnt_id,
                     .device = KernelDevice(r.dev)});
  }
  return files;
}

}  // namespace pmmha
