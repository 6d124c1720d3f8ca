"""One entry point for every trace format: text, JSON, Mermaid and SVG (``ndcheck trace --format``).

The JSON document wraps the step list of DESIGN.md ("Public interfaces"): each step is
``{"step", "action", "wire", "changes"}`` with ``wire`` null when the step sends nothing (two
packets of one step are joined with ``"; "``), inside an object naming the scenario, the
property and the kind of trace.

>>> from ndcheck import CATALOG, build_system, explore
>>> from ndcheck.traces.trace import trace_to_state
>>> system = build_system(CATALOG["fig19-require-inbound"])
>>> doc = trace_document(trace_to_state(explore(system), 3))
>>> doc["steps"][1]
{'step': 2, 'action': 'server.nd.drop[SYN clear: ND-17/drop-new]', 'wire': None, 'changes': {'net.c2s.SYN.clear': '0'}}
"""

from __future__ import annotations

import json

from ..model.ir import System
from ..traces.trace import Trace
from .mermaid import render_mermaid
from .svg import render_svg
from .text import render_text

__all__ = ["FORMATS", "render", "render_json", "trace_document"]

FORMATS = ("text", "json", "mermaid", "svg")


def trace_document(trace: Trace) -> dict:
    """The trace as a JSON-ready object: scenario, property, kind, wire packets and steps."""
    return {
        "scenario": trace.scenario,
        "property": trace.property,
        "kind": trace.kind,
        "length": len(trace.steps),
        "loop_start": trace.loop_start,
        "replayed": True,  # trace_from_commands replays every trace before it exists
        "wire": trace.wire,
        "steps": trace.to_json(),
    }


def render_json(trace: Trace) -> str:
    return json.dumps(trace_document(trace), indent=2, ensure_ascii=False) + "\n"


def render(trace: Trace, system: System, fmt: str = "text") -> str:
    """Render ``trace`` (of ``system``) in one of :data:`FORMATS`."""
    if fmt == "text":
        sc = system.scenario
        return render_text(trace, unit_ms=sc.time.unit_ms if sc is not None and sc.time.timed else None)
    if fmt == "json":
        return render_json(trace)
    if fmt == "mermaid":
        return render_mermaid(trace, system)
    if fmt == "svg":
        return render_svg(trace, system)
    raise ValueError(f"unknown trace format {fmt!r}; allowed: {', '.join(FORMATS)}")
