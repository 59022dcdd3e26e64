#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Each node's own path to the shared LUN (LAB_LUN_PATHS=1), and the stop that
# cannot finish (issue 15): crm-examples/pmm-podman.pcs.sh verbatim in a 3-node
# lab with real fencing, the workload writing through the VIP and the watcher.
#   - the plumbing: every node sees its own block device at one path, all of
#     them the same filesystem;
#   - fs-hung (lab/faults/fs-hung): the active node's path hangs; a monitor
#     notices, pmm-server's stop fails at once (PMM waits for I/O that never
#     ends), the node is fenced, the group starts elsewhere: 0 acknowledged
#     writes lost, never two holders of the disk, PMM or the VIP; the fenced
#     node's path is gone, its new one fresh;
#   - the watcher is not blind to a second mount through another node's path.
# The checks are the ones the fault campaign's runner makes.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_begin cluster-lun
export LAB_FENCING=1 LAB_LUN_PATHS=1
T0=${EPOCHREALTIME/./}
at() { echo "# $(((${EPOCHREALTIME/./} - T0) / 1000000)) s: $*"; }
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
h_lab_start 3 || h_abort "the lab did not start"
h_expect_rc 0 "the shared disk, with a path of its own on every node" lab disk
[ "$H_RC" = 0 ] || h_abort "no shared disk"
h_check "the lab says it has LUN paths (LAB_DIR/lun-paths)" test -e "$LAB_DIR/lun-paths"
lun=/dev/$LAB_NAME-lun/disk
devs='' uuids=''
for k in 1 2 3; do
  devs="$devs $(lab exec "$k" stat -Lc '%t:%T' "$lun" 2>/dev/null)"
  uuids="$uuids $(lab exec "$k" blkid -p -s UUID -o value "$lun" 2>/dev/null)"
done
echo "# device numbers:$devs; UUIDs:$uuids"
h_check "three nodes, three block devices at $lun" test "$(tr ' ' '\n' <<<"$devs" | sort -u | grep -c :)" = 3
h_check "... one filesystem" test "$(tr ' ' '\n' <<<"$uuids" | sort -u | grep -c .)" = 1
at "the lab runs, fencing on, LUN paths on"

h_expect_rc 0 "crm-examples/pmm-podman.pcs.sh applies" lab apply "$H_SOURCE/crm-examples/pmm-podman.pcs.sh"
[ "$H_RC" = 0 ] || h_abort "the example did not apply"
h_expect_rc 0 "PMM answers on the VIP" lab wait-ready 120
[ "$H_RC" = 0 ] || h_abort "PMM did not come up"
h_lab_workload

# healthy K: the group runs on node K, nothing failed or on its way.
# shellcheck disable=SC2317 # called through h_wait_for
healthy() {
  local s r
  s=$(lab exec "$1" crm_mon -1 2>/dev/null) || return 1
  for r in pmm-storage pmm-server pmm-vip; do
    printf '%s\n' "$s" | grep -qE "$r.*Started node$1" || return 1
  done
  ! printf '%s\n' "$s" | grep -qE 'FAILED|blocked|Stopped|Starting|Stopping|OFFLINE|UNCLEAN'
}

# --- fs-hung ---------------------------------------------------------------------
# shellcheck disable=SC2317 # called through h_expect_rc
fault() { PMMLAB=$H_LAB "$H_SOURCE/lab/faults/fs-hung" "$@"; }
a=$(lab where pmm-server)
old=$(lab lun status "$a" | cut -d' ' -f1)
mark=$(wc -l <"$LAB_DIR/bmc.log")
at "fs-hung on node$a ($old)"
h_expect_rc 0 "fs-hung: node$a's path suspended" fault inject "$a"
tf=$(now_ms)
# Detection (the depth-20 monitor: every 61 s, 60 s timeout), the failed
# stop, fencing and the start elsewhere.
if h_wait_for 300 lab workload first-ack "$tf"; then
  ack=$(lab workload first-ack "$tf")
  echo "# failover fs-hung: $((ack - tf)) ms (the fault -> the first acknowledged write sent after it)"
  h_pass "fs-hung: writes are acknowledged again, $((ack - tf)) ms after the fault"
