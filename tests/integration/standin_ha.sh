#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The PMM stand-in's HA leader election (pmm-standin with PMM_HA_ENABLE=1) on
# the real kernel, without containers: three stand-ins, each in a network
# namespace of its own with its own STANDIN_SRV, plugged by veth pairs into a
# bridge in a fourth namespace (the switch). Only 198.51.100.0/24, only inside
# the namespaces this test creates.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_begin standin_ha

standin="$H_BUILD/tests/pmm-standin"
[ -x "$standin" ] || { echo "pmm-standin not built in $H_BUILD" >&2; exit 1; }
port=8080
raft_port=9097
net=198.51.100
peers="$net.11,$net.12,$net.13"
nodes=(1 2 3)
declare -A node_ns pid

now_ms() { date +%s%3N; }

# --- the network: n1, n2, n3 on a bridge in sw ------------------------------
sw=$(h_netns sw) || exit 1
ip -n "$sw" link add br0 type bridge || exit 1
ip -n "$sw" link set br0 up
for n in "${nodes[@]}"; do
  node_ns[$n]=$(h_netns "n$n") || exit 1
  h_veth "${node_ns[$n]}" eth0 "$sw" "p$n" || exit 1
  ip -n "$sw" link set "p$n" master br0
  ip -n "${node_ns[$n]}" addr add "$net.1$n/24" dev eth0
  mkdir -p "$H_TMP/n$n"
done

# --- the stand-ins -----------------------------------------------------------
# start N [VAR=VALUE...]: stand-in N in its namespace, with these variables
# set over the defaults (in-netns and env exec it: $! is its pid).
start() {
  local n=$1
  shift
  in-netns "${node_ns[$n]}" env STANDIN_SRV="$H_TMP/n$n" \
    STANDIN_PORTS=$port STANDIN_WARMUP_MS=300 STANDIN_STOP_DELAY_MS=4000 \
    PMM_HA_ENABLE=1 PMM_HA_NODE_ID="node$n" PMM_HA_ADVERTISE_ADDRESS="$net.1$n" \
    PMM_HA_PEERS="$peers" PMM_HA_RAFT_PORT=$raft_port "$@" \
    "$standin" >>"$H_TMP/n$n.log" 2>&1 &
  pid[$n]=$!
}

# gone N: stand-in N has exited (a zombie until reaped: kill -0 still works).
# shellcheck disable=SC2317 # called through h_wait_for, which shellcheck does not follow
gone() { ! ps -o stat= -p "${pid[$1]}" | grep -qv '^Z'; }

# shellcheck disable=SC2317 # called through h_check, which shellcheck does not follow
running() { ! gone "$1"; }

# reap N: waits for stand-in N, which has exited or is about to.
reap() {
  h_wait_for 10 gone "$1" || return 1
  wait "${pid[$1]}" 2>/dev/null
  unset "pid[$1]"
}

# At exit: the stand-ins still running (only our own unreaped children, so no
# pid can have been reused), before their namespaces go.
# shellcheck disable=SC2317 # called through h_defer, which shellcheck does not follow
stop_all() {
  local n
  for n in "${!pid[@]}"; do kill -9 "${pid[$n]}" 2>/dev/null; done
  for n in "${!pid[@]}"; do wait "${pid[$n]}" 2>/dev/null; done
}
h_defer stop_all

# status N: node N's leaderHealthCheck status code, 000 when it does not answer.
status() {
  in-netns "${node_ns[$1]}" curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
    "http://127.0.0.1:$port/v1/server/leaderHealthCheck"
}

# leader_of N...: prints the one node among N... that answers 200 while all
# the others answer 400; fails when that is not so.
leader_of() {
  local n found=
  for n in "$@"; do
    case $(status "$n") in
      200) [ -z "$found" ] || return 1; found=$n ;;
      400) ;;
      *) return 1 ;;
    esac
  done
  [ -n "$found" ] && echo "$found"
}

# wait_leader SECONDS N...: waits until exactly one of N... leads, the same one
# for 600 ms (more than two election rounds: no earlier claimant about to win);
# sets LEADER and ELAPSED (ms).
wait_leader() {
  local deadline t0 l prev='' since=0
  t0=$(now_ms)
  deadline=$((t0 + $1 * 1000))
  shift
  LEADER=
  while [ "$(now_ms)" -lt "$deadline" ]; do
    l=$(leader_of "$@") || l=
    if [ -n "$l" ] && [ "$l" = "$prev" ]; then
      if [ $(($(now_ms) - since)) -ge 600 ]; then
        LEADER=$l ELAPSED=$(($(now_ms) - t0))
        return 0
      fi
    else
      prev=$l since=$(now_ms)
    fi
    sleep 0.05
  done
  return 1
}

