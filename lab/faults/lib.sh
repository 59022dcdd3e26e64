# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# What the lab's faults share (lab/faults/*, sourced; not a fault itself).
# They run from "pmmlab fault", which exports LAB_DIR, LAB_NAME, LAB_NET and
# PMMLAB; "check" also gets FAULT_T0_MS, FAULT_BMC_MARK and FAULT_ACK_MS.
set -u

fault_ns() { echo "$LAB_NAME-n$1"; }
fault_holder() {
  local p
  p=$(cat "$LAB_DIR/node$1/holder.pid" 2>/dev/null) && kill -0 "$p" 2>/dev/null && echo "$p"
}

# fault_link K down|up: node K's cluster link (eth0).
fault_link() { ip -n "$(fault_ns "$1")" link set eth0 "$2"; }
# fault_link_heal K: the link up again, unless the node was rebooted (its
# boot did that) or is off.
fault_link_heal() {
  [ -n "$(fault_holder "$1")" ] || return 0
  ip -n "$(fault_ns "$1")" link set eth0 up
}

# fault_nets2: the lab has a public network apart from Corosync's (LAB_NETS=2).
fault_nets2() { [ "$(cat "$LAB_DIR/nets" 2>/dev/null)" = 2 ]; }

# fault_bmc_since: bmc.log's lines after FAULT_BMC_MARK.
fault_bmc_since() { tail -n +"$((${FAULT_BMC_MARK:-0} + 1))" "$LAB_DIR/bmc.log" 2>/dev/null; }

# fault_fenced K: node K was powered off through the BMC since the fault.
fault_fenced() {
  fault_bmc_since | grep -q " result off $1: ok off" && return 0
  echo "node$1 was not fenced (no 'result off $1: ok off' in bmc.log since the fault)"
  return 1
}

# fault_fenced_before_ack K: node K was off before the first write was
# acknowledged after the fault (FAULT_ACK_MS): PMM never ran on two nodes.
fault_fenced_before_ack() {
  local off
  off=$(fault_bmc_since | awk -v k="$1" '$3 == "result" && $4 == "off" && $5 == k":" {print $1; exit}')
  [ -n "$off" ] && [ -n "${FAULT_ACK_MS:-}" ] && [ "$off" -le "$FAULT_ACK_MS" ] && return 0
  echo "node$1 off at '${off:-never}', the first write acknowledged after the fault at '${FAULT_ACK_MS:-never}'"
  return 1
}

# fault_standin_pid K: the host's pid of PMM's process on node K (found by its
# network namespace: network=host puts it in the node's).
fault_standin_pid() {
  local ns p comm hp
  hp=$(fault_holder "$1") || return 1
  ns=$(readlink "/proc/$hp/ns/net") || return 1
  for p in /proc/[0-9]*; do
    read -r comm 2>/dev/null <"$p/comm" || continue
    [ "$comm" = pmm-standin ] && [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$ns" ] &&
      { echo "${p#/proc/}"; return 0; }
  done
  return 1
}

# fault_standin_mode K MODE: the stand-in's failure mode on node K, for the
# boot of PMM that runs now (MODE@BOOT; "ok": none).
fault_standin_mode() {
  local srv boot
  srv=$(fault_srv "$1") || { echo "no PMM data directory found on node$1"; return 1; }
  if [ "$2" = ok ]; then
    "$PMMLAB" exec "$1" sh -c "echo ok >'$srv/standin/mode'" 2>/dev/null
    return 0
  fi
  boot=$("$PMMLAB" exec "$1" cat "$srv/standin/boots") || return 1
  "$PMMLAB" exec "$1" sh -c "echo '$2@$boot' >'$srv/standin/mode'"
}

# fault_srv K: PMM's data directory on node K: the shared disk's mount point
# (the active/passive examples) or the node's own (PMM 3 HA).
fault_srv() {
  local d
  for d in "$LAB_DIR/srv" "$LAB_DIR/srv-local"; do
    "$PMMLAB" exec "$1" test -s "$d/standin/boots" 2>/dev/null && { echo "$d"; return 0; }
  done
  return 1
}

# fault_taking_over OLD: the node other than OLD where pmm-storage is started
# or starting.
fault_taking_over() {
  local k
  for k in $(seq 1 "$(cat "$LAB_DIR/nodes")"); do
    [ "$k" = "$1" ] && continue
    "$PMMLAB" exec "$k" sh -c "findmnt -n '$LAB_DIR/srv' >/dev/null" 2>/dev/null && { echo "$k"; return 0; }
  done
  return 1
}

# fault_stepped_down K: node K's PMM (the stand-in) gave up the leadership for
# want of a quorum since the fault began: its ha-events in the node's own
# /srv, which outlive the container of a fenced node.
fault_stepped_down() {
  awk -v t="${FAULT_T0_MS:-0}" '$1 >= t && /stepping down, no quorum/ { f = 1 } END { exit !f }' \
    "$LAB_DIR/node$1/srv-local/standin/ha-events" 2>/dev/null
}
