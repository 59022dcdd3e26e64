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

timed 0 "stop frees a busy mount" env HA_debug=1 OCF_RESKEY_CRM_meta_timeout=20000 OCF_RESKEY_term_grace=25 "$agent" stop
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
h_match "... a quiet host searched through /proc" "searching its users with /proc \(no BPF iterators: [0-9]+ processes, fewer than 500" "$H_ERR"
wait 2>/dev/null

# A busy host (600 more processes, 20 open files each): the kernel's task and
# file tables (BPF iterators) name the users instead of /proc, each way of
# using the mount, and nobody else.
holders=$(h_agent fd-holders)
coproc HOLDERS { "$holders" 600 20; }
h_defer kill -TERM "$HOLDERS_PID"
read -r ready <&"${HOLDERS[0]}"
h_check "600 processes with 20 open files each" test "$ready" = ready
h_expect_rc 0 "start on a busy host" "$agent" start
cp /bin/sleep "$mnt/sleep-on-srv"
sh -c 'cd "$1" && exec sleep 600' _ "$mnt" &
cwd_pid=$!; h_defer_kill $cwd_pid
sh -c 'exec 3<"$1/file"; cd /; exec sleep 600' _ "$mnt" &
file_pid=$!; h_defer_kill $file_pid
sh -c 'cd / && exec "$1/sleep-on-srv" 600' _ "$mnt" &
exe_pid=$!; h_defer_kill $exe_pid
sleep 0.3
timed 0 "busy host: stop frees a busy mount" env HA_debug=1 OCF_RESKEY_CRM_meta_timeout=20000 "$agent" stop
h_match "... searched through the kernel's tables" "searching its users with the kernel's task and file tables \(BPF iterators, [0-9]+ processes, [0-9]+ open files\)" "$H_ERR"
h_match "... the cwd found" "sending SIGTERM to $cwd_pid \(sleep, cwd\)" "$H_ERR"
h_match "... the open file found" "sending SIGTERM to $file_pid \(sleep, open file\)" "$H_ERR"
h_match "... the executable found" "sending SIGTERM to $exe_pid \(sleep-on-srv, executable\)" "$H_ERR"
h_check "... exactly those three signalled" test "$(grep -c 'sending SIG' <<<"$H_ERR")" = 3
h_check "... unmounted" sh -c "! mountpoint -q '$mnt'"
wait $cwd_pid $file_pid $exe_pid 2>/dev/null

# Without the BPF iterators (a kernel without BTF, hidden here in a private
# mount namespace that holds the whole scene), /proc finds the users instead.
cat >"$H_TMP/no-btf.sh" <<'SCENE'
set -e
mount --bind /dev/null /sys/kernel/btf/vmlinux
"$1" start
sh -c 'exec 3<"$1/file"; cd /; exec sleep 600' _ "$OCF_RESKEY_directory" &
user=$!
sleep 0.2
rc=0
HA_debug=1 OCF_RESKEY_CRM_meta_timeout=20000 "$1" stop || rc=$?
echo "stop rc=$rc"
if kill -0 $user 2>/dev/null; then echo "user alive"; kill -KILL $user; else echo "user gone"; fi
if mountpoint -q "$OCF_RESKEY_directory"; then echo "still mounted"; umount "$OCF_RESKEY_directory"; fi
# 120,000 more open files: reading every fdinfo takes longer than the stop's
# last look at the users (0.3 s) may; the reason says how far it got.
"$1" start
sh -c 'cd "$1" && exec sleep 600' _ "$OCF_RESKEY_directory" &
user=$!
coproc MORE { "$2" 600 200; }
read -r _ <&"${MORE[0]}"
rc=0
OCF_RESKEY_CRM_meta_timeout=1500 OCF_RESKEY_force_unmount=false "$1" stop || rc=$?
echo "short stop rc=$rc"
kill -KILL $user
more_in=${MORE[1]}
exec {more_in}>&-
wait "$MORE_PID" || true
"$1" stop
SCENE
unshare -m --propagation private bash "$H_TMP/no-btf.sh" "$agent" "$holders" >"$H_TMP/no-btf.out" 2>&1 || true
no_btf=$(cat "$H_TMP/no-btf.out")
h_match "busy host without BTF: the stop succeeds" "^stop rc=0$" "$no_btf"
h_match "... the user of an open file ended" "^user gone$" "$no_btf"
h_nomatch "... and the mount gone" "^still mounted$" "$no_btf"
h_match "... searched through /proc, saying why" "searching its users with /proc \(no BPF iterators: .*BTF" "$no_btf"
h_match "... the open file found" "sending SIGTERM to [0-9]+ \(sleep, open file\)" "$no_btf"
h_match "... a search that cannot finish in time fails the stop" "^short stop rc=1$" "$no_btf"
h_match "... saying how far it got" "the search for its users was cut short after [0-9]+ of [0-9]+ processes" "$no_btf"
holders_in=${HOLDERS[1]}
exec {holders_in}>&-
wait "$HOLDERS_PID" 2>/dev/null

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
