"""Blocking against the explored states (:mod:`ndcheck.engines.symbolic.blocking`)."""

from __future__ import annotations

from functools import cache

import pytest
import z3

from ndcheck import CATALOG, build_system, explore
from ndcheck.engines.columns import Columns
from ndcheck.engines.symbolic.bad import bad_formula
from ndcheck.engines.symbolic.blocking import Cube, Explored, block
from ndcheck.engines.symbolic.encode import Encoding
from ndcheck.engines.symbolic.lemmas import strengthening
from ndcheck.engines.symbolic.prove import prove
from ndcheck.properties.catalog import get_property


@cache
def _setup(name: str):
    system = build_system(CATALOG[name])
    graph = explore(system, symmetry=False)
    cols = Columns(graph)
    return system, graph, Explored(system, [cols.column(f.name) for f in system.fields])


def test_a_cube_matches_its_state_and_no_explored_state():
    system, graph, states = _setup("no-ipsec")
    seen = set(graph.states)
    assert all(states.cube(s) is None for s in graph.states)
    # a counter above every explored value: one literal
    s0 = list(graph.states)[-1]
    i = system.index["client.data_retx"]
    high = s0[:i] + (int(states.top[i]) + 3,) + s0[i + 1:]
    assert states.cube(high) == Cube(((i, "≥", int(states.top[i]) + 1),))
    # any unexplored combination of explored values: a cube of it that no explored state matches
    made = 0
    for s in list(graph.states)[:40]:
        for t in list(graph.states)[-40:]:
            mixed = s[:20] + t[20:]
            if mixed in seen:
                continue
            cube = states.cube(mixed)
            assert cube is not None and cube.matches(mixed)
            assert not any(cube.matches(r) for r in graph.states)
            assert len(cube.lits) < len(system.fields)
            made += 1
    assert made > 100


def _independently_inductive(enc: Encoding, lemmas, cubes, bad) -> bool:
    """init ⊨ Inv, Inv ∧ T ⊨ Inv' with T command by command (not the step classes the engine
    used), no step from Inv leaves the domains; Inv = lemmas ∧ ¬cubes ∧ ¬bad."""
    s, t = enc.state("ind_s"), enc.state("ind_t")

    def inv(x):
        return z3.And([lem.formula(x) for lem in lemmas] + [z3.Not(c.formula(x)) for c in cubes]
                      + [z3.Not(bad(x))])

    init = z3.Solver(ctx=s[0].ctx)
    init.add(enc.init(s), z3.Not(inv(s)))
    step = z3.Solver(ctx=s[0].ctx)
    step.add(enc.domain(s), inv(s), enc.trans(s, t), z3.Not(inv(t)))
    leak = z3.Solver(ctx=s[0].ctx)
    leak.add(enc.domain(s), inv(s), enc.leaks(s))
    return init.check() == z3.unsat and step.check() == z3.unsat and leak.check() == z3.unsat


def test_blocking_proves_t2_without_ipsec_and_the_invariant_checks_independently():
    """T-2 (no silent TCP death) on no-ipsec: 149 states, beyond the mined lemmas and beyond
    seeded Spacer (no answer in 600 s, BENCHMARKS.md); the blocking cubes close it."""
    system, graph, states = _setup("no-ipsec")
    enc = Encoding(system, unbounded=True)
    bad = bad_formula(enc, get_property("T-2"))
    seed = strengthening(system, unbounded=True, tier="lean")
    assert seed is not None and seed.overflow_free
    got = block(enc, seed.formula, bad, states, budget=60.0)
    assert got.closed and got.cubes and got.checks == len(got.cubes) + 1
    assert not any(c.matches(r) for c in got.cubes for r in graph.states)
    assert _independently_inductive(enc, seed.lemmas, got.cubes, bad)
    # without the cubes it is not inductive (the stage is needed)
    assert not _independently_inductive(enc, seed.lemmas, [], bad)


def test_prove_uses_blocking_where_the_lemmas_do_not_decide():
    r = prove(build_system(CATALOG["no-ipsec"]), get_property("T-2"))
    assert r.verdict == "holds"
    assert "cubes none of the 149 explored states matches (blocking: " in r.note
    assert r.invariant.startswith("not bad(T-2) ∧ the conjunction of 55 lemmas ∧ ")
    assert r.cubes > 12 and all(lem.startswith("¬(") for lem in r.lemmas[-r.cubes:])
    assert not any(lem.startswith("¬(") for lem in r.lemmas[:-r.cubes])     # the Houdini lemmas first
    assert "more (all of them with --lemmas, and in JSON's lemmas)" in r.invariant


def test_blocking_gives_up_on_a_violated_property_and_past_its_budget():
    """A reachable bad state: a counterexample's pre-state is an explored state (no cube), and
    prove goes on to its counterexample; a budget spent: None."""
    system, _graph, states = _setup("require-inbound-auth-failure")
    enc = Encoding(system, unbounded=True)
    bad = bad_formula(enc, get_property("H-1"))
    seed = strengthening(system, unbounded=True, tier="lean")
    got = block(enc, seed.formula, bad, states, budget=60.0)
    assert got.why == "a counterexample to induction starts in an explored state"
    r = prove(system, get_property("H-1"))
    assert r.verdict == "violated" and r.counterexample is not None
    # found by BMC at once, not after Spacer (nat-boundary T-2: 113 s instead of undetermined)
    assert r.note.startswith("bad state reachable in 6 steps (blocking: a counterexample to "
                             "induction starts in an explored state; bmc)"), r.note
    system, _graph, states = _setup("no-ipsec")
    enc = Encoding(system, unbounded=True)
    seed = strengthening(system, unbounded=True, tier="lean")
    got = block(enc, seed.formula, bad_formula(enc, get_property("T-2")), states, budget=0.0)
    assert not got.closed and got.why == "not closed within 0 s (0 cubes)"


