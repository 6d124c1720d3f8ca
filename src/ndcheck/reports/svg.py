"""SVG message sequence chart of a trace, drawn like figures 7 and 8 of MS-IKEE §3.7.

Written directly as SVG text (no graphviz).  Four labelled lanes, left to right: client TCP,
client IPsec/IKE, server IPsec/IKE, server TCP.  Time flows down, one row per step (numbered on
the left, the full action on the right, wrapped over lines).  A packet is a slanted arrow from
the row of the step that sent it to the row of the step that consumed it (see
:mod:`ndcheck.traces.msc`):

* cleartext TCP segments: thin dashed black arrows between the TCP lanes;
* ESP-protected TCP segments: thick green arrows with a lock and "ESP";
* IKE messages (MM1..QM3, CONNECTED, NOTIFY, ICMP): solid grey arrows between the IKE lanes;
* a segment dropped by the receiver's ND inbound filter (ND-17, ND-18, ND-19) ends in a red ×
  on the receiver's IPsec lane with the rule row; a packet lost by the network ends in a red ×
  half-way; a packet still in flight at the end of the trace fades out below the last row;
* boxes mark held packets (ND-10, ND-15), the negotiation outcome ("IPsec Successful
  Negotiation", "IPsec Unsuccessful Negotiation"), and small tags the Secure flag and TCP
  milestones.  A legend explains the marks;
* the step to look at first (:func:`ndcheck.traces.msc.mark_of`: the violating step of a
  counterexample, the first step of a lasso's cycle, the last step of a witness) is a coloured
  band across its row with a badge naming the property.

Labels never sit on an arrow: every arrow is laid out first, then each label (message names,
fates, notes) takes the first of a list of candidate places near what it describes whose box
(text width estimated from the font size) meets no arrow and no other label.  Labels stand on a
light background rectangle rather than a stroke halo (``paint-order``, which some renderers
ignore, drawing the halo over the text), so the chart renders the same everywhere.

>>> import xml.etree.ElementTree as ET
>>> from ndcheck import CATALOG, build_system, explore
>>> from ndcheck.traces.trace import trace_to_state
>>> system = build_system(CATALOG["fig19-require-inbound"])
>>> svg = render_svg(trace_to_state(explore(system), 3), system)
>>> ET.fromstring(svg).tag
'{http://www.w3.org/2000/svg}svg'
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

from ..model.ir import System
from ..traces.msc import LANE_TITLES, LANES, Chart, Mark, Message, Note, chart
from ..traces.trace import Trace

__all__ = ["render_svg", "svg_from_chart", "text_width"]

# ---- layout --------------------------------------------------------------------------------
LANE_X = {"client.tcp": 180, "client.ike": 370, "server.ike": 570, "server.tcp": 760}
ACTION_X = 900
ROW = 34
TOP = 118          # y of step 0 (the initial state)
WIDTH = 1400
ACTION_W = WIDTH - 20 - ACTION_X   # the action column
LINE = 11.5        # line spacing of a wrapped action
#: labels of the chart stay right of the step numbers, below the lane heads, left of the actions
AREA = (58.0, 94.0, ACTION_X - 8.0)

CLEAR = "#111111"
ESP = "#0b7a3e"
IKE = "#555555"
RED = "#d32f2f"
HELD = "#ef6c00"
SECURE = "#1565c0"
#: mark kind -> (band fill, accent/badge colour)
MARK_COLORS = {"violation": ("#fdecea", "#c62828"), "witness": ("#e8f5e9", "#2e7d32"),
               "loop": ("#f3e5f5", "#7b1fa2")}

PAD_X, PAD_Y = 3.0, 1.5        # a label's background rectangle around its text
ASCENT, DESCENT = 0.8, 0.24    # of the font size, for a label's box

Box = tuple[float, float, float, float]   # x0, y0, x1, y1


def _y(step: int | None) -> float:
    assert step is not None
    return TOP + step * ROW


def _a(**kw) -> str:
    """Attributes; ``stroke_width`` -> ``stroke-width``; None values are left out."""
    return "".join(f" {k.replace('_', '-')}={quoteattr(str(v))}" for k, v in kw.items() if v is not None)


# ---- text metrics ------------------------------------------------------------------------------

#: advance widths of the printable ASCII characters (space .. ~) in hundredths of an em, rounded
#: up, of DejaVu Sans and DejaVu Sans Bold: the widest of the fonts a chart can be drawn in
#: (its font-family names Helvetica and Arial, which fall back to DejaVu Sans on most Linux
#: systems); "99" stands for the few of an em or more, in _WIDE; any other character counts 1.1 em
_WIDE = {False: {"@": 1.0}, True: {"%": 1.01, "@": 1.0, "M": 1.0, "W": 1.11, "m": 1.05}}
_EM = {
    False: (
        "3241468464967828404050843237323464646464646464646464343484848454"
        "9969697078645878763030665687757961797064627469996962694034408450"
        "50626455646236646428285828986462646442534064608260605364346484"),
    True: (
        "3546538470998831464653843842383770707070707070707070404084848459"
        "9978777484696983843838786499848674867873698278997873734637468450"
        "50687260726844727235356735997269727250604872669365665972377284"),
}


def _em(ch: str, bold: bool) -> float:
    i = ord(ch) - 32
    if ch in _WIDE[bold] or not 0 <= i < 95:
        return _WIDE[bold].get(ch, 1.1)
    return int(_EM[bold][2 * i:2 * i + 2]) / 100


def text_width(s: str, size: float, bold: bool = False) -> float:
    """Estimated width of ``s`` at font size ``size``: the DejaVu Sans advance widths, and never
    less than 0.6 em a character."""
    return max(sum(_em(ch, bold) for ch in s), 0.6 * len(s)) * size


def _size(s: str, size: float, bold: bool = False, extra: float = 0.0) -> tuple[float, float]:
    """(width, height) of a label's box: the text, ``extra`` room (a lock), the padding."""
    return text_width(s, size, bold) + extra + 2 * PAD_X, (ASCENT + DESCENT) * size + 2 * PAD_Y


