"""Houdini lemmas: mined from the explored states, filtered by z3 to an inductive invariant."""

from __future__ import annotations

import pytest
import z3

from ndcheck import CATALOG, build_system, explore
from ndcheck.engines.symbolic.encode import Encoding
from ndcheck.engines.symbolic.lemmas import (
    Lemma,
    _Index,
    _mine_graph,
    _peer_controls,
    candidates,
    houdini,
    lean,
    mine,
    strengthening,
)


def _system(name="require-inbound-auth-failure"):
    return build_system(CATALOG[name])


def test_mined_lemmas_hold_on_every_explored_state_and_say_something():
    system = _system()
    states = list(explore(system).states)
    lemmas = mine(system, states)
    assert len(lemmas) > len(system.fields)
    assert all(lem.holds(s) for lem in lemmas for s in states)
    # channel multiplicities are never antecedents; pairs of antecedents are control states
    assert not any(system.fields[x].name.startswith("net.") for lem in lemmas for x, _ in lem.when)
    pairs = [lem for lem in lemmas if len(lem.when) == 2]
    assert pairs and all(system.fields[x].kind == "control" for lem in pairs for x, _ in lem.when)


def _reference_full(system, states):
    """The ``full`` candidates by the definition (Python sets, state by state)."""
    n = len(system.fields)
    dom = [frozenset(s[j] for s in states) for j in range(n)]
    out = [Lemma(j, dom[j]) for j in range(n) if dom[j]]
    for i, f in enumerate(system.fields):
        if len(dom[i]) < 2 or f.name.startswith("net."):
            continue
        for j in range(n):
            if j == i or len(dom[j]) < 2:
                continue
            for a in sorted(dom[i]):
                vals = frozenset(s[j] for s in states if s[i] == a)
                if len(vals) < len(dom[j]):
                    out.append(Lemma(j, vals, ((i, a),)))
    for i1, i2 in _peer_controls(system, dom):
        for j in range(n):
            if j in (i1, i2) or len(dom[j]) < 2:
                continue
            seen = {}
            for s in states:
                seen.setdefault((s[i1], s[i2]), set()).add(s[j])
            for (a1, a2), vals in sorted(seen.items()):
                if len(vals) < len(dom[j]):
                    out.append(Lemma(j, frozenset(vals), ((i1, a1), (i2, a2))))
    return out


@pytest.mark.parametrize("name", ["require-inbound-auth-failure", "fig8-silent-peer"])
def test_mining_from_the_packed_columns_is_mining_from_the_state_tuples(name):
    system = _system(name)
    graph = explore(system, symmetry=False)
    states = list(graph.states)
    assert mine(system, states) == _reference_full(system, states)
    for tier in ("full", "core", "lean"):
        assert _mine_graph(system, graph, tier) == mine(system, states, tier)


