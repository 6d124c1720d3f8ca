"""The TCP server (RFC 9293 as Windows runs it): passive open, data both ways, FIN close, RST."""

from __future__ import annotations

from statemachine import State

from ..ir import TRUE, Expr, F, Field, P, add, eq, lt
from ..messages import ack, data
from ..timers import doubling, schedule, units
from .base import Binding, BoundMachine, Ctx, V
from .tcp_segments import (
    ACKF,
    DATA_TIMER_CONDS,
    answer_rst,
    data_deadline,
    receive,
    receive_dup,
    restart,
    retransmit_oldest,
    send_new,
    stray,
    take_ack,
    timer,
)
from .tcp_segments import conds as end_conds
from .tcp_segments import end as end_of
from .tcp_segments import fields as end_fields


class TcpServer(BoundMachine):
    """Server side of one TCP connection (digest §8.3; cuts in the README's modelling choices).

    The passive opener answers a SYN with a SYN-ACK and retransmits it ``synack_retries`` times
    (Windows TcpMaxConnectResponseRetransmissions); when that budget is spent it drops the
    half-open connection and listens again (LISTEN-AGAIN: the ND flow entry stays, A-5, so a new
    SYN is no new flow for ND-17).  A data segment carries an acceptable ACK, so it completes the
    handshake when the client's ACK is late.  Data both ways, the retransmission budget, the close
    (TIME-WAIT kept to the end of the run) and RST as for the client (``tcp_segments``); the
    server sends its ``server_segments`` once
    it has the client's data (``server_sends = "after-request"``) or at any time once
    ESTABLISHED.  A SYN in a synchronized state is discarded (no RFC 5961 challenge ACK); while
    listening again, anything but a SYN is answered with a RST.
    """

    listen = State("LISTEN", initial=True)
    syn_received = State("SYN-RECEIVED")
    established = State("ESTABLISHED")
    fin_wait_1 = State("FIN-WAIT-1")
    fin_wait_2 = State("FIN-WAIT-2")
    close_wait = State("CLOSE-WAIT")
    last_ack = State("LAST-ACK")
    time_wait = State("TIME-WAIT")
    done = State("CLOSED")           # CLOSED after the FIN exchange (closing second)
    relisten = State("LISTEN-AGAIN")  # the half-open connection dropped; listening again
    aborted = State("ABORTED")       # a budget spent in a synchronized state: RST sent
    reset = State("RESET")           # a RST received in a synchronized state

    #: Steps the application takes at once (a write, a close): a later retransmission timer
    #: waits for them (``tcp.timers = "backoff"``, :meth:`~ndcheck.model.machines.base.Ctx.settled`).
    URGENT_EVENTS = ("send_data", "send_fin")
    #: Timed model: the conditions that wait for the end's retransmission clock, and the fields
    #: whose change restarts it (:mod:`ndcheck.model.timing`).
    TIMER_CONDS = ("synack_timer", *DATA_TIMER_CONDS)
    TIMER_WATCH = ("synack_retx", "data_retx", "snd_una")

    # -- opening (§3.5) --------------------------------------------------------------------
    recv_syn = (listen.to(syn_received) | relisten.to(syn_received) | syn_received.to.itself()
                | established.to.itself() | fin_wait_1.to.itself() | fin_wait_2.to.itself()
                | close_wait.to.itself() | last_ack.to.itself() | time_wait.to.itself())
    retransmit_syn_ack = syn_received.to.itself(cond=["synack_budget_left", "synack_timer"])
    drop_half_open = syn_received.to(relisten, cond=["synack_budget_spent", "synack_timer"])
    recv_ack = (syn_received.to(established) | established.to.itself() | fin_wait_1.to.itself()
                | fin_wait_2.to.itself() | close_wait.to.itself() | last_ack.to.itself()
                | time_wait.to.itself())
    # -- data, both directions (§3.10.7.4) -------------------------------------------------
    recv_data = (syn_received.to(established) | established.to.itself() | fin_wait_1.to.itself()
                 | fin_wait_2.to.itself() | close_wait.to.itself() | last_ack.to.itself()
                 | time_wait.to.itself())
    send_data = established.to.itself(cond=["window_open", "may_answer"])
    retransmit_data = (established.to.itself(cond=["unacked", "data_budget_left", "data_timer"])
                       | close_wait.to.itself(cond=["unacked", "data_budget_left", "data_timer_cw"]))
    # -- closing (§3.6) --------------------------------------------------------------------
    send_fin = (established.to(fin_wait_1, cond=["closes_first", "all_acked", "all_received"])
                | close_wait.to(last_ack, cond="all_acked"))
    recv_ack_fin = (fin_wait_1.to(fin_wait_2) | last_ack.to(done) | fin_wait_2.to.itself()
                    | time_wait.to.itself())
    recv_fin = (established.to(close_wait, cond="all_received") | fin_wait_1.to(time_wait)
                | fin_wait_2.to(time_wait) | close_wait.to.itself() | last_ack.to.itself()
                | time_wait.to.itself())
    retransmit_fin = (fin_wait_1.to.itself(cond=["data_budget_left", "fin_timer"])
                      | last_ack.to.itself(cond=["data_budget_left", "fin_timer_la"]))
    # -- aborting (§3.8.3 R2, §3.10.7) -----------------------------------------------------
    abort = (established.to(aborted, cond=["unacked", "data_budget_spent", "data_timer"])
             | close_wait.to(aborted, cond=["unacked", "data_budget_spent", "data_timer_cw"])
             | fin_wait_1.to(aborted, cond=["data_budget_spent", "fin_timer"])
             | last_ack.to(aborted, cond=["data_budget_spent", "fin_timer_la"]))
    recv_rst = (syn_received.to(relisten) | established.to(reset) | fin_wait_1.to(reset)
                | fin_wait_2.to(reset) | close_wait.to(reset) | last_ack.to(done)
                | time_wait.to(done))
    recv_stray = (relisten.to.itself() | done.to.itself() | aborted.to.itself()
                  | reset.to.itself())


