#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# PMM 3 HA proven under faults (issue 15): crm-examples/pmm-ha-podman.pcs.sh
# in a 3-node lab with real fencing, the stand-ins sharing one write log (PMM
# 3 HA's external database), a workload writing through the VIP and the
# invariant watcher in HA mode (two VIPs, two promoted instances, two PMMs
# acknowledging writes at once are violations; a PMM on every node is not).
# The faults are the plugins lab/faults/leader-* and db-outage (interface: lab/pmmlab fault),
# run here the way the campaign runner runs them: the active node (pmmlab
# healthy) as K, inject, the first acknowledged write after it (the failover
# time), heal, healthy again, expect, check, 0 writes lost, 0 violations.
# At the end a second promoted instance and a second writer made by hand show
# the watcher is not blind to them.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_begin cluster-ha-faults
export LAB_FENCING=1
T0=${EPOCHREALTIME/./}
at() { echo "# $(((${EPOCHREALTIME/./} - T0) / 1000000)) s: $*"; }
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
h_lab_start 3 || h_abort "the lab did not start"
export PMMLAB=$H_LAB
at "the lab runs, fencing on"

h_expect_rc 0 "crm-examples/pmm-ha-podman.pcs.sh applies" lab apply "$H_SOURCE/crm-examples/pmm-ha-podman.pcs.sh"
[ "$H_RC" = 0 ] || h_abort "the example did not apply"
h_match "the lab runs PMM 3 HA" '^ha$' "$(lab mode)"
h_expect_rc 0 "the cluster settles: one promoted instance, where PMM leads, with the VIP" \
  h_wait_for 180 lab healthy
[ "$H_RC" = 0 ] || h_abort "not healthy: $(lab healthy)"
h_lab_workload
h_match "... in the shared log, with the leader's name" " node$(lab healthy) [0-9]+$" \
  "$(tail -n 1 "$LAB_DIR/ha-db/writes.log")"
at "workload and watcher run"

FAILOVERS=''
# outage FROM TO: the longest time (ms) without an acknowledged write between
# the acks sent in [FROM, TO] (and the last one before FROM).
outage() {
  sort -n "$LAB_DIR/workload.log" | awk -v a="$1" -v b="$2" '
    $3 == 200 && $1 < a { last = $1 }
    $3 == 200 && $1 >= a && $1 <= b { if (last && $1 - last > gap) gap = $1 - last; last = $1 }
    END { print gap + 0 }'
}
# during_leader_split K: once node K's PMM stepped down, cut off from its
# peers' Raft port.
# shellcheck disable=SC2317 # called through h_wait_for, which shellcheck does not follow
elected_without() { [ "$(lab leader-status "$1")" = 400 ] && lab leaders | grep -qx "[123]"; }
during_leader_split() {
  local k=$1
  h_check "leader-split: node$k's PMM answers 400, and the others elect a leader" \
    h_wait_for 10 elected_without "$k"
  h_nomatch "leader-split: not node$k" "$k" "$(lab leaders)"
}

