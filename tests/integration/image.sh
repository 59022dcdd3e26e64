#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pmm-image against real podman: image.sh cli|api
# A stub attrd_updater on PATH records what the agent publishes, so the test
# sees each value and that an unchanged one forks nothing.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
backend=${1:?cli or api}
h_begin "image-podman-$backend"
h_ocf_env
h_podman_conf
agent=$(h_agent pmm-image)
NS=$(h_netns img)
image=$(h_standin_image podman) || exit 1
sock=""
[ "$backend" = api ] && { sock=$(h_podman_service "$NS") || exit 1; }

mkdir -p "$H_TMP/stub"
attrd_log="$H_TMP/attrd.log"
cat >"$H_TMP/stub/attrd_updater" <<STUB
#!/bin/sh
echo "\$*" >>"$attrd_log"
STUB
chmod 755 "$H_TMP/stub/attrd_updater"
: >"$attrd_log"

export OCF_RESOURCE_INSTANCE="$H_ID-image:0"
params=(OCF_RESKEY_image="$image" OCF_RESKEY_runtime=podman OCF_RESKEY_backend="$backend"
        OCF_RESKEY_pull=never PATH="$H_TMP/stub:$PATH")
[ -n "$sock" ] && params+=(OCF_RESKEY_api_socket="$sock")

# ra ACTION [NAME=VALUE...]: the agent as Pacemaker runs it, in the namespace.
# shellcheck disable=SC2317 # called through h_expect_rc, which shellcheck does not follow
ra() {
  local action=$1
  shift
  in-netns "$NS" env "${params[@]}" "$@" "$agent" "$action"
}
published() { wc -l <"$attrd_log"; }
last_published() { tail -n 1 "$attrd_log"; }

# --- lifecycle -----------------------------------------------------------
h_expect_rc 7 "probe before start: not running" ra monitor OCF_RESKEY_CRM_meta_interval=0
h_expect_rc 7 "monitor before start: not running" ra monitor OCF_RESKEY_CRM_meta_interval=300000
h_check "... and nothing published" test "$(published)" = 0
h_expect_rc 0 "start with the image present (pull=never)" ra start
h_match "... publishes pmm-image present" '^-n pmm-image -U present$' "$(last_published)"
h_expect_rc 0 "monitor" ra monitor OCF_RESKEY_CRM_meta_interval=300000
h_expect_rc 0 "probe after start" ra monitor OCF_RESKEY_CRM_meta_interval=0
h_check "... an unchanged value forks no attrd_updater" test "$(published)" = 1
h_expect_rc 0 "start again (idempotent)" ra start

podman rmi -f "$image" >/dev/null
h_expect_rc 1 "monitor once the image is removed" ra monitor OCF_RESKEY_CRM_meta_interval=300000
h_match "... says so, and the way out" "is gone from this node; pull=never: load it here" "$H_REASON"
h_match "... publishes pmm-image absent" '^-n pmm-image -U absent$' "$(last_published)"
h_expect_rc 0 "stop with the image absent" ra stop
h_check "... leaves pmm-image absent (no other call)" test "$(published)" = 2
h_expect_rc 5 "start with pull=never and no image: not installed" ra start
h_match "... says why" "is not on this node and pull=never" "$H_REASON"
h_expect_rc 7 "probe after the failed start: not running" ra monitor OCF_RESKEY_CRM_meta_interval=0

image=$(h_standin_image podman) || exit 1
params[0]=OCF_RESKEY_image="$image"
h_expect_rc 0 "start once the image is loaded" ra start
h_match "... publishes pmm-image present" '^-n pmm-image -U present$' "$(last_published)"
h_expect_rc 0 "stop" ra stop
h_check "... removes no image" podman image exists "$image"
h_expect_rc 7 "monitor after stop: not running" ra monitor OCF_RESKEY_CRM_meta_interval=300000
h_expect_rc 0 "stop again (idempotent)" ra stop

# A registry that does not answer (nothing listens on localhost:1): start
# fails softly within its timeout, and the node is known to lack the image.
t0=$(date +%s)
h_expect_rc 1 "pull=missing from a registry that does not answer" \
  ra start OCF_RESKEY_image=localhost:1/pmm-server:3 OCF_RESKEY_pull=missing \
  OCF_RESKEY_CRM_meta_timeout=20000
h_check "... within the start timeout" test $(($(date +%s) - t0)) -lt 20
h_match "... publishes pmm-image absent" '^-n pmm-image -U absent$' "$(last_published)"

# --- ocf-tester ------------------------------------------------------------
ot=(-n "$H_ID-image" -o image="$image" -o runtime=podman -o backend="$backend" -o pull=never)
[ -n "$sock" ] && ot+=(-o api_socket="$sock")
h_expect_rc 0 "ocf-tester passes" in-netns "$NS" env PATH="$H_TMP/stub:$PATH" ocf-tester "${ot[@]}" "$agent"
h_match "... all tests" 'passed all tests' "$H_OUT"

# --- bad input -----------------------------------------------------------
h_expect_rc 6 "shell metacharacters in image" ra validate-all 'OCF_RESKEY_image=docker.io/x;reboot'
h_match "... named in the reason" "parameter 'image' = 'docker.io/x;reboot': must be an image reference" "$H_REASON"
h_expect_rc 6 "a path as image" ra validate-all OCF_RESKEY_image=/tmp/image.tar
h_expect_rc 6 "relative api_socket" ra validate-all OCF_RESKEY_api_socket=run/podman.sock
h_match "... named in the reason" "parameter 'api_socket' = 'run/podman.sock': must be an absolute path" "$H_REASON"
h_expect_rc 6 "unknown runtime" ra validate-all OCF_RESKEY_runtime=lxc
h_expect_rc 6 "a short name podman cannot pull unattended" \
  ra validate-all OCF_RESKEY_image=percona/pmm-server:3 OCF_RESKEY_pull=missing
h_match "... names the qualified one" "use 'docker.io/percona/pmm-server:3'" "$H_REASON"
h_expect_rc 6 "no image" ra validate-all OCF_RESKEY_image=
h_expect_rc 5 "backend=api without the socket" \
  ra validate-all OCF_RESKEY_backend=api OCF_RESKEY_api_socket="$H_TMP/none.sock"
h_expect_rc 0 "validate-all" ra validate-all
h_expect_rc 0 "meta-data without parameters" env -i "$agent" meta-data
h_done
