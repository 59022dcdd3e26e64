#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pmm-storage recognises the filesystem start mounted, whatever the device
# path names by the time of the stop: real loop devices with ext4, xfs and
# btrfs, given as a symbolic link under /dev that is repointed to another
# device or removed before the stop; another filesystem stacked over the
# mount point; foreign filesystems at the directory; clones of a filesystem
# that is not cluster-aware; and a mount(2) that start abandoned at its
# deadline and that completes later (a loop device on the hanging FUSE
# fixture). Every stop is checked twice: its exit code, and what findmnt
# shows afterwards.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
# shellcheck source=SCRIPTDIR/storage_lib.sh
. "$(dirname "$0")/storage_lib.sh"
h_begin storage_identity
storage_setup
h_umount_at_exit "$mnt"
command -v mkfs.btrfs >/dev/null || h_skip "mkfs.btrfs missing (btrfs-progs)"
grep -qw btrfs /proc/filesystems || h_skip "the kernel has no btrfs"

# rs ACTION [NAME=VALUE...]: the agent with parameters as Pacemaker passes them.
# shellcheck disable=SC2317 # called through h_expect_rc, which shellcheck does not follow
rs() {
  local action=$1 kv env=()
  shift
  for kv in "$@"; do env+=("OCF_RESKEY_$kv"); done
  env "${env[@]}" "$agent" "$action"
}
probe=(CRM_meta_interval=0)
monitor=(CRM_meta_interval=20000)
# Nothing mounted at the mount point, and DEV mounted nowhere in this namespace.
# shellcheck disable=SC2317 # called through h_check
unmounted() { test -z "$(mounted_at "$mnt")" && ! findmnt -rn -S "$1" >/dev/null; }

link=/dev/pmmt$$-link
h_defer rm -f "$link"
ext4=$(h_loop 64 ext4) || h_fail "ext4 loop device"
xfs=$(h_loop 320 xfs) || h_fail "xfs loop device"
btrfs=$(h_loop 128 btrfs -q) || h_fail "btrfs loop device"
other=$(h_loop 64 ext4) || h_fail "second ext4 loop device"
dev=(device="$link" directory="$mnt")

