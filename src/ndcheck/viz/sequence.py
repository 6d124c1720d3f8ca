"""Message sequence charts of traces for notebooks, laid out like figures 7 and 8 of MS-IKEE §3.7.

The reading of a trace as packets (which step sent and which consumed each copy, and how) is
:func:`ndcheck.traces.msc.chart`; this module only draws it.  :func:`show_trace` prefers the
project's SVG renderer (``ndcheck.reports.svg``); with ``prefer="matplotlib"`` it uses
:func:`draw_chart`, a matplotlib drawing with the same conventions:

* four lanes, left to right: client TCP, client IPsec/IKE, server IPsec/IKE, server TCP;
* IKE messages are blue arrows between the IKE lanes; cleartext TCP segments are thin dashed
  orange arrows labelled ``clear``; ESP segments are thick solid green arrows labelled ``ESP``;
* an arrow runs from the step that sent the packet to the step that consumed it; a packet dropped
  by an ND inbound filter ends in a red cross with the rule row, a packet lost by the network in
  a red cross mid-way, a packet still in flight in a dotted stub;
* notes: "IPsec Successful/Unsuccessful Negotiation" (green/red), held segments (ND-10/ND-15),
  Secure := 1, TCP milestones, and for a lasso the repeating cycle as a shaded band.
"""

from __future__ import annotations

from ..traces.msc import LANE_TITLES, LANES, chart
from .tables import Table

__all__ = ["STYLE", "draw_chart", "show_trace", "steps_table", "svg_renderer"]

X = {"client.tcp": 0.0, "client.ike": 1.0, "server.ike": 3.0, "server.tcp": 4.0}

#: Line styles per packet class (used by the legend and by tests).
STYLE = {
    "ike": {"color": "#2b59a8", "lw": 1.4, "ls": "-"},
    "clear": {"color": "#e6550d", "lw": 1.2, "ls": (0, (5, 3))},
    "esp": {"color": "#1a9641", "lw": 3.0, "ls": "-"},
}
NOTE_COLORS = {
    "success": ("#e5f5e0", "#1a9641"), "failure": ("#fde0dd", "#cb181d"),
    "held": ("#fff2cc", "#d08c00"), "secure": ("#efe6f7", "#6a3d9a"),
    "tcp": ("#f0f0f0", "#444444"), "dup": ("#f0f0f0", "#777777"), "loop": ("#fff7bc", "#b8860b"),
}


def svg_renderer():
    """The project's SVG renderer ``render_svg(trace, system) -> str``."""
    from ..reports.svg import render_svg
    return render_svg


def _style(m) -> dict:
    return STYLE["ike"] if m.ike else STYLE["esp"] if m.esp else STYLE["clear"]