# keeps_leader MS L N...: L stays the one leader of N... in every sample for MS.
# shellcheck disable=SC2317 # called through h_check, which shellcheck does not follow
keeps_leader() {
  local end=$(($(now_ms) + $1)) want=$2
  shift 2
  while [ "$(now_ms)" -lt "$end" ]; do
    [ "$(leader_of "$@")" = "$want" ] || return 1
    sleep 0.1
  done
}

# shellcheck disable=SC2317 # called through h_wait_for and h_check, which shellcheck does not follow
status_is() { [ "$(status "$1")" = "$2" ]; }

# stays_status N CODE MS: node N answers CODE in every sample for MS.
# shellcheck disable=SC2317 # called through h_check, which shellcheck does not follow
stays_status() {
  local end=$(($(now_ms) + $3))
  while [ "$(now_ms)" -lt "$end" ]; do
    status_is "$1" "$2" || return 1
    sleep 0.1
  done
}

view() { cat "$H_TMP/n$1/standin/leader-view" 2>/dev/null; }
# shellcheck disable=SC2317 # called through h_wait_for, which shellcheck does not follow
view_is() { [ "$(view "$1")" = "$2" ]; }

# election_line FROM TO: what node TO answers on its election port, asked from
# node FROM's namespace.
election_line() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  in-netns "${node_ns[$1]}" timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1" && cat <&3' \
    "$net.1$2" "$raft_port"
}

# abort WHY: what the stand-ins said, then stop.
abort() {
  local n
  for n in "${nodes[@]}"; do
    echo "# node$n: $(view "$n")"
    tail -n 15 "$H_TMP/n$n.log" 2>/dev/null | sed 's/^/#   /'
  done
  h_abort "$*"
}

others() {
  local n
  for n in "${nodes[@]}"; do [ "$n" = "$1" ] || printf '%s ' "$n"; done
}

# --- a leader emerges --------------------------------------------------------
for n in "${nodes[@]}"; do start "$n"; done
wait_leader 10 1 2 3 || abort "no single leader within 10 s"
h_pass "exactly one leader emerges: node$LEADER, 200 on it and 400 on the others ($ELAPSED ms)"
first=$LEADER
for n in "${nodes[@]}"; do
  h_check "node$n's leader-view names node$first, eligible" \
    h_wait_for 2 view_is "$n" "leader=node$first self=node$n eligible=1"
done
follower=$(others "$first" | awk '{print $1}')
h_match "the election port answers '<id> <eligible> <leader>' (leader, from node$follower)" \
  "^node$first 1 1\$" "$(election_line "$follower" "$first")"
h_match "... and on a follower" "^node$follower 1 0\$" "$(election_line "$first" "$follower")"
h_expect_rc 2 "a stand-in that is not in PMM_HA_PEERS does not start" \
  in-netns "${node_ns[1]}" env STANDIN_SRV="$H_TMP/bad" STANDIN_PORTS=1 PMM_HA_ENABLE=1 \
  PMM_HA_NODE_ID=x PMM_HA_ADVERTISE_ADDRESS="$net.19" PMM_HA_PEERS="$peers" timeout 5 "$standin"
h_match "... saying why" "is not in PMM_HA_PEERS" "$H_ERR"

# --- stepdown moves the leadership, and it does not come back -----------------
# The leadership goes to node1 first, the first in PMM_HA_PEERS: once it has
# moved on from there, node1's return is the one that could take it back.
stepdown() { touch "$H_TMP/n$1/standin/stepdown"; }
stepdown_off() { rm "$H_TMP/n$1/standin/stepdown"; }
if [ "$LEADER" != 1 ]; then
  stepdown 2
  stepdown 3
  if ! wait_leader 5 1 2 3 || [ "$LEADER" != 1 ]; then
    abort "stepdown on node2 and node3 did not move the leadership to node1"
  fi
  h_pass "stepdown on node2 and node3 moves the leadership to node1 ($ELAPSED ms)"
  stepdown_off 2
  stepdown_off 3
  h_check "node2 and node3 are eligible again, following node1" \
    h_wait_for 2 eval 'view_is 2 "leader=node1 self=node2 eligible=1" &&
      view_is 3 "leader=node1 self=node3 eligible=1"'
fi
stepdown 1
# A leader that gives up the lead itself hands it over, as PMM's does (Raft's
# leadership transfer): for 1 s its election line says so, and the first
# eligible follower takes over without waiting for its heartbeat timeout.
# shellcheck disable=SC2317 # called through h_wait_for
handing_over() { [ "$(election_line 2 1)" = "node1 0 0 handover" ]; }
h_check "node1, stepping down, says it hands the lead over" h_wait_for 2 handing_over
if ! wait_leader 5 1 2 3 || [ "$LEADER" != 2 ]; then
  abort "stepdown on node1 did not move the leadership to node2, the first eligible"