def _text(x: float, y: float, s: str, size: float = 11, anchor: str = "start", fill: str = "#000",
          weight: str | None = None, cls: str | None = None) -> str:
    return (f"<text{_a(x=f'{x:.1f}', y=f'{y:.1f}', font_size=size, text_anchor=anchor, fill=fill, font_weight=weight)}"
            + (_a(**{"class": cls}) if cls else "")
            + f">{escape(s)}</text>")


def _rect(box: Box, **kw) -> str:
    x0, y0, x1, y1 = box
    return f"<rect{_a(x=f'{x0:.1f}', y=f'{y0:.1f}', width=f'{x1 - x0:.1f}', height=f'{y1 - y0:.1f}', **kw)}/>"


def _label(box: Box, s: str, size: float, fill: str, weight: str | None = None, indent: float = 0.0,
           bg: str = "#ffffff") -> str:
    """A text on a background rectangle filling ``box`` (the text starts ``indent`` in)."""
    x0, _, _, y1 = box
    return (_rect(box, **{"class": "label-bg"}, rx=2, fill=bg, fill_opacity=0.9)
            + _text(x0 + PAD_X + indent, y1 - PAD_Y - DESCENT * size, s, size, fill=fill, weight=weight))


def _wrap(s: str, size: float, widths: list[float]) -> list[str]:
    """Greedy word wrap: line i fits ``widths[i]`` (the last width repeats); words are never cut
    (a word wider than a line gets a line of its own), so ``" ".join(lines) == s``."""
    lines: list[str] = []
    cur = ""
    for word in s.split(" "):
        trial = f"{cur} {word}" if cur else word
        if cur and text_width(trial, size) > widths[min(len(lines), len(widths) - 1)]:
            lines.append(cur)
            cur = word
        else:
            cur = trial
    lines.append(cur)
    return lines


# ---- placing labels clear of arrows ----------------------------------------------------------

