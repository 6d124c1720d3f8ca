"""``ndcheck explore NAME``: sizes of the product graph, optional GraphML / DOT export.

Exit status: 0 explored completely, 2 bad input, 3 a bound stopped the search (truncated).
``--json [OUT]`` (no OUT or '-': standard output) writes ``{"scenario", "states", "edges", "depth",
"seconds", "truncated", "reason"}``; ``depth`` is the BFS depth (the longest shortest path from
the initial state).
"""

from __future__ import annotations

import argparse
import json
import sys

from . import UsageError
from .common import (
    add_bounds,
    add_native,
    add_scenario,
    add_symmetry,
    add_workers,
    explore_scenario,
    one_scenario,
    output_path,
    progress_bar,
    write_text,
)

EXAMPLE = """\
examples:
  ndcheck explore fig7-both-capable --graphml fig7.graphml
  ndcheck explore --file my-scenario.toml --json -"""


def register(sub) -> None:
    p = sub.add_parser("explore", help="explore a scenario's product graph and report its size",
                       description="Explore a scenario's product graph (BFS) and report its size; "
                                   "optionally write it as GraphML or DOT with the full state "
                                   "on every node.",
                       epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scenario(p)
    p.add_argument("--graphml", metavar="OUT", type=output_path,
                   help="write the product graph as GraphML (every state field a node attribute)")
    p.add_argument("--dot", metavar="OUT", type=output_path, help="write the product graph as Graphviz DOT")
    p.add_argument("--json", metavar="OUT", type=output_path, nargs="?", const="-",
                   help="write states, edges, depth, seconds, truncated as JSON to OUT "
                        "('-' or no OUT: standard output)")
    add_bounds(p)
    add_workers(p)
    add_native(p)
    add_symmetry(p)
    p.set_defaults(run=run)


def summary(g) -> dict:
    """The JSON document of an exploration."""
    return {"scenario": g.system.name, "states": g.n_states, "edges": g.n_edges, "depth": g.depth,
            "seconds": round(g.seconds, 3), "truncated": g.truncated, "reason": g.reason} \
        | ({"symmetry": g.symmetry.describe()} if g.symmetry else {})


def run(args) -> int:
    from ..engines.export import write_dot, write_graphml

    sc = one_scenario(args)
    g = explore_scenario(sc, args)
    quiet = args.json == "-"  # standard output is the JSON document only
    say = (lambda text: print(text, file=sys.stderr)) if quiet else print
    system = g.system
    say(f"{sc.name}: {g.n_states} states, {g.n_edges} edges, {len(system.fields)} fields, "
        f"{len(system.commands)} commands, {g.seconds:.2f}s"
        + (f", {g.symmetry.describe()}" if g.symmetry else "")
        + (f", TRUNCATED ({g.reason})" if g.truncated else ""))
    for path, write in ((args.graphml, write_graphml), (args.dot, write_dot)):
        if not path:
            continue
        with progress_bar(f"writing {path}") as update:
            def progress(done: int, total: int, n: int = g.n_states) -> None:
                # the bar counts states: elements written (nodes, then edges) scaled to states
                update(done * n // max(total, 1), n)

            try:
                write(g, path, progress=progress)
            except OSError as e:
                raise UsageError(f"cannot write {path}: {e.strerror or e}") from None
        say(f"wrote {path}")
    if args.json:
        text = json.dumps(summary(g), indent=2) + "\n"
        if quiet:
            sys.stdout.write(text)
        else:
            write_text(args.json, text)
            say(f"wrote {args.json}")
    return 3 if g.truncated else 0
