"""Property-directed Houdini: a few mined lemmas, inductive by themselves, that exclude the bad states."""

from __future__ import annotations

import z3

from ndcheck import CATALOG, build_system
from ndcheck.engines.symbolic.bad import bad_formula
from ndcheck.engines.symbolic.cone import cone_lemmas
from ndcheck.engines.symbolic.encode import Encoding
from ndcheck.engines.symbolic.lemmas import candidates
from ndcheck.properties.catalog import get_property


def _setup(name: str, prop: str):
    system = build_system(CATALOG[name])
    enc = Encoding(system, unbounded=True)
    return system, enc, bad_formula(enc, get_property(prop)), candidates(system, "core")


def test_the_cone_is_inductive_and_excludes_bad_by_independent_queries():
    system, enc, bad, pool = _setup("fig8-silent-peer", "S-3")
    got = cone_lemmas(system, pool, bad, budget=60)
    assert got is not None
    kept, checks = got
    assert 0 < len(kept) < len(pool.lemmas) and checks >= 2
    init = tuple(f.init for f in system.fields)
    assert all(lem.holds(init) for lem in kept)
    s, t = enc.state("a"), enc.state("b")
    inv = lambda v: z3.And([lem.formula(v) for lem in kept])
    sol = z3.Solver()
    sol.add(enc.domain(s), inv(s), enc.trans_at(s, t), z3.Not(inv(t)))
    assert sol.check() == z3.unsat
    sol = z3.Solver()
    sol.add(enc.domain(s), inv(s), bad(s))
    assert sol.check() == z3.unsat


def test_a_violated_property_gets_no_cone():
    """H-1 fails in require-inbound-auth-failure: every candidate holds in the reachable bad
    state, so no subset of them excludes it."""
    system, _, bad, pool = _setup("require-inbound-auth-failure", "H-1")
    assert cone_lemmas(system, pool, bad, budget=60) is None
