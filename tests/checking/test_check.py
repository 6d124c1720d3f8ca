"""Semantics of the explicit checker on hand-made systems: each kind, fairness, truncation, expectations."""

from __future__ import annotations

import dataclasses

import pytest

from ndcheck import CATALOG, build_system, explore
from ndcheck.checking.check import EngineUnavailable, check, check_graph
from ndcheck.checking.results import Verdict
from ndcheck.engines.pyexpr import compile_predicate
from ndcheck.model.ir import TRUE, C, Command, F, Field, System, add, eq, evaluate, lt
from ndcheck.model.scenario import ScenarioError
from ndcheck.properties.base import Property


def _system(commands, fields=None) -> System:
    """A machine-free system: x counts, y is a flag; traces replay through the IR only."""
    fields = fields or [Field("x", 0, 3, 0), Field("y", 0, 1, 0, "bool")]
    return System("toy", fields, commands, {})


INC = Command("inc", lt(F("x"), 3), (("x", add(F("x"), 1)),), kind="local")
SET_Y = Command("set_y", eq(F("x"), 2), (("y", C(1)),), kind="local")
RESET = Command("reset", eq(F("x"), 3), (("x", C(0)),), kind="local")


def prop(kind, **kw):
    return Property(id="T-1", name="toy", kind=kind, claim="Toy.", rules=("ND-8",), **kw)


def test_always_shortest_counterexample():
    g = explore(_system([INC, SET_Y]))
    r = check_graph(g, [prop("always", state=lambda s: lt(F("x"), 2))])
    v = r.verdicts[0]
    assert v.verdict == "violated" and [s.action for s in v.trace.steps] == ["inc", "inc"]
    assert check_graph(g, [prop("always", state=lambda s: lt(F("x"), 4))]).verdicts[0].verdict == "holds"


def test_never_action_with_pre_state_condition():
    g = explore(_system([INC, SET_Y]))
    sel = prop("never_action", actions=lambda s, c: c.name == "inc")
    v = check_graph(g, [sel]).verdicts[0]
    assert v.verdict == "violated" and [s.action for s in v.trace.steps] == ["inc"]
    # inc fires from x == 2 only after... the pre narrows the firing to y == 1: set_y first.
    narrowed = dataclasses.replace(sel, pre=lambda s, c: eq(F("y"), 1))
    v = check_graph(g, [narrowed]).verdicts[0]
    assert [s.action for s in v.trace.steps] == ["inc", "inc", "set_y", "inc"]
    never = dataclasses.replace(sel, pre=lambda s, c: eq(F("x"), 3))
    assert check_graph(g, [never]).verdicts[0].verdict == "holds"


def test_sometimes_witness_or_violation():
    g = explore(_system([INC, SET_Y]))
    v = check_graph(g, [prop("sometimes", state=lambda s: eq(F("y"), 1))]).verdicts[0]
    assert v.verdict == "holds" and v.trace.kind == "witness" and len(v.trace.steps) == 3
    v = check_graph(g, [prop("sometimes", state=lambda s: eq(F("x"), 5))]).verdicts[0]
    assert v.verdict == "violated" and v.trace is None


def test_eventually_on_bottom_sccs():
    # inc* reaches x=3 (final).  set_y at x=2 leads to the same end.
    g = explore(_system([INC, SET_Y]))
    assert check_graph(g, [prop("eventually", state=lambda s: eq(F("x"), 3))]).verdicts[0].verdict == "holds"
    v = check_graph(g, [prop("eventually", state=lambda s: eq(F("y"), 1))]).verdicts[0]
    assert v.verdict == "violated" and v.trace.kind == "lasso"
    assert v.trace.loop_start == 3 and [s.action for s in v.trace.steps] == ["inc", "inc", "inc"]


def test_eventually_fairness_leaves_non_bottom_cycles():
    # x cycles 0..3 -> 0 forever unless set_y (enabled at x == 2) fires; with set_y the
    # component x,y=1 is the bottom one.  A path that cycles forever ignoring set_y is unfair.
    g = explore(_system([INC, SET_Y, RESET]))
    assert check_graph(g, [prop("eventually", state=lambda s: eq(F("y"), 1))]).verdicts[0].verdict == "holds"


