"""``ndcheck conform NAME|--file F.toml WIRE_FILE``: is an observed packet sequence a model behaviour?

Exit status: 0 accepted, 1 rejected (the longest accepted prefix and the packets the model
allowed next are printed), 2 bad input (unknown scenario, malformed wire trace), 3 rejected by
a truncated exploration (undetermined: the missing states might accept it).
"""

from __future__ import annotations

import argparse
import sys

from .common import add_bounds, add_scenario, explore_scenario, one_scenario, write_text


def register(sub) -> None:
    p = sub.add_parser("conform", help="check an observed wire trace against a scenario's model",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example: ndcheck conform fig19-require-inbound tests/wire/fig19.txt "
                              "--witness svg -o w.svg\n"
                              "         ndcheck conform --file my.toml capture.txt")
    add_scenario(p)
    p.add_argument("wire_file", metavar="WIRE_FILE",
                   help="one packet per line: SENDER>RECEIVER MESSAGE [clear|esp], '#' comments")
    p.add_argument("--witness", choices=("text", "json", "mermaid", "svg"), default=None,
                   help="also print the accepted witness path in this format")
    p.add_argument("-o", "--output", metavar="OUT", help="write the witness to OUT (with --witness)")
    add_bounds(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from ..checking.conform import conform, describe
    from ..traces.wire import read_wire
    from . import UsageError

    if not args.name and not args.file:
        raise UsageError("conform: a scenario and a wire trace are required: NAME WIRE_FILE "
                         "or --file F.toml WIRE_FILE")
    sc = one_scenario(args)
    wire = read_wire(args.wire_file)  # WireError -> exit 2 (cli/__init__)
    graph = explore_scenario(sc, args)
    result = conform(graph, wire.packets)
    print(describe(result, wire.lines, sc.name))
    if result.accepted and args.witness:
        from ..reports.render import render

        text = render(result.witness, graph.system, args.witness)
        if args.output:
            write_text(args.output, text)
            print(f"wrote {args.output}", file=sys.stderr)
        else:
            sys.stdout.write(text)
    if result.accepted:
        return 0
    return 3 if result.truncated else 1
