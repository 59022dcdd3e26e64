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
# Both come from records, not from polling: the election from the new
# leader's own ha-events (the stand-in writes the millisecond it took the
# lead), the VIP from the client's workload (200 writes a second through the
# VIP, 16 at a time so that writes hung on a dead address leave room; only
# PMM's leader acknowledges one): the first write acknowledged that was sent
# after the election.
#
#   bench/ha.sh [-r ROUNDS] [-l LOG_DIR] [-b BUILD_DIR]
# -l keeps each node's pacemaker.log in LOG_DIR (nodeK.log), to break a
# round down with its timestamps.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
opt_r=3
opt_l=
bench_options r:l: "[-r ROUNDS] [-l LOG_DIR]" "$@"
rounds=$opt_r
bench_harness ha
set +e
h_lab_start 3 >/dev/null 2>&1 || { echo "the lab did not start" >&2; exit 1; }
lab apply "$H_SOURCE/crm-examples/pmm-ha-podman.pcs.sh" >/dev/null 2>&1 || exit 1
h_wait_for 180 h_vip_on_leader || { echo "no leader on the VIP" >&2; exit 1; }
srv="$LAB_DIR/srv-local/standin"
results="$H_TMP/results"
rejoined() { [ "$(lab leader-status "$1")" = 400 ]; }  # back, as a follower
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
: >"$results"
lab workload start 200 16 >/dev/null 2>&1
h_wait_for 10 lab workload first-ack 0 || { echo "the workload gets no write through" >&2; exit 1; }

# log_ms K TEXT SINCE: the epoch ms of the first line of node K's
# pacemaker.log that holds TEXT and is not older than SINCE (epoch ms).
log_ms() {
  local ts ms
  while read -r ts; do
    ms=$(date -d "$ts" +%s%3N) || continue
    if [ "$ms" -ge "$3" ]; then echo "$ms"; return 0; fi
  done < <(grep -F -- "$2" "$LAB_DIR/node$1/var-log-pacemaker/pacemaker.log" | cut -c1-19)
  return 1
}

# round KIND I OLD T0: one round's figures, once the VIP followed the leader
# from node OLD to node H_NEW after a fault at T0 (epoch ms). The breakdown
# is from the new leader's pacemaker.log: when the cluster learnt what it
# acts on (the new leader's score after a move, the node gone after a
# crash), and when the VIP's start ended there.
round() {
  local el ack seen vip what
  sleep 0.5  # the workload logs an attempt once it has ended
  if ! el=$(lab elected "$H_NEW" "$4"); then
    echo "$1 $2: node$H_NEW's ha-events record no election since the fault"
    return
  elif ! ack=$(lab workload first-ack "$el"); then
    echo "$1 $2: no write acknowledged through the VIP since the election"
    return
  fi
  printf '%-5s %d at %s: node%s -> node%s: elected %d ms after the fault, VIP answering %d ms later' \
    "$1" "$2" "$(date -d "@$(($4 / 1000))" +%T)" "$3" "$H_NEW" $((el - $4)) $((ack - el))
  echo "$1 $((el - $4)) $((ack - el))" >>"$results"
  if [ "$1" = move ]; then
    what="the new leader's score"
    seen=$(log_ms "$H_NEW" "Setting master-pmm-server[node$H_NEW]: " "$el")
  else
    what="node$3 gone"
    seen=$(log_ms "$H_NEW" "Node node$3 state is now lost" "$4")
  fi
  vip=$(log_ms "$H_NEW" "Result of start operation for pmm-vip on node$H_NEW: ok" "$4")
  if [ -n "$seen" ] && [ -n "$vip" ]; then
    printf ' (the cluster had %s at %+d ms, the VIP started %d ms after that)' \
      "$what" $((seen - el)) $((vip - seen))
    echo "$1-agents $((vip - seen))" >>"$results"
  fi
  echo
}

for ((i = 1; i <= rounds; i++)); do
  sleep 7  # a settled cluster: every monitor has run since the last change
  a=$(h_leaders)
  t0=$(now_ms)
  lab exec "$a" touch "$srv/stepdown"
  if h_follow_leader "$a"; then
    round move "$i" "$a" "$t0"
  else
    echo "move  $i: the VIP did not follow (status $?)"
  fi
  lab exec "$a" rm -f "$srv/stepdown"
done

for ((i = 1; i <= rounds; i++)); do
  sleep 7
  a=$(h_leaders)
  t0=$(now_ms)
  lab crash "$a" >/dev/null 2>&1
  if h_follow_leader "$a"; then
    round crash "$i" "$a" "$t0"
  else
    echo "crash $i: the VIP did not follow (status $?)"
  fi
  lab start-node "$a" >/dev/null 2>&1
  lab wait-online 60 >/dev/null 2>&1
  h_wait_for 120 rejoined "$a"
done
lab workload stop >/dev/null 2>&1

if [ -n "$opt_l" ]; then
  mkdir -p "$opt_l"
  for k in 1 2 3; do cp "$LAB_DIR/node$k/var-log-pacemaker/pacemaker.log" "$opt_l/node$k.log"; done
fi

echo "== medians (ms; token ${LAB_TOKEN:-default})"
for kind in move crash; do
  awk -v k="$kind" 'BEGIN { n = 0 } $1 == k { e[n] = $2 + 0; v[n] = $3 + 0; t[n] = $2 + $3; n++ }
    function med(a, n,   i, j, x) { for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (a[j] < a[i]) { x = a[i]; a[i] = a[j]; a[j] = x }
      return n % 2 ? a[int(n / 2)] : (a[n / 2 - 1] + a[n / 2]) / 2 }
    function max(a, n,   i, m) { m = a[0]; for (i = 1; i < n; i++) if (a[i] > m) m = a[i]; return m }
    END { if (n) printf "%-5s election %6d   VIP after the election %6d (max %6d)   total %6d   (%d rounds)\n", k, med(e, n), med(v, n), max(v, n), med(t, n), n }' "$results"
  awk -v k="$kind-agents" '$1 == k { a[n++] = $2 + 0 }
    END { if (!n) exit; for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (a[j] < a[i]) { x = a[i]; a[i] = a[j]; a[j] = x }
      printf "      from what the cluster acts on to the VIP started: median %d, max %d\n", n % 2 ? a[int(n / 2)] : (a[n / 2 - 1] + a[n / 2]) / 2, a[n - 1] }' "$results"
done