def _meets(seg: tuple[float, float, float, float, float], box: Box) -> bool:
    """Does the segment (x1, y1, x2, y2, reach) come within ``reach`` of ``box``?  (Liang-Barsky)"""
    x1, y1, x2, y2, r = seg
    bx0, by0, bx1, by1 = box[0] - r, box[1] - r, box[2] + r, box[3] + r
    dx, dy = x2 - x1, y2 - y1
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x1 - bx0), (dx, bx1 - x1), (-dy, y1 - by0), (dy, by1 - y1)):
        if p == 0:
            if q < 0:
                return False
        else:
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
            if t0 > t1:
                return False
    return True


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class _Space:
    """What is already on the chart: arrow segments and the boxes of placed labels and marks."""

    def __init__(self, band: tuple[float, float, str] | None = None) -> None:
        self.segments: list[tuple[float, float, float, float, float]] = []
        self.boxes: list[Box] = []
        self.band = band   # the marked row: (top, bottom, fill)

    def background(self, box: Box) -> str:
        """A label's background: white, or the marked row's colour inside its band."""
        if self.band is not None and self.band[0] <= (box[1] + box[3]) / 2 <= self.band[1]:
            return self.band[2]
        return "#ffffff"

    def free(self, box: Box) -> bool:
        x0, y0, x1, _ = box
        return (x0 >= AREA[0] and y0 >= AREA[1] and x1 <= AREA[2]
                and not any(_overlap(b, box) for b in self.boxes)
                and not any(_meets(s, box) for s in self.segments))

    def cost(self, box: Box) -> int:
        x0, y0, x1, _ = box
        out = x0 < AREA[0] or y0 < AREA[1] or x1 > AREA[2]
        return (1000 * out + 100 * sum(_meets(s, box) for s in self.segments)
                + 10 * sum(_overlap(b, box) for b in self.boxes))

    def place(self, candidates: list[Box]) -> Box:
        """The first candidate that meets nothing (else the least bad one), now taken."""
        best = self.place_free(candidates)
        if best is None:
            best = min(candidates, key=self.cost)
            self.boxes.append(best)
        return best

    def place_free(self, candidates: list[Box]) -> Box | None:
        """The first candidate that meets nothing, now taken; None if there is none."""
        best = next((box for box in candidates if self.free(box)), None)
        if best is not None:
            self.boxes.append(best)
        return best


def _around(x: float, y: float, r: float) -> Box:
    return (x - r, y - r, x + r, y + r)


# ---- messages ----------------------------------------------------------------------------------

def _lock(x: float, y: float, color: str) -> str:
    """A small padlock whose body's top-left corner is (x, y)."""
    return (f'<g class="lock">'
            f"<path{_a(d=f'M{x + 2:.1f},{y:.1f} v-3 a3,3 0 0 1 6,0 v3', fill='none', stroke=color, stroke_width=1.4)}/>"
            f"<rect{_a(x=f'{x:.1f}', y=f'{y:.1f}', width=10, height=7, rx=1, fill=color)}/></g>")


def _cross(x: float, y: float, color: str = RED, size: float = 5.5) -> str:
    d = f"M{x - size:.1f},{y - size:.1f} L{x + size:.1f},{y + size:.1f} M{x - size:.1f},{y + size:.1f} L{x + size:.1f},{y - size:.1f}"
    return f'<path class="cross"{_a(d=d, stroke=color, stroke_width=2.6, fill="none")}/>'


def _style(m: Message) -> tuple[str, str, str | None, str]:
    """(stroke colour, stroke width, dash array, marker id)."""
    if m.ike:
        return IKE, "1.5", None, "head-ike"
    if m.esp:
        return ESP, "3.4", None, "head-esp"
    return CLEAR, "1.3", "7 4", "head-clear"


def _name(m: Message) -> str:
    name = re.sub(r"^(DATA|ACK)(\d+)$", r"\1 \2", m.internal.partition("/")[0])
    if name == "ACKF":
        name = "ACK of FIN"
    if name.startswith("ACK ") and name != "ACK of FIN":
        name = "DATA " + name  # "DATA ACK 1", as in figure 7
    if m.ike:
        return name
    return ("ESP " if m.esp else "clear ") + name


