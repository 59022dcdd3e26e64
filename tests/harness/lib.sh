# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Integration test harness: sourced by every tests/integration/*.sh.
#
#   . "$(dirname "$0")/../harness/lib.sh"
#   h_begin vip                      # unique id, clean-up trap, counters
#   ns=$(h_netns a)                  # a network namespace, deleted at exit
#   h_expect_rc 7 "probe finds nothing" "$AGENT" monitor
#   h_done                           # prints "N passed, N failed", exit status
#
# Everything a test creates is named after H_ID ("pmmt<pid>") and removed by
# an EXIT/INT/TERM trap in reverse order of creation, also when the test
# fails. tests/harness/sweep.sh removes what a killed run left behind.
set -u

H_PASS=0
H_FAIL=0
H_BUILD=${PMMHA_BUILD_DIR:?PMMHA_BUILD_DIR must point at the build tree}
H_SOURCE=${PMMHA_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# lab/ for in-netns, the one way into a network namespace (see lab/in-netns).
export PATH=$H_SOURCE/lab:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

h_log() { printf '# %s\n' "$*" >&2; }

h_begin() {
  H_NAME=$1
  H_ID="pmmt$$"
  H_TMP=$(mktemp -d "/tmp/$H_ID-XXXX")
  chmod 755 "$H_TMP"
  # Clean-up commands go to a file, not a variable: the resource helpers run
  # in $(...) subshells, whose variables the test never sees.
  H_CLEANUP_FILE="$H_TMP/.cleanup"
  : >"$H_CLEANUP_FILE"
  trap h_cleanup EXIT
  trap 'h_log "interrupted"; exit 130' INT TERM
  [ "$(id -u)" = 0 ] || { echo "integration tests need root" >&2; exit 1; }
}

# h_defer CMD ARGS...: run at exit, last registered first (also from subshells).
h_defer() {
  printf '%q ' "$@" >>"$H_CLEANUP_FILE"
  printf '\n' >>"$H_CLEANUP_FILE"
}

h_cleanup() {
  local rc=$? cmd
  if [ -f "${H_CLEANUP_FILE:-}" ]; then
    while IFS= read -r cmd; do
      eval "$cmd" </dev/null >/dev/null 2>&1 || true
    done < <(tac "$H_CLEANUP_FILE")
  fi
  [ -n "${H_TMP:-}" ] && rm -rf "$H_TMP"
  return $rc
}

# h_subreaper "$0" "$@": re-runs the test as a child subreaper, so that the
# processes agents leave running on purpose (pmm-vip's announcer) are reaped
# when they end: this machine's PID 1 does not reap orphans (a real init does).
h_subreaper() {
  [ -n "${H_SUBREAPER:-}" ] && return 0
  export H_SUBREAPER=1
  exec /usr/bin/python3 -c 'import ctypes, os, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER, kept across exec
os.execvp(sys.argv[1], sys.argv[1:])' bash "$@"
}

# h_skip REASON: the whole test is skipped (CTest sees exit 77).
h_skip() {
  echo "SKIP: $*"
  exit 77
}

# h_require CMD...: skip when a tool is missing (only for optional extras).
h_require() {
  local c
  for c in "$@"; do command -v "$c" >/dev/null || h_skip "$c is not installed"; done
}

h_pass() { H_PASS=$((H_PASS + 1)); echo "ok - $*"; }
h_fail() { H_FAIL=$((H_FAIL + 1)); echo "not ok - $*"; }

# h_run CMD...: runs CMD, leaving its status in H_RC, its output in H_OUT and
# H_ERR, and the exit reason (last "ocf-exit-reason:" line) in H_REASON.
# shellcheck disable=SC2034 # H_REASON is for the tests
h_run() {
  local out err
  out=$(mktemp "$H_TMP/out.XXXX")
  err=$(mktemp "$H_TMP/err.XXXX")
  "$@" >"$out" 2>"$err"
  H_RC=$?
  H_OUT=$(cat "$out")
  H_ERR=$(cat "$err")
  H_REASON=$(grep '^ocf-exit-reason:' "$err" | tail -n 1 | sed 's/^ocf-exit-reason://')
  rm -f "$out" "$err"
}

# h_expect_rc RC DESCRIPTION CMD...
h_expect_rc() {
  local want=$1 what=$2
  shift 2
  h_run "$@"
  if [ "$H_RC" = "$want" ]; then
    h_pass "$what (rc $H_RC)"
  else
    h_fail "$what: rc $H_RC, expected $want"
    [ -n "$H_OUT" ] && printf '#   stdout: %s\n' "$(printf '%s' "$H_OUT" | tail -n 5)"
    [ -n "$H_ERR" ] && printf '#   stderr: %s\n' "$(printf '%s' "$H_ERR" | tail -n 8)"
  fi
}

# h_check DESCRIPTION CMD...: passes when CMD succeeds.
h_check() {
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then h_pass "$what"; else h_fail "$what"; fi
}

# h_match DESCRIPTION EXTENDED-REGEX TEXT
h_match() {
  if printf '%s' "$3" | grep -Eq -- "$2"; then
    h_pass "$1"
  else
    h_fail "$1: /$2/ not in: $(printf '%s' "$3" | head -c 400)"
  fi
}

# h_nomatch DESCRIPTION EXTENDED-REGEX TEXT
h_nomatch() {
  if printf '%s' "$3" | grep -Eq -- "$2"; then
    h_fail "$1: /$2/ unexpectedly in: $(printf '%s' "$3" | head -c 400)"
  else
    h_pass "$1"
  fi
}

h_done() {
  echo "$H_NAME: $H_PASS passed, $H_FAIL failed"
  [ "$H_FAIL" = 0 ] && [ "$H_PASS" -gt 0 ]
  exit $?
}

# --- resources -----------------------------------------------------------

# h_netns SUFFIX: creates network namespace "$H_ID-SUFFIX" with lo up.
h_netns() {
  local ns="$H_ID-$1"
  ip netns add "$ns" || return 1
  h_defer ip netns delete "$ns"
  ip -n "$ns" link set lo up
  echo "$ns"
}

# h_veth NS_A IF_A NS_B IF_B: a veth pair between two namespaces, both up.
# Interface names are at most 15 characters.
h_veth() {
  local tmp_a="v$$a${RANDOM}" tmp_b="v$$b${RANDOM}"
  ip link add "${tmp_a:0:15}" type veth peer name "${tmp_b:0:15}" || return 1
  ip link set "${tmp_a:0:15}" netns "$1" name "$2"
  ip link set "${tmp_b:0:15}" netns "$3" name "$4"
  ip -n "$1" link set "$2" up
  ip -n "$3" link set "$4" up
}

# h_loop SIZE_MB FSTYPE [MKFS-ARGS...]: a loop device with a fresh filesystem;
# prints the device. Detached at exit.
h_loop() {
  local size=$1 fstype=$2 img dev
  shift 2
  img="$H_TMP/disk$RANDOM.img"
  truncate -s "${size}M" "$img" || return 1
  dev=$(losetup -f --show "$img") || return 1
  h_defer losetup -d "$dev"
  case "$fstype" in
    ext4) mkfs.ext4 -q -F "$@" "$dev" >/dev/null ;;
    xfs) mkfs.xfs -q -f "$@" "$dev" >/dev/null ;;
    none) ;;
    *) mkfs -t "$fstype" "$@" "$dev" >/dev/null ;;
  esac || return 1
  echo "$dev"
}

