"""IkeInitiator: Main Mode and Quick Mode as the initiator; acquires come from the ND rules."""

from __future__ import annotations

from ndcheck.model.machines import IkeInitiator


def test_states():
    assert [s.name for s in IkeInitiator.states] == [
        "IDLE", "MM1-SENT", "MM3-SENT", "MM5-SENT", "QM1-SENT", "QM3-SENT", "QM-DONE", "FAILED",
        "SA-EXPIRED"]


def test_the_ike_service_takes_acquires_in_steps_of_its_own():
    """Q1-Q3: the ND filter only queues an acquire; taking it (MM #1 or QM #5) or dropping it
    as stale is the initiator's own step.  Only SA expiry drives it from outside."""
    assert IkeInitiator.DRIVEN_EVENTS == ("sa_expire",)
    events = {str(e) for st in IkeInitiator.states for t in st.transitions for e in t.events}
    assert {"acquire_mm", "acquire_qm", "drop_stale_acquire"} <= events
    assert IkeInitiator.NEGOTIATING == ("mm1_sent", "mm3_sent", "mm5_sent", "qm1_sent", "qm3_sent")


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
    assert any(s.action == "client.ike_i.recv_notify@mm1_sent[ignored]" for s in r.witness.steps)
    result = check_graph(g, traces=True)
    nd27 = result.verdict("ND-27")
    assert nd27.verdict == "violated"        # by configuration: the claim is the "fail" choice
    assert nd27.trace.steps[-1].action == "client.ike_i.recv_notify@mm1_sent[ignored]"
    # IKE still fails (budget spent) and TCP still completes in the clear.
    assert {v.property.id for v in result.verdicts if v.verdict == "violated"} == {"ND-27"}
    assert result.verdict("W-7").verdict == "holds"


def _state_after_synack(mm_in_progress: str):
    """fig7-both-capable (knob ike.mm_in_progress) and a state where the server's SYN-ACK has
    queued its acquire while the client's MM #1 is in flight, not yet answered."""
    import dataclasses

    from ndcheck import build_system, explore
    from ndcheck.model.scenario import CATALOG

    sc = CATALOG["fig7-both-capable"]
    system = build_system(dataclasses.replace(sc, ike=dataclasses.replace(sc.ike, mm_in_progress=mm_in_progress)))
    g = explore(system)
    ix = system.index
    for sid in range(g.n_states):
        s = g.states[sid]
        if (s[ix["server.acq_pending"]] == 1 and s[ix["net.c2s.MM1"]] == 1
                and system.field("server.ike_r").label(s[ix["server.ike_r"]]) == "IDLE"):
            return system, g, sid
    raise AssertionError("no such state")


def _server_takes(system, g, sid) -> list[str]:
    return sorted(system.commands[a].name for a, _ in g.successors_of(sid)
                  if system.commands[a].name.startswith("server.ike_i."))


def test_a_server_whose_synack_leaves_before_the_client_mm1_arrives_starts_its_own_main_mode():
    """A-13 with the default knobs: the server's IKE service, taking the acquire its SYN-ACK
    queued before the client's MM #1 arrived, has no MM SA to the client (ND-1): MM #1."""
    system, g, sid = _state_after_synack("ignored")
    assert system.scenario.ike.mm_in_progress == "ignored"
    assert _server_takes(system, g, sid) == ["server.ike_i.acquire_mm@idle"]


def test_a6_knob_an_answered_main_mode_counts_as_an_mm_sa():
    """ike.mm_in_progress = "counts" (A-6): while the server's responder answers the client's
    Main Mode the queued acquire waits; once that MM SA exists it starts Quick Mode over it
    (ND-11: QM #5 only); "ignored" starts a crossing Main Mode instead."""
    for knob, expected in (("counts", []), ("ignored", ["server.ike_i.acquire_mm@idle"])):
        system, g, sid = _state_after_synack(knob)
        ix = system.index
        answering = next(a for a, _ in g.successors_of(sid)
                         if system.commands[a].name == "server.ike_r.recv_mm1@idle")
        nxt = next(v for a, v in g.successors_of(sid) if a == answering)
        assert system.field("server.ike_r").label(g.states[nxt][ix["server.ike_r"]]) == "MM2-SENT"
        assert _server_takes(system, g, nxt) == expected, knob
