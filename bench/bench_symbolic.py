"""Benchmark of the z3 engine: BMC on the known violations, Spacer unbounded proofs, bounded
agreement with the explicit engine.  Prints one line per (scenario, property, engine).

    /work/venv/bin/python bench/bench_symbolic.py [--timeout S] [--agreement]
"""

from __future__ import annotations

import argparse
import time

from ndcheck import CATALOG, build_system, explore
from ndcheck.engines.symbolic import check_safety, prove
from ndcheck.properties.catalog import PROPERTIES
from ndcheck.properties.check import check_graph

KNOWN = [("qm3-race", "S-14"), ("require-inbound-auth-failure", "H-1"), ("nat-boundary", "S-1"),
         ("guaranteed-encryption", "S-7")]
UNBOUNDED = ["fig8-silent-peer", "fig19-require-inbound", "fig7-both-capable"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--agreement", action="store_true", help="bounded z3 vs explicit, all scenarios")
    a = ap.parse_args()
    print("# BMC on known violations (bounded)")
    for name, pid in KNOWN:
        r = prove(name, pid, engine="bmc", timeout=a.timeout)
        print(f"{name:32} {pid:5} bmc     {r.verdict:12} {r.seconds:7.2f}s  "
              f"{len(r.trace.steps) if r.trace else '-'} steps", flush=True)
    print("# Spacer, unbounded")
    for name in UNBOUNDED:
        system = build_system(CATALOG[name])
        for p in PROPERTIES:
            if p.safety and p.applies(system):
                r = prove(system, p, engine="spacer", unbounded=True, timeout=a.timeout)
                print(f"{name:32} {p.id:5} spacer  {r.verdict:12} {r.seconds:7.2f}s  {r.note[:60]}",
                      flush=True)
    if a.agreement:
        print("# bounded z3 (check_safety) vs explicit")
        for name in sorted(CATALOG):
            system = build_system(CATALOG[name])
            g = explore(system)
            ex = {v.property.id: v.verdict for v in check_graph(g, traces=False).verdicts}
            for p in PROPERTIES:
                if p.safety and p.applies(system):
                    t0 = time.perf_counter()
                    r = check_safety(system, p, timeout=a.timeout)
                    tag = "agree" if r.verdict == ex[p.id] else "DIFFER"
                    print(f"{name:32} {p.id:5} z3 {r.verdict:12} explicit {ex[p.id]:9} {tag:6} "
                          f"{time.perf_counter() - t0:7.2f}s", flush=True)


if __name__ == "__main__":
    main()
