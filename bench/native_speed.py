"""The C successor function against the Python one: compile time, exploration rate, same graph.

Usage: ``python bench/native_speed.py [SCENARIO ...] [--rounds N]`` (default: crossing-ike-loss,
the catalog's largest, and fig7-both-capable).  Per scenario: the translation compiled cold
(a fresh cache folder), then ``explore`` with ``native=True`` and ``native=False`` alternately,
``--rounds`` times each (best and median seconds of the BFS, ``Graph.seconds``), and whether
the two graphs are equal (states in order, edges, parents, overflows).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

from ndcheck import CATALOG, build_system, explore
from ndcheck.engines.codegen import compile_packed
from ndcheck.engines.native import compile_native


def main() -> None:
    argv = sys.argv[1:]
    rounds = 3
    if "--rounds" in argv:
        k = argv.index("--rounds")
        rounds = int(argv[k + 1])
        del argv[k:k + 2]
    names = argv or ["crossing-ike-loss", "fig7-both-capable"]
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="ndcheck-native-bench-")
    for name in names:
        system = build_system(CATALOG[name])
        _, src, lay = compile_packed(system)
        t = time.perf_counter()
        compile_native(src, (lay.bits + 63) // 64)
        cc = time.perf_counter() - t
        times: dict[bool, list[float]] = {True: [], False: []}
        graphs = {}
        for _ in range(rounds):
            for nat in (True, False):
                g = explore(system, native=nat)
                times[nat].append(g.seconds)
                graphs[nat] = g
        a, b = graphs[True], graphs[False]
        same = (list(a.packed) == list(b.packed) and a.src == b.src and a.dst == b.dst
                and a.act == b.act and a.parent == b.parent and a.overflow_states == b.overflow_states)
        n = a.n_states
        line = [f"{name}: {n} states, {len(system.commands)} commands, {len(src) // 1000} kB of Python",
                f"compile {cc:.1f}s"]
        for nat in (True, False):
            best, med = min(times[nat]), statistics.median(times[nat])
            line.append(f"{'C' if nat else 'Python'} best {best:.2f}s ({n / best:,.0f} states/s) "
                        f"median {med:.2f}s")
        line.append(f"same graph {same}")
        print("; ".join(line), flush=True)


if __name__ == "__main__":
    main()
