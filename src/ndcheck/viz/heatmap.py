"""The verdict matrix of a set of check results (scenarios × properties) as a heatmap.

Each cell compares the explicit verdict with the scenario's expectation and falls in one of
:data:`CATEGORIES`: an expected violation (a known weakness of the rules, or a scenario built to
break the property) is a result, not a failure; an unexpected violation, a missed expected
violation and an undetermined verdict (a bound stopped the search: never a pass) stand out.

>>> from ndcheck.checking.results import Verdict
>>> from ndcheck.properties.base import Property
>>> p = Property("S-1", "x", "always", "claim")
>>> category(Verdict(p, "violated", expected="violated"))
'violated as expected'
>>> category(Verdict(p, "holds", expected="violated"))
'holds, violation expected'
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["CATEGORIES", "COLORS", "category", "draw_heatmap", "verdict_matrix", "verdict_table"]

#: Cell categories, in legend order, with their colours and cell marks.
CATEGORIES = ("holds", "violated as expected", "violated unexpectedly", "holds, violation expected",
              "holds, vacuous expected", "vacuous as expected", "vacuous unexpectedly", "undetermined",
              "not applicable")
COLORS = {
    "holds": "#a1d99b",
    "violated as expected": "#fdae6b",
    "violated unexpectedly": "#de2d26",
    "holds, violation expected": "#9e9ac8",
    "holds, vacuous expected": "#bcbddc",
    "vacuous as expected": "#c6dbef",
    "vacuous unexpectedly": "#3182bd",
    "undetermined": "#969696",
    "not applicable": "#ffffff",
}
MARKS = {"holds": "✓", "violated as expected": "✗", "violated unexpectedly": "✗!",
         "holds, violation expected": "✓!", "holds, vacuous expected": "✓?", "vacuous as expected": "∅", "vacuous unexpectedly": "∅!",
         "undetermined": "?", "not applicable": ""}


def category(v) -> str:
    """The category of one :class:`~ndcheck.properties.base.Verdict`."""
    if v.verdict == "undetermined":
        return "undetermined"
    expected = v.expected or "holds"
    if v.verdict == "vacuous":   # the trigger is unreachable: the claim is never put to the test
        return "vacuous as expected" if expected == "vacuous" else "vacuous unexpectedly"
    if v.verdict == "violated":
        return "violated as expected" if expected == "violated" else "violated unexpectedly"
    return {"violated": "holds, violation expected", "vacuous": "holds, vacuous expected"}.get(
        expected, "holds")


def verdict_matrix(results: Sequence, engine: str = "explicit",
                   properties: Sequence[str] | None = None):
    """``(scenarios, property ids, cells)`` with ``cells[i][j]`` a category from :data:`CATEGORIES`.

    Properties are in catalog order (H, S, L, W), restricted to those checked somewhere (or to
    ``properties``); ``results`` are :class:`~ndcheck.checking.check.CheckResult` objects.
    """
    from ..properties.catalog import PROPERTIES

    seen = {v.property.id for r in results for v in r.verdicts if v.engine == engine}
    if properties is not None:
        seen &= set(properties)
    pids = [p.id for p in PROPERTIES if p.id in seen]
    pids += sorted(seen - set(pids))
    scen = [r.scenario for r in results]
    cells = []
    for r in results:
        by = {v.property.id: v for v in r.verdicts if v.engine == engine}
        cells.append([category(by[p]) if p in by else "not applicable" for p in pids])
    return scen, pids, cells


def draw_heatmap(results: Sequence, engine: str = "explicit", properties: Sequence[str] | None = None,
                 ax=None, title: str | None = None):
    """Draw the verdict matrix; returns the matplotlib Figure (rows scenarios, columns properties).

    ``properties`` restricts the columns (ids, catalog order is kept)."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from ._figure import new_axes

    scen, pids, cells = verdict_matrix(results, engine, properties)
    code = {c: i for i, c in enumerate(CATEGORIES)}
    data = [[code[c] for c in row] for row in cells]
    if ax is None:
        fig, ax = new_axes((max(8, 0.36 * len(pids) + 5), max(3, 0.36 * len(scen) + 2.2)))
    else:
        fig = ax.figure
    cmap = ListedColormap([COLORS[c] for c in CATEGORIES])
    ax.imshow(data, cmap=cmap, vmin=-0.5, vmax=len(CATEGORIES) - 0.5, aspect="auto",
              interpolation="nearest")
    for i, row in enumerate(cells):
        for j, c in enumerate(row):
            if MARKS[c]:
                ax.text(j, i, MARKS[c], ha="center", va="center", fontsize=7,
                        color="white" if c in ("violated unexpectedly", "undetermined") else "black")
    ax.set_xticks(range(len(pids)))
    ax.set_xticklabels(pids, rotation=90, fontsize=8)
    ax.set_yticks(range(len(scen)))
    ax.set_yticklabels(scen, fontsize=8)
    ax.set_xticks([j - 0.5 for j in range(1, len(pids))], minor=True)
    ax.set_yticks([i - 0.5 for i in range(1, len(scen))], minor=True)
    ax.grid(which="minor", color="#dddddd", lw=0.6)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel("property (H = headline, S = safety, L = liveness, W = witness)")
    ax.set_ylabel("scenario")
    counts = {c: sum(row.count(c) for row in cells) for c in CATEGORIES}
    handles = [Patch(fc=COLORS[c], ec="#666666", label=f"{MARKS[c] or '·'}  {c} ({counts[c]})")
               for c in CATEGORIES]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
              frameon=False, title="verdict vs expectation", title_fontsize=8)
    ax.set_title(title or f"Verdicts of {len(pids)} properties on {len(scen)} scenarios "
                 f"({engine} engine)", fontsize=10)
    fig.tight_layout()
    return fig


def verdict_table(results: Sequence, categories: Sequence[str] = ("violated as expected",
                  "violated unexpectedly", "holds, violation expected", "undetermined"),
                  engine: str = "explicit"):
    """The cells of the matrix in ``categories`` as a :class:`~ndcheck.viz.tables.Table`:
    scenario, property, its claim, verdict, expectation, trace length."""
    from .tables import Table

    rows = []
    for r in results:
        for v in r.verdicts:
            if v.engine != engine or category(v) not in categories:
                continue
            steps = len(v.trace.steps) if getattr(v, "trace", None) is not None else ""
            rows.append((r.scenario, v.property.id, v.property.claim, v.verdict,
                         v.expected or "holds", str(steps)))
    return Table(("scenario", "property", "claim", "verdict", "expected", "trace steps"),
                 tuple(rows), f"{len(rows)} verdicts: {', '.join(categories)}")
