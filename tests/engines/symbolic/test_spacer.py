"""Spacer: unbounded proofs with readable invariants, alone or seeded with Houdini lemmas."""

from __future__ import annotations

import pytest

from ndcheck.checking.symbolic import prove

# one representative proof per headline scenario (the full sweep is bench/bench_symbolic.py)
# (S-1 against a silent peer is proved too, but vacuously: no flow is ever Secure there)
UNBOUNDED = [("fig8-silent-peer", "S-1", "vacuous"), ("fig8-silent-peer", "H-1", "holds"),
             ("fig19-require-inbound", "S-3", "holds")]


@pytest.mark.slow
@pytest.mark.parametrize("name,pid,verdict", UNBOUNDED)
def test_spacer_proves_unbounded_with_invariant_in_field_names(name, pid, verdict):
    r = prove(name, pid, engine="spacer", unbounded=True, timeout=120)
    assert r.verdict == verdict, r.note
    assert r.unbounded and r.invariant
    assert "." in r.invariant  # stated over the model's field names (client.secure, ...)


@pytest.mark.slow
def test_seeded_spacer_proves_what_the_lemmas_alone_do_not():
    """ge-marking-after S-14 is not implied by the Houdini lemmas; Spacer seeded with them proves
    it, and the invariant it reports is its own cover conjoined with the lemmas."""
    r = prove("ge-marking-after", "S-14", engine="spacer", unbounded=True, timeout=120)
    assert r.verdict == "holds", r.note
    assert "seeded with" in r.note and "Houdini lemmas" in r.invariant
    assert r.lemmas and all(" " in t for t in r.lemmas)


def test_lemma_proof_reports_the_lemmas_it_used():
    # H-1, not S-1: against a silent peer no flow is ever Secure, so S-1 is vacuous there
    r = prove("fig8-silent-peer", "H-1", engine="spacer", unbounded=True, timeout=120)
    assert r.verdict == "holds" and r.note.startswith("implied by")
    used = r.invariant.splitlines()[1:]
    assert used and {u.strip() for u in used} <= set(r.lemmas)


@pytest.mark.slow
def test_lifted_budgets_are_proved_by_plain_spacer():
    """With symbolic budgets the explored graph says nothing about the reachable states, so no
    lemmas are mined: Spacer proves it alone, for every budget.  (On require-inbound-auth-failure:
    with the model v2 TCP, fig8-silent-peer's lifted-budget proof no longer fits 120 s.)"""
    r = prove("require-inbound-auth-failure", "S-3", engine="spacer", lift_budgets=True, timeout=120)
    assert r.verdict == "holds", r.note
    assert r.lemmas is None and "seeded" not in r.note
    assert r.unbounded and r.invariant and "." in r.invariant


def test_a_spacer_stopped_by_its_time_limit_says_so_in_words():
    """z3 cancels a query past its time limit with a message in bytes; the note showed
    ``spacer: b'canceled'``."""
    import z3

    from ndcheck import CATALOG, build_system
    from ndcheck.engines.symbolic.bad import bad_formula
    from ndcheck.engines.symbolic.encode import Encoding
    from ndcheck.engines.symbolic.spacer import _why, spacer
    from ndcheck.properties.catalog import get_property

    assert _why(z3.Z3Exception(b"canceled")) == "no answer within the time limit (z3: canceled)"
    assert _why(z3.Z3Exception("out of memory")) == "out of memory"
    system = build_system(CATALOG["fig7-premature-timeouts"])
    enc = Encoding(system, unbounded=True)
    bad = bad_formula(enc, get_property("S-11"))
    # the limit counts from the call: here it passes while the rules are built (no query)
    out = spacer(enc, bad, timeout=1e-6)
    assert out.status == "unknown"
    assert out.reason == "spacer: no answer within the time limit (it passed while the Horn clauses were built)"
    # and here during the query (z3 cancels it; or, on a slow machine, again before it):
    # unseeded Spacer does not converge on fig7-both-capable's T-2 (BENCHMARKS.md)
    system = build_system(CATALOG["fig7-both-capable"])
    enc = Encoding(system, unbounded=True)
    out = spacer(enc, bad_formula(enc, get_property("T-2")), timeout=3.0)
    assert out.status == "unknown" and out.reason.startswith("spacer: no answer within the time limit")
    assert out.seconds < 6.0     # the limit holds (z3 stops within a fraction of a second)


def test_an_undetermined_proof_says_which_stages_did_not_decide_it(monkeypatch):
    """T-2 is beyond the mined lemmas even without IPsec (BENCHMARKS.md): with the blocking
    stage left out, the note names the stages before Spacer's time limit, with their counts."""
    import importlib

    from ndcheck import CATALOG, build_system
    from ndcheck.engines.symbolic.prove import prove
    from ndcheck.properties.catalog import get_property

    monkeypatch.setattr(importlib.import_module("ndcheck.engines.symbolic.prove"), "BLOCK_MAX_STATES", 0)
    r = prove(build_system(CATALOG["no-ipsec"]), get_property("T-2"), timeout=4.0)
    assert r.verdict == "undetermined"
    assert r.note.startswith("spacer: no answer within the time limit (")
    assert r.note.endswith(" (before: no small set of the 208 candidates makes T-2 inductive; 55 Houdini "
                           "lemmas (of 208 candidates) neither imply T-2 nor make it inductive)")
