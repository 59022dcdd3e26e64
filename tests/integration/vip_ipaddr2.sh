#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pmm-vip beside the stock ocf:heartbeat:IPaddr2, in one network namespace,
# with the same parameters: where the address goes, with which prefix, and
# when start refuses (IPaddr2's findif). Node A has eth0 (198.51.100.1/24,
# 2001:db8:1::1/64) and eth1 (no address), each a veth to peer B. Every case
# runs IPaddr2 first, then pmm-vip, each started, looked at and stopped, and
# both must give the same exit code and leave the same address. Where
# pmm-vip answers otherwise on purpose, the test says so and why.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_subreaper "$0" "$@"
h_begin vip_ipaddr2
ipaddr2=/usr/lib/ocf/resource.d/heartbeat/IPaddr2
[ -x "$ipaddr2" ] || h_skip "IPaddr2 is not installed (resource-agents)"
h_ocf_env
export OCF_RESOURCE_INSTANCE=vip
pmmvip=$(h_agent pmm-vip) || exit 1
nsA=$(h_netns a) || exit 1
nsB=$(h_netns b) || exit 1
h_veth "$nsA" eth0 "$nsB" eth0 || exit 1
h_veth "$nsA" eth1 "$nsB" eth1 || exit 1
ip -n "$nsA" addr add 198.51.100.1/24 brd + dev eth0
ip -n "$nsA" addr add 2001:db8:1::1/64 dev eth0 nodad

# vip_on_a IP: the instances of IP on A, one per line ("eth1 198.51.100.10/24"),
# with their broadcast address when BRD is 1 ("... brd 198.51.100.255"). It
# is left out otherwise: with broadcast unset, pmm-vip sets the usual one
# ('+') where IPaddr2 copies the node's own address's, or sets none when no
# route matched (see the broadcast cases).
BRD=0
vip_on_a() {
  ip -n "$nsA" -o addr show | awk -v ip="$1" -v brd="$BRD" '
    { split($4, a, "/") }
    a[1] == ip { line = $2 " " $4; if (brd && $5 == "brd") line = line " brd " $6; print line }'
}

# compare RC EXPECTED WHAT [VAR=VALUE...]: IPaddr2's start and then pmm-vip's,
# with the parameters given, each must exit RC and leave EXPECTED (an
# extended regex over vip_on_a; '': nothing), the same for both, until its
# stop. pmm-vip's exit reason is left in LAST_REASON.
compare() {
  local rc=$1 expected=$2 what=$3 ip=$OCF_RESKEY_ip name agent got first='' arg
  shift 3
  for arg; do
    case $arg in OCF_RESKEY_ip=*) ip=${arg#*=} ;; esac
  done
  for name in IPaddr2 pmm-vip; do
    if [ "$name" = IPaddr2 ]; then agent=$ipaddr2; else agent=$pmmvip; fi
    h_expect_rc "$rc" "$name: $what" env OCF_RESOURCE_INSTANCE="vip-$name" "$@" \
      in-netns "$nsA" "$agent" start
    LAST_REASON=$H_REASON
    got=$(vip_on_a "$ip")
    if [ -z "$expected" ]; then
      h_check "... $name leaves nothing${got:+: $got}" test -z "$got"
    else
      h_match "... $name leaves: ${got:-nothing}" "$expected" "$got"
    fi
    if [ "$name" = IPaddr2 ]; then
      first=$got
    elif [ "$got" = "$first" ]; then
      h_pass "... the same as IPaddr2"
    else
      h_fail "... pmm-vip leaves '$got', IPaddr2 '$first'"
    fi
    env OCF_RESOURCE_INSTANCE="vip-$name" "$@" in-netns "$nsA" "$agent" stop >/dev/null 2>&1
    h_check "... and $name's stop removes it" test -z "$(vip_on_a "$ip")"
  done
}

export OCF_RESKEY_ip=198.51.100.10

# --- nic given, no subnet of the address on it -----------------------------------
compare 1 '' "nic without a route or address of the subnet: start fails" OCF_RESKEY_nic=eth1
h_match "... pmm-vip says why" \
  "^parameter 'nic' = 'eth1': none of its subnets contains 198\.51\.100\.10, so clients could not reach it \\(cidr_netmask forces it\\)$" \
  "$LAST_REASON"
