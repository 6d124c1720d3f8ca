"""The step to look at first, marked in every drawing: the violating step of a counterexample,
the start of a lasso's cycle, the last step of a witness (``ndcheck.traces.msc.mark_of``)."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest

from ndcheck.checking.check import shortest_trace
from ndcheck.checking.conform import conform
from ndcheck.reports.mermaid import render_mermaid
from ndcheck.reports.svg import render_svg
from ndcheck.reports.text import render_text
from ndcheck.traces.msc import Mark, chart, mark_of
from ndcheck.traces.trace import trace_from_commands
from ndcheck.traces.wire import read_wire
from tests.catalog_cache import graph

WIRE_DIR = Path(__file__).resolve().parents[1] / "wire"
SVG = "{http://www.w3.org/2000/svg}"


@cache
def prop_trace(scenario: str, prop: str):
    g = graph(scenario)
    return g.system, shortest_trace(g, prop)


@cache
def fig7():
    g = graph("fig7-both-capable")
    r = conform(g, read_wire(WIRE_DIR / "fig7.txt").packets)
    return g.system, r.witness


def cases():
    """(name, system, trace, expected mark)."""
    system, t = prop_trace("guaranteed-encryption", "S-7")   # never_action: the step is forbidden
    yield "counterexample", system, t, Mark(1, "violation", "violates S-7")
    system, t = prop_trace("allow-clear-grace", "S-2")
    yield "longer counterexample", system, t, Mark(len(t.steps), "violation", "violates S-2")
    system, t = prop_trace("fig19-require-inbound", "W-2")
    yield "witness", system, t, Mark(len(t.steps), "witness", "witness of W-2 reached")
    system, t = prop_trace("sa-expiry-peer-gone", "L-5")
    assert t.loop_start == len(t.steps)
    yield "lasso ending in a final state", system, t, Mark(len(t.steps), "loop", "violates L-5: stays here forever")
    system, t = fig7()
    cyc = dataclasses.replace(t, kind="lasso", property="L-3", loop_start=len(t.steps) - 2)
    yield "lasso with a cycle", system, cyc, Mark(len(t.steps) - 1, "loop", "violates L-3: cycle starts")
    g = graph("fig19-require-inbound")
    empty = trace_from_commands(g.system, [], "S-1")
    yield "empty counterexample", g.system, empty, Mark(0, "violation", "violates S-1")


CASES = {name: (system, t, mark) for name, system, t, mark in cases()}


@pytest.mark.parametrize("name", list(CASES))
def test_mark_of_names_the_step_and_why(name):
    system, t, mark = CASES[name]
    assert mark_of(t) == mark
    assert chart(t, system).mark == mark


def test_a_trace_of_another_kind_is_not_marked():
    system, t = prop_trace("guaranteed-encryption", "S-7")
    odd = dataclasses.replace(t, kind="path")
    assert mark_of(odd) is None
    assert "<-" not in render_text(odd) and "rect " not in render_mermaid(odd, system)
    assert not [g for g in ET.fromstring(render_svg(odd, system)).iter(f"{SVG}g")
                if "mark" in g.get("class", "").split()]


@pytest.mark.parametrize("name", list(CASES))
def test_text_marks_the_step_with_a_suffix(name):
    _system, t, mark = CASES[name]
    lines = render_text(t).splitlines()
    marked = [line for line in lines if "<-" in line]
    assert len(marked) == 1 and marked[0].endswith(f"  <- {mark.text}")
    if mark.step:
        assert marked[0].split()[0] == str(mark.step)
        assert t.steps[mark.step - 1].action in marked[0]   # the full action, never cut
    else:
        assert "(no steps: the initial state already shows it)" in marked[0]


def test_text_keeps_the_cycle_line_of_a_lasso():
    _system, t, _mark = CASES["lasso with a cycle"]
    lines = render_text(t).splitlines()
    i = next(j for j, line in enumerate(lines) if "<-" in line)
    assert lines[i - 1].strip() == "-- cycle: the steps below repeat forever --"
    _system, t, _mark = CASES["lasso ending in a final state"]
    assert render_text(t).splitlines()[-1].strip() == "-- the run stays in this last state forever --"


@pytest.mark.parametrize("name", list(CASES))
def test_mermaid_wraps_the_marked_step_in_a_rect_with_a_note(name):
    system, t, mark = CASES[name]
    lines = render_mermaid(t, system).splitlines()
    rects = [i for i, line in enumerate(lines) if line.strip().startswith("rect ")]
    assert len(rects) == 1
    body = lines[rects[0] + 1:]
    end = body.index("    end")
    inside = body[:end]
    note = inside[-1]
    action = t.steps[mark.step - 1].action if mark.step else "the initial state"
    assert note.startswith(f"    Note over cT,sT: {mark.step} {mark.text}<br/>")
    assert note.partition("<br/>")[2].replace("<br/>", " ") == \
        action.replace("<", "(").replace(">", ")").replace(";", ",").replace("#", "no.")
    # the step's arrows are inside the block, numbered with the step
    for line in inside[:-1]:
        assert line.split(": ", 1)[1].startswith(f"{mark.step} ")
    # blocks are balanced (loop/rect ... end)
    opened = sum(line.strip().startswith(("loop ", "rect ")) for line in lines)
    assert opened == sum(line.strip() == "end" for line in lines)


def test_mermaid_mark_sits_inside_the_loop_block():
    system, t, _mark = CASES["lasso with a cycle"]
    lines = [line.strip() for line in render_mermaid(t, system).splitlines()]
    i = lines.index("loop repeats forever")
    assert lines[i + 1] == "rect rgb(243, 229, 245)"
    closed = lines.index("end", i)          # the rect closes after the marked step ...
    assert any(line.startswith(f"Note over sI: {len(t.steps)} ") for line in lines[closed:])
    assert lines[-1] == "end"               # ... and the loop after the last step


@pytest.mark.parametrize("name", list(CASES))
def test_svg_highlights_the_row_and_labels_it(name):
    system, t, mark = CASES[name]
    root = ET.fromstring(render_svg(t, system))
    bands = [g for g in root.iter(f"{SVG}g") if g.get("class") == f"mark {mark.kind}"]
    assert len(bands) == 1
    band = bands[0].find(f"{SVG}rect")
    y, h = float(band.get("y")), float(band.get("height"))
    row = next(g for g in root.iter(f"{SVG}g") if g.get("data-step") == str(mark.step))
    first_line = row.find(f"{SVG}text")
    assert y < float(first_line.get("y")) < y + h   # the band runs across the marked row
    badge = row.find(f"{SVG}g[@class='badge']")
    assert "".join(badge.itertext()) == mark.text
    numbers = [e for e in root.iter(f"{SVG}text") if "".join(e.itertext()) == str(mark.step)
               and e.get("text-anchor") == "end"]
    assert numbers[0].get("font-weight") == "bold"
    # one band, one badge
    assert sum(1 for g in root.iter(f"{SVG}g") if g.get("class") == "badge") == 1
