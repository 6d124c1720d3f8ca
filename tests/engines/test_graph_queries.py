"""Graph queries: strong components and per-command edge indices against their definitions."""

from __future__ import annotations

import random
from array import array
from types import SimpleNamespace

import networkx as nx
import pytest

from ndcheck import CATALOG, build_system, explore
from ndcheck.engines.graph_queries import GraphQueries


def _random_graph(seed: int, n: int = 400, m: int = 700) -> SimpleNamespace:
    """Edges sorted by source as the explorer stores them; cycles, self loops, sinks, and a
    bottom cycle ``n-3 -> n-2 -> n-1 -> n-3``."""
    rnd = random.Random(seed)
    edges = [(rnd.randrange(n - 3), rnd.randrange(n), rnd.randrange(20)) for _ in range(m)]
    edges = sorted(edges + [(n - 3, n - 2, 0), (n - 2, n - 1, 1), (n - 1, n - 3, 2)])
    return SimpleNamespace(system=None, states=[()] * n, n_states=n, truncated=False,
                           src=array("i", [e[0] for e in edges]), dst=array("i", [e[1] for e in edges]),
                           act=array("i", [e[2] for e in edges]))


@pytest.fixture(scope="module", params=["random-1", "random-2", "fig8-silent-lossy"])
def graph(request):
    if request.param.startswith("random"):
        return _random_graph(int(request.param[-1]))
    return explore(build_system(CATALOG[request.param]))  # a DAG: every component one state


def test_scc_equals_the_networkx_condensation(graph):
    comp, bottom, members = GraphQueries(graph).scc()
    dg = nx.DiGraph()
    dg.add_nodes_from(range(graph.n_states))
    dg.add_edges_from(zip(graph.src, graph.dst))
    cond = nx.condensation(dg)
    want = {frozenset(cond.nodes[c]["members"]) for c in cond if cond.out_degree(c) == 0}
    assert {frozenset(m) for m in members.values()} == want
    assert all(bottom[c] for c in members)
    assert sum(bottom) == len(want)
    # the same partition into components, whatever their numbering
    by_label: dict[int, set[int]] = {}
    for v, c in enumerate(comp):
        by_label.setdefault(c, set()).add(v)
    assert {frozenset(s) for s in by_label.values()} == {frozenset(cond.nodes[c]["members"]) for c in cond}
    if graph.system is None:
        assert any(len(m) > 1 for m in members.values()), "a random graph has a bottom cycle"
    assert all(m == sorted(m) for m in members.values())


def test_by_action_lists_each_commands_edges_in_exploration_order(graph):
    by_act = GraphQueries(graph).by_action()
    want: dict[int, list[int]] = {}
    for k, a in enumerate(graph.act):
        want.setdefault(a, []).append(k)
    assert {a: e.tolist() for a, e in by_act.items()} == want
