#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
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
demo_ha() {
  local a b c out elect_ms vip_ms
  say "Configuring PMM 3 HA with crm-examples/pmm-ha-podman.pcs.sh (a PMM Server on every node)"
  "$lab" apply crm-examples/pmm-ha-podman.pcs.sh
  "$lab" wait-leader 180 >/dev/null || { "$lab" status; echo "no leader on the VIP" >&2; exit 1; }
  a=$("$lab" leaders)
  echo "PMM elected node$a; the VIP $LAB_NET.100 answers there as the leader"
  "$lab" status | sed -n '/Node List/,$p'

  say "PMM moves its leadership away from node$a (its stand-in steps down)"
  "$lab" exec "$a" touch "$LAB_DIR/srv-local/standin/stepdown"
  out=$("$lab" follow-leader "$a") || { "$lab" status; echo "the VIP did not follow PMM's leader" >&2; exit 1; }
  read -r b elect_ms vip_ms <<<"$out"
  echo "PMM elected node$b after $elect_ms ms; the promoted instance and the VIP followed $vip_ms ms later"
  "$lab" exec "$a" rm -f "$LAB_DIR/srv-local/standin/stepdown"

  say "Crashing node$b, PMM's leader"
  "$lab" crash "$b"
  out=$("$lab" follow-leader "$b") || { "$lab" status; echo "the VIP did not follow PMM's leader" >&2; exit 1; }
  read -r c elect_ms vip_ms <<<"$out"
  say "PMM leads on node$c ($elect_ms ms after the crash) and the VIP answers there $vip_ms ms later"
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
