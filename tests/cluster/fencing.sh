#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Real fencing in the lab, configured by crm-examples/fencing.pcs.sh applied
# to the live cluster (its IPMI devices replaced by the lab's: fence_pmmlab,
# which asks the lab's BMC, lab/pmmlab-bmc, to power a node off: every process
# of its PID namespace killed, as a power cut would):
#   (0) the example's three devices run, none on the node it fences;
#   (a) stonith_admin --reboot: the node really went down and came back;
#   (b) a partitioned node that runs a group (Dummy + pmm-vip on the lab's VIP)
#       is fenced by the survivors BEFORE the group starts on one of them;
#   (c) fence_pmmlab from the host: status, list, monitor, metadata, stdin
#       arguments as the fencer passes them, and bad input.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_begin cluster-fencing
T0=${EPOCHREALTIME/./}
# at WHAT: a mark of the time spent so far in the output.
at() { echo "# $(((${EPOCHREALTIME/./} - T0) / 1000000)) s: $*"; }
# The lab with our agents (pmm-vip); no PMM stand-in is needed.
export LAB_DIR="$H_TMP/lab" LAB_NAME="$H_ID" LAB_TOKEN=${LAB_TOKEN-1000} LAB_FENCING=0
export LAB_NET=${LAB_NET:-198.51.100}
H_LAB="$H_SOURCE/lab/pmmlab"
h_defer "$H_LAB" stop
lab start 3 || h_abort "the lab did not start"
lab install "$H_BUILD" || h_abort "our agents did not install"
h_expect_rc 0 "crm-examples/fencing.pcs.sh applies to the live cluster" \
  lab apply "$H_SOURCE/crm-examples/fencing.pcs.sh"
[ "$H_RC" = 0 ] || h_abort "the fencing example did not apply"
h_expect_rc 0 "(0) the three fence devices start, none on the node it fences" h_wait_for 60 h_fence_devices_started
[ "$H_RC" = 0 ] || { lab status; h_abort "the fence devices did not start"; }
h_match "... fence_pmmlab devices" '^3$' \
  "$(lab exec 1 cibadmin -Q | grep -c 'class="stonith".*type="fence_pmmlab"')"
h_expect_rc 0 "crm_verify -L is clean" lab exec 1 crm_verify -L -V
h_nomatch "... without warnings" 'warning|error' "$H_OUT$H_ERR"
at "the lab runs, fencing on"
bmclog="$LAB_DIR/bmc.log"
vip="$LAB_NET.100"

# shellcheck disable=SC2317 # called through h_expect_rc, which shellcheck does not follow
fence() { "$H_SOURCE/lab/fence_pmmlab" --socket="$LAB_DIR/bmc.sock" "$@"; }
holder() { cat "$LAB_DIR/node$1/holder.pid" 2>/dev/null; }
# alive PID: the process exists and is not a zombie.
alive() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
starttime() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }
# node_procs K: every live process of node K (of its PID namespace), seen from
# the host, as PID:STARTTIME (pids are reused, and so are namespace inodes).
node_procs() {
  local ns p
  ns=$(readlink "/proc/$(holder "$1")/ns/pid") || return 1
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] && alive "${p#/proc/}" &&
      echo "${p#/proc/}:$(starttime "${p#/proc/}")"
  done
}
# still_alive PROCS: those of node_procs' PROCS that still run.
still_alive() {
  local e
  for e in $1; do
    [ "$(starttime "${e%%:*}")" = "${e#*:}" ] && alive "${e%%:*}" && echo "${e%%:*}"
  done
  return 0
}
# bmc_since LINE: bmc.log after its first LINE lines.
bmc_since() { tail -n +"$(($1 + 1))" "$bmclog"; }
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# --- (c) the agent from the host: the read-only actions and bad input -----------
h_expect_rc 0 "fence_pmmlab -o monitor: the BMC answers" fence -o monitor
h_expect_rc 0 "fence_pmmlab -o list" fence -o list
h_match "... lists node1 node2 node3" '^node1 node2 node3$' "$(printf '%s' "$H_OUT" | tr '\n' ' ' | sed 's/ $//')"
h_expect_rc 0 "fence_pmmlab -o metadata" fence -o metadata
h_match "... a fence agent's metadata" '<resource-agent name="fence_pmmlab"' "$H_OUT"
h_check "... well-formed XML" sh -c "'$H_SOURCE/lab/fence_pmmlab' -o metadata | xmllint --noout -"
h_expect_rc 0 "fence_pmmlab -o status -n node1: on" fence -o status -n node1
h_expect_rc 0 "key=value lines on stdin, the fencer's other keys ignored" sh -c \
  "printf 'action=status\nnodename=node2\nport=node2\nplug=node2\ntimeout=20\nsocket=%s\n' '$LAB_DIR/bmc.sock' | '$H_SOURCE/lab/fence_pmmlab'"