class _Arrow:
    """One packet copy's arrow: geometry first (every arrow is known before any label is placed)."""

    def __init__(self, m: Message) -> None:
        self.m = m
        color, width, dash, marker = _style(m)
        self.color, self.width, self.dash = color, width, dash
        x1, y1 = float(LANE_X[m.src_lane]), _y(m.sent)
        xd = float(LANE_X[m.dst_lane])
        self.head: str | None = f"url(#{marker})"
        self.end_mark = ""
        self.fate_text = ""
        if m.fate in ("delivered", "ignored"):
            x2, y2 = xd, _y(m.ended)
            if m.fate == "ignored":
                self.head = None
                self.end_mark = _cross(x2, y2, "#888", 4)
                self.fate_text = "ignored (no IKE stack)"
        elif m.fate == "dropped":
            x2 = float(LANE_X[f"{m.receiver}.ike"]) if not m.ike else xd
            y2 = _y(m.ended)
            self.head = None
            self.end_mark = _cross(x2, y2)
            self.fate_text = f"dropped ({m.rule})" if m.rule else "dropped"
        elif m.fate == "lost":
            x2, y2 = x1 + 0.5 * (xd - x1), _y(m.ended)
            self.head = None
            self.end_mark = _cross(x2, y2)
            self.fate_text = "lost"
        else:  # in flight at the end of the trace
            # a short stub: the packet left, nothing consumed it before the trace ended
            x2, y2 = x1 + 0.3 * (xd - x1), y1 + 0.8 * ROW
            self.head = None
            self.dash = "2 4"
            self.fate_text = "in flight"
        self.x1, self.y1, self.x2, self.y2 = x1, y1, x2, y2
        self.reach = float(width) / 2 + 2.0     # how close a label may come to the line
        self.label = _name(m) + (" (dup)" if m.duplicate else "")
        self.label_box: Box | None = None
        self.fate_box: Box | None = None

    def occupy(self, space: _Space) -> None:
        space.segments.append((self.x1, self.y1, self.x2, self.y2, self.reach))
        # the arrow head or the cross at the end, and the start on the sender's lane
        space.boxes.append(_around(self.x2, self.y2, 7))
        space.boxes.append(_around(self.x1, self.y1, 3))

    def _beside(self, cx: float, w: float, h: float, above: bool, off: float = 0.0) -> Box:
        """A w x h box centred at x = cx just above (or below) the line, ``off`` further away."""
        lo, hi = sorted((self.x1, self.x2))

        def line_y(x: float) -> float:
            x = min(max(x, lo), hi)
            return self.y1 + (x - self.x1) * (self.y2 - self.y1) / (self.x2 - self.x1)

        a, b = line_y(cx - w / 2), line_y(cx + w / 2)
        gap = self.reach + 1.0 + off
        if above:
            bottom = min(a, b) - gap
            return (cx - w / 2, bottom - h, cx + w / 2, bottom)
        top = max(a, b) + gap
        return (cx - w / 2, top, cx + w / 2, top + h)

    def place_label(self, space: _Space) -> None:
        w, h = _size(self.label, 11, self.m.esp, extra=14 if self.m.esp else 0)
        dx = self.x2 - self.x1
        near: list[float] = []   # x centres of the label along the arrow, by preference
        far: list[float] = []
        if self.m.ike:
            # IKE: about the middle of the arrow
            near = [self.x1 + f * dx for f in (0.5, 0.38, 0.62, 0.26, 0.74, 0.15, 0.85, 0.08, 0.92)]
        else:
            # TCP: just past the sender's lane (where the segment starts), then further on (up
            # to the receiver's lane: a short stub's label may stand past the stub's end)
            sign = 1 if dx > 0 else -1
            reach = abs(LANE_X[self.m.dst_lane] - self.x1)
            for d in (10, 36, 70, 110, 160, 220, 290, 370, 450):
                if (near or far) and d + w > reach + 10:
                    break
                (near if d <= 70 else far).append(self.x1 + sign * (d + w / 2))
        # touching the line near its start; then (TCP) beside the sender's lane on its outer
        # side, where no arrow runs; then touching the line further on; then one or two label
        # heights off the line
        cands = [self._beside(cx, w, h, above) for cx in near for above in (True, False)]
        if not self.m.ike:
            x0 = self.x1 - 8 - w if self.m.sender == "client" else self.x1 + 8
            cands += [(x0, top, x0 + w, top + h) for top in (self.y1 - h / 2, self.y1 - h - 3, self.y1 + 3)]
        cands += [self._beside(cx, w, h, above) for cx in far for above in (True, False)]
        cands += [self._beside(cx, w, h, above, k * (h + 2))
                  for k in range(1, 16) for cx in near + far for above in (True, False)]
        self.label_box = space.place(cands)

    def place_fate(self, space: _Space) -> None:
        if not self.fate_text:
            return
        w, h = _size(self.fate_text, 10)
        x, y = self.x2, self.y2
        ahead = 1 if x >= self.x1 else -1

        def box(side: int, top: float) -> Box:
            x0 = x + 9 if side > 0 else x - 9 - w
            return (x0, top, x0 + w, top + h)

        cands = []
        for side in (ahead, -ahead):
            cands += [box(side, y - h / 2), box(side, y + 6), box(side, y - 6 - h)]
        for k in range(1, 4):
            for side in (ahead, -ahead):
                cands += [box(side, y + 6 + k * (h + 1)), box(side, y - 6 - h - k * (h + 1))]
        # "in flight" only repeats what the dotted stub says: left out where it has no room
        self.fate_box = space.place_free(cands) if self.m.fate == "in flight" else space.place(cands)

    def svg(self, space: _Space) -> str:
        m = self.m
        cls = "msg " + ("ike" if m.ike else ("esp" if m.esp else "clear")) + " " + m.fate.replace(" ", "-")
        title = f"{m.wire}: sent at step {m.sent}" + (
            f", {m.fate} at step {m.ended}" if m.ended else ", still in flight") + (
            f" ({m.rule})" if m.rule else "") + (" [network duplicate]" if m.duplicate else "")
        parts = [f'<g{_a(**{"class": cls})}><title>{escape(title)}</title>',
                 f"<line{_a(x1=f'{self.x1:.1f}', y1=f'{self.y1:.1f}', x2=f'{self.x2:.1f}', y2=f'{self.y2:.1f}', stroke=self.color, stroke_width=self.width, stroke_dasharray=self.dash, marker_end=self.head)}/>"]
        if self.label_box is not None:
            color = ESP if m.esp else "#222"
            parts.append(_label(self.label_box, self.label, 11, color, "bold" if m.esp else None,
                                indent=14 if m.esp else 0, bg=space.background(self.label_box)))
            if m.esp:
                x0, _, _, y1 = self.label_box
                parts.append(_lock(x0 + PAD_X, y1 - PAD_Y - 8, ESP))
        parts.append(self.end_mark)
        if self.fate_box is not None:
            parts.append(_label(self.fate_box, self.fate_text, 10,
                                RED if m.fate in ("dropped", "lost") else "#777",
                                bg=space.background(self.fate_box)))
        parts.append("</g>")
        return "".join(parts)


