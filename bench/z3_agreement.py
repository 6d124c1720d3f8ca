"""Bounded z3 (check_safety) against the explicit engine, every (scenario, safety property) pair.

Scenarios run smallest first; one line per pair: ``agree``, ``UNDET`` (z3 timed out) or ``DIFFER``
(a real disagreement: a bug in one engine).  Usage: ``python bench/z3_agreement.py [TIMEOUT_S]``.
"""

from __future__ import annotations

import sys
import time

from ndcheck import CATALOG, build_system, explore
from ndcheck.engines.symbolic import check_safety
from ndcheck.properties.catalog import PROPERTIES
from ndcheck.properties.check import check_graph


def main() -> None:
    timeout = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    graphs = {n: explore(build_system(sc)) for n, sc in CATALOG.items()}
    for name in sorted(CATALOG, key=lambda n: graphs[n].n_states):
        g = graphs[name]
        system = g.system
        explicit = {v.property.id: v.verdict for v in check_graph(g, traces=False).verdicts}
        for p in PROPERTIES:
            if p.safety and p.applies(system):
                t0 = time.perf_counter()
                r = check_safety(system, p, timeout=timeout)
                tag = ("agree" if r.verdict == explicit[p.id]
                       else "UNDET" if r.verdict == "undetermined" else "DIFFER")
                print(f"{name:30} {g.n_states:6} {p.id:5} z3 {r.verdict:12} explicit "
                      f"{explicit[p.id]:9} {tag:6} {time.perf_counter() - t0:6.2f}s", flush=True)


if __name__ == "__main__":
    main()
