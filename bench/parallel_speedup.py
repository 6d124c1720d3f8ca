"""Sequential against parallel exploration, each in a fresh process, alternating, several rounds.

Usage::

    python bench/parallel_speedup.py [--name crossing-ike-loss | --file bench/scale-3m.toml]
                                     [--workers 2] [--rounds 3]

Runs ``bench/explore_big.py`` with 1 and with N workers in turn and prints one Markdown row per
run (BFS wall seconds, CPU seconds of the coordinator and of the workers, load average before and
after) and the ratio of the median wall times.  The machine's load matters: with two cores, a
parallel run competing with other work cannot reach 2x; the CPU seconds show the overhead.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run(target: list[str], workers: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    subprocess.run([sys.executable, os.path.join(HERE, "explore_big.py"), *target,
                    "--workers", str(workers), "--json", out], check=True, capture_output=True)
    with open(out) as f:
        row = json.load(f)
    os.unlink(out)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", default=None)
    ap.add_argument("--file", default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    target = ["--file", args.file] if args.file else ["--name", args.name or "crossing-ike-loss"]
    print("| scenario | workers | states | edges | BFS wall s | CPU s coordinator + workers | "
          "peak RSS MB coordinator / workers | load 1-min before → after |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    walls: dict[int, list[float]] = {1: [], args.workers: []}
    for _ in range(args.rounds):
        for w in (1, args.workers):
            r = run(target, w)
            walls[w].append(r["bfs_seconds"])
            print(f"| {r['scenario']} | {w} | {r['states']:,} | {r['edges']:,} | {r['bfs_seconds']:.2f} | "
                  f"{r['cpu_seconds']:.2f} + {r['cpu_seconds_workers']:.2f} | "
                  f"{r['peak_rss_mb']:,} / {r['peak_rss_workers_mb']:,} | "
                  f"{r['load_before'][0]:.1f} → {r['load_after'][0]:.1f} |", flush=True)
    m1, mw = statistics.median(walls[1]), statistics.median(walls[args.workers])
    print(f"\nmedian BFS wall: 1 worker {m1:.2f} s, {args.workers} workers {mw:.2f} s, "
          f"speed-up {m1 / mw:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
