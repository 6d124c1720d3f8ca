"""Mermaid ``sequenceDiagram`` rendering of a trace, laid out like figures 7 and 8 of MS-IKEE §3.7.

Four participants, left to right: client TCP, client IPsec/IKE, server IPsec/IKE, server TCP.
TCP segments run between the TCP lanes and IKE messages between the IKE lanes; each arrow is
drawn at the step that sent it and its text starts with that step number.  Cleartext segments
are dotted arrows (``-->>``) labelled ``clear``; ESP segments are solid open arrows (``-)``)
labelled ``ESP``; IKE messages are solid arrows (``->>``).  A packet that never arrives (dropped
by an ND inbound filter, lost by the network) ends in a cross (``--x`` / ``-x``) and a note at
the step where it vanished; held packets, the negotiation outcome ("IPsec Successful
Negotiation" / "IPsec Unsuccessful Negotiation"), Secure flags and TCP milestones are notes.
The step to look at first (:func:`ndcheck.traces.msc.mark_of`: the violating step of a
counterexample, the first step of a lasso's cycle, the last step of a witness) is wrapped in a
coloured ``rect`` block whose note names the property and the step's full action.

>>> from ndcheck import CATALOG, build_system, explore
>>> from ndcheck.traces.trace import trace_to_state
>>> system = build_system(CATALOG["fig19-require-inbound"])
>>> text = render_mermaid(trace_to_state(explore(system), 3), system)
>>> print(text[text.index("sequenceDiagram"):])
sequenceDiagram
    participant cT as client TCP
    participant cI as client IPsec/IKE
    participant sI as server IPsec/IKE
    participant sT as server TCP
    cT--xsT: 1 SYN clear (dropped at step 2)
    cI->>sI: 1 MM1 (still in flight)
    rect rgb(255, 228, 225)
    Note over sI: 2 SYN clear dropped by ND-17/drop-new
    Note over cT,sT: 2 violating step<br/>server.nd.drop[SYN clear: ND-17/drop-new]
    end
<BLANKLINE>
"""

from __future__ import annotations

import textwrap

from ..model.ir import System
from ..traces.msc import LANE_TITLES, LANES, Chart, Mark, Message, chart
from ..traces.trace import Trace

__all__ = ["mermaid_from_chart", "render_mermaid"]

_IDS = {"client.tcp": "cT", "client.ike": "cI", "server.ike": "sI", "server.tcp": "sT"}
#: background of the marked step's ``rect`` block, by mark kind
MARK_RGB = {"violation": "rgb(255, 228, 225)", "witness": "rgb(226, 244, 228)", "loop": "rgb(243, 229, 245)"}


def _safe(text: str) -> str:
    """Mermaid message text: no statement separators, comment or entity characters."""
    return (text.replace(";", ",").replace("#", "no.").replace("%%", "%").replace("\n", " ")
            .replace("<", "(").replace(">", ")"))


def _arrow(m: Message) -> str:
    lost = m.fate in ("dropped", "lost")
    if m.ike:
        return "-x" if lost else "->>"
    if m.esp:
        return "-x" if lost else "-)"
    return "--x" if lost else "-->>"


def _text(m: Message) -> str:
    name = m.label.replace(" esp", "").replace(" clear", "")
    if m.ike:
        body = name
    elif m.esp:
        body = f"{name} ESP"
    else:
        body = f"{name} clear"
    extra = []
    if m.duplicate:
        extra.append("network duplicate")
    if m.fate in ("dropped", "lost"):
        extra.append(f"{m.fate} at step {m.ended}")
    elif m.fate == "ignored":
        extra.append(f"ignored at step {m.ended}, no IKE stack")
    elif m.fate == "in flight":
        extra.append("still in flight")
    return f"{m.sent} {body}" + (f" ({', '.join(extra)})" if extra else "")


def _mark_note(mark: Mark, action: str | None) -> str:
    """The marked step's note: step number, why it is marked, its full action (wrapped)."""
    text = f"{mark.step} {_safe(mark.text)}"
    lines = textwrap.wrap(_safe(action), 64, break_long_words=False, break_on_hyphens=False) \
        if action else ["the initial state"]
    return f"    Note over {_IDS[LANES[0]]},{_IDS[LANES[-1]]}: " + "<br/>".join([text, *lines])


def mermaid_from_chart(c: Chart) -> str:
    what = c.kind + (f" of {c.property}" if c.property else "")
    title = _safe(f"{c.scenario} - {what}").replace("\\", "/").replace('"', "'")
    lines = ["---", f'title: "{title}"', "---", "sequenceDiagram"]
    for lane in LANES:
        lines.append(f"    participant {_IDS[lane]} as {LANE_TITLES[lane]}")
    first = c.loop_start + 1 if c.loop_start is not None else None
    cycle = first is not None and first <= c.n_steps
    mark = c.mark
    if mark is not None and mark.step == 0:
        lines += [f"    rect {MARK_RGB[mark.kind]}", _mark_note(mark, None), "    end"]
    for i in range(1, c.n_steps + 1):
        if cycle and i == first:
            lines.append("    loop repeats forever")
        marked = mark is not None and mark.step == i
        if marked:
            lines.append(f"    rect {MARK_RGB[mark.kind]}")
        for m in c.ended_at(i):
            if m.fate == "dropped":
                lines.append(f"    Note over {_IDS[lane_ipsec(m.receiver)]}: {i} "
                             f"{_safe(m.label)} dropped by {_safe(m.rule)}")
            elif m.fate == "lost":
                a, b = _IDS[m.src_lane], _IDS[m.dst_lane]
                lines.append(f"    Note over {a},{b}: {i} {_safe(m.label)} lost in the network")
        for m in c.messages_sent_at(i):
            lines.append(f"    {_IDS[m.src_lane]}{_arrow(m)}{_IDS[m.dst_lane]}: {_safe(_text(m))}")
        for n in c.notes_at(i):
            if n.kind == "loop" and cycle:
                continue  # drawn as the loop block
            ids = [_IDS[x] for x in n.lanes]
            over = ids[0] if len(ids) == 1 else f"{ids[0]},{ids[-1]}"
            lines.append(f"    Note over {over}: {i} {_safe(n.text)}")
        if marked:
            lines += [_mark_note(mark, c.actions[i - 1]), "    end"]
    if cycle:
        lines.append("    end")
    return "\n".join(lines) + "\n"


def lane_ipsec(host: str) -> str:
    return f"{host}.ike"


def render_mermaid(trace: Trace, system: System) -> str:
    """The trace as Mermaid ``sequenceDiagram`` source (paste into any Mermaid viewer)."""
    return mermaid_from_chart(chart(trace, system))
