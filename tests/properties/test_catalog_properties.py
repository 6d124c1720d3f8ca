"""The property catalog is well formed: ids, names, kinds, claims, rule citations, lookup."""

from __future__ import annotations

import re

import pytest

from ndcheck import CATALOG, build_system, explore
from ndcheck.model.ir import TRUE
from ndcheck.model.machines.base import state_ids
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
        assert re.fullmatch(r"(H|S|L|T|D|F|ND|W)-\d+", p.id), p.id
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
        if p.kind == "sometimes":
            assert p.trigger is None
        # a trigger comes with its antecedent in words (the reason of a vacuous verdict)
        assert (p.trigger is None) == (p.antecedent == ""), p.id


def test_report_order_is_headline_safety_liveness_witness():
    prefixes = [p.id.split("-")[0] for p in PROPERTIES]
    order = ["H", "S", "L", "T", "D", "F", "ND", "W"]
    assert prefixes == sorted(prefixes, key=order.index)
    # the headline properties, H-3 being H-1 in time (timed scenarios)
    assert [p.id for p in PROPERTIES][:5] == ["H-1", "H-2", "H-3", "S-1", "S-2"]


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
    from ndcheck.engines.pyexpr import compile_predicate

    states = list(explore(system).states)
    live = {system.commands[i].name for i, cond in firings
            if any(map(compile_predicate(system, cond), states))}
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


#: Properties whose claim has an antecedent ("once X", "after X", "whenever X", "a GE flow"), with
#: it as their trigger; every other property has none (S-3, S-4, S-11 ...: no antecedent).
TRIGGERED = {"H-1", "S-1", "S-2", "S-5", "S-6", "S-7", "S-13", "L-1", "L-3", "L-5", "L-6", "L-7",
             "H-3", "T-3", "F-1", "F-2", "F-3"}


def test_properties_with_an_antecedent_have_a_trigger():
    assert {p.id for p in PROPERTIES if p.trigger is not None} == TRIGGERED
    assert get_property("H-1").vacuity == ("no reachable state where IKE has failed for the flow "
                                           "and neither end has secured it")


def test_trigger_and_antecedent_go_together():
    from ndcheck.properties.base import Concern

    c = Concern("tcp")
    with pytest.raises(ValueError, match="antecedent"):
        c.always("W-98", "toy", claim="Toy.", rules=("ND-8",), state=lambda s: TRUE,
                 trigger=lambda s: TRUE)
    with pytest.raises(ValueError, match="antecedent"):
        c.never_action("W-98", "toy", claim="Toy.", rules=("ND-8",), actions=lambda s, c: False,
                       antecedent="x is 1")


def test_h2_reads_the_qm_role_from_the_ike_control_state():
    """H-2 (DESIGN.md) for each role of each host: an outbound SA is installed only by the step
    that brings one of the host's IKE machines to QM-DONE (initiator: QM #6, and CONNECTED with
    the commit bit; responder: QM #7); an inbound SA by the initiator's QM #6 (QM3-SENT or
    QM-DONE) or the responder's QM #6 sent (QM2-SENT, ``ike.responder_install = "qm2"``) or
    QM #7 (``"qm3"``)."""
    from ndcheck.properties.upgrade import OUT_DONE, _in_done

    def installs(name, field):
        """{(role, state reached)} of the steps of ``name`` that may set ``field`` to 1."""
        s = build_system(CATALOG[name])
        out = set()
        for c in s.commands:
            ups = dict(c.updates)
            for h in ("client", "server"):
                v = ups.get(f"{h}.{field}")
                if v is None or (v.op == "const" and v.args[0] == 0):
                    continue
                for key, _, src in c.events:
                    if key.startswith(f"{h}.ike"):
                        to = ups[key].args[0] if key in ups else state_ids(s.machines[key]).index(src)
                        out.add((key.split(".")[1], state_ids(s.machines[key])[to]))
        return s, out

    assert OUT_DONE == {"ike_i": ("established",), "ike_r": ("established",)}
    s, out = installs("fig7-both-capable", "sa_out")
    assert out == {("ike_i", "established"), ("ike_r", "established")}
    s, inb = installs("fig7-both-capable", "sa_in")
    assert inb == {("ike_i", "qm3_sent"), ("ike_r", "qm2_sent"), ("ike_r", "established")}
    assert _in_done(s, "ike_r") == ("qm2_sent", "established")
    assert _in_done(s, "ike_i") == ("qm3_sent", "established")
    s, inb = installs("qm3-race", "sa_in")                   # commit bit off, installs on QM #7
    assert inb == {("ike_i", "established"), ("ike_r", "established")}
    assert _in_done(s, "ike_r") == ("established",)
