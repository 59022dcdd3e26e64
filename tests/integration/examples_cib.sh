#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every crm-examples file, as a user runs it, against a CIB file instead of a
# live cluster (pcs -f; crmsh with CIB_file), in the order the files say:
# fencing first, then the PMM resources; then crm_verify with every node
# online, and what each file promises: the group order, the two-node
# priorities, the comments crmsh keeps with the elements they describe. The
# examples the lab can run (fencing, podman, docker, PMM 3 HA) are applied
# to a live cluster by the cluster tests; the two-node (SBD) and LVM ones,
# which need a watchdog and LVM's system ID, are checked here.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_begin examples-cib
h_ocf_env
# The agents under a test-only provider, removed at exit.
provider=$(h_ocf_provider) || h_abort "the agents are not built"
# pcs, as the .pcs.sh files call it, on the CIB file $CIB.
mkdir -p "$H_TMP/shim"
cat >"$H_TMP/shim/pcs" <<'SHIM'
#!/bin/sh
exec /usr/sbin/pcs -f "$CIB" "$@"
SHIM
chmod 755 "$H_TMP/shim/pcs"

# new_cib NODES: an empty CIB with those nodes, as $CIB.
new_cib() {
  local k
  CIB="$H_TMP/cib-$((++n)).xml"
  export CIB
  cibadmin --empty | sed 's/<cib /<cib have-quorum="1" /' >"$CIB"
  for k in $(seq 1 "$1"); do
    CIB_file="$CIB" cibadmin -C -o nodes -X "<node id=\"$k\" uname=\"node$k\"/>"
    CIB_file="$CIB" cibadmin -C -o status -X "<node_state id=\"$k\" uname=\"node$k\" \
in_ccm=\"true\" crmd=\"online\" join=\"member\" expected=\"member\"/>"
  done
}
# apply FILE: runs an example against $CIB as its header says to.
# shellcheck disable=SC2317 # called through h_expect_rc
apply() {
  local copy
  copy="$H_TMP/$(basename "$1")"
  sed "s|ocf:percona:|ocf:$provider:|g" "$H_SOURCE/crm-examples/$1" >"$copy"
  case $1 in
    *.pcs.sh) PATH="$H_TMP/shim:$PATH" sh "$copy" ;;
    *.crm) CIB_file="$CIB" crm configure load update "$copy" ;;
  esac
}
x() { xmllint --xpath "$1" "$CIB" 2>/dev/null; }
group_order() { x "//group[@id='pmm']/primitive/@id" | sed 's/ *id="\([^"]*\)"/\1 /g' | tr -d '\n'; }
n=0

for pair in "fencing pmm-lvm" "two-node pmm-podman"; do
  read -r first_file second_file <<<"$pair"
  set -- "$first_file" "$second_file"
  for ext in pcs.sh crm; do
    new_cib "$([ "$1" = two-node ] && echo 2 || echo 3)"
    h_expect_rc 0 "$1.$ext applies to a CIB file" apply "$1.$ext"
    h_nomatch "... without deprecation warnings" 'deprecated' "$H_OUT$H_ERR"
    h_expect_rc 0 "... then $2.$ext" apply "$2.$ext"
    h_nomatch "... without deprecation warnings" 'deprecated' "$H_OUT$H_ERR"
    h_expect_rc 0 "$1.$ext + $2.$ext: crm_verify is clean" crm_verify -x "$CIB" -V
    h_nomatch "... no warnings" 'warning|error' "$H_OUT$H_ERR"
    h_match "... fencing on" '^true$' "$(x "string(//cluster_property_set//nvpair[@name='stonith-enabled']/@value)")"
    # Nothing is left disabled by the create-disabled-then-enable form.
    h_match "... no resource left disabled" '^0$' "$(x "count(//primitive//nvpair[@name='target-role'])")"
    case $2 in
      pmm-podman)
        h_match "... the group in order: storage, server, VIP" '^pmm-storage pmm-server pmm-vip $' \
          "$(group_order)" ;;
      pmm-lvm)
        h_match "... the volume group first, then storage, server, VIP" \
          '^pmm-lvm pmm-storage pmm-server pmm-vip $' \
          "$(group_order)"
        h_match "... LVM-activate by system ID" '^system_id$' \
          "$(x "string(//primitive[@id='pmm-lvm']//nvpair[@name='vg_access_mode']/@value)")" ;;
    esac
    if [ "$1" = two-node ]; then
      h_match "... a priority fencing delay" '^[0-9]+s$' \
        "$(x "string(//nvpair[@name='priority-fencing-delay']/@value)")"
      h_match "... every resource's priority 1, beside the examples' stickiness" '^1 100$' \
        "$(x "string(//rsc_defaults//nvpair[@name='priority']/@value)") $(x "string(//rsc_defaults//nvpair[@name='resource-stickiness']/@value)")"
    fi
    if [ "$ext" = crm ]; then
      shown=$(CIB_file="$CIB" crm configure show 2>/dev/null)
      h_nomatch "... crmsh kept no note meant for the file's editor" 'Before use|crm configure load' "$shown"
      h_match "... the overview sits with the group it describes" '^1$' \
        "$(printf '%s\n' "$shown" | grep -B1 -E '^group pmm ' | head -1 | grep -c '^# ')"
      h_match "... and why fencing, with the property that turns it on" '^1$' \
        "$(printf '%s\n' "$shown" | grep -B1 -E '^property cib-bootstrap-options' | head -1 | grep -c '^# ')"
    fi
  done
done
h_done
