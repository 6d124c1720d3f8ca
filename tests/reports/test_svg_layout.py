"""The SVG chart's layout, read back from the SVG text: no label on an arrow, full actions, the
marked step, no ``paint-order``; and the chart rendered to pixels by a real renderer (cairosvg)
with ink where its labels are."""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest

from ndcheck import CATALOG
from ndcheck.checking.check import check_graph, shortest_trace
from ndcheck.checking.conform import conform
from ndcheck.reports.svg import render_svg
from ndcheck.traces.trace import trace_to_state
from ndcheck.traces.wire import read_wire
from tests.catalog_cache import graph

WIRE_DIR = Path(__file__).resolve().parents[1] / "wire"
SVG = "{http://www.w3.org/2000/svg}"

#: the text-width estimate of these tests: every character 0.6 em wide (the chart's layout uses
#: per-character DejaVu Sans widths and never less than this)
CHAR_WIDTH = 0.6
ASCENT, DESCENT = 0.8, 0.24   # of the font size, above and below the baseline
ENDPOINT_AREA = 12.0          # a label may touch its own arrow this close to the arrow's ends

Box = tuple[float, float, float, float]


# ---- traces ------------------------------------------------------------------------------------

@cache
def figure_trace(scenario: str, wire_file: str):
    g = graph(scenario)
    r = conform(g, read_wire(WIRE_DIR / wire_file).packets)
    assert r.accepted
    return g.system, r.witness


@cache
def property_trace(scenario: str, prop: str):
    g = graph(scenario)
    t = shortest_trace(g, prop)
    assert t is not None
    return g.system, t


@cache
def deepest_trace(scenario: str):
    """The BFS path to the last state explored: long, with many packets in flight."""
    g = graph(scenario)
    return g.system, trace_to_state(g, g.n_states - 1)


TRACES = {
    "fig19 witness": lambda: figure_trace("fig19-require-inbound", "fig19.txt"),
    "fig7 witness": lambda: figure_trace("fig7-both-capable", "fig7.txt"),
    "fig8 silent witness": lambda: figure_trace("fig8-silent-peer", "fig8-silent.txt"),
    "S-7 counterexample": lambda: property_trace("guaranteed-encryption", "S-7"),
    "S-2 counterexample (held segments)": lambda: property_trace("allow-clear-grace", "S-2"),
    "L-6 counterexample (lossy)": lambda: property_trace("fig7-lossy", "L-6"),
    "L-5 lasso (SA expiry)": lambda: property_trace("sa-expiry-peer-gone", "L-5"),
    "T-1 lasso (ND-13 against ND-18)": lambda: property_trace("nat-boundary", "T-1"),
    "deepest fig7-duplicates": lambda: deepest_trace("fig7-duplicates"),
    "deepest fig7-premature-timeouts": lambda: deepest_trace("fig7-premature-timeouts"),
}


@cache
def svg_of(key: str) -> str:
    system, t = TRACES[key]()
    return render_svg(t, system)


# ---- geometry read back from the SVG -----------------------------------------------------------

def text_box(e: ET.Element) -> Box:
    """The box a ``<text>`` covers: len(text) * CHAR_WIDTH * font size wide, placed by its anchor."""
    size = float(e.get("font-size"))
    width = len("".join(e.itertext())) * CHAR_WIDTH * size
    x, y = float(e.get("x")), float(e.get("y"))
    anchor = e.get("text-anchor", "start")
    x0 = x - width / 2 if anchor == "middle" else x - width if anchor == "end" else x
    return (x0, y - ASCENT * size, x0 + width, y + DESCENT * size)


def rect_box(e: ET.Element) -> Box:
    x, y = float(e.get("x")), float(e.get("y"))
    return (x, y, x + float(e.get("width")), y + float(e.get("height")))


def _point_segment(px: float, py: float, seg: tuple[float, float, float, float]) -> float:
    x1, y1, x2, y2 = seg
    dx, dy = x2 - x1, y2 - y1
    t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (x1 + t * dx), py - (y1 + t * dy))


def _crosses(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    def side(x1, y1, x2, y2, px, py):
        return (x2 - x1) * (py - y1) - (y2 - y1) * (px - x1)
    d1, d2 = side(*b, a[0], a[1]), side(*b, a[2], a[3])
    d3, d4 = side(*a, b[0], b[1]), side(*a, b[2], b[3])
    return d1 * d2 < 0 and d3 * d4 < 0


def segment_meets_box(seg: tuple[float, float, float, float], box: Box, reach: float) -> bool:
    """Does the segment come within ``reach`` of the box?  Measured as a distance (endpoints in
    the box, edge crossings, corner and endpoint distances), independently of the clipping that
    the renderer itself uses to place labels."""
    x0, y0, x1, y1 = box
    if any(x0 <= x <= x1 and y0 <= y <= y1 for x, y in (seg[:2], seg[2:])):
        return True
    edges = [(x0, y0, x1, y0), (x1, y0, x1, y1), (x1, y1, x0, y1), (x0, y1, x0, y0)]
    if any(_crosses(seg, e) for e in edges):
        return True
    corner = min(_point_segment(x, y, seg) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1)))
    ends = min(math.hypot(max(x0 - x, 0, x - x1), max(y0 - y, 0, y - y1)) for x, y in (seg[:2], seg[2:]))
    return min(corner, ends) <= reach


