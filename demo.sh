#!/bin/bash
# The pmm-ha-agents demo, on a fresh Debian 12 machine, as root:
#   installs the packages, builds the agents, starts a 3-node Pacemaker
#   cluster of namespaces (lab/pmmlab) with PMM Server (the bundled stand-in)
#   on a shared disk behind a VIP, configured with crm-examples/pmm-podman.pcs.sh,
#   then crashes the node running PMM and shows where PMM came back and how
#   long it took. The lab keeps running; the last lines say how to look
#   around and how to stop it.
# ./demo.sh ha: PMM 3 HA instead (crm-examples/pmm-ha-podman.pcs.sh): a PMM
#   stand-in on every node, electing its leader; the VIP follows the leader
#   when PMM moves its leadership and when the leader's node crashes.
set -eu
mode=${1:-}
case $mode in ""|ha) ;; *) echo "usage: $0 [ha]" >&2; exit 2 ;; esac
cd "$(dirname "$0")"
top=$(pwd)
export LAB_DIR=${LAB_DIR:-/tmp/pmmlab} LAB_NAME=${LAB_NAME:-pmmlab} LAB_NET=${LAB_NET:-198.51.100}
# A tuned token (1 s) as a production cluster on a good network would use;
# LAB_TOKEN= (empty) shows corosync's default of 3 s + 650 ms per node.
export LAB_TOKEN=${LAB_TOKEN-1000}
lab="$top/lab/pmmlab"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# --- ./demo.sh ha ---------------------------------------------------------------
leader_check() { "$lab" client curl -s -o /dev/null -w '%{http_code}' --max-time 0.5 "http://$1:8080/v1/server/leaderHealthCheck"; }
leaders() { local k; for k in 1 2 3; do [ "$(leader_check "$LAB_NET.1$k")" = 200 ] && printf '%s' "$k"; done; true; }
# vip_at K: wait (120 s) until the VIP answers as PMM's leader from node K.
vip_at() {
  local t0=$(date +%s%3N)
  while [ $(($(date +%s%3N) - t0)) -lt 120000 ]; do
    [ "$(leader_check "$LAB_NET.100")" = 200 ] && [ "$("$lab" where pmm-vip)" = "$1" ] && return 0
    sleep 0.1
  done
  return 1
}
# new_leader OLD: wait (60 s) until one node other than OLD leads; print it.
new_leader() {
  local t0=$(date +%s%3N) l
  while [ $(($(date +%s%3N) - t0)) -lt 60000 ]; do
    l=$(leaders)
    [ ${#l} = 1 ] && [ "$l" != "$1" ] && { echo "$l"; return 0; }
    sleep 0.1
  done
  return 1
}
demo_ha() {
  say "Configuring PMM 3 HA with crm-examples/pmm-ha-podman.pcs.sh (a PMM Server on every node)"
  "$lab" apply crm-examples/pmm-ha-podman.pcs.sh
  local a b c t0
  t0=$(date +%s)
  while [ -z "$(leaders)" ] || ! vip_at "$(leaders)"; do
    [ $(($(date +%s) - t0)) -lt 180 ] || { "$lab" status; echo "no leader on the VIP" >&2; exit 1; }
  done
  a=$(leaders)
  echo "PMM elected node$a; the VIP $LAB_NET.100 answers there as the leader"
  "$lab" status | sed -n '/Node List/,$p'

  say "PMM moves its leadership away from node$a (its stand-in steps down)"
  "$lab" exec "$a" touch "$LAB_DIR/srv-local/standin/stepdown"
  t0=$(date +%s%3N)
  b=$(new_leader "$a") || { echo "no new leader" >&2; exit 1; }
  echo "PMM elected node$b after $(($(date +%s%3N) - t0)) ms"
  vip_at "$b" || { "$lab" status; echo "the VIP did not follow" >&2; exit 1; }
  echo "the promoted instance and the VIP followed: $(($(date +%s%3N) - t0)) ms from the step-down"
  "$lab" exec "$a" rm -f "$LAB_DIR/srv-local/standin/stepdown"

  say "Crashing node$b, PMM's leader"
  "$lab" crash "$b"
  t0=$(date +%s%3N)
  c=$(new_leader "$b") || { echo "no new leader" >&2; exit 1; }
  vip_at "$c" || { "$lab" status; echo "the VIP did not follow" >&2; exit 1; }
  say "PMM leads on node$c and the VIP answers there: $(($(date +%s%3N) - t0)) ms from the crash"
  "$lab" status | sed -n '/Node List/,$p'
  cat <<TXT

The lab is still running. Look around:
  $lab status                       cluster status (crm_mon)
  $lab exec $c crm_mon -1 -A            promotion scores (master-pmm-server)
  $lab start-node $b                  bring node$b back (its PMM rejoins as a follower)
  $lab exec $c touch $LAB_DIR/srv-local/standin/stepdown   move PMM's leadership again
Stop it and remove everything:
  $lab stop
TXT
}

say "Installing Debian packages (scripts/debian-packages.txt)"
scripts/setup-debian
say "Building the agents"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
[ -e "/run/netns/$LAB_NAME-hub" ] && { say "Stopping the previous lab"; "$lab" stop; }

say "Starting a 3-node cluster (Corosync 3 + Pacemaker 2.1, one namespace set per node)"
"$lab" start 3
"$lab" install build
"$lab" import build/tests/pmm-standin.tar localhost/pmm-standin:3
[ "$mode" = ha ] && { demo_ha; exit 0; }
disk=$("$lab" disk)
echo "shared disk: $disk (ext4), seen by every node"

say "Configuring PMM with crm-examples/pmm-podman.pcs.sh (LUN, mount point, VIP, image replaced)"
"$lab" apply crm-examples/pmm-podman.pcs.sh
ms=$("$lab" wait-ready 120) || { "$lab" status; echo "PMM did not come up" >&2; exit 1; }
echo "PMM answers /v1/server/readyz on the VIP $LAB_NET.100 ($ms ms after the configuration)"
"$lab" status | sed -n '/Node List/,$p'
active=$("$lab" where pmm-server)
echo "PMM runs on node$active; it has booted $(cat "$LAB_DIR/srv/standin/boots" 2>/dev/null ||
  "$lab" exec "$active" cat "$LAB_DIR/srv/standin/boots") time(s) on this data"

say "Crashing node$active (its network goes silent and every process on it dies)"
"$lab" crash "$active"
ms=$("$lab" wait-ready 120) || { "$lab" status; echo "PMM did not come back" >&2; exit 1; }
now=$("$lab" where pmm-server)
say "PMM is back on node$now: ${ms} ms from the crash to readyz answering on the VIP"
"$lab" status | sed -n '/Node List/,$p'
echo "boots on the shared /srv: $("$lab" exec "$now" cat "$LAB_DIR/srv/standin/boots") (the same data, one more boot)"

cat <<TXT

The lab is still running. Look around:
  $lab status                       cluster status (crm_mon)
  $lab exec $now pcs status             any command on node$now (pcs, crm, crm_mon, podman ...)
  $lab client curl -s http://$LAB_NET.100:8080/v1/server/readyz
  $lab start-node $active                  bring node$active back
  $lab crash $now                        crash the node running PMM again
Stop it and remove everything:
  $lab stop
TXT
