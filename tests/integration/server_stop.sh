#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pmm-server's stop and probe when this node lacks something, when the
# engine's daemon is down, and against a container that is not ours (issue
# 13): a stop must not fail for a resource that cannot be running, and must
# not return 0 while the container's process lives. Real podman and a
# dockerd started (and killed) by the test; the PMM stand-in as the image.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
# Containers whose daemon died are reparented: reap them here.
h_subreaper "$0" "$@"
h_begin server-stop
h_ocf_env
h_podman_conf
agent=$(h_agent pmm-server)
NS=$(h_netns stop)
data=$(h_mounted_dir 64) || exit 1
image=$(h_standin_image podman) || exit 1

name="$H_ID-pmm"
h_defer podman rm -f "$name"
export OCF_RESOURCE_INSTANCE="$name"
params=(OCF_RESKEY_image="$image" OCF_RESKEY_data_dir="$data" OCF_RESKEY_pull=never
        OCF_RESKEY_runtime=podman OCF_RESKEY_backend=cli OCF_RESKEY_CRM_meta_timeout=30000
        OCF_RESKEY_env="STANDIN_WARMUP_MS=200 STANDIN_STOP_DELAY_MS=1000")
no_engine=PATH=/nonexistent

# ra ACTION [NAME=VALUE...]: the agent as Pacemaker runs it, in the namespace.
# shellcheck disable=SC2317 # called through h_expect_rc, which shellcheck does not follow
ra() {
  local action=$1
  shift
  in-netns "$NS" env "${params[@]}" "$@" "$agent" "$action"
}
# shellcheck disable=SC2317
probe() { ra monitor OCF_RESKEY_CRM_meta_interval=0 "$@"; }
# shellcheck disable=SC2317
# alive PID: the process exists and has not exited (a zombie has).
alive() { [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" != Z ]; }
# shellcheck disable=SC2317
gone() { ! alive "$1"; }
ms() { date +%s%3N; }

# --- no podman or docker in PATH ---------------------------------------------
h_expect_rc 0 "no engine in PATH: stop of a resource that cannot run succeeds" ra stop "$no_engine"
h_match "... saying why" "podman is not installed" "$H_ERR"
h_expect_rc 7 "... and a probe says not running" probe "$no_engine"
h_expect_rc 5 "... start still says not installed" ra start "$no_engine"

h_expect_rc 0 "start with podman" ra start
pid=$(podman container inspect --format '{{.State.Pid}}' "$name")
h_check "... its process $pid runs" alive "$pid"
h_expect_rc 190 "podman gone from PATH while it runs: a probe says running, degraded (PMM is ready)" \
  probe "$no_engine"
rm -f "$data/standin/clean-stop"
h_expect_rc 0 "stop without podman in PATH" ra stop "$no_engine"
h_check "... ended the recorded process" gone "$pid"
h_check "... with a clean shutdown (SIGTERM, then its 1 s)" test -e "$data/standin/clean-stop"
h_expect_rc 0 "stop again: nothing recorded is alive" ra stop "$no_engine"
podman rm -f "$name" >/dev/null 2>&1

# --- backend=api without its socket ------------------------------------------
h_expect_rc 0 "start" ra start
api=(OCF_RESKEY_backend=api OCF_RESKEY_api_socket="$H_TMP/no-such.sock")
h_expect_rc 0 "backend=api, socket missing: a probe works through the CLI" probe "${api[@]}"
h_expect_rc 0 "... and so does stop" ra stop "${api[@]}"
h_match "... saying so" "is not a socket: using the podman CLI" "$H_ERR"
h_check "... the container is removed" sh -c "! podman container inspect $name"
h_expect_rc 7 "... a probe says not running" probe "${api[@]}"
h_expect_rc 5 "... start still refuses the missing socket" ra start "${api[@]}"

# --- a container that is not ours --------------------------------------------
podman run -d --network none --name "$name" "$image" >/dev/null
h_expect_rc 1 "start refuses a foreign container with the resource's name" ra start
h_match "... naming it and the label" \
  "container '$name' was not created by resource '$name' \(label io.percona.pmm-ha.resource missing\)" \
  "$H_REASON"
h_expect_rc 7 "... a probe says not running" probe
h_expect_rc 0 "stop leaves it alone" ra stop
h_match "... with a warning" "leaving it alone" "$H_ERR"
h_check "... it still runs" sh -c "[ \"\$(podman container inspect --format '{{.State.Status}}' $name)\" = running ]"
podman stop -t 1 "$name" >/dev/null 2>&1
h_expect_rc 1 "start does not remove it once exited either" ra start
h_check "... it is still there" podman container inspect "$name"
podman rm -f "$name" >/dev/null 2>&1

# --- podman: the container's conmon killed -----------------------------------
# PMM lives on without it, but podman never sees it exit: the container stays
# "running", then "stopping" for ever, and podman kill refuses it.
# shellcheck disable=SC2317
state() { podman container inspect --format '{{.State.Status}}' "$name"; }
# kill_conmon: SIGKILL to the container's conmon; leaves its pid in $conmon.
kill_conmon() {
  conmon=$(podman container inspect --format '{{.State.ConmonPid}}' "$name")
  kill -KILL "$conmon"
  h_wait_for 10 gone "$conmon"
}
h_expect_rc 0 "start" ra start
pid=$(podman container inspect --format '{{.State.Pid}}' "$name")
kill_conmon
h_check "conmon $conmon killed, PMM's process $pid lives on" alive "$pid"
h_expect_rc 190 "monitor: running, degraded (PMM is ready; nothing would see it exit)" \
  ra monitor OCF_RESKEY_CRM_meta_interval=10000
h_match "... naming the conmon" "its conmon $conmon is gone" "$H_REASON"
rm -f "$data/standin/clean-stop"
h_expect_rc 0 "stop" ra stop
h_check "... PMM's process is gone" gone "$pid"
h_check "... after its clean shutdown" test -e "$data/standin/clean-stop"
h_check "... the container is removed" sh -c "! podman container inspect $name"
h_expect_rc 7 "... a probe says not running" probe

h_expect_rc 0 "start again" ra start
pid=$(podman container inspect --format '{{.State.Pid}}' "$name")
kill_conmon
kill -KILL "$pid"
h_wait_for 10 gone "$pid"
h_match "PMM's process killed after its conmon: podman still says" '^running$' "$(state)"
h_expect_rc 7 "monitor: not running (the process podman did not see exit is gone)" \
  ra monitor OCF_RESKEY_CRM_meta_interval=10000
h_match "... saying so" "is running for the podman CLI, but its process $pid has exited \(its conmon $conmon is gone" \
  "$H_REASON"
h_expect_rc 7 "... and so does a probe" probe
h_expect_rc 0 "stop" ra stop
h_check "... the container is removed" sh -c "! podman container inspect $name"
h_expect_rc 0 "start: a fresh container" ra start
h_expect_rc 0 "stop" ra stop

# --- dockerd killed while the container runs ---------------------------------
sock=$(h_dockerd "$NS") || exit 1
dimage=$(DOCKER_HOST="unix://$sock" h_standin_image docker) || exit 1
dname="$H_ID-dpmm"
docker_env=(OCF_RESOURCE_INSTANCE="$dname" OCF_RESKEY_runtime=docker OCF_RESKEY_image="$dimage"
            DOCKER_HOST="unix://$sock")
# shellcheck disable=SC2317
dra() {
  local action=$1
  shift
  ra "$action" "${docker_env[@]}" "$@"
}
# kill_dockerd: SIGKILL, as a crash would; its containerd dies with it, the
# containers' shims and processes live on.
kill_dockerd() {
  local pid
  pid=$(cat "$H_TMP/docker/dockerd.pid")
  kill -KILL "$pid"
  h_wait_for 10 gone "$pid"
  rm -f "$H_TMP/docker/dockerd.pid"
}
# restart_dockerd: the same daemon again (it finds the containers' shims).
restart_dockerd() {
  local d="$H_TMP/docker"
  in-netns "$NS" dockerd -H "unix://$sock" --data-root "$d/data" --exec-root "$d/exec" \
    --pidfile "$d/dockerd.pid" --exec-opt native.cgroupdriver=cgroupfs --iptables=false \
    --ip-masq=false --ip-forward=false --bridge=none --storage-driver overlay2 \
    >>"$d/dockerd.log" 2>&1 &
  disown $!  # kill_dockerd's SIGKILL is no news
  h_defer sh -c "kill $!; for i in \$(seq 100); do kill -0 $! 2>/dev/null || break; sleep 0.1; done"
  h_wait_for 30 env DOCKER_HOST="unix://$sock" docker version || h_fail "dockerd did not restart"
}

h_expect_rc 0 "docker: start" dra start
dpid=$(DOCKER_HOST="unix://$sock" docker container inspect --format '{{.State.Pid}}' "$dname")
kill_dockerd
h_check "dockerd is killed, the container's process $dpid lives on" alive "$dpid"
h_expect_rc 190 "a probe with dockerd down while it runs: running, degraded (PMM is ready)" \
  dra monitor OCF_RESKEY_CRM_meta_interval=0
h_match "... saying so" "runs \(process $dpid\) and PMM is ready" "$H_REASON"
rm -f "$data/standin/clean-stop"
t0=$(ms)
h_expect_rc 0 "stop with dockerd down" dra stop
took=$(($(ms) - t0))
h_check "... returned once the container's process was gone" gone "$dpid"
h_check "... after its clean shutdown" test -e "$data/standin/clean-stop"
if [ "$took" -ge 1000 ]; then
  h_pass "... having waited for the 1 s shutdown (${took} ms)"
else
  h_fail "stop took only ${took} ms"
fi
h_expect_rc 0 "stop again with dockerd down: nothing can be running" dra stop
h_expect_rc 7 "a probe with dockerd down and no container: not running" \
  dra monitor OCF_RESKEY_CRM_meta_interval=0

# A PMM that ignores SIGTERM is killed after stop_grace, dockerd down again.
restart_dockerd
h_expect_rc 0 "docker: start a PMM that ignores SIGTERM" dra start \
  OCF_RESKEY_env="STANDIN_WARMUP_MS=200 STANDIN_IGNORE_TERM=1"
dpid=$(DOCKER_HOST="unix://$sock" docker container inspect --format '{{.State.Pid}}' "$dname")
kill_dockerd
t0=$(ms)
h_expect_rc 0 "stop with dockerd down kills it after stop_grace" dra stop OCF_RESKEY_stop_grace=1
took=$(($(ms) - t0))
h_check "... it is gone" gone "$dpid"
if [ "$took" -ge 1000 ] && [ "$took" -lt 10000 ]; then
  h_pass "... after the 1 s grace (${took} ms)"
else
  h_fail "stop took ${took} ms"
fi

# The engine's own record of the container goes with a running dockerd.
restart_dockerd
DOCKER_HOST="unix://$sock" docker rm -f "$dname" >/dev/null 2>&1
h_done