h_expect_rc 1 "unknown node: status 1" fence -o status -n node7
h_expect_rc 1 "not a lab node name: status 1" fence -o off -n somehost
h_expect_rc 1 "unknown action: status 1" fence -o frobnicate -n node1
h_expect_rc 1 "unknown node on stdin: status 1" sh -c \
  "printf 'action=off\nnodename=node9\nsocket=%s\n' '$LAB_DIR/bmc.sock' | '$H_SOURCE/lab/fence_pmmlab'"
h_expect_rc 1 "no BMC behind the socket: monitor fails" \
  "$H_SOURCE/lab/fence_pmmlab" --socket="$H_TMP/none.sock" -o monitor
h_expect_rc 0 "the fencer inside a node lists fence_pmmlab" lab exec 1 stonith_admin --list-installed
h_match "... in its /usr/sbin" '^ *fence_pmmlab$' "$H_OUT"
h_check "... while the host's /usr/sbin has no fence_pmmlab" test ! -e /usr/sbin/fence_pmmlab
h_expect_rc 0 "stonith_admin --metadata --agent fence_pmmlab in a node" \
  lab exec 2 stonith_admin --metadata --agent fence_pmmlab
h_match "... shows its parameters" 'parameter name="socket"' "$H_OUT"
h_match "stonith-enabled=true" 'true' "$(lab exec 1 crm_attribute -t crm_config -n stonith-enabled -q)"

# --- (a) stonith_admin --reboot node2 --------------------------------------------
at "(a) stonith_admin --reboot"
old=$(holder 2)
procs=$(node_procs 2)
h_check "node2 runs corosync and Pacemaker: $(echo "$procs" | wc -l) processes" \
  test "$(echo "$procs" | wc -l)" -ge 6
mark=$(wc -l <"$bmclog")
t0=$(now_ms)
h_expect_rc 0 "stonith_admin --reboot node2 from node1" lab exec 1 stonith_admin --reboot node2 --timeout 90
echo "# stonith_admin --reboot node2: $(($(now_ms) - t0)) ms"
if alive "$old"; then h_fail "node2's old PID 1 ($old) is still alive"; else h_pass "node2's old PID 1 died"; fi
left=$(still_alive "$procs")
h_check "... and none of its $(echo "$procs" | wc -l) processes is left${left:+: $left}" test -z "$left"
h_match "bmc.log: off 2, then on 2" \
  'request off 2.*result off 2: ok off.*request on 2.*result on 2: ok on' "$(bmc_since "$mark" | tr '\n' ' ')"
h_expect_rc 0 "node2 comes back online" lab wait-online 90
new=$(holder 2)
if alive "$new" && [ "$new" != "$old" ]; then h_pass "node2 runs again as a new boot (pid $new)"; else h_fail "node2's PID 1: '$new' (was $old)"; fi
h_expect_rc 0 "stonith_admin --history" lab exec 1 stonith_admin --history '*'
h_match "... shows the reboot of node2 successful" 'reboot of node2 successful' "$H_OUT"

# --- (b) partition of the node running the group ----------------------------------
at "(b) partition"
lab exec 1 pcs resource create fx-dummy ocf:heartbeat:Dummy op monitor interval=5s --group fx >/dev/null
lab exec 1 pcs resource create fx-vip ocf:percona:pmm-vip ip="$vip" cidr_netmask=24 arp_count=1 \
  op monitor interval=5s --group fx >/dev/null