def without_ends(seg: tuple[float, float, float, float], cut: float) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = seg
    k = cut / math.hypot(x2 - x1, y2 - y1)
    return (x1 + k * (x2 - x1), y1 + k * (y2 - y1), x2 - k * (x2 - x1), y2 - k * (y2 - y1))


def groups(root: ET.Element, word: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if word in g.get("class", "").split()]


def arrows(root: ET.Element) -> list[tuple[ET.Element, tuple[float, float, float, float], float]]:
    """(message group, arrow line, half its stroke width) for every packet arrow."""
    out = []
    for g in groups(root, "msg"):
        line = g.find(f"{SVG}line")
        seg = tuple(float(line.get(k)) for k in ("x1", "y1", "x2", "y2"))
        out.append((g, seg, float(line.get("stroke-width")) / 2))
    return out


def labels(root: ET.Element) -> list[tuple[ET.Element, str, Box]]:
    """(owning group, text, box) of every label drawn among the arrows: message names and fates,
    notes (their texts and boxes)."""
    out = []
    for g in groups(root, "msg") + groups(root, "note"):
        for t in g.iter(f"{SVG}text"):
            out.append((g, "".join(t.itertext()), text_box(t)))
        if "note" in g.get("class").split():
            out += [(g, "note box", rect_box(r)) for r in g.findall(f"{SVG}rect")]
    return out


