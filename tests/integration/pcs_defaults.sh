#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What pcs and the scheduler make of the agents' meta-data, on a CIB file
# (pcs -f, crm_simulate; no cluster needed):
#   - unique-group: pcs refuses a second resource with the same VIP, device,
#     directory or container name, as it does for the stock agents;
#   - deprecated aliases (IPaddr2's iflabel, podman's allow_pull): pcs warns
#     and names ours;
#   - pmm-image's location rule in the examples: an attribute absent bans,
#     an undefined one does not;
#   - default operations: `pcs resource create ... promotable` without ops
#     monitors both roles (Pacemaker cancels role-less monitors on
#     promotion), and a plain pmm-server gets no role monitor that would
#     never run.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_begin pcs-defaults
h_ocf_env
# The agents under a test-only provider, removed at exit.
provider=$(h_ocf_provider) || h_abort "the agents are not built"
cib="$H_TMP/cib.xml"
cibadmin --empty >"$cib" || h_abort "cibadmin --empty"
pcsf() { pcs -f "$cib" "$@"; }
pcsf property set stonith-enabled=false no-quorum-policy=ignore >/dev/null 2>&1

# --- unique-group -------------------------------------------------------------
h_expect_rc 0 "pcs creates a pmm-vip" pcsf resource create vip1 "ocf:$provider:pmm-vip" ip=192.0.2.10
h_expect_rc 1 "pcs refuses a second pmm-vip with the same ip" \
  pcsf resource create vip2 "ocf:$provider:pmm-vip" ip=192.0.2.10
h_match "... naming the parameter and the resource" "option 'ip' is not unique.*'vip1'" "$H_OUT$H_ERR"
h_expect_rc 0 "pcs creates a pmm-storage" \
  pcsf resource create fs1 "ocf:$provider:pmm-storage" device=/dev/sdx directory=/srv/a
h_expect_rc 1 "pcs refuses a second pmm-storage on the same device" \
  pcsf resource create fs2 "ocf:$provider:pmm-storage" device=/dev/sdx directory=/srv/b
h_match "... naming device" "option 'device' is not unique" "$H_OUT$H_ERR"
h_expect_rc 1 "pcs refuses a second pmm-storage on the same directory" \
  pcsf resource create fs3 "ocf:$provider:pmm-storage" device=/dev/sdy directory=/srv/a
h_match "... naming directory" "option 'directory' is not unique" "$H_OUT$H_ERR"
h_expect_rc 0 "pcs creates a pmm-server" \
  pcsf resource create pmm1 "ocf:$provider:pmm-server" image=percona/pmm-server:3 data_dir=/srv/a \
  name=pmm
# (pcs compares the values set; two left at name's default are not caught.)
h_expect_rc 1 "pcs refuses a second pmm-server with the same container name" \
  pcsf resource create pmm2 "ocf:$provider:pmm-server" image=percona/pmm-server:3 data_dir=/srv/b \
  name=pmm
h_match "... naming name" "option 'name' is not unique" "$H_OUT$H_ERR"

# --- the stock agents' names --------------------------------------------------
h_expect_rc 0 "pcs accepts IPaddr2's iflabel" \
  pcsf resource create vip3 "ocf:$provider:pmm-vip" ip=192.0.2.11 iflabel=pmm
h_match "... and says to use label" "'iflabel' is deprecated.*use 'label' instead" "$H_OUT$H_ERR"
h_expect_rc 0 "pcs accepts podman's allow_pull" \
  pcsf resource create pmm3 "ocf:$provider:pmm-server" image=percona/pmm-server:3 \
  data_dir=/srv/c name=pmm3 allow_pull=true
h_match "... and says to use pull" "'allow_pull' is deprecated.*use 'pull' instead" "$H_OUT$H_ERR"
pcsf resource delete vip3 >/dev/null 2>&1
pcsf resource delete pmm3 >/dev/null 2>&1

# --- default operations and what the scheduler runs -----------------------------
h_expect_rc 0 "pcs creates a promotable pmm-server with the default operations" \
  pcsf resource create ha "ocf:$provider:pmm-server" image=percona/pmm-server:3 \
  data_dir=/srv/ha name=pmm-ha promotable
