#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The fault campaign (lab/pmmlab campaign) against both stacks, in one 3-node
# lab with real fencing, one after the other, with the same seed (so the same
# schedule of faults and targets):
#   ours       crm-examples/pmm-podman.pcs.sh: pmm-storage + pmm-server + pmm-vip
#   heartbeat  bench/baseline/heartbeat-podman.pcs.sh: Filesystem + podman +
#              IPaddr2, the same names, order, operations and timeouts
# Prints both reports, a side-by-side table (per fault: the runs that passed
# every check, the failover time's median) and writes a plot comparing them.
#
#   bench/campaign.sh [-n FAULTS] [-s SEED] [-e] [-k KINDS] [-r RECOVER_S] [-o DIR] [-t STACKS]
#   -n random faults (10), -s seed (1), -e 1: every fault once first, -k only
#   these faults (comma list), -r seconds a fault may take to recover (120),
#   -o where the reports and plots go (bench/results/campaign-SEED), -t the
#   stacks to run (ours,heartbeat; the comparison needs both). The lab's
#   options come from the environment: LAB_NETS=2 LAB_LUN_PATHS=1 add the
#   faults that need them (vip-*, fs-hung; ours only), as in CI.
#   The soak: LAB_NETS=2 LAB_LUN_PATHS=1 bench/campaign.sh -t ours -n 200 -s SEED -r 240
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
opt_n=10 opt_s=1 opt_e=0 opt_k='' opt_r=120 opt_o='' opt_t=ours,heartbeat
bench_options n:s:e:k:r:o:t: \
  "[-n FAULTS] [-s SEED] [-e 1] [-k KINDS] [-r RECOVER_S] [-o DIR] [-t STACKS]" "$@"
out=${opt_o:-$BENCH_SOURCE/bench/results/campaign-$opt_s}
mkdir -p "$out"
bench_harness campaign
export LAB_FENCING=1
args=(--faults "$opt_n" --seed "$opt_s" --recover "$opt_r")
[ "$opt_e" = 1 ] && args+=(--each)
[ -n "$opt_k" ] && args+=(--kinds "$opt_k")

# run STACK CONFIG: a fresh lab, CONFIG applied, the campaign; its report in $out/STACK.
run() {
  local stack=$1 config=$2
  h_lab_start 3 || bench_die "the lab did not start"
  lab disk >/dev/null
  lab apply "$config" >/dev/null 2>&1 || bench_die "$config did not apply"
  lab wait-ready 180 >/dev/null || bench_die "$stack: PMM did not come up"
  echo "== $stack: $(basename "$config")"
  lab campaign "${args[@]}" --report "$out/$stack" || true
  lab stop >/dev/null 2>&1
}
# wanted STACK: whether -t names it.
wanted() { case ",$opt_t," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
wanted ours && run ours "$BENCH_SOURCE/crm-examples/pmm-podman.pcs.sh"
wanted heartbeat && run heartbeat "$BENCH_SOURCE/bench/baseline/heartbeat-podman.pcs.sh"
wanted ours && wanted heartbeat || exit 0

python3 - "$out" <<'PY'
import csv, os, statistics, sys
out = sys.argv[1]
def rows(stack):
    with open(os.path.join(out, stack, "faults.tsv"), encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))
ours, hb = rows("ours"), rows("heartbeat")
kinds = sorted({r["fault"] for r in ours + hb})
def cell(rs, kind):
    rs = [r for r in rs if r["fault"] == kind]
    ok = sum(r["result"] == "ok" for r in rs)
    fo = [int(r["outage_ms"]) for r in rs if r["outage_ms"]]
    med = f"{statistics.median(fo) / 1000:.1f} s" if fo else "-"
    return f"{ok}/{len(rs)} | {med}"
lines = ["| fault | ours: passed | ours: outage median | heartbeat: passed | heartbeat: outage median |",
         "|---|---|---|---|---|"]
lines += [f"| {k} | {cell(ours, k)} | {cell(hb, k)} |" for k in kinds]
for stack, rs in (("ours", ours), ("heartbeat", hb)):
    lost = sum(int(r["lost"]) for r in rs if r["lost"].isdigit())
    viol = sum(int(r["violations"]) for r in rs if r["violations"].isdigit())
    lines.append(f"\n{stack}: {sum(r['result'] == 'ok' for r in rs)}/{len(rs)} faults passed, "
                 f"lost writes (per-fault checks, summed) {lost}, invariant violations {viol}")
text = "\n".join(lines) + "\n"
open(os.path.join(out, "comparison.md"), "w", encoding="utf-8").write(text)
print(text)
with open(os.path.join(out, "comparison.dat"), "w", encoding="ascii") as f:
    for x, k in enumerate(kinds, 1):
        for off, rs in ((-0.15, ours), (0.15, hb)):
            for r in rs:
                if r["fault"] == k and r["outage_ms"]:
                    f.write(f"{x + off:.2f} {int(r['outage_ms']) / 1000:.3f} {'0' if off < 0 else '1'} {1 if r['result'] == 'ok' else 0}\n")
with open(os.path.join(out, "kinds.txt"), "w", encoding="ascii") as f:
    f.write(", ".join(f'"{k}" {x}' for x, k in enumerate(kinds, 1)))
PY
if command -v gnuplot >/dev/null; then
  for term in "svg size 900,480 dynamic font 'sans,11'" "pngcairo size 900,480 font 'sans,10'"; do
    ext=${term%% *}; ext=${ext%cairo}
    gnuplot <<GP
set terminal $term
set output '$out/comparison.$ext'
set title "The same faults, seed $opt_s: the longest time without an acknowledged write (x: failed a check)"
set ylabel 'seconds'
set xtics ($(cat "$out/kinds.txt")) rotate by -30
set xrange [0.5:$(tr ',' '\n' <"$out/kinds.txt" | grep -c .).5]
set yrange [0:*]
set grid ytics
set key top left
plot '$out/comparison.dat' using 1:((\$3 == 0 && \$4 == 1) ? \$2 : 1/0) with points pt 7 ps 0.8 lc rgb '#1f77b4' title 'ours', \
     '$out/comparison.dat' using 1:((\$3 == 1 && \$4 == 1) ? \$2 : 1/0) with points pt 5 ps 0.8 lc rgb '#ff7f0e' title 'heartbeat', \
     '$out/comparison.dat' using 1:(\$4 == 0 ? \$2 : 1/0) with points pt 2 ps 1.4 lc rgb '#d62728' title 'failed a check'
GP
  done
  echo "plots: $out/comparison.svg, $out/comparison.png"
fi
