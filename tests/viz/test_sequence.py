from __future__ import annotations

from ndcheck.traces.msc import LANE_TITLES
from ndcheck.traces.trace import trace_to_state
from ndcheck.viz.sequence import draw_chart, show_trace, steps_table


def test_chart_lanes_and_drop_marker(graph_of):
    g = graph_of("fig19-require-inbound")
    t = trace_to_state(g, 3)  # the server's ND filter drops the clear SYN (ND-17)
    fig = draw_chart(t, g.system)
    ax = fig.axes[0]
    assert [x.get_text() for x in ax.get_xticklabels()] == list(LANE_TITLES.values())
    texts = [x.get_text() for x in ax.texts]
    assert any("dropped (ND-17/drop-new)" in x for x in texts)
    assert any("SYN clear" in x for x in texts)
    assert ax.get_legend() is not None and ax.get_ylabel().startswith("step")


def test_system_defaults_to_catalog(graph_of):
    g = graph_of("fig8-silent-peer")
    t = trace_to_state(g, 3)
    assert draw_chart(t).axes
    assert show_trace(t) is not None
    assert "holds" in show_trace(None)


def test_steps_table(graph_of):
    g = graph_of("fig8-silent-peer")
    t = trace_to_state(g, 3)
    table = steps_table(t)
    assert len(table) == len(t.steps)
    assert table.rows[0][2] == "; ".join(t.steps[0].wire)
