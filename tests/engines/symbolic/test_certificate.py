"""The explored state set as a z3-checked certificate: closed when right, refuted when not."""

from __future__ import annotations

import pytest

from ndcheck import CATALOG, build_system, explore
from ndcheck.engines.symbolic.certificate import Certificate, certify, diagram


def test_diagram_is_exactly_the_state_set():
    states = [(0, 0, 1), (0, 1, 1), (1, 1, 0), (2, 0, 1)]
    nodes, root = diagram(3, states)
    cert = Certificate(None, nodes, root, len(states))
    assert all(s in cert for s in states)
    assert (0, 0, 0) not in cert and (1, 0, 0) not in cert and (2, 1, 1) not in cert
    # shared suffixes: "(·, 1)" after field 0 = 0 and "(0, 1)" after 2 reuse nodes
    assert len(nodes) < sum(len(s) for s in states)


def test_explored_states_are_closed_under_the_z3_transition_relation():
    system = build_system(CATALOG["fig19-require-inbound"])
    cert = certify(system)
    assert cert.closed and cert.states == explore(system).n_states
    assert cert.counterexample is None


@pytest.mark.parametrize("drop", [5, -1])
def test_a_missing_state_breaks_closure_with_a_decoded_step(drop):
    """Remove one reachable state: z3 finds the step that enters it from a kept state."""
    system = build_system(CATALOG["fig19-require-inbound"])
    graph = explore(system)
    missing = graph.state(drop % graph.n_states)

    class Partial:   # the graph with one state left out
        truncated = False
        overflow_states = 0

        def __init__(self):
            self.states = [s for s in graph.states if s != missing]

    cert = certify(system, graph=Partial())
    assert not cert.closed
    s, cmd, t = cert.counterexample
    assert s in cert and t not in cert
    assert system.step(system.commands[cmd], s) == t
