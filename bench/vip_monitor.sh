#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark: the monitor of ocf:heartbeat:IPaddr2 against pmm-vip's, on the
# same address in the same network namespace, in the same run.
#
#   bench/vip_monitor.sh [-n RUNS] [-b BUILD_DIR]      (root; default 200 runs)
#
# Creates a namespace with a veth pair (both ends inside it, nothing reaches
# the host's interfaces), puts 198.51.100.10/24 on one end with pmm-vip, and
# runs both monitors RUNS times each, interleaved so that both see the same
# machine load, with bench/measure.py inside the namespace: wall time around
# spawn..wait4, CPU time (user + sys) from wait4's rusage, which includes
# every process the agent waited for (IPaddr2 forks ip, grep, awk, ...).
# Prints medians and the ratios; exit status 3 when pmm-vip's monitor takes
# more than 1/20 of IPaddr2's wall time.
#
# IPaddr2 runs inside the namespace rather than with its own
# network_namespace parameter: that re-executes it under "ip netns exec",
# which would add a remount of /sys to its figures. pmm-vip is measured both
# ways (inside, and from outside with network_namespace=). Two floor rows
# show what exec and loading cost on the machine at that moment: the
# figures move with the load of a shared machine, the ratios much less.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
opt_n=200
bench_options n: "[-n RUNS]" "$@"
agent=$PMMHA_BUILD_DIR/agents/pmm-vip
ipaddr2=/usr/lib/ocf/resource.d/heartbeat/IPaddr2
bench_need "$agent" "build the pmm-vip target first"
bench_need "$ipaddr2" "install resource-agents"
bench_harness vip
h_ocf_env

bench_vip_namespace "$agent"
ns=$BENCH_NS

in-netns "$ns" "$MEASURE" -n "$opt_n" --warmup 1 --expect-rc 0 --wall-target "pmm-vip monitor=20" \
  --case "IPaddr2 monitor" "$ipaddr2" monitor \
  --case "pmm-vip monitor" "$agent" monitor \
  --case "pmm-vip monitor, network_namespace=" --netns "/proc/$$/ns/net" \
    OCF_RESKEY_network_namespace="$ns" "$agent" monitor \
  --case "pmm-vip monitor, nic and prefix by route" \
    -u OCF_RESKEY_nic -u OCF_RESKEY_cidr_netmask "$agent" monitor \
  --case "floor: pmm-vip --version" "$agent" --version \
  --case "floor: /bin/true" /bin/true
