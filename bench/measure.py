#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Times commands side by side: median wall and CPU time over N interleaved runs.

    measure.py [-n RUNS] [--warmup N] [--expect-rc RC] [--settle MS]
               [--target NAME=N] [--wall-target NAME=N]
               --case NAME [--netns PATH] ARGV... [--case NAME ...]

The first case is the baseline; every other case is reported as a ratio of
it. CPU time is user+system of the command and every process it waited for
(the rusage wait4 returns), so an agent that forks ip, podman or a shell
pays for them. Runs are interleaved so that load on the machine hits every
case alike. Exit status 1 when a run ends with another status than
--expect-rc (default: the first run's own), so a broken setup is not timed.
A case may begin with NAME=VALUE words, as in a shell, and -u NAME words, as
with env(1): they change the command's environment rather than being timed
as an exec of env(1). --netns PATH right after a case's name starts that
command in the network namespace PATH (e.g. /proc/PID/ns/net), entered with
setns() around the spawn, so no nsenter is timed.
--warmup runs every case N times untimed first (the page cache, the
dynamic loader's caches).
--settle pauses between runs: a command whose daemon keeps working after it
returned (podman's conmon and event handling) would otherwise bill that work
to whichever case runs next. Pacemaker runs a monitor every few seconds, on
a machine at rest, which is what a pause reproduces.
--target NAME=N: case NAME's median wall and CPU time must be at most 1/N of
the baseline's; --wall-target only its wall time. Each target prints a
verdict; exit status 3 when one is missed.
"""
import ctypes
import os
import re
import statistics
import sys
import time

CLONE_NEWNET = 0x40000000


class Case:
    def __init__(self, name):
        self.name, self.argv, self.netns = name, [], None
        self.wall, self.cpu = [], []


def parse(argv):
    opts = {"runs": 50, "warmup": 0, "expect": None, "settle": 0.0, "targets": []}
    cases = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "-n":
            opts["runs"] = int(argv[i + 1]); i += 2
        elif a == "--warmup":
            opts["warmup"] = int(argv[i + 1]); i += 2
        elif a == "--expect-rc":
            opts["expect"] = int(argv[i + 1]); i += 2
        elif a == "--settle":
            opts["settle"] = int(argv[i + 1]) / 1000; i += 2
        elif a in ("--target", "--wall-target"):
            name, _, ratio = argv[i + 1].rpartition("=")
            opts["targets"].append((name, float(ratio), a == "--target")); i += 2
        elif a == "--case":
            cases.append(Case(argv[i + 1]))
            i += 2
            if i < len(argv) and argv[i] == "--netns":
                cases[-1].netns = argv[i + 1]; i += 2
        elif cases:
            cases[-1].argv.append(a); i += 1
        else:
            sys.exit(f"unexpected argument {a!r}")
    if not cases:
        sys.exit(__doc__)
    names = [c.name for c in cases]
    for name, _, _ in opts["targets"]:
        if name not in names:
            sys.exit(f"target for an unknown case {name!r}")
    return opts, cases


ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def split_env(argv):
    env, i = dict(os.environ), 0
    while i < len(argv):
        if ASSIGNMENT.match(argv[i]):
            name, _, value = argv[i].partition("=")
            env[name] = value
            i += 1
        elif argv[i] == "-u" and i + 1 < len(argv):
            env.pop(argv[i + 1], None)
            i += 2
        else:
            break
    return env, argv[i:]


libc = ctypes.CDLL(None, use_errno=True)
devnull = os.open(os.devnull, os.O_RDWR)
home_netns = os.open("/proc/self/ns/net", os.O_RDONLY)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        sys.exit(f"setns: {os.strerror(ctypes.get_errno())}")


def run_once(case):
    env, argv = split_env(case.argv)
    netns = os.open(case.netns, os.O_RDONLY) if case.netns else None
    if netns is not None:
        setns(netns)  # the child starts there
    try:
        t0 = time.perf_counter()
        pid = os.posix_spawnp(argv[0], argv, env,
                              file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0),
                                            (os.POSIX_SPAWN_DUP2, devnull, 1),
                                            (os.POSIX_SPAWN_DUP2, devnull, 2)])
    finally:
        if netns is not None:
            setns(home_netns)
            os.close(netns)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    cpu = usage.ru_utime + usage.ru_stime
    return os.waitstatus_to_exitcode(status), wall * 1000, cpu * 1000


def main():
    opts, cases = parse(sys.argv[1:])
    expected = {}

    def timed(case):
        time.sleep(opts["settle"])
        rc, wall, cpu = run_once(case)
        want = opts["expect"] if opts["expect"] is not None else expected.setdefault(case.name, rc)
        if rc != want:
            sys.exit(f"{case.name}: exit status {rc}, expected {want}: not timing a broken run")
        return wall, cpu

    for _ in range(opts["warmup"]):
        for case in cases:
            timed(case)
    for _ in range(opts["runs"]):
        for case in cases:
            wall, cpu = timed(case)
            case.wall.append(wall)
            case.cpu.append(cpu)

    med = {c.name: (statistics.median(c.wall), statistics.median(c.cpu)) for c in cases}
    base = cases[0].name
    bw, bc = med[base]
    rc = expected.get(base, opts["expect"])
    print(f"{'case':<40} {'wall ms':>9} {'cpu ms':>9} {'wall ratio':>11} {'cpu ratio':>10}"
          f"  (median of {opts['runs']}, rc {rc})")
    for case in cases:
        w, c = med[case.name]
        wr = f"1/{bw / w:.1f}" if case.name != base and w > 0 else "-"
        cr = f"1/{bc / c:.1f}" if case.name != base and c > 0 else "-"
        print(f"{case.name:<40} {w:9.2f} {c:9.2f} {wr:>11} {cr:>10}")

    missed = False
    for name, ratio, cpu_too in opts["targets"]:
        w, c = med[name]
        meets = w <= bw / ratio and (not cpu_too or c <= bc / ratio)
        missed = missed or not meets
        what = "wall and CPU" if cpu_too else "wall"
        print(f"target: {name} at most 1/{ratio:g} of {base} ({what}): "
              f"{'meets' if meets else 'MISSES'} (wall 1/{bw / w:.1f}"
              + (f", cpu 1/{bc / c:.1f}" if cpu_too and c > 0 else "") + ")")
    sys.exit(3 if missed else 0)


if __name__ == "__main__":
    main()