h_expect_rc 1 "... IPaddr2's validate-all fails too" env OCF_RESKEY_nic=eth1 in-netns "$nsA" "$ipaddr2" validate-all
h_expect_rc 6 "... pmm-vip's says 6, as for its other placement problems (it runs no cluster action)" \
  env OCF_RESKEY_nic=eth1 in-netns "$nsA" "$pmmvip" validate-all
compare 1 '' "... IPv6" OCF_RESKEY_ip=2001:db8:1::10 OCF_RESKEY_nic=eth1 OCF_RESKEY_nodad=true
h_match "... pmm-vip says why" "^parameter 'nic' = 'eth1': none of its subnets contains 2001:db8:1::10," \
  "$LAST_REASON"
compare 0 '^eth1 198\.51\.100\.10/24$' "nic and cidr_netmask given, no route: that prefix" \
  OCF_RESKEY_nic=eth1 OCF_RESKEY_cidr_netmask=24
compare 0 '^eth1 198\.51\.100\.10/32$' "... a host prefix, when asked for (a cloud that routes it to the node)" \
  OCF_RESKEY_nic=eth1 OCF_RESKEY_cidr_netmask=32
compare 0 '^eth1 2001:db8:1::10/64$' "... IPv6" \
  OCF_RESKEY_ip=2001:db8:1::10 OCF_RESKEY_nic=eth1 OCF_RESKEY_cidr_netmask=64 OCF_RESKEY_nodad=true
compare 0 '^eth0 198\.51\.100\.10/24$' "nic given with the subnet's route: its prefix" \
  OCF_RESKEY_nic=eth0

# A host address left on such a nic (an older pmm-vip added one): both
# monitors fail it; the probe differs: IPaddr2 says not running (7) and
# leaves it while the cluster starts the address elsewhere, pmm-vip says it
# failed (1), so the cluster stops it here first.
ip -n "$nsA" addr add 198.51.100.10/32 dev eth1
for name in IPaddr2 pmm-vip; do
  if [ "$name" = IPaddr2 ]; then agent=$ipaddr2; else agent=$pmmvip; fi
  h_expect_rc 1 "$name: monitor of a host address on a nic without its subnet fails" \
    env OCF_RESKEY_nic=eth1 OCF_RESKEY_CRM_meta_interval=10000 in-netns "$nsA" "$agent" monitor
done
h_match "... pmm-vip says why" \
  "^198\.51\.100\.10/32 is on 'eth1', but no subnet of the link contains it: clients cannot reach it there$" "$H_REASON"
h_expect_rc 7 "IPaddr2: its probe says not running" \
  env OCF_RESKEY_nic=eth1 OCF_RESKEY_CRM_meta_interval=0 in-netns "$nsA" "$ipaddr2" monitor
h_expect_rc 1 "pmm-vip: its probe says failed, so that the cluster stops it" \
  env OCF_RESKEY_nic=eth1 OCF_RESKEY_CRM_meta_interval=0 in-netns "$nsA" "$pmmvip" monitor
h_expect_rc 0 "pmm-vip: stop removes it" env OCF_RESKEY_nic=eth1 in-netns "$nsA" "$pmmvip" stop
h_check "... it is gone" test -z "$(vip_on_a 198.51.100.10)"

# --- cidr_netmask and the subnet's route ------------------------------------------
compare 1 '' "cidr_netmask wider than the route, nic not given: start fails" OCF_RESKEY_cidr_netmask=16
h_match "... pmm-vip says why" \
  "^parameter 'cidr_netmask' = '16': wider than the subnet of 198\.51\.100\.10 on 'eth0', 198\.51\.100\.0/24$" \
  "$LAST_REASON"
compare 1 '' "... as a dotted netmask" OCF_RESKEY_cidr_netmask=255.255.0.0
compare 1 '' "... IPv6" OCF_RESKEY_ip=2001:db8:1::10 OCF_RESKEY_cidr_netmask=48 OCF_RESKEY_nodad=true
compare 0 '^eth0 198\.51\.100\.10/16$' "cidr_netmask wider than the route, nic given: that prefix" \
  OCF_RESKEY_nic=eth0 OCF_RESKEY_cidr_netmask=16
compare 0 '^eth0 198\.51\.100\.10/28$' "cidr_netmask narrower than the route: that prefix" OCF_RESKEY_cidr_netmask=28
compare 0 '^eth0 198\.51\.100\.10/24$' "cidr_netmask the route's" OCF_RESKEY_cidr_netmask=24

