#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark: the cost of a VIP monitor as the host's addresses grow.
# ocf:heartbeat:IPaddr2's monitor against pmm-vip's on one address, in a
# network namespace that also holds N veth interfaces with 10 addresses
# each, for every N of COUNTS, in the same run.
#
#   bench/vip_curve.sh [-n RUNS] [-c COUNTS] [-o DIR]   (root; default 40 runs,
#                                                      COUNTS 0,20,100,200)
#
# Prints, per count, the medians (bench/measure.py: wall time around
# spawn..wait4, CPU time of the agent and every process it waited for) and
# the ratio IPaddr2 / pmm-vip; writes the curve to DIR/curve.tsv and, with
# gnuplot, DIR/curve.svg and DIR/curve.png (cost per monitor against the
# count of addresses). Default DIR: bench/results/vip-curve. Nothing leaves
# the namespace: the veths have both ends inside it.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
opt_n=40
opt_c=0,20,100,200
opt_o=$BENCH_SOURCE/bench/results/vip-curve
bench_options n:c:o: "[-n RUNS] [-c COUNTS] [-o DIR]" "$@"
agent=$PMMHA_BUILD_DIR/agents/pmm-vip
ipaddr2=/usr/lib/ocf/resource.d/heartbeat/IPaddr2
bench_need "$agent" "build the pmm-vip target first"
bench_need "$ipaddr2" "install resource-agents"
bench_harness vip-curve
h_ocf_env

bench_vip_namespace "$agent"
ns=$BENCH_NS

# grow_to N: N interfaces (veth pairs, both ends in the namespace) with 10
# addresses each, 10.X.Y.Z: far from the VIP's subnet.
have=0
grow_to() {
  local i j a batch
  batch=$(mktemp)
  for ((i = have; i < $1; i += 2)); do
    echo "link add c$i type veth peer name c$((i + 1))"
    echo "link set c$i up"
    echo "link set c$((i + 1)) up"
    for j in $i $((i + 1)); do
      for ((a = 1; a <= 10; a++)); do
        echo "addr add 10.$((j / 250)).$((j % 250)).$a/32 dev c$j"
      done
    done
  done >"$batch"
  ip -n "$ns" -batch "$batch"
  rm -f "$batch"
  have=$1
}

mkdir -p "$opt_o"
tsv="$opt_o/curve.tsv"
printf '# interfaces\taddresses\tIPaddr2 wall ms\tIPaddr2 cpu ms\tpmm-vip wall ms\tpmm-vip cpu ms\tratio wall\n' >"$tsv"
printf '%-11s %-10s %14s %14s %8s\n' interfaces addresses "IPaddr2 ms" "pmm-vip ms" ratio
IFS=, read -ra counts <<<"$opt_c"
for n in "${counts[@]}"; do
  [ $((n % 2)) = 0 ] || bench_die "COUNTS: even numbers (veth pairs): $n"
  grow_to "$n"
  addrs=$(in-netns "$ns" ip -o -4 addr show | wc -l)
  out=$(in-netns "$ns" "$MEASURE" -n "$opt_n" --warmup 1 --expect-rc 0 \
    --case "IPaddr2" "$ipaddr2" monitor --case "pmm-vip" "$agent" monitor)
  read -r _ iw ic _ <<<"$(grep '^IPaddr2 ' <<<"$out")"
  read -r _ ow oc _ <<<"$(grep '^pmm-vip ' <<<"$out")"
  ifaces=$(in-netns "$ns" ip -o link show | wc -l)
  ratio=$(awk -v a="$iw" -v b="$ow" 'BEGIN { printf "%.1f", a / b }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ifaces" "$addrs" "$iw" "$ic" "$ow" "$oc" "$ratio" >>"$tsv"
  printf '%-11s %-10s %14s %14s %7sx\n' "$ifaces" "$addrs" "$iw" "$ow" "$ratio"
done
echo "curve: $tsv"

bench_plot "$tsv" "VIP monitor: cost against the addresses in the namespace (median of $opt_n)" \
  "IPv4 addresses (10 per interface)" \
  "plot \"$tsv\" using 2:3 with linespoints lw 2 title \"ocf:heartbeat:IPaddr2\", \
     \"$tsv\" using 2:5 with linespoints lw 2 title \"ocf:percona:pmm-vip\""
