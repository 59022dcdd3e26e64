# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# The preamble every bench/*.sh shares: source it first.
#
#   . "$(dirname "$0")/lib.sh"
#   opt_n=50                                   # defaults of the bench's own options
#   bench_options n: "[-n RUNS]" "$@"          # -b BUILD_DIR, root check
#   bench_harness storage                      # tests/harness/lib.sh: H_TMP, h_defer ...
#   "$MEASURE" -n "$opt_n" --case ...          # bench/measure.py
#
# Benchmarks run as root (namespaces, mounts, loop devices) against the build
# tree in PMMHA_BUILD_DIR (default: build/ in the source tree), and remove
# what they made at exit, through the test harness's clean-up.
set -eu
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_SOURCE=$(cd "$BENCH_DIR/.." && pwd)
# The timing driver: median wall and CPU time of interleaved runs (a command,
# so that in-netns can run it; exit status 3 when a --target is missed).
# shellcheck disable=SC2034 # used by the benches that source this file
MEASURE=$BENCH_DIR/measure.py
# lab/ for in-netns, the one way into a network namespace (see lab/in-netns).
export PATH=$BENCH_SOURCE/lab:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

bench_die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# bench_options SPEC USAGE "$@": getopts over SPEC (the bench's own options)
# and -b BUILD_DIR (everyone's). The value of option -x lands in opt_x: set
# the defaults before. Exports the build tree as PMMHA_BUILD_DIR; checks root.
bench_options() {
  local spec=$1 usage=$2 o OPTIND=1
  shift 2
  while getopts "b:$spec" o; do
    case $o in
      b) PMMHA_BUILD_DIR=$OPTARG ;;
      \?) echo "usage: $0 $usage [-b BUILD_DIR]" >&2; exit 2 ;;
      *) printf -v "opt_$o" %s "$OPTARG" ;;
    esac
  done
  shift $((OPTIND - 1))
  [ $# = 0 ] || { echo "usage: $0 $usage [-b BUILD_DIR]" >&2; exit 2; }
  export PMMHA_BUILD_DIR=${PMMHA_BUILD_DIR:-$BENCH_SOURCE/build}
  [ "$(id -u)" = 0 ] || bench_die "run as root (namespaces, mounts, loop devices)"
}

# bench_need FILE WHAT: FILE must be executable, else say WHAT provides it.
bench_need() {
  [ -x "$1" ] || bench_die "no $1: $2"
}

# bench_harness NAME: the test harness (tests/harness/lib.sh), begun as
# "bench-NAME": H_TMP, h_defer and the clean-up at exit, h_netns, h_agent ...
bench_harness() {
  # shellcheck source=SCRIPTDIR/../tests/harness/lib.sh
  . "$BENCH_SOURCE/tests/harness/lib.sh"
  h_begin "bench-$1"
}

# bench_vip_namespace AGENT: a network namespace (printed into BENCH_NS) with
# a veth pair, both ends inside it (nothing reaches the host's interfaces),
# 198.51.100.1/24 on vb0, and pmm-vip AGENT started with 198.51.100.10/24
# there; the OCF_RESKEY_* of that VIP exported for both agents' monitors.
bench_vip_namespace() {
  BENCH_NS=$(h_netns bench)
  ip -n "$BENCH_NS" link add vb0 type veth peer name vb1
  ip -n "$BENCH_NS" link set vb0 up
  ip -n "$BENCH_NS" link set vb1 up
  ip -n "$BENCH_NS" addr add 198.51.100.1/24 dev vb0
  export OCF_RESOURCE_INSTANCE=bench
  export OCF_RESKEY_ip=198.51.100.10 OCF_RESKEY_nic=vb0 OCF_RESKEY_cidr_netmask=24
  export OCF_RESKEY_CRM_meta_interval=10000 OCF_RESKEY_CRM_meta_timeout=20000
  # The same work as IPaddr2's monitor, which looks for no other holder. The
  # duplicate address probe (run_arping, on by default) adds the 100 ms it
  # waits for an answer, and here it would get one: vb1, in the same
  # namespace, answers ARP for the namespace's addresses.
  export OCF_RESKEY_run_arping=false
  OCF_RESKEY_arp_count=1 in-netns "$BENCH_NS" "$1" start
}

# bench_shm_ext4 SIZE_MB: a directory in /dev/shm (printed into BENCH_TMP)
# with an ext4 image of SIZE_MB on a loop device (BENCH_LOOP): in memory, so
# a depth-20 fsync measures the agents, not the machine's disk. Removed at exit.
bench_shm_ext4() {
  BENCH_TMP=$(mktemp -d /dev/shm/pmmbench-XXXX)
  h_defer rm -rf "$BENCH_TMP"
  truncate -s "$1M" "$BENCH_TMP/disk.img"
  BENCH_LOOP=$(losetup -f --show "$BENCH_TMP/disk.img")
  h_defer losetup -d "$BENCH_LOOP"
  mkfs.ext4 -q -F "$BENCH_LOOP"
}

# bench_plot TSV TITLE XLABEL PLOT [YLABEL]: TSV's curve drawn by gnuplot's PLOT
# command (log scale of milliseconds) into curve.svg and curve.png next to
# it; a note instead when gnuplot is not installed.
bench_plot() {
  local dir term ext
  dir=$(dirname "$1")
  command -v gnuplot >/dev/null || { echo "gnuplot is not installed: no plot"; return 0; }
  for term in "svg size 800,420 dynamic font 'sans,11'" "pngcairo size 800,420 font 'sans,10'"; do
    ext=${term%% *}
    ext=${ext/pngcairo/png}
    gnuplot <<GP
set terminal $term
set output "$dir/curve.$ext"
set title "$2"
set xlabel "$3"
set ylabel "${5:-wall time per monitor, ms}"
set logscale y
set key top left
set grid
set datafile separator "\t"
$4
GP
  done
  echo "plots: $dir/curve.svg, $dir/curve.png"
}
