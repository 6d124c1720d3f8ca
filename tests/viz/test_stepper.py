from __future__ import annotations

import pytest

from ndcheck.traces.trace import ReplayError
from ndcheck.viz.stepper import Stepper


def test_steps_along_enabled_actions_and_replays(graph_of):
    g = graph_of("fig19-require-inbound")
    st = Stepper(g)
    for _ in range(12):
        en = st.enabled()
        if not en:
            break
        # every offered action is an edge of the graph from the current state
        assert {(c.command, c.target) for c in en} == set(g.successors_of(st.sid))
        name = st.step(len(en) - 1)
        assert name == en[-1].action
    trace = st.trace()  # replayed through the IR and the machine instances
    assert [s.command for s in trace.steps] == st.commands
    assert trace.states[-1] == g.states[st.sid]


def test_step_by_name_back_and_reset(graph_of):
    st = Stepper(graph_of("fig8-silent-peer"))
    assert st.step("ike_i.acquire_mm@idle").startswith("client.tcp.send_syn")   # a unique part
    before = st.sid
    st.step(0)
    st.back()
    assert st.sid == before and len(st.commands) == 1
    st.reset()
    assert st.sid == 0 and st.commands == []
    st.back()  # no-op at the start
    assert st.sid == 0


def test_bad_choices(graph_of):
    st = Stepper(graph_of("fig8-silent-peer"))
    with pytest.raises(IndexError, match="choose 0"):
        st.step(99)
    with pytest.raises(ValueError, match="matches none"):
        st.step("no-such-action")


def test_state_shows_control_states(graph_of):
    st = Stepper(graph_of("fig8-silent-peer"))
    assert st.state()["client.tcp"] == "CLOSED"
    st.step(0)
    assert st.state()["client.tcp"] == "SYN-SENT"


def test_trace_is_checked(graph_of):
    g = graph_of("fig8-silent-peer")
    st = Stepper(g)
    st.step(0)
    st.path[-1] = (st.path[-1][0], st.path[-1][1])
    st.path.append((st.path[-1][0], st.sid))  # the same send_syn again: not enabled
    with pytest.raises(ReplayError):
        st.trace()


def test_chart_and_widget(graph_of):
    st = Stepper(graph_of("fig8-silent-peer"))
    st.step(0)
    assert st.chart() is not None
    assert st.chart(prefer="matplotlib").axes
    w = st.widget()
    pytest.importorskip("ipywidgets")
    assert w is not None and len(w.children) == 4
