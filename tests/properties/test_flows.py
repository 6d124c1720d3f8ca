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
