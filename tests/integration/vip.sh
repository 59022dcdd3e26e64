#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pmm-vip on the real kernel: two network namespaces joined by a veth pair,
# "node" A (where the agent runs) and "peer" B (a client on the same link that
# watches what the agent sends). Only TEST-NET and 2001:db8::/32 addresses,
# only inside the namespaces this test creates.
#
# The background announcer outlives the agent by design; this machine's PID 1
# does not reap orphans, so the test makes itself their reaper (a subreaper
# that bash then reaps like any child).
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_subreaper "$0" "$@"
# shellcheck source=SCRIPTDIR/vip_lib.sh
. "$(dirname "$0")/vip_lib.sh"
h_begin vip
vip_setup

# --- ocf-tester, as users run it on IPaddr2 ----------------------------------
h_expect_rc 0 "ocf-tester passes (IPv4, nic given, network_namespace)" \
  ocf-tester -n vip4 -o ip=198.51.100.10 -o nic=eth0 -o network_namespace="$nsA" "$agent"
h_match "... every test" 'passed all tests' "$H_OUT"
h_expect_rc 0 "ocf-tester passes (IPv6, nic found by route, network_namespace)" \
  ocf-tester -n vip6 -o ip=2001:db8:1::10 -o network_namespace="$nsA" "$agent"
h_match "... every test" 'passed all tests' "$H_OUT"
h_check "ocf-tester left no address behind" vip_no_vip

# --- IPv4 start/monitor/stop inside the namespace (in-netns) -----------------
export OCF_RESKEY_ip=198.51.100.10
h_expect_rc 7 "probe before start: not running" env OCF_RESKEY_CRM_meta_interval=0 in-netns "$nsA" "$agent" monitor
h_expect_rc 0 "validate-all finds nic and prefix by route" in-netns "$nsA" "$agent" validate-all

vip_stale_neighbour 198.51.100.10
# 0.3 s of probes, then 5 announcements 0.2 s apart, with room for a slow machine.
vip_listen 2500
t0=$(vip_ms)
h_expect_rc 0 "start (arp_count 5, interval 200 ms, mode both, label)" \
  env OCF_RESKEY_arp_count=5 OCF_RESKEY_arp_interval=200 OCF_RESKEY_arp_mode=both \
  OCF_RESKEY_label=pmm in-netns "$nsA" "$agent" start
