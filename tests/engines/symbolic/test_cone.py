"""Property-directed Houdini: a few mined lemmas, inductive by themselves, that exclude the bad states."""

from __future__ import annotations

import pytest
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


# slow: 27 s of CPU (mining fig7-both-capable, Houdini over the cone, the independent queries);
# the default suite was at CI's 10-minute edge on a slow host (BENCHMARKS.md, session 15)
@pytest.mark.slow
def test_the_field_cone_of_s13_is_small_and_its_houdini_lemmas_prove_it_independently(monkeypatch):
    """fig7-both-capable S-13 reads 6 fields; with the fields the commands writing them read,
    20 of 104.  Houdini over the lean candidates about those 20 keeps a set that z3 finds
    inductive (for the whole transition relation, asked independently here), true initially,
    and excluding every bad state of S-13; ``prove`` uses it before full Houdini."""
    from ndcheck.checking.symbolic import prove
    from ndcheck.engines.symbolic import cone
    from ndcheck.engines.symbolic.bad import property_fields
    from ndcheck.engines.symbolic.cone import FIELD_CONE_SHARE, field_cone, field_cone_lemmas

    # the mechanism is under test, not the budget (3 s here; a loaded host may take longer)
    monkeypatch.setattr(cone, "FIELD_CONE_BUDGET", 120.0)
    system = build_system(CATALOG["fig7-both-capable"])
    prop = get_property("S-13")
    names = property_fields(system, prop)
    cone = field_cone(system, names)
    assert len(names) == 6 and {system.index[n] for n in names} <= cone
    assert len(cone) == 20 and len(cone) <= FIELD_CONE_SHARE * len(system.fields)
    # a field outside the cone is one no command writing a cone field reads
    assert len(field_cone(system, {system.fields[j].name for j in cone})) > len(cone)
    enc = Encoding(system, unbounded=True)
    bad = bad_formula(enc, prop)
    got = field_cone_lemmas(system, candidates(system, "lean"), names)
    assert got is not None
    kept, rounds, n_cands, n_fields = got
    # Houdini's answer is unique (the largest inductive subset), so its size is pinned
    assert (n_fields, n_cands, len(kept)) == (20, 344, 144) and rounds >= 1
    assert all(lem.field in cone and all(x in cone for x, _ in lem.when) for lem in kept)
    init = tuple(f.init for f in system.fields)
    assert all(lem.holds(init) for lem in kept)
    s, t = enc.state("fa"), enc.state("fb")
    sol = z3.Solver()
    sol.add(enc.domain(s), *[lem.formula(s) for lem in kept], enc.trans_at(s, t),
            z3.Not(z3.And([lem.formula(t) for lem in kept])))
    assert sol.check() == z3.unsat
    sol = z3.Solver()
    sol.add(enc.domain(s), *[lem.formula(s) for lem in kept], bad(s))
    assert sol.check() == z3.unsat
    r = prove(system, "S-13", engine="spacer", unbounded=True)
    assert r.verdict == "holds" and "the 20 fields S-13 depends on in one step" in r.note


def test_a_large_field_cone_is_not_tried():
    """S-3 of fig7-both-capable reads 6 fields, but the commands writing them read 94 of the
    104: no cheaper than full Houdini, so no answer."""
    from ndcheck.engines.symbolic.bad import property_fields
    from ndcheck.engines.symbolic.cone import field_cone, field_cone_lemmas

    system = build_system(CATALOG["fig7-both-capable"])
    names = property_fields(system, get_property("S-3"))
    assert len(field_cone(system, names)) == 94
    assert field_cone_lemmas(system, candidates(system, "lean"), names) is None
