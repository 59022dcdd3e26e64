#!/bin/bash
# Monitor cost of pmm-storage against ocf:heartbeat:Filesystem on the same
# mount, in the same run: depth 0 and depth 20, N runs each, interleaved so
# that machine load hits both alike. Prints medians of wall and CPU time
# (the agent and every process it waited for, from wait4's rusage) and the
# ratios against the issue's targets (depth 0: 1/20, depth 20: 1/10).
#
#   bench/storage_monitor.sh [-n RUNS] [-b BUILD_DIR]
#
# Creates its own image, loop device and mount point; removes them at exit.
set -eu
runs=200
build=${PMMHA_BUILD_DIR:-$(cd "$(dirname "$0")/.." && pwd)/build}
while getopts "n:b:" o; do
  case $o in
    n) runs=$OPTARG ;;
    b) build=$OPTARG ;;
    *) echo "usage: $0 [-n RUNS] [-b BUILD_DIR]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "needs root (loop devices, mounts)" >&2; exit 1; }
agent=$build/agents/pmm-storage
heartbeat=/usr/lib/ocf/resource.d/heartbeat/Filesystem
[ -x "$agent" ] || { echo "$agent is not built" >&2; exit 1; }
[ -x "$heartbeat" ] || { echo "$heartbeat missing (package resource-agents)" >&2; exit 1; }
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

# The image lives in /dev/shm: both agents' depth-20 fsync then measures the
# agents, not this VM's disk.
tmp=$(mktemp -d /dev/shm/pmmbench-XXXX)
loop=
cleanup() {
  mountpoint -q "$tmp/mnt" && umount "$tmp/mnt"
  [ -n "$loop" ] && losetup -d "$loop"
  rm -rf "$tmp"
}
trap cleanup EXIT
truncate -s 128M "$tmp/disk.img"
loop=$(losetup -f --show "$tmp/disk.img")
mkfs.ext4 -q -F "$loop"
mkdir "$tmp/mnt"

export OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=bench HA_RSCTMP="$tmp"
export OCF_RESKEY_device="$loop" OCF_RESKEY_directory="$tmp/mnt" OCF_RESKEY_fstype=ext4
export OCF_RESKEY_CRM_meta_interval=20000 OCF_RESKEY_CRM_meta_timeout=40000
"$agent" start 2>/dev/null

python3 - "$runs" "$agent" "$heartbeat" <<'PY'
import os, statistics, sys, time
runs, ours, theirs = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def once(path, depth):
    env = dict(os.environ, OCF_CHECK_LEVEL=str(depth))
    start = time.perf_counter()
    pid = os.posix_spawn(path, [path, "monitor"], env)
    _, status, usage = os.wait4(pid, 0)
    wall = (time.perf_counter() - start) * 1000
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        sys.exit(f"{path} monitor (depth {depth}) returned {rc}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000

results = {}
for depth in (0, 20):
    samples = {ours: ([], []), theirs: ([], [])}
    for _ in range(runs):
        for path in (theirs, ours):
            wall, cpu = once(path, depth)
            samples[path][0].append(wall)
            samples[path][1].append(cpu)
    results[depth] = {p: (statistics.median(w), statistics.median(c)) for p, (w, c) in samples.items()}

target = {0: 20, 20: 10}
print(f"{'agent':28s} {'depth':>5s} {'wall ms':>9s} {'cpu ms':>9s}")
for depth in (0, 20):
    for name, path in (("heartbeat Filesystem", theirs), ("pmm-storage", ours)):
        wall, cpu = results[depth][path]
        print(f"{name:28s} {depth:5d} {wall:9.2f} {cpu:9.2f}")
ok = True
for depth in (0, 20):
    hw, hc = results[depth][theirs]
    ow, oc = results[depth][ours]
    wall_ratio, cpu_ratio = ow / hw, oc / hc
    meets = wall_ratio <= 1 / target[depth] and cpu_ratio <= 1 / target[depth]
    ok = ok and meets
    print(f"depth {depth:2d}: pmm-storage/Filesystem wall 1/{hw / ow:.1f}, cpu 1/{hc / oc:.1f}"
          f" (target 1/{target[depth]}): {'meets' if meets else 'MISSES'}")
print(f"runs per agent and depth: {runs}")
sys.exit(0 if ok else 3)
PY
rc=$?
"$agent" stop 2>/dev/null
exit $rc
