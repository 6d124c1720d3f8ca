"""SVG message sequence chart of a trace, drawn like figures 7 and 8 of MS-IKEE §3.7.

Written directly as SVG text (no graphviz).  Four labelled lanes, left to right: client TCP,
client IPsec/IKE, server IPsec/IKE, server TCP.  Time flows down, one row per step (numbered on
the left, the action on the right).  A packet is a slanted arrow from the row of the step that
sent it to the row of the step that consumed it (see :mod:`ndcheck.traces.msc`):

* cleartext TCP segments: thin dashed black arrows between the TCP lanes;
* ESP-protected TCP segments: thick green arrows with a lock and "ESP";
* IKE messages (MM1..QM3, CONNECTED, NOTIFY, ICMP): solid grey arrows between the IKE lanes;
* a segment dropped by the receiver's ND inbound filter (ND-17, ND-18, ND-19) ends in a red ×
  on the receiver's IPsec lane with the rule row; a packet lost by the network ends in a red ×
  half-way; a packet still in flight at the end of the trace fades out below the last row;
* boxes mark held packets (ND-10, ND-15), the negotiation outcome ("IPsec Successful
  Negotiation", "IPsec Unsuccessful Negotiation"), and small tags the Secure flag and TCP
  milestones.  A legend explains the marks.

>>> import xml.etree.ElementTree as ET
>>> from ndcheck import CATALOG, build_system, explore
>>> from ndcheck.traces.trace import trace_to_state
>>> system = build_system(CATALOG["fig19-require-inbound"])
>>> svg = render_svg(trace_to_state(explore(system), 2), system)
>>> ET.fromstring(svg).tag
'{http://www.w3.org/2000/svg}svg'
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

from ..model.ir import System
from ..traces.msc import LANE_TITLES, LANES, Chart, Message, Note, chart
from ..traces.trace import Trace

__all__ = ["render_svg", "svg_from_chart"]

# ---- layout --------------------------------------------------------------------------------
LANE_X = {"client.tcp": 140, "client.ike": 330, "server.ike": 530, "server.tcp": 720}
ACTION_X = 840
ROW = 34
TOP = 118          # y of step 0 (the initial state)
WIDTH = 1340

CLEAR = "#111111"
ESP = "#0b7a3e"
IKE = "#555555"
RED = "#d32f2f"
HELD = "#ef6c00"
SECURE = "#1565c0"


def _y(step: int | None) -> float:
    assert step is not None
    return TOP + step * ROW


def _a(**kw) -> str:
    """Attributes; ``stroke_width`` -> ``stroke-width``; None values are left out."""
    return "".join(f" {k.replace('_', '-')}={quoteattr(str(v))}" for k, v in kw.items() if v is not None)


def _text(x: float, y: float, s: str, size: float = 11, anchor: str = "start", fill: str = "#000",
          weight: str | None = None, halo: bool = False, cls: str | None = None) -> str:
    return (f"<text{_a(x=f'{x:.1f}', y=f'{y:.1f}', font_size=size, text_anchor=anchor, fill=fill, font_weight=weight)}"
            + (_a(stroke="#fff", stroke_width=3, paint_order="stroke", stroke_linejoin="round")
               if halo else "")
            + (_a(**{"class": cls}) if cls else "")
            + f">{escape(s)}</text>")


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


def _label(m: Message) -> str:
    name = re.sub(r"^(DATA|ACK)(\d+)$", r"\1 \2", m.internal.partition("/")[0])
    if name == "ACKF":
        name = "ACK of FIN"
    if name.startswith("ACK ") and name != "ACK of FIN":
        name = "DATA " + name  # "DATA ACK 1", as in figure 7
    if m.ike:
        return name
    return ("ESP " if m.esp else "clear ") + name


def _message(m: Message, n_steps: int) -> str:
    color, width, dash, marker = _style(m)
    x1, y1 = float(LANE_X[m.src_lane]), _y(m.sent)
    xd = float(LANE_X[m.dst_lane])
    end_mark = ""
    fate_text = ""
    head: str | None = f"url(#{marker})"
    if m.fate in ("delivered", "ignored"):
        x2, y2 = xd, _y(m.ended)
        if m.fate == "ignored":
            head = None
            end_mark = _cross(x2, y2, "#888", 4)
            fate_text = "ignored (no IKE stack)"
    elif m.fate == "dropped":
        x2 = float(LANE_X[f"{m.receiver}.ike"]) if not m.ike else xd
        y2 = _y(m.ended)
        head = None
        end_mark = _cross(x2, y2)
        fate_text = f"dropped ({m.rule})" if m.rule else "dropped"
    elif m.fate == "lost":
        x2, y2 = x1 + 0.5 * (xd - x1), _y(m.ended)
        head = None
        end_mark = _cross(x2, y2)
        fate_text = "lost"
    else:  # in flight at the end of the trace
        # a short stub: the packet left, nothing consumed it before the trace ended
        x2, y2 = x1 + 0.3 * (xd - x1), y1 + 0.8 * ROW
        head = None
        dash = "2 4"
        fate_text = "… in flight"
    cls = "msg " + ("ike" if m.ike else ("esp" if m.esp else "clear")) + " " + m.fate.replace(" ", "-")
    title = f"{m.wire}: sent at step {m.sent}" + (
        f", {m.fate} at step {m.ended}" if m.ended else ", still in flight") + (
        f" ({m.rule})" if m.rule else "") + (" [network duplicate]" if m.duplicate else "")
    parts = [f'<g{_a(**{"class": cls})}><title>{escape(title)}</title>',
             f"<line{_a(x1=f'{x1:.1f}', y1=f'{y1:.1f}', x2=f'{x2:.1f}', y2=f'{y2:.1f}', stroke=color, stroke_width=width, stroke_dasharray=dash, marker_end=head)}/>"]
    # IKE labels at the middle of the arrow; TCP labels just above the arrow's start, beside
    # the sender's lane (one step sends at most one TCP segment, so they never pile up)
    label = _label(m) + (" (dup)" if m.duplicate else "")
    lcolor = ESP if m.esp else "#222"
    weight = "bold" if m.esp else None
    if m.ike:
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2 - 4
        parts.append(_text(mx, my, label, 11, "middle", lcolor, weight, halo=True))
    else:
        right = xd > x1
        lx, ly = x1 + (14 if right else -14), y1 - 6
        if m.esp:
            parts.append(_lock(lx if right else lx - 10, ly - 8, ESP))
            lx += 14 if right else -14
        parts.append(_text(lx, ly, label, 11, "start" if right else "end", lcolor, weight, halo=True))
    parts.append(end_mark)
    if fate_text:
        right = x2 >= x1
        tx = x2 + (8 if right else -8)
        parts.append(_text(tx, y2 + 4, fate_text, 10, "start" if right else "end",
                           RED if m.fate in ("dropped", "lost") else "#777", halo=True))
    parts.append("</g>")
    return "".join(parts)


def _note(n: Note, offsets: dict) -> str:
    """A note at its step's row; notes sharing a place are stacked (``offsets`` remembers)."""
    host = n.lanes[0].split(".")[0]
    box = n.kind in ("success", "failure", "loop") and len(n.lanes) > 1
    place = (n.step, "box") if box else (n.step, host, "held" if n.kind == "held" else "tag")
    dy = offsets.get(place, 0)
    offsets[place] = dy + (20 if box or n.kind == "held" else 12)
    y = _y(n.step) + dy
    if box:
        x1, x2 = LANE_X[n.lanes[0]] - 10, LANE_X[n.lanes[-1]] + 10
        fill, stroke = {"success": ("#e8f5e9", "#2e7d32"), "failure": ("#ffebee", "#c62828"),
                        "loop": ("#f3e5f5", "#7b1fa2")}[n.kind]
        return (f'<g class="note {n.kind}">'
                f"<rect{_a(x=f'{x1:.1f}', y=f'{y + 3:.1f}', width=f'{x2 - x1:.1f}', height=18, rx=4, fill=fill, stroke=stroke, stroke_width=1.5, fill_opacity=0.95)}/>"
                + _text((x1 + x2) / 2, y + 16, n.text, 12, "middle", stroke, "bold") + "</g>")
    if n.kind == "held":
        x = LANE_X[f"{host}.tcp"]
        w = 6.2 * len(n.text) + 12
        rx = x + 6 if host == "client" else x - 6 - w
        return (f'<g class="note held">'
                f"<rect{_a(x=f'{rx:.1f}', y=f'{y + 2:.1f}', width=f'{w:.1f}', height=16, rx=3, fill='#fff3e0', stroke=HELD, stroke_width=1.2)}/>"
                + _text(rx + w / 2, y + 14, n.text, 10.5, "middle", HELD) + "</g>")
    # small tags (Secure flag, TCP milestones, duplicates): a dot on the lane, the text outside
    # the TCP lanes where no arrow runs
    color = {"secure": SECURE, "tcp": "#444", "dup": "#7b1fa2", "failure": "#c62828"}.get(n.kind, "#444")
    dot = f"<circle{_a(cx=LANE_X[n.lanes[0]], cy=f'{_y(n.step):.1f}', r=3.5, fill=color)}/>"
    outer = LANE_X[f"{host}.tcp"] + (-8 if host == "client" else 8)
    return (f'<g{_a(**{"class": "note " + n.kind})}>' + dot
            + _text(outer, y + 4, n.text, 9.5, "end" if host == "client" else "start", color, halo=True)
            + "</g>")


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


