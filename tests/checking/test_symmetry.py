"""Checking on a symmetry-reduced graph (checking/explicit.py): the two-flows probe gives every
verdict it gives unreduced, and its counterexamples and witnesses are real runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ndcheck import build_system, explore
from ndcheck.checking.explicit import decide, unreduced
from ndcheck.engines.graph_queries import GraphQueries
from ndcheck.model.ir import evaluate
from ndcheck.model.scenario import load_scenario_file
from ndcheck.properties.catalog import get_property

PROBE = Path(__file__).parents[1] / "engines" / "data" / "two-flows.toml"
# L-1 (vacuous, 9 s on the full graph) is left out to keep the module fast; the other
# ``eventually`` properties are decided on the unreduced graph all the same
SAFETY_AND_WITNESS = ["H-1", "H-2", "S-1", "S-2", "S-3", "S-4", "S-5", "S-11", "S-12", "S-13",
                      "S-14", "L-6", "T-2", "ND-28", "W-1", "W-2", "W-3", "W-4", "W-5", "W-6"]
EVENTUALLY = ["L-3", "L-7", "T-1"]


@pytest.fixture(scope="module")
def queries():
    system = build_system(load_scenario_file(PROBE))
    reduced = GraphQueries(explore(system))
    assert reduced.graph.symmetry is not None
    full = GraphQueries(explore(system, symmetry=False))
    reduced.unreduced = full   # what decide() would explore on first need, shared
    return reduced, full


@pytest.mark.parametrize("pid", SAFETY_AND_WITNESS)
def test_same_verdict_and_trace_length(queries, pid):
    reduced, full = queries
    p = get_property(pid)
    v, trace, _ = decide(reduced, p)
    w, expected, _ = decide(full, p)
    assert v == w
    assert (trace is None) == (expected is None)
    if trace is not None:
        assert len(trace.steps) == len(expected.steps)   # shortest in the quotient = shortest


def test_t2_counterexample_is_a_real_firing(queries):
    reduced, _ = queries
    system = reduced.system
    p = get_property("T-2")
    verdict, trace, _ = decide(reduced, p)
    assert verdict == "violated" and len(trace.steps) == 22
    # trace_from_commands replayed it; its last step is a command T-2 forbids, from a state
    # where the property's pre-condition holds
    last = trace.steps[-1].command
    cmd = system.commands[last]
    assert p.actions(system, cmd)
    pre = p.pre(system, cmd) if p.pre else None
    assert pre is None or evaluate(pre, system.getter(trace.states[-2]))


@pytest.mark.parametrize("pid", EVENTUALLY)
def test_eventually_is_decided_on_the_unreduced_graph(queries, pid):
    reduced, full = queries
    p = get_property(pid)
    v, trace, _ = decide(reduced, p)
    assert unreduced(reduced) is full and unreduced(full) is full
    assert v == decide(full, p, traces=False)[0]
    if pid == "T-1":
        assert v == "violated" and trace.kind == "lasso" and len(trace.steps) == 27


def test_flow_goals_on_representatives_would_be_wrong(queries):
    """Why eventually is not decided on the quotient: L-3 holds, yet the quotient has a
    bottom SCC free of a flow-1 goal (representatives swap the flows from state to state)."""
    reduced, full = queries
    p = get_property("L-3")
    assert decide(full, p, traces=False)[0] == "holds"
    assert any(reduced.lasso(goal, trig) is not None for goal, trig in p.goals(reduced.system))
