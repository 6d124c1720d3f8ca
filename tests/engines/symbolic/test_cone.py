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


def test_the_cone_with_the_property_is_inductive_by_independent_queries():
    """S-14 of fig8-silent-peer: ``U ∧ ¬bad`` is inductive (``U`` the lemmas found, possibly
    none: a property may be inductive by itself), ``U`` holds initially and no initial state
    is bad."""
    for prop in ("S-14",):
        system, enc, bad, pool = _setup("fig8-silent-peer", prop)
        got = cone_lemmas(system, pool, bad, budget=60)
        assert got is not None
        kept, checks = got
        assert len(kept) < len(pool.lemmas) and checks >= 1
        init = tuple(f.init for f in system.fields)
        assert all(lem.holds(init) for lem in kept)
        s, t = enc.state("a"), enc.state("b")
        inv_s = z3.And([lem.formula(s) for lem in kept] + [z3.Not(bad(s))])
        inv_t = z3.And([lem.formula(t) for lem in kept] + [z3.Not(bad(t))])
        sol = z3.Solver()
        sol.add(enc.domain(s), inv_s, enc.trans_at(s, t), z3.Not(inv_t))
        assert sol.check() == z3.unsat
        sol = z3.Solver()
        sol.add(enc.init(s), bad(s))
        assert sol.check() == z3.unsat


def test_a_violated_property_gets_no_cone():
    """H-1 fails in require-inbound-auth-failure: a reachable state satisfies every candidate
    and steps to a bad state, so the property is inductive relative to no subset of them."""
    system, _, bad, pool = _setup("require-inbound-auth-failure", "H-1")
    assert cone_lemmas(system, pool, bad, budget=60) is None
