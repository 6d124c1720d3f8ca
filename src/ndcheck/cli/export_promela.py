"""``ndcheck export-promela NAME -o OUT.pml``: the scenario's state space as a Promela model for SPIN.

Exit status: 0 written, 2 bad input (unknown scenario, malformed ``--file``, unwritable output).
The file's header says how to run SPIN so that pan's state and transition counts compare with
``ndcheck explore`` (see :mod:`ndcheck.engines.promela`).
"""

from __future__ import annotations

import argparse
import sys

from . import UsageError
from .common import add_scenario, one_scenario, write_text

EXAMPLE = """\
examples:
  ndcheck export-promela fig8-icmp-peer -o fig8.pml    (its header gives the spin/pan commands)
  ndcheck export-promela --file my-scenario.toml -o my.pml
  ndcheck export-promela crossing-ike-loss --style flat -o flat.pml   (one loop, for comparison)"""


def register(sub) -> None:
    p = sub.add_parser("export-promela", help="write the scenario as a Promela model for SPIN",
                       description="Write the scenario's state space as a Promela model for SPIN; "
                                   "the file's header says how to compare pan's counts with "
                                   "`ndcheck explore`.",
                       epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scenario(p)
    p.add_argument("-o", "--output", metavar="OUT.pml", help="output file (default: standard output)")
    p.add_argument("--style", choices=("processes", "flat"), default="processes",
                   help="processes (default): one process per machine, its control state as the "
                        "location, so pan evaluates only the enabled options; flat: one loop over "
                        "every guarded command.  Both give the explorer's state counts")
    p.add_argument("--property", action="append", metavar="ID", dest="props",
                   help="add the safety property ID (always, never_action; repeatable) as "
                        "assertions, for pan runs of your own (e.g. spin -o2 -search -swarm8,2 OUT.pml)")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..checking.spin import checks
    from ..engines.promela import PromelaError, promela_model
    from ..model.compose import build_system
    from .common import lookup_property

    sc = one_scenario(args)
    system = build_system(sc)
    props = [lookup_property(k) for k in args.props or ()]
    for p in props:
        if not p.safety:
            raise UsageError(f"export-promela: --property {p.id} is a {p.kind} property; "
                             "allowed: always, never_action")
        if not p.applies(system):
            raise UsageError(f"export-promela: --property {p.id} does not apply to {sc.name}")
    bad, firing, slots, _ = checks(system, props, triggers=False)
    try:
        text = promela_model(system, args.style, tuple(bad), tuple(tuple(f) for f in firing)).text
    except PromelaError as e:
        raise UsageError(f"export-promela: {e}") from None
    if not args.output or args.output == "-":
        sys.stdout.write(text)
        return 0
    write_text(args.output, text)
    print(f"wrote {args.output}: {sc.name}, {len(system.fields)} fields, "
          f"{text.count(':: d_step')} guarded commands"
          + "".join(f"; assertion NDCHECK_ON_{k}: {pid}" for pid, k in sorted(slots.items(), key=lambda x: x[1])),
          file=sys.stderr)
    return 0
