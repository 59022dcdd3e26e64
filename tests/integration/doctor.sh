#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pmm-ha-check on CIB files made as users make them: the crm-examples applied
# with pcs -f and with crmsh (CIB_file), then broken one mistake at a time
# with pcs. Each broken variant: exit 1, exactly the expected findings, and
# the fix the report prints, run as printed (pcs on a pcs-made CIB, crmsh on
# a crmsh-made one), leaves nothing to find. Node facts are set as the
# agents set them (transient attributes in the status section). Also: the
# live path (cibadmin --query, pointed at a file by CIB_file), --ignore,
# --json, exit 2 when there is no CIB, and the agents' defaults the checks
# assume, read from the agents' own meta-data.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_begin doctor
h_ocf_env
provider=$(h_ocf_provider) || h_abort "the agents are not built"
check=$(h_agent pmm-ha-check) || h_abort "pmm-ha-check is not built"

# ids: the findings of the JSON report on stdin, as sorted "id@subject" words.
ids() {
  python3 -c 'import json, sys
print(" ".join(sorted(f["id"] + "@" + f["subject"] for f in json.load(sys.stdin)["findings"])))'
}
# fixes FLAVOUR: the fix commands (pcs or crm) of the JSON report on stdin.
fixes() {
  python3 -c 'import json, sys
for f in json.load(sys.stdin)["findings"]:
    for c in f["fix"][sys.argv[1]]:
        print(c)' "$1"
}
# on_cib CMD: a command line as a user types it, on $CIB (pcs through the
# pcs -f shim, crmsh and the Pacemaker tools through CIB_file).
on_cib() { PATH="$H_TMP/shim:$PATH" CIB_file="$CIB" sh -c "$1"; }

# --- clean bases: every PMM example, each flavour, with fencing first ----------
declare -A base
# shellcheck disable=SC2317 # called through h_expect_rc
apply_both() { h_cib_apply "$provider" "$1" && h_cib_apply "$provider" "$2"; }
make_base() {  # NAME NODES FENCING-FILE EXAMPLE-FILE
  h_cib_new "$2"
  h_expect_rc 0 "base $1: $3 and $4 apply" apply_both "$3" "$4"
  base[$1]=$CIB
  h_expect_rc 0 "base $1: pmm-ha-check finds nothing" "$check" --cib "$CIB"
  h_match "... and says so" "no findings" "$H_OUT"
}
make_base podman-pcs 3 fencing.pcs.sh pmm-podman.pcs.sh
make_base docker-crm 3 fencing.crm pmm-docker.crm
make_base ha-pcs 3 fencing.pcs.sh pmm-ha-podman.pcs.sh
make_base ha-crm 3 fencing.crm pmm-ha-podman.crm

# --- broken variants -------------------------------------------------------------
declare -A seen
# variant BASE FLAVOUR "WANT" WHAT COMMAND...: breaks a copy of BASE with the
# commands; FLAVOUR (pcs, crm or -) is the fix to run.
variant() {
  local from=$1 flavour=$2 want=$3 what=$4 cmd json id got
  shift 4
  CIB="$H_TMP/variant-$((++n)).xml"
  export CIB
  cp "${base[$from]}" "$CIB"
  for cmd in "$@"; do
    if ! on_cib "$cmd" >"$H_TMP/cmd.log" 2>&1; then
      h_fail "$what: '$cmd' failed: $(tail -n 3 "$H_TMP/cmd.log" | tr '\n' ' ')"
      return
    fi
  done
  h_expect_rc "$([ -n "$want" ] && echo 1 || echo 0)" "$what ($from): pmm-ha-check's exit status" \
    "$check" --cib "$CIB" --json
  json=$H_OUT
  got=$(printf '%s' "$json" | ids)
  h_check "... exactly: ${want:-nothing} (found: ${got:-nothing})" test "$got" = "$want"
  for id in $want; do seen[${id%@*}]=1; done
  [ "$flavour" = - ] && return
  while IFS= read -r cmd; do
    case $cmd in pcs\ * | crm\ *) ;; *) continue ;; esac
    cmd=${cmd//ocf:percona:/ocf:$provider:}
    h_expect_rc 0 "... the $flavour fix runs: $cmd" on_cib "$cmd"
  done < <(printf '%s' "$json" | fixes "$flavour")
  h_expect_rc 0 "... and leaves nothing to find" "$check" --cib "$CIB"
}
n=0
variant podman-pcs pcs "fencing-disabled@cluster" "fencing off" \
  "pcs property set stonith-enabled=false"
