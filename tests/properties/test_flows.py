"""Properties over flows (properties/flows.py): written for the first flow, checked for each."""

from __future__ import annotations

import dataclasses

import pytest

from ndcheck import CATALOG, build_system, explore
from ndcheck.checking.check import check_graph
from ndcheck.properties.catalog import get_property
from ndcheck.properties.predicates import cmd_flow, sends_tcp, takes_rows
from tests import catalog_cache


def test_command_predicates_look_at_the_first_flow():
    system = build_system(CATALOG["two-flows"])
    syn2 = next(c for c in system.commands if c.name.startswith("client.tcp#2.send_syn")
                and "ND-8/clear+acquire" in c.rules)
    assert cmd_flow(syn2) == 2
    assert not sends_tcp(syn2, "client", "clear") and not takes_rows(syn2, {"ND-8/clear+acquire"})
    # ... and the lifted S-5 selects it for the second flow
    s5 = get_property("S-5")
    assert s5.actions(system, syn2)


def test_lifted_eventually_has_one_goal_per_flow():
    system = build_system(CATALOG["two-flows"])
    pairs = get_property("T-1").goals(system)
    assert len(pairs) == 2 and pairs[0] != pairs[1]
    assert len(get_property("T-1").goals(build_system(CATALOG["fig7-both-capable"]))) == 1


def test_f1_and_w14_apply_to_flows_only():
    for pid in ("F-1", "W-14"):
        p = get_property(pid)
        assert p.applies(build_system(CATALOG["two-flows"]))
        assert not p.applies(build_system(CATALOG["fig7-both-capable"]))


@pytest.mark.slow
def test_a_violation_of_the_second_flow_is_found_and_replays():
    """With one SYN retransmission, the second flow's SYN can meet the peer's Quick Mode awaiting
    CONNECTED: its SYN-ACK is held (ND-10) and the untimed model lets the opener's last SYN
    timer win (the reason two-flows keeps Windows' two).  T-2 lifted finds it for flow 2."""
    sc = CATALOG["two-flows"]
    sc = dataclasses.replace(sc, name="two-flows-1-syn", tcp=dataclasses.replace(sc.tcp, syn_retries=1),
                             expect={})
    g = explore(build_system(sc))
    r = check_graph(g, traces=True)
    v = next(v for v in r.verdicts if v.property.id == "T-2")
    assert v.verdict == "violated"
    assert v.trace.steps[-1].action == "client.tcp#2.give_up"
    assert any("ND-10/held" in s.action and "SYN-ACK#2" in s.action for s in v.trace.steps)


def test_two_flows_verdicts_hold_per_flow():
    r = catalog_cache.result("two-flows")
    assert r.as_expected
    assert {v.property.id: v.verdict for v in r.verdicts}["W-14"] == "holds"


def test_f2_applies_only_where_flows_differ_in_ge():
    p = get_property("F-2")
    assert p.applies(build_system(CATALOG["ge-beside-clear-flow"]))
    assert not p.applies(build_system(CATALOG["two-flows"]))
    assert not p.applies(build_system(CATALOG["guaranteed-encryption"]))


def test_f2_trace_a_ge_renegotiation_takes_the_sa_of_the_secured_non_ge_flow():
    """ge-beside-clear-flow: the non-GE flow's SYN starts Main Mode and a non-GE Quick Mode; the
    server secures that flow over it (ND-14); the GE flow's queued acquire then renegotiates
    (ND-12), and the server's responder replaces its outbound SA by the GE one (D4), which the
    secured non-GE flow cannot use."""
    from ndcheck.checking.check import shortest_trace

    t = shortest_trace("ge-beside-clear-flow", "F-2")
    acts = [s.action for s in t.steps]
    assert len(acts) == 17
    assert acts[0] == ("client.tcp#2.send_syn [SYN#2 ND-8/clear+acquire +client.acquire "
                       "+client.ike_i.acquire_mm@idle[ge=0]]")
    assert acts[7] == "client.ike_i.recv_mm6[QM1/B]"
    assert acts[11] == "server.tcp#2.recv_syn@listen <SYN#2 clear ND-17/accept-new> [SYN-ACK#2 ND-14/esp]"
    assert acts[13] == "client.ike_i.acquire_qm@established[QM1/BG]"
    assert acts[14] == "server.ike_r.recv_new_qm1[QM1/BG new]"
    assert acts[-1] == "server.ike_r.recv_qm3@qm2_sent"
    assert t.steps[-1].changes["server.sa_ge"] == "1" and t.steps[11].changes["server.secure#2"] == "1"


def test_ge_beside_clear_flow_verdicts():
    r = catalog_cache.result("ge-beside-clear-flow")
    assert r.as_expected
    v = {x.property.id: x.verdict for x in r.verdicts}
    # the per-flow GE properties speak for both flows; S-6 holds: ND-12 renegotiates instead
    assert (v["S-6"], v["S-7"], v["W-9"], v["F-2"], v["S-12"]) == ("holds", "violated", "holds", "violated", "holds")
