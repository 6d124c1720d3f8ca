"""The search loop in C (:mod:`ndcheck.engines.native_bfs`), on one thread and on several,
stores the Python explorer's graph: the same states in the same order, edges, parents,
overflow counts and ``max_states`` cuts, whatever the chunk size.

The scenarios are the catalog's smallest sources (no-ipsec: 149 states, about 2 s to compile;
nd-client-transport-server with a duplicating network into channels of capacity 1, 124 of its
140 states overflowing).  The stores start with room for 16 states, so the rows, the table,
the parents and the edges all grow during the search (the rows while the other threads wait);
chunks of one state and of four make the threads hand over hundreds of times.  The C
canonicalizer of the symmetry reduction is compared with the Python one on random states of
two, three and four interchangeable flows (a successor function that returns its state,
compiled with it: seconds), the reduced search itself on two flows (slow: 25 s of gcc).
"""

from __future__ import annotations

from array import array
from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest

from ndcheck import CATALOG, build_system, explore
from ndcheck.engines import explicit, native, native_bfs
from ndcheck.engines.codegen import compile_packed
from ndcheck.engines.store import StateStore

pytestmark = pytest.mark.skipif(native.compiler() is None, reason="no C compiler (cc or gcc)")


@pytest.fixture(scope="module", autouse=True)
def _cache(cache_folder):
    """The compiled libraries go to the run's shared cache folder (conftest.py)."""


@pytest.fixture(scope="module")
def no_ipsec():
    return build_system(CATALOG["no-ipsec"])


@pytest.fixture(scope="module")
def overflowing():
    sc = CATALOG["nd-client-transport-server"]
    return build_system(replace(sc, network=replace(sc.network, capacity=1, duplicate=1)))


class Found:
    """What the C search stored: its result, and the edge and parent columns as arrays."""

    def __init__(self, result, cols):
        self.__dict__.update(vars(result))
        for name, col in zip(("src", "dst", "act", "parent", "parent_act"), cols):
            setattr(self, name, np.frombuffer(col, np.int32) if col else np.zeros(0, np.int32))


def columns():
    """Empty edge columns, and the initial state's parent (itself, no command)."""
    return array("i"), array("i"), array("i"), array("i", [0]), array("i", [-1])


