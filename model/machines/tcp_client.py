"""The TCP client (RFC 9293 subset): active open, N data segments, optional FIN, retransmission."""

from __future__ import annotations

from statemachine import State

from ..ir import Field, P, add, and_, eq, lt, max_, or_
from ..messages import ack, data
from .base import Binding, BoundMachine, Ctx, V


class TcpClient(BoundMachine):
    """Client side of one TCP connection (digest §8.3).

    Retransmission is bounded: ``syn_retries`` SYN retransmissions then give-up (RFC 9293
    §3.8.3 R2 for SYN, Windows MaxSynRetransmissions), ``data_retries`` retransmissions of the
    oldest unacknowledged segment (or FIN) over the connection's life, then abort.
    """

    closed = State("CLOSED", initial=True)
    syn_sent = State("SYN-SENT")
    established = State("ESTABLISHED")
    fin_wait_1 = State("FIN-WAIT-1")
    time_wait = State("TIME-WAIT")
    closed_done = State("CLOSED-DONE", final=True)  # CLOSED after an orderly close
    failed = State("FAILED", final=True)

    send_syn = closed.to(syn_sent)
    retransmit_syn = syn_sent.to.itself(cond=["syn_budget_left", "syn_quiet"])
    give_up = syn_sent.to(failed, cond=["syn_budget_spent", "syn_quiet"])
    recv_syn_ack = syn_sent.to(established) | established.to.itself()
    send_data = established.to.itself(cond="window_open")
    recv_ack = established.to.itself()
    retransmit_data = (established.to.itself(cond=["unacked", "data_budget_left", "data_quiet"])
                       | fin_wait_1.to.itself(cond=["data_budget_left", "fin_quiet"]))
    abort = (established.to(failed, cond=["unacked", "data_budget_spent", "data_quiet"])
             | fin_wait_1.to(failed, cond=["data_budget_spent", "fin_quiet"]))
    send_fin = established.to(fin_wait_1, cond=["fin_enabled", "all_acked"])
    recv_fin = fin_wait_1.to(time_wait) | time_wait.to.itself()
    expire_2msl = time_wait.to(closed_done, cond="lastack_quiet")


def fields(ctx: Ctx) -> list[Field]:
    t = ctx.sc.tcp
    n = t.data_segments
    return [
        Field(ctx.n("syn_retx"), 0, t.syn_retries, 0, "counter", unbounded_ok=True,
              doc="SYN retransmissions so far"),
        Field(ctx.n("snd_nxt"), 0, n, 0, "counter", doc="data segments sent (next is snd_nxt+1)"),
        Field(ctx.n("snd_una"), 0, n, 0, "counter", doc="data segments acknowledged"),
        Field(ctx.n("data_retx"), 0, t.data_retries, 0, "counter", unbounded_ok=True,
              doc="data/FIN retransmissions so far"),
    ]


def bind(ctx: Ctx) -> Binding:
    t = ctx.sc.tcp
    n = t.data_segments
    syn_retx, snd_nxt, snd_una, data_retx = (
        ctx.f(x) for x in ("syn_retx", "snd_nxt", "snd_una", "data_retx"))
    b = Binding(conds={
        "syn_budget_left": lt(syn_retx, P(t.syn_retries, "tcp.syn_retries")),
        "syn_budget_spent": eq(syn_retx, P(t.syn_retries, "tcp.syn_retries")),
        "syn_quiet": ctx.quiet("SYN", "SYN-ACK"),
        "window_open": and_(lt(snd_nxt, n), lt(snd_nxt, add(snd_una, t.window))),
        "unacked": lt(snd_una, snd_nxt),
        "data_budget_left": lt(data_retx, P(t.data_retries, "tcp.data_retries")),
        "data_budget_spent": eq(data_retx, P(t.data_retries, "tcp.data_retries")),
        # The timer of the oldest unacknowledged segment: neither that segment nor an
        # acknowledgement that would advance snd_una is still in flight.
        "data_quiet": or_(*[and_(eq(snd_una, u),
                                 ctx.quiet(data(u + 1), *[ack(k) for k in range(u + 1, n + 1)]))
                            for u in range(n)]),
        "fin_quiet": ctx.quiet("FIN"),
        "fin_enabled": t.fin,
        # 2MSL: TIME-WAIT ends once the peer's FIN cannot come back any more.
        "lastack_quiet": ctx.quiet("FIN", "ACKF"),
        "all_acked": eq(snd_una, n),
    })
    e = b.effects
    e["send_syn"] = [V(send=["SYN"])]
    e["retransmit_syn"] = [V(send=["SYN"], updates={ctx.n("syn_retx"): add(syn_retx, 1)})]
    e["give_up"] = [V()]
    e["recv_syn_ack@syn_sent"] = [V(recv="SYN-ACK", send=["ACK"])]
    e["recv_syn_ack@established"] = [V(recv="SYN-ACK", send=["ACK"], label="dup")]
    e["send_data"] = [V(guard=eq(snd_nxt, i), send=[data(i + 1)],
                        updates={ctx.n("snd_nxt"): add(snd_nxt, 1)}, label=data(i + 1))
                      for i in range(n)]
    e["recv_ack"] = [V(recv=ack(k), updates={ctx.n("snd_una"): max_(snd_una, k)}, label=ack(k))
                     # ACK0 (duplicate ACK before any data) exists only with out-of-order data.
                     for k in range(0 if n >= 2 else 1, n + 1)]
    e["retransmit_data@established"] = [
        V(guard=eq(snd_una, u), send=[data(u + 1)],
          updates={ctx.n("data_retx"): add(data_retx, 1)}, label=data(u + 1))
        for u in range(n)]
    e["retransmit_data@fin_wait_1"] = [
        V(send=["FIN"], updates={ctx.n("data_retx"): add(data_retx, 1)}, label="FIN")]
    e["abort"] = [V()]
    e["send_fin"] = [V(send=["FIN"])]
    e["recv_fin@fin_wait_1"] = [V(recv="FIN", send=["ACKF"])]
    e["recv_fin@time_wait"] = [V(recv="FIN", send=["ACKF"], label="dup")]
    e["expire_2msl"] = [V()]
    return b
