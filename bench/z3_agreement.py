"""Bounded z3 (check_safeties) against the explicit engine, every (scenario, safety property) pair.

One line per scenario with its time and any pair that is not ``agree``: ``UNDET`` (z3 timed out)
or ``DIFFER`` (a real disagreement: a bug in one engine); then the totals.
Usage: ``python bench/z3_agreement.py [TIMEOUT_S] [--ladder] [--max-states N] [--min-states N]
[--scenarios A,B,...]``
(``--ladder``: without the explored-state certificate, i.e. Houdini lemmas, k-induction, seeded
Spacer and BMC;
``--max-states N`` / ``--min-states N``: only the scenarios with at most / at least N reachable
states, the others are listed as skipped -- the certificate's z3 query grows with the states,
BENCHMARKS.md; ``--scenarios``: only these).  A pair that is not ``agree`` shows the explicit
verdict after the tag (``T-2:UNDET(holds)``).
"""

from __future__ import annotations

import sys
import time
from collections import Counter

from ndcheck import CATALOG, build_system, explore
from ndcheck.checking.check import check_graph
from ndcheck.checking.symbolic import check_safeties


def main() -> None:
    argv = sys.argv[1:]
    if "-h" in argv or "--help" in argv:
        print(__doc__)
        return
    cap, floor = None, 0
    if "--max-states" in argv:
        k = argv.index("--max-states")
        cap = int(argv[k + 1])
        del argv[k:k + 2]
    if "--min-states" in argv:
        k = argv.index("--min-states")
        floor = int(argv[k + 1])
        del argv[k:k + 2]
    only = None
    if "--scenarios" in argv:
        k = argv.index("--scenarios")
        only = set(argv[k + 1].split(","))
        del argv[k:k + 2]
        unknown = only - set(CATALOG)
        if unknown:
            sys.exit(f"z3_agreement: unknown scenario(s) {', '.join(sorted(unknown))}; "
                     f"see `ndcheck scenarios`")
    args = [a for a in argv if not a.startswith("--")]
    timeout = float(args[0]) if args else 120.0
    certificate = "--ladder" not in sys.argv
    tally: Counter = Counter()
    t_all = time.perf_counter()
    for name in sorted(only if only is not None else CATALOG):
        system = build_system(CATALOG[name])
        g = explore(system)
        if (cap is not None and g.n_states > cap) or g.n_states < floor:
            print(f"{name:30} {g.n_states:6} states: skipped (outside the --max-states/--min-states range)",
                  flush=True)
            tally["skipped scenarios"] += 1
            continue
        explicit = {v.property.id: v.verdict for v in check_graph(g, traces=False).verdicts}
        t0 = time.perf_counter()
        rs = check_safeties(system, timeout=timeout, certificate=certificate)
        odd = []
        for r in rs:
            tag = ("agree" if r.verdict == explicit[r.property]
                   else "UNDET" if r.verdict == "undetermined" else "DIFFER")
            tally[tag] += 1
            tally[r.verdict] += 1
            if tag != "agree":
                odd.append(f"{r.property}:{tag}({explicit[r.property]})")
        print(f"{name:30} {g.n_states:6} states {len(rs):3} properties "
              f"{time.perf_counter() - t0:7.2f}s  {' '.join(odd)}", flush=True)
    print(f"total {time.perf_counter() - t_all:.1f}s: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))


if __name__ == "__main__":
    main()
