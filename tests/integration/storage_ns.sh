#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pmm-storage stop with the filesystem in other mount namespaces, on real
# loop devices (ext4 and btrfs), in a scratch directory made shared as / is
# on a systemd host:
#  (a) slave namespaces (a service with PrivateTmp, a container with an
#      rslave bind): a process with its cwd on the filesystem and one with a
#      file open keep our unmount busy; stop finds them, ends them, unmounts,
#      and returns 0 well before its deadline;
#  (b) a private namespace that merely has a copy of the mount: stop takes
#      the mount out inside it, does not kill its process, and returns 0
#      with the filesystem mounted in no namespace;
#  (c) the same with btrfs (mountinfo shows an anonymous 0:NN device), and a
#      slave user of it;
#  (d) a private copy with a tmpfs mounted over it there: both taken out,
#      nobody killed; (e) with that tmpfs in use: stop fails in time.
# The shell commands run in the namespaces get the mount point as $1:
# shellcheck disable=SC2016
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
# shellcheck source=SCRIPTDIR/storage_lib.sh
. "$(dirname "$0")/storage_lib.sh"
h_begin storage_ns
storage_setup
# Shared, as on a systemd host (these machines mount / private): mounts under
# it reach namespaces made later as slave or private copies.
scratch=$H_TMP/ns
mkdir -p "$scratch"
mount --bind "$scratch" "$scratch" || h_fail "bind $scratch"
mount --make-shared "$scratch"
h_defer umount -l "$scratch"
mnt=$scratch/srv
mkdir -p "$mnt"
h_umount_at_exit "$mnt"
export OCF_RESKEY_directory=$mnt
# The stop budget: the old code waited all of it and failed.
budget=10000

# Alive and not a zombie (the test shell reaps its children only on wait).
# shellcheck disable=SC2317 # called through h_check, which shellcheck does not follow
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
# shellcheck disable=SC2317 # called through h_check
gone() { ! alive "$1"; }
# mounted_anywhere DEV: some mount namespace on this machine has DEV's
# filesystem mounted (by device number, or by source for btrfs's 0:NN).
mounted_anywhere() {
  local majmin
  majmin=$(printf '%d:%d' "0x$(stat -c %t "$1")" "0x$(stat -c %T "$1")")
  cat /proc/[0-9]*/mountinfo 2>/dev/null | awk -v d="$majmin" -v s="$1" '
    $3 == d { found = 1 }
    { for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 2) == s) found = 1; break } }
    END { exit !found }'
}
# shellcheck disable=SC2317 # called through h_check
# released FSTYPE DEV: the kernel has let go of the superblock (no namespace,
# not even one without processes, still has it): /sys/fs/ext4/NAME or
# /sys/fs/btrfs/UUID is gone. Waits up to 2 s for the last reference.
released() {
  local sys
  case $1 in
    ext4) sys=/sys/fs/ext4/${2#/dev/} ;;
    btrfs) sys=/sys/fs/btrfs/$(blkid -s UUID -o value "$2") ;;
  esac
  for _ in $(seq 40); do [ -e "$sys" ] || return 0; sleep 0.05; done
  return 1
}
# bg_in MODE CMD...: CMD in a new mount namespace with MODE propagation, in
# the background; its pid in $bg (unshare and sh exec into CMD).
bg_in() {
  local mode=$1
  shift
  unshare -m --propagation "$mode" "$@" &
  bg=$!
  h_defer kill -KILL "$bg"
}
stop_in_time() {
  timed 0 "$1" env OCF_RESKEY_CRM_meta_timeout=$budget "$agent" stop
  h_check "... well before the deadline (${took} ms < $((budget / 2)))" test "$took" -lt $((budget / 2))
}

# --- (a) ext4, slave namespaces: users found and ended ---------------------
dev=$(h_loop 64 ext4) || h_fail "ext4 loop device"
export OCF_RESKEY_device=$dev
h_expect_rc 0 "(a) start ext4" "$agent" start
echo data >"$mnt/file"
bg_in slave sh -c 'cd "$1" && exec sleep 600' _ "$mnt"
cwd_pid=$bg
bg_in slave sh -c 'exec 3<"$1/file"; cd /; exec sleep 600' _ "$mnt"
file_pid=$bg
sleep 0.3
h_check "(a) the slave namespaces have the mount" grep -q " $mnt " "/proc/$cwd_pid/mountinfo"
h_check "(a) our mount is busy because of them" sh -c "! umount '$mnt' 2>/dev/null"
stop_in_time "(a) stop with users in slave namespaces"
h_match "(a) ... the cwd user found" "sending SIGTERM to $cwd_pid \(sleep, cwd\)" "$H_ERR"
h_match "(a) ... the open file found" "sending SIGTERM to $file_pid \(sleep, open file\)" "$H_ERR"
h_check "(a) ... the cwd user is gone" gone "$cwd_pid"
h_check "(a) ... the open file's user is gone" gone "$file_pid"
kill -KILL "$cwd_pid" "$file_pid" 2>/dev/null
wait "$cwd_pid" "$file_pid" 2>/dev/null
h_check "(a) ... unmounted here" sh -c "! mountpoint -q '$mnt'"
if mounted_anywhere "$dev"; then h_fail "(a) ... still mounted in some namespace"; else h_pass "(a) ... mounted in no namespace"; fi
h_check "(a) ... the filesystem is released" released ext4 "$dev"

