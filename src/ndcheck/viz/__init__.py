"""Presentation helpers for notebooks: pictures and tables of the model, its graph and its verdicts.

One idea per module: :mod:`.machines` (a machine class drawn and tabulated), :mod:`.tables`
(the ND decision tables), :mod:`.sequence` (sequence charts of traces), :mod:`.interleavings`
(how many behaviours the product graph holds), :mod:`.projection` (the product graph projected
onto a few fields), :mod:`.stepper` (walk the graph one action at a time), :mod:`.heatmap` (the
verdict matrix), :mod:`.proofs` (z3 results in field names), :mod:`.timing` (latencies and
runs on a time line).  Nothing here decides anything
about the protocol: every verdict, trace and graph comes from the public API.

May import every layer below it (model, properties, engines, traces, checking, reports); not
:mod:`ndcheck.cli`, and nothing imports the notebook helpers.
"""

from __future__ import annotations

from .heatmap import draw_heatmap, verdict_matrix
from .interleavings import count_paths, graph_summary, wire_sequences
from .machines import diagram, draw_machine, transition_table, transitions
from .projection import draw_projection, project
from .proofs import cti_table, invariant_table, proof_table
from .sequence import draw_chart, show_trace, steps_table
from .stepper import Stepper
from .tables import Table, decision_table, decision_tables
from .timing import draw_sweep, draw_timeline, latency_table

__all__ = [
    "Stepper", "Table", "count_paths", "cti_table", "decision_table", "decision_tables", "diagram",
    "draw_chart", "draw_heatmap", "draw_machine", "draw_projection", "draw_sweep",
    "draw_timeline", "graph_summary", "invariant_table", "latency_table", "project", "proof_table", "show_trace", "steps_table", "transition_table",
    "transitions", "verdict_matrix", "wire_sequences",
]