# ---- notes ---------------------------------------------------------------------------------

def _note(n: Note, space: _Space) -> str:
    """A note at its step's row, in the first free place near it."""
    host = n.lanes[0].split(".")[0]
    y = _y(n.step)
    if n.kind in ("success", "failure", "loop") and len(n.lanes) > 1:
        fill, stroke = {"success": ("#e8f5e9", "#2e7d32"), "failure": ("#ffebee", "#c62828"),
                        "loop": ("#f3e5f5", "#7b1fa2")}[n.kind]
        w = text_width(n.text, 12, True) + 16
        cx = (LANE_X[n.lanes[0]] + LANE_X[n.lanes[-1]]) / 2
        # just below the row first; then a little lower, above the row, a little aside
        # (further off where both hosts' negotiations fill the IKE lanes, A-13)
        places = sorted(((dy, sx) for dy in [*range(3, 70, 2), *range(-21, -56, -2)]
                         for sx in range(-260, 261, 20)),
                        key=lambda p: (p[0] - 3 if p[0] > 0 else 12 - p[0]) + abs(p[1]) / 5)
        cands = [(cx + sx - w / 2, y + dy, cx + sx + w / 2, y + dy + 18) for dy, sx in places]
        x0, y0, x1, _ = space.place(cands)
        return (f'<g class="note {n.kind}">'
                f"<rect{_a(x=f'{x0:.1f}', y=f'{y0:.1f}', width=f'{x1 - x0:.1f}', height=18, rx=4, fill=fill, stroke=stroke, stroke_width=1.5, fill_opacity=0.95)}/>"
                + _text((x0 + x1) / 2, y0 + 13, n.text, 12, "middle", stroke, "bold") + "</g>")
    if n.kind == "held":
        # "DATA1 held (ND-10/held)" on one line, or on two where one does not fit
        x = LANE_X[f"{host}.tcp"]
        head, _, rule = n.text.partition(" (")
        forms = [[n.text], [head, f"({rule}"]] if rule else [[n.text]]
        places = sorted(((dy, sx) for dy in [*range(2, 31, 2), *range(-18, -31, -2)]
                         for sx in range(0, 161, 10)),
                        key=lambda p: (p[0] - 2 if p[0] > 0 else 10 - p[0]) + p[1] / 5)
        cands: list[Box] = []
        for lines in forms:
            w = max(text_width(line, 10.5) for line in lines) + 12
            h = 4 + 12 * len(lines)
            for dy, sx in places:
                x0 = x + 6 + sx if host == "client" else x - 6 - sx - w
                top = y + dy - (h - 16 if dy < 0 else 0)   # above the row: grow upwards
                cands.append((x0, top, x0 + w, top + h))
        x0, y0, x1, y1 = space.place(cands)
        lines = forms[0] if y1 - y0 < 20 else forms[-1]
        return ('<g class="note held">'
                + _rect((x0, y0, x1, y1), rx=3, fill="#fff3e0", stroke=HELD, stroke_width=1.2)
                + "".join(_text((x0 + x1) / 2, y0 + 12 + 12 * j, line, 10.5, "middle", HELD)
                          for j, line in enumerate(lines)) + "</g>")
    # small tags (Secure flag, TCP milestones, duplicates): a dot on the lane, the text outside
    # the TCP lanes where no arrow runs (or, when it does not fit there, beside the dot)
    color = {"secure": SECURE, "tcp": "#444", "dup": "#7b1fa2", "failure": "#c62828",
             "success": "#2e7d32"}.get(n.kind, "#444")
    lane_x = LANE_X[n.lanes[0]]
    dot = f"<circle{_a(cx=lane_x, cy=f'{y:.1f}', r=3.5, fill=color)}/>"
    w, h = _size(n.text, 9.5)
    outer = LANE_X[f"{host}.tcp"] + (-8 if host == "client" else 8)
    cands = []
    for dy in (0, 13, -13, 26, -26, 39, -39, 52):
        top = y + dy - h / 2
        x0 = outer - w if host == "client" else outer
        cands.append((x0, top, x0 + w, top + h))
    for dy in (0, 13, -13, 26, -26, 39, -39, 52):
        top = y + dy - h / 2
        cands += [(lane_x + 7, top, lane_x + 7 + w, top + h), (lane_x - 7 - w, top, lane_x - 7, top + h)]
    box = space.place(cands)
    return (f'<g{_a(**{"class": "note " + n.kind})}>' + dot
            + _label(box, n.text, 9.5, color, bg=space.background(box)) + "</g>")


