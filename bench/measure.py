#!/usr/bin/env python3
"""Times commands side by side: median wall and CPU time over N interleaved runs.

    measure.py [-n RUNS] [--expect-rc RC] [--settle MS] --case NAME ARGV... [--case NAME ARGV...]

The first case is the baseline; every other case is reported as a ratio of
it. CPU time is user+system of the command and every process it waited for
(getrusage(RUSAGE_CHILDREN) deltas), so an agent that forks ip, podman or a
shell pays for them. Runs are interleaved so that load on the machine hits
every case alike. Exit status 1 when a run ends with another status than
--expect-rc (default: the first run's own), so a broken setup is not timed.
A case may begin with NAME=VALUE words, as in a shell: they are put into the
command's environment rather than timed as an exec of env(1).
--settle pauses between runs: a command whose daemon keeps working after it
returned (podman's conmon and event handling) would otherwise bill that work
to whichever case runs next. Pacemaker runs a monitor every few seconds, on
a machine at rest, which is what a pause reproduces.
"""
import os
import re
import resource
import statistics
import subprocess
import sys
import time


def parse(argv):
    runs, expect, settle, cases = 50, None, 0.0, []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "-n":
            runs = int(argv[i + 1]); i += 2
        elif a == "--expect-rc":
            expect = int(argv[i + 1]); i += 2
        elif a == "--settle":
            settle = int(argv[i + 1]) / 1000; i += 2
        elif a == "--case":
            cases.append((argv[i + 1], []))
            i += 2
        elif cases:
            cases[-1][1].append(a); i += 1
        else:
            sys.exit(f"unexpected argument {a!r}")
    if not cases:
        sys.exit(__doc__)
    return runs, expect, settle, cases


ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def split_env(argv):
    env, i = dict(os.environ), 0
    while i < len(argv) and ASSIGNMENT.match(argv[i]):
        name, _, value = argv[i].partition("=")
        env[name] = value
        i += 1
    return env, argv[i:]


def run_once(cmd):
    env, argv = split_env(cmd)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    rc = subprocess.call(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return rc, wall * 1000, cpu * 1000


def main():
    runs, expect, settle, cases = parse(sys.argv[1:])
    results = {name: ([], []) for name, _ in cases}
    expected = {}
    for _ in range(runs):
        for name, cmd in cases:
            time.sleep(settle)
            rc, wall, cpu = run_once(cmd)
            want = expect if expect is not None else expected.setdefault(name, rc)
            if rc != want:
                sys.exit(f"{name}: exit status {rc}, expected {want}: not timing a broken run")
            results[name][0].append(wall)
            results[name][1].append(cpu)
    base = cases[0][0]
    bw = statistics.median(results[base][0])
    bc = statistics.median(results[base][1])
    print(f"{'case':<34} {'wall ms':>9} {'cpu ms':>9} {'wall ratio':>11} {'cpu ratio':>10}  (median of {runs}, rc {expected.get(base, expect)})")
    for name, _ in cases:
        w = statistics.median(results[name][0])
        c = statistics.median(results[name][1])
        wr = f"1/{bw / w:.1f}" if name != base and w > 0 else "-"
        cr = f"1/{bc / c:.1f}" if name != base and c > 0 else "-"
        print(f"{name:<34} {w:9.2f} {c:9.2f} {wr:>11} {cr:>10}")


if __name__ == "__main__":
    main()
