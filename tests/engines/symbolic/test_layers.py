"""The explicit engine's BFS layers as BMC hints: they hold of every shortest path, they prune, and
BMC with them still finds a shortest counterexample (the trace is z3's, replayed)."""

from __future__ import annotations

import pytest

from ndcheck import CATALOG, build_system, explore
from ndcheck.checking.check import shortest_trace
from ndcheck.checking.symbolic import prove
from ndcheck.engines.symbolic.bad import bad_formula
from ndcheck.engines.symbolic.bmc import bmc
from ndcheck.engines.symbolic.encode import Encoding
from ndcheck.engines.symbolic.layers import LayersAhead, bfs_layers, constrain
from ndcheck.properties.catalog import get_property


def _depths(graph) -> list[int]:
    depth = [0] * graph.n_states
    for i in range(1, graph.n_states):
        depth[i] = depth[graph.parent[i]] + 1
    return depth


def test_layers_contain_every_state_and_action_of_their_depth():
    system = build_system(CATALOG["fig7-premature-timeouts"])
    layers = bfs_layers(system, max_states=3000)
    assert layers is not None and 1 <= len(layers.actions) < len(layers.values)
    # layer 0 is the initial state: every field fixed (None: a one-value domain, no constraint)
    assert all(vals == frozenset({f.init}) or vals is None and f.lo == f.hi
               for vals, f in zip(layers.values[0], system.fields))
    graph = explore(system)
    depth = _depths(graph)
    for sid, state in enumerate(graph.states):
        k = depth[sid]
        if k < len(layers.values):
            assert all(vals is None or v in vals for v, vals in zip(state, layers.values[k]))
    for u, a in zip(graph.src, graph.act):
        if depth[u] < len(layers.actions):
            assert a in layers.actions[depth[u]]
    # a budget that stops inside layer k leaves layer k's states but not its actions
    small = bfs_layers(system, max_states=40)
    assert len(small.values) == len(small.actions) + 1 < len(layers.values)


def test_bmc_with_and_without_layers_finds_the_same_shortest_depth():
    system = build_system(CATALOG["fig7-premature-timeouts"])
    prop = get_property("L-6")
    twin = Encoding(system).bitvector_twin(20)
    bad = bad_formula(twin, prop)
    plain = bmc(twin, bad, 20)
    hinted = bmc(twin, bad, 20, hint=constrain(twin, bfs_layers(system)))
    assert plain.status == hinted.status == "found" and plain.depth == hinted.depth == 12
    # a hint never applies to the unbounded encodings (their reachable states are others)
    assert constrain(Encoding(system, unbounded=True), bfs_layers(system)) is None


def test_layers_computed_ahead_equal_the_in_process_ones_and_bmc_takes_them_at_a_fixed_depth():
    """The layers come from a forked process (BMC checks its first depths meanwhile), equal to
    the ones computed here; BMC asks for them before the check at depth LATER_FROM whether or
    not the child has finished, so the formulas z3 sees do not depend on its timing."""
    from ndcheck.engines.symbolic import bmc as bmc_module
    from ndcheck.engines.symbolic import layers as layers_module
    from ndcheck.engines.symbolic.portfolio import available

    system = build_system(CATALOG["fig7-premature-timeouts"])
    twin = Encoding(system).bitvector_twin(20)
    layers_module._CACHE.clear()
    ahead = LayersAhead(system)
    assert bool(ahead._pid) == available()    # forked where there is a second core
    forked = ahead.layers()
    layers_module._CACHE.clear()
    assert forked == bfs_layers(system)

    depth = []

    class Recorded:     # a hint "still being computed": records the depth BMC asks at
        def hook(self, enc):
            depth.append(len(seen))
            assert enc is twin       # the encoding BMC unrolls
            return constrain(enc, forked)
    seen: list[str] = []
    bad = bad_formula(twin, get_property("L-6"))
    got = bmc(twin, bad, 20, later=Recorded(), progress=seen.append)
    assert got.status == "found" and got.depth == 12
    assert depth == [bmc_module.LATER_FROM] and seen[bmc_module.LATER_FROM - 1] == "bmc depth 2"
    # a child that does not answer in time is killed and the layers are computed here
    layers_module._CACHE.clear()
    slow = LayersAhead(system)
    layers_module.AHEAD_WAIT, saved = 0.0, layers_module.AHEAD_WAIT
    try:
        assert slow.layers() == forked and slow._pid == 0
    finally:
        layers_module.AHEAD_WAIT = saved
    # a run that ends before LATER_FROM never waits for the layers, and close() reaps the child
    layers_module._CACHE.clear()
    early = LayersAhead(system)
    early.close()
    assert early._pid == 0


@pytest.mark.slow
def test_layered_bmc_finds_nat_boundary_t2_as_short_as_the_explicit_engine():
    """nat-boundary T-2 (no silent TCP death) was the slowest BMC violation (8.7 s of CPU,
    depths 16-18 alone 5 s); with the layers it is about 3.6 s."""
    system = build_system(CATALOG["nat-boundary"])
    r = prove(system, "T-2", engine="bmc")
    assert r.verdict == "violated", r.note
    assert len(r.trace.steps) == len(shortest_trace(explore(system), "T-2").steps) == 19


def test_prove_forks_the_layers_before_building_the_encoding(monkeypatch):
    """``prove --engine bmc`` starts the layers' child before the encoding is built (the
    encoding took 0.4-0.5 s that the child then has for itself: allow-clear-grace S-2 waited
    0.7 s at LATER_FROM when the child started after it); unbounded BMC takes no layers."""
    import importlib

    prove_module = importlib.import_module("ndcheck.engines.symbolic.prove")
    order: list[str] = []

    class Ahead(LayersAhead):
        def __init__(self, system, timeout=None):
            order.append("layers")
            super().__init__(system, timeout)

    class Enc(Encoding):
        def __init__(self, *a, **k):
            order.append("encoding")
            super().__init__(*a, **k)

    monkeypatch.setattr(prove_module, "LayersAhead", Ahead)
    monkeypatch.setattr(prove_module, "Encoding", Enc)
    system = build_system(CATALOG["fig7-premature-timeouts"])
    got = prove_module.prove(system, get_property("L-6"), engine="bmc")
    assert got.verdict == "violated" and len(got.counterexample.commands) == 13
    assert order == ["layers", "encoding"]
    order.clear()
    prove_module.prove(system, get_property("S-1"), engine="bmc", unbounded=True, depth=2)
    assert order == ["encoding"]
