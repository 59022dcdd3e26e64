#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Failover, side by side in the same 3-node lab run: the time from a hard
# crash of the active node to PMM answering readyz on the VIP (seen from a
# client), for
#   cluster   ocf:heartbeat:Dummy + IPaddr2 (the VIP appearing): what the
#             cluster itself needs (token + consensus + Pacemaker)
#   heartbeat Filesystem + heartbeat podman + IPaddr2, the stock agents
#   ours      crm-examples/pmm-podman.pcs.sh: pmm-storage + pmm-server + pmm-vip
# The stand-in starts without warm-up, so the figures are the stacks', not PMM's.
#
#   bench/failover.sh [-r ROUNDS] [-b BUILD_DIR] [-t "TOKENS"]
#   (TOKENS: corosync token settings to run in ms, "default" = corosync's own;
#   default "1000 default")
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
opt_r=3 opt_t="1000 default"
bench_options r:t: "[-r ROUNDS] [-t TOKENS]" "$@"
rounds=$opt_r tokens=$opt_t
bench_harness failover
results="$H_TMP/results"
: >"$results"

vip_on_survivor() {  # vip_on_survivor VICTIM: the VIP is on another live node
  local k
  for k in 1 2 3; do
    [ "$k" = "$1" ] && continue
    lab exec "$k" ip -4 -o addr show 2>/dev/null | grep -q " $LAB_NET.100/" && return 0
  done
  return 1
}

# crash_and_time STACK RSC MODE: crash the node running RSC, time until the
# VIP is up (MODE vip) or PMM answers on it (MODE http); node back afterwards.
crash_and_time() {
  local stack=$1 rsc=$2 mode=$3 victim t0 ms
  victim=$(lab where "$rsc")
  [ -n "$victim" ] || { echo "$rsc is not running" >&2; return 1; }
  sleep 2
  t0=$(date +%s%3N)
  lab crash "$victim" 2>/dev/null
  if [ "$mode" = vip ]; then
    until vip_on_survivor "$victim"; do
      [ $(($(date +%s%3N) - t0)) -lt 120000 ] || { echo "no VIP" >&2; return 1; }
      sleep 0.05
    done
    ms=$(($(date +%s%3N) - t0))
  else
    ms=$(lab wait-ready 120) || { echo "no PMM" >&2; return 1; }
  fi
  echo "$token $stack $ms" >>"$results"
  echo "token=$token $stack: crash of node$victim -> ready in $ms ms"
  lab start-node "$victim" >/dev/null 2>&1
  lab wait-online 120
}

for token in $tokens; do
  [ "$token" = default ] && LAB_TOKEN="" || LAB_TOKEN=$token
  export LAB_TOKEN
  h_lab_start 3
  dev=$(lab disk)
  srv="$LAB_DIR/srv"
  mkdir -p "$srv"
  # PMM 3 (and the stand-in) runs as uid 1000: the disk's root is made its
  # own once, as an admin does before the stock agents can run it (pmm-storage
  # does it with owner=1000:1000).
  lab exec 1 sh -c "mount '$dev' '$srv' && chown 1000:1000 '$srv' && umount '$srv'"
  for _ in $(seq 1 "$rounds"); do
    # the cluster alone
    lab exec 1 pcs resource create b-dummy ocf:heartbeat:Dummy --group b >/dev/null
    lab exec 1 pcs resource create b-vip ocf:heartbeat:IPaddr2 ip="$LAB_NET.100" cidr_netmask=24 nic=eth0 --group b >/dev/null
    h_wait_for 60 sh -c "[ -n \"\$('$H_LAB' where b-vip)\" ]"
    crash_and_time cluster b-vip vip
    lab exec 1 pcs resource delete b --force >/dev/null 2>&1 || lab exec 2 pcs resource delete b --force >/dev/null 2>&1
    sleep 3
    # the heartbeat agents
    lab exec 1 pcs resource create hb-fs ocf:heartbeat:Filesystem device="$dev" directory="$srv" fstype=ext4 --group hb >/dev/null
    lab exec 1 pcs resource create hb-pmm ocf:heartbeat:podman image=localhost/pmm-standin:3 allow_pull=false \
      run_opts="--network host -v $srv:/srv -e STANDIN_WARMUP_MS=0" --group hb >/dev/null
    lab exec 1 pcs resource create hb-vip ocf:heartbeat:IPaddr2 ip="$LAB_NET.100" cidr_netmask=24 nic=eth0 --group hb >/dev/null
    lab wait-ready 120 >/dev/null
    crash_and_time heartbeat hb-pmm http
    lab exec 1 pcs resource delete hb --force >/dev/null 2>&1 || lab exec 2 pcs resource delete hb --force >/dev/null 2>&1
    sleep 5
    # ours, as the example configures it
    lab apply "$H_SOURCE/crm-examples/pmm-podman.pcs.sh" >/dev/null 2>&1
    lab exec 1 pcs resource update pmm-server env=STANDIN_WARMUP_MS=0 >/dev/null
    lab wait-ready 120 >/dev/null
    crash_and_time ours pmm-server http
    lab exec 1 pcs resource delete pmm --force >/dev/null 2>&1 || lab exec 2 pcs resource delete pmm --force >/dev/null 2>&1
    sleep 5
  done
  lab stop >/dev/null 2>&1
done

echo
echo "median crash -> ready (ms), $rounds rounds each:"
python3 - "$results" <<'PY'
import statistics, sys, collections
by = collections.defaultdict(list)
for line in open(sys.argv[1]):
    token, stack, ms = line.split()
    by[(token, stack)].append(int(ms))
for token in dict.fromkeys(t for t, _ in by):
    c = statistics.median(by.get((token, "cluster"), [0]))
    h = statistics.median(by.get((token, "heartbeat"), [0]))
    o = statistics.median(by.get((token, "ours"), [0]))
    print(f"token {token:>7}: cluster {c:6.0f}   heartbeat {h:6.0f} (+{h - c:.0f})   ours {o:6.0f} (+{o - c:.0f})   ours/heartbeat {o / h:.2f}")
PY
