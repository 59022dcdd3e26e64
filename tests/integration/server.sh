#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pmm-server against a real engine: server.sh podman|docker cli|api
# The stand-in runs with --network host inside a network namespace of the
# test's own, so its port 8080 is the default health URL's and nothing is
# reachable from outside.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
engine=${1:?podman or docker}
backend=${2:?cli or api}
h_begin "server-$engine-$backend"
h_ocf_env
h_podman_conf
agent=$(h_agent pmm-server)
NS=$(h_netns srv)

sock=""
case $engine in
  podman)
    image=$(h_standin_image podman) || exit 1
    [ "$backend" = api ] && { sock=$(h_podman_service "$NS") || exit 1; }
    ;;
  docker)
    sock=$(h_dockerd "$NS") || exit 1
    export DOCKER_HOST="unix://$sock"
    image=$(h_standin_image docker) || exit 1
    ;;
esac

data=$(h_mounted_dir 64) || exit 1

name="$H_ID-pmm"
h_defer "$engine" rm -f "$name"
export OCF_RESOURCE_INSTANCE="$name"
params=(OCF_RESKEY_image="$image" OCF_RESKEY_data_dir="$data" OCF_RESKEY_runtime="$engine"
        OCF_RESKEY_backend="$backend" OCF_RESKEY_pull=never)
[ -n "$sock" ] && params+=(OCF_RESKEY_api_socket="$sock")
std_env='STANDIN_WARMUP_MS=1500 STANDIN_STOP_DELAY_MS=1000'

