#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Monitor cost of pmm-storage against ocf:heartbeat:Filesystem on the same
# mount, in the same run: depth 0 and depth 20, N runs each, interleaved so
# that machine load hits both alike. Prints medians of wall and CPU time
# (the agent and every process it waited for, from wait4's rusage) and the
# ratios against the issue's targets (depth 0: 1/20, depth 20: 1/10); exit
# status 3 when one is missed.
#
#   bench/storage_monitor.sh [-n RUNS] [-b BUILD_DIR]
#
# Creates its own image, loop device and mount point; removes them at exit.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
opt_n=200
bench_options n: "[-n RUNS]" "$@"
agent=$PMMHA_BUILD_DIR/agents/pmm-storage
heartbeat=/usr/lib/ocf/resource.d/heartbeat/Filesystem
bench_need "$agent" "build the pmm-storage target"
bench_need "$heartbeat" "install resource-agents"
bench_harness storage
h_ocf_env

bench_shm_ext4 128
tmp=$BENCH_TMP loop=$BENCH_LOOP
mkdir "$tmp/mnt"
h_umount_at_exit "$tmp/mnt"

export OCF_RESOURCE_INSTANCE=bench
export OCF_RESKEY_device="$loop" OCF_RESKEY_directory="$tmp/mnt" OCF_RESKEY_fstype=ext4
export OCF_RESKEY_CRM_meta_interval=20000 OCF_RESKEY_CRM_meta_timeout=40000
"$agent" start 2>/dev/null

# monitor_at DEPTH TARGET: both monitors at OCF_CHECK_LEVEL DEPTH; ours must
# cost at most 1/TARGET of Filesystem's.
monitor_at() {
  echo "== monitor at depth $1"
  "$MEASURE" -n "$opt_n" --expect-rc 0 --target "pmm-storage=$2" \
    --case "heartbeat Filesystem" OCF_CHECK_LEVEL="$1" "$heartbeat" monitor \
    --case "pmm-storage" OCF_CHECK_LEVEL="$1" "$agent" monitor
}
rc=0
monitor_at 0 20 || rc=$?
monitor_at 20 10 || rc=$?
"$agent" stop 2>/dev/null
exit $rc
