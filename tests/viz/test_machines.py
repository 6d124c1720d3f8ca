from __future__ import annotations

import pytest

from ndcheck import IkeInitiator, IkeResponder, TcpClient, TcpServer
from ndcheck.viz.machines import diagram, draw_machine, transition_table, transitions

MACHINES = [TcpClient, TcpServer, IkeInitiator, IkeResponder]


def _expected(cls):
    out = []
    for st in cls.states:
        for t in st.transitions:
            if getattr(t, "initial", False) and not t.events:
                continue
            for ev in t.events:
                out.append((st.name, str(ev), t.target.name))
    return out


@pytest.mark.parametrize("cls", MACHINES, ids=lambda c: c.__name__)
def test_table_lists_every_transition(cls):
    table = transition_table(cls)
    assert [(s, e, t) for s, e, t, _ in transitions(cls)] == _expected(cls)
    assert len(table) == len(_expected(cls))
    # every event of the class appears in the table, every state as a source or target
    assert {str(e) for e in cls.events} <= set(table.column("event"))
    names = {s.split(" (")[0] for s in table.column("source") + table.column("target")}
    assert names == {s.name for s in cls.states}
    assert "<table>" in table._repr_html_() and table.to_markdown().startswith("**")


def test_conditions_are_shown():
    rows = {(s, e): c for s, e, _, c in transitions(IkeInitiator)}
    assert rows[("QM1-SENT", "recv_qm2")] in ("commit", "!commit")
    assert "budget_left" in rows[("MM1-SENT", "retransmit")]


@pytest.mark.parametrize("cls", MACHINES, ids=lambda c: c.__name__)
def test_drawing_names_every_state(cls):
    fig = draw_machine(cls)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {s.name for s in cls.states} <= texts
    assert fig.axes[0].get_title().startswith(cls.__name__)


def test_diagram_without_graphviz_is_matplotlib():
    d = diagram(TcpClient, prefer_graphviz=False)
    assert d.axes
