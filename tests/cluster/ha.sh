#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# PMM 3 HA in a 3-node cluster, configured with crm-examples/pmm-ha-podman.*:
# three PMM stand-ins elect their leader among themselves; the promoted
# instance of the pmm-server clone and the VIP follow it when leadership
# moves and when the leader's node crashes, without failed actions and
# without flapping back. Prints the time from a leadership change to the VIP
# answering on the new leader.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_begin cluster-ha
h_lab_start 3 || h_abort "the lab did not start"
local_srv="$LAB_DIR/srv-local"

promoted() { lab exec "$1" crm_mon -1 2>/dev/null | sed -n 's/.*Promoted: \[ *\(node[0-9]\) *\].*/\1/p'; }
# follow_leader OLD WHAT: h_follow_leader as a test step; prints the times.
follow_leader() {
  h_expect_rc 0 "PMM elects another leader and the VIP follows it: $2" h_follow_leader "$1"
  echo "# $2: PMM elected node$H_NEW in $H_ELECT_MS ms; the VIP answered there $H_VIP_MS ms later"
}
# shellcheck disable=SC2317 # called through h_expect_rc, which shellcheck does not follow
no_failures() { ! lab exec "$1" crm_mon -1 2>/dev/null | grep -q 'Failed Resource Actions'; }

h_expect_rc 0 "crm-examples/pmm-ha-podman.pcs.sh applies" lab apply "$H_SOURCE/crm-examples/pmm-ha-podman.pcs.sh"
[ "$H_RC" = 0 ] || h_abort "the example did not apply"
h_expect_rc 0 "the VIP reaches PMM's leader" h_wait_for 180 h_vip_on_leader
[ "$H_RC" = 0 ] || { lab status; h_abort "no leader on the VIP"; }
h_expect_rc 0 "crm_verify -L is clean" lab exec 1 crm_verify -L -V
h_nomatch "... without warnings" 'warning|error' "$H_OUT$H_ERR"
h_expect_rc 0 "pmm-ha-check finds nothing in the live cluster" lab exec 1 "$H_BUILD/tools/pmm-ha-check"
for k in 1 2 3; do
  h_match "node$k runs its PMM Server" '^pmm-server$' "$(lab exec "$k" podman ps --format '{{.Names}}')"
done
env2=$(lab exec 2 podman inspect pmm-server --format '{{range .Config.Env}}{{println .}}{{end}}')
h_match "node2's PMM is node2, advertised at its address" \
  "PMM_HA_NODE_ID=node2" "$env2"
h_match "... with all three peers" "PMM_HA_PEERS=$LAB_NET.11,$LAB_NET.12,$LAB_NET.13" "$env2"
h_match "... and the shared key" "PMM_ENCRYPTION_KEY_PATH=/etc/pmm-ha/encryption.key" "$env2"
a=$(h_leaders)
h_match "exactly one PMM leads" '^[123]$' "$a"
h_match "the VIP is on the leader's node" "^$a$" "$(lab where pmm-vip)"
h_match "the leader's instance is the promoted one" "^node$a$" "$(promoted 1)"
# crm_mon -A1: pmm-leader on the promoted instance's node only, PMM ready on
# all three, and the same HA key fingerprint everywhere.
# shellcheck disable=SC2317 # called through leader_is
leader_nodes() { lab exec 1 crm_mon -A1 | awk '/Node: /{n=$3} /pmm-leader[[:space:]]+: yes/{print n}' | tr -d ':' | tr '\n' ' '; }
# shellcheck disable=SC2317 # called through h_wait_for
leader_is() { [ "$(leader_nodes)" = "node$1 " ]; }
h_expect_rc 0 "pmm-leader is yes on node$a alone (set once settled, seconds after promote)" \
  h_wait_for 20 leader_is "$a"