def draw_chart(trace, system=None, ax=None, title: str | None = None):
    """Draw a replayed trace as a message sequence chart with matplotlib; returns the Figure.

    ``system`` defaults to the built-in scenario the trace names.
    """
    if system is None:
        system = _system_for(trace)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from ._figure import new_axes

    c = chart(trace, system)
    n = max(c.n_steps, 1)
    if ax is None:
        fig, ax = new_axes((11, 1.8 + 0.36 * n))
    else:
        fig = ax.figure
    end_y = n + 0.8
    for lane in LANES:
        ax.plot([X[lane], X[lane]], [0.3, end_y], color="#999999", lw=1, zorder=1)
    if c.loop_start is not None:
        ax.axhspan(c.loop_start + 0.5, n + 0.5, color=NOTE_COLORS["loop"][0], zorder=0)
        ax.text(5.6, c.loop_start + 0.6, "cycle: repeats\nforever (fair\nbottom SCC)",
                fontsize=7, color=NOTE_COLORS["loop"][1], va="top")
    for m in c.messages:
        st = _style(m)
        x0, x1 = X[m.src_lane], X[m.dst_lane]
        y0 = m.sent
        if m.fate in ("delivered", "dropped", "ignored"):
            xe, ye = x1, m.ended
        elif m.fate == "lost":
            xe, ye = (x0 + x1) / 2, m.ended
        else:  # in flight at the end of the trace
            xe, ye = x0 + (x1 - x0) * 0.35, y0 + 0.45
        ls = st["ls"] if m.fate != "in flight" else ":"
        ax.annotate("", xy=(xe, ye), xytext=(x0, y0),
                    arrowprops={"arrowstyle": "-|>" if m.fate in ("delivered", "ignored") else "-",
                                "color": st["color"], "lw": st["lw"], "ls": ls,
                                "shrinkA": 0, "shrinkB": 0}, zorder=3)
        if m.fate in ("dropped", "lost"):
            ax.plot([xe], [ye], marker="X", color="#cb181d", markersize=9, zorder=5)
            what = f"dropped ({m.rule})" if m.fate == "dropped" else "lost"
            ax.text(xe + (0.08 if xe >= 2 else -0.08), ye, what, fontsize=6.5, color="#cb181d",
                    ha="left" if xe >= 2 else "right", va="center", zorder=6)
        elif m.fate == "ignored":
            ax.text(xe, ye + 0.18, "ignored (ND-26)", fontsize=6.5, color="#777777", ha="center")
        elif m.fate == "in flight":
            ax.text(xe, ye + 0.05, "in flight", fontsize=6, color="#777777", ha="center", va="top")
        t = 0.22 if m.fate != "in flight" else 0.5
        lx, ly = x0 + (xe - x0) * t, y0 + (ye - y0) * t
        text = m.label.replace(" esp", " ESP") + (" (dup)" if m.duplicate else "")
        ax.text(lx, ly, f"{m.sent}: {text}", fontsize=7, color=st["color"], ha="center",
                va="center", zorder=7, fontweight="bold" if m.esp else "normal",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.9})
    for note in c.notes:
        if note.kind == "loop":
            continue
        fc, ec = NOTE_COLORS.get(note.kind, NOTE_COLORS["tcp"])
        xs = [X[lane] for lane in note.lanes]
        x = sum(xs) / len(xs)
        if len({lane.split(".")[0] for lane in note.lanes}) == 1:
            # a note about one host goes in that host's outer margin, clear of the arrows
            x = -0.3 if note.lanes[0].startswith("client") else 4.3
        ha = "right" if x < 0 else "left" if x > 4 else "center"
        ax.text(x, note.step, note.text, fontsize=7, ha=ha, va="center", zorder=8, color=ec,
                bbox={"boxstyle": "round,pad=0.25", "fc": fc, "ec": ec, "lw": 1})
    ax.set_ylim(end_y, 0)
    ax.set_xlim(-2.4, 6.4)
    ax.set_yticks(range(1, n + 1))
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylabel("step (time flows down)")
    ax.set_xticks([X[lane] for lane in LANES])
    ax.set_xticklabels([LANE_TITLES[lane] for lane in LANES], fontsize=9, fontweight="bold")
    ax.xaxis.tick_top()
    for side in ("right", "bottom", "top"):
        ax.spines[side].set_visible(False)
    head = title or f"{c.scenario}: {c.property + ' ' if c.property else ''}{c.kind}, {c.n_steps} steps"
    ax.set_title(head, fontsize=10, pad=24)
    handles = [
        Line2D([], [], color=STYLE["ike"]["color"], lw=STYLE["ike"]["lw"], label="IKE message"),
        Line2D([], [], color=STYLE["clear"]["color"], lw=STYLE["clear"]["lw"], ls=STYLE["clear"]["ls"],
               label="TCP segment, cleartext"),
        Line2D([], [], color=STYLE["esp"]["color"], lw=STYLE["esp"]["lw"], label="TCP segment, ESP"),
        Line2D([], [], color="#cb181d", marker="X", ls="", label="dropped / lost"),
        Line2D([], [], color="#777777", ls=":", label="still in flight"),
        Patch(fc=NOTE_COLORS["success"][0], ec=NOTE_COLORS["success"][1], label="IPsec success"),
        Patch(fc=NOTE_COLORS["failure"][0], ec=NOTE_COLORS["failure"][1], label="IKE failure"),
        Patch(fc=NOTE_COLORS["held"][0], ec=NOTE_COLORS["held"][1], label="segment held (ND-10)"),
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=4, fontsize=7,
              frameon=False)
    fig.tight_layout()
    return fig


def _system_for(trace):
    from ..model.compose import build_system
    from ..model.scenario import get_scenario

    return build_system(get_scenario(trace.scenario))


def show_trace(trace, system=None, prefer: str = "svg"):
    """The best available chart of a trace: the project's SVG (``IPython.display.SVG``) when
    ``prefer="svg"`` and the renderer exists, else the matplotlib Figure of :func:`draw_chart`.

    ``system`` defaults to the built-in scenario the trace names.  ``trace=None`` (what
    ``shortest_trace`` returns when a property holds) gives a one-line message instead.
    """
    if trace is None:
        return "no trace: the property holds (or has no witness) in this scenario"
    if system is None:
        system = _system_for(trace)
    render = svg_renderer() if prefer == "svg" else None
    if render is not None:
        from IPython.display import SVG

        return SVG(render(trace, system))
    return draw_chart(trace, system)


def steps_table(trace) -> Table:
    """A trace's steps as a table: step, action, wire packets, changed fields."""
    rows = tuple((str(s.index), s.action, "; ".join(s.wire),
                  ", ".join(f"{k}={v}" for k, v in s.changes.items()))
                 for s in trace.steps)
    return Table(("step", "action", "wire", "changes"), rows,
                 f"{trace.scenario}: {trace.property or ''} {trace.kind} ({len(rows)} steps)")