else
  h_fail "fs-hung: no write acknowledged in 300 s"
  lab status 2>&1 | sed 's/^/#   /'
fi
h_expect_rc 0 "fs-hung: heal" fault heal "$a"
h_expect_rc 0 "fs-hung: every node is online again" lab wait-online 120
new=$(lab where pmm-server)
fenced_since_mark() { tail -n +"$((mark + 1))" "$LAB_DIR/bmc.log" | grep -qE "result (off|on) $1: ok"; }
if [ -n "$new" ] && [ "$new" != "$a" ]; then
  h_pass "fs-hung: PMM moved from node$a to node$new"
elif [ "$new" = "$a" ] && fenced_since_mark "$a"; then
  # The lab's BMC powers a fenced node on at once, and it may rejoin before
  # the cluster places the group (when it was the DC, the others elect a new
  # DC first): a new boot, with a fresh path, is as good a place as any.
  h_pass "fs-hung: PMM left node$a's hung path: node$a was fenced, and PMM runs there again on its new boot"
else
  h_fail "fs-hung: PMM moved from node$a to node${new:-?}"
  # Where the cluster started what, as its logs say.
  for k in 1 2 3; do
    grep -hE "Actions: |Result of (start|stop) operation for pmm-(storage|server)|Node node[0-9] state is now|fenc.*(reboot|off)" \
      "$LAB_DIR/node$k/var-log-pacemaker/pacemaker.log" 2>/dev/null | tail -n 40 | cut -c1-220 | sed "s/^/# node$k: /"
  done
fi
h_expect_rc 0 "fs-hung: one healthy instance, on node${new:-?}" h_wait_for 60 healthy "${new:-0}"
h_expect_rc 0 "fs-hung: nothing of PMM on the other nodes" h_lab_clean_elsewhere "${new:-0}"
export FAULT_T0_MS=$tf FAULT_BMC_MARK=$mark
h_expect_rc 0 "fs-hung: check (node$a was fenced)" fault check "$a"
tail -n +"$((mark + 1))" "$LAB_DIR/bmc.log" | sed 's/^/# bmc.log: /'
stop_reason=$(grep -h "pmm-server_stop_0.*ocf-exit-reason" "$LAB_DIR/node$a/var-log-pacemaker/pacemaker.log" | tail -n 1)
echo "# node$a: ${stop_reason:-no failed stop logged}"
h_match "fs-hung: pmm-server's stop failed at once, saying why" "wait for I/O.*must be fenced" "$stop_reason"
h_match "fs-hung: node$a has a fresh path" "^/dev/loop[0-9]+ ok$" "$(lab lun status "$a")"
h_expect_rc 0 "fs-hung: every acknowledged write is in PMM's log (0 lost)" lab verify
echo "# $H_OUT"
h_expect_rc 0 "the workload stops" lab workload stop
echo "# workload: $H_OUT"
h_expect_rc 0 "the watcher saw no double mount, no two PMMs, no two VIPs" lab watch stop
printf '%s\n' "$H_OUT" | sed 's/^/# watch: /'

# --- the watcher sees a mount through another node's own path -------------------------
k=$(lab where pmm-server)
p=$((${k:-1} % 3 + 1))
lab watch start 50 >/dev/null 2>&1
mkdir -p "$H_TMP/second"
# Read-only without the journal: two kernels' worth of superblocks on one
# LUN, so this one must not write.
h_expect_rc 0 "node$p mounts its own path read-only" lab exec "$p" mount -o ro,noload "$lun" "$H_TMP/second"
sleep 0.5
lab exec "$p" umount "$H_TMP/second"
h_expect_rc 1 "the watcher reports the disk on two nodes" lab watch stop
h_match "... as a disk violation" "^disk violations [1-9]" "$H_OUT"
at "done"
h_done