# ra ACTION [NAME=VALUE...]: the agent as Pacemaker runs it, in the namespace.
# shellcheck disable=SC2317 # called through h_expect_rc, which shellcheck does not follow
ra() {
  local action=$1
  shift
  in-netns "$NS" env "${params[@]}" OCF_RESKEY_env="$std_env" "$@" "$agent" "$action"
}
ready() { in-netns "$NS" curl -sf -o /dev/null --max-time 2 http://127.0.0.1:8080/v1/server/readyz; }
mode() { echo "$1" >"$data/standin/mode"; }
ms() { date +%s%3N; }

# --- lifecycle -----------------------------------------------------------
h_expect_rc 7 "probe before start: not running" ra monitor OCF_RESKEY_CRM_meta_interval=0
t0=$(ms)
h_expect_rc 0 "start" ra start
took=$(($(ms) - t0))
if [ "$took" -ge 1500 ] && ready; then
  h_pass "start returned only when PMM was ready (${took} ms, warm-up 1500 ms)"
else
  h_fail "start returned after ${took} ms; ready now: $(ready && echo yes || echo no)"
fi
h_expect_rc 0 "monitor: running and ready" ra monitor OCF_RESKEY_CRM_meta_interval=10000
h_expect_rc 0 "start again is idempotent" ra start
h_match "the data marker counts one boot" '^1$' "$(cat "$data/standin/boots")"

# --- readiness failures: degraded, then failed ---------------------------
mode 500
h_expect_rc 190 "not ready: degraded (1 of 3)" ra monitor OCF_RESKEY_CRM_meta_interval=10000
h_match "... the reason shows PMM's answer" 'not ready \(1 of 3\): HTTP 500' "$H_REASON"
h_expect_rc 190 "not ready: degraded (2 of 3)" ra monitor OCF_RESKEY_CRM_meta_interval=10000
h_expect_rc 1 "not ready a third time: failed" ra monitor OCF_RESKEY_CRM_meta_interval=10000
mode ok
h_expect_rc 0 "ready again: running" ra monitor OCF_RESKEY_CRM_meta_interval=10000
mode 500
h_expect_rc 190 "the failure count restarted" ra monitor OCF_RESKEY_CRM_meta_interval=10000
mode hang
t0=$(ms)
h_expect_rc 190 "a hung health endpoint: degraded" ra monitor OCF_RESKEY_CRM_meta_interval=10000 \
  OCF_RESKEY_CRM_meta_timeout=8000 OCF_RESKEY_health_timeout=2
took=$(($(ms) - t0))
if [ "$took" -lt 8000 ]; then
  h_pass "... within the monitor timeout (${took} ms of 8000)"
else
  h_fail "a hung health endpoint took ${took} ms"
fi
mode ok
h_expect_rc 0 "monitor depth 10: /srv is data_dir" ra monitor OCF_CHECK_LEVEL=10

# --- the monitor asks the engine only when the start's record cannot answer ---
# A spy in front of the engine's CLI counts the agent's calls.
spy="$H_TMP/spy"
mkdir -p "$spy"
printf '#!/bin/sh\necho "$*" >>"%s/calls"\nexec %s "$@"\n' "$spy" "$(command -v "$engine")" \
  >"$spy/$engine"
chmod 755 "$spy/$engine"
calls() { wc -l <"$spy/calls"; }
spied=(PATH="$spy:$PATH" OCF_RESKEY_CRM_meta_interval=10000)
: >"$spy/calls"
h_expect_rc 0 "monitor of the container its start recorded: running" ra monitor "${spied[@]}"
if [ "$engine" = podman ]; then
  read -r _ _ _ recorded_conmon _ <"$HA_RSCTMP/pmm-server-$name.container"
  h_match "the start's record names the container's conmon (also when the API does not)" \
    "^$(podman container inspect --format '{{.State.ConmonPid}}' "$name")\$" "$recorded_conmon"
fi
if [ "$backend" = cli ]; then
  h_match "... without asking $engine (no fork)" '^0$' "$(calls)"
  h_expect_rc 0 "a monitor at depth 10 asks" ra monitor "${spied[@]}" OCF_CHECK_LEVEL=10
  h_check "... $engine, once at least" test "$(calls)" -ge 1
fi
"$engine" pause "$name" >/dev/null
: >"$spy/calls"
h_expect_rc 1 "paused behind the agent's back: monitor fails" ra monitor "${spied[@]}"
h_match "... saying so" "container '$name' is paused" "$H_REASON"
[ "$backend" = cli ] && h_check "... having asked $engine" test "$(calls)" -ge 1
"$engine" unpause "$name" >/dev/null
h_expect_rc 0 "unpaused: running" ra monitor "${spied[@]}"
"$engine" stop -t 10 "$name" >/dev/null
h_expect_rc 7 "stopped behind the agent's back: monitor says not running" ra monitor "${spied[@]}"
h_expect_rc 0 "start" ra start
"$engine" rm -f "$name" >/dev/null
"$engine" run -d --name "$name" --network none "$image" >/dev/null
h_expect_rc 7 "replaced behind the agent's back by a container not ours: not running" \
  ra monitor "${spied[@]}"
h_match "... naming it" "was not created by resource '$name'" "$H_REASON"
"$engine" rm -f "$name" >/dev/null
h_expect_rc 0 "start" ra start

# --- the container dies behind the agent's back --------------------------
boots=$(cat "$data/standin/boots")
"$engine" kill "$name" >/dev/null 2>&1
h_expect_rc 7 "container killed: monitor says not running" ra monitor OCF_RESKEY_CRM_meta_interval=10000
h_match "... with the exit status" 'is (exited|stopped)' "$H_REASON"
h_expect_rc 7 "... and so does a probe" ra monitor OCF_RESKEY_CRM_meta_interval=0
h_expect_rc 0 "start replaces the dead container" ra start
h_match "data survived: one more boot on the same /srv" "^$((boots + 1))\$" \
  "$(cat "$data/standin/boots")"

# --- stop ----------------------------------------------------------------
t0=$(ms)
h_expect_rc 0 "stop" ra stop
took=$(($(ms) - t0))
h_check "PMM shut down cleanly (it was given its grace)" test -e "$data/standin/clean-stop"
if [ "$took" -ge 1000 ]; then
  h_pass "stop waited for the 1 s shutdown (${took} ms)"
else
  h_fail "stop took only ${took} ms"
fi
h_check "the container is removed" sh -c "! $engine container inspect $name"
h_check "the data is not" test -s "$data/standin/boots"
h_expect_rc 0 "stop again: nothing to do" ra stop
h_expect_rc 7 "monitor after stop" ra monitor OCF_RESKEY_CRM_meta_interval=10000

# A container that ignores SIGTERM is killed within the budget.
h_expect_rc 0 "start a PMM that ignores SIGTERM" ra start OCF_RESKEY_env="$std_env STANDIN_IGNORE_TERM=1"
t0=$(ms)
h_expect_rc 0 "stop kills it after stop_grace" ra stop OCF_RESKEY_stop_grace=2 OCF_RESKEY_CRM_meta_timeout=30000
took=$(($(ms) - t0))
if [ "$took" -lt 10000 ]; then
  h_pass "... in ${took} ms"
else
  h_fail "stop took ${took} ms"
fi
h_check "... and it is gone" sh -c "! $engine container inspect $name"

# A leftover container of the same name (a node crashed with it created):
# ours, by its label.
"$engine" create --name "$name" --label "io.percona.pmm-ha.resource=$name" "$image" >/dev/null
h_expect_rc 0 "start with a leftover container of the same name" ra start
h_expect_rc 0 "stop" ra stop

# --- data safety ---------------------------------------------------------
# PMM 3 runs as uid 1000 and exits at once on a /srv it cannot write.
chown 0:0 "$data"
h_expect_rc 5 "start refuses a data_dir PMM's user (uid 1000) cannot write" ra start
h_match "... naming the fix" "is not writable by PMM's user \(uid 1000, gid 1000\).*chown -R 1000:1000" \
  "$H_REASON"
h_check "... and created no container" sh -c "! $engine container inspect $name"
h_expect_rc 0 "... while with run_opts=--user=0 the image's user is not asked about" \
  ra start OCF_RESKEY_run_opts=--user=0
h_expect_rc 0 "stop" ra stop
chown -R 1000:1000 "$data"
mkdir -p "$H_TMP/plain"
h_expect_rc 1 "start refuses a data_dir that is not a mount" ra start OCF_RESKEY_data_dir="$H_TMP/plain"
h_match "... with a clear reason" "is not a mount point: refusing to start PMM" "$H_REASON"
h_check "... and created no container" sh -c "! $engine container inspect $name"
h_check "... and wrote nothing there" sh -c "[ -z \"\$(ls -A '$H_TMP/plain')\" ]"

# --- ocf-tester ------------------------------------------------------------
ot=(-n "$name" -o image="$image" -o data_dir="$data" -o runtime="$engine" -o backend="$backend"
    -o pull=never -o env="$std_env")
[ -n "$sock" ] && ot+=(-o api_socket="$sock")
h_expect_rc 0 "ocf-tester passes" in-netns "$NS" ocf-tester "${ot[@]}" "$agent"
h_match "... all tests" 'passed all tests' "$H_OUT"

# --- bad input -----------------------------------------------------------
h_expect_rc 6 "relative data_dir" ra validate-all OCF_RESKEY_data_dir=srv
h_match "... named in the reason" "parameter 'data_dir' = 'srv': must be an absolute path" "$H_REASON"
h_expect_rc 6 "data_dir /" ra validate-all OCF_RESKEY_data_dir=/
h_expect_rc 6 "malformed publish" ra validate-all OCF_RESKEY_network=bridge OCF_RESKEY_publish=443
h_expect_rc 6 "bridge without publish" ra validate-all OCF_RESKEY_network=bridge
h_expect_rc 6 "shell syntax in run_opts" ra validate-all "OCF_RESKEY_run_opts=--cpus 1; reboot"
h_match "... explained" "';' at position 9: no shell runs these options" "$H_REASON"
# shellcheck disable=SC2016 # a literal $(id): the agent must refuse it, no shell may run it
h_expect_rc 6 "command substitution in env" ra validate-all 'OCF_RESKEY_env=A=$(id)'
h_expect_rc 6 "an env entry without =" ra validate-all OCF_RESKEY_env=PASSWORD
h_expect_rc 6 "a 10 KB image name" ra validate-all OCF_RESKEY_image="$(head -c 10240 /dev/zero | tr '\0' a)"
h_expect_rc 6 "an unknown runtime" ra validate-all OCF_RESKEY_runtime=lxc
h_expect_rc 6 "an unknown selinux_relabel" ra validate-all OCF_RESKEY_selinux_relabel=yes
if [ "$engine" = podman ]; then
  h_expect_rc 6 "podman: a short image name that would be pulled" \
    ra start OCF_RESKEY_image=percona/pmm-server:3 OCF_RESKEY_pull=missing
  h_match "... refused, with the qualified name" \
    "image 'percona/pmm-server:3' is a short name: .* use 'docker.io/percona/pmm-server:3'" "$H_REASON"
fi
h_expect_rc 6 "a bad container name" ra validate-all "OCF_RESKEY_name=pmm;rm"
h_expect_rc 5 "no container engine installed" ra validate-all PATH=/nonexistent
h_match "... says which" "is not installed" "$H_REASON"
h_expect_rc 5 "backend=api without a socket" ra validate-all OCF_RESKEY_backend=api OCF_RESKEY_api_socket=/nonexistent.sock
h_expect_rc 5 "a missing image with pull=never fails start" ra start OCF_RESKEY_image=localhost/pmmt-none:1
h_match "... saying so" "is not present on this node and pull=never" "$H_REASON"
h_expect_rc 7 "... and a probe says not running" ra monitor OCF_RESKEY_image=localhost/pmmt-none:1 OCF_RESKEY_CRM_meta_interval=0
h_check "nothing was created by the bad inputs" sh -c "! $engine container inspect $name"

# --- a port PMM binds is taken -----------------------------------------------
# As Cockpit takes 9090 on RHEL: PMM would never become ready.
in-netns "$NS" python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 9090)); s.listen(); time.sleep(120)' &
holder=$!
h_defer kill "$holder"
# shellcheck disable=SC2317 # called through h_wait_for
held() { in-netns "$NS" sh -c 'grep -q ":2382 00000000:0000 0A" /proc/net/tcp'; }
h_wait_for 10 held || h_fail "the test's listener on 9090 did not come up"
t0=$(ms)
h_expect_rc 1 "port 9090 held by another process: start fails" ra start
took=$(($(ms) - t0))
h_match "... naming the port and its holder" \
  "^port 9090 \(VictoriaMetrics\) is in use by python3 \(pid [0-9]+\) on 127\.0\.0\.1: PMM would never become ready" \
  "$H_REASON"