# h_umount_at_exit DIR: unmount everything at DIR at exit (lazily as a last
# resort: the test is over).
h_umount_at_exit() {
  h_defer sh -c "umount '$1' 2>/dev/null || umount -l '$1'"
}

# h_umount_below DIR: unmounts everything mounted below DIR (deepest first).
h_umount_below() {
  local m
  awk -v p="$1/" 'index($2, p) == 1 {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
}

# h_mounted_dir SIZE_MB: a fresh ext4 loop device mounted at H_TMP/srv (a
# data_dir that is a real mount), its root owned by PMM 3's user (uid 1000)
# as the examples prepare it; prints the directory. Unmounted at exit.
h_mounted_dir() {
  local dev dir="$H_TMP/srv"
  dev=$(h_loop "$1" ext4 -E root_owner=1000:1000) || return 1
  mkdir -p "$dir"
  mount "$dev" "$dir" || return 1
  h_umount_at_exit "$dir"
  echo "$dir"
}

# h_agent NAME: a built agent binary, copied to H_TMP: ocf-tester runs it as
# "nobody" too, which may not be able to reach the build tree.
h_agent() {
  local p
  for p in "$H_BUILD/agents/$1" "$H_BUILD/tools/$1" "$H_BUILD/tests/$1"; do
    if [ -x "$p" ]; then
      mkdir -p "$H_TMP/bin"
      chmod 755 "$H_TMP/bin"
      [ -x "$H_TMP/bin/$1" ] || install -m 755 "$p" "$H_TMP/bin/$1"
      echo "$H_TMP/bin/$1"
      return 0
    fi
  done
  echo "agent $1 not built in $H_BUILD" >&2
  return 1
}

