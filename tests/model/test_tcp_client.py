"""TcpClient: the active opener (RFC 9293 names), its budgets, its close and its timers."""

from __future__ import annotations

import dataclasses

import pytest

from ndcheck.model.compose import build_system
from ndcheck.model.machines import TcpClient
from ndcheck.model.machines.base import event_sources, state_ids
from ndcheck.model.scenario import CATALOG


def test_states():
    assert [s.name for s in TcpClient.states] == [
        "CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "LAST-ACK",
        "TIME-WAIT", "CLOSED-DONE", "FAILED", "ABORTED", "RESET"]


def test_events_say_direction_and_message():
    assert sorted(event_sources(TcpClient)) == [
        "abort", "give_up", "recv_ack", "recv_ack_fin", "recv_data", "recv_fin", "recv_rst",
        "recv_stray", "recv_syn_ack", "retransmit_data", "retransmit_fin", "retransmit_syn",
        "send_data", "send_fin", "send_syn"]
    assert TcpClient.URGENT_EVENTS == ("send_data", "send_fin")


def test_the_syn_budget_ends_without_rst_and_a_data_budget_with_one():
    """RFC 9293 §3.8.3: a SYN budget spent in SYN-SENT gives up (FAILED, nothing sent); a budget
    spent in a synchronized state aborts with a RST (ABORTED)."""
    system = build_system(CATALOG["fig8-silent-peer"])
    give_up = [c for c in system.commands if c.name.startswith("client.tcp.give_up")]
    abort = [c for c in system.commands if c.name.startswith("client.tcp.abort@")]
    assert give_up and all(not c.wire for c in give_up)
    # the RST goes through the ND outbound filter: on the wire (clear, ESP) or held (ND-10)
    assert abort and all("RST" in [p.internal for p in c.wire + c.held] for c in abort)
    assert {src for c in abort for k, _, src in c.events if k == "client.tcp"} >= {
        "established", "fin_wait_1"}


def _state(system, **values):
    s = list(system.init)
    for k, v in values.items():
        f = system.field(k)
        s[system.index[k]] = f.labels.index(v) if f.labels and isinstance(v, str) else v
    return tuple(s)


def test_a_new_ack_restarts_the_budget_an_old_one_does_not():
    """T10: the retransmission budget restarts when the peer acknowledges new data."""
    system = build_system(CATALOG["fig8-silent-peer"])
    base = dict(**{"client.tcp": "ESTABLISHED", "server.tcp": "ESTABLISHED", "client.snd_nxt": 2,
                   "client.snd_una": 1, "client.data_retx": 1})
    ack = {name: next(c for c in system.commands
                      if c.name.startswith(f"client.tcp.recv_ack@established[{name}] <{name} clear"))
           for name in ("ACK1", "ACK2")}
    new = system.step(ack["ACK2"], _state(system, **base, **{"net.s2c.ACK2.clear": 1}))
    assert new[system.index["client.snd_una"]] == 2 and new[system.index["client.data_retx"]] == 0
    old = system.step(ack["ACK1"], _state(system, **base, **{"net.s2c.ACK1.clear": 1}))
    assert old[system.index["client.snd_una"]] == 1 and old[system.index["client.data_retx"]] == 1


def _with(name, **tcp):
    sc = CATALOG[name]
    return dataclasses.replace(sc, tcp=dataclasses.replace(sc.tcp, **tcp))


@pytest.mark.parametrize("close, ends", [
    ("client", {("TIME-WAIT", "CLOSED")}),
    ("server", {("CLOSED-DONE", "TIME-WAIT")}),
    ("none", {("ESTABLISHED", "ESTABLISHED")}),
])
def test_who_closes_first_is_a_knob(close, ends):
    """``tcp.close``: the first closer goes FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT, the other
    CLOSE-WAIT -> LAST-ACK -> CLOSED; with ``none`` both stay ESTABLISHED.  Without IPsec and
    loss every run ends so (fig8-silent-peer)."""
    from ndcheck.engines.explicit import explore
    from ndcheck.engines.graph_queries import GraphQueries

    g = explore(build_system(_with("fig8-silent-peer", close=close)))
    _, bottom, members = GraphQueries(g).scc()
    finals = {(g.system.describe(g.states[m])["client.tcp"], g.system.describe(g.states[m])["server.tcp"])
              for c, ms in members.items() if bottom[c] for m in ms}
    assert finals == ends


def test_time_wait_is_where_the_first_closer_ends():
    """2MSL outlasts the peer's FIN retransmissions: TIME-WAIT is never left on a timer; it
    re-acknowledges a retransmitted FIN (and a RST closes it, RFC 9293 §3.10.7.4)."""
    leaving = {(t.target.id, str(ev)) for st in TcpClient.states if st.id == "time_wait"
               for t in st.transitions for ev in t.events if t.target.id != "time_wait"}
    assert leaving == {("done", "recv_rst")}


def test_backoff_lets_only_the_first_expiry_come_before_the_network_settles():
    """``tcp.timers = "backoff"``: the condition of a retransmission timer reads the network
    beyond its own segment only once the segment has been retransmitted; ``quiet`` never does."""
    fields_of_timer = {}
    for timers in ("backoff", "quiet"):
        system = build_system(_with("fig7-both-capable", timers=timers))
        guard = system.conds["client.tcp"]["data_timer"]
        fields_of_timer[timers] = repr(guard)
    assert "client.data_retx == 0" in fields_of_timer["backoff"]
    assert "MM2" in fields_of_timer["backoff"] and "server.ike" in fields_of_timer["backoff"]
    assert "data_retx" not in fields_of_timer["quiet"] and "MM2" not in fields_of_timer["quiet"]


def test_premature_timeouts_let_every_timer_fire():
    system = build_system(_with("fig7-both-capable", premature_timeouts=True))
    conds = system.conds["client.tcp"]
    assert all(repr(conds[c]) == "1" for c in ("syn_timer", "data_timer", "fin_timer"))


def test_state_ids_are_shared_with_the_server_where_rfc_names_are():
    from ndcheck.model.machines import TcpServer

    shared = set(state_ids(TcpClient)) & set(state_ids(TcpServer))
    assert shared == {"established", "fin_wait_1", "fin_wait_2", "close_wait", "last_ack",
                      "time_wait", "done", "aborted", "reset"}
