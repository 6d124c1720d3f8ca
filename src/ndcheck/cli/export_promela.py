"""``ndcheck export-promela NAME -o OUT.pml``: the scenario's state space as a Promela model for SPIN.

Exit status: 0 written, 2 bad input (unknown scenario, malformed ``--file``, unwritable output).
The file's header says how to run SPIN so that pan's state and transition counts compare with
``ndcheck explore`` (see :mod:`ndcheck.engines.promela`).
"""

from __future__ import annotations

import sys

from . import UsageError
from .common import select, write_text


def register(sub) -> None:
    p = sub.add_parser("export-promela", help="write the scenario as a Promela model for SPIN")
    p.add_argument("name", nargs="?", help="scenario name (see `ndcheck scenarios`)")
    p.add_argument("--file", metavar="F.toml", help="a scenario file instead of a built-in name")
    p.add_argument("-o", "--output", metavar="OUT.pml", help="output file (default: standard output)")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..engines.promela import PromelaError, to_promela
    from ..model.compose import build_system

    if bool(args.name) == bool(args.file):
        raise UsageError("export-promela: give exactly one scenario: a NAME (see `ndcheck scenarios`) "
                         "or --file F.toml")
    sc = select([args.name] if args.name else [], args.file)[0]
    system = build_system(sc)
    try:
        text = to_promela(system)
    except PromelaError as e:
        raise UsageError(f"export-promela: {e}") from None
    if not args.output or args.output == "-":
        sys.stdout.write(text)
        return 0
    write_text(args.output, text)
    print(f"wrote {args.output}: {sc.name}, {len(system.fields)} fields, "
          f"{text.count(':: d_step')} guarded commands", file=sys.stderr)
    return 0
