"""``--engine spin`` (checking/spin.py over engines/spin_search.py): pan's safety verdicts equal
the explicit engine's, counterexamples are pan's trails replayed through the model and the
machine instances, bitstate never says ``holds``, other kinds are reported not checked.

gcc on each pan.c costs seconds, so the fast suite checks one small scenario with an expected
violation (S-14 of nd-client-transport-server, the QM3 race, a never_action property) beside
properties that hold and vacuous ones; the whole catalog is ``python bench/spin_agreement.py``
(BENCHMARKS.md).
"""

from __future__ import annotations

import pytest

from ndcheck.checking.check import check
from ndcheck.checking.spin import NOT_CHECKED, spin_check
from ndcheck.engines.promela import spin_available
from ndcheck.engines.spin_search import bitstate_omission
from ndcheck.model.compose import build_system
from ndcheck.model.scenario import get_scenario
from ndcheck.reports.render import render

pytestmark = pytest.mark.skipif(not spin_available(), reason="spin/gcc not installed (apt-get install -y spin)")

NAME = "nd-client-transport-server"


@pytest.fixture(scope="module")
def explicit():
    return check(NAME)


def test_verdicts_and_trails_equal_the_explicit_engine(explicit):
    res, run = spin_check(NAME)
    assert (res.states, res.edges, res.truncated) == (explicit.states, explicit.edges, False)
    ex = {v.property.id: v for v in explicit.verdicts}
    safety = [v for v in res.verdicts if v.property.safety]
    assert {v.property.id: v.verdict for v in safety} == {i: ex[i].verdict for i in (v.property.id for v in safety)}
    assert {v.verdict for v in safety} >= {"violated", "holds", "vacuous"}
    cx = res.verdict("S-14", "spin")
    assert cx.verdict == "violated" and cx.as_expected and cx.trace is not None
    # breadth-first: pan's trail is as short as the explicit engine's; replayed, it ends firing S-14
    assert len(cx.trace.steps) == len(ex["S-14"].trace.steps)
    assert cx.trace.steps[-1].action == ex["S-14"].trace.steps[-1].action
    # drawn like any trace
    chart = render(cx.trace, build_system(get_scenario(NAME)), "mermaid")
    assert "sequenceDiagram" in chart and "violates S-14" in chart
    assert run.runs >= 2 and run.complete
    others = [v for v in res.verdicts if not v.property.safety]
    assert others and all(v.verdict == "undetermined" and v.note == NOT_CHECKED for v in others)


def test_bitstate_finds_the_violation_and_never_says_holds():
    res, _ = spin_check(NAME, ["S-14", "S-3", "H-1"], bitstate=True, hash_bits=20)
    got = {v.property.id: v.verdict for v in res.verdicts}
    assert got == {"S-14": "violated", "S-3": "undetermined", "H-1": "undetermined"}
    assert res.truncated and "hash factor" in res.reason and "never 'holds'" in res.reason


@pytest.mark.slow
def test_two_cores_agree(explicit):
    res, _ = spin_check(NAME, cores=2)
    ex = {v.property.id: v.verdict for v in explicit.verdicts}
    assert all(v.verdict == ex[v.property.id] for v in res.verdicts if v.property.safety)


def test_bitstate_omission_estimate():
    assert bitstate_omission(0, 20) == 0.0
    assert bitstate_omission(1000, 30) < 1e-15 < bitstate_omission(10**6, 20) < 1.0


def test_no_safety_property_still_sizes_the_space():
    res, run = spin_check(NAME, ["W-1"])
    assert [(v.property.id, v.verdict, v.note) for v in res.verdicts] == [("W-1", "undetermined", NOT_CHECKED)]
    assert (res.states, res.truncated, run.runs) == (140, False, 1)