# ---- the marked step, the action column, the legend ------------------------------------------

def _badge(mark: Mark, y: float) -> str:
    """The marked step's badge at the start of its action (first line's baseline ``y``)."""
    _, accent = MARK_COLORS[mark.kind]
    return ('<g class="badge">'
            + _rect((ACTION_X, y - 11, ACTION_X + _badge_width(mark), y + 4), rx=7.5, fill=accent)
            + _text(ACTION_X + 6, y, mark.text, 10, fill="#ffffff", weight="bold") + "</g>")


def _badge_width(mark: Mark) -> float:
    return text_width(mark.text, 10, True) + 12


def _band(mark: Mark) -> str:
    """A highlighted band across the marked step's row, under everything else."""
    fill, accent = MARK_COLORS[mark.kind]
    y = _y(mark.step)
    return (f'<g{_a(**{"class": f"mark {mark.kind}"})}>'
            f"<rect{_a(x=30, y=f'{y - ROW / 2:.1f}', width=WIDTH - 50, height=ROW, fill=fill)}/>"
            f"<rect{_a(x=30, y=f'{y - ROW / 2:.1f}', width=4, height=ROW, fill=accent)}/></g>")


def _action(step: int, action: str, mark: Mark | None, fill: str = "#444") -> str:
    """A step's full action, wrapped in the action column (after the badge on the marked step);
    the row's ``<title>`` holds it too (a tooltip)."""
    marked = mark is not None and mark.step == step
    indent = _badge_width(mark) + 8 if marked and mark is not None else 0.0
    lines = _wrap(action, 9.5, [ACTION_W - indent, ACTION_W])
    base = _y(step) + 4 - (len(lines) - 1) * LINE / 2
    out = [f'<g{_a(**{"class": "action", "data-step": step})}><title>{escape(action)}</title>']
    if marked and mark is not None:
        out.append(_badge(mark, base))
    for j, line in enumerate(lines):
        out.append(_text(ACTION_X + (indent if j == 0 else 0), base + j * LINE, line, 9.5, fill=fill))
    out.append("</g>")
    return "".join(out)


