"""The certificate-free ladder of :mod:`ndcheck.engines.symbolic.bounded` on hand-made systems."""

from __future__ import annotations

import z3

from ndcheck.engines.symbolic.bad import bad_formula
from ndcheck.engines.symbolic.bounded import check_safeties
from ndcheck.engines.symbolic.encode import Encoding
from ndcheck.engines.symbolic.lemmas import seed_tier, strengthening
from ndcheck.model.ir import Command, F, Field, System, add, and_, eq, lt
from ndcheck.properties.base import Property

# x and y count up together, x up to 2 (y's guard only keeps the step inside y's domain): x = y
# in every reachable state.  The mined candidates are about one field each (no counter is an
# antecedent), so none says x = y: the property is not implied by the lemmas, but it is
# inductive relative to them.
_FIELDS = [Field("x", 0, 3, 0), Field("y", 0, 3, 0)]
_BOTH = Command("both", and_(lt(F("x"), 2), lt(F("y"), 3)),
                (("x", add(F("x"), 1)), ("y", add(F("y"), 1))), kind="local")
_EQUAL = Property(id="T-1", name="equal", kind="always", claim="x = y.", rules=("ND-8",),
                  state=lambda s: eq(F("x"), F("y")))


def test_a_property_inductive_relative_to_the_seed_lemmas_holds_without_a_certificate():
    system = System("toy-equal", list(_FIELDS), [_BOTH], {})
    [r] = check_safeties(system, [_EQUAL], timeout=60, certificate=False)
    assert r.verdict == "holds"
    assert r.note.startswith("inductive relative to ") and "no initial state is bad" in r.note
    # the lemmas are those of the tier prove() seeds with (cached: no second Houdini pass)
    tier = seed_tier(system)
    seed = strengthening(system, unbounded=True, tier=tier, cached_only=True)
    assert seed is not None and seed.overflow_free
    # independently: the lemmas do not imply x = y, and H ∧ x = y ∧ T ∧ x' ≠ y' is unsat
    enc = Encoding(system, unbounded=True)
    bad = bad_formula(enc, _EQUAL)
    s, t = enc.state("s"), enc.state("t")
    implied = z3.Solver()
    implied.add(enc.domain(s), seed.formula(s), bad(s))
    assert implied.check() == z3.sat
    step = z3.Solver()
    step.add(enc.domain(s), seed.formula(s), z3.Not(bad(s)), enc.trans(s, t), bad(t))
    assert step.check() == z3.unsat


def test_a_property_that_is_not_relatively_inductive_is_left_to_the_later_stages():
    # x only: y never moves, so x = y fails at x = 1 and BMC finds it
    only_x = Command("only_x", lt(F("x"), 2), (("x", add(F("x"), 1)),), kind="local")
    system = System("toy-apart", list(_FIELDS), [only_x], {})
    [r] = check_safeties(system, [_EQUAL], timeout=60, certificate=False)
    assert r.verdict == "violated" and r.note.endswith("counterexample of 1 steps, replayed")
    assert list(r.counterexample.commands) == [0]          # one only_x step, replayed


def test_without_lemmas_bmc_runs_before_spacer(monkeypatch):
    # Houdini did not finish (here: stubbed out); BMC with the breadth-first hints finds the
    # violation, not Spacer
    from ndcheck.engines.symbolic import bounded

    monkeypatch.setattr(bounded, "strengthening", lambda *a, **k: None)
    asked = []
    real_prove = bounded.prove

    def prove(system, prop, engine="spacer", **kw):
        asked.append(engine)
        return real_prove(system, prop, engine=engine, **kw)

    monkeypatch.setattr(bounded, "prove", prove)
    only_x = Command("only_x", lt(F("x"), 2), (("x", add(F("x"), 1)),), kind="local")
    system = System("toy-apart-unseeded", list(_FIELDS), [only_x], {})
    [r] = check_safeties(system, [_EQUAL], timeout=60, certificate=False)
    assert r.verdict == "violated" and r.note.startswith("bmc depth 1: counterexample of 1 steps")
    assert asked == ["bmc"] and r.engine == "z3"
