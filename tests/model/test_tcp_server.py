"""TcpServer: the passive opener (RFC 9293 names), the receiver both ends share, the half-open drop."""

from __future__ import annotations

import dataclasses

from ndcheck.model.compose import build_system
from ndcheck.model.machines import TcpServer
from ndcheck.model.machines import tcp_segments as seg
from ndcheck.model.scenario import CATALOG


def test_states():
    assert [s.name for s in TcpServer.states] == [
        "LISTEN", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT",
        "LAST-ACK", "TIME-WAIT", "CLOSED", "LISTEN-AGAIN", "ABORTED", "RESET"]


def test_the_receiver_holds_out_of_order_segments_within_the_window():
    """T16 / RFC 9293 SHLD-31: 3 segments, window 2.  DATA2 before DATA1 is held (duplicate
    ACK0); DATA1 then delivers both (ACK2); DATA3 is beyond the window while nothing is in
    (the sender cannot send it); old segments get a duplicate cumulative ACK."""
    rc = {(r.seg, r.r, r.held): r for r in seg.receipts(3, 2)}
    held = rc[(2, 0, ())]
    assert (held.new_r, held.set_held, held.ack, held.label) == (0, ((2, 1),), 0, "DATA2@0 held")
    run = rc[(1, 0, ((2, 1),))]
    assert (run.new_r, run.set_held, run.ack) == (2, ((2, 0),), 2)
    alone = rc[(1, 0, ((2, 0),))]
    assert (alone.new_r, alone.ack) == (1, 1)
    assert not any(r.seg == 3 and r.r == 0 for r in seg.receipts(3, 2))
    dup = rc[(1, 2, ())]
    assert (dup.new_r, dup.ack, dup.label) == (2, 2, "DATA1@2 dup")
    assert seg.holdable(3, 2) == [2, 3] and seg.holdable(3, 1) == [] and seg.holdable(1, 2) == []
    assert seg.acks_of(3, 2) == ["ACK0", "ACK1", "ACK2", "ACK3"]
    assert seg.acks_of(1, 2) == ["ACK1"]


def test_each_end_sends_what_the_other_receives():
    """The alphabet check of the composition (compose.alphabet) passes for every knob value."""
    for close in ("client", "server", "none"):
        for sends in ("after-request", "established"):
            sc = CATALOG["fig7-both-capable"]
            sc = dataclasses.replace(sc, tcp=dataclasses.replace(
                sc.tcp, close=close, server_sends=sends, server_segments=2, window=2))
            build_system(sc)
    assert seg.sent_by(CATALOG["fig7-both-capable"], "server") == [
        "SYN-ACK", "DATA1", "ACK0", "ACK1", "ACK2", "ACK3", "FIN", "ACKF", "RST"]


def test_the_answer_follows_the_request_unless_configured_otherwise():
    system = build_system(CATALOG["fig7-both-capable"])
    assert repr(system.conds["server.tcp"]["may_answer"]) == "(server.rcv_nxt == 3)"
    sc = CATALOG["fig7-both-capable"]
    early = build_system(dataclasses.replace(sc, tcp=dataclasses.replace(sc.tcp, server_sends="established")))
    assert repr(early.conds["server.tcp"]["may_answer"]) == "1"


def test_a_spent_syn_ack_budget_drops_the_half_open_connection():
    """The server listens again; the flow entry stays (A-5), so a SYN arriving now is no new
    flow for ND-17 (NEW_FLOW: LISTEN only) and anything but a SYN is answered with a RST."""
    system = build_system(CATALOG["fig7-both-capable"])
    drop = [c for c in system.commands if c.name.startswith("server.tcp.drop_half_open")]
    assert len(drop) == 1 and dict(drop[0].updates)["server.tcp"].args[0] == \
        [s.id for s in TcpServer.states].index("relisten")
    again = [c.name for c in system.commands if c.name.startswith("server.tcp.recv_syn@relisten")]
    assert again and not any("ND-17" in n for n in again)
    answers = [c for c in system.commands if c.name.startswith("server.tcp.recv_stray@relisten[DATA1]")]
    assert any("RST" in [p.internal for p in c.wire + c.held] for c in answers)
    closed = [c for c in system.commands if c.name.startswith("server.tcp.recv_stray@done[")]
    assert closed and not any(c.wire or c.held for c in closed)


def test_a_rst_ends_a_synchronized_connection_and_a_half_open_one_listens_again():
    targets = {src: t.target.id for st in TcpServer.states for t in st.transitions
               for ev in t.events if str(ev) == "recv_rst" for src in [st.id]}
    assert targets == {"syn_received": "relisten", "established": "reset", "fin_wait_1": "reset",
                       "fin_wait_2": "reset", "close_wait": "reset", "last_ack": "done",
                       "time_wait": "done"}
