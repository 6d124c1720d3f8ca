"""Sequential against parallel exploration, each in a fresh process, alternating, several rounds.

Usage::

    python bench/parallel_speedup.py [--name crossing-ike-loss | --file bench/scale-3m.toml] [--no-symmetry]
                                     [--workers 2] [--native] [--rounds 3] [--quiet-cores 0.2 --max-wait 600]

Runs ``bench/explore_big.py`` with 1 and with N workers in turn and prints one Markdown row per
run (BFS wall seconds, CPU seconds of the coordinator and of the workers, load average before and
after, and the CPU the *other* processes of the machine used during the run, in cores) and the
ratio of the median wall times.  ``--native``: the search in C (``explore_big.py --native``: the
library compiled before the clock), on N threads of one process instead of N processes.

The machine's load matters: on two cores, a parallel run competing with other work cannot reach
2x, and with the kernel's autogroup scheduling (``/proc/sys/kernel/sched_autogroup_enabled``) one
busy process in another session takes a whole core's share from the two workers.  The
"others" column is measured from ``/proc/stat`` (all non-idle CPU time during the run minus the
run's own); ``--quiet-cores X`` waits before each run until the other processes used less than X
cores over a 2-second sample (at most ``--max-wait`` seconds, then runs anyway), and repeats a run
during which they used more (marked "noisy", left out of the medians) until ``--rounds`` quiet
runs of each kind, or ``--max-wait`` in all has passed.

``--pair`` measures the machine's ceiling instead: one sequential run alone, then two sequential
runs at the same time; ``2 * alone / together`` is the most any two processes can gain (on
cores that share caches, memory bandwidth or a physical core of the host it is below 2).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HZ = os.sysconf("SC_CLK_TCK")


def busy_seconds() -> float:
    """Non-idle CPU seconds of the whole machine since boot (all cores, from /proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]                       # idle + iowait
    return (sum(v[:8]) - idle) / HZ          # user .. steal (guest time is counted in user)


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def wait_quiet(cores: float, max_wait: float) -> float:
    """Wait until the machine used less than ``cores`` over a 2-second sample; that use."""
    deadline = time.monotonic() + max_wait
    while True:
        b0, t0 = busy_seconds(), time.monotonic()
        time.sleep(2)
        used = (busy_seconds() - b0) / (time.monotonic() - t0)
        if used < cores or time.monotonic() > deadline:
            return used


def run(target: list[str], workers: int, copies: int = 1) -> list[dict]:
    outs = []
    for _ in range(copies):
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            outs.append(f.name)
    b0, c0, t0 = busy_seconds(), children_cpu(), time.monotonic()
    procs = [subprocess.Popen([sys.executable, os.path.join(HERE, "explore_big.py"), *target,
                               "--workers", str(workers), "--json", out],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for out in outs]
    for p in procs:
        if p.wait():
            raise SystemExit(f"explore_big.py failed ({p.returncode})")
    wall = time.monotonic() - t0
    others = max(0.0, (busy_seconds() - b0) - (children_cpu() - c0)) / wall
    rows = []
    for out in outs:
        with open(out) as f:
            row = json.load(f)
        os.unlink(out)
        row["others_cores"] = others
        rows.append(row)
    return rows


def row_md(r: dict, label) -> str:
    return (f"| {r['scenario']} | {label} | {r['states']:,} | {r['edges']:,} | {r['bfs_seconds']:.3f} | "
            f"{r['cpu_seconds']:.2f} + {r['cpu_seconds_workers']:.2f} | "
            f"{r['peak_rss_mb']:,} / {r['peak_rss_workers_mb']:,} | "
            f"{r['load_before'][0]:.1f} → {r['load_after'][0]:.1f} | {r['others_cores']:.2f} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", default=None)
    ap.add_argument("--file", default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-symmetry", action="store_true",
                    help="explore interchangeable flows unreduced (e.g. crossing-flows)")
    ap.add_argument("--native", action="store_true",
                    help="the search in C: N threads instead of N processes")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quiet-cores", type=float, default=None,
                    help="before each run, wait until other processes use fewer cores than this")
    ap.add_argument("--max-wait", type=float, default=600.0)
    ap.add_argument("--pair", action="store_true",
                    help="one sequential run alone against two at once (the machine's ceiling)")
    args = ap.parse_args(argv)
    target = ["--file", args.file] if args.file else ["--name", args.name or "crossing-ike-loss"]
    target += ["--no-symmetry"] if args.no_symmetry else []
    target += ["--native"] if args.native else []
    print("| scenario | workers | states | edges | BFS wall s | CPU s coordinator + workers | "
          "peak RSS MB coordinator / workers | load 1-min before → after | others' CPU during run (cores) |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|")
    if args.pair:
        alone, together = [], []
        for _ in range(args.rounds):
            for copies in (1, 2):
                if args.quiet_cores is not None:
                    wait_quiet(args.quiet_cores, args.max_wait)
                rows = run(target, 1, copies)
                for r in rows:
                    print(row_md(r, "1 (alone)" if copies == 1 else "1 (two at once)"), flush=True)
                (alone if copies == 1 else together).append(max(r["bfs_seconds"] for r in rows))
        a, t = statistics.median(alone), statistics.median(together)
        print(f"\nmedian BFS wall: alone {a:.2f} s, two at once {t:.2f} s: two processes do "
              f"{2 * a / t:.2f}x the work of one")
        return 0
    walls: dict[int, list[float]] = {1: [], args.workers: []}
    end = time.monotonic() + args.max_wait
    for _ in range(args.rounds):
        for w in (1, args.workers):
            while True:
                if args.quiet_cores is not None:
                    wait_quiet(args.quiet_cores, max(0.0, end - time.monotonic()))
                r = run(target, w)[0]
                quiet = args.quiet_cores is None or r["others_cores"] < args.quiet_cores
                print(row_md(r, w if quiet else f"{w} (noisy)"), flush=True)
                if quiet or time.monotonic() > end:
                    break
            walls[w].append(r["bfs_seconds"])
    m1, mw = statistics.median(walls[1]), statistics.median(walls[args.workers])
    print(f"\nmedian BFS wall: 1 worker {m1:.3f} s, {args.workers} workers {mw:.3f} s, "
          f"speed-up {m1 / mw:.2f}x; best: {min(walls[1]):.3f} s / {min(walls[args.workers]):.3f} s, "
          f"{min(walls[1]) / min(walls[args.workers]):.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
