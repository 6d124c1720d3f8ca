"""Seeded faults are always caught: every mutant gets a verdict its scenario does not expect.

Each mutant of :mod:`ndcheck.model.mutants` is explored and checked on the catalog scenarios
that can show it (:func:`ndcheck.cli.mutants.run_mutant`).  Kill rate must be 100%; the
property expected to catch each mutant must be among its catchers; every counterexample replays
through the *mutated* IR and through the python-statemachine instances (the mutants never
change a machine's control flow, only data guards, updates and ND filter outcomes, so the
instance replay must agree too).  A catch by a missing witness (a ``sometimes`` property that
no longer holds) has no trace by nature.
"""

from __future__ import annotations

import json

import pytest

from ndcheck.cli import main
from ndcheck.cli.mutants import run_mutant
from ndcheck.model.mutants import MUTANTS, get_mutant
from ndcheck.model.scenario import CATALOG
from ndcheck.properties.catalog import get_property
from ndcheck.traces.trace import trace_from_commands

#: The property that must catch each mutant (others may catch it too).
CAUGHT_BY = {
    "responder-retransmits": "ND-28",
    "outbound-ignores-secure": "S-1",
    "inbound-accepts-clear-after-secure": "S-2",
    "acquire-gate-ignored": "S-5",
    "sa-installed-before-qm2": "S-14",
    "initiator-ignores-commit-bit": "S-14",
    "ge-flag-dropped": "S-12",
    "boundary-flag-inverted": "S-13",
    "initiator-never-gives-up": "W-7",
    "secure-never-set": "W-4",
    "esp-accepted-without-sa": "H-2",
    "responder-outbound-sa-at-qm2": "S-14",
    "initiator-no-inbound-sa": "S-14",
    "acquire-reset-on-failure": "S-4",
    "nd-vendor-id-ignored": "S-11",
    "ike-failure-blocks-tcp": "L-2",
    "secure-without-sa": "S-3",
    "initiator-sa-ge-wrong": "L-3",
    "ge-flow-never-marked": "W-9",
    "no-rekey-after-expiry": "W-11",
    "delete-ignored": "D-1",
    "ge-mismatch-encapsulates": "S-6",
    "responder-ignores-boundary-flag": "S-13",
    "secure-server-accepts-clear": "S-9",
    "transport-mode-falls-back-to-clear": "S-10",
    "secure-server-never-completes-ike": "H-1",
    "initiator-ignores-mm1-notify": "ND-27",
    "server-never-initiates": "W-9",   # also L-7 (vacuous: no concurrent acquires)
    "server-never-answers": "T-1",
    "out-of-order-segments-discarded": "T-1",
    "budgets-never-restarted": "T-1",
}


@pytest.fixture(scope="module")
def results():
    return {m.name: run_mutant(m) for m in MUTANTS}


def test_the_mutant_catalog():
    assert len(MUTANTS) >= 20
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
    assert set(CAUGHT_BY) == {m.name for m in MUTANTS}
    for m in MUTANTS:
        assert m.description and m.rules, m.name
        assert m.scenarios and set(m.scenarios) <= set(CATALOG), m.name


@pytest.mark.parametrize("name", sorted({s for m in MUTANTS for s in m.scenarios}))
def test_the_unmutated_scenarios_meet_their_expectations(name):
    """The control experiment: without a fault nothing is 'caught' (the session's shared check)."""
    from tests import catalog_cache

    result = catalog_cache.result(name)
    assert not result.truncated
    assert [v.property.id for v in result.verdicts if not v.as_expected] == []


@pytest.mark.parametrize("name", [m.name for m in MUTANTS])
def test_every_mutant_is_caught_by_its_property(name, results):
    r = results[name]
    assert r.caught, f"{name} was not caught"
    assert CAUGHT_BY[name] in r.caught_by, r.caught_by
    assert not r.truncated, f"{name}: exploration truncated on {r.truncated}"


@pytest.mark.parametrize("name", [m.name for m in MUTANTS])
def test_every_counterexample_replays_through_the_mutated_model(name, results):
    mutant = get_mutant(name)
    replayed = 0
    for catch in results[name].catches:
        kind = get_property(catch.property).kind
        if catch.verdict == "violated" and kind != "sometimes":
            assert catch.trace is not None, f"{catch.property} violated without a counterexample"
            trace = catch.trace
            system = mutant.system(catch.scenario)
            # IR interpretation and python-statemachine instances, from scratch
            again = trace_from_commands(system, [s.command for s in trace.steps], catch.property,
                                        trace.kind, trace.loop_start)
            assert again.states == trace.states
            replayed += 1
        else:
            # a witness that disappeared (sometimes: violated) or an expected violation that
            # disappeared (holds): there is no path to show
            assert catch.trace is None
    if get_property(CAUGHT_BY[name]).kind != "sometimes":
        assert replayed, f"{name}: no counterexample among {results[name].caught_by}"


def test_the_kill_rate_is_total_and_the_cli_says_so(tmp_path, capsys):
    out = tmp_path / "mutants.json"
    code = main(["mutants", "nd-vendor-id-ignored", "transport-mode-falls-back-to-clear",
                 "--json", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert "2 of 2 mutants caught" in text
    assert "(replayed)" in text
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc == [
        {"mutant": "nd-vendor-id-ignored", "description": get_mutant("nd-vendor-id-ignored").description,
         "caught_by": ["S-11"]},
        {"mutant": "transport-mode-falls-back-to-clear",
         "description": get_mutant("transport-mode-falls-back-to-clear").description,
         "caught_by": ["S-10"]},
    ]


def test_an_unknown_mutant_is_bad_input(capsys):
    assert main(["mutants", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ndcheck: error: unknown mutant 'nope'; available: outbound-ignores-secure")


def test_module_examples_run():
    """The Examples of the module docstring run (STYLE.md: doctested examples)."""
    import doctest

    import ndcheck.model.mutants as mod

    result = doctest.testmod(mod)
    assert result.attempted > 0 and result.failed == 0
