// SPDX-License-Identifier: GPL-2.0-or-later
// ocf:percona:pmm-storage — mounts the shared filesystem that holds PMM
// Server's /srv on the active node and nowhere else.
#include <string>

#include <fmt/format.h>

#include "pmmha/core/agent.h"
#include "pmmha/core/node_attribute.h"
#include "pmmha/core/process.h"
#include "pmmha/core/text.h"
#include "pmmha/storage/storage.h"

namespace {

using pmmha::Context;
using pmmha::ParamSpec;
using pmmha::ParamType;
using pmmha::Status;

const ParamSpec kDevice{
    .name = "device",
    .flags = pmmha::kRequired | pmmha::kUnique,
    .shortdesc = "Block device, UUID=, LABEL= or directory to bind-mount",
    .longdesc =
        "What to mount: a block device below /dev (/dev/sdb1, /dev/mapper/vg-srv, "
        "/dev/disk/by-id/...), UUID=..., LABEL=..., PARTUUID=... or PARTLABEL=... "
        "(found with libblkid, in a child process abandoned at the operation timeout, as a "
        "dying device can block it), or any other absolute path: a directory to bind-mount. "
        "Start records what it mounted (mount ID, the source and device number the kernel "
        "shows, the filesystem UUID) in HA_RSCTMP; monitor and stop recognise the mount by that "
        "record, so a symbolic link (/dev/disk/by-id/..., a multipath alias) that points "
        "elsewhere or is gone by the time of the stop does not leave the filesystem mounted. "
        "Without the record, the device's number, path or filesystem UUID (btrfs shows an "
        "anonymous device number) identify it.",
    .check = pmmha::CheckDeviceValue,
};
const ParamSpec kDirectory{
    .name = "directory",
    .flags = pmmha::kRequired | pmmha::kUnique,
    .shortdesc = "Mount point",
    .longdesc =
        "Where to mount it: PMM Server keeps all its state in /srv. An absolute path "
        "without symbolic links, not '/'.",
    .check = pmmha::CheckDirectoryValue,
};
const ParamSpec kFsType{
    .name = "fstype",
    .default_value = "auto",
    .shortdesc = "Filesystem type",
    .longdesc =
        "ext4, xfs, ... or 'auto' to use the type libblkid finds on the device. "
        "Ignored for a bind mount ('none' is accepted there).",
    .check = pmmha::CheckFsTypeValue,
};
const ParamSpec kOptions{
    .name = "options",
    .shortdesc = "Mount options",
    .longdesc =
        "Comma-separated options as for 'mount -o' (noatime, ro, ...). remount, move, "
        "loop and propagation options are refused.",
    .check = pmmha::CheckOptionsValue,
};
const ParamSpec kRunFsck{
    .name = "run_fsck",
    .default_value = "auto",
    .flags = pmmha::kReloadable,
    .shortdesc = "When to run fsck before mounting",
    .longdesc =
        "auto: only for filesystems that do not recover by themselves at mount (no "
        "journal or log, as ocf:heartbeat:Filesystem decides); force: always "
        "'fsck.TYPE -p'; no: never. An fsck exit status of 4 or more fails the start.",
    .choices = {"auto", "force", "no"},
};
const ParamSpec kOwner{
    .name = "owner",
    .flags = pmmha::kReloadable,
    .shortdesc = "Owner of the mount root (USER[:GROUP])",
    .longdesc =
        "Gives the root directory of the mounted filesystem this owner on start (not "
        "recursively), e.g. 1000:1000: PMM Server 3 runs as uid 1000 and refuses a "
        "/srv it cannot write. Numbers or names.",
    .check = pmmha::CheckOwnerValue,
};
const ParamSpec kCreateDirectory{
    .name = "create_directory",
    .type = ParamType::kBoolean,
    .default_value = "true",
    .flags = pmmha::kReloadable,
    .shortdesc = "Create the mount point if missing",
};
const ParamSpec kRequireMmp{
    .name = "require_mmp",
    .type = ParamType::kBoolean,
    .default_value = "false",
    .flags = pmmha::kReloadable,
    .shortdesc = "Refuse an ext2/3/4 device without multi-mount protection",
    .longdesc =
        "With ext2/3/4, refuse to mount a device that lacks multi-mount protection "
        "(enable it with 'tune2fs -O mmp DEVICE' while it is mounted nowhere): MMP "
        "makes a second node's mount fail instead of corrupting the filesystem.",
};
const ParamSpec kForceUnmount{
    .name = "force_unmount",
    .default_value = "true",
    .flags = pmmha::kReloadable,
    .shortdesc = "Kill processes that keep the mount busy on stop",
    .longdesc =
        "true: SIGTERM the processes using the mount, then SIGKILL; safe: the same "
        "(the search for users never touches the filesystem, so it cannot block); "
        "false: signal nobody, only retry the unmount until the stop timeout. Users are "
        "looked for in every mount namespace (services with PrivateTmp or ProtectSystem, "
        "containers), by the filesystem's device number. A namespace that merely has a copy of "
        "the mount, with no process using it, gets the mount unmounted inside it (no process is "
        "killed for that, whatever this parameter says); stop fails while any namespace still "
        "has the filesystem mounted, since another node must not mount it then.",
    .choices = {"true", "safe", "false"},
};
const ParamSpec kTermGrace{
    .name = "term_grace",
    .type = ParamType::kInteger,
    .default_value = "50",
    .flags = pmmha::kReloadable,
    .shortdesc = "Percent of the stop timeout for SIGTERM before SIGKILL",
    .min = 0,
    .max = 100,
};

const ParamSpec kFreeSpaceWarn{
    .name = "free_space_warn",
    .type = ParamType::kInteger,
    .default_value = "10",
    .flags = pmmha::kReloadable,
    .shortdesc = "Percent free below which /srv's space is low",
    .longdesc =
        "Start and the depth 10 and 20 monitors publish the directory's free space as node "
        "attributes (crm_mon -A1): pmm-srv-free, the percentage free to PMM's user, and "
        "pmm-srv-space: 'ok', 'low' below this percentage (with a warning in the log when it "
        "gets there) or 'full' below 1 % (PMM stops ingesting data when /srv fills). The space "
        "is asked in a child abandoned at the operation's deadline, as the other checks that "
        "touch the filesystem: never by the depth-0 monitor. Stop removes both attributes.",
    .min = 1,
    .max = 99,
};

std::string Sanitized(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (!pmmha::IsNameChar(c)) c = '_';
  }
  return out;
}

