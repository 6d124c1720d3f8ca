"""Tables for notebooks: a small HTML/Markdown table type and the ND decision tables as tables.

:class:`Table` renders itself in Jupyter (``_repr_html_``), as Markdown and as plain text, so a
notebook cell that ends with a table shows it without pandas.  :func:`decision_table` lays out
the rows of :mod:`ndcheck.model.nd_rules` (ND-8..ND-20, ND-15) one predicate per column, as the
digest's §3.4 tables do: ``yes`` / ``no`` where a row tests the predicate, blank where it does
not care.

>>> from ndcheck.model.nd_rules import OUTBOUND_ND
>>> t = decision_table(OUTBOUND_ND)
>>> len(t), t.columns[:2]
(13, ('row', 'rule'))
>>> t.rows[0][:2]
('ND-8/clear+acquire', 'ND-8')
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["PREDICATES", "Table", "decision_table", "decision_tables", "predicate_table"]

#: What each decision-table predicate means (column headers of :func:`decision_table`).
PREDICATES: dict[str, str] = {
    "sa": "an outbound QM SA for the flow exists (SAD)",
    "ge_match": "SA.GE equals flow.GE (ND-12)",
    "nat_boundary": "the SA is UDP-ESP and SA.Boundary is set (ND-13)",
    "secure": "flow.Secure is set",
    "acquire": "flow.Acquire is set (IKE already triggered, ND-8)",
    "esp": "the packet arrived ESP-protected",
    "new": "the packet starts a new flow at this host",
    "accept_clear_new": "the inbound rule is ND boundary (A-10)",
    "sa_in": "an inbound QM SA exists",
    "grace": "the inbound SA's clear-grace window is open (ndAllowClearTimeoutSeconds, A-14)",
    "ale": "the host's ALE layer requires encryption for the flow (WFP-GE, ale_require_encryption)",
}


@dataclass(frozen=True, slots=True, repr=False)
class Table:
    """Rows of strings under named columns; shows itself as HTML, Markdown or text."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[str]:
        i = self.columns.index(name)
        return [r[i] for r in self.rows]

    def to_markdown(self) -> str:
        def cell(s: str) -> str:
            return str(s).replace("|", "\\|").replace("\n", " ")

        out = []
        if self.caption:
            out += [f"**{cell(self.caption)}**", ""]
        out.append("| " + " | ".join(cell(c) for c in self.columns) + " |")
        out.append("|" + "|".join("---" for _ in self.columns) + "|")
        out += ["| " + " | ".join(cell(c) for c in r) + " |" for r in self.rows]
        return "\n".join(out)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        e = html.escape
        head = "".join(f"<th style='text-align:left'>{e(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td style='text-align:left'>{e(str(c))}</td>" for c in r) + "</tr>"
            for r in self.rows)
        cap = f"<caption style='text-align:left'><b>{e(self.caption)}</b></caption>" if self.caption else ""
        return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        widths = [max([len(c)] + [len(str(r[i])) for r in self.rows]) for i, c in enumerate(self.columns)]
        line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
        out = ([self.caption] if self.caption else []) + [line(self.columns),
                                                          line(["-" * w for w in widths])]
        out += [line(r) for r in self.rows]
        return "\n".join(out)


def _effects(row) -> str:
    parts = []
    if row.acquire:
        parts.append("trigger IKE, Acquire:=1")
    if row.trigger:
        parts.append("trigger IKE")
    if row.set_secure:
        parts.append("Secure:=1")
    return ", ".join(parts)


def decision_table(rows: Sequence, caption: str = "") -> Table:
    """One decision table (a tuple of :class:`~ndcheck.model.nd_rules.Row`) as a :class:`Table`.

    Columns: row id, rule id, one column per predicate tested by any row (``yes``/``no``/blank),
    the action (``clear``/``esp``/``held`` outbound, ``accept``/``drop`` inbound), side effects,
    and the row's note.
    """
    preds: list[str] = []
    for r in rows:
        for k, _ in r.when:
            if k not in preds:
                preds.append(k)
    cols = ("row", "rule", *preds, "action", "effects", "note")
    out = []
    for r in rows:
        when = dict(r.when)
        cells = [r.id, r.rule]
        cells += [("yes" if when[p] else "no") if p in when else "" for p in preds]
        cells += [r.action, _effects(r), r.note]
        out.append(tuple(cells))
    return Table(cols, tuple(out), caption)


def decision_tables() -> dict[str, Table]:
    """Every decision table of :mod:`ndcheck.model.nd_rules`, keyed by its name."""
    from ..model import nd_rules as nd

    spec = {
        "OUTBOUND_ND": "Outbound, ND rule (§3.7.4.1; ND-8..ND-14; with the ALE layer of WFP-GE)",
        "OUTBOUND_REQUIRE": "Outbound, transport-mode PROTECT (ND-15)",
        "OUTBOUND_NONE": "Outbound, no IPsec rule: BYPASS (ND-15)",
        "OUTBOUND_LEGACY": "Outbound, the pre-ND Negotiate Security action with fallback to clear (ND-15, digest §6.4)",
        "INBOUND_ND": "Inbound, ND rule (§3.7.4.2; ND-17..ND-19; with the ALE layer of WFP-GE)",
        "INBOUND_REQUIRE": "Inbound, transport mode (ND-15)",
        "INBOUND_NONE": "Inbound, no IPsec rule (ND-15)",
    }
    return {name: decision_table(getattr(nd, name), cap) for name, cap in spec.items()}


def predicate_table() -> Table:
    """What the predicate columns of the decision tables mean."""
    return Table(("predicate", "meaning"), tuple(PREDICATES.items()), "Decision-table predicates")
