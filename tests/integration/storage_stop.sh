#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pmm-storage stop on a busy mount: a process with its cwd inside, one with an
# open file, one that ignores SIGTERM, one with a memory map, and one in
# another mount namespace that still holds the filesystem: all gone and the
# device unmounted everywhere within the stop budget. With
# force_unmount=false nobody is killed and the stop fails in time.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
# shellcheck source=SCRIPTDIR/storage_lib.sh
. "$(dirname "$0")/storage_lib.sh"
h_begin storage_stop
storage_setup
h_umount_at_exit "$mnt"
dev=$(h_loop 64 ext4) || h_fail "loop device"
export OCF_RESKEY_device=$dev OCF_RESKEY_directory=$mnt

pids=()
h_defer_kill() { h_defer kill -KILL "$1"; pids+=("$1"); }
# Alive and not a zombie (the test shell reaps its children only on wait).
# shellcheck disable=SC2317 # called through h_check, which shellcheck does not follow
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
# The device is mounted in some mount namespace on this machine.
mounted_anywhere() {
  local majmin
  majmin=$(printf '%d:%d' "0x$(stat -c %t "$dev")" "0x$(stat -c %T "$dev")")
  cat /proc/[0-9]*/mountinfo 2>/dev/null | awk -v d="$majmin" '$3 == d {found=1} END {exit !found}'
}

h_expect_rc 0 "start" "$agent" start
echo data >"$mnt/file"
head -c 65536 /dev/zero >"$mnt/mapped"

sh -c 'cd "$1" && exec sleep 600' _ "$mnt" &
cwd_pid=$!; h_defer_kill $cwd_pid
sh -c 'exec 3<"$1/file"; cd /; exec sleep 600' _ "$mnt" &
file_pid=$!; h_defer_kill $file_pid
sh -c 'trap "" TERM; cd "$1" && exec sleep 600' _ "$mnt" &
stubborn_pid=$!; h_defer_kill $stubborn_pid
python3 -c '
# mmap(2) by hand and close the descriptor: only the mapping is left
# (Python'"'"'s mmap module would keep a dup of the descriptor open).
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
fd = os.open(sys.argv[1], os.O_RDONLY)
addr = libc.mmap(None, 65536, 1, 1, fd, 0)  # PROT_READ, MAP_SHARED
assert addr not in (None, ctypes.c_void_p(-1).value)
os.close(fd)
os.chdir("/")
print("mapped", flush=True)
time.sleep(600)' "$mnt/mapped" >"$H_TMP/mapper.out" &
map_pid=$!; h_defer_kill $map_pid
for _ in $(seq 100); do grep -q mapped "$H_TMP/mapper.out" 2>/dev/null && break; sleep 0.05; done
sleep 0.2
h_check "the mount is busy" sh -c "! umount '$mnt' 2>/dev/null"

timed 0 "stop frees a busy mount" env OCF_RESKEY_CRM_meta_timeout=20000 OCF_RESKEY_term_grace=25 "$agent" stop
h_check "... within the stop budget (${took} ms < 20000)" test "$took" -lt 20000
h_check "... unmounted" sh -c "! mountpoint -q '$mnt'"
for p in cwd_pid file_pid stubborn_pid map_pid; do
  h_check "... the ${p%_pid} user is gone" sh -c "! { [ -e /proc/${!p} ] && ! grep -q '^State:.*Z' /proc/${!p}/status; }"
done
h_match "... SIGTERM first" "sending SIGTERM to $cwd_pid \(sleep, cwd\)" "$H_ERR"
h_match "... an open file found" "sending SIGTERM to $file_pid \(sleep, open file\)" "$H_ERR"
h_match "... a memory map found" "sending SIGTERM to $map_pid \(python3, memory map\)" "$H_ERR"
h_match "... SIGKILL for the one that ignores SIGTERM" "sending SIGKILL to $stubborn_pid" "$H_ERR"
h_nomatch "... SIGKILL for nobody else" "sending SIGKILL to ($cwd_pid|$file_pid|$map_pid)" "$H_ERR"
wait 2>/dev/null

# force_unmount=false: nobody is killed, the stop fails before its timeout.
h_expect_rc 0 "start" "$agent" start
sh -c 'cd "$1" && exec sleep 600' _ "$mnt" &
user=$!; h_defer_kill $user
sleep 0.2
timed 1 "force_unmount=false: a busy mount fails the stop" \
  env OCF_RESKEY_CRM_meta_timeout=4000 OCF_RESKEY_force_unmount=false "$agent" stop
h_check "... before the timeout (${took} ms < 4000)" test "$took" -lt 4000
h_match "... naming the user" "still used by $user \(sleep: cwd\) \(force_unmount=false\)" "$H_REASON"
h_check "... which still runs" alive $user
h_check "... and the mount stays" mountpoint -q "$mnt"
kill -KILL $user; wait $user 2>/dev/null

# A mount namespace made while we ran keeps the filesystem after our unmount:
# stop takes the mount out inside it; its process, which does not use the
# filesystem, is left alone (tests/integration/storage_ns.sh has more).
unshare -m --propagation private sleep 600 &
holder=$!; h_defer_kill $holder
sleep 0.3
h_expect_rc 0 "stop with a holder in another mount namespace" \
  env OCF_RESKEY_CRM_meta_timeout=20000 "$agent" stop
h_match "... the holder's mount was taken out" "mount namespace of $holder \(sleep\), used by no process: unmounting it there" "$H_ERR"
h_check "... and the holder not killed" alive $holder
kill -KILL $holder; wait $holder 2>/dev/null
if mounted_anywhere; then h_fail "... the device is still mounted somewhere"; else h_pass "... and the device is mounted nowhere"; fi
h_expect_rc 0 "stop again is idempotent" "$agent" stop
h_done