def labels_on_arrows(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    found = []
    for owner, text, box in labels(root):
        for g, seg, half in arrows(root):
            if g is owner:   # its own arrow: only near the arrow's ends
                seg = without_ends(seg, ENDPOINT_AREA)
            if segment_meets_box(seg, box, half):
                found.append(f"{text!r} on the arrow of {g.find(f'{SVG}title').text}")
    return found


# ---- layout ------------------------------------------------------------------------------------

def test_the_geometry_helpers_see_a_label_on_an_arrow():
    seg = (100.0, 100.0, 300.0, 140.0)
    assert segment_meets_box(seg, (190, 110, 230, 125), 0.5)       # across the line
    assert not segment_meets_box(seg, (190, 90, 230, 105), 0.5)    # above it
    assert not segment_meets_box(seg, (310, 100, 350, 140), 0.5)   # past its end
    bad = ('<svg xmlns="http://www.w3.org/2000/svg"><g class="msg ike"><title>t</title>'
           '<line x1="0" y1="0" x2="200" y2="40" stroke-width="2"/></g>'
           '<g class="note tcp"><text x="80" y="20" font-size="10">on the line</text></g></svg>')
    assert labels_on_arrows(bad) == ["'on the line' on the arrow of t"]


@pytest.mark.parametrize("key", list(TRACES))
def test_no_label_sits_on_an_arrow(key):
    root = ET.fromstring(svg_of(key))
    assert len(arrows(root)) > 0 and len(labels(root)) > len(arrows(root))
    assert labels_on_arrows(svg_of(key)) == []


@pytest.mark.parametrize("key", list(TRACES))
def test_labels_do_not_overlap_each_other(key):
    items = labels(ET.fromstring(svg_of(key)))
    clashes = [(a, b) for i, (ga, a, ba) in enumerate(items) for gb, b, bb in items[i + 1:]
               if ga is not gb and ba[0] < bb[2] and bb[0] < ba[2] and ba[1] < bb[3] and bb[1] < ba[3]]
    assert clashes == []


@pytest.mark.slow
def test_no_label_sits_on_an_arrow_in_any_catalog_trace():
    """Every shortest counterexample, witness and lasso of the catalog."""
    found = []
    n = 0
    for name in sorted(CATALOG):
        g = graph(name)
        for v in check_graph(g).verdicts:
            if v.trace is not None:
                n += 1
                found += [f"{name} {v.property.id}: {x}" for x in labels_on_arrows(render_svg(v.trace, g.system))]
    assert n > 100 and found == []


def test_svg_text_has_no_stroke_halo():
    """``paint-order`` (a white stroke under the text) is drawn over the text by renderers that
    ignore it: labels stand on background rectangles instead."""
    svg = svg_of("fig19 witness")
    assert "paint-order" not in svg
    root = ET.fromstring(svg)
    assert all(t.get("stroke") is None for t in root.iter(f"{SVG}text"))
    for g in groups(root, "msg"):
        assert g.find(f"{SVG}rect[@class='label-bg']") is not None


@pytest.mark.parametrize("key", ["fig19 witness", "L-5 lasso (SA expiry)", "deepest fig7-premature-timeouts"])
def test_each_action_is_shown_in_full(key):
    _system, t = TRACES[key]()
    root = ET.fromstring(svg_of(key))
    rows = {int(g.get("data-step")): g for g in groups(root, "action")}
    assert sorted(rows) == list(range(len(t.steps) + 1))
    for step in t.steps:
        g = rows[step.index]
        assert g.find(f"{SVG}title").text == step.action   # the tooltip
        lines = ["".join(e.itertext()) for e in g.findall(f"{SVG}text")]   # (not the badge's)
        assert " ".join(lines) == step.action
        assert all(len(line) <= 100 for line in lines)
        assert all(text_box(e)[2] <= 1400 - 10 for e in g.findall(f"{SVG}text"))
    assert "…" not in "".join(root.itertext())
    # a long action is wrapped, not cut
    longest = max(t.steps, key=lambda s: len(s.action))
    if len(longest.action) > 90:
        assert len(rows[longest.index].findall(f"{SVG}text")) > 1


# ---- pixels ------------------------------------------------------------------------------------

def cairosvg_or_fail():
    """cairosvg (PyPI, test extra) with Cairo (Debian libcairo2, installed by .ci/run)."""
    try:
        import cairosvg
    except (ImportError, OSError) as e:   # OSError: the package is there, the Cairo library not
        pytest.fail(f"the SVG pixel test needs cairosvg and the Cairo library: pip install -e '.[test]' "
                    f"and apt-get install libcairo2 fonts-dejavu-core (.ci/run does both): {e}")
    return cairosvg


def ink(image, box: Box) -> int:
    """Pixels in ``box`` that differ clearly from the box's most common colour (its background)."""
    x0, y0, x1, y1 = (round(v) for v in box)
    crop = image.crop((max(x0, 0), max(y0, 0), x1, y1))
    data = crop.tobytes()
    pixels = [data[i:i + 3] for i in range(0, len(data), 3)]
    if not pixels:
        return 0
    background = max(set(pixels), key=pixels.count)
    return sum(max(abs(a - b) for a, b in zip(p, background)) > 80 for p in pixels)


def rendered(svg: str):
    from PIL import Image

    png = cairosvg_or_fail().svg2png(bytestring=svg.encode("utf-8"))
    return Image.open(io.BytesIO(png)).convert("RGB")


def chart_labels(root: ET.Element) -> list[tuple[str, Box]]:
    """Message names, fates, notes, the marked step's badge and the step actions."""
    out = [(text, box) for _g, text, box in labels(root) if text != "note box"]
    for g in groups(root, "action") + groups(root, "badge"):
        out += [("".join(t.itertext()), text_box(t)) for t in g.findall(f"{SVG}text")]
    return out


@pytest.mark.parametrize("key", ["fig19 witness", "L-5 lasso (SA expiry)", "S-2 counterexample (held segments)"])
def test_rendered_labels_have_ink(key):
    """cairosvg draws every label: its box holds pixels of text, not only background (with a
    ``paint-order`` halo it drew the halo over the text and the labels came out blank)."""
    svg = svg_of(key)
    root = ET.fromstring(svg)
    image = rendered(svg)
    assert image.size == (int(float(root.get("width"))), int(float(root.get("height"))))
    blank = []
    for text, box in chart_labels(root):
        area = (box[2] - box[0]) * (box[3] - box[1])
        if ink(image, box) < max(6, 0.03 * area):
            blank.append(text)
    assert len(chart_labels(root)) > 30
    assert blank == [], "labels rendered blank (is a font installed? .ci/run installs fonts-dejavu-core)"


def test_the_ink_check_sees_a_blank_label():
    """The check above fails on a label drawn the old way (a white halo stroke with paint-order)."""
    halo = ('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40">'
            '<rect width="100%" height="100%" fill="#fff"/>'
            '<text x="10" y="25" font-size="11" fill="#222" stroke="#fff" stroke-width="3" '
            'paint-order="stroke">clear SYN</text></svg>')
    plain = halo.replace(' stroke="#fff" stroke-width="3" paint-order="stroke"', "")
    box = text_box(ET.fromstring(plain).find(f"{SVG}text"))
    assert ink(rendered(plain), box) >= 20
    assert ink(rendered(halo), box) < 6
