#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The PMM group in a 3-node cluster with real fencing, configured with
# crm-examples/pmm-podman.pcs.sh as a user would: PMM not ready (shown
# degraded, then recovered), moves with pcs and crmsh, and a stop that cannot
# complete (its node is fenced, PMM starts elsewhere). Crashes, partitions and
# killed containers are the fault campaign's (cluster_campaign).
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_begin cluster-failover
export LAB_FENCING=1
h_lab_start 3 || { h_fail "the lab started"; h_done; }
lab disk >/dev/null
srv="$LAB_DIR/srv"

h_expect_rc 0 "crm-examples/pmm-podman.pcs.sh applies" lab apply "$H_SOURCE/crm-examples/pmm-podman.pcs.sh"
[ "$H_RC" = 0 ] || h_abort "the example did not apply"
h_expect_rc 0 "PMM answers on the VIP" lab wait-ready 120
[ "$H_RC" = 0 ] || h_abort "PMM did not come up"
h_expect_rc 0 "crm_verify -L is clean" lab exec 1 crm_verify -L -V
h_nomatch "... without warnings" 'warning|error' "$H_OUT$H_ERR"

b=$(lab where pmm-server)

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

# --- a stop that cannot complete: the node is fenced, PMM moves ---------------------
# A process keeps the mount busy and the storage agent may not end it
# (force_unmount=false): the stop fails within its timeout, and since stop is
# the contract the cluster fences the node before PMM starts on another one.
b=$(lab where pmm-server)
c=$((b % 3 + 1))
lab exec "$b" pcs resource update pmm-storage force_unmount=false op stop timeout=15s >/dev/null
lab exec "$b" setsid -f sh -c "cd $srv && exec sleep 600" </dev/null >/dev/null 2>&1
mark=$(wc -l <"$LAB_DIR/bmc.log")
t0=$(date +%s%3N)
lab exec "$b" pcs resource move pmm "node$c" >/dev/null 2>&1
h_expect_rc 0 "the move to node$c: PMM answers on the VIP from node$c" \
  h_wait_for 180 sh -c "[ \"\$('$H_LAB' where pmm-server)\" = $c ] && '$H_LAB' wait-ready 1"
echo "# a failed stop -> PMM on node$c: $(($(date +%s%3N) - t0)) ms"
fenced=$(tail -n +"$((mark + 1))" "$LAB_DIR/bmc.log")
h_match "node$b was fenced" "result off $b: ok off" "$fenced"
dc_log=$(cat "$LAB_DIR"/node*/var-log-pacemaker/pacemaker.log 2>/dev/null)
h_match "... because the stop of pmm-storage failed there" \
  "pmm-storage_stop_0.*node$b.*(error|Timed Out|[Tt]imed out)" "$dc_log"
h_expect_rc 0 "node$b boots again and rejoins" lab wait-online 120
h_expect_rc 0 "nothing of PMM is left elsewhere" h_lab_clean_elsewhere "$c"
lab exec "$c" pcs resource clear pmm >/dev/null 2>&1
lab exec "$c" pcs resource update pmm-storage force_unmount=true >/dev/null 2>&1
lab exec "$c" pcs resource cleanup >/dev/null 2>&1
h_done
