"""``--engine spin`` against the explicit engine, every (scenario, safety property) pair of the catalog.

One line per scenario: states (explicit / pan's last run), safety properties, pan runs, CPU
seconds of spin + gcc + pan, traces replayed, and any pair that is not ``agree``
(``DIFFER``: a bug in one engine; ``UNDET``: pan could not decide); then the totals.
Counterexamples are built (replayed through the model and the machine instances) for every
violation, and their length is compared with the explicit engine's shortest (pan searches
breadth-first on one core).
Usage: ``python bench/spin_agreement.py [NAME ...]`` (default: the whole catalog).
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter

from ndcheck import CATALOG, build_system, explore
from ndcheck.checking.check import check_graph
from ndcheck.checking.spin import spin_check


def main() -> None:
    names = sys.argv[1:] or sorted(CATALOG)
    tally: Counter = Counter()
    cpu_all: Counter = Counter()
    t_all = time.perf_counter()
    print(f"load average at start: {os.getloadavg()}")
    for name in names:
        system = build_system(CATALOG[name])
        g = explore(system)
        explicit = {v.property.id: v for v in check_graph(g).verdicts}
        t0 = time.perf_counter()
        res, run = spin_check(system)
        wall = time.perf_counter() - t0
        odd = []
        longer = 0
        for v in res.verdicts:
            if not v.property.safety:
                continue
            e = explicit[v.property.id]
            tag = ("agree" if v.verdict == e.verdict
                   else "UNDET" if v.verdict == "undetermined" else "DIFFER")
            tally[tag] += 1
            tally[v.verdict] += 1
            if tag != "agree":
                odd.append(f"{v.property.id}:{tag}({v.verdict} vs {e.verdict})")
            if v.trace is not None and len(v.trace.steps) != len(e.trace.steps):
                longer += 1
        same = (res.states, res.edges) == (g.n_states, g.n_edges)
        tally["counts equal"] += same
        cpu_all.update(run.cpu)
        print(f"{name:30} {g.n_states:8} / {res.states:8} states {'=' if same else '≠'} "
              f"{sum(v.property.safety for v in res.verdicts):3} safety  {run.runs:2} pan runs  "
              f"cpu spin {run.cpu['spin']:.1f} gcc {run.cpu['gcc']:.1f} pan {run.cpu['pan']:.1f}  "
              f"wall {wall:.1f}s  traces of other length {longer}  {' '.join(odd) or 'all agree'}",
              flush=True)
    total = time.perf_counter() - t_all
    print(f"\n{len(names)} scenarios, {tally['agree']} pairs agree, {tally['DIFFER']} differ, "
          f"{tally['UNDET']} undetermined; counts equal on {tally['counts equal']}; verdicts: "
          f"{tally['holds']} holds, {tally['violated']} violated, {tally['vacuous']} vacuous; "
          f"CPU spin {cpu_all['spin']:.0f} s, gcc {cpu_all['gcc']:.0f} s, pan {cpu_all['pan']:.0f} s; "
          f"wall {total:.0f} s (explicit included); load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