# --- host routes name no subnet ------------------------------------------------------
ip -n "$nsA" route add 192.0.2.10/32 dev eth1 scope link
compare 1 '' "a host route only: start fails" OCF_RESKEY_ip=192.0.2.10
ip -n "$nsA" route add 198.51.100.10/32 dev eth1 scope link
compare 0 '^eth0 198\.51\.100\.10/24$' "a host route on eth1, the subnet's route on eth0: eth0" OCF_RESKEY_ip=198.51.100.10
ip -n "$nsA" route del 198.51.100.10/32 dev eth1
ip -n "$nsA" route del 192.0.2.10/32 dev eth1

# --- broadcast ------------------------------------------------------------------------
BRD=1
compare 0 '^eth0 198\.51\.100\.10/24 brd 198\.51\.100\.255$' "broadcast +" OCF_RESKEY_broadcast=+
compare 0 '^eth0 198\.51\.100\.10/24 brd 198\.51\.100\.0$' "broadcast -" OCF_RESKEY_broadcast=-
compare 0 '^eth0 198\.51\.100\.10/24 brd 198\.51\.100\.127$' "broadcast given" \
  OCF_RESKEY_broadcast=198.51.100.127
compare 0 '^eth0 198\.51\.100\.10/24 brd 10\.1\.2\.3$' "broadcast given outside the subnet" \
  OCF_RESKEY_broadcast=10.1.2.3
compare 0 '^eth0 198\.51\.100\.10/31$' "broadcast + on a /31: none" \
  OCF_RESKEY_nic=eth0 OCF_RESKEY_cidr_netmask=31 OCF_RESKEY_broadcast=+
compare 0 '^eth1 198\.51\.100\.10/24 brd 198\.51\.100\.0$' "broadcast - with nic and cidr_netmask, no route" \
  OCF_RESKEY_nic=eth1 OCF_RESKEY_cidr_netmask=24 OCF_RESKEY_broadcast=-
compare 0 '^eth0 198\.51\.100\.10/24 brd 198\.51\.100\.255$' "broadcast unset: the subnet's usual one" \
  OCF_RESKEY_broadcast=
compare 6 '' "broadcast not an address" OCF_RESKEY_broadcast=bogus
h_match "... pmm-vip says why" "^parameter 'broadcast' = 'bogus': is not an IPv4 address, '\+' or '-'$" "$LAST_REASON"
compare 6 '' "broadcast 0.0.0.0" OCF_RESKEY_broadcast=0.0.0.0

# Where they differ on purpose. broadcast unset, no route (nic and
# cidr_netmask): IPaddr2 finds no address to copy one from and sets none,
# pmm-vip sets the usual one.
for name in IPaddr2 pmm-vip; do
  if [ "$name" = IPaddr2 ]; then agent=$ipaddr2 want='^eth1 198\.51\.100\.10/24$'
  else agent=$pmmvip want='^eth1 198\.51\.100\.10/24 brd 198\.51\.100\.255$'; fi
  h_expect_rc 0 "$name: broadcast unset, nic and cidr_netmask, no route" \
    env OCF_RESKEY_nic=eth1 OCF_RESKEY_cidr_netmask=24 in-netns "$nsA" "$agent" start
  h_match "... $name sets: $(vip_on_a 198.51.100.10)" "$want" "$(vip_on_a 198.51.100.10)"
  env OCF_RESKEY_nic=eth1 OCF_RESKEY_cidr_netmask=24 in-netns "$nsA" "$agent" stop >/dev/null 2>&1
done
# broadcast on IPv6: IPaddr2's validate-all passes and its start fails (1)
# when `ip` refuses it, on every node; pmm-vip refuses the configuration (6).
export OCF_RESKEY_ip=2001:db8:1::10 OCF_RESKEY_nodad=true OCF_RESKEY_broadcast=+
h_expect_rc 0 "IPaddr2: validate-all accepts broadcast on IPv6" in-netns "$nsA" "$ipaddr2" validate-all
h_expect_rc 1 "IPaddr2: its start fails" in-netns "$nsA" "$ipaddr2" start
h_expect_rc 6 "pmm-vip: validate-all refuses broadcast on IPv6" in-netns "$nsA" "$pmmvip" validate-all
h_match "... saying why" "^parameter 'broadcast' = '\+': applies to IPv4 addresses only \(IPv6 has none\)$" "$H_REASON"
h_expect_rc 6 "pmm-vip: start too" in-netns "$nsA" "$pmmvip" start
h_check "... neither added it" test -z "$(vip_on_a 2001:db8:1::10)"
unset OCF_RESKEY_nodad OCF_RESKEY_broadcast

h_done
