#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pmm-server against the real PMM Server image, for machines that can pull it:
#   PMMHA_REAL_IMAGE=docker.io/percona/pmm-server:3 tests/integration/server_real.sh [podman|docker]
# (registered with CTest, label "real", only when PMMHA_REAL_IMAGE is set at
# configure time). PMM needs minutes to start and to stop: the timeouts are
# the ones crm-examples/ recommend. The container uses the host network of a
# namespace this test creates.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
image=${PMMHA_REAL_IMAGE:?set PMMHA_REAL_IMAGE, e.g. docker.io/percona/pmm-server:3}
engine=${1:-podman}
h_begin "server-real-$engine"
h_ocf_env
h_podman_conf
agent=$(h_agent pmm-server)
NS=$(h_netns real)
if [ "$engine" = docker ]; then
  sock=$(h_dockerd "$NS") || exit 1
  export DOCKER_HOST="unix://$sock"
fi
data=$(h_mounted_dir 10240) || exit 1
chown 1000:1000 "$data"   # PMM 3 runs as uid 1000
name="$H_ID-pmm"
h_defer "$engine" rm -f "$name"
export OCF_RESOURCE_INSTANCE="$name"
# shellcheck disable=SC2317 # called through h_expect_rc, which shellcheck does not follow
ra() {
  local action=$1
  shift
  in-netns "$NS" env OCF_RESKEY_image="$image" OCF_RESKEY_data_dir="$data" OCF_RESKEY_runtime="$engine" \
    OCF_RESKEY_pull=missing "$@" "$agent" "$action"
}

h_expect_rc 7 "probe before start" ra monitor OCF_RESKEY_CRM_meta_interval=0
h_expect_rc 0 "start (pulls the image, waits for readyz)" ra start OCF_RESKEY_CRM_meta_timeout=900000
case $image in *:2 | *:2.*) port=80 ;; *) port=8080 ;; esac
h_expect_rc 0 "PMM answers readyz itself" in-netns "$NS" curl -sf -o /dev/null --max-time 5 \
  "http://127.0.0.1:$port/v1/readyz"
h_expect_rc 0 "monitor" ra monitor OCF_RESKEY_CRM_meta_interval=10000
h_expect_rc 0 "monitor depth 10" ra monitor OCF_RESKEY_CRM_meta_interval=60000 OCF_CHECK_LEVEL=10
h_expect_rc 0 "stop, with the grace PMM needs" ra stop OCF_RESKEY_CRM_meta_timeout=330000
h_check "PMM's databases are on the data_dir" sh -c "ls '$data' | grep -q postgres"
h_expect_rc 0 "start again on the same data" ra start OCF_RESKEY_CRM_meta_timeout=600000
h_expect_rc 0 "stop" ra stop OCF_RESKEY_CRM_meta_timeout=330000
h_done
