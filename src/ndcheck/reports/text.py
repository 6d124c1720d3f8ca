"""Plain-text rendering of a trace: a numbered table of actions, wire packets and changed fields.

Each row is one step: its action (the command name, which reads as a sentence: machine, event,
inbound/outbound rule rows, triggered acquire), the packets it put on the wire (one per line,
``-`` when none) and the fields it changed.  Channel counters (``net.*``) are left out by default:
the wire column and the action already say what was sent and received.  The step to look at
first ends in ``<- ...`` (:func:`ndcheck.traces.msc.mark_of`): the violating step of a
counterexample, the first step of a lasso's cycle, the last step of a witness.  Nothing is cut.
A trace of a timed scenario (``unit_ms``) has a ``ms`` column: the model time of each step.

>>> from ndcheck import CATALOG, build_system, explore
>>> from ndcheck.traces.trace import trace_to_state
>>> g = explore(build_system(CATALOG["fig19-require-inbound"]))
>>> print(render_text(trace_to_state(g, 3)))  # doctest: +NORMALIZE_WHITESPACE
fig19-require-inbound: counterexample, 2 steps
step  action                                                                                      wire                     changes
   1  client.tcp.send_syn [SYN ND-8/clear+acquire +client.acquire +client.ike_i.acquire_mm@idle]  client>server SYN clear  client.tcp=SYN-SENT client.ike_i=MM1-SENT client.acquire=1
                                                                                                  client>server MM1
   2  server.nd.drop[SYN clear: ND-17/drop-new]                                                   -                        -  <- violating step
"""

from __future__ import annotations

from ..model.timing import TICK
from ..traces.msc import mark_of
from ..traces.trace import Trace

__all__ = ["render_text"]


def _changes(changes: dict[str, str], network: bool) -> str:
    items = [f"{k}={v}" for k, v in changes.items() if network or not k.startswith("net.")]
    return " ".join(items) if items else "-"


def render_text(trace: Trace, *, network: bool = False, title: bool = True,
                unit_ms: int | None = None) -> str:
    """The trace as an aligned text table (``network=True`` also lists channel counters;
    ``unit_ms``: the step numbers carry the model time, ``12 @1500ms``)."""
    rows = []
    now = 0
    for s in trace.steps:
        if s.action == TICK and unit_ms:
            now += unit_ms
        num = f"{s.index} @{now}ms" if unit_ms else str(s.index)
        rows.append((num, s.action, list(s.wire) or ["-"], _changes(s.changes, network)))
    mark = mark_of(trace)
    w_step = max([4] + [len(r[0]) for r in rows])
    w_act = max([6] + [len(r[1]) for r in rows])
    w_wire = max([4] + [len(w) for r in rows for w in r[2]])
    out = []
    if title:
        what = trace.kind + (f" of {trace.property}" if trace.property else "")
        n = len(trace.steps)
        out.append(f"{trace.scenario}: {what}, {n} step{'s' if n != 1 else ''}")
    out.append(f"{'step':>{w_step}}  {'action':<{w_act}}  {'wire':<{w_wire}}  changes".rstrip())
    for i, (num, act, wires, ch) in enumerate(rows):
        if trace.loop_start is not None and i == trace.loop_start:
            out.append(f"{'':>{w_step}}  -- cycle: the steps below repeat forever --")
        flag = f"  <- {mark.text}" if mark is not None and mark.step == i + 1 else ""
        out.append(f"{num:>{w_step}}  {act:<{w_act}}  {wires[0]:<{w_wire}}  {ch}{flag}".rstrip())
        for w in wires[1:]:
            out.append(f"{'':>{w_step}}  {'':<{w_act}}  {w}".rstrip())
    if trace.loop_start is not None and trace.loop_start >= len(rows):
        out.append(f"{'':>{w_step}}  -- the run stays in this last state forever --")
    if not rows:
        flag = f"  <- {mark.text}" if mark is not None and mark.step == 0 else ""
        out.append(f"{'':>{w_step}}  (no steps: the initial state already shows it){flag}")
    return "\n".join(out) + "\n"