attrs=$(lab exec 1 crm_mon -A1)
h_match "pmm-state ready on every node" '^3$' "$(printf '%s\n' "$attrs" | grep -Ec 'pmm-state[[:space:]]+: ready')"
h_match "one pmm-ha-key on every node" '^3 1$' \
  "$(printf '%s\n' "$attrs" | grep -Eo 'pmm-ha-key[[:space:]]+: [0-9a-f]{16}' | awk '{print $3}' | sort | uniq -c | awk '{print $1, NR}')"

# --- PMM moves its leadership: the promoted role and the VIP follow ------------
lab exec "$a" touch "$local_srv/standin/stepdown"
follow_leader "$a" "node$a stepped down"
b=$H_NEW
h_match "node$b's instance is promoted" "^node$b$" "$(promoted "$b")"
h_expect_rc 0 "pmm-leader follows: node$b alone" h_wait_for 20 leader_is "$b"
lab exec "$a" rm -f "$local_srv/standin/stepdown"
# 18 s, many unpromoted monitors: nothing moves back, nothing fails.
sleep 18
h_match "leadership stays on node$b (PMM's choice)" "^$b$" "$(h_leaders)"
h_match "the VIP stays on node$b: no flapping" "^$b$" "$(lab where pmm-vip)"
h_expect_rc 0 "no failed actions after the move" no_failures "$b"

# --- the leader's node crashes ---------------------------------------------------
lab crash "$b"
follow_leader "$b" "node$b crashed (token ${LAB_TOKEN:-default})"
c=$H_NEW
h_match "node$c's instance is promoted" "^node$c$" "$(promoted "$c")"

lab start-node "$b" >/dev/null 2>&1
h_expect_rc 0 "node$b rejoins" lab wait-online 60
# shellcheck disable=SC2317 # called through h_wait_for, which shellcheck does not follow
rejoined() { lab exec "$b" podman ps --format '{{.Names}}' | grep -qx pmm-server && [ "$(lab leader-status "$b")" = 400 ]; }
h_expect_rc 0 "node$b runs its PMM Server again, as a follower" h_wait_for 120 rejoined
sleep 7
h_match "the VIP stays on node$c" "^$c$" "$(lab where pmm-vip)"
h_match "and PMM's leader too" "^$c$" "$(h_leaders)"

# --- refused configurations --------------------------------------------------------
agent=/usr/lib/ocf/resource.d/percona/pmm-server
ocf=(env OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=p:0 OCF_RESKEY_image=localhost/pmm-standin:3
     OCF_RESKEY_data_dir="$local_srv" OCF_RESKEY_CRM_meta_promotable=true OCF_RESKEY_CRM_meta_clone=0)
h_expect_rc 6 "a promotable clone without ha=true is refused" lab exec "$c" "${ocf[@]}" "$agent" validate-all
h_match "... saying why" 'ocf-exit-reason:.*ha=true.*corrupt' "$H_ERR"
h_expect_rc 6 "promoted-max=2 is refused" lab exec "$c" "${ocf[@]}" OCF_RESKEY_ha=true \
  OCF_RESKEY_ha_peers=node1=10.0.0.1 OCF_RESKEY_CRM_meta_promoted_max=2 "$agent" validate-all
h_expect_rc 6 "a node missing from ha_peers is refused" lab exec "$c" "${ocf[@]}" OCF_RESKEY_ha=true \
  OCF_RESKEY_ha_peers=nodeX=10.0.0.1 "$agent" validate-all
h_match "... saying why" "ocf-exit-reason:.*no address for this node 'node$c'" "$H_ERR"
ha=(OCF_RESKEY_ha=true "OCF_RESKEY_ha_peers=node$c=10.0.0.$c")
h_expect_rc 6 "ha=true without the shared key is refused" lab exec "$c" "${ocf[@]}" "${ha[@]}" \
  "$agent" validate-all
