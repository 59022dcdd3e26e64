#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every file in crm-examples/ applied verbatim (only the LUN, mount point, VIP
# and image replaced by the lab's, and the IPMI fence devices by the lab's
# BMC) in a 3-node cluster: fencing.crm first, then each PMM example:
# crm_verify is clean, the group comes up and PMM answers on the VIP.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_begin cluster-examples
check="$H_BUILD/tools/pmm-ha-check"
h_lab_start 3 || h_abort "the lab did not start"
for k in 1 2 3; do lab dockerd "$k" >/dev/null || h_abort "dockerd on node$k"; done
lab import "$H_BUILD/tests/pmm-standin.tar" localhost/pmm-standin:3 2>/dev/null
lab disk >/dev/null

# --- fencing first, as the examples say: fencing.crm on the live cluster -------------
# (fencing.pcs.sh is applied live by cluster_fencing, which fences with it.)
h_expect_rc 0 "fencing.crm loads into the live cluster" lab apply "$H_SOURCE/crm-examples/fencing.crm"
h_expect_rc 0 "fencing.crm: the three fence devices start, none on the node it fences" \
  h_wait_for 60 h_fence_devices_started
lab exec 1 cibadmin -Q >"$H_TMP/cib.xml"
h_expect_rc 0 "fencing.crm: crm_verify is clean" crm_verify -x "$H_TMP/cib.xml" -V
h_nomatch "... no warnings" 'warning|error' "$H_OUT$H_ERR"
x() { xmllint --xpath "$1" "$H_TMP/cib.xml" 2>/dev/null; }
h_match "fencing.crm: three fence devices (the lab's in place of IPMI)" '^3$' \
  "$(x "count(//primitive[@class='stonith' and @type='fence_pmmlab'])")"
h_match "fencing.crm: fencing enabled" '^true$' \
  "$(x "string(//cluster_property_set/nvpair[@name='stonith-enabled']/@value)")"
h_match "fencing.crm: no node fences itself" '^3$' \
  "$(x "count(//rsc_location[@score='-INFINITY' and substring-after(@rsc, 'fence-') = @node])")"

# image_is NODE VALUE: crm_mon -A1 shows pmm-image=VALUE for NODE.
# attributes_say N REGEX: N lines of crm_mon -A1 match REGEX.
# shellcheck disable=SC2317 # called through h_wait_for
attributes_say() { [ "$(lab exec 1 crm_mon -A1 | grep -Ec "$2")" = "$1" ]; }
# shellcheck disable=SC2317 # called through h_wait_for
image_is() {
  lab exec 1 crm_mon -A1 | awk -v node="$1:" -v want="$2" \
    '/Node: /{n=$3} /pmm-image[[:space:]]+:/ && n==node && $NF==want{found=1} END{exit !found}'
}

for example in pmm-podman.pcs.sh pmm-podman.crm pmm-docker.pcs.sh pmm-docker.crm; do
  h_expect_rc 0 "$example applies" lab apply "$H_SOURCE/crm-examples/$example"
  [ "$H_RC" = 0 ] || continue
  h_expect_rc 0 "$example: crm_verify -L is clean" lab exec 1 crm_verify -L -V
  h_nomatch "$example: ... no warnings" 'warning|error' "$H_OUT$H_ERR"
  h_expect_rc 0 "$example: PMM answers on the VIP" lab wait-ready 120
  # The doctor on the live cluster: nothing to find. (The lab's LUN is a loop
  # device, /dev/loopN, which it rightly calls unstable across nodes: the one
  # thing the lab changes in the examples that it would report.)
  h_expect_rc 0 "$example: pmm-ha-check finds nothing in the live cluster" \
    lab exec 1 "$check" --ignore device-unstable
  k=$(lab where pmm-server)
  status=$(lab exec 1 crm_mon -1)
  for r in pmm-storage pmm-server pmm-vip; do
    h_match "$example: $r started on node$k" "$r.*Started node$k" "$status"
  done
  engine=podman
  case $example in *docker*) engine=docker ;; esac
  h_match "$example: PMM runs under $engine" "pmm-server" "$(lab exec "$k" "$engine" ps --format '{{.Names}}')"
  if [ "$example" = pmm-podman.pcs.sh ]; then
    # A readiness parameter changes: Pacemaker reloads, PMM keeps running.
    before=$(lab exec "$k" podman inspect --format '{{.Id}} {{.State.StartedAt}}' pmm-server)
    h_expect_rc 0 "$example: health_timeout changes in the live cluster" \
      lab exec 1 crm_resource --resource pmm-server --set-parameter health_timeout --parameter-value 7
    h_expect_rc 0 "... the cluster settles" lab exec 1 crm_resource --wait --timeout=120
    h_match "... through reload-agent" "Result of reload-agent operation for pmm-server on node$k: ok" \
      "$(lab exec "$k" cat /var/log/pacemaker/pacemaker.log 2>&1)"
    after=$(lab exec "$k" podman inspect --format '{{.Id}} {{.State.StartedAt}}' pmm-server)
    h_check "... the same container, not restarted (${after:-none})" test -n "$before" -a "$before" = "$after"
    h_expect_rc 0 "... and PMM still answers on the VIP" lab wait-ready 30

    # PMM's state where admins look: crm_mon -A1.
    h_expect_rc 0 "$example: every node's pmm-image is published" \
      h_wait_for 60 attributes_say 3 'pmm-image[[:space:]]+: present'
    h_expect_rc 0 "$example: the depth-20 monitor of pmm-storage publishes /srv's space" \
      h_wait_for 90 attributes_say 1 'pmm-srv-space[[:space:]]+: ok'
    attrs=$(lab exec 1 crm_mon -A1)
    h_match "$example: pmm-state ready" 'pmm-state[[:space:]]+: ready' "$attrs"
    h_match "$example: pmm-version from the image's label" 'pmm-version[[:space:]]+: 3\.99\.0-standin' "$attrs"
    h_match "$example: pmm-srv-free a percentage" 'pmm-srv-free[[:space:]]+: [0-9]+' "$attrs"
    h_match "$example: pmm-data writable" 'pmm-data[[:space:]]+: writable' "$attrs"

    # The location rule: a node known to lack the image never gets PMM. The
    # image goes from one standby (pull=never: no pull brings it back), then
    # PMM is moved off its node: it goes to the other standby.
    j=$(( k % 3 + 1 )); m=$(( j % 3 + 1 ))
    lab exec 1 crm_resource --resource pmm-image --set-parameter pull --parameter-value never >/dev/null
    lab exec 1 crm_resource --wait --timeout=120 >/dev/null
    lab exec "$j" podman rmi -f localhost/pmm-standin:3 >/dev/null
    lab exec 1 crm_resource --refresh --resource pmm-image --node "node$j" >/dev/null
    h_expect_rc 0 "$example: node$j without the image: pmm-image absent there" \
      h_wait_for 60 image_is "node$j" absent
    h_expect_rc 1 "... pmm-ha-check names node$j, from the attribute" \
      lab exec 1 "$check" --ignore device-unstable --json
    h_match "... as node-image-absent" "\"id\": \"node-image-absent\",\s*\"severity\": \"error\",\s*\"subject\": \"node$j\"" \
      "$(printf '%s' "$H_OUT" | tr -d '\n')"
    h_expect_rc 0 "... PMM moved off node$k" lab exec 1 crm_resource --ban --resource pmm --node "node$k"
    lab exec 1 crm_resource --wait --timeout=180 >/dev/null
    h_match "... goes to node$m, which has the image, never to node$j" "^$m\$" "$(lab where pmm-server)"
    h_expect_rc 0 "... and answers on the VIP" lab wait-ready 120
    lab exec 1 crm_resource --clear --resource pmm >/dev/null
    lab import "$H_BUILD/tests/pmm-standin.tar" localhost/pmm-standin:3 2>/dev/null
    # The admin's way back: the image loaded, a cleanup starts pmm-image there.
    lab exec 1 crm_resource --cleanup --resource pmm-image >/dev/null 2>&1
    h_expect_rc 0 "... after a cleanup node$j's pmm-image is present again" \
      h_wait_for 60 image_is "node$j" present
  fi
  h_expect_rc 0 "$example: the group stops" lab exec 1 pcs resource disable pmm --wait=180
  h_expect_rc 0 "$example: nothing is left on any node" h_lab_clean_elsewhere 0
  lab exec 1 pcs resource delete pmm >/dev/null 2>&1
  lab exec 1 pcs resource delete pmm-image >/dev/null 2>&1
  lab exec 1 cibadmin --replace -o rsc_defaults -X '<rsc_defaults/>' >/dev/null
done

h_done
