"""Progress of ``prove``: a side channel telling the engine's phases; the results do not change."""

from __future__ import annotations

import re

import pytest

from ndcheck import CATALOG, build_system
from ndcheck.checking.symbolic import prove
from ndcheck.engines.symbolic.lemmas import strengthening


def _index(messages: list[str], prefix: str) -> int:
    return next(i for i, m in enumerate(messages) if m.startswith(prefix))


def test_spacer_reports_mining_then_the_cone_search_and_the_verdict_is_unchanged(monkeypatch):
    from ndcheck.engines.symbolic import cone

    # the mechanism is under test, not the budget: 1 CPU s (3 s of wall clock) ran out once at
    # load 3 on 2 cores, and prove() then fell back to full Houdini (same verdict, other note)
    monkeypatch.setattr(cone, "BUDGET", 30.0)
    messages: list[str] = []
    r = prove("fig8-silent-peer", "S-3", engine="spacer", unbounded=True, progress=messages.append)
    assert r.verdict == "holds"
    assert all(isinstance(m, str) and m for m in messages)
    # S-3 follows from a few lemmas found by the property-directed search (.cone)
    assert _index(messages, "houdini: mining") < _index(messages, "houdini cone")
    assert "property-directed Houdini" in r.note
    quiet = prove("fig8-silent-peer", "S-3", engine="spacer", unbounded=True)
    # the small lemma set is not unique: which one z3's cores lead to can differ between two
    # systems built in one process (z3's term table is shared); the verdict and the kind of proof
    # cannot
    assert quiet.verdict == r.verdict and "property-directed Houdini" in quiet.note


def test_houdini_rounds_count_down_the_candidates():
    messages: list[str] = []
    # full Houdini (prove() first tries the few lemmas a property needs, which S-3 of this
    # scenario is content with); the system is built afresh, and the caches are per system
    strengthening(build_system(CATALOG["qm-refused-peer"]), unbounded=True, tier="core",
                  progress=messages.append)
    rounds = [tuple(map(int, m.groups())) for m in
              (re.fullmatch(r"houdini round (\d+): (\d+) candidates left", x) for x in messages) if m]
    assert [n for n, _ in rounds] == list(range(1, len(rounds) + 1))
    left = [c for _, c in rounds]
    assert left == sorted(left, reverse=True) and len(rounds) > 1
    assert _index(messages, "houdini: mining") < _index(messages, "houdini round 1")


@pytest.mark.slow
def test_unseeded_spacer_reports_the_horn_clause_query():
    messages: list[str] = []
    r = prove("fig8-silent-peer", "S-3", engine="spacer", unbounded=True, seed=False,
              progress=messages.append)
    assert r.verdict == "holds" and r.invariant
    assert not any(m.startswith("houdini") for m in messages)
    assert _index(messages, "spacer: solving the Horn clauses") < _index(messages, "spacer: safe")


def test_bmc_reports_increasing_depths_and_the_same_shortest_length():
    from ndcheck.checking.check import shortest_trace
    from ndcheck.engines.explicit import explore

    messages: list[str] = []
    system = build_system(CATALOG["require-inbound-auth-failure"])
    r = prove(system, "H-1", engine="bmc", progress=messages.append)
    assert r.verdict == "violated"
    # as short as the explicit engine's breadth-first counterexample (7 steps): the callback
    # changes nothing (z3 may pick another path of that length)
    assert len(r.counterexample.commands) == len(shortest_trace(explore(system), "H-1").steps) == 7
    depths = [int(m.removeprefix("bmc depth ")) for m in messages if re.fullmatch(r"bmc depth \d+", m)]
    assert depths == list(range(len(depths))) and depths[-1] == len(r.counterexample.commands) - 1
    assert messages[-1].startswith("replaying the counterexample")


def test_kinduction_reports_base_and_step_cases():
    from ndcheck.engines.explicit import explore

    messages: list[str] = []
    system = build_system(CATALOG["fig8-silent-peer"])
    graph = explore(system)     # classifies the counterexample to induction without Spacer
    r = prove(system, "S-3", engine="kind", depth=2, graph=graph, progress=messages.append)
    # pinned (the verdict of the same call without a callback): S-3 is not 3-inductive there,
    # and the counterexample to induction is not a reachable state
    assert r.verdict == "undetermined" and "not 3-inductive" in r.note
    assert "not among the reachable states" in r.note
    assert messages[:1] == ["encoding the transition relation"]
    assert "k-induction k=0: base case" in messages and "k-induction k=1: step case" in messages
