"""Sizes and times of the timed model (issue 14): each figure untimed and timed, the latency
queries, and figure 19 over a grid of one-way delays.  Prints Markdown for BENCHMARKS.md.

    python bench/time_latency.py
"""

from __future__ import annotations

import time
from dataclasses import replace

from ndcheck import CATALOG, build_system, explore
from ndcheck.checking.latency import QUERIES, latency, timed

PAIRS = [("fig7-both-capable", "fig7-timed"), ("fig8-silent-peer", "fig8-timed"),
         ("fig18-boundary-server", "fig18-timed"), ("fig19-require-inbound", "fig19-timed")]


def explored(sc):
    t = time.perf_counter()
    g = explore(build_system(sc))
    return g, time.perf_counter() - t


def main() -> None:
    print("| figure | untimed states / edges | timed states / edges | timed explore s | 5 queries s |")
    print("|---|---:|---:|---:|---:|")
    for untimed, timed_name in PAIRS:
        g0, _ = explored(CATALOG[untimed])
        sc = CATALOG[timed_name]
        g1, t1 = explored(sc)
        t = time.perf_counter()
        for q in QUERIES.values():
            latency(g1, q, sc.time.unit_ms)
        tq = time.perf_counter() - t
        print(f"| {timed_name} | {g0.n_states:,} / {g0.n_edges:,} | {g1.n_states:,} / {g1.n_edges:,} "
              f"| {t1:.2f} | {tq:.2f} |")
    print()
    print("| scenario (timed) | one-way delay ms | states | edges | explore s |")
    print("|---|---|---:|---:|---:|")
    for name, delays in (("fig19-timed", ((0, 0), (100, 100), (300, 300), (0, 100), (100, 200))),
                         ("fig7-timed", ((100, 100), (0, 100)))):
        for lo, hi in delays:
            base = timed(CATALOG[name])
            sc = replace(base, time=replace(base.time, delay_min_ms=lo, delay_max_ms=hi))
            g, t = explored(sc)
            print(f"| {name} | {lo}-{hi} | {g.n_states:,} | {g.n_edges:,} | {t:.2f} |")


if __name__ == "__main__":
    main()
