"""IkeResponder: Main Mode and Quick Mode as the responder, which never retransmits (ND-28)."""

from __future__ import annotations

from ndcheck.model.ir import FALSE, TRUE
from ndcheck.model.machines import IkeResponder, ike_responder
from ndcheck.model.machines.base import Ctx
from ndcheck.model.scenario import CATALOG


def test_states():
    assert [s.name for s in IkeResponder.states] == [
        "IDLE", "MM2-SENT", "MM4-SENT", "MM-DONE", "QM2-SENT", "QM-DONE", "FAILED"]


def test_never_retransmits_on_its_own():
    """ND-28: every responder step that sends is a reaction to a received message."""
    b = ike_responder.bind(Ctx("server", CATALOG["fig7-both-capable"], lambda h, msgs: TRUE))
    for key, variants in b.effects.items():
        for v in variants:
            if v.send:
                assert v.recv, key


def _non_nd(**ike):
    import dataclasses

    sc = CATALOG["non-nd-peer"]
    return dataclasses.replace(sc, ike=dataclasses.replace(sc.ike, **ike)) if ike else sc


def test_a_capable_no_nd_peer_completes_ike_without_negotiation_discovery():
    """capable-no-nd: MM #1 answered without NDSupported (ND-2) or the vendor ID (ND-3), QM #5's
    EXCHANGE_INFO ignored (ND-21), QM #7 answered without CONNECTED although ike.commit_bit is
    on (timers-failures C9)."""
    sc = _non_nd()
    assert sc.ike.commit_bit and not sc.peer_nd and not sc.commit_in_use
    b = ike_responder.bind(Ctx("server", sc, lambda h, msgs: TRUE))
    mm1 = b.effects["recv_mm1@idle"]
    assert [list(v.send) for v in mm1] == [["MM2"]] and all(not v.updates for v in mm1)
    for v in b.effects["recv_qm1@mm_done"]:
        assert list(v.send) == ["QM2"]
        assert not any("sa_boundary" in k or "sa_ge" in k for k in dict(v.updates)), v
    assert [list(v.send) for v in b.effects["recv_qm3@qm2_sent"]] == [[]]
    assert b.conds["answers"] == TRUE and b.conds["authenticates"] == TRUE
    assert b.conds["commit"] == FALSE


def test_the_windows_initiator_against_a_capable_no_nd_peer():
    """ND-4: NDSupported stays 0; ND-23: SA.Boundary stays 0; no commit bit: the outbound SA is
    used right after QM #6 (choice X-1, README).  QM #5 still carries EXCHANGE_INFO bit 0x1 (ND-9)."""
    from ndcheck.model.machines import ike_initiator

    sc = _non_nd()
    b = ike_initiator.bind(Ctx("client", sc, lambda h, msgs: TRUE))
    assert not any("mm_nd" in k for v in b.effects["recv_mm2"] for k in dict(v.updates))
    (qm2,) = b.effects["recv_qm2"]
    ups = {k: str(x) for k, x in dict(qm2.updates).items()}
    assert ups["client.sa_out"] == "1" and ups["client.sa_boundary"] == "0"
    assert b.conds["commit"] == FALSE
    assert [list(v.send) for v in b.effects["recv_mm6"]] == [["QM1/B"]]


def test_a_capable_no_nd_peer_explores_to_established_ike_without_connected():
    from ndcheck import build_system, explore

    system = build_system(_non_nd())
    g = explore(system)
    assert (g.n_states, g.n_edges) == (275, 496)
    assert not any("CONNECTED" in c.name for c in system.commands)
