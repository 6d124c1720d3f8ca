"""pan's search rate on the two Promela exports (flat, processes) of the largest scenarios.

For each scenario and style: ``spin -o2 -a``, ``gcc -O2 -DNOREDUCE -DNOCLAIM -DSAFETY``,
``pan -E -m<states+10> -w22`` (engines/promela.run_spin); prints pan's counts against the
explorer's, pan's own elapsed seconds, CPU seconds of each phase, states per CPU second of pan,
and the load average.
Usage: ``python bench/spin_throughput.py [NAME ...]``
(default: crossing-ike-loss sa-expiry-rekey fig7-timed).
"""

from __future__ import annotations

import os
import sys

from ndcheck import CATALOG, build_system, explore
from ndcheck.engines.promela import run_spin, to_promela


def main() -> None:
    names = sys.argv[1:] or ["crossing-ike-loss", "sa-expiry-rekey", "fig7-timed"]
    print("| scenario | style | states / edges (ndcheck) | pan stored / transitions | = | pan elapsed s | "
          "pan CPU s | states/s (pan CPU) | spin CPU s | gcc CPU s | load |")
    print("|---|---|---:|---:|:-:|---:|---:|---:|---:|---:|---|")
    for name in names:
        system = build_system(CATALOG[name])
        g = explore(system)
        for style in ("flat", "processes"):
            r = run_spin(to_promela(system, style), depth=g.n_states + 10, hash_bits=22)
            same = (r.states, r.transitions) == (g.n_states, g.n_edges + 1)
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"| {name} | {style} | {g.n_states:,} / {g.n_edges:,} | {r.states:,} / {r.transitions:,} | "
                  f"{'=' if same else '≠'} | {r.pan_seconds:.2f} | {r.cpu['pan']:.2f} | "
                  f"{r.states / max(r.cpu['pan'], 1e-9):,.0f} | {r.cpu['spin']:.2f} | {r.cpu['gcc']:.1f} | {load} |",
                  flush=True)


if __name__ == "__main__":
    main()