def test_eventually_lasso_has_the_loop():
    stay = Command("stay", eq(F("x"), 1), (("x", C(1)),), kind="local")
    g = explore(_system([INC, stay]))
    v = check_graph(g, [prop("eventually", state=lambda s: eq(F("y"), 1))]).verdicts[0]
    # x=3 is the only bottom SCC (no goal there); the trace ends in it without a loop step.
    assert v.verdict == "violated" and v.trace.loop_start == len(v.trace.steps)
    loop = Command("loop", eq(F("x"), 3), (("y", C(0)),), kind="local")
    v = check_graph(explore(_system([INC, loop])),
                    [prop("eventually", state=lambda s: eq(F("y"), 1))]).verdicts[0]
    assert [s.action for s in v.trace.steps] == ["inc", "inc", "inc", "loop"]
    assert v.trace.loop_start == 3


def test_eventually_trigger():
    g = explore(_system([INC, SET_Y]))
    p = prop("eventually", trigger=lambda s: eq(F("y"), 1), state=lambda s: eq(F("x"), 3))
    assert check_graph(g, [p]).verdicts[0].verdict == "holds"


def _triggered(kind, trigger, id="T-1", **kw):
    """A toy property with a trigger (distinct ids: the z3 engine caches formulas by id)."""
    return dataclasses.replace(prop(kind, trigger=trigger, antecedent="the toy's trigger holds", **kw),
                               id=id)


Y_SET = lambda s: eq(F("y"), 1)   # reachable only with SET_Y
X_TWO = lambda s: eq(F("x"), 2)   # always reachable


def test_unreachable_trigger_is_vacuous_never_holds():
    g = explore(_system([INC]))                     # y stays 0: the trigger y = 1 is unreachable
    props = [_triggered("always", Y_SET, state=lambda s: lt(F("x"), 4)),
             _triggered("never_action", Y_SET, actions=lambda s, c: c.name == "inc",
                        pre=lambda s, c: eq(F("x"), 3)),
             _triggered("eventually", Y_SET, state=lambda s: eq(F("x"), 3))]
    for p in props:
        v = check_graph(g, [p]).verdicts[0]
        assert (v.verdict, v.trace) == ("vacuous", None), p.kind
        assert v.note == "no reachable state where the toy's trigger holds"
        assert v.outcome == "vacuous" and v.as_expected          # no expectation
    # the same properties with the trigger reachable hold
    g = explore(_system([INC, SET_Y]))
    assert [check_graph(g, [p]).verdicts[0].verdict for p in props] == ["holds"] * 3
    # a property without a trigger is never vacuous
    assert check_graph(g, [prop("always", state=lambda s: lt(F("x"), 4))]).verdicts[0].verdict == "holds"


def test_violated_stays_violated_whatever_the_trigger():
    g = explore(_system([INC]))
    p = _triggered("always", Y_SET, state=lambda s: lt(F("x"), 2))   # refuted, trigger unreachable
    assert check_graph(g, [p]).verdicts[0].verdict == "violated"
    lasso = _triggered("eventually", X_TWO, state=lambda s: eq(F("y"), 1))
    assert check_graph(g, [lasso]).verdicts[0].verdict == "violated"


def test_truncated_graph_is_undetermined_not_vacuous():
    # the trigger x = 3 lies beyond the frontier of a 2-state search
    g = explore(_system([INC]), max_states=2)
    assert g.truncated
    for p in (_triggered("always", lambda s: eq(F("x"), 3), state=lambda s: lt(F("x"), 4)),
              _triggered("eventually", lambda s: eq(F("x"), 3), state=lambda s: eq(F("x"), 3))):
        assert check_graph(g, [p]).verdicts[0].verdict == "undetermined", p.kind
    # on a catalog scenario too: H-1 is vacuous on the whole graph, undetermined on a part
    r = check("fig7-both-capable", ["H-1", "L-1", "L-6"], max_states=50, traces=False)
    assert r.truncated and {v.verdict for v in r.verdicts} == {"undetermined"}


