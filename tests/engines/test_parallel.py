"""The parallel explorer (engines/parallel.py): the sequential explorer's graph from several
processes, truncations reported as such, worker errors raised in the caller."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ndcheck import CATALOG, build_system
from ndcheck.cli import main
from ndcheck.engines import parallel
from ndcheck.engines.explicit import explore
from ndcheck.engines.layout import DomainError
from tests.catalog_cache import graph


def same_graph(a, b) -> bool:
    return (a.packed == b.packed and (a.src, a.dst, a.act) == (b.src, b.dst, b.act)
            and (a.parent, a.parent_act) == (b.parent, b.parent_act)
            and (a.truncated, a.reason, a.overflow_states) == (b.truncated, b.reason, b.overflow_states))


@pytest.mark.parametrize(("name", "workers"), [("fig7-lossy", 2), ("fig8-silent-lossy", 3),
                                               ("qm-refused-peer", 2)])
def test_same_graph_as_sequential(name, workers):
    seq = graph(name)
    par = explore(seq.system, workers=workers)
    assert par.n_states == seq.n_states and par.n_edges == seq.n_edges
    assert same_graph(par, seq)          # same ids, edges and parents: traces are unchanged
    assert not par.truncated


@pytest.fixture(scope="module")
def lossy():
    return build_system(CATALOG["fig7-lossy"])


@pytest.mark.parametrize("bound", [1, 2, 3, 1000, 30_000])
def test_max_states_truncates_like_sequential(lossy, bound):
    seq = explore(lossy, max_states=bound)
    par = explore(lossy, max_states=bound, workers=2)
    assert par.truncated and par.reason == f"max-states {bound} reached" and par.n_states == bound
    assert same_graph(par, seq)


def test_bound_equal_to_the_state_count_is_complete(lossy):
    n = graph("fig7-lossy").n_states
    par = explore(lossy, max_states=n, workers=2)
    assert not par.truncated and par.n_states == n


def test_timeout_is_truncated_never_complete(lossy):
    par = explore(lossy, timeout=0.0, workers=2)
    assert par.truncated and par.reason.startswith("timeout")
    assert par.n_states < graph("fig7-lossy").n_states


def test_overflow_states_are_counted_and_truncate():
    sc = CATALOG["nd-client-transport-server"]
    system = build_system(replace(sc, network=replace(sc.network, capacity=1, duplicate=1)))
    seq = explore(system)
    par = explore(system, workers=2)
    assert seq.overflow_states > 0 and same_graph(par, seq)
    assert par.truncated and "capacity" in par.reason


def test_a_worker_error_is_raised_in_the_caller(lossy, monkeypatch):
    def broken(conn, system, me, workers, folder):
        raise DomainError("field 'x' out of its domain")

    monkeypatch.setattr(parallel, "_work", broken)   # forked workers inherit the patch
    with pytest.raises(DomainError, match="out of its domain"):
        explore(lossy, workers=2)


def test_cli_workers_flag(capsys):
    assert main(["explore", "fig8-silent-lossy", "--workers", "2", "--json"]) == 0
    out = capsys.readouterr().out
    g = graph("fig8-silent-lossy")
    assert f'"states": {g.n_states}' in out and f'"edges": {g.n_edges}' in out
    assert main(["check", "fig8-icmp-peer", "-q", "--workers", "2"]) == 0


@pytest.mark.parametrize("collide", [False, True])
def test_least_tags_is_first_occurrence_in_tag_order(collide):
    import numpy as np

    from ndcheck.engines.store import first_occurrences, hash_words

    rng = np.random.default_rng(7)
    keys = rng.integers(0, 50, size=(2000, 2)).astype(np.uint64)
    tags = rng.permutation(10_000)[:2000].astype(np.int64)
    h = hash_words(keys)
    if collide:                       # distinct rows with one hash: resolved by exact keys
        h = h % np.uint64(7)
    first, rank = parallel.least_tags(tags, h, keys)
    by_tag = np.argsort(tags)
    f, r = first_occurrences(hash_words(keys[by_tag]), keys[by_tag])
    assert first.tolist() == by_tag[f].tolist()
    assert rank[by_tag].tolist() == r.tolist()


def test_the_memory_guard_counts_the_workers(monkeypatch):
    """The parallel explorer's memory bound is on the coordinator and its workers together
    (proportional set sizes, so pages shared since the fork count once): 10 MB here and
    300 MB in each worker trips a 500 MB limit that the coordinator alone never would."""
    from ndcheck.engines import memguard

    seen: set = set()

    def fake_pss(pid="self"):
        seen.add(pid)
        return 10.0 if pid == "self" else 300.0

    monkeypatch.setattr(memguard, "pss_mb", fake_pss)
    system = build_system(CATALOG["fig7-lossy"].with_bounds(max_memory=500))
    par = explore(system, workers=2)
    assert par.truncated and par.reason == "memory limit 500 MB reached (610 MB resident by 3 processes)"
    assert len(seen - {"self"}) == 2
    assert memguard.group_mb(()) == 10.0
