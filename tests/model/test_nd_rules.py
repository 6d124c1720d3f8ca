"""The ND rules as data: the decision tables, what a new flow is (ND-17), the GE marks (ND-7, ND-20)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from ndcheck.checking.check import check
from ndcheck.engines.explicit import explore
from ndcheck.model import nd_rules
from ndcheck.model.compose import build_system
from ndcheck.model.ir import FALSE, TRUE, F, and_, eq, fields_of, ite, or_
from ndcheck.model.nd_rules import (
    AFTER_OUTBOUND,
    BEFORE_OUTBOUND,
    MARKS,
    NEW_FLOW,
    ON_ACCEPT,
    inbound_table,
    marks,
    outbound_table,
)
from ndcheck.model.scenario import CATALOG, Policy, Scenario, ScenarioError, scenario_from_dict

SPEC_RULES = {f"ND-{i}" for i in range(1, 31)}


def test_row_ids_are_unique_and_cite_digest_rules():
    ids = [r.id for r in nd_rules.ALL_ROWS] + [m.id for m in MARKS] + [r.id for r in NEW_FLOW]
    assert len(ids) == len(set(ids))
    for r in (*nd_rules.ALL_ROWS, *MARKS, *NEW_FLOW):
        assert r.rule in SPEC_RULES and r.id.split("/")[0] in SPEC_RULES | {"A-14"}, r
    assert {m.stage for m in MARKS} <= set(nd_rules.STAGES)


def test_a_new_flow_starts_only_at_the_passive_opener():
    """ND-17: a segment reaching the server while its TCP is in LISTEN is a new flow's first."""
    assert nd_rules.new_flow_states("server", CATALOG["fig7-both-capable"]) == [("server.tcp", "listen")]
    assert nd_rules.new_flow_states("client", CATALOG["fig7-both-capable"]) == []
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


# ---- The ALE "require IPsec encryption" layer of a guaranteed-encryption policy (WFP-GE) ------

_ALE = Policy(guaranteed_encryption=True, ale_require_encryption=True)


def _cases(rows, fixed):
    """Every assignment of the rows' predicates (with ``fixed`` ones pinned) and the rows it matches."""
    names = sorted({k for r in rows for k, _ in r.when} - set(fixed))
    for values in itertools.product((False, True), repeat=len(names)):
        env = {**dict(zip(names, values)), **fixed}
        yield env, [r.id for r in rows if all(env[k] == v for k, v in r.when)]


@pytest.mark.parametrize("policy", [Policy(), Policy(inbound="secure"), _ALE,
                                    Policy(inbound="secure", guaranteed_encryption=True,
                                           ale_require_encryption=True)], ids=repr)
def test_a_host_table_decides_every_packet_exactly_once(policy):
    for table in (outbound_table(policy), inbound_table(policy)):
        for env, matched in _cases(table, {"ale": policy.ale_require_encryption}):
            assert len(matched) == 1, (policy, env, matched)


def test_with_the_ale_layer_nothing_leaves_or_is_accepted_clear():
    """WFP-GE: every ND row that sends clear is held instead, with the same conditions and the
    same IKE trigger; every clear arrival is dropped; ESP rows are the ND rows themselves."""
    out = outbound_table(_ALE)
    assert {r.action for r in out} == {"held", "esp"}
    clear_rows = [r for r in nd_rules.OUTBOUND_ND if r.action == "clear"]
    assert len(clear_rows) == 5
    for r in clear_rows:
        ale = next(a for a in out if a.when == tuple((k, v if k != "ale" else True) for k, v in r.when))
        assert ale.action == "held" and ale.rule == r.rule and ale.acquire == r.acquire
        assert ale.id == r.id.replace("/clear", "/ale-held") and not ale.trigger
    assert [r.id for r in out if r.action == "esp"] == ["ND-14/esp"]
    inn = inbound_table(_ALE)
    assert {r.id for r in inn if r.action == "accept"} == {"ND-19/accept"}
    assert {r.id for r in inn if ("esp", False) in r.when} == {"ND-17/ale-drop-new", "ND-18/ale-drop"}
    # without the knob a host has exactly the rows it had before the layer existed
    for p in (Policy(), Policy(guaranteed_encryption=True)):
        assert not any(dict(r.when).get("ale") for r in outbound_table(p) + inbound_table(p))
        assert {r.id for r in outbound_table(p)} == {r.id for r in nd_rules.OUTBOUND_ND} - {
            r.id for r in nd_rules.OUTBOUND_ND if dict(r.when).get("ale")}
    # the transport-mode and bypass tables do not test the layer: nothing there is sent clear
    # under PROTECT, and the knob needs an IPsec rule both ways
    assert outbound_table(replace(_ALE, outbound="require")) == nd_rules.OUTBOUND_REQUIRE


