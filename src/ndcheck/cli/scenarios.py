"""``ndcheck scenarios``: list the built-in catalog.

On a terminal a table; on a pipe or a file one tab-separated line per scenario, never cut
(``ndcheck scenarios | grep fig19``).  ``--json [OUT]`` (no OUT or '-': standard output) writes a
list of ``{"name", "figure", "description", "expect", "causes"}`` with the full expect table
(property id → verdict) and the cause of each expected violation (property id →
``{"cause", "rules", "note"}``).  The table marks an expected violation with its cause:
``S-7=violated (spec)``.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..model.scenario import CATALOG
from .common import output_path, print_table, write_text

EXAMPLE = """\
examples:
  ndcheck scenarios | grep fig19
  ndcheck scenarios --json - | jq '.[].name'"""

_STYLE = {"violated": "red", "undetermined": "yellow"}


def register(sub) -> None:
    p = sub.add_parser("scenarios", help="list the built-in scenarios",
                       description="List the built-in scenarios with their figure and the verdicts "
                                   "expected other than 'holds'.",
                       epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", metavar="OUT", type=output_path, nargs="?", const="-",
                   help="write the catalog with every expected verdict as JSON to OUT "
                        "('-' or no OUT: standard output)")
    p.set_defaults(run=run)


def catalog_json() -> list[dict]:
    """The catalog as JSON: name, figure, description and the full expect table, by name."""
    return [{"name": name, "figure": sc.figure, "description": sc.description,
             "expect": dict(sc.expect),
             "causes": {k: {"cause": c.kind, "rules": list(c.rules), "note": c.note}
                        for k, c in sc.causes.items()}}
            for name, sc in sorted(CATALOG.items())]


def run(args) -> int:
    if args.json:
        text = json.dumps(catalog_json(), indent=2) + "\n"
        if args.json == "-":
            sys.stdout.write(text)
        else:
            write_text(args.json, text)
            print(f"wrote {args.json}", file=sys.stderr)
        return 0
    rows, styles = [], []
    for name in sorted(CATALOG):
        sc = CATALOG[name]
        unusual = [(k, v) for k, v in sorted(sc.expect.items()) if v != "holds"]
        exp = ", ".join(f"{k}={v}" + (f" ({sc.causes[k].kind})" if k in sc.causes else "")
                        for k, v in unusual)
        rows.append([name, sc.figure, sc.description, exp or "all hold"])
        verdicts = {v for _, v in unusual}
        worst = next((style for v, style in _STYLE.items() if v in verdicts), None)
        styles.append([None, None, None, worst])
    print_table("ndcheck scenario catalog", ["scenario", "figure", "description", "expected verdicts"],
                rows, styles)
    return 0
