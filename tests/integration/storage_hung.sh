#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pmm-storage on a hung filesystem: a FUSE filesystem (tests/fixtures/hang_fs)
# whose operations block forever on demand, bind-mounted as the resource.
# Depth 0 never touches it and stays fast; depths 10 and 20 fail before the
# operation deadline instead of hanging; stop still unmounts.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
# shellcheck source=SCRIPTDIR/storage_lib.sh
. "$(dirname "$0")/storage_lib.sh"
h_begin storage_hung
storage_setup
hang_fs=$(h_agent hang_fs)
grep -qw fuse /proc/filesystems || h_skip "the kernel has no FUSE"

fuse=$H_TMP/fuse
flag=$H_TMP/hang
mkdir -p "$fuse"
"$hang_fs" "$flag" "$fuse" 2>"$H_TMP/hang_fs.log" &
fs_pid=$!
# Clean-up runs last-registered first: release the hang, then unmount, then
# stop the filesystem process.
h_defer kill -KILL "$fs_pid"
h_defer umount -l "$fuse"
h_umount_at_exit "$mnt"
h_defer rm -f "$flag"
for _ in $(seq 100); do mountpoint -q "$fuse" && break; sleep 0.05; done
if ! mountpoint -q "$fuse"; then
  h_fail "hang_fs mounted"
  h_done
fi

export OCF_RESKEY_device=$fuse/data OCF_RESKEY_directory=$mnt
export OCF_RESKEY_CRM_meta_interval=20000 OCF_RESKEY_CRM_meta_timeout=3000
h_expect_rc 0 "start: bind mount of the FUSE directory" "$agent" start
for depth in 0 10 20; do
  h_expect_rc 0 "healthy: monitor depth $depth" env OCF_CHECK_LEVEL=$depth "$agent" monitor
done

touch "$flag"
timed 0 "hung: depth 0 does not touch the filesystem" env OCF_CHECK_LEVEL=0 "$agent" monitor
h_check "... and answers at once (${took} ms)" test "$took" -lt 1000
for depth in 10 20; do
  timed 1 "hung: depth $depth fails" env OCF_CHECK_LEVEL=$depth "$agent" monitor
  h_check "... before the 3 s operation timeout (${took} ms)" test "$took" -lt 3000
  h_match "... saying where it hung" "no answer within [0-9]+ ms .*\(stuck in stat of '$mnt'\)" "$H_REASON"
done
h_expect_rc 0 "hung: the probe still sees it mounted" env OCF_RESKEY_CRM_meta_interval=0 "$agent" monitor

# The killed checks wait in the kernel for FUSE's answer (D state) and keep
# the mount busy: a bind mount may then be detached (its source stays in use
# anyway); a block device would fail the stop and get the node fenced.
timed 0 "hung: stop unmounts the bind mount" "$agent" stop
h_check "... in time (${took} ms)" test "$took" -lt 3000
h_match "... detaching it as the last resort" "detached the bind mount" "$H_ERR"
h_check "... and it is gone" sh -c "! mountpoint -q '$mnt'"

rm -f "$flag"
# Once the filesystem answers again the abandoned checks end.
checks_left() {
  local p n=0
  for p in $(pgrep -f -- "$agent"); do
    grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null || n=$((n + 1))
  done
  echo $n
}
for _ in $(seq 40); do [ "$(checks_left)" = 0 ] && break; sleep 0.05; done
h_check "the abandoned check processes end when the filesystem answers" test "$(checks_left)" = 0
h_done
