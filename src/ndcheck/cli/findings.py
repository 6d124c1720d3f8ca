"""``ndcheck findings [--out FILE] [--confirm]``: FINDINGS.md from the catalog's expectations.

Writes the document (:mod:`ndcheck.reports.findings`) to standard output or to ``--out``: each
spec finding (a property MS-IKEE's rules let a catalog scenario violate) with its scenario,
rules, note and the ``ndcheck trace`` command that prints it; the policy consequences; the
expected violations that give no cause.  ``--confirm`` also checks every scenario with an
expected violation and fails (exit 1) if the model no longer shows one.

Exit status: 0 written (and confirmed), 1 an expected violation not confirmed, 2 bad input
(an unwritable output).
"""

from __future__ import annotations

import argparse
import sys

from .common import output_path, write_text

EPILOG = """\
examples:
  ndcheck findings --out FINDINGS.md      regenerate the repository's FINDINGS.md
  ndcheck findings --confirm | less       check the expected violations, then read them
"""


def register(sub) -> None:
    p = sub.add_parser("findings", help="the catalog's expected violations by cause (FINDINGS.md)",
                       description="Write FINDINGS.md from the catalog's [expect] tables: spec "
                                   "findings about MS-IKEE, policy consequences, and expected "
                                   "violations without a cause.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-o", "--out", metavar="FILE", type=output_path,
                   help="write the document to FILE (default: standard output)")
    p.add_argument("--confirm", action="store_true",
                   help="also check each expected violation with the explicit engine (about 10 s); "
                        "exit 1 if one is not found")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..reports.findings import confirm, findings_markdown

    text = findings_markdown()
    if args.out:
        write_text(args.out, text)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if not args.confirm:
        return 0
    problems = confirm()
    for line in problems:
        print(f"ndcheck: not confirmed: {line}", file=sys.stderr)
    return 1 if problems else 0