elapsed=$(($(vip_ms) - t0))
# 0.3 s of duplicate address probes (run_arping), then the first of 5
# announcements: the other 4 (0.8 s) come from the background.
if [ "$elapsed" -lt 650 ]; then h_pass "start returns before the announcements end (${elapsed} ms)"
else h_fail "start took ${elapsed} ms; the announcements after the first belong in the background"; fi
h_check "an announcer runs in the background" vip_announcer_running
addr=$(ip -n "$nsA" -4 -o addr show dev eth0)
h_match "the address is on the nic found by route, with its /24" 'inet 198\.51\.100\.10/24 brd 198\.51\.100\.255 ' "$addr"
h_match "... labelled nic:label" '198\.51\.100\.10/24 .* eth0:pmm' "$addr"
h_expect_rc 0 "monitor" in-netns "$nsA" "$agent" monitor
vip_listened
requests=$(grep -c 'arp request sha='"$macA"' spa=198.51.100.10 tha=00:00:00:00:00:00 tpa=198.51.100.10 dst=ff:ff:ff:ff:ff:ff' "$H_TMP/listen")
replies=$(grep -c 'arp reply sha='"$macA"' spa=198.51.100.10 tha=ff:ff:ff:ff:ff:ff tpa=198.51.100.10 dst=ff:ff:ff:ff:ff:ff' "$H_TMP/listen")
h_match "the peer saw 5 gratuitous ARP requests and 5 replies" '^5 5$' "$requests $replies"
# Start's probes come before its first announcement (the monitor's one probe,
# which may fall in the window too, after it).
probes=$(awk -v mac="$macA" '$0 ~ "arp request sha=" mac " spa=198.51.100.10 " {exit}
  $0 ~ "arp request sha=" mac " spa=0.0.0.0 tha=00:00:00:00:00:00 tpa=198.51.100.10 " {n++}
  END {print n + 0}' "$H_TMP/listen")
h_match "... after 3 duplicate address probes (run_arping)" '^3$' "$probes"
gaps=$(grep 'arp request .*spa=198.51.100.10' "$H_TMP/listen" | awk 'NR > 1 {print $1 - prev} {prev = $1}' | tr '\n' ' ')
h_match "... arp_interval apart (150-350 ms: $gaps)" '^((1[5-9][0-9]|2[0-9][0-9]|3[0-4][0-9]) ){4}$' "$gaps"
h_match "the peer's stale neighbour entry now points at the node" "lladdr $macA" \
  "$(ip -n "$nsB" neigh show 198.51.100.10 dev eth0)"
vip_listen 500
h_expect_rc 0 "start again is idempotent" env OCF_RESKEY_arp_count=1 in-netns "$nsA" "$agent" start
vip_listened
h_match "... and announces again: one request, one reply" '^1 1$' \
  "$(grep -c 'arp request .*spa=198.51.100.10' "$H_TMP/listen") $(grep -c 'arp reply .*spa=198.51.100.10' "$H_TMP/listen")"
h_match "... with the address there once" '^1$' "$(ip -n "$nsA" -o addr show dev eth0 | grep -c ' 198\.51\.100\.10/')"
h_check "the announcer has finished" vip_no_announcer
h_expect_rc 0 "stop" in-netns "$nsA" "$agent" stop
h_check "the address is gone" vip_no_vip
h_expect_rc 7 "monitor after stop" in-netns "$nsA" "$agent" monitor
h_expect_rc 0 "stop again is idempotent" in-netns "$nsA" "$agent" stop

# Announcements only: the duplicate address probes were counted above.
for mode in request reply; do
  vip_listen 1500
  h_expect_rc 0 "start with arp_mode=$mode, arp_count 3" \
    env OCF_RESKEY_run_arping=false OCF_RESKEY_arp_mode=$mode OCF_RESKEY_arp_count=3 OCF_RESKEY_arp_interval=100 in-netns "$nsA" "$agent" start
  vip_listened
  h_match "... only ${mode}s: 3 of them" "^3 $mode$" \
    "$(grep 'spa=198.51.100.10' "$H_TMP/listen" | awk '{print $3}' | uniq -c | awk '{print $1, $2}')"
  h_expect_rc 0 "stop" in-netns "$nsA" "$agent" stop
done

vip_listen 1500
h_expect_rc 0 "start with arp_count 1" \
  env OCF_RESKEY_run_arping=false OCF_RESKEY_arp_count=1 in-netns "$nsA" "$agent" start
h_expect_rc 0 "monitor with arp_count_refresh 2 announces" \
  env OCF_RESKEY_run_arping=false OCF_RESKEY_arp_count_refresh=2 OCF_RESKEY_arp_interval=100 in-netns "$nsA" "$agent" monitor
vip_listened
h_match "... 1 from start, 2 from the monitor" '^3$' "$(grep -c 'arp request sha=.* spa=198.51.100.10' "$H_TMP/listen")"
h_expect_rc 0 "stop" in-netns "$nsA" "$agent" stop
h_check "nothing is left" vip_no_vip

# --- prefix, label, lifetimes, prefix route -----------------------------------
h_expect_rc 0 "start with cidr_netmask 28" env OCF_RESKEY_cidr_netmask=28 in-netns "$nsA" "$agent" start
h_match "... the address has /28" 'inet 198\.51\.100\.10/28 ' "$(ip -n "$nsA" -4 -o addr show dev eth0)"
h_expect_rc 0 "monitor with cidr_netmask 28" env OCF_RESKEY_cidr_netmask=28 in-netns "$nsA" "$agent" monitor
h_expect_rc 0 "stop" in-netns "$nsA" "$agent" stop
h_expect_rc 0 "start with a dotted netmask 255.255.255.128" \
  env OCF_RESKEY_cidr_netmask=255.255.255.128 in-netns "$nsA" "$agent" start
h_match "... the address has /25" 'inet 198\.51\.100\.10/25 ' "$(ip -n "$nsA" -4 -o addr show dev eth0)"
h_expect_rc 0 "stop" in-netns "$nsA" "$agent" stop

export OCF_RESKEY_ip=192.0.2.10 OCF_RESKEY_nic=eth0 OCF_RESKEY_cidr_netmask=28
h_expect_rc 0 "start a prefix of its own" in-netns "$nsA" "$agent" start
h_match "... with its prefix route" '^192\.0\.2\.0/28 dev eth0' "$(ip -n "$nsA" -4 route show 192.0.2.0/28)"
h_expect_rc 0 "stop" in-netns "$nsA" "$agent" stop
h_expect_rc 0 "start with noprefixroute" env OCF_RESKEY_noprefixroute=true in-netns "$nsA" "$agent" start
h_match "... the address has noprefixroute" 'inet 192\.0\.2\.10/28 .*noprefixroute' "$(ip -n "$nsA" -4 -o addr show dev eth0)"
h_check "... and no prefix route" test -z "$(ip -n "$nsA" -4 route show 192.0.2.0/28)"
h_expect_rc 0 "monitor with noprefixroute" env OCF_RESKEY_noprefixroute=true in-netns "$nsA" "$agent" monitor
h_expect_rc 0 "stop" in-netns "$nsA" "$agent" stop
h_expect_rc 6 "preferred_lft 0 on IPv4 is refused: Linux ignores it there" \
  env OCF_RESKEY_preferred_lft=0 in-netns "$nsA" "$agent" start
h_match "... saying so" "parameter 'preferred_lft' = '0': applies to IPv6 addresses only" "$H_REASON"
unset OCF_RESKEY_cidr_netmask
# As IPaddr2's findif (vip_ipaddr2.sh runs both): 1, so the cluster tries
# another node.
h_expect_rc 1 "start an address with a nic and no subnet of it there fails" in-netns "$nsA" "$agent" start
h_match "... saying why" "^parameter 'nic' = 'eth0': none of its subnets contains 192\.0\.2\.10, so clients could not reach it \\(cidr_netmask forces it\\)$" "$H_REASON"
h_check "... and adds nothing" vip_no_vip
unset OCF_RESKEY_nic OCF_RESKEY_cidr_netmask

# --- IPv6: DAD, then unsolicited neighbour advertisements ---------------------
export OCF_RESKEY_ip=2001:db8:1::10
vip_stale_neighbour 2001:db8:1::10
vip_listen 4000
t0=$(vip_ms)
h_expect_rc 0 "IPv6 start (arp_count 3, interval 200 ms)" \
  env OCF_RESKEY_arp_count=3 OCF_RESKEY_arp_interval=200 in-netns "$nsA" "$agent" start
elapsed=$(($(vip_ms) - t0))
addr=$(ip -n "$nsA" -6 -o addr show dev eth0)
h_match "the address has the /64 of the route" 'inet6 2001:db8:1::10/64 ' "$addr"
h_nomatch "... duplicate address detection is over when start returns (${elapsed} ms)" '2001:db8:1::10/64 .*tentative' "$addr"
h_expect_rc 0 "monitor" in-netns "$nsA" "$agent" monitor
vip_listened
na=$(grep "na target=2001:db8:1::10 src=2001:db8:1::10 dst=ff02::1 hop=255 flags=O tlla=$macA csum=ok dst=33:33:00:00:00:01" "$H_TMP/listen")
h_match "the peer saw 3 unsolicited neighbour advertisements (override, our MAC, valid checksum)" '^3$' \
  "$(printf '%s\n' "$na" | grep -c .)"
# The kernel's own neighbour solicitation for the address is DAD's start;
# DAD ends RetransTimer (1 s) later, and only then may we advertise.
dad=$(grep -m1 'ns target=2001:db8:1::10 src=:: ' "$H_TMP/listen" | awk '{print $1}')
first=$(printf '%s\n' "$na" | head -n 1 | awk '{print $1}')
if [ -n "$dad" ] && [ -n "$first" ] && [ "$first" -ge $((dad + 900)) ]; then
  h_pass "... the first one after duplicate address detection (DAD probe at $dad ms, advertisement at $first ms)"
else
  h_fail "advertisement at ${first:-never} ms, DAD probe at ${dad:-never} ms: not after DAD"
fi
h_match "the peer's stale neighbour entry now points at the node" "lladdr $macA" \
  "$(ip -n "$nsB" -6 neigh show 2001:db8:1::10 dev eth0)"
h_expect_rc 0 "stop" in-netns "$nsA" "$agent" stop
h_check "the address is gone" vip_no_vip

h_expect_rc 0 "IPv6 start with preferred_lft 0 (and nodad)" \
  env OCF_RESKEY_preferred_lft=0 OCF_RESKEY_nodad=1 in-netns "$nsA" "$agent" start
addr=$(ip -n "$nsA" -6 addr show dev eth0 | grep -A1 '2001:db8:1::10/64')
h_match "... the address is deprecated" 'deprecated' "$addr"
h_match "... preferred_lft 0, valid forever" 'valid_lft forever preferred_lft 0sec' "$addr"
h_match "... and not chosen as a source address" 'src 2001:db8:1::1 ' \
  "$(ip -n "$nsA" -6 route get 2001:db8:1::2)"
h_expect_rc 0 "monitor a deprecated address" env OCF_RESKEY_preferred_lft=0 OCF_RESKEY_nodad=1 in-netns "$nsA" "$agent" monitor
h_expect_rc 0 "stop" in-netns "$nsA" "$agent" stop
h_check "the address is gone" vip_no_vip

# --- network_namespace --------------------------------------------------------
export OCF_RESKEY_ip=198.51.100.10 OCF_RESKEY_network_namespace="$nsA"
h_expect_rc 0 "start with network_namespace, from the root namespace" "$agent" start
h_match "... the address is in the namespace" 'inet 198\.51\.100\.10/24' "$(ip -n "$nsA" -4 -o addr show dev eth0)"
h_expect_rc 0 "monitor with network_namespace" "$agent" monitor
h_expect_rc 0 "reload-agent" env OCF_RESKEY_arp_count=2 "$agent" reload-agent
h_expect_rc 0 "stop with network_namespace" "$agent" stop
h_check "the address is gone" vip_no_vip
export OCF_RESKEY_network_namespace="$H_ID-nosuch"
h_expect_rc 7 "probe in a namespace that does not exist: not running" \
  env OCF_RESKEY_CRM_meta_interval=0 "$agent" monitor
h_expect_rc 1 "recurring monitor there: an error" env OCF_RESKEY_CRM_meta_interval=10000 "$agent" monitor
h_match "... naming the namespace" "network namespace '$H_ID-nosuch' does not exist" "$H_REASON"
h_expect_rc 1 "start there fails" "$agent" start
h_expect_rc 0 "stop there succeeds: nothing can be configured" "$agent" stop
h_expect_rc 6 "validate-all there: not configured" "$agent" validate-all
unset OCF_RESKEY_network_namespace

h_check "no announcer is left" vip_no_announcer
h_done