# run_fault NAME: one fault, as the campaign runner runs it.
run_fault() {
  local name=$1 f="$H_SOURCE/lab/faults/$1" k t0 t1 mark ack new expect v out gap
  at "$name"
  expect=$("$f" info | sed -n 's/^expect=//p')
  k=$(lab healthy) || { h_fail "$name: not healthy before the fault: $k"; return; }
  mark=$(wc -l <"$LAB_DIR/bmc.log")
  t0=$(now_ms)
  h_expect_rc 0 "$name: injected on node$k (the active node)" "$f" inject "$k"
  # From when it took effect: a slow inject (a crash records the node's
  # containers first) must not count the writes acknowledged before.
  t1=$(now_ms)
  [ "$name" = leader-split ] && during_leader_split "$k"
  if h_wait_for 90 lab workload first-ack "$t1"; then
    ack=$(lab workload first-ack "$t1")
    h_pass "$name: writes are acknowledged again, $((ack - t1)) ms after the fault"
  else
    h_fail "$name: no write acknowledged in 90 s after the fault"
  fi
  h_expect_rc 0 "$name: healed" "$f" heal "$k"
  h_expect_rc 0 "$name: every node is online again" lab wait-online 120
  h_expect_rc 0 "$name: healthy again" h_wait_for 120 lab healthy
  [ "$H_RC" = 0 ] || { echo "# $(lab healthy)"; lab status 2>&1 | sed 's/^/#   /'; }
  new=$(lab healthy)
  gap=$(outage "$t0" "$(now_ms)")
  FAILOVERS="$FAILOVERS $name=$((${ack:-0} - t1))ms(outage:${gap}ms)"
  echo "# $name: failover $((${ack:-0} - t1)) ms; the longest time without an acknowledged write until healthy: $gap ms"
  case $expect in
    move) h_check "$name: PMM moved from node$k (to node$new)" test -n "$new" -a "$new" != "$k" ;;
    stay) h_check "$name: PMM stayed on node$k" test "$new" = "$k" ;;
    *) h_pass "$name: PMM runs on node$new (expect=any)" ;;
  esac
  h_expect_rc 0 "$name: its own check" env FAULT_T0_MS="$t0" FAULT_BMC_MARK="$mark" "$f" check "$k"
  h_expect_rc 0 "$name: every acknowledged write is in PMM's shared log (0 lost)" lab verify
  echo "# $name: $H_OUT"
  v=$(lab watch violations)
  if [ "$v" = 0 ]; then
    h_pass "$name: the watcher saw no two VIPs, no two promoted, no two writers"
  else
    h_fail "$name: the watcher logged $v violations"
    grep -v '^#' "$LAB_DIR/watch.log" | head -n 10 | sed 's/^/#   watch.log: /'
  fi
  out=$(grep "^# " "$LAB_DIR/watch.log" | awk -v t="$t0" '$2 >= t && $4 ~ /^(leader|promoted|vip)$/' |
    cut -d' ' -f4- | tr '\n' ';')
  echo "# $name: watcher changes: $out"
  # As the runner: the fail counts of the fault go (a failed monitor of the
  # crashed instance stays listed until failure-timeout otherwise).
  lab exec "$new" crm_resource --cleanup >/dev/null 2>&1
}

run_fault leader-stepdown
run_fault leader-split
run_fault leader-crash
run_fault leader-partition
run_fault db-outage

at "the whole run"
h_expect_rc 0 "the workload stops" lab workload stop
echo "# workload: $H_OUT"
h_expect_rc 0 "every acknowledged write of the run is in PMM's shared log (0 lost)" lab verify
echo "# verify: $H_OUT"
h_expect_rc 0 "the watcher saw no violation" lab watch stop
printf '%s\n' "$H_OUT" | sed 's/^/# watch: /'
for kind in vip promoted writer; do
  one=$(printf '%s\n' "$H_OUT" | awk -v k="$kind" '$1 == k {print $5}')
  h_check "the watcher saw one node with the $kind in ${one:-0} samples (100 or more)" test "${one:-0}" -ge 100
done

# --- the watcher is not blind: a second promoted instance and a second writer ---------
at "a second promoted instance and a second writer, by hand"
k=$(lab healthy)
p=$((${k:-1} % 3 + 1))
lab watch start 50 >/dev/null 2>&1
# Named like the agent's marker, yet no instance's: the agent on node$p never reads it.
marker=/run/resource-agents/pmm-server-byhand.promoted
lab exec "$p" touch "$marker"
now=$(now_ms)
printf '900000001 1 node%s %s\n900000002 1 node%s %s\n900000003 1 node%s %s\n' \
  "$k" "$now" "$p" "$((now + 5))" "$k" "$((now + 10))" >>"$LAB_DIR/ha-db/writes.log"
sleep 0.5
lab exec "$p" rm -f "$marker"
h_expect_rc 1 "the watcher reports them" lab watch stop
printf '%s\n' "$H_OUT" | sed 's/^/# watch: /'
for kind in promoted writer; do
  h_match "... the $kind" "^$kind violations [1-9]" "$H_OUT"
done
echo "# failover times:$FAILOVERS"
at "done"
h_done
