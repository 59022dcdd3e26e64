#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pmm-vip's stop contract on the real kernel: stop removes every instance of
# the address start could have added (the address twice with two prefixes,
# on a nic renamed since start) and only those (not the address on an
# interface start refused to use); after a stop, monitor and probe say 7; a
# probe without nic does not call an address on another interface ours; a
# clone is refused. Two namespaces joined by two veth pairs (eth0, eth1),
# as vip.sh.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_subreaper "$0" "$@"
# shellcheck source=SCRIPTDIR/vip_lib.sh
. "$(dirname "$0")/vip_lib.sh"
h_begin vip_stop
vip_setup
h_veth "$nsA" eth1 "$nsB" eth1 || exit 1
ip -n "$nsA" addr add 203.0.113.1/24 dev eth1
export OCF_RESKEY_network_namespace="$nsA" OCF_RESKEY_ip=198.51.100.10 OCF_RESKEY_arp_count=1
record="$HA_RSCTMP/pmm-vip-vip.links"

# vip_on: the instances of the VIP in A, as "IF ADDRESS/PREFIX" lines.
vip_on() { ip -n "$nsA" -4 -o addr show | awk '$4 ~ /^198\.51\.100\.10\// {print $2, $4}'; }
probe=(env OCF_RESKEY_CRM_meta_interval=0 "$agent" monitor)

# --- the address twice, with two prefixes --------------------------------------
h_expect_rc 0 "start (nic found by route)" "$agent" start
ip -n "$nsA" addr add 198.51.100.10/32 dev eth0
h_match "an admin added it again as /32: twice on eth0" '^eth0 198\.51\.100\.10/24 eth0 198\.51\.100\.10/32$' \
  "$(vip_on | sort | tr '\n' ' ' | sed 's/ $//')"
h_expect_rc 0 "monitor: the /24 is served" "$agent" monitor
h_expect_rc 0 "stop" "$agent" stop
h_check "... removes both instances" test -z "$(vip_on)"
h_expect_rc 7 "monitor after stop: not running" "$agent" monitor
h_expect_rc 7 "probe after stop: not running" "${probe[@]}"

h_expect_rc 0 "start with cidr_netmask 32, nic set" env OCF_RESKEY_cidr_netmask=32 OCF_RESKEY_nic=eth0 "$agent" start
ip -n "$nsA" addr add 198.51.100.10/24 dev eth0
h_expect_rc 0 "stop with nic set, the address there as /32 and /24" env OCF_RESKEY_nic=eth0 "$agent" stop
h_check "... removes both instances" test -z "$(vip_on)"
h_expect_rc 7 "monitor after stop: not running" env OCF_RESKEY_nic=eth0 "$agent" monitor

ip -n "$nsA" addr add 198.51.100.10/24 dev eth0
ip -n "$nsA" addr add 198.51.100.10/32 dev eth0
h_expect_rc 0 "start with cidr_netmask 32 while /24 and /32 are there" \
  env OCF_RESKEY_cidr_netmask=32 "$agent" start
h_match "... keeps the /32 only" '^eth0 198\.51\.100\.10/32$' "$(vip_on)"
h_expect_rc 0 "stop" "$agent" stop
h_check "nothing is left" test -z "$(vip_on)"

# --- the address on an interface start would not use (no nic) -------------------
rm -f "$record"  # a node that has not started the resource since boot
ip -n "$nsA" addr add 198.51.100.10/32 dev eth1
h_expect_rc 7 "probe without nic, the address on eth1 (the route says eth0): not ours" "${probe[@]}"
h_expect_rc 1 "start refuses while eth1 has it" "$agent" start
h_match "... saying where it is" "^198\.51\.100\.10 is already configured on 'eth1', not on 'eth0'$" "$H_REASON"
h_expect_rc 0 "stop" "$agent" stop
h_match "... leaves the address on eth1 alone" '^eth1 198\.51\.100\.10/32$' "$(vip_on)"
h_expect_rc 7 "probe after stop: not running" "${probe[@]}"
ip -n "$nsA" addr del 198.51.100.10/32 dev eth1

# --- where start put it, after the routes changed --------------------------------
h_expect_rc 0 "start on eth0, found by route" "$agent" start
h_match "... recorded" "^[0-9]+ eth0$" "$(cat "$record" 2>/dev/null)"
ip -n "$nsA" route add 198.51.100.0/28 dev eth1
h_expect_rc 0 "a longer route now leads to eth1: monitor still finds it on eth0" "$agent" monitor
h_expect_rc 0 "stop" "$agent" stop
h_check "... removes it from eth0" test -z "$(vip_on)"
h_expect_rc 7 "probe after stop: not running" "${probe[@]}"
ip -n "$nsA" route del 198.51.100.0/28 dev eth1

# --- the nic renamed after start ---------------------------------------------------
export OCF_RESKEY_nic=eth0
h_expect_rc 0 "start with nic eth0" "$agent" start
ip -n "$nsA" link set eth0 down
ip -n "$nsA" link set eth0 name lan0
ip -n "$nsA" link set lan0 up
h_match "eth0 is now lan0, with the address" '^lan0 198\.51\.100\.10/24$' "$(vip_on)"
h_expect_rc 0 "stop (nic eth0 does not exist)" "$agent" stop
h_check "... removes it from lan0, the link start used" test -z "$(vip_on)"
h_expect_rc 7 "probe after stop: not running" "${probe[@]}"
ip -n "$nsA" addr add 198.51.100.10/24 dev lan0
h_expect_rc 7 "an address on lan0 that start did not put there: probe" "${probe[@]}"
h_expect_rc 5 "start: the nic is not on this node" "$agent" start
h_expect_rc 0 "stop" "$agent" stop
h_match "... leaves lan0's address alone" '^lan0 198\.51\.100\.10/24$' "$(vip_on)"
ip -n "$nsA" addr del 198.51.100.10/24 dev lan0
ip -n "$nsA" link set lan0 down
ip -n "$nsA" link set lan0 name eth0
ip -n "$nsA" link set eth0 up
unset OCF_RESKEY_nic

# --- a clone ---------------------------------------------------------------------------
clone=(env OCF_RESKEY_CRM_meta_clone=0 OCF_RESKEY_CRM_meta_clone_max=2)
h_expect_rc 6 "validate-all of a clone" "${clone[@]}" "$agent" validate-all
h_match "... saying why" '^pmm-vip cannot be a clone: one address on two nodes is a conflict' "$H_REASON"
h_expect_rc 6 "start of a clone" "${clone[@]}" "$agent" start
h_check "... adds nothing" test -z "$(vip_on)"
h_expect_rc 7 "probe of a clone" "${clone[@]}" env OCF_RESKEY_CRM_meta_interval=0 "$agent" monitor
h_expect_rc 0 "stop of a clone" "${clone[@]}" "$agent" stop
h_match "the meta-data says so" 'cannot be a clone' "$("$agent" meta-data)"

h_check "no announcer is left" vip_no_announcer
h_done
