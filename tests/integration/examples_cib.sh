#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every crm-examples file, as a user runs it, against a CIB file instead of a
# live cluster (pcs -f; crmsh with CIB_file), in the order the files say:
# fencing first, then the PMM resources; then crm_verify with every node
# online, pmm-ha-check with no finding, and what each file promises: the
# group order, the two-node priorities, the comments crmsh keeps with the
# elements they describe. The examples the lab can run (fencing, podman,
# docker, PMM 3 HA) are applied to a live cluster by the cluster tests; the
# two-node (SBD) and LVM ones, which need a watchdog and LVM's system ID, are
# checked here.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_begin examples-cib
h_ocf_env
# The agents under a test-only provider, removed at exit.
provider=$(h_ocf_provider) || h_abort "the agents are not built"
check=$(h_agent pmm-ha-check) || h_abort "pmm-ha-check is not built"
x() { xmllint --xpath "$1" "$CIB" 2>/dev/null; }
group_order() { x "//group[@id='pmm']/primitive/@id" | sed 's/ *id="\([^"]*\)"/\1 /g' | tr -d '\n'; }
for pair in "fencing pmm-lvm" "two-node pmm-podman"; do
  read -r first_file second_file <<<"$pair"
  set -- "$first_file" "$second_file"
  for ext in pcs.sh crm; do
    h_cib_new "$([ "$1" = two-node ] && echo 2 || echo 3)"
    h_expect_rc 0 "$1.$ext applies to a CIB file" h_cib_apply "$provider" "$1.$ext"
    h_nomatch "... without deprecation warnings" 'deprecated' "$H_OUT$H_ERR"
    h_expect_rc 0 "... then $2.$ext" h_cib_apply "$provider" "$2.$ext"
    h_nomatch "... without deprecation warnings" 'deprecated' "$H_OUT$H_ERR"
    h_expect_rc 0 "$1.$ext + $2.$ext: crm_verify is clean" crm_verify -x "$CIB" -V
    h_nomatch "... no warnings" 'warning|error' "$H_OUT$H_ERR"
    h_expect_rc 0 "... pmm-ha-check finds nothing" "$check" --cib "$CIB"
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