ops=$(pcsf resource config ha-clone 2>&1)
h_match "... a monitor for the promoted role" "role=Promoted" "$ops"
h_match "... and one for the unpromoted role" "role=Unpromoted" "$ops"
h_match "... and a reload-agent" "reload-agent:" "$ops"
# Everything starts: the promotable instances unpromoted, pmm1 plain.
started="$H_TMP/started.xml"
h_expect_rc 0 "crm_simulate starts the resources on two nodes" \
  crm_simulate -x "$cib" --node-up=node1 --node-up=node2 -S -O "$started"
plain=$(printf '%s\n' "$H_OUT" | grep -E 'Resource action: +pmm1 +monitor=' | sed 's/.*monitor=//; s/ on .*//' | sort -n | tr '\n' ' ')
h_match "the plain pmm-server gets the role-less monitors only (10 s, depth 10 at 60 s)" '^10000 60000 $' "$plain"
unpromoted=$(printf '%s\n' "$H_OUT" | grep -E 'Resource action: +ha:0 +monitor=' | sed 's/.*monitor=//; s/ on .*//' | sort -n | tr '\n' ' ')
h_match "an unpromoted instance gets the unpromoted monitor and the role-less ones" '^6000 10000 60000 $' "$unpromoted"
# A promotion score on node1: the scheduler promotes it.
CIB_file="$started" crm_attribute -N node1 -n master-ha -l reboot -v 10 >/dev/null 2>&1
h_expect_rc 0 "crm_simulate promotes the instance on node1" crm_simulate -x "$started" -S
h_match "... cancelling the role-less monitors" "ha +cancel=10000 on node1" "$H_OUT"
promoted=$(printf '%s\n' "$H_OUT" | grep -E 'Resource action: +ha +monitor=' | sed 's/.*monitor=//; s/ on .*//' | sort -n | tr '\n' ' ')
h_match "the promoted instance is monitored: 5 s, and depth 10 at 61 s" '^5000 61000 $' "$promoted"

# --- pmm-image's location rule, as crm-examples/pmm-podman.pcs.sh writes it -------
# A group pmm (a Dummy here) that prefers node1; the example's own rule line.
rule_cib="$H_TMP/rule.xml"
cibadmin --empty >"$rule_cib"
pcsr() { pcs -f "$rule_cib" "$@"; }
pcsr property set stonith-enabled=false no-quorum-policy=ignore >/dev/null 2>&1
pcsr resource create srv ocf:pacemaker:Dummy --group pmm >/dev/null 2>&1
pcsr constraint location pmm prefers node1=50 >/dev/null 2>&1
rule=$(grep -E '^pcs constraint location pmm rule ' "$H_SOURCE/crm-examples/pmm-podman.pcs.sh")
h_match "the example has the rule" 'pmm-image eq absent' "$rule"
read -ra rule_words <<<"${rule#pcs }"
h_expect_rc 0 "... pcs takes it" pcsr "${rule_words[@]}"
up="$H_TMP/rule-up.xml"
crm_simulate -x "$rule_cib" --node-up=node1 --node-up=node2 --node-up=node3 -O "$up" >/dev/null 2>&1
h_expect_rc 0 "pmm-image undefined everywhere (the cluster starting): PMM goes where it prefers" \
  crm_simulate -x "$up" -S
h_match "... node1" "Resource action: +srv +start on node1" "$H_OUT"
CIB_file="$up" crm_attribute -N node1 -n pmm-image -l reboot -v absent >/dev/null 2>&1
CIB_file="$up" crm_attribute -N node2 -n pmm-image -l reboot -v present >/dev/null 2>&1
h_expect_rc 0 "pmm-image absent on node1: PMM goes elsewhere" crm_simulate -x "$up" -S
h_nomatch "... never to node1" "srv +start on node1" "$H_OUT"
h_match "... to a node without the ban" "Resource action: +srv +start on node[23]" "$H_OUT"
h_done