h_match "... saying why" "ocf-exit-reason:ha=true needs ha_key_file" "$H_ERR"
key="$LAB_DIR/root-only.key"
head -c 32 /dev/urandom | base64 >"$key"
chmod 0600 "$key"
h_expect_rc 5 "a key PMM's user (uid 1000) cannot read is refused" lab exec "$c" "${ocf[@]}" "${ha[@]}" \
  OCF_RESKEY_ha_key_file="$key" "$agent" validate-all
h_match "... saying how to fix it" "ocf-exit-reason:.*not readable by PMM's user .*chown root:1000" "$H_ERR"
chgrp 1000 "$key" && chmod 0640 "$key"
h_expect_rc 0 "... accepted once 0640 root:1000" lab exec "$c" "${ocf[@]}" "${ha[@]}" \
  OCF_RESKEY_ha_key_file="$key" "$agent" validate-all
h_expect_rc 6 "a host name as this node's advertise address is refused" lab exec "$c" "${ocf[@]}" \
  OCF_RESKEY_ha=true "OCF_RESKEY_ha_peers=node$c=pmm$c.example.com" OCF_RESKEY_ha_key_file="$key" \
  "$agent" validate-all
h_match "... saying why" "ocf-exit-reason:this node's advertise address 'pmm$c.example.com'" "$H_ERR"

# --- the crmsh example, the same way ----------------------------------------------
lab exec 1 pcs resource delete pmm-vip >/dev/null 2>&1
h_expect_rc 0 "the pcs example's clone stops" lab exec 1 pcs resource disable pmm-server-clone --wait=120
lab exec 1 pcs resource delete pmm-server-clone >/dev/null 2>&1
lab exec 1 pcs resource delete pmm-image >/dev/null 2>&1
lab exec 1 cibadmin --replace -o rsc_defaults -X '<rsc_defaults/>' >/dev/null
# shellcheck disable=SC2317 # called through h_wait_for, which shellcheck does not follow
gone() { for k in 1 2 3; do [ -z "$(lab exec "$k" podman ps -q 2>/dev/null)" ] || return 1; done; }
h_expect_rc 0 "no PMM container is left" h_wait_for 60 gone
h_expect_rc 0 "crm-examples/pmm-ha-podman.crm loads" lab apply "$H_SOURCE/crm-examples/pmm-ha-podman.crm"
h_expect_rc 0 "crm: the VIP reaches PMM's leader" h_wait_for 180 h_vip_on_leader
h_expect_rc 0 "crm: crm_verify -L is clean" lab exec 1 crm_verify -L -V
h_nomatch "... without warnings" 'warning|error' "$H_OUT$H_ERR"
l=$(h_leaders)
h_match "crm: the VIP is on the leader's node" "^$l$" "$(lab where pmm-vip)"
h_match "crm: the leader's instance is promoted" "^node$l$" "$(promoted "$l")"
# --- an image that ignores PMM_HA_*: every PMM leads; the agent refuses it -------
# (a PMM 2 image, or a PMM 3 before HA: each PMM would run the leader's work
# against the one shared database).
env=$(lab exec 1 crm_resource -r pmm-server -g env 2>/dev/null)
h_expect_rc 0 "the stand-ins now ignore PMM_HA_* (env STANDIN_HA=ignore)" \
  lab exec 1 crm_resource -r pmm-server -p env -v "$env STANDIN_HA=ignore"
# shellcheck disable=SC2317 # called through h_wait_for, which shellcheck does not follow
refused() { lab exec 1 crm_mon -1 2>/dev/null | grep -q 'PMM 3 HA is not working: PMM leads on this node and on'; }
h_expect_rc 0 "the agent says PMM 3 HA is not working: several PMMs lead at once" h_wait_for 120 refused
h_expect_rc 0 "... and the cluster stops PMM on every node (6: fatal)" h_wait_for 90 gone
promoted_now=$(promoted 1)
h_check "... no instance is promoted" test -z "$promoted_now"
vip_now=$(lab where pmm-vip)
h_check "... and the VIP runs nowhere" test -z "$vip_now"
h_done
