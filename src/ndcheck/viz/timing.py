"""Time in pictures: latency tables, runs on one time line, and a latency sweep plot.

Every number comes from :mod:`ndcheck.checking.latency` (explored, timed models); this module
only lays them out.

>>> from ndcheck import CATALOG
>>> t = latency_table([CATALOG["fig8-timed"]], ["tcp-established", "ike-give-up"])
>>> t.rows
(('fig8-timed', 'tcp-established', '0', '0', 'every run'), ('fig8-timed', 'ike-give-up', '60000', '60000', 'every run'))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..checking.latency import SweepPoint, latencies, step_times
from ..traces.trace import Trace
from .tables import Table

__all__ = ["draw_sweep", "draw_timeline", "latency_table"]


def _ms(v: int | None, unbounded: bool = False) -> str:
    return "unbounded" if unbounded else ("-" if v is None else str(v))


def latency_table(scenarios: Sequence, queries: Sequence[str] | None = None) -> Table:
    """One row per (scenario, query): least and greatest time in ms over all runs, and whether
    every run that starts reaches the end."""
    rows = []
    for sc in scenarios:
        _, results = latencies(sc, queries)
        rows.extend((sc.name, r.id, _ms(r.min), _ms(r.max, r.unbounded),
                     "every run" if r.always else "some runs") for r in results)
    return Table(("scenario", "query", "min ms", "max ms", "reached"), tuple(rows),
                 caption="least and greatest time from the query's start to its end (timed model)")


def draw_timeline(traces: Mapping[str, Trace], unit_ms: int, ax=None, title: str | None = None):
    """Runs on one time axis, one lane per trace: each packet a run puts on the wire is a marker
    at the model time it leaves (clear TCP grey, ESP blue, IKE orange), labelled with its
    message.  Returns the matplotlib Figure."""
    from ._figure import new_axes

    if ax is None:
        fig, ax = new_axes((11, 1.2 + 1.1 * len(traces)))
    else:
        fig = ax.figure
    colors = {"clear": "#888888", "esp": "#2b59a8", None: "#e6550d"}
    end = 0
    for lane, (label, trace) in enumerate(traces.items()):
        times = step_times(trace, unit_ms)
        end = max(end, times[-1] if times else 0)
        shown = 0
        for s, t in zip(trace.steps, times):
            for w in s.wire:
                parts = w.split()
                prot = parts[2] if len(parts) > 2 else None
                ax.plot([t], [lane], "o", color=colors.get(prot, "#e6550d"), ms=6)
                ax.annotate(parts[1], (t, lane), xytext=(2, 6 + 7 * (shown % 3)),
                            textcoords="offset points", fontsize=6, rotation=45)
                shown += 1
    ax.set_yticks(range(len(traces)))
    ax.set_yticklabels(list(traces), fontsize=8)
    ax.set_ylim(-0.6, len(traces) - 0.2)
    ax.set_xlim(-unit_ms, end + 2 * unit_ms)
    ax.set_xlabel("model time (ms)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title or "packets on the wire over time")
    return fig


def draw_sweep(points: Sequence[SweepPoint], ax=None, title: str | None = None):
    """The greatest time of a :func:`~ndcheck.checking.latency.sweep` against the one-way delay
    (twice that is the RTT), one line per loss setting; a point the query never reaches is drawn
    as a cross at the top.  Returns the matplotlib Figure."""
    from ._figure import new_axes

    if ax is None:
        fig, ax = new_axes((7, 4))
    else:
        fig = ax.figure
    top = max([p.max for p in points if p.max is not None] or [0]) * 1.15 + 100
    for i, loss in enumerate(dict.fromkeys(p.loss for p in points)):
        pts = [p for p in points if p.loss == loss]
        name = "no loss" if not loss else "loss: " + ", ".join(loss)
        line = ax.plot([2 * p.delay_ms for p in pts if p.max is not None],
                       [p.max for p in pts if p.max is not None], "o-", label=name)[0]
        never = [2 * p.delay_ms for p in pts if p.max is None]
        ax.plot(never, [top - i * 0.04 * top] * len(never), "x", color=line.get_color(), ms=9)
    ax.axhline(top, color="#cccccc", lw=0.8)
    ax.text(0, top, " never", va="bottom", fontsize=7, color="#777777")
    ax.set_xlabel("round-trip time (ms)")
    ax.set_ylabel("worst-case time (ms)")
    ax.legend(fontsize=8)
    ax.set_title(title or "worst case over all runs")
    return fig
