"""The ND rules as data: the decision tables, what a new flow is (ND-17), the GE marks (ND-7, ND-20)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ndcheck.model import nd_rules
from ndcheck.model.compose import build_system
from ndcheck.model.ir import FALSE, TRUE, F, and_, eq, fields_of, ite, or_
from ndcheck.model.nd_rules import AFTER_OUTBOUND, BEFORE_OUTBOUND, MARKS, NEW_FLOW, ON_ACCEPT, marks
from ndcheck.model.scenario import CATALOG

SPEC_RULES = {f"ND-{i}" for i in range(1, 31)}


def test_row_ids_are_unique_and_cite_digest_rules():
    ids = [r.id for r in nd_rules.ALL_ROWS] + [m.id for m in MARKS] + [r.id for r in NEW_FLOW]
    assert len(ids) == len(set(ids))
    for r in (*nd_rules.ALL_ROWS, *MARKS, *NEW_FLOW):
        assert r.rule in SPEC_RULES and r.id.split("/")[0] in SPEC_RULES | {"A-14"}, r
    assert {m.stage for m in MARKS} <= set(nd_rules.STAGES)


def test_a_new_flow_starts_only_at_the_passive_opener():
    """ND-17: a segment reaching the server while its TCP is in LISTEN is a new flow's first."""
    assert nd_rules.new_flow_states("server") == [("server.tcp", "listen")]
    assert nd_rules.new_flow_states("client") == []
    system = build_system(CATALOG["fig19-require-inbound"])
    drop = next(c for c in system.commands if c.name == "server.nd.drop[SYN clear: ND-17/drop-new]")
    assert eq(F("server.tcp"), 0) in drop.guard.args          # LISTEN is state 0
    # the client never sees a new flow: no ND-17 row applies to its inbound filter
    assert not any("ND-17" in r for c in system.commands if c.tags[:1] == ("client",) for r in c.rules)


@pytest.mark.parametrize("placement", ["before", "after"])
def test_nd7_is_placed_by_the_ge_marking_knob(placement):
    sc = CATALOG["guaranteed-encryption"]
    sc = replace(sc, ike=replace(sc.ike, ge_marking=placement))
    one = {"client.flow_ge": TRUE}
    assert marks("client", sc, BEFORE_OUTBOUND) == (one if placement == "before" else {})
    assert marks("client", sc, AFTER_OUTBOUND) == (one if placement == "after" else {})


def test_no_ge_rule_no_nd7_mark():
    sc = CATALOG["fig7-both-capable"]
    assert not sc.client.guaranteed_encryption
    assert marks("client", sc, BEFORE_OUTBOUND) == {} == marks("client", sc, AFTER_OUTBOUND)


def test_nd20_marks_an_accepted_packet_of_a_flow_with_a_ge_sa():
    """ND-20 reads the inbound SA's SA.GE (``sa_in_ge``: some inbound SA has it, every one being
    kept, D10), not the outbound SA's (``sa_ge``, which ND-12 compares)."""
    sc = CATALOG["fig7-both-capable"]
    f = F("server.flow_ge")
    assert marks("server", sc, ON_ACCEPT) == {"server.flow_ge": ite(
        or_(eq(f, 1), and_(eq(F("server.sa_in"), 1), eq(F("server.sa_in_ge"), 1))), 1, 0)}
    system = build_system(sc)
    accepts = {r.id for r in nd_rules.ALL_ROWS if r.action == "accept"}
    for c in system.commands:
        if c.kind == "deliver" and any(r in accepts for r in c.rules):
            assert f"{c.tags[0]}.flow_ge" in dict(c.updates), c.name
        if c.kind == "drop":
            assert not any(n.endswith("flow_ge") for n, _ in c.updates), c.name


def test_an_unknown_mark_stage_is_an_error():
    with pytest.raises(ValueError, match="unknown mark stage 'during'"):
        marks("client", CATALOG["fig7-both-capable"], "during")


@pytest.mark.parametrize("placement", ["before", "after"])
def test_marking_before_the_decision_is_what_the_decision_reads(placement):
    """A-7: with ND-7 first, the client's outbound rows see flow.GE = 1 (the GE test folds to
    ``SA.GE == 1``); with ND-7 last they read the flow's flag as it was."""
    sc = CATALOG["guaranteed-encryption"]
    assert sc.client.guaranteed_encryption
    system = build_system(replace(sc, ike=replace(sc.ike, ge_marking=placement)))
    reads_flow_ge = placement == "after"
    sends = [c for c in system.commands if c.name.startswith("client.tcp.send_syn [SYN ND-14/esp")]
    assert sends and all(("client.flow_ge" in fields_of(c.guard)) == reads_flow_ge for c in sends)
    assert all(dict(c.updates)["client.flow_ge"] == TRUE for c in sends)


def test_branches_keep_the_row_updates_only():
    """ND-20 is a mark of its own; an inbound branch updates Secure (ND-19) and nothing else."""
    sc = CATALOG["fig7-both-capable"]
    for br in nd_rules.inbound_branches("server", sc, True, FALSE):
        assert dict(br.updates) == ({"server.secure": TRUE} if br.row.set_secure else {})
