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
    """The peer never sends CONNECTED (no commit bit, C9).  Its own negotiation (ND-15 on its
    transport-mode rule, A-13) is answered by the Windows client, which sets the commit bit and
    sends CONNECTED; the peer's initiator reads it and ignores it (C4)."""
    from ndcheck import build_system, explore

    system = build_system(_non_nd())
    g = explore(system)
    assert (g.n_states, g.n_edges) == (843, 1996)
    assert not any(p.wire() == "server>client CONNECTED" for c in system.commands for p in c.wire)
    assert any(c.name == "server.ike_i.recv_connected@established[ignored]" for c in system.commands)


def _with(name: str, **changes):
    import dataclasses

    sc = CATALOG[name]
    for section, kv in changes.items():
        sc = dataclasses.replace(sc, **{section: dataclasses.replace(getattr(sc, section), **kv)}) \
            if isinstance(kv, dict) else dataclasses.replace(sc, **{section: kv})
    return sc


def test_a_duplicate_qm5_is_answered_as_a_duplicate():
    """fig7-duplicates with late responder install (A-2): a copy of QM #5 reaching a responder in
    QM-DONE is answered with QM #6 again and changes nothing -- no new negotiation, so the
    responder never waits for a QM #7 that will not come (H-2 holds, MS-IKEE §3.1.5)."""
    from ndcheck import build_system, explore
    from ndcheck.checking.check import check_graph

    system = build_system(_with("fig7-duplicates", ike={"responder_install": "qm3"}))
    dups = [c for c in system.commands if c.name.startswith("server.ike_r.recv_qm1@established")]
    assert dups and all(dict(c.updates)["server.ike_r"].args[0] == 5 for c in dups)  # QM-DONE
    assert all(not any(k.startswith("server.sa") for k in dict(c.updates)) for c in dups)
    g = explore(system)
    assert any(system.commands[a].name.startswith("server.ike_r.recv_qm1@established") for a in g.act)
    assert check_graph(g, ["H-2"], traces=False).verdict("H-2").verdict == "holds"


def test_the_client_responder_answers_a_failing_server_symmetrically():
    """Choice X-4 (README): the failures of a peer kind hold both ways.  no-credential: the
    client's responder answers the server's MM #5 with a NOTIFY; qm-refused: its QM #5; a
    no-proposal server's MM #1 gets a NOTIFY at once.  The server's initiator then fails
    (ND-27)."""
    from ndcheck import build_system, explore

    cases = {
        "require-inbound-auth-failure": "client.ike_r.fail_auth@mm4_sent",
        "qm-refused-peer": "client.ike_r.refuse_qm1@mm_done[QM1/B]",
        "no-proposal-peer": "client.ike_r.refuse_mm1",
    }
    for name, event in cases.items():
        sc = _with(name, server={"outbound": "request", "inbound": "boundary"})
        system = build_system(sc)
        g = explore(system)
        names = {system.commands[a].name for a in set(g.act)}
        assert event in names, (name, sorted(n for n in names if n.startswith("client.ike_r")))
        assert "server.ike_i.recv_notify" in {n.split("@")[0] for n in names}, name
        ix = system.index
        assert any(system.field("server.ike_i").label(s[ix["server.ike_i"]]) == "FAILED"
                   for s in g.states), name
        assert not any(s[ix["client.sa_out"]] or s[ix["server.sa_out"]] for s in g.states), name


def test_a_capable_no_nd_server_initiates_without_negotiation_discovery():
    """The non-ND peer's own Quick Mode (its transport-mode rule triggers, ND-15): no ND vendor ID
    in its MM #1 (the client's NDSupported stays 0, ND-2), plain QM #5 (no EXCHANGE_INFO: the
    client keeps SA.Boundary 0), and it uses its SA right after QM #7, ignoring the commit bit
    the Windows client sets (C7, C9)."""
    from ndcheck import build_system, explore
    from ndcheck.model.machines import ike_initiator

    sc = _non_nd()
    assert ike_initiator.qm1_variants(sc, "server") == ["QM1"]
    b = ike_initiator.bind(Ctx("server", sc, lambda h, msgs: TRUE))
    assert b.conds["commit"] == FALSE
    (qm2,) = b.effects["recv_qm2"]
    assert {k: str(x) for k, x in dict(qm2.updates).items()}["server.sa_out"] == "1"
    system = build_system(sc)
    g = explore(system)
    ix = system.index
    done = [s for s in g.states if system.field("server.ike_i").label(s[ix["server.ike_i"]]) == "QM-DONE"]
    assert done and all(s[ix["client.mm_nd"]] == 0 and s[ix["server.mm_nd"]] == 0 for s in g.states)
    assert all(s[ix["client.sa_boundary"]] == 0 for s in g.states)