// The table has checked every value, so parsing cannot fail here.
pmmha::StorageConfig Config(const Context& ctx) {
  const pmmha::Params& p = ctx.params();
  pmmha::StorageConfig c;
  c.device = *pmmha::ParseDeviceSpec(p.String(kDevice));
  c.directory = *pmmha::NormalizeDirectory(p.String(kDirectory));
  c.fstype = p.String(kFsType);
  c.options = *pmmha::ParseMountOptions(p.String(kOptions));
  c.run_fsck = pmmha::ParseFsckPolicy(p.String(kRunFsck));
  if (p.IsSet(kOwner)) c.owner = *pmmha::ParseOwner(p.String(kOwner));
  c.create_directory = p.Boolean(kCreateDirectory);
  c.require_mmp = p.Boolean(kRequireMmp);
  c.stop.force = pmmha::ParseForceUnmount(p.String(kForceUnmount));
  c.stop.term_share = static_cast<double>(p.Integer(kTermGrace)) / 100.0;
  c.status_name = fmt::format(".pmm-storage-{}-{}", Sanitized(ctx.request().instance),
                              Sanitized(ctx.request().NodeName()));
  c.state_path = ctx.StatePath("mount");
  c.space_path = ctx.StatePath("space");
  c.free_space_warn = static_cast<int>(p.Integer(kFreeSpaceWarn));
  c.clone = ctx.request().meta.clone || ctx.request().meta.clone_max > 0;
  return c;
}

template <typename Action>
Status WithStorage(Context& ctx, Action action) {
  auto system = pmmha::MakeStorageSystem();
  auto runner = pmmha::MakeProcessRunner();
  auto attrd = pmmha::FindExecutable("attrd_updater", ctx.env().GetOr("PATH", pmmha::kDefaultPath));
  auto attributes = pmmha::MakeAttrdAttributes(*runner, attrd.value_or(""), ctx.request().rsc_tmp);
  pmmha::Storage storage(Config(ctx), *system, ctx.log(), attributes.get());
  return action(storage);
}