# Sticky like every example's group: without it the scheduler may balance the
# group back onto the fenced node when it rejoins.
lab exec 1 pcs resource meta fx resource-stickiness=100 >/dev/null
# started_on K: node K runs the group (the Dummy's state file and the VIP).
started_on() {
  local hp
  hp=$(holder "$1") && alive "$hp" && [ -e "/proc/$hp/root/run/resource-agents/Dummy-fx-dummy.state" ] &&
    ip -n "$LAB_NAME-n$1" -4 -o addr show dev eth0 | grep -q " $vip/"
}
h_wait_for 90 sh -c "[ -n \"\$('$H_LAB' where fx-vip)\" ]"
a=$(lab where fx-vip)
h_expect_rc 0 "the group runs on node${a:-?}" h_wait_for 30 started_on "${a:-0}"
[ "$H_RC" = 0 ] || h_abort "the group did not start"
survivors=$(seq 1 3 | grep -vx "$a" | tr '\n' ' ')
victim=$(holder "$a")
procs=$(node_procs "$a")
mark=$(wc -l <"$bmclog")
t0=$(now_ms)
ip -n "$LAB_NAME-n$a" link set eth0 down
# Poll every 50 ms: the first instant the group runs on a survivor, and
# whether node$a still lived then (survivor first, then the victim: a victim
# seen alive after the start was alive at the start).
started='' at='' violation=''
end=$((t0 + 60000))
while [ "$(now_ms)" -lt "$end" ]; do
  for k in $survivors; do
    if started_on "$k"; then
      at=$(now_ms)
      started=$k
      alive "$victim" && violation="node$a (pid $victim) was still alive when node$k ran the group"
      break
    fi
  done
  [ -n "$started" ] && break
  sleep 0.05
done
echo "# partition of node$a -> group on node${started:-?}: $((${at:-$(now_ms)} - t0)) ms"
[ -n "$started" ] || h_abort "the group never ran on a survivor"
h_pass "the group moved to node$started"
if [ -z "$violation" ]; then h_pass "node$a was dead before a survivor started the group"; else h_fail "$violation"; fi
log=$(bmc_since "$mark")
printf '%s\n' "$log" | sed 's/^/# bmc.log: /'
h_match "bmc.log: the survivors powered node$a off" "result off $a: ok off" "$log"
off_ms=$(printf '%s\n' "$log" | awk -v k="$a" '$3 == "result" && $4 == "off" && $5 == k":" {print $1; exit}')
if [ -n "$off_ms" ] && [ -n "$at" ] && [ "$off_ms" -le "$at" ]; then
  h_pass "... $((off_ms - t0)) ms after the partition, $((at - off_ms)) ms before the group ran elsewhere"
else
  h_fail "node$a powered off at '${off_ms}', the group ran elsewhere at '${at}'"
fi
left=$(still_alive "$procs")
h_check "... and none of node$a's $(echo "$procs" | wc -l) processes is left${left:+: $left}" test -z "$left"
h_expect_rc 0 "the fenced node$a boots again and rejoins" lab wait-online 90
h_match "bmc.log: node$a powered on again" "result on $a: ok on" "$(bmc_since "$mark")"
h_match "the group stays on node$started" "^$started$" "$(lab where fx-vip)"
for k in 1 2 3; do
  [ "$k" = "$started" ] && continue
  h_nomatch "node$k has not the VIP" " $vip/" "$(ip -n "$LAB_NAME-n$k" -4 -o addr show 2>&1)"
done
h_match "stonith_admin --history: node$a fenced" "reboot of node$a successful" \
  "$(lab exec "$started" stonith_admin --history "node$a")"

# --- (c) power off and on through the agent, as the fencer calls it --------------
at "(c) off and on"
# A node the group does not run on; the cluster fences it too once it saw it go.
k=$((started % 3 + 1))
old=$(holder "$k")
h_expect_rc 0 "fence_pmmlab action=off on stdin" sh -c \
  "printf 'action=off\nnodename=node$k\nsocket=%s\n' '$LAB_DIR/bmc.sock' | '$H_SOURCE/lab/fence_pmmlab'"
h_expect_rc 2 "... status: off" fence -o status -n "node$k"
if alive "$old"; then h_fail "node$k's PID 1 survived the off"; else h_pass "node$k's PID 1 is gone"; fi
h_expect_rc 0 "fence_pmmlab -o on" fence -o on -n "node$k"
h_expect_rc 0 "... status: on" fence -o status -n "node$k"
h_expect_rc 0 "the cluster recovers: every node online" lab wait-online 90
h_expect_rc 0 "... and the group runs again" \
  h_wait_for 60 sh -c "[ -n \"\$('$H_LAB' where fx-vip)\" ]"
at "done"
h_done
