"""Scaling over flows (issue 16): states, time and memory for N = 1, 2, 3 flows of ``two-flows``.

Each run is a fresh process (peak RSS is per process).  For each N: ndcheck's explorer with the
symmetry reduction (when the explorer has it) and without, and optionally SPIN on the same
export (``--spin``: states stored by pan without partial-order reduction, pan's seconds and
memory).  ``--max-states`` bounds every run (a bounded run is reported truncated).

Usage::

    python bench/flows_scaling.py [--flows 1 2 3] [--max-states N] [--spin] [--opener client|server]
                                  [--native [--workers N]]

``--native``: the search in C (its library compiled before the clock and the RSS baseline), on
``--workers`` threads.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys

CHILD = r"""
import dataclasses, json, resource, sys, time
from ndcheck import CATALOG, build_system, explore
from ndcheck.model.scenario import Flow
n, opener, sym, cap = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
native, workers = sys.argv[5] == "1", int(sys.argv[6])
base = CATALOG["two-flows"]
flows = (Flow("client"),) + tuple(Flow(opener) for _ in range(n - 1))
sc = dataclasses.replace(base, name=f"flows-{n}", flows=flows, expect={}, causes={},
                         bounds=dataclasses.replace(base.bounds, max_states=cap, timeout=3600.0))
system = build_system(sc)
kw = {} if sym == "n/a" else {"symmetry": sym == "on"}
if native:
    kw.update(native=True, workers=workers)
    explore(system, max_states=1, **kw)          # compiles (or loads) the library
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
c = time.process_time()
g = explore(system, **kw)
cpu = time.process_time() - c
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"states": g.n_states, "edges": g.n_edges, "seconds": g.seconds, "cpu": cpu,
                  "truncated": g.truncated, "rss_mb": (rss1 - rss0) / 1024}))
"""

SPIN_CHILD = r"""
import dataclasses, json, sys
from ndcheck import CATALOG, build_system
from ndcheck.engines.promela import run_spin
from ndcheck.model.scenario import Flow
n, opener = int(sys.argv[1]), sys.argv[2]
base = CATALOG["two-flows"]
flows = (Flow("client"),) + tuple(Flow(opener) for _ in range(n - 1))
sc = dataclasses.replace(base, name=f"flows-{n}", flows=flows, expect={}, causes={})
r = run_spin(build_system(sc), reduce=False, depth=10_000_000, hash_bits=27, timeout=3600.0)
print(json.dumps(dataclasses.asdict(r) if dataclasses.is_dataclass(r) else vars(r), default=str))
"""


def _explorer_has_symmetry() -> bool:
    from ndcheck.engines.explicit import explore

    return "symmetry" in inspect.signature(explore).parameters


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flows", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--max-states", type=int, default=60_000_000)
    ap.add_argument("--opener", choices=("client", "server"), default="client",
                    help="who opens the flows after the first (client: interchangeable flows)")
    ap.add_argument("--spin", action="store_true", help="also run pan on the export")
    ap.add_argument("--native", action="store_true", help="the search in C")
    ap.add_argument("--workers", type=int, default=1, help="with --native: threads")
    args = ap.parse_args()
    modes = ["on", "off"] if _explorer_has_symmetry() else ["n/a"]
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
          + (f"; native, {args.workers} thread(s)" if args.native else ""))
    print("| flows | symmetry | states | edges | explore s | CPU s | truncated | RSS Δ MB | B/state |")
    print("|---:|:-:|---:|---:|---:|---:|:-:|---:|---:|")
    for n in args.flows:
        for sym in modes:
            out = subprocess.run([sys.executable, "-c", CHILD, str(n), args.opener, sym,
                                  str(args.max_states), "1" if args.native else "0", str(args.workers)],
                                 capture_output=True, text=True, check=False)
            if out.returncode:
                print(f"| {n} | {sym} | failed: {out.stderr.strip().splitlines()[-1]} |")
                continue
            r = json.loads(out.stdout)
            bps = r["rss_mb"] * 2**20 / r["states"] if r["states"] else 0
            print(f"| {n} | {sym} | {r['states']:,} | {r['edges']:,} | {r['seconds']:.1f} | "
                  f"{r['cpu']:.1f} | {'yes' if r['truncated'] else 'no'} | {r['rss_mb']:.0f} | "
                  f"{bps:.0f} |")
        if args.spin:
            out = subprocess.run([sys.executable, "-c", SPIN_CHILD, str(n), args.opener],
                                 capture_output=True, text=True, check=False)
            print(f"| {n} | SPIN | {out.stdout.strip() if not out.returncode else 'failed: ' + out.stderr.strip()[-200:]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
