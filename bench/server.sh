#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pmm-server against ocf:heartbeat:podman on the same container, same run:
#   - monitor: heartbeat podman (podman exec NAME /bin/true, no PMM check)
#     vs pmm-server with the API backend and with the CLI backend (both
#     including the in-process readiness probe; neither asks the engine
#     while the container its start recorded runs), and what one podman
#     call costs: a container inspect, and podman doing nothing. Target:
#     the CLI backend's monitor at most 1/20 of heartbeat's wall time;
#   - start: how long after the PMM stand-in turned ready start returned.
#
#   bench/server.sh [-n RUNS] [-b BUILD_DIR]
#
# Runs in a network namespace of its own with a loop-mounted data_dir, a
# podman API service and the stand-in image; removes all of it at exit.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
opt_n=50
bench_options n: "[-n RUNS]" "$@"
bench_harness server
h_ocf_env
h_podman_conf
agent=$(h_agent pmm-server)
heartbeat=/usr/lib/ocf/resource.d/heartbeat/podman
NS=$(h_netns bench)
image=$(h_standin_image podman)
sock=$(h_podman_service "$NS")
data=$(h_mounted_dir 64) || exit 1
name="$H_ID-pmm"
h_defer podman rm -f "$name"
export OCF_RESOURCE_INSTANCE="$name" OCF_RESKEY_CRM_meta_interval=10000 OCF_RESKEY_CRM_meta_timeout=30000
ours=(env OCF_RESKEY_image="$image" OCF_RESKEY_data_dir="$data" OCF_RESKEY_pull=never
      OCF_RESKEY_env=STANDIN_WARMUP_MS=3000 OCF_RESKEY_api_socket="$sock")

echo "== start: from the stand-in turning ready to start returning (warm-up 3 s)"
for i in 1 2 3 4 5; do
  in-netns "$NS" "${ours[@]}" OCF_RESKEY_CRM_meta_timeout=60000 "$agent" start
  returned=$(date +%s%3N)
  began=$(cat "$data/standin/started-at")
  echo "start $i: returned $((returned - began - 3000)) ms after PMM turned ready"
  in-netns "$NS" "${ours[@]}" "$agent" stop >/dev/null 2>&1
done

echo "== monitor, same running container"
in-netns "$NS" "${ours[@]}" OCF_RESKEY_env=STANDIN_WARMUP_MS=0 "$agent" start
in-netns "$NS" "$MEASURE" -n "$opt_n" --expect-rc 0 --settle 300 \
  --wall-target "pmm-server monitor, CLI backend=20" \
  --case "heartbeat podman monitor" OCF_RESKEY_image="$image" OCF_RESKEY_name="$name" "$heartbeat" monitor \
  --case "pmm-server monitor, API backend" "${ours[@]:1}" OCF_RESKEY_backend=api "$agent" monitor \
  --case "pmm-server monitor, CLI backend" "${ours[@]:1}" OCF_RESKEY_backend=cli "$agent" monitor \
  --case "podman container inspect alone" podman container inspect "$name" \
  --case "podman --help alone" podman --help
in-netns "$NS" "${ours[@]}" "$agent" stop