variant docker-crm crm "fencing-no-device@node3" "no fence device for node3" \
  "pcs stonith delete fence-node3"
variant podman-pcs pcs "fencing-two-node-delay@cluster" "two nodes, no fencing delay" \
  "cibadmin -D -o nodes -X '<node id=\"3\"/>'" "cibadmin -D -o status -X '<node_state id=\"3\"/>'" \
  "pcs stonith delete fence-node3"
variant podman-pcs pcs "order-server-after-storage@pmm-server" "PMM before its storage in the group" \
  "pcs resource group add pmm pmm-server --before pmm-storage"
variant docker-crm crm "colocation-server-with-storage@pmm-server" "the storage out of the group, ordered only" \
  "pcs resource group remove pmm pmm-storage" "pcs constraint order start pmm-storage then start pmm"
variant podman-pcs pcs "colocation-vip-with-server@pmm-vip" "the VIP out of the group, ordered only" \
  "pcs resource group remove pmm pmm-vip" "pcs constraint order start pmm then start pmm-vip"
variant docker-crm crm "order-vip-after-server@pmm-vip" "the VIP out of the group, colocated only" \
  "pcs resource group remove pmm pmm-vip" "pcs constraint colocation add pmm-vip with pmm INFINITY"
variant ha-pcs pcs "clone-not-promotable@pmm-server-clone" "PMM 3 HA in a plain clone" \
  "pcs resource meta pmm-server-clone promotable=false"
variant ha-crm crm "promotable-ha-false@pmm-server" "PMM 3 HA with ha=false" \
  "pcs resource update pmm-server ha=false"
variant ha-pcs pcs "promotable-max@pmm-server-clone" "two promoted instances" \
  "pcs resource meta pmm-server-clone promoted-max=2"
variant ha-pcs pcs "role-monitors-missing@pmm-server" "no Unpromoted monitor" \
  "pcs resource op remove pmm-server monitor interval=500ms role=Unpromoted timeout=30s"
variant ha-crm crm "colocation-vip-with-server@pmm-vip" "the VIP with the clone, any role" \
  "pcs constraint delete pmm-vip-with-leader" \
  "pcs constraint colocation add pmm-vip with pmm-server-clone INFINITY"
variant ha-crm crm "order-vip-after-server@pmm-vip" "no order between promotion and VIP" \
  "pcs constraint delete pmm-vip-after-promote"
variant podman-pcs pcs "timeout-stop-grace@pmm-server" "stop_grace beyond the stop timeout" \
  "pcs resource update pmm-server stop_grace=320"
variant docker-crm crm "timeout-stop@pmm-server" "a 120 s stop" \
  "pcs resource update pmm-server op stop timeout=120s"
variant podman-pcs pcs "timeout-start@pmm-server" "a 60 s start" \
  "pcs resource update pmm-server op start timeout=60s"
variant docker-crm crm "timeout-monitor@pmm-server timeout-monitor@pmm-server" \
  "health_timeout as long as both monitors' timeout" \
  "pcs resource update pmm-server health_timeout=30"
variant podman-pcs pcs "require-mount-false@pmm-server" "require_mount=false" \
  "pcs resource update pmm-server require_mount=false"
variant docker-crm crm "run-opts-restart@pmm-server" "a restart policy in run_opts" \
  "pcs resource update pmm-server 'run_opts=--memory 8g --restart=always'"
variant podman-pcs pcs "device-unstable@pmm-storage" "/dev/sdb" \
  "pcs resource update pmm-storage device=/dev/sdb"
variant docker-crm crm "fencing-disabled@cluster force-unmount-without-fencing@pmm-storage" \
  "force_unmount=false, fencing off" \
  "pcs resource update pmm-storage force_unmount=false" "pcs property set stonith-enabled=false"
variant podman-pcs pcs "image-not-watched@cluster" "no pmm-image clone" \
  "pcs resource delete pmm-image-clone"
variant podman-pcs - "node-image-absent@node3" "node3 without the image" \
  "crm_attribute -N node3 -l reboot -n pmm-image -v absent"
