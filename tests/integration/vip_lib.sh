# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Helpers shared by the pmm-vip integration tests (sourced after lib.sh).

# vip_setup: namespaces A (the node) and B (a peer on the link), a veth pair
# eth0 <-> eth0, their own addresses (198.51.100.1-2/24, 2001:db8:1::1-2/64),
# and variables: nsA nsB agent listen macA.
# shellcheck disable=SC2034 # the variables are for the tests that source this file
vip_setup() {
  h_ocf_env
  export OCF_RESOURCE_INSTANCE=vip
  agent=$(h_agent pmm-vip) || exit 1
  listen=$(h_agent vip-listen) || exit 1
  nsA=$(h_netns a) || exit 1
  nsB=$(h_netns b) || exit 1
  h_veth "$nsA" eth0 "$nsB" eth0 || exit 1
  ip -n "$nsA" addr add 198.51.100.1/24 dev eth0
  ip -n "$nsB" addr add 198.51.100.2/24 dev eth0
  ip -n "$nsA" addr add 2001:db8:1::1/64 dev eth0 nodad
  ip -n "$nsB" addr add 2001:db8:1::2/64 dev eth0 nodad
  # Let gratuitous ARP override a fresh neighbour entry at once (the default
  # ignores changes within a second of the last one).
  in-netns "$nsB" sysctl -qw net.ipv4.neigh.eth0.locktime=0
  macA=$(ip -n "$nsA" -o link show eth0 | sed -n 's|.*link/ether \([0-9a-f:]*\) .*|\1|p')
}

vip_ms() { date +%s%3N; }

# vip_listen DURATION_MS: records what B's eth0 receives into $H_TMP/listen.
vip_listen() {
  : >"$H_TMP/listen"
  in-netns "$nsB" "$listen" eth0 "$1" >"$H_TMP/listen" &
  VIP_LISTENER=$!
  for _ in $(seq 200); do
    grep -q '^listening' "$H_TMP/listen" && return 0
    sleep 0.02
  done
  return 1
}
vip_listened() { wait "$VIP_LISTENER"; }

# vip_stale_neighbour IP: B believes IP is at another MAC, as a client of
# the node that held the address before would.
vip_stale_neighbour() {
  ip -n "$nsB" neigh replace "$1" lladdr 02:00:00:00:00:99 dev eth0 nud stale
}

# True when A has none of the addresses the tests use as the VIP.
vip_no_vip() {
  ! ip -n "$nsA" -o addr show dev eth0 | grep -Eq ' (198\.51\.100\.10|192\.0\.2\.10|2001:db8:1::10)/'
}

# Background announcers end up as our children (we are their subreaper).
vip_announcers() { ps --ppid $$ -o stat=,pid=,comm= | awk '$1 !~ /^Z/ && $3 == "pmm-vip-notify" {print $2}'; }
vip_announcer_running() { [ -n "$(vip_announcers)" ]; }
vip_no_announcer() { [ -z "$(vip_announcers)" ]; }
