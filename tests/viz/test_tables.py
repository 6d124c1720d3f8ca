from __future__ import annotations

from ndcheck.model import nd_rules
from ndcheck.viz.tables import Table, decision_table, decision_tables


def test_every_rule_row_is_listed():
    tables = decision_tables()
    ids = [r for t in tables.values() for r in t.column("row")]
    assert ids == [r.id for r in nd_rules.ALL_ROWS]


def test_predicate_columns():
    t = decision_table(nd_rules.OUTBOUND_ND)
    row = dict(zip(t.columns, t.rows[0]))
    assert row["sa"] == "no" and row["secure"] == "no" and row["acquire"] == "no"
    assert row["ge_match"] == ""  # not tested by ND-8
    assert row["action"] == "clear" and "Acquire:=1" in row["effects"]


def test_rendering_escapes():
    t = Table(("a", "b"), (("x|y", "<z>"),), "cap")
    assert "x\\|y" in t.to_markdown()
    assert "&lt;z&gt;" in t._repr_html_()
    assert str(t).splitlines()[0] == "cap"
