"""IkeInitiator: Main Mode and Quick Mode as the initiator; acquires come from the ND rules."""

from __future__ import annotations

from ndcheck.model.machines import IkeInitiator


def test_states():
    assert [s.name for s in IkeInitiator.states] == [
        "IDLE", "MM1-SENT", "MM3-SENT", "MM5-SENT", "QM1-SENT", "QM3-SENT", "QM-DONE", "FAILED",
        "SA-EXPIRED"]


def test_acquire_is_driven_only():
    assert IkeInitiator.DRIVEN_EVENTS == ("acquire", "sa_expire")


def _no_proposal(notify_at_mm1: str):
    import dataclasses

    from ndcheck.model.scenario import CATALOG

    sc = CATALOG["no-proposal-peer"]
    return dataclasses.replace(sc, ike=dataclasses.replace(sc.ike, notify_at_mm1=notify_at_mm1))


# MM #1 retransmitted after its NOTIFY: what libreswan does (timers-failures N2/N8).
_RETRANSMITTED = ["client>server SYN clear", "client>server MM1", "server>client NOTIFY",
                  "client>server MM1", "server>client NOTIFY"]


def test_a_notify_at_mm1_ends_the_negotiation_by_default():
    from ndcheck import build_system, explore
    from ndcheck.checking.check import check_graph
    from ndcheck.checking.conform import conform

    g = explore(build_system(_no_proposal("fail")))
    assert not conform(g, _RETRANSMITTED).accepted
    assert check_graph(g, traces=False).verdict("ND-27").verdict == "holds"


def test_notify_at_mm1_ignore_retransmits_until_the_budget_runs_out():
    """ike.notify_at_mm1 = "ignore": the NOTIFY is dropped, MM #1 goes out again, then give-up."""
    from ndcheck import build_system, explore
    from ndcheck.checking.check import check_graph
    from ndcheck.checking.conform import conform

    system = build_system(_no_proposal("ignore"))
    g = explore(system)
    r = conform(g, _RETRANSMITTED)
    assert r.accepted
    assert any(s.action == "client.ike.recv_notify@mm1_sent[ignored]" for s in r.witness.steps)
    result = check_graph(g, traces=True)
    nd27 = result.verdict("ND-27")
    assert nd27.verdict == "violated"        # by configuration: the claim is the "fail" choice
    assert nd27.trace.steps[-1].action == "client.ike.recv_notify@mm1_sent[ignored]"
    # IKE still fails (budget spent) and TCP still completes in the clear.
    assert {v.property.id for v in result.verdicts if v.verdict == "violated"} == {"ND-27"}
    assert result.verdict("W-7").verdict == "holds"