variant ha-pcs - "node-ha-key-differs@node2" "node2 with another key" \
  "crm_attribute -N node1 -l reboot -n pmm-ha-key -v 0123456789abcdef" \
  "crm_attribute -N node2 -l reboot -n pmm-ha-key -v fedcba9876543210" \
  "crm_attribute -N node3 -l reboot -n pmm-ha-key -v 0123456789abcdef"
variant ha-crm - "node-data-not-writable@node1" "node1's /srv not writable" \
  "crm_attribute -N node1 -l reboot -n pmm-data -v not-writable"
variant podman-pcs - "node-srv-space@node2" "node2's /srv low" \
  "crm_attribute -N node2 -l reboot -n pmm-srv-space -v low" \
  "crm_attribute -N node2 -l reboot -n pmm-srv-free -v 6"
variant podman-pcs - "" "node facts that are fine" \
  "crm_attribute -N node1 -l reboot -n pmm-image -v present" \
  "crm_attribute -N node1 -l reboot -n pmm-srv-space -v ok" \
  "crm_attribute -N node1 -l reboot -n pmm-data -v writable"
while read -r id _; do
  h_check "every check is seen: $id" test -n "${seen[$id]:-}"
done < <("$check" --list)

# --- the command line ------------------------------------------------------------
CIB="$H_TMP/variant-20.xml"  # /dev/sdb (device-unstable, fixed by then): break it again
cp "${base[podman-pcs]}" "$CIB"
on_cib "pcs resource update pmm-storage device=/dev/sdb" >/dev/null 2>&1
h_expect_rc 1 "the text report" "$check" --cib "$CIB"
h_match "... names the finding" "^warning device-unstable \(pmm-storage\)$" "$H_OUT"
h_match "... and the fixes" "^  pcs:  pcs resource update pmm-storage device=" "$H_OUT"
h_match "... both" "^  crm:  crm resource param pmm-storage set device " "$H_OUT"
h_expect_rc 0 "--ignore leaves a known finding out" "$check" --cib "$CIB" --ignore device-unstable
h_expect_rc 1 "the live CIB (cibadmin --query) gives the same" env CIB_file="$CIB" "$check" --json
h_match "... findings" "^device-unstable@pmm-storage$" "$(printf '%s' "$H_OUT" | ids)"
h_match "... from the live CIB" '"source": "the live CIB"' "$H_OUT"
# shellcheck disable=SC2016 # expanded by that shell
h_expect_rc 1 "- reads standard input" sh -c '"$1" --cib - <"$2"' - "$check" "$CIB"
h_expect_rc 2 "an unknown check to ignore is refused" "$check" --cib "$CIB" --ignore no-such-check
h_match "... naming it" "no check is called 'no-such-check'" "$H_ERR"
h_expect_rc 2 "a missing file: exit 2" "$check" --cib "$H_TMP/none.xml"
h_match "... saying why" "cannot read the CIB: cannot read '.*none.xml'" "$H_ERR"
echo 'not xml' >"$H_TMP/junk.xml"
h_expect_rc 2 "a file that is not XML: exit 2" "$check" --cib "$H_TMP/junk.xml"
echo '<html/>' >"$H_TMP/html.xml"
h_expect_rc 2 "XML that is not a CIB: exit 2" "$check" --cib "$H_TMP/html.xml"
h_expect_rc 2 "no cluster to ask: exit 2" env CIB_file="$H_TMP/none.xml" "$check" --timeout 5
h_expect_rc 2 "an unknown option: exit 2" "$check" --frobnicate

# --- the defaults the checks assume are the agents' ---------------------------------
default() {  # AGENT PARAMETER
  "$(h_agent "$1")" meta-data |
    xmllint --xpath "string(//parameter[@name='$2']/content/@default)" - 2>/dev/null
}
h_match "pmm-server's health_timeout defaults to 5 s" '^5$' "$(default pmm-server health_timeout)"
h_match "... require_mount to true" '^true$' "$(default pmm-server require_mount)"
h_match "... ha to false" '^false$' "$(default pmm-server ha)"
h_match "pmm-storage's force_unmount defaults to true" '^true$' "$(default pmm-storage force_unmount)"
h_done