fi
h_pass "stepdown on leader node1 moves the leadership to node2, the first eligible ($ELAPSED ms)"
h_check "node1's leader-view: follows node2, not eligible" \
  h_wait_for 2 view_is 1 "leader=node2 self=node1 eligible=0"
stepdown_off 1
h_check "node1 is eligible again once its stepdown file is gone" \
  h_wait_for 2 view_is 1 "leader=node2 self=node1 eligible=1"
h_check "... and the leadership stays on node2, though node1 comes first (sticky)" \
  keeps_leader 1500 2 1 2 3

# --- SIGTERM: the leader gives up at once, before its shutdown delay -----------
old=$LEADER
kill -TERM "${pid[$old]}"
h_check "node$old answers 400 right after SIGTERM, while stopping" \
  h_wait_for 1 status_is "$old" 400
# shellcheck disable=SC2046
wait_leader 5 $(others "$old") || abort "no single leader after SIGTERM on node$old"
h_pass "node$LEADER takes over ($ELAPSED ms)"
h_check "... while node$old is still in its 4 s shutdown delay" running "$old"
h_check "... which does not claim the leadership again" status_is "$old" 400
reap "$old" || abort "node$old did not stop"
h_check "node$old stopped cleanly" test -s "$H_TMP/n$old/standin/clean-stop"
start "$old"
h_check "node$old, restarted, joins as a follower of node$LEADER" \
  h_wait_for 5 view_is "$old" "leader=node$LEADER self=node$old eligible=1"
h_check "... with the leadership still on node$LEADER" keeps_leader 1000 "$LEADER" 1 2 3

# --- SIGKILL on the leader -----------------------------------------------------
old=$LEADER
kill -KILL "${pid[$old]}"
reap "$old" || abort "node$old did not die"
# shellcheck disable=SC2046
wait_leader 5 $(others "$old") || abort "no single leader after SIGKILL on node$old"
h_pass "SIGKILL on leader node$old: node$LEADER leads ($ELAPSED ms)"
start "$old"
h_check "node$old, restarted, warms up as a follower of node$LEADER" \
  h_wait_for 5 view_is "$old" "leader=node$LEADER self=node$old eligible=1"
h_check "... answers 400, and node$LEADER stays the one leader" keeps_leader 1000 "$LEADER" 1 2 3

# --- the leader's link goes down ----------------------------------------------
old=$LEADER
ip -n "$sw" link set "p$old" down
# shellcheck disable=SC2046
wait_leader 5 $(others "$old") || abort "no single leader after node$old's link went down"
h_pass "link down on leader node$old: node$LEADER leads among the others ($ELAPSED ms)"
h_check "node$old, cut off without a quorum, steps down: 400 within 2 s (Raft's lease)" \
  h_wait_for 2 status_is "$old" 400
h_check "... its leader-view names no leader" h_wait_for 1 view_is "$old" "leader= self=node$old eligible=1"
h_match "... and its log says why" "stepping down, no quorum: 1 of 3 nodes reachable" \
  "$(cat "$H_TMP/n$old.log")"
h_match "... as does its ha-events file, with the time and the boot" \
  "^[0-9]{13} [0-9]+ HA: stepping down, no quorum: 1 of 3 nodes reachable\$" \
  "$(cat "$H_TMP/n$old/standin/ha-events")"
ip -n "$sw" link set "p$old" up
wait_leader 5 1 2 3 || abort "no single leader after node$old's link came back"
h_pass "link back up: exactly one leader again, node$LEADER ($ELAPSED ms)"
for n in "${nodes[@]}"; do
  h_check "node$n's leader-view names node$LEADER" \
    h_wait_for 2 view_is "$n" "leader=node$LEADER self=node$n eligible=1"
done

# --- the fault tests' workload: an acknowledged write is on the leader's disk -
# post N SEQ: the status of a write of SEQ to node N.
post() {
  in-netns "${node_ns[$1]}" curl -s -o /dev/null -w '%{http_code}' --max-time 2 -X POST \
    "http://127.0.0.1:$port/v1/test/write?seq=$2"
}
h_match "a write to the leader is acknowledged" '^200$' "$(post "$LEADER" 1)"
h_match "... and the next one" '^200$' "$(post "$LEADER" 2)"
read -r follower _ <<<"$(others "$LEADER")"
h_match "a follower refuses a write (400, as PMM's leader-only API)" '^400$' "$(post "$follower" 3)"
h_match "a seq that is not a number is refused" '^400$' "$(post "$LEADER" '1%3Bx')"
boot=$(cat "$H_TMP/n$LEADER/standin/boots")
h_match "the leader's writes.log has both, in order, with its boot number, name and time" \
  "^1 $boot node$LEADER [0-9]{13}
