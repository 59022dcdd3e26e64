#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pmm-vip when things go wrong: addresses and links changed behind its back,
# another host holding the address, a start killed half-way, a stale
# announcer record, and bad values in every parameter. Same two-namespace
# set-up as vip.sh (see vip_lib.sh).
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_subreaper "$0" "$@"
# shellcheck source=SCRIPTDIR/vip_lib.sh
. "$(dirname "$0")/vip_lib.sh"
h_begin vip_faults
vip_setup
export OCF_RESKEY_network_namespace="$nsA"

# --- changes behind the agent's back -------------------------------------------
export OCF_RESKEY_ip=198.51.100.10
h_expect_rc 0 "start" "$agent" start
ip -n "$nsA" addr del 198.51.100.10/24 dev eth0
h_expect_rc 7 "address removed behind the agent's back: monitor says not running" "$agent" monitor
h_expect_rc 0 "stop" "$agent" stop

h_expect_rc 0 "start" "$agent" start
ip -n "$nsA" link set eth0 down
h_expect_rc 1 "link down: monitor fails" "$agent" monitor
h_match "... saying why" "^198\.51\.100\.10 is on 'eth0', but the link is down$" "$H_REASON"
h_expect_rc 0 "... unless check_link is false" env OCF_RESKEY_check_link=false "$agent" monitor
h_expect_rc 0 "start brings the link up again" "$agent" start
h_match "... it is up" 'state UP' "$(ip -n "$nsA" link show eth0)"
ip -n "$nsB" link set eth0 down
h_expect_rc 1 "peer gone (no carrier): monitor fails" "$agent" monitor
h_match "... saying why" "^198\.51\.100\.10 is on 'eth0', but the link has no carrier$" "$H_REASON"
t0=$(vip_ms)
h_expect_rc 1 "start on a link up without a carrier fails" "$agent" start
elapsed=$(($(vip_ms) - t0))
h_match "... saying why" "^'eth0' has no carrier \(a cable, switch port or peer is down\): clients cannot reach 198\.51\.100\.10 here$" "$H_REASON"
if [ "$elapsed" -ge 1900 ] && [ "$elapsed" -lt 4000 ]; then h_pass "... after a grace of 2 s, not the start timeout (${elapsed} ms)"
else h_fail "start without a carrier took ${elapsed} ms (a 2 s grace expected)"; fi
h_check "... and leaves no address" vip_no_vip
ip -n "$nsA" link set eth0 down
h_expect_rc 1 "start that brings the link up waits for the carrier until its timeout" \
  env OCF_RESKEY_CRM_meta_timeout=5000 "$agent" start
h_match "... saying why" "'eth0' has no carrier within the start timeout" "$H_REASON"
h_check "... and leaves no address" vip_no_vip
ip -n "$nsB" link set eth0 up
# A link going down takes its IPv6 addresses along: put the set-up's back.
ip -n "$nsA" addr replace 2001:db8:1::1/64 dev eth0 nodad
ip -n "$nsB" addr replace 2001:db8:1::2/64 dev eth0 nodad

h_expect_rc 0 "start" "$agent" start
ip -n "$nsA" addr del 198.51.100.10/24 dev eth0
ip -n "$nsA" addr add 198.51.100.10/16 dev eth0
h_expect_rc 1 "another prefix behind the agent's back: monitor fails" "$agent" monitor
h_match "... saying which" "^198\.51\.100\.10 is on 'eth0' with prefix /16, expected /24$" "$H_REASON"
h_expect_rc 0 "start replaces it" "$agent" start
h_match "... with the right prefix" 'inet 198\.51\.100\.10/24 ' "$(ip -n "$nsA" -4 -o addr show dev eth0)"
h_expect_rc 0 "stop" "$agent" stop
h_check "nothing is left" vip_no_vip

# --- another host has the address -----------------------------------------------
export OCF_RESKEY_ip=2001:db8:1::10
ip -n "$nsB" addr add 2001:db8:1::10/64 dev eth0 nodad
h_expect_rc 1 "IPv6 address already on the peer: start fails" "$agent" start
h_match "... with the dadfailed reason" \
  "^duplicate address detection failed for 2001:db8:1::10 on 'eth0': another host on the link holds the address$" \
  "$H_REASON"
