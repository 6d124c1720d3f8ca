"""``ndcheck scenarios``: list the built-in catalog."""

from __future__ import annotations

from ..model.scenario import CATALOG


def register(sub) -> None:
    p = sub.add_parser("scenarios", help="list the built-in scenarios")
    p.set_defaults(run=run)


def run(args) -> int:
    from rich.console import Console
    from rich.table import Table

    t = Table(title="ndcheck scenario catalog")
    t.add_column("scenario")
    t.add_column("figure")
    t.add_column("description")
    t.add_column("expected verdicts")
    for name in sorted(CATALOG):
        sc = CATALOG[name]
        exp = ", ".join(f"{k}={v}" for k, v in sorted(sc.expect.items()) if v != "holds")
        t.add_row(name, sc.figure, sc.description, exp or "all hold")
    Console().print(t)
    return 0
