"""Symmetry reduction over interchangeable flows (engines/symmetry.py) on the two-flows probe:
representatives are real states, every state's orbit is covered, paths re-execute as runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ndcheck import CATALOG, build_system, explore
from ndcheck.engines.symmetry import concrete_commands, symmetry_of
from ndcheck.model.ir import flow_swap
from ndcheck.model.scenario import load_scenario_file
from ndcheck.traces.trace import trace_from_commands, trace_to_state

PROBE = Path(__file__).parent / "data" / "two-flows.toml"


@pytest.fixture(scope="module")
def graphs():
    system = build_system(load_scenario_file(PROBE))
    return explore(system), explore(system, symmetry=False)


def test_counts(graphs):
    reduced, full = graphs
    assert reduced.symmetry is not None and full.symmetry is None
    assert (full.n_states, full.n_edges) == (160_380, 582_186)
    assert (reduced.n_states, reduced.n_edges) == (81_352, 295_846)
    # an orbit has one state (both flows alike) or two: 2 * reduced - full symmetric states
    assert 2 * reduced.n_states - full.n_states == 2_324
    assert reduced.depth == full.depth == 36
    assert reduced.symmetry.describe() == "reduced by symmetry over flows {1, 2}"


def test_representatives_are_real_and_cover_every_orbit(graphs):
    reduced, full = graphs
    canon = reduced.symmetry.canon
    rep, every = set(reduced.packed), set(full.packed)
    assert rep <= every
    assert {canon(p) for p in full.packed} == rep
    assert all(canon(p) == p for p in reduced.packed)


def test_canon_is_invariant_under_the_flow_swap(graphs):
    reduced, full = graphs
    system, lay = full.system, full.layout
    canon = reduced.symmetry.canon
    swap = flow_swap(*system.flows)
    perm = [system.index.get(swap.get(f.name, f.name), i) for i, f in enumerate(system.fields)]
    for p in full.packed[::997]:
        s = lay.decode(p)
        t = tuple(s[perm[i]] for i in range(len(s)))
        assert t != s or p == canon(p)
        assert canon(lay.encode(t)) == canon(p)


def test_quotient_paths_replay_as_runs(graphs):
    reduced, _ = graphs
    system, canon = reduced.system, reduced.symmetry.canon
    for sid in range(0, reduced.n_states, 4_001):
        commands = concrete_commands(reduced, sid)
        assert len(commands) == len(reduced.path_to(sid))   # as short as the shortest run
        trace = trace_from_commands(system, commands)      # replays through the instances
        assert canon(reduced.layout.encode(trace.states[-1])) == reduced.packed[sid]
    trace = trace_to_state(reduced, reduced.n_states - 1)
    assert canon(reduced.layout.encode(trace.states[-1])) == reduced.packed[-1]


def test_one_flow_is_not_reduced():
    system = build_system(CATALOG["fig8-silent-peer"])
    assert symmetry_of(system) is None
    assert explore(system).symmetry is None
