from __future__ import annotations

import dataclasses
import functools
import itertools

import pytest

from ndcheck import CATALOG, build_system, explore
from ndcheck.viz.interleavings import (
    bottom_components,
    count_paths,
    draw_wire_counts,
    graph_summary,
    wire_sequences,
)

# Enumerating every path is exponential: the scenarios (and a one-segment, one-way variant of
# fig8-icmp-peer, the catalog entry having 369 states since the model v2 TCP) stay small.
SMALL = ["require-inbound-auth-failure", "transport-mode", "icmp-one-segment"]


@functools.cache
def _small(name: str):
    if name != "icmp-one-segment":
        return None
    sc = CATALOG["fig8-icmp-peer"]
    tcp = dataclasses.replace(sc.tcp, data_segments=1, server_segments=0)
    return explore(build_system(dataclasses.replace(sc, name=name, tcp=tcp)))


@pytest.fixture
def graph_of(graph_of):
    return lambda name: _small(name) or graph_of(name)


def _succ(g):
    out = {}
    for u, v, a in zip(g.src, g.dst, g.act):
        out.setdefault(u, []).append((a, v))
    return out


@pytest.mark.parametrize("name", SMALL)
def test_path_count_matches_enumeration(graph_of, name):
    g = graph_of(name)
    succ = _succ(g)

    def paths(s):
        return 1 if s not in succ else sum(paths(v) for _, v in succ[s])

    pc = count_paths(g)
    assert pc.exact and pc.paths == paths(0)
    assert pc.terminal_states == graph_summary(g)["terminal states"]


# icmp-one-segment's enumeration (11 s of the suite's CPU) runs with -m slow; the path count
# above still enumerates it every time
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "icmp-one-segment" else n
                                  for n in SMALL])
def test_wire_sequences_match_enumeration(graph_of, name):
    g = graph_of(name)
    succ = _succ(g)
    wire = [tuple(p.wire() for p in c.wire) for c in g.system.commands]
    seqs, complete = set(), set()

    def walk(s, seq):
        seqs.add(seq)
        if s not in succ:
            complete.add(seq)
            return
        for a, v in succ[s]:
            w = wire[a]
            orders = set(itertools.permutations(w)) if w else {()}
            for o in orders:
                for k in range(1, len(o)):  # a capture may stop inside a two-packet step
                    seqs.add(seq + o[:k])
                walk(v, seq + o)

    walk(0, ())
    wc = wire_sequences(g)
    assert wc.exhausted
    assert wc.total == len(seqs)
    assert wc.total_complete == len(complete)
    assert list(wc.by_length) == [sum(1 for s in seqs if len(s) == n) for n in range(len(wc.by_length))]


def test_length_bound(graph_of):
    wc = wire_sequences(graph_of("fig8-icmp-peer"), max_len=3)
    assert not wc.exhausted and len(wc.by_length) == 4


def test_bottom_components_cover_terminal_states(graph_of):
    g = graph_of("fig19-require-inbound")
    t = bottom_components(g)
    assert sum(int(x) for x in t.column("states")) == graph_summary(g)["terminal states"]


def test_wire_count_chart(graph_of):
    fig = draw_wire_counts(wire_sequences(graph_of("transport-mode")))
    ax = fig.axes[0]
    assert ax.get_xlabel() == "packets on the wire" and ax.get_yscale() == "log"
