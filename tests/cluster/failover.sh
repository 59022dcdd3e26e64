#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The PMM group in a 3-node cluster, configured with crm-examples/pmm-podman.pcs.sh
# as a user would: crash of the active node, a killed PMM container, PMM not
# ready, moves with pcs and crmsh, and a stop that cannot complete.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_begin cluster-failover
h_lab_start 3 || { h_fail "the lab started"; h_done; }
lab disk >/dev/null
srv="$LAB_DIR/srv"

h_expect_rc 0 "crm-examples/pmm-podman.pcs.sh applies" lab apply "$H_SOURCE/crm-examples/pmm-podman.pcs.sh"
[ "$H_RC" = 0 ] || h_abort "the example did not apply"
h_expect_rc 0 "PMM answers on the VIP" lab wait-ready 120
[ "$H_RC" = 0 ] || h_abort "PMM did not come up"
h_expect_rc 0 "crm_verify -L is clean" lab exec 1 crm_verify -L -V
h_nomatch "... without warnings" 'warning|error' "$H_OUT$H_ERR"

a=$(lab where pmm-server)
marker="data-$RANDOM-$RANDOM"
lab exec "$a" sh -c "echo $marker > $srv/marker && sync"
boots=$(lab exec "$a" cat "$srv/standin/boots")

# --- crash of the active node -------------------------------------------------
lab crash "$a"
h_expect_rc 0 "after the crash of node$a PMM answers on the VIP again" lab wait-ready 120
[ "$H_RC" = 0 ] || h_abort "PMM did not come back after the crash"
echo "# crash -> readyz on the VIP: $H_OUT ms (token ${LAB_TOKEN:-default})"
b=$(lab where pmm-server)
if [ -n "$b" ] && [ "$b" != "$a" ]; then
  h_pass "PMM moved to node$b"
else
  h_fail "PMM is on '$b'"
fi
h_match "the data written before the crash is there" "^$marker$" "$(lab exec "$b" cat "$srv/marker")"
h_match "PMM booted once more on the same data" "^$((boots + 1))$" "$(lab exec "$b" cat "$srv/standin/boots")"
h_expect_rc 0 "nothing runs on two nodes" h_lab_clean_elsewhere "$b"

# The crashed node comes back: PMM stays where it is (stickiness).
lab start-node "$a" >/dev/null 2>&1
h_expect_rc 0 "node$a rejoins" lab wait-online 60
sleep 3
h_match "PMM stays on node$b" "^$b$" "$(lab where pmm-server)"
h_expect_rc 0 "node$a runs nothing of it" h_lab_clean_elsewhere "$b"

# --- the PMM container dies: restarted in place -------------------------------
boots=$(lab exec "$b" cat "$srv/standin/boots")
lab exec "$b" podman kill pmm-server >/dev/null
h_wait_for 60 sh -c "lab_boots=\$('$H_LAB' exec $b cat $srv/standin/boots); [ \"\$lab_boots\" -gt $boots ]"
h_expect_rc 0 "a killed PMM container is restarted and answers again" lab wait-ready 60
h_match "... in place, on node$b" "^$b$" "$(lab where pmm-server)"
h_match "... after a monitor saw it" 'pmm-server.*(not running|fail-count=1)' \
  "$(lab exec "$b" crm_mon -1 --failcounts 2>&1)"
lab exec "$b" pcs resource cleanup pmm-server >/dev/null 2>&1
lab wait-ready 60 >/dev/null

# --- PMM stops being ready: degraded, then recovered ----------------------------
lab exec "$b" sh -c "echo 500 > $srv/standin/mode"
degraded=no
for _ in $(seq 1 60); do
  lab exec "$b" crm_mon -1 --output-as=xml 2>&1 |
    grep -q 'op_key="pmm-server_monitor_10000".*exitstatus="OCF_DEGRADED".*PMM Server is not ready' &&
    { degraded=yes; break; }
  sleep 0.5
done
if [ $degraded = yes ]; then
  h_pass "PMM not ready: the cluster shows pmm-server degraded"
else
  h_fail "pmm-server never shown degraded: $(lab exec "$b" crm_mon -1 --output-as=xml | grep -E 'pmm-server|failure')"
fi
h_expect_rc 0 "after health_failures monitors the cluster counts a failure and recovers" \
  h_wait_for 90 sh -c "'$H_LAB' exec $b crm_mon -1 --failcounts 2>&1 | grep -q 'pmm-server.*fail-count='"
lab exec "$b" sh -c "echo ok > $srv/standin/mode"
h_expect_rc 0 "... and PMM answers again" lab wait-ready 120
lab exec "$b" pcs resource cleanup pmm-server >/dev/null 2>&1

# --- moves: pcs there, crmsh back ---------------------------------------------
c=$(( b % 3 + 1 ))
h_expect_rc 0 "pcs resource move pmm node$c" lab exec "$b" pcs resource move pmm "node$c"
h_wait_for 60 sh -c "[ \"\$('$H_LAB' where pmm-server)\" = $c ]"
h_expect_rc 0 "PMM answers on the VIP from node$c" lab wait-ready 120
h_match "... running on node$c" "^$c$" "$(lab where pmm-server)"
h_expect_rc 0 "node$b is clean: no mount, VIP or container" h_lab_clean_elsewhere "$c"
lab exec "$c" pcs resource clear pmm >/dev/null 2>&1
h_expect_rc 0 "crm resource move pmm node$b" lab exec "$c" crm resource move pmm "node$b"
h_wait_for 60 sh -c "[ \"\$('$H_LAB' where pmm-server)\" = $b ]"
h_expect_rc 0 "PMM answers on the VIP from node$b again" lab wait-ready 120
h_expect_rc 0 "node$c is clean" h_lab_clean_elsewhere "$b"
lab exec "$b" crm resource clear pmm >/dev/null 2>&1

# --- a stop that cannot complete ------------------------------------------------
# A process keeps the mount busy and the storage agent may not end it
# (force_unmount=false): the stop must fail within its timeout and the cluster
# must record it (with fencing it would now fence node$b).
lab exec "$b" pcs resource update pmm-storage force_unmount=false op stop timeout=15s >/dev/null
lab exec "$b" setsid -f sh -c "cd $srv && exec sleep 600" </dev/null >/dev/null 2>&1
t0=$(date +%s%3N)
lab exec "$b" pcs resource disable pmm >/dev/null
h_wait_for 60 sh -c "'$H_LAB' exec $b crm_mon -1 2>&1 | grep -qE 'pmm-storage.*(FAILED|blocked)'"
took=$(($(date +%s%3N) - t0))
status=$(lab exec "$b" crm_mon -1 2>&1)
h_match "the stop of pmm-storage failed and the cluster shows it" 'pmm-storage.*(FAILED|blocked)' "$status"
h_match "... as a failed stop" "pmm-storage stop on node$b returned '(error|Timed Out)'" "$status"
if [ "$took" -lt 40000 ]; then
  h_pass "... within its timeout ($took ms, stop timeout 15 s)"
else
  h_fail "the failed stop took $took ms"
fi
lab exec "$b" pkill -f 'sleep 600'
lab exec "$b" pcs resource update pmm-storage force_unmount=true >/dev/null 2>&1
lab exec "$b" pcs resource cleanup >/dev/null 2>&1
h_done
