"""``ndcheck prove NAME|--file F.toml PROPERTY``: a z3 verdict — replayed counterexample, invariant or CTI.

Exit status: 0 proved (holds, or vacuous: proved, and so is "the trigger is never reached"),
1 refuted (violated; the replayed trace is printed), 3 unknown
(undetermined: timeout, BMC depth exhausted, k-induction did not close), 2 bad input (unknown
scenario or property, a liveness property, a property that does not apply).  While z3 works,
a status line on stderr (a terminal only) shows the engine's phase and the elapsed time.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import UsageError
from .common import add_scenario, lookup_property, one_scenario, positive_float, positive_int, status_line

ENGINES = ("spacer", "bmc", "kind")


def register(sub) -> None:
    p = sub.add_parser("prove", help="z3 proof (Spacer, k-induction) or counterexample (BMC) "
                                     "of a safety property, bounded or unbounded",
                          formatter_class=argparse.RawDescriptionHelpFormatter,
                          epilog="example: ndcheck prove fig8-silent-peer S-3 --unbounded --lemmas\n"
                                 "         ndcheck prove --file my.toml S-14 --engine bmc")
    add_scenario(p)
    p.add_argument("property", help="safety property id or name (H-1, S-14, ...)")
    p.add_argument("--engine", choices=ENGINES, default="spacer",
                   help="spacer: proof with invariant (default); bmc: counterexamples up to "
                        "--depth; kind: k-induction up to --depth")
    p.add_argument("--unbounded", action="store_true",
                   help="lift the caps of channel multiplicities and retransmission counters")
    p.add_argument("--lift-budgets", action="store_true",
                   help="also make the retransmission budgets symbolic (implies --unbounded)")
    p.add_argument("--depth", type=positive_int, default=None, metavar="K",
                   help="BMC depth / largest k for k-induction (defaults: 40 / 12)")
    p.add_argument("--timeout", type=time_limit, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"give up after this many seconds (verdict: undetermined, exit 3; default "
                        f"{DEFAULT_TIMEOUT:.0f}; 'none': no limit)")
    p.add_argument("--workers", type=positive_int, default=_default_workers(), metavar="N",
                   help="spacer: run Houdini on two cores, a forked partner process with another "
                        "z3 seed sharing what it refutes (the same lemmas); bmc: two forked processes "
                        "check every other depth each (a shortest trace either way; default 2, or "
                        "NDCHECK_PROVE_WORKERS; 1: one process; a one-core machine always uses one)")
    p.add_argument("--lemmas", action="store_true",
                   help="also print every Houdini lemma of the invariant (spacer; text format — "
                        "JSON always carries them)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(run=run)


#: Seconds ``ndcheck prove`` gives z3 unless ``--timeout`` says otherwise.  Spacer need not
#: converge (T-2 on fig7-both-capable: no answer in 20 minutes, BENCHMARKS.md), so without a
#: limit a proof can run until it is killed.
DEFAULT_TIMEOUT = 600.0


def time_limit(text: str) -> float | None:
    """``--timeout``: a positive number of seconds, or ``none`` for no limit."""
    if text.strip().lower() == "none":
        return None
    try:
        return positive_float(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds or 'none', "
                                         f"got {text!r}") from None


def _default_workers() -> int:
    """2, or NDCHECK_PROVE_WORKERS (the test suite sets 1: it already runs on both cores)."""
    import os

    got = os.environ.get("NDCHECK_PROVE_WORKERS", "2")
    return int(got) if got.isdigit() and int(got) > 0 else 2


def _lookup(prop: str):
    from ..properties.catalog import PROPERTIES

    p = lookup_property(prop)
    if not p.safety and p.kind != "within":
        safe = ", ".join(q.id for q in PROPERTIES if q.safety or q.kind == "within")
        raise UsageError(f"property {p.id} ({p.name}) is {p.kind}; `ndcheck prove` decides safety "
                         f"properties: {safe} (use `ndcheck check` for {p.id})")
    return p


def run(args) -> int:
    from ..checking.symbolic import prove
    from ..model.compose import build_system

    if not args.name and not args.file:
        raise UsageError("prove: a scenario and a property are required: NAME PROPERTY "
                         "or --file F.toml PROPERTY")
    sc = one_scenario(args)
    prop = _lookup(args.property)
    system = build_system(sc)
    if not prop.applies(system):
        raise UsageError(f"property {prop.id} ({prop.name}) does not apply to scenario {sc.name!r}")
    with status_line(f"{prop.id} on {sc.name}:") as update:
        r = prove(system, prop, engine=args.engine, unbounded=args.unbounded or args.lift_budgets,
                  depth=args.depth, timeout=args.timeout, lift_budgets=args.lift_budgets,
                  progress=update, workers=args.workers)
    if args.format == "json":
        print(json.dumps(r.to_json(), indent=2))
    else:
        mode = "unbounded" if r.unbounded else "bounded"
        print(f"{sc.name}: {prop.id} ({prop.name}): {r.verdict.upper()} "
              f"[z3 {r.engine}, {mode}, {r.seconds:.2f}s]")
        if r.note:
            print(f"  {r.note}")
        if r.verdict == "undetermined" and args.timeout == DEFAULT_TIMEOUT and r.seconds >= 0.95 * DEFAULT_TIMEOUT:
            print(f"  (the default time limit, {DEFAULT_TIMEOUT:.0f} s, was reached: --timeout SECONDS "
                  f"for another, --timeout none for none)")
        if r.invariant:
            print("inductive invariant:")
            print("  " + r.invariant.replace("\n", "\n  "))
        if r.lemmas and args.lemmas:
            if r.cubes:     # a blocking proof (engines/symbolic/blocking.py): lemmas, then cubes
                print(f"Houdini lemmas and excluded cubes ({len(r.lemmas)}, inductive together with "
                      f"not bad({prop.id})):")
            else:
                print(f"Houdini lemmas ({len(r.lemmas)}, inductive together):")
            print("\n".join(f"  {t}" for t in r.lemmas))
        if r.cti:
            print("counterexample to induction (states):")
            prev: dict[str, str] = {}
            for i, st in enumerate(r.cti):
                shown = {k: v for k, v in st.items() if prev.get(k) != v}
                label = "" if i == 0 else " (changes)"
                print(f"  s{i}{label}: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
                prev = st
        if r.trace is not None:
            from ..reports.render import render
            # with lifted budgets the trace runs in the system rebuilt with the budgets it needs
            print(render(r.trace, r.counterexample.system, "text"))
    sys.stdout.flush()
    return {"holds": 0, "vacuous": 0, "violated": 1}.get(r.verdict, 3)

