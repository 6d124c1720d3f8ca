"""The compact visited store (engines/store.py): words, hash table, first occurrences, and the
explorer built on it giving the dict-based BFS's states, ids, edges and parents."""

from __future__ import annotations

import random
from array import array

import numpy as np
import pytest

from ndcheck import CATALOG, build_system
from ndcheck.engines.codegen import compile_packed
from ndcheck.engines.explicit import explore
from ndcheck.engines.store import PackedStates, StateStore, first_occurrences, hash_words
from tests.catalog_cache import graph


@pytest.mark.parametrize("bits", [12, 64, 65, 158, 200])
def test_append_find_and_read_back(bits):
    rng = random.Random(bits)
    values = sorted({rng.getrandbits(bits) for _ in range(5000)})
    rng.shuffle(values)
    s = StateStore(bits, capacity=16)                 # grows the words and the table many times
    half = len(values) // 2
    for lo in range(0, half, 700):
        assert s.append(s.to_words(values[lo:min(half, lo + 700)])).tolist() == list(
            range(lo, min(half, lo + 700)))
    ids = s.find(s.to_words(values))
    assert ids[:half].tolist() == list(range(half)) and (ids[half:] == -1).all()
    assert s.ints(0, half) == values[:half]
    assert [s[i] for i in (0, half - 1, -1)] == [values[0], values[half - 1], values[half - 1]]
    assert s.index(values[3]) == 3 and s.index(values[-1]) is None and s.index(1 << bits) is None
    assert 2 * s.n <= len(s.table) <= 4 * s.n + 32  # load between 1/4 and 1/2


def test_unindexed_append_is_found_after_a_lazy_rebuild():
    s = StateStore(100)
    s.append(s.to_words([7, 8, 9]), index=False)
    s.append(s.to_words([10]))
    assert s.find(s.to_words([9, 10, 11])).tolist() == [2, 3, -1]


def test_first_occurrences_in_row_order():
    s = StateStore(70)
    rows = [5, 9, 5, 1 << 69, 9, 5, 2]
    keys = s.to_words(rows)
    first, rank = first_occurrences(hash_words(keys), keys)
    assert first.tolist() == [0, 1, 3, 6]
    assert rank.tolist() == [0, 1, 0, 2, 1, 0, 3]


def test_first_occurrences_survive_hash_collisions():
    s = StateStore(70)
    keys = s.to_words([5, 9, 5, 3, 9])
    h = np.zeros(len(keys), np.uint64)                 # every row collides
    first, rank = first_occurrences(h, keys)
    assert first.tolist() == [0, 1, 3] and rank.tolist() == [0, 1, 0, 2, 1]


def test_hash_is_fixed():
    # no PYTHONHASHSEED in it: the same words hash alike in every process (parallel owners)
    s = StateStore(130)
    assert hash_words(s.to_words([0, 1, 1 << 129])).tolist() == [
        0, 3304071513844948202, 7960286522194355700]


def test_packed_states_is_a_sequence_of_ints():
    s = StateStore(64)
    s.append(s.to_words([3, 1, 4, 15]))
    p = PackedStates(s)
    assert len(p) == 4 and p and list(p) == [3, 1, 4, 15] and p[1:3] == [1, 4] and p[::2] == [3, 4]
    assert p == [3, 1, 4, 15] and [3, 1, 4, 15] == p and p != [3, 1, 4]
    assert p.index(4) == 2 and 15 in p and 16 not in p
    with pytest.raises(ValueError):
        p.index(16)
    with pytest.raises(IndexError):
        p[4]


def dict_bfs(system, max_states=10**9):
    """The explorer before the compact store: a dict from packed state to id, one state at a time."""
    succ, _, lay = compile_packed(system)
    init = lay.encode(system.init)
    ids, states = {init: 0}, [init]
    src, dst, act, parent, parent_act = (array("i") for _ in range(5))
    parent.append(0)
    parent_act.append(-1)
    i, overflow, truncated = 0, 0, False
    while i < len(states) and not truncated:
        out, ovf = succ(states[i])
        overflow += bool(ovf)
        for _, a, t in out:
            j = ids.get(t)
            if j is None:
                if len(states) >= max_states:
                    truncated = True
                    break
                j = ids[t] = len(states)
                states.append(t)
                parent.append(i)
                parent_act.append(a)
            src.append(i)
            dst.append(j)
            act.append(a)
        i += 1
    return states, src, dst, act, parent, parent_act, overflow, truncated


def assert_same(g, ref):
    states, src, dst, act, parent, parent_act, overflow, truncated = ref
    assert isinstance(g.packed, PackedStates)
    assert g.packed == states
    assert (g.src, g.dst, g.act) == (src, dst, act)
    assert (g.parent, g.parent_act) == (parent, parent_act)
    assert g.overflow_states == overflow and g.truncated == (truncated or overflow > 0)


@pytest.mark.parametrize("name", ["fig7-lossy", "fig8-no-credential-lossy", "fig7-fifo",
                                  "qm-refused-peer", "guaranteed-encryption"])
def test_compact_store_gives_the_dict_explorers_graph(name):
    g = graph(name)                                    # the session's shared exploration
    assert_same(g, dict_bfs(g.system))
    # states are found through the store, not a dict of the whole graph
    assert g.states.index(g.states[g.n_states - 1]) == g.n_states - 1


@pytest.mark.parametrize("bound", [1, 2, 3, 2048, 2049, 5000, 30_000])
def test_max_states_cuts_where_the_dict_explorer_cuts(bound):
    system = build_system(CATALOG["fig7-lossy"])
    g = explore(system, max_states=bound)
    ref = dict_bfs(system, bound)
    assert_same(g, ref)
    assert g.truncated and g.reason == f"max-states {bound} reached" and g.n_states == bound


def test_bytes_per_state_below_spins():
    # SPIN stores this model's states in 72-84 B each (BENCHMARKS.md); the store's words and
    # table plus the BFS parent pointers take at most 8 * words + 16 + 8 bytes a state
    g = graph("fig7-lossy")
    store = g.packed.store
    per_state = (store.keys.nbytes + store.table.nbytes
                 + len(g.parent) * g.parent.itemsize + len(g.parent_act) * g.parent_act.itemsize) / g.n_states
    assert per_state <= 8 * store.words + 16 + 8 + 1 and per_state < 72
