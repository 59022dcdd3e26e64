#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark: the cost of a depth-0 mount monitor as the host's mounts grow.
# ocf:heartbeat:Filesystem's monitor against pmm-storage's on one ext4 loop
# mount, with N more tmpfs mounts on the host, for every N of COUNTS, in the
# same run. Runs in a private mount namespace of its own: the extra mounts
# never reach the host's.
#
#   bench/storage_curve.sh [-n RUNS] [-c COUNTS] [-o DIR]   (root; default 40
#                                                          runs, COUNTS 0,1000,3000)
#
# Prints, per count, the medians (bench/measure.py) and the ratio, and which
# way pmm-storage's monitor checked the mount: statmount(2) on the mount
# start recorded (Linux 6.8+), or the whole mount table (older kernels), and
# what the table costs (the same monitor with a record without the ID);
# writes DIR/curve.tsv and, with gnuplot, DIR/curve.svg and DIR/curve.png.
# Default DIR: bench/results/storage-curve.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
if [ "${BENCH_PRIVATE_MOUNTS:-}" != 1 ]; then
  BENCH_PRIVATE_MOUNTS=1 exec unshare -m --propagation private "$0" "$@"
fi
opt_n=40
opt_c=0,1000,3000
opt_o=$BENCH_SOURCE/bench/results/storage-curve
bench_options n:c:o: "[-n RUNS] [-c COUNTS] [-o DIR]" "$@"
agent=$PMMHA_BUILD_DIR/agents/pmm-storage
heartbeat=/usr/lib/ocf/resource.d/heartbeat/Filesystem
bench_need "$agent" "build the pmm-storage target"
bench_need "$heartbeat" "install resource-agents"
bench_harness storage-curve
h_ocf_env

bench_shm_ext4 64
tmp=$BENCH_TMP loop=$BENCH_LOOP
mkdir "$tmp/mnt" "$tmp/many"
h_umount_at_exit "$tmp/mnt"
h_defer h_umount_below "$tmp/many"
export OCF_RESOURCE_INSTANCE=bench
export OCF_RESKEY_device="$loop" OCF_RESKEY_directory="$tmp/mnt" OCF_RESKEY_fstype=ext4
export OCF_RESKEY_CRM_meta_interval=20000 OCF_RESKEY_CRM_meta_timeout=40000
"$agent" start 2>/dev/null
h_defer "$agent" stop
# The same record without the unique mount ID, in a state directory of its
# own: the monitor of an older kernel, which reads the mount table.
mkdir "$tmp/rsc-table"
grep -v '^unique_id=' "$HA_RSCTMP/pmm-storage-bench.mount" >"$tmp/rsc-table/pmm-storage-bench.mount"

# grow_to N: N tmpfs mounts under tmp/many (a host running containers has
# thousands).
have=0
grow_to() {
  local i
  for ((i = have; i < $1; i++)); do
    mkdir -p "$tmp/many/$i"
    mount -t tmpfs -o size=64k "pmmbench$i" "$tmp/many/$i"
  done
  have=$1
}

mkdir -p "$opt_o"
tsv="$opt_o/curve.tsv"
printf '# mounts\tFilesystem wall ms\tFilesystem cpu ms\tpmm-storage wall ms\tpmm-storage cpu ms\tratio wall\tpath\tpmm-storage by the table wall ms\n' >"$tsv"
printf '%-8s %15s %15s %8s  %-16s %s\n' mounts "Filesystem ms" "pmm-storage ms" ratio "checked by" \
  "(by the table: ms)"
IFS=, read -ra counts <<<"$opt_c"
for n in "${counts[@]}"; do
  grow_to "$n"
  mounts=$(wc -l </proc/self/mountinfo)
  if HA_debug=1 "$agent" monitor 2>&1 | grep -q '(statmount)'; then
    path="statmount(2)"
  else
    path="the mount table"
  fi
  out=$("$MEASURE" -n "$opt_n" --warmup 1 --expect-rc 0 \
    --case "Filesystem" "$heartbeat" monitor --case "pmm-storage" "$agent" monitor \
    --case "table" HA_RSCTMP="$tmp/rsc-table" "$agent" monitor)
  read -r _ fw fc _ <<<"$(grep '^Filesystem ' <<<"$out")"
  read -r _ ow oc _ <<<"$(grep '^pmm-storage ' <<<"$out")"
  read -r _ tw _ <<<"$(grep '^table ' <<<"$out")"
  ratio=$(awk -v a="$fw" -v b="$ow" 'BEGIN { printf "%.1f", a / b }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mounts" "$fw" "$fc" "$ow" "$oc" "$ratio" "$path" "$tw" \
    >>"$tsv"
  printf '%-8s %15s %15s %7sx  %-16s %s\n' "$mounts" "$fw" "$ow" "$ratio" "$path" "$tw"
done
echo "curve: $tsv (kernel $(uname -r))"

bench_plot "$tsv" "Mount monitor, depth 0: cost against the mounts on the host (median of $opt_n)" \
  "mounts in /proc/self/mountinfo" \
  "plot \"$tsv\" using 1:2 with linespoints lw 2 title \"ocf:heartbeat:Filesystem\", \
     \"$tsv\" using 1:4 with linespoints lw 2 title \"ocf:percona:pmm-storage\", \
     \"$tsv\" using 1:8 with linespoints lw 2 dt 2 title \"pmm-storage reading the mount table (kernels before 6.8)\""
