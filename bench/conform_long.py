"""Benchmark: ``ndcheck conform`` on long generated captures (BENCHMARKS.md, "conform on long captures").

Usage (from the repository root, with the package installed)::

    python bench/conform_long.py                 # 10,000-packet captures of fig7 and fig8
    python bench/conform_long.py --packets 1000 2000 5000 10000

For each size it writes the captures with :func:`tests.captures.build.long_capture` (figure 7:
the negotiation, then an ESP stream; figure 8 with a silent peer: a clear stream) into a
temporary folder, runs ``ndcheck conform SCENARIO FILE`` in a fresh process (wall seconds and
peak RSS from ``/usr/bin/time`` when present, else wall seconds), then times the parts in this
process: decoding the capture, building and compiling the variant systems, the search.  It
prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CASES = (("fig7", "fig7-both-capable", "pcapng"), ("fig8-silent", "fig8-silent-peer", "pcapng"))


def run_cli(args: list[str]) -> tuple[float, str, int | None, int]:
    timer = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
    cmd = [sys.executable, "-m", "ndcheck.cli", *args]
    t0 = time.perf_counter()
    if timer:
        p = subprocess.run([timer, "-f", "%M", *cmd], capture_output=True, text=True, check=False)
        rss = int(p.stderr.strip().splitlines()[-1]) // 1024
    else:
        p = subprocess.run(cmd, capture_output=True, text=True, check=False)
        rss = None
    return time.perf_counter() - t0, p.stdout.splitlines()[0] if p.stdout else p.stderr, rss, p.returncode


def parts(scenario: str, path: Path) -> dict[str, float]:
    from ndcheck.checking import conform as C
    from ndcheck.model.scenario import CATALOG
    from ndcheck.traces.sides import read_observed

    t0 = time.perf_counter()
    trace = read_observed(path)
    t1 = time.perf_counter()
    flags = [o.retransmission for o in trace.observed]
    C._scenario_automaton(CATALOG[scenario], trace.wire(), "wire", False, flags, None, None)
    t2 = time.perf_counter()
    r = C.conform(CATALOG[scenario], trace.packets, strict=False, retransmissions=flags)
    t3 = time.perf_counter()
    return {"decode": t1 - t0, "build": t2 - t1, "conform": t3 - t2, "states": r.states, "verdict": r.verdict}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, nargs="+", default=[10_000])
    args = ap.parse_args()
    from tests.captures.build import long_capture, long_segments, long_wire

    print("| capture | packets | command | verdict | wall s | peak RSS MB | decode s | build+compile s | "
          "conform s (in process, incl. build) | model states computed |")
    print("|---|---:|---|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.packets:
            for figure, scenario, fmt in CASES:
                seg = long_segments(n, figure)
                f = Path(tmp) / f"{figure}-long-{n}.{fmt}"
                f.write_bytes(long_capture(figure, seg, fmt))
                count = len(long_wire(figure, seg))
                wall, first, rss, code = run_cli(["conform", scenario, str(f)])
                p = parts(scenario, f)
                print(f"| {figure} ({'ESP' if figure == 'fig7' else 'clear'} stream, {seg} segments) | {count:,} | "
                      f"`ndcheck conform {scenario} {f.name}` | {first.split(':')[0]} (exit {code}) | {wall:.2f} | "
                      f"{rss if rss is not None else '-'} | {p['decode']:.2f} | {p['build']:.2f} | "
                      f"{p['conform']:.2f} | {p['states']:,} |", flush=True)


if __name__ == "__main__":
    main()
