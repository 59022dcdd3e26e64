#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark: the stop of a busy mount as the host's processes and open files
# grow. ocf:heartbeat:Filesystem's stop against pmm-storage's on one ext4
# loop mount used by 3 processes (a cwd, two open files), with N more
# processes holding FILES open files each (none on the mount), for every N of
# COUNTS, in the same run. pmm-storage runs twice: as installed (from 500
# processes on, the kernel's BPF iterators list every process and open file;
# below that /proc is quicker) and as on a kernel without BTF (hidden for that
# case: /proc and each process's fdinfo are read). Runs in a private mount
# namespace of its own.
#
#   bench/storage_stop_curve.sh [-n RUNS] [-c COUNTS] [-f FILES] [-o DIR]
#                               (root; default 5 runs, COUNTS 0,1000,5000, 50 files)
#
# Prints, per count, the median stop times and the ratio; writes
# DIR/curve.tsv and, with gnuplot, DIR/curve.svg and DIR/curve.png.
# Default DIR: bench/results/storage-stop-curve.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
if [ "${BENCH_PRIVATE_MOUNTS:-}" != 1 ]; then
  BENCH_PRIVATE_MOUNTS=1 exec unshare -m --propagation private "$0" "$@"
fi
opt_n=5
opt_c=0,1000,5000
opt_f=50
opt_o=$BENCH_SOURCE/bench/results/storage-stop-curve
bench_options n:c:f:o: "[-n RUNS] [-c COUNTS] [-f FILES] [-o DIR]" "$@"
agent=$PMMHA_BUILD_DIR/agents/pmm-storage
holders=$PMMHA_BUILD_DIR/tests/fd-holders
heartbeat=/usr/lib/ocf/resource.d/heartbeat/Filesystem
bench_need "$agent" "build the pmm-storage target"
bench_need "$holders" "build the fd-holders target"
bench_need "$heartbeat" "install resource-agents"
bench_harness storage-stop-curve
h_ocf_env

bench_shm_ext4 64
tmp=$BENCH_TMP loop=$BENCH_LOOP
mkdir "$tmp/mnt"
h_umount_at_exit "$tmp/mnt"
mount "$loop" "$tmp/mnt" && echo data >"$tmp/mnt/file" && umount "$tmp/mnt"
export OCF_RESOURCE_INSTANCE=bench
export OCF_RESKEY_device="$loop" OCF_RESKEY_directory="$tmp/mnt" OCF_RESKEY_fstype=ext4
export OCF_RESKEY_CRM_meta_timeout=60000

# stop_once CASE: starts CASE's agent, three users on the mount, and prints
# the stop's wall time in ms; fails when the stop fails or leaves anything.
stop_once() {
  local start end rc=0 users=() p
  case $1 in
    Filesystem) "$heartbeat" start >/dev/null 2>&1 ;;
    *) "$agent" start 2>/dev/null ;;
  esac || bench_die "$1: start failed"
  sh -c 'cd "$1" && exec sleep 600' _ "$tmp/mnt" & users+=($!)
  sh -c 'exec 3<"$1/file"; cd /; exec sleep 600' _ "$tmp/mnt" & users+=($!)
  sh -c 'exec 4<"$1/file"; cd /; exec sleep 600' _ "$tmp/mnt" & users+=($!)
  sleep 0.3
  start=$(date +%s%N)
  case $1 in
    Filesystem) "$heartbeat" stop >/dev/null 2>&1 || rc=$? ;;
    pmm-storage) HA_debug=1 "$agent" stop 2>"$tmp/stop.log" || rc=$? ;;
    fdinfo) HA_debug=1 "$agent" stop 2>"$tmp/stop.log" || rc=$? ;;
  esac
  end=$(date +%s%N)
  [ "$rc" = 0 ] || bench_die "$1: stop failed (rc $rc)"
  ! mountpoint -q "$tmp/mnt" || bench_die "$1: still mounted after its stop"
  for p in "${users[@]}"; do
    wait "$p" 2>/dev/null
    ! kill -0 "$p" 2>/dev/null || bench_die "$1: user $p alive after the stop"
  done
  echo $(((end - start) / 1000000))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

mkdir -p "$opt_o"
tsv="$opt_o/curve.tsv"
printf '# processes\topen files\tFilesystem ms\tpmm-storage ms\tratio\tpmm-storage without BTF ms\tsearched with\n' >"$tsv"
printf '%-10s %-11s %14s %15s %8s %17s  %s\n' processes "open files" "Filesystem ms" "pmm-storage ms" ratio \
  "(without BTF ms)" "searched with"
IFS=, read -ra counts <<<"$opt_c"
for n in "${counts[@]}"; do
  coproc HOLDERS { "$holders" "$n" "$opt_f"; }
  read -r ready <&"${HOLDERS[0]}"
  [ "$ready" = ready ] || bench_die "fd-holders $n $opt_f did not start"
  procs=$(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)
  files=$(find /proc/[0-9]*/fd -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  declare -A times=()
  for ((run = 0; run < opt_n; run++)); do
    for c in Filesystem pmm-storage fdinfo; do
      if [ "$c" = fdinfo ]; then mount --bind /dev/null /sys/kernel/btf/vmlinux; fi
      t=$(stop_once "$c")
      if [ "$c" = fdinfo ]; then umount /sys/kernel/btf/vmlinux; fi
      [ -n "$t" ] || bench_die "$c: no time"
      times[$c]+="$t "
      if [ "$c" = pmm-storage ]; then
        if grep -q "with the kernel's task and file tables" "$tmp/stop.log"; then
          path="BPF iterators"
        else
          path="/proc"
        fi
      fi
      if [ "$c" = fdinfo ] && ! grep -q 'with /proc (no BPF iterators: ' "$tmp/stop.log"; then
        bench_die "the case without BTF did not read /proc: $(grep -m1 'searching its users' "$tmp/stop.log")"
      fi
    done
  done
  holders_in=${HOLDERS[1]}
  exec {holders_in}>&-
  wait "$HOLDERS_PID" 2>/dev/null
  fs=$(tr ' ' '\n' <<<"${times[Filesystem]}" | grep . | median)
  ours=$(tr ' ' '\n' <<<"${times[pmm-storage]}" | grep . | median)
  fdinfo=$(tr ' ' '\n' <<<"${times[fdinfo]}" | grep . | median)
  unset times
  ratio=$(awk -v a="$fs" -v b="$ours" 'BEGIN { printf "%.1f", a / (b > 0 ? b : 1) }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$procs" "$files" "$fs" "$ours" "$ratio" "$fdinfo" "$path" >>"$tsv"
  printf '%-10s %-11s %14s %15s %7sx %17s  %s\n' "$procs" "$files" "$fs" "$ours" "$ratio" "$fdinfo" "$path"
done
echo "curve: $tsv (kernel $(uname -r), median of $opt_n stops each)"

bench_plot "$tsv" "Stop of a busy mount: time against the open files on the host (median of $opt_n)" \
  "open files on the host" \
  "plot \"$tsv\" using 2:3 with linespoints lw 2 title \"ocf:heartbeat:Filesystem\", \
     \"$tsv\" using 2:4 with linespoints lw 2 title \"ocf:percona:pmm-storage\", \
     \"$tsv\" using 2:6 with linespoints lw 2 dt 2 title \"pmm-storage reading /proc (kernels without BTF)\"" \
  "wall time per stop, ms"