SYNCHRONIZED = ("established", "fin_wait_1", "fin_wait_2", "close_wait", "last_ack", "time_wait")


def deadlines(b: Binding, h: str, sc) -> dict[str, Expr]:
    """Timed: the SYN-ACK's deadline by ``synack_retx`` (the SYN's initial RTO, doubling, the
    half-open connection dropped after one more doubled wait, T1), data and FIN by ``data_retx``."""
    tm = sc.time
    synack = schedule(F(f"{h}.synack_retx"), units(tm, doubling(tm, tm.syn_rto, sc.tcp.synack_retries)))
    return {"synack_timer": synack, **{c: data_deadline(h, sc) for c in DATA_TIMER_CONDS}}


def fields(ctx: Ctx) -> list[Field]:
    t = ctx.sc.tcp
    return [Field(ctx.n("synack_retx"), 0, t.synack_retries, 0, "counter", unbounded_ok=True,
                  doc="SYN-ACK retransmissions so far")] + end_fields(ctx, end_of(ctx.sc, ctx.role))


def bind(ctx: Ctx) -> Binding:
    t = ctx.sc.tcp
    e = end_of(ctx.sc, ctx.role)
    retx = ctx.f("synack_retx")
    budget = P(t.synack_retries, "tcp.synack_retries")
    b = Binding(conds={
        "synack_budget_left": lt(retx, budget),
        "synack_budget_spent": eq(retx, budget),
        # Stopped by the client's ACK or data; a SYN on its way brings a SYN-ACK anyway.
        "synack_timer": timer(ctx, "syn_received", ["SYN-ACK"],
                                  ["ACK", "SYN", *[data(i + 1) for i in range(e.peer)]], retx),
        # request/response: the answer follows the whole request (or any time once connected).
        "may_answer": TRUE if t.server_sends == "established" else eq(ctx.f("rcv_nxt"), e.peer),
        **end_conds(ctx, e),
    })
    fx = b.effects
    fx["recv_syn@listen"] = [V(recv="SYN", send=["SYN-ACK"])]
    fx["recv_syn@relisten"] = [V(recv="SYN", send=["SYN-ACK"])]
    fx["recv_syn@syn_received"] = [V(recv="SYN", send=["SYN-ACK"], label="dup")]
    for s in SYNCHRONIZED:
        fx[f"recv_syn@{s}"] = [V(recv="SYN", label="old")]
    fx["retransmit_syn_ack"] = [V(send=["SYN-ACK"], updates={ctx.n("synack_retx"): add(retx, 1)})]
    fx["drop_half_open"] = [V(updates={ctx.n("synack_retx"): 0})]
    fx["recv_ack@syn_received"] = [V(recv="ACK")]
    old_ack = V(recv="ACK", label="dup")
    fx["recv_ack@established"] = fx["recv_ack@close_wait"] = [old_ack, *take_ack(ctx, e, live=True)]
    for s in ("fin_wait_1", "fin_wait_2", "last_ack", "time_wait"):
        fx[f"recv_ack@{s}"] = [old_ack, *take_ack(ctx, e, live=False)]
    # In SYN-RECEIVED nothing has been received yet (rcv_nxt = 0).
    fx["recv_data@syn_received"] = receive(ctx, e, rs=[0])
    fx["recv_data@established"] = receive(ctx, e)
    fx["recv_data@fin_wait_1"] = fx["recv_data@fin_wait_2"] = receive_dup(e, ack(e.peer))
    fx["recv_data@close_wait"] = fx["recv_data@last_ack"] = fx["recv_data@time_wait"] = \
        receive_dup(e, ACKF)
    fx["send_data"] = send_new(ctx, e)
    fx["retransmit_data"] = retransmit_oldest(ctx, e)
    fx["send_fin"] = [V(send=["FIN"], updates=restart(ctx))]
    fx["recv_ack_fin@fin_wait_1"] = [V(recv=ACKF)]
    fx["recv_ack_fin@last_ack"] = [V(recv=ACKF)]
    fx["recv_ack_fin@fin_wait_2"] = fx["recv_ack_fin@time_wait"] = [V(recv=ACKF, label="dup")]
    fx["recv_fin@established"] = [V(recv="FIN", send=[ACKF])]
    fx["recv_fin@fin_wait_1"] = [V(recv="FIN", send=[ACKF])]
    fx["recv_fin@fin_wait_2"] = [V(recv="FIN", send=[ACKF])]
    for s in ("close_wait", "last_ack", "time_wait"):
        fx[f"recv_fin@{s}"] = [V(recv="FIN", send=[ACKF], label="dup")]
    fx["retransmit_fin"] = [V(send=["FIN"], updates={ctx.n("data_retx"): add(ctx.f("data_retx"), 1)})]
    fx["abort"] = [V(send=["RST"])]
    fx["recv_rst@syn_received"] = [V(recv="RST", updates={ctx.n("synack_retx"): 0})]
    fx["recv_rst"] = [V(recv="RST")]
    fx["recv_stray@relisten"] = answer_rst(ctx, skip=("SYN",))
    fx["recv_stray"] = stray(ctx.sc, ctx.role)
    return b