def test_z3_and_explicit_agree_on_vacuous():
    g = explore(_system([INC]))
    props = [_triggered("always", Y_SET, "T-1", state=lambda s: lt(F("x"), 4)),
             _triggered("never_action", Y_SET, "T-2", actions=lambda s, c: c.name == "inc",
                        pre=lambda s, c: eq(F("y"), 1)),
             _triggered("never_action", X_TWO, "T-3", actions=lambda s, c: c.name == "inc",
                        pre=lambda s, c: eq(F("x"), 3))]
    for p in props:
        r = check_graph(g, [p], engine="both", traces=False)
        by = {v.engine: v for v in r.verdicts}
        assert by["explicit"].verdict == by["z3"].verdict, (p.id, by)
        assert "engines disagree" not in by["z3"].note
    verdicts = [check_graph(g, [p], engine="z3").verdicts[0].verdict for p in props]
    assert verdicts == ["vacuous", "vacuous", "holds"]
    # the certificate-free ladder (Houdini lemmas, k-induction, Spacer) decides vacuity too
    from ndcheck.checking.symbolic import check_safeties
    assert [r.verdict for r in check_safeties(g.system, props, certificate=False)] == verdicts


def test_z3_vacuity_undetermined_when_the_trigger_query_is(monkeypatch):
    """holds + "never trigger" undetermined = undetermined; holds + "never trigger" violated = holds."""
    import types

    from ndcheck.checking import symbolic
    from ndcheck.engines.symbolic import ProofResult

    answer = {}

    def fake(system, props, timeout=None, certificate=True, traces=True):
        return [ProofResult(answer["never trigger"] if isinstance(p, symbolic.NeverTrigger)
                            else "holds", "z3", p.id, system.name, note="fake") for p in props]

    monkeypatch.setattr(symbolic, "z3_engine", lambda: types.SimpleNamespace(check_safeties=fake))
    system = _system([INC])
    p = _triggered("always", Y_SET, state=lambda s: lt(F("x"), 4))
    for engine_says, verdict in (("undetermined", "undetermined"), ("violated", "holds"),
                                 ("holds", "vacuous")):
        answer["never trigger"] = engine_says
        assert symbolic.check_safeties(system, [p])[0].verdict == verdict


def test_expected_holds_met_by_vacuous_is_a_mismatch():
    sc = CATALOG["fig7-both-capable"]
    r = check(dataclasses.replace(sc, expect={"H-1": "holds"}), ["H-1", "S-1"], traces=False)
    h1 = r.verdict("H-1")
    assert (h1.verdict, h1.expected, h1.outcome) == ("vacuous", "holds", "unexpected")
    assert [v.property.id for v in r.unexpected] == ["H-1"] and not r.as_expected
    r = check(sc, ["H-1"], traces=False)                     # the catalog expects vacuous
    assert r.as_expected and r.verdict("H-1").outcome == "vacuous"


def test_vacuous_verdict_json():
    doc = check("fig7-both-capable", properties=["H-1", "L-1", "S-1"], traces=False).to_json()
    by = {p["id"]: p for p in doc["properties"]}
    assert by["H-1"] == {**by["H-1"], "verdict": "vacuous", "expected": "vacuous", "trace": None}
    assert by["L-1"]["verdict"] == "vacuous" and by["S-1"]["verdict"] == "holds"


def test_truncation_is_never_a_pass():
    r = check("fig7-both-capable", max_states=50)
    assert r.truncated and r.states == 50
    kinds = {v.property.id: v.verdict for v in r.verdicts}
    assert set(kinds.values()) <= {"undetermined", "holds", "violated"}       # never vacuous
    assert kinds["H-1"] == kinds["S-1"] == kinds["L-3"] == "undetermined"
    # A witness found within the bound is still a witness.
    assert kinds["W-1"] == "holds"
    assert r.undetermined and not r.as_expected


def test_refutation_survives_truncation():
    r = check("guaranteed-encryption", properties=["S-7"], max_states=5)
    assert r.truncated and r.verdict("S-7").verdict == "violated"


