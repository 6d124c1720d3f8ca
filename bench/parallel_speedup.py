"""Sequential against parallel exploration, each in a fresh process, alternating, several rounds.

Usage::

    python bench/parallel_speedup.py [--name crossing-ike-loss | --file bench/scale-3m.toml]
                                     [--workers 2] [--rounds 3] [--quiet-cores 0.2 --max-wait 600]

Runs ``bench/explore_big.py`` with 1 and with N workers in turn and prints one Markdown row per
run (BFS wall seconds, CPU seconds of the coordinator and of the workers, load average before and
after, and the CPU the *other* processes of the machine used during the run, in cores) and the
ratio of the median wall times.

The machine's load matters: on two cores, a parallel run competing with other work cannot reach
2x, and with the kernel's autogroup scheduling (``/proc/sys/kernel/sched_autogroup_enabled``) one
busy process in another session takes a whole core's share from the two workers.  The
"others" column is measured from ``/proc/stat`` (all non-idle CPU time during the run minus the
run's own); ``--quiet-cores X`` waits before each run until the other processes used less than X
cores over a 2-second sample (at most ``--max-wait`` seconds, then runs anyway).
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


def run(target: list[str], workers: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    b0, c0, t0 = busy_seconds(), children_cpu(), time.monotonic()
    subprocess.run([sys.executable, os.path.join(HERE, "explore_big.py"), *target,
                    "--workers", str(workers), "--json", out], check=True, capture_output=True)
    wall = time.monotonic() - t0
    others = max(0.0, (busy_seconds() - b0) - (children_cpu() - c0)) / wall
    with open(out) as f:
        row = json.load(f)
    os.unlink(out)
    row["others_cores"] = others
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", default=None)
    ap.add_argument("--file", default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quiet-cores", type=float, default=None,
                    help="before each run, wait until other processes use fewer cores than this")
    ap.add_argument("--max-wait", type=float, default=600.0)
    args = ap.parse_args(argv)
    target = ["--file", args.file] if args.file else ["--name", args.name or "crossing-ike-loss"]
    print("| scenario | workers | states | edges | BFS wall s | CPU s coordinator + workers | "
          "peak RSS MB coordinator / workers | load 1-min before → after | others' CPU during run (cores) |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|")
    walls: dict[int, list[float]] = {1: [], args.workers: []}
    for _ in range(args.rounds):
        for w in (1, args.workers):
            if args.quiet_cores is not None:
                wait_quiet(args.quiet_cores, args.max_wait)
            r = run(target, w)
            walls[w].append(r["bfs_seconds"])
            print(f"| {r['scenario']} | {w} | {r['states']:,} | {r['edges']:,} | {r['bfs_seconds']:.2f} | "
                  f"{r['cpu_seconds']:.2f} + {r['cpu_seconds_workers']:.2f} | "
                  f"{r['peak_rss_mb']:,} / {r['peak_rss_workers_mb']:,} | "
                  f"{r['load_before'][0]:.1f} → {r['load_after'][0]:.1f} | {r['others_cores']:.2f} |",
                  flush=True)
    m1, mw = statistics.median(walls[1]), statistics.median(walls[args.workers])
    print(f"\nmedian BFS wall: 1 worker {m1:.2f} s, {args.workers} workers {mw:.2f} s, "
          f"speed-up {m1 / mw:.2f}x; best: {min(walls[1]):.2f} s / {min(walls[args.workers]):.2f} s, "
          f"{min(walls[1]) / min(walls[args.workers]):.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
