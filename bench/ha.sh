#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# PMM 3 HA: how long the VIP takes to follow PMM's leader, in a 3-node lab
# configured with crm-examples/pmm-ha-podman.pcs.sh (three electing PMM
# stand-ins). For each round:
#   move   the leader steps down (PMM moves its leadership by itself)
#   crash  the leader's node crashes hard (link down, every process killed)
# it reports how long PMM took to elect a new leader, and how much longer the
# VIP took to answer on it as the leader (seen from a client). The second
# figure is the agents' and the cluster's share: the new leader's next
# unpromoted monitor (every second in the example) plus a promote/VIP move;
# after a crash also the cluster noticing the node is gone (token).
#
#   bench/ha.sh [-r ROUNDS] [-b BUILD_DIR]
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
opt_r=3
bench_options r: "[-r ROUNDS]" "$@"
rounds=$opt_r
bench_harness ha
set +e
h_lab_start 3 >/dev/null 2>&1 || { echo "the lab did not start" >&2; exit 1; }
lab apply "$H_SOURCE/crm-examples/pmm-ha-podman.pcs.sh" >/dev/null 2>&1 || exit 1
h_wait_for 180 h_vip_on_leader || { echo "no leader on the VIP" >&2; exit 1; }
srv="$LAB_DIR/srv-local/standin"
results="$H_TMP/results"
rejoined() { [ "$(lab leader-status "$1")" = 400 ]; }  # back, as a follower
: >"$results"

for ((i = 1; i <= rounds; i++)); do
  sleep 7  # a settled cluster: every monitor has run since the last change
  a=$(h_leaders)
  lab exec "$a" touch "$srv/stepdown"
  if h_follow_leader "$a"; then
    echo "move  $i: node$a -> node$H_NEW: elected in $H_ELECT_MS ms, VIP answering $H_VIP_MS ms later"
    echo "move $H_ELECT_MS $H_VIP_MS" >>"$results"
  else
    echo "move  $i: the VIP did not follow (status $?)"
  fi
  lab exec "$a" rm -f "$srv/stepdown"
done

for ((i = 1; i <= rounds; i++)); do
  sleep 7
  a=$(h_leaders)
  lab crash "$a" >/dev/null 2>&1
  if h_follow_leader "$a"; then
    echo "crash $i: node$a -> node$H_NEW: elected in $H_ELECT_MS ms, VIP answering $H_VIP_MS ms later"
    echo "crash $H_ELECT_MS $H_VIP_MS" >>"$results"
  else
    echo "crash $i: the VIP did not follow (status $?)"
  fi
  lab start-node "$a" >/dev/null 2>&1
  lab wait-online 60 >/dev/null 2>&1
  h_wait_for 120 rejoined "$a"
done

echo "== medians (ms; token ${LAB_TOKEN:-default})"
for kind in move crash; do
  awk -v k="$kind" 'BEGIN { n = 0 } $1 == k { e[n] = $2 + 0; v[n] = $3 + 0; t[n] = $2 + $3; n++ }
    function med(a, n,   i, j, x) { for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (a[j] < a[i]) { x = a[i]; a[i] = a[j]; a[j] = x }
      return n % 2 ? a[int(n / 2)] : (a[n / 2 - 1] + a[n / 2]) / 2 }
    function max(a, n,   i, m) { m = a[0]; for (i = 1; i < n; i++) if (a[i] > m) m = a[i]; return m }
    END { if (n) printf "%-5s election %6d   VIP after the election %6d (max %6d)   total %6d   (%d rounds)\n", k, med(e, n), med(v, n), max(v, n), med(t, n), n }' "$results"
done