def _legend(y0: float) -> str:
    out = ['<g class="legend">',
           f"<rect{_a(x=40, y=f'{y0:.1f}', width=1220, height=92, fill='#fafafa', stroke='#bbb', rx=4)}/>",
           _text(52, y0 + 18, "Legend", 12, weight="bold")]
    y1, y2 = y0 + 42, y0 + 74
    # row 1: three arrow kinds
    out.append(f"<line{_a(x1=60, y1=y1, x2=140, y2=y1, stroke=CLEAR, stroke_width=1.3, stroke_dasharray='7 4', marker_end='url(#head-clear)')}/>")
    out.append(_text(150, y1 + 4, "cleartext TCP segment", 11))
    out.append(f"<line{_a(x1=320, y1=y1, x2=400, y2=y1, stroke=ESP, stroke_width=3.4, marker_end='url(#head-esp)')}/>")
    out.append(_lock(406, y1 - 4, ESP))
    out.append(_text(422, y1 + 4, "ESP-protected TCP segment", 11, fill=ESP, weight="bold"))
    out.append(f"<line{_a(x1=620, y1=y1, x2=700, y2=y1, stroke=IKE, stroke_width=1.5, marker_end='url(#head-ike)')}/>")
    out.append(_text(710, y1 + 4, "IKE message (MM1..MM6, QM1..QM3, CONNECTED, NOTIFY)", 11))
    # row 2: fates and notes
    out.append(_cross(66, y2))
    out.append(_text(78, y2 + 4, "dropped by an ND filter / lost in the network", 11, fill=RED))
    out.append(f"<line{_a(x1=350, y1=y2, x2=400, y2=y2, stroke=CLEAR, stroke_width=1.3, stroke_dasharray='2 4')}/>")
    out.append(_text(408, y2 + 4, "still in flight", 11, fill="#777"))
    out.append(f"<rect{_a(x=510, y=y2 - 9, width=64, height=16, rx=3, fill='#fff3e0', stroke=HELD)}/>")
    out.append(_text(542, y2 + 3, "held", 10.5, "middle", HELD))
    out.append(_text(580, y2 + 4, "packet held (ND-10)", 11))
    out.append(f"<rect{_a(x=730, y=y2 - 9, width=40, height=16, rx=3, fill='#e8f5e9', stroke='#2e7d32')}/>")
    out.append(f"<rect{_a(x=774, y=y2 - 9, width=40, height=16, rx=3, fill='#ffebee', stroke='#c62828')}/>")
    out.append(_text(822, y2 + 4, "IPsec negotiation succeeded / failed", 11))
    out.append(f"<circle{_a(cx=1060, cy=y2, r=3.5, fill=SECURE)}/>")
    out.append(_text(1068, y2 + 4, "flow Secure := 1", 11, fill=SECURE))
    out.append("</g>")
    return "".join(out)


# ---- the chart ---------------------------------------------------------------------------------