def test_compile_predicate_agrees_with_evaluate():
    system = build_system(CATALOG["fig7-fifo"])
    g = explore(system)
    from ndcheck.properties.catalog import PROPERTIES
    exprs = [p.state(system) for p in PROPERTIES if p.state and p.applies(system)]
    exprs += [c.guard for c in system.commands[:40]]
    for e in exprs:
        f = compile_predicate(system, e)
        for s in list(g.states)[::37]:
            assert bool(f(s)) == bool(evaluate(e, system.getter(s)))


def test_expectations_validated():
    sc = CATALOG["fig8-silent-peer"]
    bad = dataclasses.replace(sc, expect={"S-99": "holds"})
    with pytest.raises(ScenarioError, match="unknown property 'S-99'"):
        check(bad)
    inapplicable = dataclasses.replace(sc, expect={"S-7": "violated"})
    with pytest.raises(ScenarioError, match="S-7 .* does not apply"):
        check(inapplicable)
    # S-1, S-2: no flow is ever Secure against a silent peer (vacuous, not holds)
    wrong = dataclasses.replace(sc, expect={"H-1": "violated", "S-1": "vacuous", "S-2": "vacuous"})
    r = check(wrong)
    assert not r.as_expected and [v.property.id for v in r.unexpected] == ["H-1"]
    # Some entries: a property without one is expected to hold.
    r = check(dataclasses.replace(sc, expect={"H-1": "holds"}))
    assert len(r.verdicts) == 15 and all(v.expected == "holds" for v in r.verdicts)


def test_no_expect_table_means_no_expectation_unless_strict():
    sc = dataclasses.replace(CATALOG["nd-client-transport-server"], expect={})
    r = check(sc)
    assert all(v.expected is None and v.as_expected for v in r.verdicts)
    assert {v.property.id: v.outcome for v in r.verdicts if v.outcome != "expected"} == {
        "H-1": "vacuous", "L-1": "vacuous", "L-6": "vacuous"}      # IKE cannot fail here
    assert r.as_expected and r.unexpected == [] and r.undetermined == []
    violated = [v.property.id for v in r.verdicts if v.verdict == "violated"]
    assert violated == ["S-14"]
    assert [p["expected"] for p in r.to_json()["properties"]] == [None] * 22
    strict = check(sc, strict=True)
    assert all(v.expected == "holds" for v in strict.verdicts)
    # strict: a missing entry means holds, which a vacuous verdict does not meet either
    assert [v.property.id for v in strict.unexpected] == ["H-1", "S-14", "L-1", "L-6"]
    # Undetermined without an expectation still counts as undetermined (exit 3, not 0).
    cut = check(sc, max_states=40, traces=False)
    # (only W-1 has its witness within 40 states: the server's own IKE steps interleave too)
    assert cut.truncated and cut.unexpected == [] and len(cut.undetermined) == 21
    assert {v.outcome for v in cut.undetermined} == {"undetermined"}


def test_catalog_expectations_unchanged_by_strict():
    from tests import catalog_cache

    for name in ("qm3-race", "fig8-silent-peer"):
        g = catalog_cache.graph(name)
        loose, strict = check_graph(g, traces=False), check_graph(g, traces=False, strict=True)
        assert [v.expected for v in loose.verdicts] == [v.expected for v in strict.verdicts]
        assert None not in [v.expected for v in loose.verdicts] and loose.as_expected


def test_progress_called_before_each_property():
    g = explore(build_system(CATALOG["fig8-silent-peer"]))
    calls = []
    r = check_graph(g, traces=False, progress=lambda done, total, p: calls.append((done, total, p.id)))
    ids = [v.property.id for v in r.verdicts]
    assert calls == [(i, 15, pid) for i, pid in enumerate(ids)]
    assert ids[:3] == ["H-1", "S-1", "S-2"]


