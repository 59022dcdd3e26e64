#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Removes what an interrupted or killed integration test left behind: network
# namespaces, mounts, loop devices and podman containers named "pmmt<pid>"
# whose test process is gone. Safe to run at any time; run first by CTest.
set -u
alive() { kill -0 "$1" 2>/dev/null; }

# A cluster lab of a killed test: its nodes are processes in namespaces.
for d in /tmp/pmmt[0-9]*/lab; do
  [ -s "$d/nodes" ] || continue
  owner=${d#/tmp/pmmt}; owner=${owner%%-*}
  alive "$owner" && continue
  LAB_DIR=$d LAB_NAME=pmmt$owner "$(dirname "$0")/../../lab/pmmlab" stop >/dev/null 2>&1
done
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^pmmt[0-9]'); do
  pid=${ns#pmmt}; pid=${pid%%-*}
  alive "$pid" || ip netns delete "$ns"
done
awk '$2 ~ /^\/tmp\/pmmt[0-9]/ {print $2}' /proc/self/mounts | sort -r | while read -r m; do
  pid=${m#/tmp/pmmt}; pid=${pid%%-*}
  alive "$pid" || umount "$m" 2>/dev/null || umount -l "$m"
done
losetup -a 2>/dev/null | grep '/tmp/pmmt[0-9]' | while IFS=: read -r dev _ rest; do
  pid=$(printf '%s' "$rest" | sed -n 's|.*/tmp/pmmt\([0-9]*\)-.*|\1|p')
  [ -n "$pid" ] && ! alive "$pid" && losetup -d "$dev"
done
# Daemons a test started (podman service, dockerd) outlive a killed test.
for pid in $(pgrep -f '/tmp/pmmt[0-9]+-' 2>/dev/null); do
  owner=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | sed -n 's|.*/tmp/pmmt\([0-9]*\)-.*|\1|p')
  [ -n "$owner" ] && ! alive "$owner" && kill "$pid" 2>/dev/null
done
if command -v podman >/dev/null; then
  for c in $(podman ps -a --format '{{.Names}}' 2>/dev/null | grep '^pmmt[0-9]'); do
    pid=${c#pmmt}; pid=${pid%%-*}
    alive "$pid" || podman rm -f "$c" >/dev/null 2>&1
  done
fi
for d in /tmp/pmmt[0-9]*; do
  [ -e "$d" ] || continue
  pid=${d#/tmp/pmmt}; pid=${pid%%-*}
  alive "$pid" || rm -rf "$d"
done
exit 0