def test_batch_violations_are_the_union_of_the_single_state_ones():
    import random

    system = _system()
    states = list(explore(system).states)
    lemmas = mine(system, states)
    idx = _Index(lemmas)
    rng = random.Random(7)
    idx.drop(rng.sample(range(len(lemmas)), len(lemmas) // 3))
    for _ in range(200):
        batch = []
        for _ in range(rng.randint(1, 12)):
            s = list(rng.choice(states))
            for _ in range(rng.randint(0, 3)):     # some fields moved, some out of their domain
                f = rng.randrange(len(s))
                s[f] += rng.choice([-2, -1, 1, 3, 9])
            batch.append(tuple(s))
        union = sorted(set().union(*[idx.violated(s) for s in batch]))
        assert idx.violated_any(batch) == union


def test_houdini_result_is_inductive_by_an_independent_query():
    system = _system()
    st = strengthening(system, unbounded=True)
    assert st is not None and 0 < len(st.lemmas) <= st.candidates and st.rounds >= 1
    enc = Encoding(system, unbounded=True)
    s, t = enc.state("a"), enc.state("b")
    init = tuple(f.init for f in system.fields)
    assert all(lem.holds(init) for lem in st.lemmas)
    sol = z3.Solver()
    sol.add(enc.domain(s), st.formula(s), enc.trans_at(s, t), z3.Not(st.formula(t)))
    assert sol.check() == z3.unsat


def test_a_true_but_non_inductive_or_false_candidate_is_dropped():
    """A lemma false in a reachable state (client.tcp never leaves its initial state) cannot
    survive: some step from an H-state falsifies it."""
    system = _system()
    states = list(explore(system).states)
    good = mine(system, states)
    j = system.index["client.tcp"]
    bogus = Lemma(j, frozenset({system.fields[j].init}))
    kept, _ = houdini(system, good + [bogus])
    assert bogus not in kept
    assert set(kept) <= set(good)


def test_lemma_text_uses_field_names_and_labels():
    system = _system()
    j, i = system.index["client.secure"], system.index["client.tcp"]
    lem = Lemma(j, frozenset({0}), ((i, 0),))
    assert lem.text(system) == f"client.tcp = {system.fields[i].label(0)} → client.secure = 0"
    assert not lem.holds(tuple(1 if k == j else 0 for k in range(len(system.fields))))


def test_lean_candidates_are_the_core_ones_without_counter_or_single_antecedent_channel_consequents():
    system = _system()
    states = list(explore(system).states)
    core, lean_ = mine(system, states, "core"), mine(system, states, "lean")
    assert lean_ == [lem for lem in core if lean(system, lem)] and 0 < len(lean_) < len(core)
    for lem in lean_:
        f = system.fields[lem.field]
        assert f.kind in ("control", "bool") or f.name.startswith("net.") and len(lem.when) != 1


@pytest.mark.slow
def test_lean_houdini_proves_the_fig7_properties_full_houdini_was_needed_for():
    """fig7-both-capable: Houdini over the 1,433 lean candidates keeps 984 (unique: the largest
    inductive subset) and they imply H-1, S-3, S-13 and L-6 and the unreachability of the
    triggers of H-1 and L-6; Spacer seeded with them proves S-11 and S-14 (before: Houdini over
    the 2,279 core candidates, 14 s of CPU more)."""
    from ndcheck.checking.symbolic import prove

    system = build_system(CATALOG["fig7-both-capable"])
    h1 = prove(system, "H-1", engine="spacer", unbounded=True)
    assert h1.verdict == "vacuous"
    assert "implied by 984 inductive lemmas (Houdini over 1433 candidates" in h1.note
    st = strengthening(system, unbounded=True, tier="lean", cached_only=True)
    assert st is not None and len(st.lemmas) == 984 and st.overflow_free
    for pid in ("S-3", "S-13", "L-6"):
        r = prove(system, pid, engine="spacer", unbounded=True)
        assert r.verdict in ("holds", "vacuous") and "984 inductive lemmas" in r.note, (pid, r.note)
    for pid in ("S-11", "S-14"):
        r = prove(system, pid, engine="spacer", unbounded=True)
        assert r.verdict == "holds" and "seeded with 984 Houdini lemmas" in r.note, (pid, r.note)


def test_candidate_text_is_the_candidate_formula():
    """The SMT-LIB text Houdini's solver is built from (:func:`lemma_smt`) says what
    :meth:`Lemma.formula` says: z3 proves each pair equivalent (every shape: unary, a range, a
    scattered set, negative values, one and two antecedents)."""
    from ndcheck.engines.symbolic.lemmas import _Text

    system = _system()
    pool = candidates(system, "full")
    extra = [Lemma(0, frozenset({-2, 0, 3})), Lemma(1, frozenset({-1}), ((0, -3),)),
             Lemma(2, frozenset({1, 2, 3}), ((0, 1), (1, 2)))]
    lemmas = pool.lemmas[::7] + extra
    enc = Encoding(system, unbounded=True)
    s, t = enc.state("x"), enc.state("y")
    lits = [z3.Bool(f"l{k}") for k in range(len(lemmas))]
    moved = [z3.Bool(f"m{j}") for j in range(len(system.fields))]
    text = _Text(lemmas, s, t, lits, moved)
    pre = text.parse(text.pre)
    post = text.parse(text.post)
    sol = z3.Solver()
    diffs = [z3.Xor(p, lem.formula(s)) for p, lem in zip(pre, lemmas)]
    diffs += [z3.Xor(p, lem.formula(t)) for p, lem in zip(post, lemmas)]
    sol.add(z3.Or(diffs))
    assert sol.check() == z3.unsat


def test_houdini_with_the_frame_in_its_goal_keeps_what_plain_houdini_keeps():
    """The goal of the solver's Houdini asks only for steps that update one of a candidate's
    fields (``_Search.changed``); the plain loop (:func:`houdini`) asks for any step.  Both
    find the unique largest inductive subset."""
    from ndcheck.engines.symbolic.lemmas import _Search

    system = _system()
    pool = candidates(system, "core")
    plain, _ = houdini(system, pool.lemmas, unbounded=True)
    fresh = type(pool)(system, pool.lemmas, {})
    got, _ = _Search(system, fresh, True).houdini()
    assert set(got) == set(plain) and got


def test_the_lifted_successors_compile_only_once_z3_is_checking():
    """Compiled beside the solver's build, they stole the GIL from its thousands of short z3
    calls (2.1 s instead of 0.9 s on fig7-both-capable): the thread starts at the first check."""
    from ndcheck.engines.symbolic.lemmas import _Search

    system = _system()
    pool = candidates(system, "lean")
    search = _Search(system, type(pool)(system, pool.lemmas, {}), True)
    assert search.walk._thread is None
    search.check(search.idx.active)
    assert search.walk._thread is not None
    assert search.walk.lifted_succ(wait=True)(tuple(f.init for f in system.fields))


def test_a_property_inductive_relative_to_the_lemmas_is_proved_and_checked_independently():
    """``Strengthening.relatively_inductive``: ``H ∧ ¬bad`` is inductive and holds initially
    (an independent z3 query here); a property the explicit engine finds violated never is."""
    from ndcheck.engines.symbolic.bad import bad_formula
    from ndcheck.properties.catalog import get_property

    system = _system()
    st = strengthening(system, unbounded=True, tier="core")
    assert st is not None and st.overflow_free
    enc = Encoding(system, unbounded=True)
    proved = 0
    for pid in ("S-3", "S-14", "S-2", "H-2"):
        bad = bad_formula(enc, get_property(pid))
        used = st.relatively_inductive(enc, bad)
        if used is None:
            continue
        proved += 1
        s, t = enc.state("i1"), enc.state("i2")
        sol = z3.Solver()
        sol.add(enc.domain(s), st.formula(s), z3.Not(bad(s)), enc.trans_at(s, t), bad(t))
        assert sol.check() == z3.unsat
        sol = z3.Solver()
        sol.add(enc.init(s), bad(s))
        assert sol.check() == z3.unsat
    assert proved
    # H-1 is violated in this scenario (the catalog expects it): never relatively inductive
    assert st.relatively_inductive(enc, bad_formula(enc, get_property("H-1"))) is None


def test_distinct_values_are_numpy_unique():
    """Mining's column values (counted over the column's range) equal ``np.unique``: negative,
    one value, wide ranges (the fallback) and an empty column."""
    import numpy as np

    from ndcheck.engines.symbolic.lemmas import _distinct

    rng = np.random.default_rng(7)
    for lo, hi, n in [(0, 1, 1000), (-3, 5, 10_000), (-100, 100, 5), (4, 4, 7), (5, 3_000_000, 100)]:
        col = rng.integers(lo, hi + 1, n, dtype=np.int64)
        got = _distinct(col)
        assert got.tolist() == np.unique(col).tolist(), (lo, hi)
    assert _distinct(np.array([], dtype=np.int64)).tolist() == []


def test_the_walk_does_not_go_on_from_a_state_whose_step_leaves_a_domain():
    """A counterexample to induction is any state inside the domains; from one, a step may set a
    field that is no counter outside its domain, which the explorer's successor function raises
    (``prove fig7-fifo S-3`` stopped with that DomainError).  The walk leaves such a state."""
    from ndcheck.engines.codegen import compile_packed
    from ndcheck.engines.layout import DomainError
    from ndcheck.engines.symbolic.lemmas import _Walker

    system = _system("fig7-fifo")
    succ, _, lay = compile_packed(system)
    head = system.index["net.c2s[0]"]
    field = system.fields[head]

    def raises(state):
        try:
            succ(lay.encode(state))
        except DomainError:
            return True
        return False

    start = next(s[:head] + (v,) + s[head + 1:] for s in explore(system).states
                 for v in range(field.lo, field.hi + 1) if raises(s[:head] + (v,) + s[head + 1:]))
    always = [Lemma(j, frozenset(range(f.lo, f.hi + 1))) for j, f in enumerate(system.fields)]
    idx = _Index(always)
    _Walker(system, [])(start, idx, 100)
    assert idx.active == set(range(len(always)))     # walked without raising, nothing dropped