h_check "... and leaves no address behind" vip_no_vip
t0=$(vip_ms)
h_expect_rc 0 "nodad skips the wait (so nothing notices the other host)" \
  env OCF_RESKEY_nodad=yes "$agent" start
elapsed=$(($(vip_ms) - t0))
if [ "$elapsed" -lt 500 ]; then h_pass "... start returned in ${elapsed} ms"; else h_fail "nodad start took ${elapsed} ms"; fi
h_nomatch "... the address is not tentative" 'tentative|dadfailed' "$(ip -n "$nsA" -6 -o addr show dev eth0 | grep '1::10/')"
h_expect_rc 0 "stop" "$agent" stop
ip -n "$nsB" addr del 2001:db8:1::10/64 dev eth0

export OCF_RESKEY_ip=198.51.100.2
h_expect_rc 0 "with run_arping=false an IPv4 duplicate is not checked" \
  env OCF_RESKEY_arp_count=1 OCF_RESKEY_run_arping=false "$agent" start
h_expect_rc 0 "stop" "$agent" stop
macB=$(ip -n "$nsB" -o link show eth0 | sed -n 's|.*link/ether \([0-9a-f:]*\) .*|\1|p')
h_expect_rc 1 "run_arping (default): an IPv4 address the peer holds fails start" "$agent" start
h_match "... naming the MAC that answered" "^198\.51\.100\.2 is in use by $macB on 'eth0': it answered our ARP probe$" "$H_REASON"
h_check "... and adds nothing" test -z "$(ip -n "$nsA" -o addr show dev eth0 | grep ' 198\.51\.100\.2/')"
export OCF_RESKEY_ip=198.51.100.10
h_expect_rc 0 "run_arping: a free address starts" env OCF_RESKEY_run_arping=true "$agent" start
h_expect_rc 0 "stop" "$agent" stop

# --- crashes ------------------------------------------------------------------------
export OCF_RESKEY_ip=2001:db8:1::10
"$agent" start 2>/dev/null &
crashed=$!
for _ in $(seq 100); do
  ip -n "$nsA" -6 -o addr show dev eth0 | grep -q '1::10/64.*tentative' && break
  sleep 0.01
done
kill -KILL "$crashed"
wait "$crashed" 2>/dev/null
h_match "a start killed during DAD leaves a tentative address" 'tentative' \
  "$(ip -n "$nsA" -6 -o addr show dev eth0 | grep '1::10/')"
h_expect_rc 0 "stop after the crash" "$agent" stop
h_check "... removes it" vip_no_vip

export OCF_RESKEY_ip=198.51.100.10
h_expect_rc 0 "start with a long announcement (100 rounds, 1 s apart)" \
  env OCF_RESKEY_arp_count=100 OCF_RESKEY_arp_interval=1000 "$agent" start
announcer=$(vip_announcers)
h_check "... the announcer runs" test -n "$announcer"
h_check "... recorded in HA_RSCTMP" test -s "$HA_RSCTMP/pmm-vip-vip.announcer"
h_expect_rc 0 "stop" "$agent" stop
h_check "... ends the announcer" vip_no_announcer
h_check "... and its record" test ! -e "$HA_RSCTMP/pmm-vip-vip.announcer"
h_check "... and removes the address" vip_no_vip

sleep 300 &
bystander=$!
h_defer kill "$bystander"
printf '%s 1\n' "$bystander" >"$HA_RSCTMP/pmm-vip-vip.announcer"
h_expect_rc 0 "stop with a record whose pid now belongs to another process" "$agent" stop
h_check "... leaves that process alone" kill -0 "$bystander"
h_check "... and drops the record" test ! -e "$HA_RSCTMP/pmm-vip-vip.announcer"