# h_ocf_env: the minimal environment Pacemaker gives every agent.
h_ocf_env() {
  export OCF_ROOT=/usr/lib/ocf
  export OCF_RA_VERSION_MAJOR=1 OCF_RA_VERSION_MINOR=1
  export HA_RSCTMP="$H_TMP/rsctmp"
  mkdir -p "$HA_RSCTMP"
}

# h_ocf_provider: installs the built agents under a test-only OCF provider
# (this test's id), removed at exit, so that pcs, crmsh and crm_resource find
# them as ocf:PROVIDER:NAME; prints the provider.
h_ocf_provider() {
  local a agent dir="/usr/lib/ocf/resource.d/$H_ID"
  mkdir -p "$dir"
  h_defer rm -rf "$dir"
  for a in pmm-server pmm-storage pmm-vip pmm-image; do
    agent=$(h_agent "$a") || h_abort "$a is not built"
    ln -sf "$agent" "$dir/$a"
  done
  echo "$H_ID"
}

# --- CIB files ---------------------------------------------------------------

# h_cib_new NODES: an empty CIB file with that many nodes (node1, ...), all
# online and the cluster quorate, as $CIB (exported). A pcs on PATH ahead of
# the real one runs every command as pcs -f "$CIB", so the examples' .pcs.sh
# files, unchanged, edit the file.
h_cib_new() {
  local k
  CIB="$H_TMP/cib-$((++H_CIB_COUNT)).xml"
  export CIB
  cibadmin --empty | sed 's/<cib /<cib have-quorum="1" /' >"$CIB"
  for k in $(seq 1 "$1"); do
    CIB_file="$CIB" cibadmin -C -o nodes -X "<node id=\"$k\" uname=\"node$k\"/>"
    CIB_file="$CIB" cibadmin -C -o status -X "<node_state id=\"$k\" uname=\"node$k\" \
in_ccm=\"true\" crmd=\"online\" join=\"member\" expected=\"member\"/>"
  done
  if [ ! -x "$H_TMP/shim/pcs" ]; then
    mkdir -p "$H_TMP/shim"
    cat >"$H_TMP/shim/pcs" <<'SHIM'
#!/bin/sh
exec /usr/sbin/pcs -f "$CIB" "$@"
SHIM
    chmod 755 "$H_TMP/shim/pcs"
  fi
}
H_CIB_COUNT=0

# h_cib_apply PROVIDER FILE: runs crm-examples/FILE on $CIB as its header
# says to (pcs.sh: sh; crm: crm configure load update), with the agents
# under the test's OCF provider (h_ocf_provider).
h_cib_apply() {
  local copy
  copy="$H_TMP/$(basename "$2")"
  sed "s|ocf:percona:|ocf:$1:|g" "$H_SOURCE/crm-examples/$2" >"$copy"
  case $2 in
    *.pcs.sh) PATH="$H_TMP/shim:$PATH" sh "$copy" ;;
    *.crm) CIB_file="$CIB" crm configure load update "$copy" ;;
  esac
}

