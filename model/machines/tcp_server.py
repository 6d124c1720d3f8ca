"""The TCP server (RFC 9293 subset): passive open, in-order receiver with cumulative ACKs, close."""

from __future__ import annotations

from statemachine import State

from ..ir import Field, P, add, eq, lt
from ..messages import ack, data
from .base import Binding, BoundMachine, Ctx, V


class TcpServer(BoundMachine):
    """Server side of one TCP connection (digest §8.3).

    A retransmitted SYN in SYN-RECEIVED is answered with the SYN-ACK again; a data segment with
    an acceptable ACK completes the handshake when the client's ACK was lost; out-of-order or
    duplicate data is answered with a duplicate cumulative ACK.
    """

    listen = State("LISTEN", initial=True)
    syn_received = State("SYN-RECEIVED")
    established = State("ESTABLISHED")
    last_ack = State("LAST-ACK")
    closed = State("CLOSED", final=True)

    recv_syn = listen.to(syn_received) | syn_received.to.itself()
    retransmit_syn_ack = syn_received.to.itself(cond=["srv_budget_left", "synack_quiet"])
    recv_ack = syn_received.to(established)
    recv_data = syn_received.to(established) | established.to.itself()
    recv_fin = established.to(last_ack, cond="all_received") | last_ack.to.itself()
    retransmit_fin = last_ack.to.itself(cond=["srv_budget_left", "lastack_quiet"])
    recv_ack_fin = last_ack.to(closed)


def fields(ctx: Ctx) -> list[Field]:
    t = ctx.sc.tcp
    return [
        Field(ctx.n("rcv_nxt"), 0, t.data_segments, 0, "counter",
              doc="data segments received in order"),
        Field(ctx.n("srv_retx"), 0, t.synack_retries, 0, "counter", unbounded_ok=True,
              doc="SYN-ACK/FIN retransmissions so far"),
    ]


def bind(ctx: Ctx) -> Binding:
    t = ctx.sc.tcp
    n = t.data_segments
    rcv, retx = ctx.f("rcv_nxt"), ctx.f("srv_retx")
    b = Binding(conds={
        "srv_budget_left": lt(retx, P(t.synack_retries, "tcp.synack_retries")),
        "synack_quiet": ctx.quiet("SYN-ACK", "ACK", "SYN", *[data(i + 1) for i in range(n)]),
        "lastack_quiet": ctx.quiet("FIN", "ACKF"),
        "all_received": eq(rcv, n),
    })
    e = b.effects
    e["recv_syn@listen"] = [V(recv="SYN", send=["SYN-ACK"])]
    e["recv_syn@syn_received"] = [V(recv="SYN", send=["SYN-ACK"], label="dup")]
    e["retransmit_syn_ack"] = [V(send=["SYN-ACK"], updates={ctx.n("srv_retx"): add(retx, 1)})]
    e["recv_ack"] = [V(recv="ACK")]
    variants = []
    for i in range(1, n + 1):
        for r in range(n + 1):
            new = r + 1 if i == r + 1 else r
            variants.append(V(guard=eq(rcv, r), recv=data(i), send=[ack(new)],
                              updates={ctx.n("rcv_nxt"): new} if new != r else {},
                              label=f"{data(i)}@{r}"))
    e["recv_data"] = variants
    e["recv_fin@established"] = [V(recv="FIN", send=["FIN"])]
    e["recv_fin@last_ack"] = [V(recv="FIN", send=["FIN"], label="dup")]
    e["retransmit_fin"] = [V(send=["FIN"], updates={ctx.n("srv_retx"): add(retx, 1)})]
    e["recv_ack_fin"] = [V(recv="ACKF")]
    return b