@pytest.mark.parametrize("name", ["fig8-silent-peer", "qm-refused-peer", "fig8-timed"])
def test_blocking_closes_t2_on_the_small_capable_and_failing_scenarios(name):
    r = prove(build_system(CATALOG[name]), get_property("T-2"), timeout=60)
    assert r.verdict == "holds" and "(blocking: " in r.note, r.note


def test_counter_literals_are_widened_to_the_largest_interval_the_explored_states_leave():
    """fig8-timed: a clock far from every value its phase takes is excluded as an interval
    (``x ≥ lo``, ``x ≤ hi``), not value by value: each bound is one step from a value some
    explored state matching the cube's other literals has."""
    system, graph, states = _setup("fig8-timed")
    i = system.index["client.ike_i_clk"]
    top = int(states.top[i])
    widened = 0
    for s in list(graph.states)[::25]:
        for v in (top // 2, top // 3 + 1):
            odd = s[:i] + (v,) + s[i + 1:]
            cube = states.cube(odd)
            if cube is None:
                continue
            assert cube.matches(odd) and not any(cube.matches(r) for r in graph.states)
            for j in {j for j, _, _ in cube.lits if states.counts[j]}:
                rest = Cube(tuple(lit for lit in cube.lits if lit[0] != j))
                assert not any(op == "=" for k, op, _ in cube.lits if k == j)
                for k, op, b in cube.lits:
                    if k != j:
                        continue
                    # one step past the bound, some explored state matches the other literals
                    past = b - 1 if op == "≥" else b + 1
                    assert any(r[j] == past and rest.matches(r) for r in graph.states)
                    widened += k == i
    assert widened > 10


def test_control_literals_are_widened_to_every_value_the_explored_states_leave():
    """no-ipsec, unexplored mixtures of explored states: a control, flag or slot literal holds
    exactly the values no explored state matching the cube's other literals has (``∈``), so a
    value outside it is some such state's; its text names the smaller side (``∉`` for most)."""
    system, graph, states = _setup("no-ipsec")
    seen = set(graph.states)
    sets = 0
    for s in list(graph.states)[:30]:
        for t in list(graph.states)[-30:]:
            mixed = s[:3] + t[3:]
            if mixed in seen or (cube := states.cube(mixed)) is None:
                continue
            for j, op, v in cube.lits:
                if states.counts[j]:
                    continue
                rest = Cube(tuple(lit for lit in cube.lits if lit[0] != j))
                inside = (v,) if op == "=" else v
                taken = {r[j] for r in graph.states if rest.matches(r)}
                assert mixed[j] in inside and not taken & set(inside)
                assert set(range(system.fields[j].lo, system.fields[j].hi + 1)) - set(inside) == taken
                sets += op == "∈"
    assert sets > 5
    f = system.fields[system.index["client.tcp"]]
    most = tuple(u for u in range(f.lo, f.hi + 1) if u != 1)
    assert Cube(((system.index["client.tcp"], "∈", most),)).text(system) == f"¬(client.tcp ∉ {{{f.label(1)}}})"


def test_a_loop_stopped_early_goes_on_from_its_cubes():
    """``start``: the cubes of a loop stopped by its budget (here: after 20 cubes) are where the
    next one begins; it closes with them first, and the invariant checks independently."""
    system, _graph, states = _setup("no-ipsec")
    enc = Encoding(system, unbounded=True)
    bad = bad_formula(enc, get_property("T-2"))
    seed = strengthening(system, unbounded=True, tier="lean")
    first = block(enc, seed.formula, bad, states, budget=60.0, max_cubes=20)
    assert not first.closed and len(first.cubes) == 21
    rest = block(enc, seed.formula, bad, states, budget=60.0, start=first.cubes)
    assert rest.closed and rest.cubes[:21] == first.cubes and len(rest.cubes) > 21
    assert _independently_inductive(enc, seed.lemmas, rest.cubes, bad)


def test_prove_resumes_blocking_after_spacer_with_the_rest_of_its_budget(monkeypatch):
    """A first pass too short to close, Spacer seeded with the lean lemmas without an answer
    (T-2 on no-ipsec: none in 600 s), then the loop goes on from its cubes and closes."""
    import importlib

    mod = importlib.import_module("ndcheck.engines.symbolic.prove")
    monkeypatch.setattr(mod, "BLOCK_BUDGET", 0.05)
    monkeypatch.setattr(mod, "LEAN_SPACER", 1.0)
    monkeypatch.setattr(mod, "budget_for", lambda states: 60.0)
    r = prove(build_system(CATALOG["no-ipsec"]), get_property("T-2"), timeout=120)
    assert r.verdict == "holds", r.note
    assert "resumed after Spacer)" in r.note and r.cubes > 12
    # without the rest of the budget: undetermined, one entry for blocking in the trail
    monkeypatch.setattr(mod, "budget_for", lambda states: 0.05)
    r = prove(build_system(CATALOG["no-ipsec"]), get_property("T-2"), timeout=8)
    assert r.verdict == "undetermined"
    assert r.note.count("blocking against the 149 explored states: not closed within 0 s") == 1, r.note
