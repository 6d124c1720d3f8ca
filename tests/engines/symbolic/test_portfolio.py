"""Houdini on two cores: a forked partner with another z3 seed, sharing refutations."""

from __future__ import annotations

import os

import pytest

from ndcheck import CATALOG, build_system
from ndcheck.engines.symbolic import portfolio
from ndcheck.engines.symbolic.lemmas import Candidates, _Search, candidates, houdini

pytestmark = pytest.mark.skipif(not portfolio.available(), reason="needs fork and two cores")


def _pool(name="require-inbound-auth-failure", tier="core"):
    system = build_system(CATALOG[name])
    pool = candidates(system, tier)
    return system, Candidates(system, pool.lemmas, {})   # no refutations shared with other tests


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:   # a zombie is not alive either
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_two_processes_find_the_largest_inductive_subset_and_the_partner_is_gone():
    system, pool = _pool()
    plain, _ = houdini(system, pool.lemmas, unbounded=True)
    search = _Search(system, pool, True)
    assert search.start_partner(seed=7)
    pid = search.partner.pid
    got, _ = search.houdini()
    assert set(got) == set(plain)
    assert search.partner is None and not _alive(pid)


class _Stub:
    """A partner that reports what a test says it found."""

    def __init__(self, drops, answer):
        self.drops, self.answer, self.closed = drops, answer, False

    def take(self):
        drops, self.drops = self.drops, []
        return drops, self.answer

    def send(self, gone):
        pass

    def close(self):
        self.closed = True


def test_a_partner_answer_is_adopted_only_inside_the_active_candidates():
    system, pool = _pool()
    search = _Search(system, pool, True)
    active = sorted(search.idx.active)
    # the partner dropped two candidates and found the rest inductive: adopted as it is
    search.partner = stub = _Stub(active[:2], active[2:])
    assert search._absorb() and stub.closed
    assert sorted(search.idx.active) == active[2:]
    assert pool.known_false[True] >= set(active[:2])
    # an answer with a candidate this side has refuted cannot be right: this side goes on alone
    search.partner = stub = _Stub([], active[:5])
    assert not search._absorb() and stub.closed and search.partner is None
    assert sorted(search.idx.active) == active[2:]


def test_prove_with_two_workers_gives_the_one_worker_verdict():
    from ndcheck.checking.symbolic import prove

    said: list[str] = []
    a = prove("require-inbound-auth-failure", "S-3", engine="spacer", unbounded=True, workers=2,
              progress=said.append)
    b = prove("require-inbound-auth-failure", "S-3", engine="spacer", unbounded=True, workers=1)
    assert any("partner process" in m for m in said)
    assert a.verdict == b.verdict == "holds"


def test_the_cli_default_is_two_workers_and_the_environment_can_say_one(monkeypatch):
    from ndcheck.cli.prove import _default_workers

    monkeypatch.delenv("NDCHECK_PROVE_WORKERS", raising=False)
    assert _default_workers() == 2
    monkeypatch.setenv("NDCHECK_PROVE_WORKERS", "1")
    assert _default_workers() == 1
    monkeypatch.setenv("NDCHECK_PROVE_WORKERS", "many")
    assert _default_workers() == 2

