// SPDX-License-Identifier: GPL-2.0-or-later
// Every process and every open file in the reader's PID namespace, as the
// kernel holds them: fixed-size records (kernel_tasks.cc reads them). BPF
// iterators (iter/task and iter/task_file, Linux 5.8) walk the task list and
// the file tables inside the kernel, so a process costs a few hundred
// nanoseconds instead of a /proc lookup, open, read and close per link and
// per open file. Nothing here asks a filesystem anything: only the kernel's
// own structures are read.
//
// The types below name only the fields read; libbpf relocates their offsets
// against the running kernel's BTF (CO-RE), so no vmlinux.h is needed.
#include <linux/bpf.h>

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

struct super_block {
  __u32 s_dev;
} __attribute__((preserve_access_index));

struct dentry;

struct vfsmount {
  struct dentry* mnt_root;
  struct super_block* mnt_sb;
} __attribute__((preserve_access_index));

struct mount {
  struct vfsmount mnt;
  int mnt_id;
} __attribute__((preserve_access_index));

struct path {
  struct vfsmount* mnt;
  struct dentry* dentry;
} __attribute__((preserve_access_index));

struct file {
  struct path f_path;
} __attribute__((preserve_access_index));

struct fs_struct {
  struct path root;
  struct path pwd;
} __attribute__((preserve_access_index));

struct mm_struct {
  struct file* exe_file;
} __attribute__((preserve_access_index));

struct ns_common {
  unsigned int inum;
} __attribute__((preserve_access_index));

struct mnt_namespace {
  struct ns_common ns;
  struct mount* root;
} __attribute__((preserve_access_index));

struct nsproxy {
  struct mnt_namespace* mnt_ns;
} __attribute__((preserve_access_index));

struct upid {
  int nr;
  void* ns;
};

struct pid {
  unsigned int level;
  struct upid numbers[1];
} __attribute__((preserve_access_index));

struct task_struct {
  unsigned int flags;
  struct task_struct* group_leader;
  struct pid* thread_pid;
  struct fs_struct* fs;
  struct mm_struct* mm;
  struct nsproxy* nsproxy;
} __attribute__((preserve_access_index));

struct seq_file;

struct bpf_iter_meta {
  struct seq_file* seq;
} __attribute__((preserve_access_index));

struct bpf_iter__task {
  struct bpf_iter_meta* meta;
  struct task_struct* task;
} __attribute__((preserve_access_index));

struct bpf_iter__task_file {
  struct bpf_iter_meta* meta;
  struct task_struct* task;
  __u32 fd;
  struct file* file;
} __attribute__((preserve_access_index));

#define PF_KTHREAD 0x00200000

// One open file; the layout is FileRecord's (kernel_tasks.cc).
struct file_record {
  __u32 pid;  // in the reader's PID namespace
  __u32 fd;
  __s32 mnt_id;
  __u32 dev;  // the superblock's device, the kernel's encoding (major << 20 | minor)
};

// One process; the layout is TaskRecord's (kernel_tasks.cc).
struct task_record {
  __u32 pid;
  __u32 mnt_ns;  // its mount namespace's inode number, as in /proc/PID/ns/mnt
  __s32 cwd;     // mount IDs; -1: none (no fs_struct, no executable)
  __s32 root;
  __s32 exe;
  __u32 flags;
};

// Its root directory is the reader's or its mount namespace's: the mount
// table of /proc/PID/mountinfo shows every mount, and /proc/PID/root reads
// "/" (the reader's root may itself be below its namespace's root, as after
// an initramfs's switch_root).
#define TASK_ROOT_IS_TOP 1

// The number a struct pid has at `level` and that level's namespace.
static __always_inline int upid_at(struct pid* pid, unsigned int level, struct upid* out) {
  const unsigned long offset =
      bpf_core_field_offset(struct pid, numbers) + level * sizeof(struct upid);
  return bpf_probe_read_kernel(out, sizeof(*out), (const char*)pid + offset);
}