# --- containers ----------------------------------------------------------

# h_podman_conf: a containers.conf that works on these machines (runc, since
# crun fails on hybrid cgroups; ulimits within the hard limits, since there is
# no CAP_SYS_RESOURCE), exported as CONTAINERS_CONF for podman and the agents.
h_podman_conf() {
  local conf="$H_TMP/containers.conf"
  cat >"$conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
CONF
  export CONTAINERS_CONF="$conf"
}

# The version the stand-in image says it is (pmm-server's pmm-version attribute).
H_STANDIN_VERSION=3.99.0-standin
# h_standin_image podman|docker: imports the PMM stand-in (tests/pmm-standin.tar
# from the build) as a unique image, removed at exit; prints its reference.
h_standin_image() {
  local engine=$1 ref="localhost/$H_ID-standin:3"
  local tar="$H_BUILD/tests/pmm-standin.tar"
  [ -f "$tar" ] || { echo "stand-in image $tar not built" >&2; return 1; }
  # The version label is where PMM's images carry theirs (pmm-version);
  # lab/pmmlab's import gives the same.
  "$engine" import --change 'CMD ["/pmm-standin"]' --change 'USER 1000:1000' \
    --change "LABEL org.opencontainers.image.version=$H_STANDIN_VERSION" "$tar" "$ref" >/dev/null || return 1
  h_defer "$engine" rmi -f "$ref"
  echo "$ref"
}

# h_wait_for SECONDS CMD...: polls CMD every 50 ms until it succeeds.
h_wait_for() {
  local limit=$1 end
  shift
  # A deadline on the clock, not a count of tries: a slow command must not
  # stretch the wait.
  end=$((${EPOCHREALTIME/./} / 1000 + limit * 1000))
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ $((${EPOCHREALTIME/./} / 1000)) -lt "$end" ] || return 1
    sleep 0.05
  done
}

# h_podman_service NS: "podman system service" on a socket in H_TMP, in network
# namespace NS; prints the socket path. Stopped at exit.
h_podman_service() {
  local sock="$H_TMP/podman.sock"
  # in-netns execs podman: $! is the service's pid.
  in-netns "$1" podman system service --time=0 "unix://$sock" \
    >"$H_TMP/podman-service.log" 2>&1 &
  local pid=$!
  h_defer kill "$pid"
  h_wait_for 20 test -S "$sock" || { echo "podman service did not start" >&2; return 1; }
  echo "$sock"
}

# h_dockerd NS: a dockerd of our own in network namespace NS (containers with
# --network host share it), with its state in H_TMP; prints its socket path.
# Stopped and cleaned at exit. Needs docker.io.
h_dockerd() {
  local d="$H_TMP/docker" sock="$H_TMP/docker.sock"
  mkdir -p "$d/data" "$d/exec"
  in-netns "$1" dockerd -H "unix://$sock" --data-root "$d/data" --exec-root "$d/exec" \
    --pidfile "$d/dockerd.pid" --exec-opt native.cgroupdriver=cgroupfs --iptables=false \
    --ip-masq=false --ip-forward=false --bridge=none --storage-driver overlay2 \
    >"$d/dockerd.log" 2>&1 &
  local pid=$!
  h_defer h_umount_below "$d"
  h_defer sh -c "kill $pid; for i in \$(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done; kill -9 $pid"
  h_defer sh -c "DOCKER_HOST=unix://$sock docker rm -f \$(DOCKER_HOST=unix://$sock docker ps -aq) 2>/dev/null; true"
  h_wait_for 30 env DOCKER_HOST="unix://$sock" docker version || {
    echo "dockerd did not start: $(tail -n 5 "$d/dockerd.log")" >&2
    return 1
  }
  echo "$sock"
}

# --- the cluster lab -----------------------------------------------------