h_check "... at once (${took} ms), not after the start timeout" test "$took" -lt 10000
h_check "... creating nothing" sh -c "! $engine container inspect $name"
h_expect_rc 0 "validate-all only warns" ra validate-all
h_match "... naming it" "port 9090 that PMM binds is in use by python3" "$H_ERR"
kill "$holder"
wait "$holder" 2>/dev/null

# --- secrets -------------------------------------------------------------
secret="s3cret-$RANDOM$RANDOM"
log="$H_TMP/ha.log"
h_expect_rc 0 "start with a password in env" ra start HA_LOGFILE="$log" HA_debug=1 \
  OCF_RESKEY_env="$std_env GF_SECURITY_ADMIN_PASSWORD=$secret"
out1="$H_OUT$H_ERR"
h_check "... which reached PMM" sh -c "$engine container inspect $name | grep -q $secret"
h_expect_rc 6 "a bad env entry" ra validate-all HA_LOGFILE="$log" OCF_RESKEY_env="$secret"
out2="$H_OUT$H_ERR"
h_expect_rc 0 "stop" ra stop HA_LOGFILE="$log" HA_debug=1
h_nomatch "no password in the agent's output or HA_LOGFILE" "$secret" "$out1$out2$(cat "$log")"
h_check "the private env file is gone" sh -c "! ls $HA_RSCTMP | grep -q env"

# --- podman's API service killed -----------------------------------------------
# Podman has no daemon: its CLI reads the same storage the service does.
if [ "$engine" = podman ] && [ "$backend" = api ]; then
  h_expect_rc 0 "start" ra start
  pid=$(podman container inspect --format '{{.State.Pid}}' "$name")
  service=$(pgrep -f "podman system service --time=0 unix://$sock")
  kill -KILL "$service"
  h_wait_for 10 sh -c "! kill -0 $service 2>/dev/null"
  h_check "the API service is killed, its socket left behind" test -S "$sock"
  h_expect_rc 0 "monitor: running and ready (asked through the CLI)" \
    ra monitor OCF_RESKEY_CRM_meta_interval=10000
  rm -f "$data/standin/clean-stop"
  h_expect_rc 0 "stop" ra stop
  h_check "... PMM's process $pid is gone" sh -c "! kill -0 $pid 2>/dev/null"
  h_check "... after its clean shutdown" test -e "$data/standin/clean-stop"
  h_check "... the container is removed" sh -c "! podman container inspect $name"
fi
h_done
