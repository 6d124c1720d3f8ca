"""Explore one big scenario with the compact store and report states, time, memory and bytes per state.

Usage::

    python bench/explore_big.py [--file bench/scale-50m.toml | --name SCENARIO] [--workers N]
                                [--native] [--max-states N] [--no-symmetry] [--json OUT]

``--native``: the search in C (:mod:`ndcheck.engines.native`), compiled before the clock starts.

Prints one Markdown row: states, edges, BFS seconds (wall) and CPU seconds of this process and
its workers, peak RSS, the load average before and after, and the bytes per state of the store
(words array + hash table), of the BFS parent pointers and of the edge columns.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", default=os.path.join(os.path.dirname(__file__), "scale-50m.toml"))
    ap.add_argument("--name", help="a catalog scenario instead of --file")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--native", action="store_true", help="the search in C (compiled before timing)")
    ap.add_argument("--max-states", type=int, default=None)
    ap.add_argument("--no-symmetry", action="store_true",
                    help="explore interchangeable flows unreduced (the parallel explorer does not reduce)")
    ap.add_argument("--json", help="write the measurements as JSON here")
    args = ap.parse_args(argv)

    from ndcheck import CATALOG, build_system
    from ndcheck.engines.codegen import compile_packed
    from ndcheck.engines.explicit import explore
    from ndcheck.model.scenario import load_scenario_file

    sc = CATALOG[args.name] if args.name else load_scenario_file(args.file)
    load0 = os.getloadavg()
    system = build_system(sc)
    compile_packed(system)
    if args.native:
        explore(system, max_states=1, native=True)      # compiles (or loads) the C search
    last = [time.perf_counter()]

    def progress(done: int, seen: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 30:
            last[0] = now
            print(f"  {time.strftime('%H:%M:%S')} expanded {done:,} of {seen:,} states, "
                  f"load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)

    c0 = time.process_time()
    w0 = time.perf_counter()
    g = explore(system, max_states=args.max_states, progress=progress, workers=args.workers,
                symmetry=False if args.no_symmetry else None, native=args.native or None)
    wall = time.perf_counter() - w0
    cpu = time.process_time() - c0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_kids = kids.ru_utime + kids.ru_stime
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_kids_mb = kids.ru_maxrss / 1024
    load1 = os.getloadavg()
    n, e = g.n_states, g.n_edges
    store = getattr(g.packed, "store", None)
    words_b = store.keys.nbytes / n if store is not None else float("nan")
    table_b = store.table.nbytes / n if store is not None else float("nan")
    parent_b = (g.parent.itemsize * len(g.parent) + g.parent_act.itemsize * len(g.parent_act)) / n
    edges_b = sum(a.itemsize * len(a) for a in (g.src, g.dst, g.act)) / n
    row = {
        "scenario": sc.name, "workers": args.workers, "states": n, "edges": e,
        "truncated": g.truncated, "reason": g.reason, "seconds": round(wall, 2),
        "bfs_seconds": round(g.seconds, 3), "cpu_seconds": round(cpu, 2),
        "cpu_seconds_workers": round(cpu_kids, 2), "peak_rss_mb": round(peak_mb),
        "peak_rss_workers_mb": round(peak_kids_mb), "load_before": load0, "load_after": load1,
        "store_words_B": round(words_b, 1), "store_table_B": round(table_b, 1),
        "parents_B": round(parent_b, 1), "edges_B": round(edges_b, 1),
        "rss_B_per_state": round(peak_mb * 1_048_576 / n, 1),
    }
    print("| scenario | workers | states | edges | truncated | wall s | CPU s (workers) | peak RSS MB "
          "(workers) | store B/state (words + table) | parents B/state | edges B/state | "
          "peak RSS B/state | load before → after |")
    print("|---|---:|---:|---:|:-:|---:|---:|---:|---:|---:|---:|---:|---|")
    print(f"| {sc.name} | {args.workers} | {n:,} | {e:,} | {'yes' if g.truncated else 'no'} | "
          f"{wall:.1f} | {cpu:.1f} ({cpu_kids:.1f}) | {peak_mb:,.0f} ({peak_kids_mb:,.0f}) | "
          f"{words_b + table_b:.1f} ({words_b:.1f} + {table_b:.1f}) | {parent_b:.1f} | {edges_b:.1f} | "
          f"{row['rss_B_per_state']:.1f} | {load0[0]:.1f} → {load1[0]:.1f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(row, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
