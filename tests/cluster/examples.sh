#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every file in crm-examples/ applied verbatim (only the LUN, mount point, VIP
# and image replaced by the lab's) in a 3-node cluster: crm_verify is clean,
# the group comes up and PMM answers on the VIP. The fencing examples go into
# an offline copy of the CIB: nothing in the lab can be fenced, and no fence
# device may be contacted.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_begin cluster-examples
h_lab_start 3 || h_abort "the lab did not start"
for k in 1 2 3; do lab dockerd "$k" >/dev/null || h_abort "dockerd on node$k"; done
lab import "$H_BUILD/tests/pmm-standin.tar" localhost/pmm-standin:3 2>/dev/null
lab disk >/dev/null

for example in pmm-podman.pcs.sh pmm-podman.crm pmm-docker.pcs.sh pmm-docker.crm; do
  h_expect_rc 0 "$example applies" lab apply "$H_SOURCE/crm-examples/$example"
  [ "$H_RC" = 0 ] || continue
  h_expect_rc 0 "$example: crm_verify -L is clean" lab exec 1 crm_verify -L -V
  h_nomatch "$example: ... no warnings" 'warning|error' "$H_OUT$H_ERR"
  h_expect_rc 0 "$example: PMM answers on the VIP" lab wait-ready 120
  k=$(lab where pmm-server)
  status=$(lab exec 1 crm_mon -1)
  for r in pmm-storage pmm-server pmm-vip; do
    h_match "$example: $r started on node$k" "$r.*Started node$k" "$status"
  done
  engine=podman
  case $example in *docker*) engine=docker ;; esac
  h_match "$example: PMM runs under $engine" "pmm-server" "$(lab exec "$k" "$engine" ps --format '{{.Names}}')"
  h_expect_rc 0 "$example: the group stops" lab exec 1 pcs resource disable pmm --wait=180
  h_expect_rc 0 "$example: nothing is left on any node" h_lab_clean_elsewhere 0
  lab exec 1 pcs resource delete pmm >/dev/null 2>&1
  lab exec 1 cibadmin --replace -o rsc_defaults -X '<rsc_defaults/>' >/dev/null
done

# --- fencing, into an offline CIB --------------------------------------------------
lab exec 1 cibadmin -Q >"$H_TMP/cib-pcs.xml"
cp "$H_TMP/cib-pcs.xml" "$H_TMP/cib-crm.xml"
mkdir -p "$H_TMP/offline"
printf '#!/bin/sh\nexec /usr/sbin/pcs -f "%s" "$@"\n' "$H_TMP/cib-pcs.xml" >"$H_TMP/offline/pcs"
chmod +x "$H_TMP/offline/pcs"
h_expect_rc 0 "fencing.pcs.sh applies (to an offline CIB)" \
  env PATH="$H_TMP/offline:$PATH" sh "$H_SOURCE/crm-examples/fencing.pcs.sh"
h_expect_rc 0 "fencing.crm loads (into an offline CIB)" \
  env CIB_file="$H_TMP/cib-crm.xml" crm configure load update "$H_SOURCE/crm-examples/fencing.crm"
for cib in cib-pcs.xml cib-crm.xml; do
  h_expect_rc 0 "$cib: crm_verify is clean" crm_verify -x "$H_TMP/$cib" -V
  h_nomatch "$cib: ... no warnings" 'warning|error' "$H_OUT$H_ERR"
  x() { xmllint --xpath "$1" "$H_TMP/$cib" 2>/dev/null; }
  h_match "$cib: three IPMI fence devices" '^3$' \
    "$(x "count(//primitive[@class='stonith' and @type='fence_ipmilan'])")"
  h_match "$cib: fencing enabled" '^true$' \
    "$(x "string(//cluster_property_set/nvpair[@name='stonith-enabled']/@value)")"
  h_match "$cib: no node fences itself" '^3$' \
    "$(x "count(//rsc_location[@score='-INFINITY' and substring-after(@rsc, 'fence-') = @node])")"
done
h_done
