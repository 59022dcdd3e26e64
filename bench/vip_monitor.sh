#!/bin/bash
# Benchmark: the monitor of ocf:heartbeat:IPaddr2 against pmm-vip's, on the
# same address in the same network namespace, in the same run.
#
#   bench/vip_monitor.sh [BUILD_DIR] [RUNS]      (root; default build-vip, 200)
#
# Creates a namespace with a veth pair (both ends inside it, nothing reaches
# the host's interfaces), puts 198.51.100.10/24 on one end with pmm-vip, and
# runs both monitors RUNS times each, interleaved so that both see the same
# machine load. Each run is spawned and reaped by a small Python driver
# inside the namespace: wall time around spawn..wait4, CPU time (user + sys)
# from wait4's rusage, which includes every process the agent waited for
# (IPaddr2 forks ip, grep, awk, ...). Prints medians and the ratios.
#
# IPaddr2 runs inside the namespace rather than with its own
# network_namespace parameter: that re-executes it under "ip netns exec",
# which would add a remount of /sys to its figures. pmm-vip is measured both
# ways (inside, and from outside with network_namespace=). Two floor rows
# show what exec and loading cost on the machine at that moment: the
# figures move with the load of a shared machine, the ratios much less.
set -eu
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build-vip}
runs=${2:-200}
agent=$build/agents/pmm-vip
ipaddr2=/usr/lib/ocf/resource.d/heartbeat/IPaddr2
[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces)" >&2; exit 1; }
[ -x "$agent" ] || { echo "no $agent: build the pmm-vip target first" >&2; exit 1; }
[ -x "$ipaddr2" ] || { echo "no $ipaddr2: install resource-agents" >&2; exit 1; }

ns="pmmbench$$"
tmp=$(mktemp -d "/tmp/$ns-XXXX")
cleanup() {
  ip netns delete "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add vb0 type veth peer name vb1
ip -n "$ns" link set vb0 up
ip -n "$ns" link set vb1 up
ip -n "$ns" addr add 198.51.100.1/24 dev vb0

export OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=bench HA_RSCTMP=$tmp
export OCF_RESKEY_ip=198.51.100.10 OCF_RESKEY_nic=vb0 OCF_RESKEY_cidr_netmask=24
export OCF_RESKEY_CRM_meta_interval=10000 OCF_RESKEY_CRM_meta_timeout=20000
OCF_RESKEY_arp_count=1 "$here/lab/in-netns" "$ns" "$agent" start

"$here/lab/in-netns" "$ns" /usr/bin/python3 - "$runs" "$ipaddr2" "$agent" "$ns" "/proc/$$/ns/net" <<'EOF'
import os, statistics, sys, time

runs, ipaddr2, agent, ns, outside_ns = int(sys.argv[1]), *sys.argv[2:6]
env = dict(os.environ)
cases = [
    ("IPaddr2 monitor", [ipaddr2, "monitor"], env),
    ("pmm-vip monitor", [agent, "monitor"], env),
    # From the root namespace, entering it with setns() in-process.
    ("pmm-vip monitor, network_namespace=", [agent, "monitor"],
     dict(env, OCF_RESKEY_network_namespace=ns), "outside"),
    ("pmm-vip monitor, nic and prefix by route", [agent, "monitor"],
     {k: v for k, v in env.items() if k not in ("OCF_RESKEY_nic", "OCF_RESKEY_cidr_netmask")}),
    # The floor under any agent: exec and dynamic loading, no work.
    ("floor: pmm-vip --version", [agent, "--version"], env),
    ("floor: /bin/true", ["/bin/true"], env),
]
root_ns = os.open(outside_ns, os.O_RDONLY)  # where this script was started
here_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
devnull = os.open(os.devnull, os.O_RDWR)

def once(argv, environ, outside):
    if outside:
        libc.setns(root_ns, 0x40000000)  # CLONE_NEWNET: the child starts outside
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1),
                                       (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if outside:
        libc.setns(here_ns, 0x40000000)
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        sys.exit(f"{argv[0]} monitor returned {rc}")
    return wall * 1000, (ru.ru_utime + ru.ru_stime) * 1000

for case in cases:  # warm the page cache
    once(case[1], case[2], len(case) > 3)
results = {case[0]: ([], []) for case in cases}
for _ in range(runs):
    for case in cases:
        wall, cpu = once(case[1], case[2], len(case) > 3)
        results[case[0]][0].append(wall)
        results[case[0]][1].append(cpu)

med = {name: (statistics.median(w), statistics.median(c)) for name, (w, c) in results.items()}
base_wall, base_cpu = med["IPaddr2 monitor"]
print(f"{runs} runs each, interleaved; medians")
print(f"{'':40} {'wall ms':>9} {'CPU ms':>9} {'wall x':>8} {'CPU x':>8}")
for name, (w, c) in med.items():
    wr = f"1/{base_wall / w:.0f}" if name != "IPaddr2 monitor" else "1"
    cr = f"1/{base_cpu / c:.0f}" if c > 0 and name != "IPaddr2 monitor" else ("1" if name == "IPaddr2 monitor" else "-")
    print(f"{name:40} {w:9.2f} {c:9.2f} {wr:>8} {cr:>8}")
w, c = med["pmm-vip monitor"]
target = base_wall / 20
print(f"target: pmm-vip monitor at most 1/20 of IPaddr2's: {target:.2f} ms wall -> "
      f"{'met' if w <= target else 'NOT met'} ({w:.2f} ms)")
EOF