# h_lab_start N: a lab of N nodes (lab/pmmlab) named after the test, with our
# agents installed and the PMM stand-in imported; stopped at exit. Corosync's
# token is 1 s unless LAB_TOKEN says otherwise.
h_lab_start() {
  export LAB_DIR="$H_TMP/lab" LAB_NAME="$H_ID" LAB_TOKEN=${LAB_TOKEN-1000}
  export LAB_NET=${LAB_NET:-198.51.100}
  H_LAB="$H_SOURCE/lab/pmmlab"
  h_defer "$H_LAB" stop
  "$H_LAB" start "$1" || return 1
  "$H_LAB" install "$H_BUILD" || return 1
  "$H_LAB" import "$H_BUILD/tests/pmm-standin.tar" localhost/pmm-standin:3 || return 1
}

# lab CMD...: lab/pmmlab with this test's lab.
lab() { "$H_LAB" "$@"; }

# h_lab_workload: the fault tests' load on a lab where PMM is ready: the
# invariant watcher (every 50 ms) and the workload (200 writes a second
# through the VIP), until a write is acknowledged; aborts the test otherwise.
h_lab_workload() {
  h_expect_rc 0 "the invariant watcher starts" lab watch start 50
  h_expect_rc 0 "the workload starts: 200 writes a second through the VIP" lab workload start 200
  [ "$H_RC" = 0 ] || h_abort "no workload"
  h_expect_rc 0 "writes are acknowledged" h_wait_for 10 lab workload first-ack 0
  [ "$H_RC" = 0 ] || h_abort "no write was acknowledged: $(tail -n 3 "$LAB_DIR/workload.log")"
}

# --- PMM 3 HA in the lab: stand-ins that elect their leader -------------------
# The lab's verbs (lab/pmmlab leaders, leader-status, follow-leader), for tests.
h_leaders() { lab leaders; }
h_vip_on_leader() { [ "$(lab leader-status vip)" = 200 ]; }
# h_follow_leader OLD: lab follow-leader OLD, with its figures in H_NEW (the
# new leader), H_ELECT_MS and H_VIP_MS; its status (1: no new leader, 2: the
# VIP did not follow).
# shellcheck disable=SC2034 # H_NEW, H_ELECT_MS, H_VIP_MS are for the tests
h_follow_leader() {
  local out rc=0
  out=$(lab follow-leader "$1") || rc=$?
  [ -z "$out" ] || read -r H_NEW H_ELECT_MS H_VIP_MS <<<"$out"
  return $rc
}

# h_fence_devices_started: the fencing examples' devices run (fence-nodeK for
# each of the three nodes), each on another node than the one it fences.
h_fence_devices_started() {
  local s k
  s=$(lab exec 1 crm_mon -1 2>/dev/null) || return 1
  for k in 1 2 3; do
    printf '%s\n' "$s" | grep -qE "fence-node$k.*Started node[^$k]" || return 1
  done
}

# h_lab_clean_elsewhere NODE: nothing of the PMM group runs on any live node
# but NODE: no VIP, no PMM container, no mount of the shared disk.
h_lab_clean_elsewhere() {
  local keep=$1 k vip
  vip=$(lab vip)
  for k in $(seq 1 "$(cat "$LAB_DIR/nodes")"); do
    [ "$k" = "$keep" ] && continue
    lab exec "$k" true 2>/dev/null || continue
    if lab exec "$k" ip -4 -o addr show | grep -q " $vip/"; then
      echo "node$k still has the VIP"; return 1
    fi
    if [ -n "$(lab exec "$k" podman ps -q 2>/dev/null)" ]; then
      echo "node$k still runs a container"; return 1
    fi
    if lab exec "$k" findmnt -n "$LAB_DIR/srv" >/dev/null 2>&1; then
      echo "node$k still has the shared disk mounted"; return 1
    fi
  done
  return 0
}

# h_abort WHY: a failure the rest of the test cannot go on from.
h_abort() {
  h_fail "$*"
  if [ -n "${H_LAB:-}" ]; then
    echo "# cluster status:"
    lab status 2>&1 | sed 's/^/#   /'
  fi
  h_done
}