// The process `task` belongs to, as the reader numbers it; 0: not visible
// in the reader's PID namespace.
static __always_inline __u32 reader_tgid(struct task_struct* task) {
  struct task_struct* self = (struct task_struct*)bpf_get_current_task();
  struct pid* self_pid = BPF_CORE_READ(self, thread_pid);
  const unsigned int level = BPF_CORE_READ(self_pid, level);
  struct upid self_upid;
  if (level > 32 || upid_at(self_pid, level, &self_upid) != 0) return 0;
  struct pid* tgid = BPF_CORE_READ(task, group_leader, thread_pid);
  if (tgid == 0 || BPF_CORE_READ(tgid, level) < level) return 0;
  struct upid upid;
  if (upid_at(tgid, level, &upid) != 0 || upid.ns != self_upid.ns) return 0;
  return (__u32)upid.nr;
}

static __always_inline int mount_id(struct vfsmount* vfsmnt) {
  if (vfsmnt == 0) return -1;
  struct mount* mnt =
      (struct mount*)((const char*)vfsmnt - bpf_core_field_offset(struct mount, mnt));
  return BPF_CORE_READ(mnt, mnt_id);
}

SEC("iter/task")
int tasks(struct bpf_iter__task* ctx) {
  struct task_struct* task = ctx->task;
  if (task == 0) return 0;
  // Threads share their leader's files and, as a rule, its fs_struct: the
  // leader speaks for the process, as /proc/PID does. Kernel threads use no
  // mount of ours and cannot be signalled away.
  if (BPF_CORE_READ(task, group_leader) != task) return 0;
  if (BPF_CORE_READ(task, flags) & PF_KTHREAD) return 0;
  const __u32 pid = reader_tgid(task);
  if (pid == 0) return 0;

  struct task_record r = {.pid = pid, .cwd = -1, .root = -1, .exe = -1};
  struct mnt_namespace* ns = BPF_CORE_READ(task, nsproxy, mnt_ns);
  if (ns != 0) r.mnt_ns = BPF_CORE_READ(ns, ns.inum);
  struct fs_struct* fs = BPF_CORE_READ(task, fs);
  if (fs != 0) {
    struct vfsmount* root = BPF_CORE_READ(fs, root.mnt);
    r.cwd = mount_id(BPF_CORE_READ(fs, pwd.mnt));
    r.root = mount_id(root);
    struct dentry* root_dentry = BPF_CORE_READ(fs, root.dentry);
    struct task_struct* self = (struct task_struct*)bpf_get_current_task();
    struct fs_struct* self_fs = BPF_CORE_READ(self, fs);
    if (self_fs != 0 && root == BPF_CORE_READ(self_fs, root.mnt) &&
        root_dentry == BPF_CORE_READ(self_fs, root.dentry)) {
      r.flags |= TASK_ROOT_IS_TOP;
    } else if (ns != 0) {
      struct mount* ns_root = BPF_CORE_READ(ns, root);
      struct vfsmount* ns_root_vfs =
          (struct vfsmount*)((const char*)ns_root + bpf_core_field_offset(struct mount, mnt));
      if (ns_root != 0 && root == ns_root_vfs && root_dentry == BPF_CORE_READ(root, mnt_root)) {
        r.flags |= TASK_ROOT_IS_TOP;
      }
    }
  }
  struct file* exe = BPF_CORE_READ(task, mm, exe_file);
  if (exe != 0) r.exe = mount_id(BPF_CORE_READ(exe, f_path.mnt));
  bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
  return 0;
}

SEC("iter/task_file")
int files(struct bpf_iter__task_file* ctx) {
  struct task_struct* task = ctx->task;
  struct file* file = ctx->file;
  if (task == 0 || file == 0) return 0;
  const __u32 pid = reader_tgid(task);
  if (pid == 0) return 0;
  struct vfsmount* vfsmnt = BPF_CORE_READ(file, f_path.mnt);
  if (vfsmnt == 0) return 0;
  struct file_record r = {
      .pid = pid,
      .fd = ctx->fd,
      .mnt_id = mount_id(vfsmnt),
      .dev = BPF_CORE_READ(vfsmnt, mnt_sb, s_dev),
  };
  bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
