"""``ndcheck trace NAME|--file F.toml PROPERTY``: a property's shortest counterexample (or witness), drawn.

Exit status: 0 a trace was found (and replayed), 1 none exists (the property holds, or a
``sometimes`` property has no witness), 2 bad input (unknown scenario or property, a property
that does not apply to the scenario, an unwritable output), 3 no trace and the exploration was
truncated (undetermined).
"""

from __future__ import annotations

import argparse
import sys

from .common import add_bounds, add_scenario, explore_scenario, lookup_property, one_scenario, write_text

FORMATS = ("text", "json", "mermaid", "svg")


def register(sub) -> None:
    p = sub.add_parser("trace", help="shortest counterexample or witness of a property, as text, "
                                     "JSON, Mermaid or SVG",
                          formatter_class=argparse.RawDescriptionHelpFormatter,
                          epilog="example: ndcheck trace guaranteed-encryption S-7 --format svg -o s7.svg\n"
                                 "         ndcheck trace --file my.toml S-1")
    add_scenario(p)
    p.add_argument("property", help="property id or name (S-1, H-2, secure_flow_never_sends_clear, ...)")
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text table (default), JSON steps, Mermaid sequenceDiagram, SVG chart")
    p.add_argument("-o", "--output", metavar="OUT", help="write to OUT instead of standard output")
    add_bounds(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from ..checking.check import shortest_trace
    from ..reports.render import render
    from . import UsageError

    if not args.name and not args.file:
        raise UsageError("trace: a scenario and a property are required: NAME PROPERTY "
                         "or --file F.toml PROPERTY")
    sc = one_scenario(args)
    prop = lookup_property(args.property)
    graph = explore_scenario(sc, args)
    trace = shortest_trace(graph, prop.id)
    if trace is None:
        from ..checking.explicit import decide
        from ..engines.graph_queries import GraphQueries

        verdict, _, note = decide(GraphQueries(graph), prop, traces=False)
        what = {"sometimes": "no witness exists"}.get(prop.kind, "no counterexample: the property holds")
        if verdict == "vacuous":
            what = f"no counterexample: the property is vacuous ({note})"
        if graph.truncated:
            print(f"{sc.name}: {prop.id} ({prop.name}): no trace found, but the exploration was "
                  f"truncated ({graph.reason}): undetermined", file=sys.stderr)
            return 3
        print(f"{sc.name}: {prop.id} ({prop.name}): {what} "
              f"({graph.n_states} states explored)", file=sys.stderr)
        return 1
    text = render(trace, graph.system, args.format)
    if args.output:
        write_text(args.output, text)
        print(f"wrote {args.output}: {trace.kind} of {prop.id} in {sc.name}, "
              f"{len(trace.steps)} step{'s' if len(trace.steps) != 1 else ''} ({args.format})", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