# --- bad configuration ------------------------------------------------------------
bad_config() {  # bad_config DESCRIPTION REASON-REGEX VAR=VALUE...
  local what=$1 reason=$2
  shift 2
  h_expect_rc 6 "validate-all: $what" env "$@" "$agent" validate-all
  h_match "... reason: $reason" "$reason" "$H_REASON"
}
bad_config "not an address" "^parameter 'ip' = 'pmm\.example': is not an IPv4 or IPv6 address$" OCF_RESKEY_ip=pmm.example
bad_config "a multicast address" "^parameter 'ip' = '224\.0\.0\.18': is a multicast address$" OCF_RESKEY_ip=224.0.0.18
bad_config "an IPv6 multicast address" "^parameter 'ip' = 'ff02::1': is a multicast address$" OCF_RESKEY_ip=ff02::1
bad_config "the unspecified address" "^parameter 'ip' = '0\.0\.0\.0': is an unspecified address$" OCF_RESKEY_ip=0.0.0.0
bad_config "the IPv6 unspecified address" "^parameter 'ip' = '::': is an unspecified address$" OCF_RESKEY_ip=::
bad_config "a loopback address" "^parameter 'ip' = '127\.0\.0\.2': is a loopback address$" OCF_RESKEY_ip=127.0.0.2
bad_config "the IPv6 loopback address" "^parameter 'ip' = '::1': is a loopback address$" OCF_RESKEY_ip=::1
bad_config "an IPv4 prefix out of range" "^parameter 'cidr_netmask' = '33': is not a prefix length for IPv4" \
  OCF_RESKEY_cidr_netmask=33
bad_config "an IPv6 prefix out of range" "^parameter 'cidr_netmask' = '129': is not a prefix length" \
  OCF_RESKEY_ip=2001:db8:1::10 OCF_RESKEY_cidr_netmask=129
bad_config "an unknown nic" "^nic 'eth9' does not exist$" OCF_RESKEY_nic=eth9
bad_config "no route to find the nic" "^no route matches '192\.0\.2\.50', so the nic cannot be found; set nic$" \
  OCF_RESKEY_ip=192.0.2.50
bad_config "a link-local address without nic" "^parameter 'nic' is required for the link-local address 'fe80::10'$" \
  OCF_RESKEY_ip=fe80::10
bad_config "a label too long for the nic" "is longer than 15 characters" OCF_RESKEY_label=abcdefghijkl
h_expect_rc 7 "probe where the nic does not exist: not running" \
  env OCF_RESKEY_nic=eth9 OCF_RESKEY_CRM_meta_interval=0 "$agent" monitor
h_expect_rc 5 "start where the nic does not exist: not on this node" env OCF_RESKEY_nic=eth9 "$agent" start
h_match "... saying why" "^nic 'eth9' does not exist$" "$H_REASON"
h_expect_rc 1 "start with no route to find the nic" env OCF_RESKEY_ip=192.0.2.50 "$agent" start

# Every parameter, with shell metacharacters and with 10 KB: refused by
# validate-all and by start, with a message naming the parameter; nothing
# is configured and nothing runs.
params="ip cidr_netmask nic label arp_count arp_interval arp_mode arp_count_refresh nodad
        noprefixroute preferred_lft check_link run_arping network_namespace"
pwned="/tmp/$H_ID-pwned"
h_defer rm -f "$pwned"
big=$(head -c 10240 /dev/zero | tr '\0' 7)
# The addresses only (link, family, address): their flags and lifetimes
# change by themselves (an IPv6 link-local address ends its duplicate
# address detection, "tentative", while the loop runs on a loaded machine).
addresses() { ip -n "$nsA" -o addr show | awk '{print $2, $3, $4}'; }
before=$(addresses)
for p in $params; do
  for kind in meta big; do
    if [ $kind = meta ]; then value="1;touch $pwned;\$(touch $pwned)\`touch $pwned\`|x&"; else value=$big; fi
    for action in validate-all start; do
      h_expect_rc 6 "$action: $p with $kind value" env "OCF_RESKEY_$p=$value" "$agent" $action
      if [ $kind = meta ]; then
        h_match "... reason names '$p' and quotes the value" "^parameter '$p' = '1;touch " "$H_REASON"
      else
        h_match "... reason names '$p' and the size, not the value" \
          "^parameter '$p' = '7{64}' \(cut, 10240 bytes\): is 10240 bytes long" "$H_REASON"
      fi
    done
  done
done
h_check "no bad value ran anything" test ! -e "$pwned"
h_check "no bad value configured anything" test "$before" = "$(addresses)"
h_check "no announcer is left" vip_no_announcer
h_done
