#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pmm-vip when another host takes its IPv4 address (run_arping, on by
# default): three namespaces on one bridge, "node" A running the agent,
# client B, and intruder C, which configures the address and announces it
# (gratuitous ARP, as a host that brings an address up does; C runs a second
# pmm-vip with run_arping=false for that). Expected, as a user would want it:
# the monitor notices, keeps the address (every node shares the segment with
# the intruder: moving would not help), wins the client back with gratuitous
# ARP and reports degraded (190) naming the intruder's MAC, monitor after
# monitor, never a failure (no recovery, no flapping); once the intruder
# leaves, monitor is 0 again. Start refuses an address another host answers
# for, within a bounded time.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_subreaper "$0" "$@"
# shellcheck source=SCRIPTDIR/vip_lib.sh
. "$(dirname "$0")/vip_lib.sh"
h_begin vip_duplicate
h_ocf_env
export OCF_RESOURCE_INSTANCE=vip OCF_RESKEY_ip=198.51.100.10
agent=$(h_agent pmm-vip) || exit 1
hub=$(h_netns hub) || exit 1
ip -n "$hub" link add br0 type bridge
ip -n "$hub" link set br0 type bridge stp_state 0 forward_delay 0
ip -n "$hub" link set br0 up
# on_bridge ROLE N: namespace ROLE, its eth0 a port of the bridge, 198.51.100.N.
on_bridge() {
  local ns
  ns=$(h_netns "$1") || return 1
  h_veth "$ns" eth0 "$hub" "port$1" || return 1
  ip -n "$hub" link set "port$1" master br0
  ip -n "$ns" addr add "198.51.100.$2/24" dev eth0
  echo "$ns"
}
nsA=$(on_bridge a 1) || exit 1
nsB=$(on_bridge b 2) || exit 1
nsC=$(on_bridge c 3) || exit 1
mac() { ip -n "$1" -o link show eth0 | sed -n 's|.*link/ether \([0-9a-f:]*\) .*|\1|p'; }
macA=$(mac "$nsA")
macC=$(mac "$nsC")
# B follows every gratuitous ARP at once, as vip_setup's peer does.
in-netns "$nsB" sysctl -qw net.ipv4.neigh.eth0.locktime=0
# shellcheck disable=SC2317 # called through h_check and h_wait_for
# where_b: the MAC address client B sends the VIP's packets to.
where_b() { ip -n "$nsB" neigh show 198.51.100.10 dev eth0 | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p'; }
# shellcheck disable=SC2317
b_at() { [ "$(where_b)" = "$1" ]; }
# intruder VERB: a second pmm-vip, on C, with state of its own.
# shellcheck disable=SC2317 # called through h_expect_rc
intruder() {
  mkdir -p "$H_TMP/intruder"
  env HA_RSCTMP="$H_TMP/intruder" OCF_RESOURCE_INSTANCE=intruder OCF_RESKEY_run_arping=false \
    OCF_RESKEY_arp_count=1 OCF_RESKEY_network_namespace="$nsC" "$agent" "$1"
}
export OCF_RESKEY_network_namespace="$nsA" OCF_RESKEY_CRM_meta_interval=10000

h_expect_rc 0 "start on A" "$agent" start
in-netns "$nsB" ping -c 1 -W 1 198.51.100.10 >/dev/null
h_check "client B reaches the VIP at A ($macA)" b_at "$macA"
h_expect_rc 0 "monitor: nobody else answers for the address" "$agent" monitor
# A's start announces arp_count (5) times, 200 ms apart, from a background
# child (reparented to this script, the subreaper): an intruder announcing
# meanwhile would be outshouted, so it comes once A is quiet.
# shellcheck disable=SC2317 # called through h_wait_for
a_quiet() { ! pgrep -P $$ -x pmm-vip-notify >/dev/null; }
h_expect_rc 0 "A's start announcements are over" h_wait_for 10 a_quiet

# --- the intruder comes -----------------------------------------------------------
h_expect_rc 0 "C configures the address and announces it" intruder start
h_expect_rc 0 "... client B now sends to C" h_wait_for 2 b_at "$macC"
t0=$(vip_ms)
h_expect_rc 190 "monitor on A: degraded" "$agent" monitor
elapsed=$(($(vip_ms) - t0))
h_match "... naming the intruder's MAC" \
  "^198\.51\.100\.10 is also answered by $macC on 'eth0': another host claims the address$" "$H_REASON"
h_check "... in a bounded time (${elapsed} ms, under 5 s; the start timeout is 20 s)" test "$elapsed" -lt 5000
h_expect_rc 0 "... and announced the address again: client B is back at A" h_wait_for 2 b_at "$macA"
h_match "... A keeps the address" ' 198\.51\.100\.10/24 ' "$(ip -n "$nsA" -o addr show dev eth0)"
h_expect_rc 190 "the next monitor: degraded again, not failed (nothing for the cluster to recover)" "$agent" monitor
h_expect_rc 0 "with run_arping=false the monitor does not see it (the check is what notices)" \
  env OCF_RESKEY_run_arping=false "$agent" monitor

# --- the intruder leaves ------------------------------------------------------------
h_expect_rc 0 "C removes the address" intruder stop
h_expect_rc 0 "monitor on A: 0 again" "$agent" monitor
h_check "client B is at A" b_at "$macA"
h_expect_rc 0 "stop on A" "$agent" stop

# --- start where another host has the address -------------------------------------
h_expect_rc 0 "C configures the address again" intruder start
t0=$(vip_ms)
h_expect_rc 1 "start on A refuses it" "$agent" start
elapsed=$(($(vip_ms) - t0))
h_match "... naming the MAC that answered" \
  "^198\.51\.100\.10 is in use by $macC on 'eth0': it answered our ARP probe$" "$H_REASON"
h_check "... in a bounded time (${elapsed} ms, under 5 s; the start timeout is 20 s)" test "$elapsed" -lt 5000
h_nomatch "... and adds nothing" ' 198\.51\.100\.10/' "$(ip -n "$nsA" -o addr show dev eth0)"
h_expect_rc 0 "C removes it" intruder stop
h_expect_rc 0 "then start on A succeeds" "$agent" start
h_expect_rc 0 "stop" "$agent" stop
h_done