def search(system, threads: int, limit: int | None = None, tick=None, cols=None):
    """The C search from the initial state, in a store with room for 16 states."""
    _, src, lay = compile_packed(system)
    nat = native.compile_native(src, (lay.bits + 63) // 64)
    store = StateStore(lay.bits, capacity=16)
    store.append(store.to_words([lay.encode(system.init)]))
    limit = system.limits.max_states if limit is None else limit
    cols = cols or columns()
    return store, Found(native_bfs.run(nat.lib, store, 0, limit, threads, cols, tick), cols)


def edges_of(g, sources: int | None = None):
    """The Python graph's edge columns (of the first ``sources`` states) and parents."""
    src = np.frombuffer(g.src, np.int32)
    k = len(src) if sources is None else int(np.searchsorted(src, sources))
    return (src[:k], np.frombuffer(g.dst, np.int32)[:k], np.frombuffer(g.act, np.int32)[:k],
            np.frombuffer(g.parent, np.int32), np.frombuffer(g.parent_act, np.int32))


def assert_same(store, r, g, sources: int | None = None) -> None:
    src, dst, act, parent, parent_act = edges_of(g, sources)
    assert store.n == g.n_states
    assert np.array_equal(store.keys[:store.n], g.packed.store.keys[:g.n_states])
    assert np.array_equal(r.src, src) and np.array_equal(r.dst, dst) and np.array_equal(r.act, act)
    assert np.array_equal(r.parent, parent) and np.array_equal(r.parent_act, parent_act)
    # the table finds every state (rebuilt while growing, written by the search)
    assert store.find(store.keys[:store.n]).tolist() == list(range(store.n))


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("chunk", [1, 4, 256])
def test_the_graph_is_the_python_explorers(no_ipsec, monkeypatch, threads, chunk):
    monkeypatch.setattr(native_bfs, "CHUNK_STATES", chunk)
    store, r = search(no_ipsec, threads)
    g = explore(no_ipsec, native=False)
    assert r.status == native_bfs.DONE and r.i == g.n_states == 149
    assert_same(store, r, g)


@pytest.mark.parametrize("threads", [1, 2])
def test_overflows_are_counted_like_the_python_explorer(overflowing, monkeypatch, threads):
    monkeypatch.setattr(native_bfs, "CHUNK_STATES", 4)
    store, r = search(overflowing, threads)
    g = explore(overflowing, native=False)
    assert r.status == native_bfs.DONE and r.overflow == g.overflow_states == 124
    assert_same(store, r, g)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("limit", [2, 17, 100, 148])
def test_a_max_states_cut_is_the_python_explorers(no_ipsec, monkeypatch, threads, limit):
    monkeypatch.setattr(native_bfs, "CHUNK_STATES", 4)
    store, r = search(no_ipsec, threads, limit=limit)
    g = explore(no_ipsec, native=False, max_states=limit)
    assert r.status == native_bfs.CUT and g.truncated
    # the cut: the edges up to the first successor left out, a successor of r.last
    assert r.i == r.last and r.src.max() <= r.last and store.n == limit
    assert_same(store, r, g)


def test_the_tick_stops_the_search_between_chunks(no_ipsec, monkeypatch):
    monkeypatch.setattr(native_bfs, "CHUNK_STATES", 4)
    monkeypatch.setattr(native_bfs, "TICK_STATES", 10)
    seen = []
    store, r = search(no_ipsec, 2, tick=lambda i, n: seen.append((i, n)) or len(seen) == 3)
    assert r.status == native_bfs.STOPPED
    assert len(seen) == 3 and seen[-1] == (r.i, store.n) and 30 <= r.i < 149
    assert all(b[0] - a[0] >= 10 for a, b in pairwise(seen))
    # the states of the first r.i sources' successors, numbered as the whole search numbers them
    g = explore(no_ipsec, native=False)
    src, dst, act, parent, parent_act = edges_of(g, r.i)
    assert np.array_equal(r.src, src) and np.array_equal(r.dst, dst) and np.array_equal(r.act, act)
    assert np.array_equal(store.keys[:store.n], g.packed.store.keys[:store.n])
    assert np.array_equal(r.parent, parent[:store.n])
    assert np.array_equal(r.parent_act, parent_act[:store.n])


def test_an_exception_in_a_callback_is_raised_after_the_search(no_ipsec, monkeypatch):
    monkeypatch.setattr(native_bfs, "TICK_STATES", 1)

    def interrupted(i, n):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        search(no_ipsec, 2, tick=interrupted)


def test_a_failed_growth_is_raised(no_ipsec, monkeypatch):
    def no_room(self, need):
        raise MemoryError("no room")

    monkeypatch.setattr(StateStore, "_grow_keys", no_room)
    with pytest.raises(MemoryError, match="no room"):
        search(no_ipsec, 2)


CHAIN = ("def successors(s):\n    out = []\n    ovf = False\n    if s == 37:\n"
         "        raise DomainError(\"command 'x' sets a field outside its domain\")\n"
         "    if s < 100:\n        out.append((0, 0, s + 1))\n    return out, ovf\n")


@pytest.mark.parametrize("threads", [1, 2])
def test_a_domain_error_stops_the_search_before_its_chunk(threads):
    nat = native.compile_native(CHAIN, 1)
    store = StateStore(bits=8, capacity=16)
    store.append(store.to_words([0]))
    cols = columns()
    r = Found(native_bfs.run(nat.lib, store, 0, 1000, threads, cols), cols)
    # a chain: one state a level, so the raising state's chunk is that state alone
    assert r.status == native_bfs.RAISED and r.last == r.i == 37 and store.n == 38
    assert r.src.tolist() == list(range(37)) and r.dst.tolist() == list(range(1, 38))


@pytest.mark.parametrize("workers", [1, 2])
def test_explore_hands_the_search_to_c_after_the_checked_states(overflowing, monkeypatch, workers):
    monkeypatch.setattr(explicit, "CHUNK", 8)            # compared with Python: 8 states, not 2,048
    monkeypatch.setattr(native_bfs, "CHUNK_STATES", 4)
    runs = []
    real = native_bfs.run
    monkeypatch.setattr(native_bfs, "run", lambda *a: runs.append(a[2:5]) or real(*a))
    for cut in (None, 60):
        g = explore(overflowing, native=True, workers=workers, max_states=cut)
        py = explore(overflowing, native=False, max_states=cut)
        assert (list(g.packed), g.src, g.dst, g.act, g.parent, g.parent_act) == (
            list(py.packed), py.src, py.dst, py.act, py.parent, py.parent_act)
        assert (g.truncated, g.reason, g.overflow_states) == (py.truncated, py.reason,
                                                              py.overflow_states)
    # from the end of the first batches that hold 8 states or more (batches end where the
    # store ended when they began), on ``workers`` threads
    (i, limit, threads), again = runs
    assert 8 <= i < 16 and threads == workers and limit == overflowing.limits.max_states
    assert again == (i, 60, workers)


IDENTITY = ("def successors(s):\n    out = []\n    ovf = False\n    out.append((0, 0, s))\n"
            "    return out, ovf\n")


@pytest.mark.parametrize("openers", [("client", "client"), ("client", "client", "client"),
                                     ("client",) * 4, ("client", "client", "server", "server")])
def test_the_c_canonicalizer_is_the_python_one(openers):
    """symmetry.Symmetry.c_source against the Python canonicalizer on random states: two flows
    (chunk by chunk), three and four (keys sorted), two groups; chunks that straddle words."""
    import random

    from ndcheck.engines.symmetry import symmetry_of
    from ndcheck.model.scenario import Flow

    sc = CATALOG["crossing-flows" if "server" in openers else "no-ipsec"]
    system = build_system(replace(sc, name="flows", flows=tuple(Flow(o) for o in openers),
                                  expect={}, causes={}))
    sym = symmetry_of(system)
    _, _, lay = compile_packed(system)
    words = (lay.bits + 63) // 64
    assert sym is not None and len(sym.groups) == (2 if "server" in openers else 1)
    nat = native.compile_native(IDENTITY, words, canon=sym.c_source)     # s -> canon(s)
    rng = random.Random(len(openers))
    states = [rng.getrandbits(lay.bits) for _ in range(1500)]
    # sparse states: many flows' chunks equal, so the orders' ties and the later chunks decide
    states += [rng.getrandbits(lay.bits) & rng.getrandbits(lay.bits) & rng.getrandbits(lay.bits)
               & rng.getrandbits(lay.bits) for _ in range(1500)]
    store = StateStore(lay.bits)
    got, _, counts, _ = nat.expand(store.to_words(states))
    want = [sym.canon(p) for p in states]
    assert counts.tolist() == [1] * len(states)
    assert np.array_equal(got, store.to_words(want))
    assert sum(w != p for w, p in zip(want, states)) > 500           # many states were reordered


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_a_symmetry_reduced_c_search_is_the_python_ones(workers):
    """Two interchangeable flows (no-ipsec's hosts; about 25 s of gcc): the reduced graph."""
    from ndcheck.model.scenario import Flow

    sc = CATALOG["no-ipsec"]
    system = build_system(replace(sc, name="no-ipsec-two-flows", flows=(Flow("client"),) * 2,
                                  expect={}, causes={}))
    py = explore(system, native=False)
    c = explore(system, native=True, workers=workers)
    assert py.symmetry is not None and c.symmetry is not None and py.n_states == 11175
    assert (list(c.packed), c.src, c.dst, c.act, c.parent, c.parent_act) == (
        list(py.packed), py.src, py.dst, py.act, py.parent, py.parent_act)