Status Validate(Context& ctx) {
  return WithStorage(ctx, [&](pmmha::Storage& s) {
    return s.Validate(ctx.request().action, ctx.IsProbe(), ctx.deadline());
  });
}
Status Start(Context& ctx) {
  return WithStorage(ctx, [&](pmmha::Storage& s) { return s.Start(ctx.deadline()); });
}
Status Stop(Context& ctx) {
  return WithStorage(ctx, [&](pmmha::Storage& s) { return s.Stop(ctx.deadline()); });
}
Status Monitor(Context& ctx) {
  return WithStorage(ctx, [&](pmmha::Storage& s) {
    return s.Monitor(ctx.request().check_level, ctx.IsProbe(), ctx.deadline());
  });
}
Status Reload(Context& ctx) {
  return WithStorage(ctx, [&](pmmha::Storage& s) { return s.Reload(ctx.deadline()); });
}

constexpr std::string_view kFilesystem = "ocf:heartbeat:Filesystem";
bool IsDefaultStatusPrefix(std::string_view v) { return v == ".Filesystem_status/"; }
// Filesystem's parameters that pmm-storage does not have (README's migration table).
const std::vector<pmmha::ForeignParam> kForeign = {
    {"statusfile_prefix", kFilesystem,
     "the depth-20 monitor writes and removes its own status file in the directory",
     IsDefaultStatusPrefix},
    {"fast_stop", kFilesystem, "term_grace sets the seconds between SIGTERM and SIGKILL on stop",
     pmmha::IsOcfTrue},
    {"force_clones", kFilesystem,
     "as a clone pmm-storage accepts only the cluster filesystems gfs2 and ocfs2",
     pmmha::IsOcfFalse},
    {"signal_delay", kFilesystem, "term_grace sets the seconds between SIGTERM and SIGKILL"},
    {"term_signals", kFilesystem, "stop sends SIGTERM, then SIGKILL after term_grace"},
};

const pmmha::AgentSpec kAgent{
    .name = "pmm-storage",
    .shortdesc = "Mounts PMM Server's /srv from shared storage, without hangs",
    .longdesc =
        "Mounts the shared filesystem that holds PMM Server's state (/srv) on the active node "
        "and nowhere else; a replacement for ocf:heartbeat:Filesystem for this job. Monitor "
        "depth 0 checks the mount table (device numbers, read-only remounts); depth 10 also "
        "stats the mount and reads the device's first block with O_DIRECT; depth 20 also "
        "writes, fsyncs, reads back and removes a status file. Depths 10 and 20 run in a child "
        "process abandoned at the operation timeout, so a hung filesystem gives a failure, "
        "never a hung agent. Stop finds the users of a busy mount from /proc alone (no stat on "
        "the filesystem), sends SIGTERM, then SIGKILL, and never lazily unmounts a block "
        "device. Another filesystem mounted over the directory hides ours: monitor (a probe "
        "too) reports that as a failure, and stop unmounts the stack down to ours, as it sits "
        "on our mount point. Stop succeeds when neither the directory nor any mount of our "
        "filesystem is mounted; when something is mounted at the directory that it cannot "
        "prove not ours (the device gone and no record of what start mounted), it fails with "
        "the reason rather than report a filesystem stopped that may still be mounted. A mount "
        "that did not finish within start's timeout goes on in a child process (a mount blocked "
        "in the kernel, a slow journal replay): start records it, and stop waits for it with "
        "half its timeout and fails while it still runs, because it may still attach the "
        "filesystem. As a clone (on several nodes at once) it accepts only the cluster "
        "filesystems gfs2 and ocfs2, given as fstype, and refuses anything else with "
        "'not configured', as ocf:heartbeat:Filesystem does: ext4, xfs or btrfs mounted on two "
        "nodes is corrupted. Node attributes (crm_mon -A1): pmm-srv-free (percent free) and "
        "pmm-srv-space (ok, low, full; see free_space_warn), from start and the depth 10 and "
        "20 monitors, removed by stop.",
    .params = {&kDevice, &kDirectory, &kFsType, &kOptions, &kRunFsck, &kOwner, &kCreateDirectory,
               &kRequireMmp, &kForceUnmount, &kTermGrace, &kFreeSpaceWarn},
    .foreign = kForeign,
    .actions =
        {
            {.name = "start", .timeout_s = 60, .handler = Start},
            {.name = "stop", .timeout_s = 60, .handler = Stop},
            {.name = "monitor", .timeout_s = 40, .handler = Monitor, .interval_s = 20, .depth = 0},
            {.name = "reload-agent", .timeout_s = 20, .handler = Reload},
        },
    .validate = Validate,
};

}  // namespace

int main(int argc, char** argv) { return pmmha::RunAgent(kAgent, argc, argv); }
