"""``ndcheck latency NAME``: least and greatest times between events over all runs (timed model).

An untimed scenario is run timed with its timer knobs (or the defaults, ``[time]`` in the
scenario file); see :mod:`ndcheck.checking.latency` for the queries and how they are computed.
Exit status: 0 done, 2 bad input, 3 the exploration was truncated (the times would not cover
every run, so none is reported).

``--json [OUT]`` writes ``{"scenario", "unit": "ms", "unit_ms", "states", "queries": [{"id",
"from", "to", "min", "max", "unbounded", "always", "trace", "min_trace"}]}``: ``trace`` is a run
that takes ``max``, ``min_trace`` one that takes ``min``; ``min``/``max`` are null when the end
event never follows the start (``max`` also when time can pass without bound between them).
"""

from __future__ import annotations

import argparse
import json
import sys

from . import UsageError
from .common import add_bounds, add_scenario, explore_scenario, one_scenario, output_path, write_text

EXAMPLE = """\
examples:
  ndcheck latency fig19-require-inbound
  ndcheck latency fig8-silent-peer --query ike-give-up --json -"""


def register(sub) -> None:
    from ..checking.latency import QUERIES

    p = sub.add_parser("latency", help="least and greatest times between events (timed model)",
                       description="Explore the scenario with discrete time (its [time] knobs, or "
                                   "the defaults) and report, per query, the least and the "
                                   "greatest time from one event to another over all runs, each "
                                   "with a replayed trace.",
                       epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scenario(p)
    p.add_argument("--query", action="append", metavar="ID",
                   help=f"only this query (repeatable); one of {', '.join(QUERIES)}")
    p.add_argument("--json", metavar="OUT", type=output_path, nargs="?", const="-",
                   help="write the results as JSON to OUT ('-' or no OUT: standard output)")
    add_bounds(p)
    p.set_defaults(run=run)


def _ms(v: int | None, unbounded: bool = False) -> str:
    if unbounded:
        return "unbounded"
    return "-" if v is None else f"{v} ms"


def run(args) -> int:
    from ..checking.latency import QUERIES, latency, timed
    from ..model.suggest import did_you_mean

    ids = args.query or list(QUERIES)
    for q in ids:
        if q not in QUERIES:
            raise UsageError(f"unknown query {q!r}; allowed: {', '.join(QUERIES)}"
                             f"{did_you_mean(q, list(QUERIES))}")
    sc = timed(one_scenario(args))
    g = explore_scenario(sc, args)
    quiet = args.json == "-"
    say = (lambda text: print(text, file=sys.stderr)) if quiet else print
    if g.truncated:
        say(f"{sc.name}: exploration TRUNCATED ({g.reason}) after {g.n_states} states: "
            f"times not reported")
        return 3
    results = [latency(g, QUERIES[q], sc.time.unit_ms) for q in ids]
    say(f"{sc.name} (timed, unit {sc.time.unit_ms} ms): {g.n_states} states, {g.n_edges} edges")
    width = max(len(r.id) for r in results)
    for r in results:
        say(f"  {r.id:<{width}}  min {_ms(r.min):>10}  max {_ms(r.max, r.unbounded):>10}"
            f"  {'every run' if r.always else 'some runs'}  ({r.frm} -> {r.to})")
    if args.json:
        doc = {"scenario": sc.name, "unit": "ms", "unit_ms": sc.time.unit_ms, "states": g.n_states,
               "queries": [r.to_json() for r in results]}
        text = json.dumps(doc, indent=2) + "\n"
        if quiet:
            sys.stdout.write(text)
        else:
            write_text(args.json, text)
            say(f"wrote {args.json}")
    return 0
