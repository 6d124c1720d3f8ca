"""The property catalog is well formed: ids, names, kinds, claims, rule citations, lookup."""

from __future__ import annotations

import re

import pytest

from ndcheck import CATALOG, build_system, explore
from ndcheck.model.ir import evaluate
from ndcheck.properties.base import KINDS
from ndcheck.properties.catalog import NOT_MODELLED, PROPERTIES, UnknownProperty, get_property

DIGEST = {f"S-{i}" for i in range(1, 15)} | {f"L-{i}" for i in range(1, 8)} | {"H-1", "H-2"}


def test_every_digest_property_is_checked_or_explained():
    ids = {p.id for p in PROPERTIES}
    assert DIGEST - ids == set(NOT_MODELLED)
    assert not set(NOT_MODELLED) & ids


def test_ids_names_kinds_and_claims():
    seen = set()
    for p in PROPERTIES:
        assert re.fullmatch(r"(H|S|L|ND|W)-\d+", p.id), p.id
        assert re.fullmatch(r"[a-z][a-z0-9_]*", p.name), p.name
        assert p.kind in KINDS
        assert p.claim.endswith(".") and p.claim.count(". ") == 0, p.id
        assert p.rules and all(re.fullmatch(r"(ND|A|S)-\d+", r) for r in p.rules), p.id
        assert p.concern
        assert (p.id, p.name) not in seen
        seen.add((p.id, p.name))
        if p.kind == "never_action":
            assert p.actions is not None and p.state is None
        else:
            assert p.state is not None and p.actions is None and p.pre is None
        if p.kind != "eventually":
            assert p.trigger is None


def test_report_order_is_headline_safety_liveness_witness():
    prefixes = [p.id.split("-")[0] for p in PROPERTIES]
    order = ["H", "S", "L", "ND", "W"]
    assert prefixes == sorted(prefixes, key=order.index)
    assert [p.id for p in PROPERTIES][:4] == ["H-1", "H-2", "S-1", "S-2"]


def test_every_concern_has_a_witness():
    concerns = {p.concern for p in PROPERTIES if p.kind != "sometimes"}
    with_witness = {p.concern for p in PROPERTIES if p.kind == "sometimes"}
    assert concerns - with_witness == set()


def test_lookup_by_id_and_name():
    assert get_property("S-1") is get_property("secure_flow_never_sends_clear")
    with pytest.raises(UnknownProperty, match="available: H-1, H-2"):
        get_property("S-99")
    with pytest.raises(UnknownProperty, match="S-8.*transform"):
        get_property("S-8")


def test_never_action_firings_are_guard_and_pre():
    system = build_system(CATALOG["nat-boundary"])
    s1 = get_property("S-1")
    firings = s1.firings(system)
    assert firings, "S-1 selects the clear sends of nat-boundary"
    states = list(explore(system).states)
    live = {system.commands[i].name for i, cond in firings
            if any(evaluate(cond, system.getter(st)) for st in states)}
    # Only ND-13 sends clear once Secure: ND-8/ND-12 test Secure = 0, which contradicts the pre.
    assert live and all("ND-13/clear" in n for n in live), sorted(live)[:3]
    assert s1.bad(system).op == "or"
    with pytest.raises(ValueError):
        get_property("S-3").firings(system)


def test_applies_excludes_meaningless_properties():
    def ids(name):
        s = build_system(CATALOG[name])
        return {p.id for p in PROPERTIES if p.applies(s)}

    assert "S-7" not in ids("fig7-both-capable")       # no GE rule
    assert "S-7" in ids("guaranteed-encryption")
    assert "L-2" in ids("fig8-silent-peer") and "L-2" not in ids("fig8-silent-lossy")  # TCP loss
    assert "H-1" not in ids("transport-mode")          # no ND rule
    assert "L-5" in ids("sa-expiry-rekey") and "L-5" not in ids("fig7-both-capable")