# --- (b) ext4, a private namespace that merely has the mount ---------------
h_expect_rc 0 "(b) start ext4" "$agent" start
bg_in private sh -c 'cd /; exec sleep 600'
holder=$bg
sleep 0.3
h_check "(b) the private namespace has the mount" grep -q " $mnt " "/proc/$holder/mountinfo"
stop_in_time "(b) stop with a private copy of the mount"
h_match "(b) ... taken out inside that namespace" "mount namespace of $holder \(sleep\), used by no process: unmounting it there" "$H_ERR"
h_nomatch "(b) ... nobody signalled" "sending SIG" "$H_ERR"
h_check "(b) ... the process in it still runs" alive "$holder"
h_check "(b) ... its namespace no longer has the mount" sh -c "! grep -q ' $mnt ' /proc/$holder/mountinfo"
if mounted_anywhere "$dev"; then h_fail "(b) ... still mounted in some namespace"; else h_pass "(b) ... mounted in no namespace"; fi
h_check "(b) ... the filesystem is released" released ext4 "$dev"
h_expect_rc 0 "(b) stop again is idempotent" "$agent" stop
kill -KILL "$holder"
wait "$holder" 2>/dev/null

# --- (d) ext4, a private namespace that mounted a tmpfs over its copy --------
# The tmpfs sits on our mount point there: it goes first, then our mount; the
# process is left alone. (e) While a process uses that tmpfs, our filesystem
# cannot be released without killing a process that does not use it: stop
# fails in time, with the reason, instead of returning 0.
h_expect_rc 0 "(d) start ext4" "$agent" start
bg_in private sh -c 'mount -t tmpfs cover "$1" && cd / && exec sleep 600' _ "$mnt"
holder=$bg
sleep 0.3
h_check "(d) the private namespace has a tmpfs over its copy" grep -q " $mnt rw[^ ]* - tmpfs " "/proc/$holder/mountinfo"
stop_in_time "(d) stop with a covered private copy"
h_nomatch "(d) ... nobody signalled" "sending SIG" "$H_ERR"
h_check "(d) ... the process in it still runs" alive "$holder"
if mounted_anywhere "$dev"; then h_fail "(d) ... still mounted in some namespace"; else h_pass "(d) ... mounted in no namespace"; fi
h_check "(d) ... the filesystem is released" released ext4 "$dev"
kill -KILL "$holder"
wait "$holder" 2>/dev/null

h_expect_rc 0 "(e) start ext4" "$agent" start
bg_in private sh -c 'mount -t tmpfs cover "$1" && cd "$1" && exec sleep 600' _ "$mnt"
holder=$bg
sleep 0.3
timed 1 "(e) stop with a busy tmpfs over a private copy fails" \
  env OCF_RESKEY_CRM_meta_timeout=3000 "$agent" stop
h_check "(e) ... before the timeout (${took} ms < 3000)" test "$took" -lt 3000
h_match "(e) ... naming the namespace" "mount namespace of $holder \(sleep\)" "$H_REASON$H_ERR"
h_check "(e) ... its process was not killed" alive "$holder"
kill -KILL "$holder"
wait "$holder" 2>/dev/null
h_check "(e) ... released once that process is gone" released ext4 "$dev"

# --- (c) btrfs: a private copy and a slave user -----------------------------
dev=$(h_loop 128 btrfs -f -q) || h_fail "btrfs loop device"
export OCF_RESKEY_device=$dev
h_expect_rc 0 "(c) start btrfs" "$agent" start
h_match "(c) mountinfo shows an anonymous device" "^0:" "$(findmnt -rn -o MAJ:MIN --mountpoint "$mnt")"
bg_in private sh -c 'cd /; exec sleep 600'
holder=$bg
bg_in slave sh -c 'cd "$1" && exec sleep 600' _ "$mnt"
cwd_pid=$bg
sleep 0.3
stop_in_time "(c) stop btrfs with a private copy and a slave user"
h_match "(c) ... the slave user found" "sending SIGTERM to $cwd_pid \(sleep, cwd\)" "$H_ERR"
h_nomatch "(c) ... the private namespace's process not signalled" "sending SIG[A-Z]* to $holder " "$H_ERR"
h_check "(c) ... which still runs" alive "$holder"
h_check "(c) ... and no longer has the mount" sh -c "! grep -q ' $mnt ' /proc/$holder/mountinfo"
if mounted_anywhere "$dev"; then h_fail "(c) ... still mounted in some namespace"; else h_pass "(c) ... mounted in no namespace"; fi
h_check "(c) ... the filesystem is released" released btrfs "$dev"
kill -KILL "$holder" "$cwd_pid" 2>/dev/null
wait "$holder" "$cwd_pid" 2>/dev/null
h_done