def _ale_scenario(**over) -> Scenario:
    raw = {"name": "ale", "peer": "capable",
           "client": {"guaranteed_encryption": True, "ale_require_encryption": True},
           "server": {"guaranteed_encryption": True, "ale_require_encryption": True},
           "ike": {"retransmissions": 1}, "tcp": {"data_segments": 1, "syn_retries": 1, "data_retries": 0}}
    for k, v in over.items():
        raw[k] = {**raw.get(k, {}), **v} if isinstance(v, dict) else v
    return scenario_from_dict(raw)


def _rows_taken(sc: Scenario) -> set[str]:
    g = explore(build_system(sc))
    assert not g.truncated
    return {r for a in set(g.act) for r in g.system.commands[a].rules}


def test_every_reachable_ale_row_fires():
    """The catalog's guaranteed-encryption-ale takes the ND-8 rows; the others need a NAT or a
    peer without the layer (tests/checking/test_coverage.py lists them as not in the catalog)."""
    assert {"ND-8/ale-held+acquire", "ND-8/ale-held"} <= _rows_taken(CATALOG["guaranteed-encryption-ale"])
    # NAT toward a boundary server: ND-13 would send clear over the UDP-ESP SA; held instead
    nat = _ale_scenario(server={"ale_require_encryption": False}, network={"nat": True})
    assert "ND-13/ale-held" in _rows_taken(nat)
    r = check(nat, ["S-7", "W-2"], traces=False)
    assert r.verdict("S-7").verdict == "holds"         # the server only ever answers ESP
    assert r.verdict("W-2").verdict == "violated"      # the client's data can never leave: blocked
    # a client without the layer: its clear SYN is refused as a new flow, and with timers that
    # may fire early a clear SYN retransmission can arrive after the ESP one opened the flow
    # (one-way and never closed: with the model v2 TCP's answer and FIN the graph passes 2M states)
    peer = _ale_scenario(client={"ale_require_encryption": False},
                         tcp={"syn_retries": 1, "premature_timeouts": True,
                              "server_segments": 0, "close": "none"})
    taken = _rows_taken(peer)
    assert {"ND-17/ale-drop-new", "ND-18/ale-drop"} <= taken
    assert not {"ND-17/accept-new", "ND-18/accept"} & taken
    r = check(peer, ["S-7", "S-2", "W-2"], traces=False)
    assert [r.verdict(p).verdict for p in ("S-7", "S-2", "W-2")] == ["violated", "holds", "holds"]


def test_the_knob_is_validated():
    with pytest.raises(ScenarioError, match=r"client.ale_require_encryption needs client.guaranteed_encryption"):
        scenario_from_dict({"name": "x", "client": {"ale_require_encryption": True}})
    with pytest.raises(ScenarioError, match=r"server.ale_require_encryption needs an IPsec rule both ways"):
        _ale_scenario(server={"inbound": "none"})
    assert _ale_scenario(server={"outbound": "require", "inbound": "require"}).server.ale_require_encryption


def test_the_ale_layer_blocks_tcp_when_ike_fails():
    """No clear fallback under the layer: against a silent peer the held SYN never leaves, which
    H-1 and L-1 report (the properties see the ALE rows as ND filter holds: a policy cause)."""
    silent = _ale_scenario(peer="silent", server={"guaranteed_encryption": False,
                                                  "ale_require_encryption": False})
    r = check(silent, ["H-1", "L-1", "S-7"])
    assert [r.verdict(p).verdict for p in ("H-1", "L-1", "S-7")] == ["violated", "violated", "holds"]
    assert r.verdict("H-1").trace.steps[-1].action == "client.tcp.retransmit_syn [SYN ND-8/ale-held]"


def test_legacy_policy_waits_for_ike_and_protects_against_a_capable_peer():
    """The pre-ND "Negotiate Security" action (digest §6.4): against a capable peer the SYN is
    held until Quick Mode completes, then leaves over ESP; no soft SA (the peer replies)."""
    sc = scenario_from_dict({"name": "legacy-capable", "client": {"outbound": "legacy"},
                             "server": {"outbound": "none", "inbound": "boundary"},
                             "tcp": {"data_segments": 1, "syn_retries": 2},
                             "ike": {"server_initiator": False}, "time": {"mode": "timed"}})
    g = explore(build_system(sc))
    rules = {r for a in set(g.act) for r in g.system.commands[a].rules}
    assert {"ND-15/legacy-held", "ND-15/legacy-protect"} <= rules
    assert "ND-15/legacy-soft-clear" not in rules
    assert not any(g.system.commands[a].name == "client.ike.soft_sa" for a in set(g.act))