def svg_from_chart(c: Chart) -> str:
    n = c.n_steps
    bottom = _y(n) + ROW + 10
    height = bottom + 120
    what = c.kind + (f" of {c.property}" if c.property else "")
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
    # rows
    out.append('<g class="rows">')
    out.append(_text(52, _y(0) + 4, "0", 10, "end", "#888"))
    out.append(_text(ACTION_X, _y(0) + 4, "initial state", 10, fill="#888"))
    for i, action in enumerate(c.actions, 1):
        y = _y(i)
        out.append(f"<line{_a(x1=58, y1=f'{y:.1f}', x2=WIDTH - 20, y2=f'{y:.1f}', stroke='#eee', stroke_width=1)}/>")
        out.append(_text(52, y + 4, str(i), 10.5, "end", "#333"))
        short = action if len(action) <= 82 else action[:80] + "…"
        out.append(f"<g><title>{escape(action)}</title>{_text(ACTION_X, y + 4, short, 9.5, fill='#444')}</g>")
    out.append("</g>")
    if c.loop_start is not None and c.loop_start < n:
        y1, y2 = _y(c.loop_start + 1) - ROW / 2, _y(n) + ROW / 2
        out.append(f'<g class="loop"><path{_a(d=f"M30,{y1:.1f} h-8 V{y2:.1f} h8", fill="none", stroke="#7b1fa2", stroke_width=2)}/>'
                   + _text(14, (y1 + y2) / 2, "cycle", 10, "middle", "#7b1fa2") + "</g>")
    # messages, then notes on top
    out.append('<g class="messages">')
    for m in c.messages:
        out.append(_message(m, n))
    out.append("</g>")
    out.append('<g class="notes">')
    offsets: dict = {}
    for note in c.notes:
        if note.kind != "loop" or c.loop_start == n:
            out.append(_note(note, offsets))
    out.append("</g>")
    out.append(_legend(bottom + 14))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render_svg(trace: Trace, system: System) -> str:
    """The trace as a standalone SVG document (UTF-8 text)."""
    return svg_from_chart(chart(trace, system))
