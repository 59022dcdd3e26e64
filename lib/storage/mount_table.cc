// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/storage/mount_table.h"

#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/format.h>
#include <libmount/libmount.h>

#include "pmmha/core/text.h"
#include "pmmha/storage/storage_params.h"

namespace pmmha {

namespace {

struct TableFree {
  void operator()(libmnt_table* t) const { mnt_unref_table(t); }
};
struct IterFree {
  void operator()(libmnt_iter* i) const { mnt_free_iter(i); }
};

std::string Str(const char* s) { return s != nullptr ? std::string(s) : std::string(); }

bool HasOption(std::string_view list, std::string_view option) {
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    if (list.substr(start, end - start) == option) return true;
    start = end + 1;
  }
  return false;
}

// Among mounts stacked on one target, the one no other mount sits on.
const MountEntry* Topmost(const std::vector<const MountEntry*>& stack) {
  for (const MountEntry* e : stack) {
    bool covered = std::any_of(stack.begin(), stack.end(),
                               [e](const MountEntry* o) { return o->parent_id == e->id; });
    if (!covered) return e;
  }
  return stack.empty() ? nullptr : stack.back();
}

}  // namespace

bool MountEntry::Anonymous() const { return major(devno) == 0; }

bool MountEntry::ReadOnly() const {
  return HasOption(vfs_options, "ro") || HasOption(fs_options, "ro");
}

Result<MountTable> MountTable::Read(const std::string& path) {
  std::unique_ptr<libmnt_table, TableFree> table(mnt_new_table());
  if (!table) return Status::Error("libmount: out of memory");
  if (int rc = mnt_table_parse_file(table.get(), path.c_str()); rc != 0) {
    return Status::Error("cannot read the mount table {}: {}", Quote(path),
                         Errno(rc < 0 ? -rc : EINVAL));
  }
  std::unique_ptr<libmnt_iter, IterFree> iter(mnt_new_iter(MNT_ITER_FORWARD));
  std::vector<MountEntry> entries;
  entries.reserve(static_cast<std::size_t>(mnt_table_get_nents(table.get())));
  libmnt_fs* fs = nullptr;
  while (mnt_table_next_fs(table.get(), iter.get(), &fs) == 0) {
    MountEntry e;
    e.id = mnt_fs_get_id(fs);
    e.parent_id = mnt_fs_get_parent_id(fs);
    e.devno = mnt_fs_get_devno(fs);
    e.source = Str(mnt_fs_get_source(fs));
    e.target = Str(mnt_fs_get_target(fs));
    e.root = Str(mnt_fs_get_root(fs));
    e.fstype = Str(mnt_fs_get_fstype(fs));
    e.vfs_options = Str(mnt_fs_get_vfs_options(fs));
    e.fs_options = Str(mnt_fs_get_fs_options(fs));
    entries.push_back(std::move(e));
  }
  return MountTable(std::move(entries));
}

const MountEntry* MountTable::At(std::string_view target) const {
  std::vector<const MountEntry*> stack;
  for (const auto& e : entries_) {
    if (e.target == target) stack.push_back(&e);
  }
  return Topmost(stack);
}

std::vector<const MountEntry*> MountTable::StackAt(std::string_view target) const {
  std::vector<const MountEntry*> all;
  for (const auto& e : entries_) {
    if (e.target == target) all.push_back(&e);
  }
  // Follow the parent chain down from the topmost: each layer's parent is
  // the one it covers. Layers not on the chain (mountinfo order otherwise)
  // go below it.
  std::vector<const MountEntry*> chain;
  for (const MountEntry* e = Topmost(all); e != nullptr;) {
    chain.push_back(e);
    auto below = std::find_if(all.begin(), all.end(), [&](const MountEntry* o) {
      return o->id == e->parent_id && std::find(chain.begin(), chain.end(), o) == chain.end();
    });
    e = below == all.end() ? nullptr : *below;
  }
  std::vector<const MountEntry*> out;
  for (const MountEntry* e : all) {
    if (std::find(chain.begin(), chain.end(), e) == chain.end()) out.push_back(e);
  }
  out.insert(out.end(), chain.rbegin(), chain.rend());
  return out;
}

std::vector<const MountEntry*> MountTable::Below(std::string_view dir) const {
  std::vector<const MountEntry*> out;
  for (const auto& e : entries_) {
    if (e.target != dir && PathIsWithin(e.target, dir)) out.push_back(&e);
  }
  // Children come after their parents in mountinfo: reverse order, then
  // deeper paths first, unmounts every mount before the one it sits on.
  std::reverse(out.begin(), out.end());
  std::stable_sort(out.begin(), out.end(), [](const MountEntry* a, const MountEntry* b) {
    return std::count(a->target.begin(), a->target.end(), '/') >
           std::count(b->target.begin(), b->target.end(), '/');
  });
  return out;
}

std::vector<const MountEntry*> MountTable::WithDevice(dev_t devno) const {
  std::vector<const MountEntry*> out;
  for (const auto& e : entries_) {
    if (e.devno == devno) out.push_back(&e);
  }
  return out;
}

const MountEntry* MountTable::Containing(std::string_view path) const {
  std::size_t best = 0;
  std::vector<const MountEntry*> stack;
  for (const auto& e : entries_) {
    if (!PathIsWithin(path, e.target)) continue;
    if (e.target.size() > best) {
      best = e.target.size();
      stack.clear();
    }
    if (e.target.size() == best) stack.push_back(&e);
  }
  return Topmost(stack);
}

std::string RootWithin(const MountEntry& holder, std::string_view path) {
  std::string_view rest = path;
  if (holder.target != "/") rest.remove_prefix(std::min(rest.size(), holder.target.size()));
  std::string root = holder.root.empty() ? "/" : holder.root;
  if (rest.empty() || rest == "/") return root;
  if (root == "/") return std::string(rest);
  return root + std::string(rest);
}

}  // namespace pmmha