def svg_from_chart(c: Chart) -> str:
    n = c.n_steps
    what = c.kind + (f" of {c.property}" if c.property else "")
    mark = c.mark
    # lay out: arrows first, then the labels in the free places near what they describe
    band = None
    if mark is not None:
        band = (_y(mark.step) - ROW / 2, _y(mark.step) + ROW / 2, MARK_COLORS[mark.kind][0])
    space = _Space(band)
    arrows = [_Arrow(m) for m in c.messages]
    for a in arrows:
        a.occupy(space)
    for note in c.notes:   # the dots of the small tags
        if note.kind in ("secure", "tcp", "dup") or (note.kind in ("success", "failure") and len(note.lanes) == 1):
            space.boxes.append(_around(LANE_X[note.lanes[0]], _y(note.step), 5))
    drawn_notes = [note for note in c.notes if note.kind != "loop" or c.loop_start == n]
    big = [note for note in drawn_notes if note.kind in ("success", "failure", "loop", "held")
           and (note.kind == "held" or len(note.lanes) > 1)]
    notes_svg = {id(note): _note(note, space) for note in big}
    for a in arrows:
        a.place_fate(space)
    for a in arrows:
        a.place_label(space)
    for note in drawn_notes:
        if id(note) not in notes_svg:
            notes_svg[id(note)] = _note(note, space)
    bottom = max([_y(n) + ROW + 10] + [b[3] + 8 for b in space.boxes])
    height = bottom + 120

    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<svg xmlns="http://www.w3.org/2000/svg"{_a(width=WIDTH, height=f"{height:.0f}", viewBox=f"0 0 {WIDTH} {height:.0f}", font_family="Helvetica, Arial, sans-serif")}>',
           f"<title>{escape(f'{c.scenario}: {what}')}</title>",
           f"<desc>{escape(f'Message sequence chart of a {n}-step trace of scenario {c.scenario}, replayed through the model and the machine instances.')}</desc>",
           "<defs>"]
    for mid, color in (("head-clear", CLEAR), ("head-esp", ESP), ("head-ike", IKE)):
        out.append(f'<marker{_a(id=mid, viewBox="0 0 10 10", refX=9, refY=5, markerWidth=11, markerHeight=11, markerUnits="userSpaceOnUse", orient="auto")}>'
                   f"<path{_a(d='M0,0 L10,5 L0,10 z', fill=color)}/></marker>")
    out.append("</defs>")
    out.append(f"<rect{_a(width='100%', height='100%', fill='#fff')}/>")
    if mark is not None:
        out.append(_band(mark))
    out.append(_text(40, 28, f"{c.scenario}: {what}", 16, weight="bold"))
    out.append(_text(40, 48, f"{n} step{'s' if n != 1 else ''}, replayed through the IR and the "
                             f"python-statemachine instances; time flows down", 11, fill="#555"))
    # lanes
    for lane in LANES:
        x = LANE_X[lane]
        out.append(f"<rect{_a(x=x - 78, y=62, width=156, height=28, rx=4, fill='#eef2f7', stroke='#5b6b7f')}/>")
        out.append(_text(x, 81, LANE_TITLES[lane], 12.5, "middle", weight="bold"))
        out.append(f"<line{_a(x1=x, y1=90, x2=x, y2=f'{bottom:.1f}', stroke='#8a94a3', stroke_width=1.2)}/>")
    out.append(_text(ACTION_X, 81, "step action", 11, fill="#555", weight="bold"))
    # rows: step numbers, then the full actions
    out.append('<g class="rows">')
    for i in range(n + 1):
        marked = mark is not None and mark.step == i
        color = MARK_COLORS[mark.kind][1] if marked and mark is not None else ("#888" if i == 0 else "#333")
        out.append(_text(52, _y(i) + 4, str(i), 10.5 if i else 10, "end", color,
                         "bold" if marked else None))
    for i in range(1, n + 1):
        y = _y(i)
        out.append(f"<line{_a(x1=58, y1=f'{y:.1f}', x2=WIDTH - 20, y2=f'{y:.1f}', stroke='#eee', stroke_width=1)}/>")
    out.append(_action(0, "initial state", mark, "#888"))
    for i, action in enumerate(c.actions, 1):
        out.append(_action(i, action, mark))
    out.append("</g>")
    if c.loop_start is not None and c.loop_start < n:
        y1, y2 = _y(c.loop_start + 1) - ROW / 2, _y(n) + ROW / 2
        out.append(f'<g class="loop"><path{_a(d=f"M30,{y1:.1f} h-8 V{y2:.1f} h8", fill="none", stroke="#7b1fa2", stroke_width=2)}/>'
                   + f'<g transform="rotate(-90 14 {(y1 + y2) / 2:.1f})">'
                   + _text(14, (y1 + y2) / 2 - 4, "cycle", 10, "middle", "#7b1fa2") + "</g></g>")
    # messages, then notes on top
    out.append('<g class="messages">')
    out.extend(a.svg(space) for a in arrows)
    out.append("</g>")
    out.append('<g class="notes">')
    out.extend(notes_svg[id(note)] for note in drawn_notes)
    out.append("</g>")
    out.append(_legend(bottom + 14))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render_svg(trace: Trace, system: System) -> str:
    """The trace as a standalone SVG document (UTF-8 text)."""
    return svg_from_chart(chart(trace, system))