for pair in "ext4 $ext4" "xfs $xfs" "btrfs $btrfs"; do
  fs=${pair%% *} real=${pair#* }
  # --- the symbolic link points elsewhere at stop ------------------------------
  ln -sfn "$real" "$link"
  h_expect_rc 0 "$fs: start through $link" rs start "${dev[@]}"
  h_check "... $real mounted" test "$(findmnt -rn -o SOURCE --mountpoint "$mnt")" = "$real"
  ln -sfn "$other" "$link"
  h_expect_rc 0 "$fs: link repointed: monitor still sees ours" rs monitor "${dev[@]}" "${monitor[@]}"
  h_expect_rc 0 "$fs: link repointed: so does a probe" rs monitor "${dev[@]}" "${probe[@]}"
  h_expect_rc 0 "$fs: link repointed: stop" rs stop "${dev[@]}"
  h_check "... and $real is really unmounted" unmounted "$real"
  h_expect_rc 7 "$fs: then a probe says not running" rs monitor "${dev[@]}" "${probe[@]}"

  # --- the symbolic link is gone at stop ------------------------------------------
  ln -sfn "$real" "$link"
  h_expect_rc 0 "$fs: start through $link" rs start "${dev[@]}"
  rm -f "$link"
  h_expect_rc 0 "$fs: link gone: the probe still sees ours" rs monitor "${dev[@]}" "${probe[@]}"
  h_expect_rc 0 "$fs: link gone: start is idempotent" rs start "${dev[@]}"
  h_expect_rc 0 "$fs: link gone: stop" rs stop "${dev[@]}"
  h_check "... and $real is really unmounted" unmounted "$real"
  h_expect_rc 0 "$fs: stop again (nothing mounted, device gone)" rs stop "${dev[@]}"
done

# --- btrfs by UUID= (mountinfo shows 0:NN, not the loop device's number) -------
uuid=$(blkid -s UUID -o value "$btrfs")
h_expect_rc 0 "btrfs: start with UUID=" rs start device="UUID=$uuid" directory="$mnt"
h_expect_rc 0 "... monitor" rs monitor device="UUID=$uuid" directory="$mnt" "${monitor[@]}"
h_expect_rc 0 "... stop" rs stop device="UUID=$uuid" directory="$mnt"
h_check "... unmounted" unmounted "$btrfs"

# --- another filesystem stacked over ours ----------------------------------------
ln -sfn "$ext4" "$link"
h_expect_rc 0 "stacked: start" rs start "${dev[@]}"
mount -t tmpfs pmmt-over "$mnt"
h_expect_rc 1 "stacked: the probe sees ours underneath (not 7)" rs monitor "${dev[@]}" "${probe[@]}"
h_match "... saying so" "mounted over ours" "$H_REASON"
h_expect_rc 1 "stacked: monitor fails" rs monitor "${dev[@]}" "${monitor[@]}"
h_expect_rc 1 "stacked: start refuses to go on" rs start "${dev[@]}"
h_expect_rc 0 "stacked: stop" rs stop "${dev[@]}"
h_check "... unmounts the stack and ours" unmounted "$ext4"

# --- foreign filesystems at the directory, no record -------------------------------
missing=(device=/dev/pmmt$$-none directory="$mnt")
h_expect_rc 0 "nothing mounted, device missing, no record: stop succeeds" rs stop "${missing[@]}"
mount "$other" "$mnt"
h_expect_rc 1 "a block filesystem that cannot be told apart (device missing, no record): stop fails" \
  rs stop "${missing[@]}"
h_match "... with the reason" "cannot be told whether it is '/dev/pmmt$$-none'" "$H_REASON"
h_expect_rc 1 "... and the probe does not say 7" rs monitor "${missing[@]}" "${probe[@]}"
h_expect_rc 0 "another device, ours present: stop leaves it alone" rs stop "${dev[@]}"
h_check "... still mounted" test "$(mounted_at "$mnt")" = "$other"
h_expect_rc 7 "... the probe says not running" rs monitor "${dev[@]}" "${probe[@]}"
umount "$mnt"
mount -t tmpfs pmmt-other "$mnt"
h_expect_rc 0 "a tmpfs is provably not ours: stop leaves it alone" rs stop "${missing[@]}"
h_expect_rc 7 "... the probe says not running" rs monitor "${missing[@]}" "${probe[@]}"
h_check "... still mounted" test "$(mounted_at "$mnt")" = pmmt-other
umount "$mnt"

# --- clones ------------------------------------------------------------------------
clone=(CRM_meta_clone=0 CRM_meta_clone_max=2)
h_expect_rc 6 "a clone of ext4: validate-all refuses" rs validate-all "${dev[@]}" "${clone[@]}"
h_match "... naming the cluster filesystems" "only gfs2 and ocfs2" "$H_REASON"
h_expect_rc 6 "... start too" rs start "${dev[@]}" "${clone[@]}"
h_check "... nothing mounted" unmounted "$ext4"
mkdir -p "$H_TMP/bindsrc"
h_expect_rc 6 "a clone of a bind mount is refused" \
  rs validate-all device="$H_TMP/bindsrc" directory="$mnt" "${clone[@]}"
h_match "... as no cluster filesystem" "a bind mount is not a cluster filesystem" "$H_REASON"
h_expect_rc 7 "a clone's probe still answers" rs monitor "${dev[@]}" "${clone[@]}" "${probe[@]}"

# --- a mount(2) abandoned at start's deadline --------------------------------------
# An ext4 image on the hanging FUSE fixture: while it hangs, mount(2) of its
# loop device sits in the kernel (D state); released, it completes.
hang_fs=$(h_agent hang_fs)
if grep -qw fuse /proc/filesystems; then
  fuse=$H_TMP/fuse
  flag=$H_TMP/hang
  mkdir -p "$fuse"
  "$hang_fs" "$flag" "$fuse" 2>"$H_TMP/hang_fs.log" &
  fs_pid=$!
  h_defer kill -KILL "$fs_pid"
  h_defer umount -l "$fuse"
  h_defer rm -f "$flag"
  for _ in $(seq 100); do mountpoint -q "$fuse" && break; sleep 0.05; done
  truncate -s 16M "$fuse/disk.img"
  mkfs.ext4 -q -F "$fuse/disk.img" >/dev/null
  # Attached after mkfs: the loop device and the FUSE file start with empty
  # caches, so the mount has to ask the filesystem.
  slow=$(losetup -f --show "$fuse/disk.img")
  h_defer losetup -d "$slow"
  ln -sfn "$slow" "$link"
  touch "$flag"
  timed 1 "hung device: start fails at its deadline" \
    env OCF_RESKEY_CRM_meta_timeout=3000 OCF_RESKEY_device="$link" OCF_RESKEY_directory="$mnt" \
    OCF_RESKEY_fstype=ext4 "$agent" start
  h_match "... and says the mount goes on" "mount\(2\) goes on in process [0-9]+, which stop waits for" "$H_REASON"
  child=$(sed -n 's/.*goes on in process \([0-9]*\).*/\1/p' <<<"$H_REASON")
  h_check "... in process $child, still alive" test -e "/proc/$child"
  h_expect_rc 1 "hung device: the probe does not say 7" rs monitor "${dev[@]}" fstype=ext4 "${probe[@]}"
  timed 1 "hung device: stop fails while the mount may still attach" \
    env OCF_RESKEY_CRM_meta_timeout=3000 OCF_RESKEY_device="$link" OCF_RESKEY_directory="$mnt" \
    OCF_RESKEY_fstype=ext4 "$agent" stop
  h_check "... before its timeout (${took} ms < 3000)" test "$took" -lt 3000
  h_match "... naming the process" "start abandoned at its deadline still runs \(process $child" "$H_REASON"
  rm -f "$flag"
  for _ in $(seq 100); do [ -e "/proc/$child" ] || break; sleep 0.05; done
  h_check "released: the abandoned mount ends" test ! -e "/proc/$child"
  # Whether a mount(2) that got SIGKILL while blocked still attaches depends
  # on where it blocked (here the kernel gives up; a journal replay would
  # not): when it did not, attach it by hand as it would have.
  if [ -z "$(mounted_at "$mnt")" ]; then
    h_log "the killed mount did not attach the filesystem; mounting it as it could have"
    mount "$slow" "$mnt"
  fi
  h_check "the filesystem is attached at the directory" test "$(mounted_at "$mnt")" = "$slow"
  h_expect_rc 0 "released: stop" rs stop "${dev[@]}" fstype=ext4
  h_check "... unmounts what the abandoned mount attached" unmounted "$slow"
else
  h_log "the kernel has no FUSE: the abandoned mount is left to the unit tests"
fi
h_done