def test_verdict_json_shape():
    r = check("guaranteed-encryption", properties=["S-7", "H-2"])
    doc = r.to_json()
    assert set(doc) == {"scenario", "states", "edges", "truncated", "seconds", "properties"}
    s7 = next(p for p in doc["properties"] if p["id"] == "S-7")
    assert s7 == {**s7, "name": "ge_flow_never_sent_clear", "kind": "never_action",
                  "verdict": "violated", "expected": "violated", "engine": "explicit"}
    assert s7["trace"][0] == {"step": 1, "action": s7["trace"][0]["action"],
                              "wire": "client>server SYN clear; client>server MM1",
                              "changes": s7["trace"][0]["changes"]}
    assert next(p for p in doc["properties"] if p["id"] == "H-2")["trace"] is None


def test_z3_engine_unavailable_or_used(monkeypatch):
    import sys

    from ndcheck.checking import check as check_module
    from ndcheck.engines.symbolic import ProofResult

    with monkeypatch.context() as m:   # z3 not installed: the engine cannot be imported
        m.setitem(sys.modules, "ndcheck.engines.symbolic", None)
        with pytest.raises(EngineUnavailable, match="--engine explicit"):
            check("fig8-silent-peer", engine="z3")

    def fake(system, p, timeout=None):   # the catalog's expectation, but H-2 violated
        verdict = "violated" if p.id == "H-2" else CATALOG["fig7-fifo"].expect[p.id]
        return ProofResult(verdict, "z3", p.id, system.name)

    monkeypatch.setattr(check_module, "check_safety", fake)
    r = check("fig7-fifo", engine="both", traces=False)
    z3 = [v for v in r.verdicts if v.engine == "z3"]
    assert z3 and all(v.property.safety for v in z3)
    h2 = [v for v in r.verdicts if v.property.id == "H-2"]
    assert {v.engine: v.verdict for v in h2} == {"explicit": "holds", "z3": "violated"}
    assert all("engines disagree" in v.note for v in h2)
    assert [v.property.id for v in r.unexpected] == ["H-2"]


def test_verdict_as_expected():
    p = prop("always", state=lambda s: TRUE)
    assert Verdict(p, "holds").as_expected and not Verdict(p, "violated", expected="holds").as_expected


def test_verdict_outcome():
    p = prop("always", state=lambda s: TRUE)
    cases = [("violated", "violated", "expected"), ("holds", None, "expected"),
             ("violated", None, "expected"), ("violated", "holds", "unexpected"),
             ("holds", "violated", "unexpected"), ("undetermined", "holds", "undetermined"),
             ("undetermined", None, "undetermined"), ("undetermined", "undetermined", "expected"),
             ("vacuous", None, "vacuous"), ("vacuous", "vacuous", "vacuous"),
             ("vacuous", "violated", "unexpected")]
    assert [Verdict(p, v, expected=e).outcome for v, e, _ in cases] == [o for _, _, o in cases]


def test_an_expected_violation_carries_its_cause():
    r = check("nat-boundary", ["S-1", "T-1", "S-2"], traces=False)
    s1, l3, s2 = (r.verdict(p) for p in ("S-1", "T-1", "S-2"))
    assert s1.cause == CATALOG["nat-boundary"].causes["S-1"] and s1.cause.kind == "spec"
    assert s1.cause.rules == ("ND-13", "ND-19", "A-1", "A-9") and l3.cause.kind == "spec"
    assert s2.cause is None and s2.expected == "holds"
    by = {p["id"]: p for p in r.to_json()["properties"]}
    assert (by["S-1"]["cause"], by["S-1"]["rules"], by["S-1"]["note"]) == (
        "spec", ["ND-13", "ND-19", "A-1", "A-9"], s1.cause.note)
    assert "cause" not in by["S-2"]
    # the cause follows the [expect] key, written as a property name too
    sc = CATALOG["nat-boundary"]
    renamed = dataclasses.replace(sc, expect={"secure_flow_never_sends_clear": "violated"},
                                  causes={"secure_flow_never_sends_clear": sc.causes["S-1"]})
    assert check(renamed, ["S-1"], traces=False).verdict("S-1").cause == sc.causes["S-1"]
    # the z3 engine's verdicts say it as well
    both = check("require-inbound-auth-failure", ["H-1"], traces=False, engine="both")
    assert {v.engine: v.cause.kind for v in both.verdicts} == {"explicit": "policy", "z3": "policy"}