2 $boot node$LEADER [0-9]{13}\$" "$(cat "$H_TMP/n$LEADER/standin/writes.log")"
h_check "the follower's has none" test ! -e "$H_TMP/n$follower/standin/writes.log"
h_match "GET /v1/test/writes returns the log" "^1 $boot" \
  "$(in-netns "${node_ns[$LEADER]}" curl -s --max-time 2 "http://127.0.0.1:$port/v1/test/writes")"

# --- two of three cut off: nobody leads ----------------------------------------
read -r a b <<<"$(others "$LEADER")"
ip -n "$sw" link set "p$LEADER" down
ip -n "$sw" link set "p$a" down
h_check "with node$LEADER and node$a cut off, no node leads within 2 s (no quorum anywhere)" \
  h_wait_for 2 eval 'status_is 1 400 && status_is 2 400 && status_is 3 400'
h_check "... and node$b, alone, is not elected in 2 s more" stays_status "$b" 400 2000
ip -n "$sw" link set "p$LEADER" up
ip -n "$sw" link set "p$a" up
wait_leader 5 1 2 3 || abort "no single leader after the links came back"
h_pass "links back: node$LEADER leads ($ELAPSED ms)"

# restart_all [VAR=VALUE...]: every stand-in stopped and started again with
# these variables.
restart_all() {
  local n
  for n in "${nodes[@]}"; do kill -KILL "${pid[$n]}"; done
  for n in "${nodes[@]}"; do reap "$n" || abort "node$n did not die"; done
  for n in "${nodes[@]}"; do start "$n" "$@"; done
}

# --- host-name peers ------------------------------------------------------------
printf '%s\n' "# the lab's names" "$net.11 node1.lab node1" "$net.12 node2.lab" \
  "$net.13 node3.lab" >"$H_TMP/hosts"
restart_all STANDIN_HOSTS="$H_TMP/hosts" PMM_HA_PEERS=node1.lab,node2.lab,node3.lab
wait_leader 10 1 2 3 || abort "no single leader with host-name peers"
h_pass "PMM_HA_PEERS as host names (looked up in the hosts file): node$LEADER leads ($ELAPSED ms)"
for n in "${nodes[@]}"; do
  h_check "node$n's view names it" h_wait_for 2 view_is "$n" "leader=node$LEADER self=node$n eligible=1"
done

# --- an advertise address that is a host name: HA does not start there -------
kill -KILL "${pid[1]}"
reap 1 || abort "node1 did not die"
start 1 STANDIN_HOSTS="$H_TMP/hosts" PMM_HA_ADVERTISE_ADDRESS=node1.lab
h_check "node1 advertising a host name answers ready" \
  h_wait_for 5 eval "in-netns ${node_ns[1]} curl -sf --max-time 1 http://127.0.0.1:$port/v1/readyz"
stepdown 2
stepdown 3
h_check "... but never leads, not even as the one eligible node: 400 for 3 s" \
  stays_status 1 400 3000
stepdown_off 2
stepdown_off 3
h_match "... and its log says HA did not start" "is not an IP address; this node will not lead" \
  "$(cat "$H_TMP/n1.log")"

# --- an image that ignores PMM_HA_*: every node leads ---------------------------
restart_all STANDIN_HA=ignore
h_check "with STANDIN_HA=ignore every node answers 200 on leaderHealthCheck" \
  h_wait_for 5 eval 'status_is 1 200 && status_is 2 200 && status_is 3 200'
h_wait_for 5 eval "in-netns ${node_ns[1]} curl -sf --max-time 1 http://127.0.0.1:$port/v1/readyz &&
  in-netns ${node_ns[2]} curl -sf --max-time 1 http://127.0.0.1:$port/v1/readyz"
h_match "... and, once ready, writes to two nodes are acknowledged (several leaders)" \
  '^200 200$' "$(post 1 101) $(post 2 102)"

# --- run as PMM's user: a /srv it cannot write is fatal -------------------------
mkdir -p "$H_TMP/rootsrv"
chmod 0755 "$H_TMP/rootsrv"
h_expect_rc 1 "as uid 1000, a root-owned /srv makes the stand-in exit 1 at once" \
  setpriv --reuid 1000 --regid 1000 --clear-groups env STANDIN_SRV="$H_TMP/rootsrv" \
  STANDIN_PORTS=1 timeout 5 "$standin"
h_match "... with PMM's FATAL message" "FATAL: $H_TMP/rootsrv is not writable for uid 1000" "$H_ERR"
chown 1000:1000 "$H_TMP/rootsrv"
h_expect_rc 124 "... and runs once the directory is uid 1000's" \
  setpriv --reuid 1000 --regid 1000 --clear-groups env STANDIN_SRV="$H_TMP/rootsrv" \
  STANDIN_PORTS=18080 timeout 2 "$standin"

h_done
