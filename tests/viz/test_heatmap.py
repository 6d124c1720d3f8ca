from __future__ import annotations

from dataclasses import dataclass

from ndcheck.checking.results import Verdict
from ndcheck.properties.base import Property
from ndcheck.viz.heatmap import CATEGORIES, category, draw_heatmap, verdict_matrix, verdict_table

P = {pid: Property(pid, pid.lower().replace("-", "_"), "always", f"claim {pid}")
     for pid in ("H-1", "S-1", "S-7", "L-1")}


@dataclass
class Result:
    scenario: str
    verdicts: tuple


def results():
    return [
        Result("a", (Verdict(P["H-1"], "holds"), Verdict(P["S-7"], "violated", expected="violated"),
                     Verdict(P["L-1"], "undetermined"))),
        Result("b", (Verdict(P["H-1"], "violated"), Verdict(P["S-1"], "holds", expected="violated"))),
    ]


def test_categories():
    assert [category(v) for v in results()[0].verdicts] == [
        "holds", "violated as expected", "undetermined"]
    assert [category(v) for v in results()[1].verdicts] == [
        "violated unexpectedly", "holds, violation expected"]


def test_matrix_order_and_not_applicable():
    scen, pids, cells = verdict_matrix(results())
    assert scen == ["a", "b"]
    assert pids == ["H-1", "S-1", "S-7", "L-1"]  # catalog order: H, S (by number), L
    assert cells[0][1] == "not applicable" and cells[1][3] == "not applicable"
    assert all(c in CATEGORIES for row in cells for c in row)


def test_restricted_columns():
    _, pids, _ = verdict_matrix(results(), properties=["L-1", "H-1"])
    assert pids == ["H-1", "L-1"]


def test_heatmap_figure_has_labelled_axes_and_legend():
    fig = draw_heatmap(results())
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("property") and ax.get_ylabel() == "scenario"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["H-1", "S-1", "S-7", "L-1"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(legend) == len(CATEGORIES)
    assert all(any(c in text for text in legend) for c in CATEGORIES)
    assert ax.get_title()


def test_verdict_table_lists_surprises():
    t = verdict_table(results())
    assert [(r[0], r[1]) for r in t.rows] == [("a", "S-7"), ("a", "L-1"), ("b", "H-1"), ("b", "S-1")]
