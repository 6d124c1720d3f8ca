"""The TCP client (RFC 9293 as Windows runs it): active open, data both ways, FIN close, RST."""

from __future__ import annotations

from statemachine import State

from ..ir import Expr, F, Field, P, add, eq, lt
from ..messages import ack
from ..timers import schedule, syn_waits, units
from .base import Binding, BoundMachine, Ctx, V
from .tcp_segments import (
    ACKF,
    DATA_TIMER_CONDS,
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


class TcpClient(BoundMachine):
    """Client side of one TCP connection (digest §8.3; cuts in the README's modelling choices).

    The active opener retransmits its SYN ``syn_retries`` times, then gives up without a RST
    (FAILED, RFC 9293 §3.8.3 R2, Windows MaxSynRetransmissions).  Once ESTABLISHED it sends its
    ``data_segments`` within the window and receives the server's, holding out-of-order segments
    and answering each with a cumulative ACK (``tcp_segments``).  The oldest unacknowledged
    segment (or the FIN) is retransmitted up to ``data_retries`` times, a budget restarted by
    every new acknowledgement; then the client aborts with a RST (ABORTED).  It closes first
    (FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT) or second (CLOSE-WAIT -> LAST-ACK -> CLOSED-DONE)
    per ``tcp.close``.  TIME-WAIT is never left: 2MSL (Windows TcpTimedWaitDelay, 240 s)
    outlasts the peer's whole FIN retransmission schedule, so within a run TIME-WAIT is where the
    first closer ends, re-acknowledging any retransmitted FIN.  A RST from the server ends a
    synchronized connection (RESET); once the connection is gone, segments are discarded.
    """

    closed = State("CLOSED", initial=True)
    syn_sent = State("SYN-SENT")
    established = State("ESTABLISHED")
    fin_wait_1 = State("FIN-WAIT-1")
    fin_wait_2 = State("FIN-WAIT-2")
    close_wait = State("CLOSE-WAIT")
    last_ack = State("LAST-ACK")
    time_wait = State("TIME-WAIT")
    done = State("CLOSED-DONE")      # CLOSED after the FIN exchange (closing second)
    failed = State("FAILED")         # SYN budget spent (or refused) in SYN-SENT: no RST
    aborted = State("ABORTED")       # a budget spent in a synchronized state: RST sent
    reset = State("RESET")           # a RST received in a synchronized state

    #: Steps the application takes at once (a write, a close): a later retransmission timer
    #: waits for them (``tcp.timers = "backoff"``, :meth:`~ndcheck.model.machines.base.Ctx.settled`).
    URGENT_EVENTS = ("send_data", "send_fin")
    #: Timed model (:mod:`ndcheck.model.timing`): the conditions that wait for the end's one
    #: retransmission clock (RFC 6298), and the fields whose change restarts it.
    TIMER_CONDS = ("syn_timer", *DATA_TIMER_CONDS)
    TIMER_WATCH = ("syn_retx", "data_retx", "snd_una")

    # -- opening (§3.5) --------------------------------------------------------------------
    send_syn = closed.to(syn_sent)
    retransmit_syn = syn_sent.to.itself(cond=["syn_budget_left", "syn_timer"])
    give_up = syn_sent.to(failed, cond=["syn_budget_spent", "syn_timer"])
    recv_syn_ack = (syn_sent.to(established) | established.to.itself() | fin_wait_1.to.itself()
                    | fin_wait_2.to.itself() | close_wait.to.itself() | last_ack.to.itself()
                    | time_wait.to.itself())
    # -- data, both directions (§3.10.7.4) -------------------------------------------------
    send_data = established.to.itself(cond="window_open")
    recv_data = (established.to.itself() | fin_wait_1.to.itself() | fin_wait_2.to.itself()
                 | close_wait.to.itself() | last_ack.to.itself() | time_wait.to.itself())
    recv_ack = (established.to.itself() | fin_wait_1.to.itself() | fin_wait_2.to.itself()
                | close_wait.to.itself() | last_ack.to.itself() | time_wait.to.itself())
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
    recv_rst = (syn_sent.to(failed) | established.to(reset) | fin_wait_1.to(reset)
                | fin_wait_2.to(reset) | close_wait.to(reset) | last_ack.to(done)
                | time_wait.to(done))
    recv_stray = (done.to.itself() | failed.to.itself() | aborted.to.itself()
                  | reset.to.itself())


def deadlines(b: Binding, h: str, sc) -> dict[str, Expr]:
    """Timed: the SYN's deadline by ``syn_retx`` (:func:`~ndcheck.model.timers.syn_waits`), the
    data and FIN timers' by ``data_retx``."""
    syn = schedule(F(f"{h}.syn_retx"), units(sc.time, syn_waits(sc.time, sc.tcp.syn_retries)))
    return {"syn_timer": syn, **{c: data_deadline(h, sc) for c in DATA_TIMER_CONDS}}


def fields(ctx: Ctx) -> list[Field]:
    t = ctx.sc.tcp
    return [Field(ctx.n("syn_retx"), 0, t.syn_retries, 0, "counter", unbounded_ok=True,
                  doc="SYN retransmissions so far")] + end_fields(ctx, end_of(ctx.sc, ctx.role))


def bind(ctx: Ctx) -> Binding:
    t = ctx.sc.tcp
    e = end_of(ctx.sc, ctx.role)
    syn_retx = ctx.f("syn_retx")
    b = Binding(conds={
        "syn_budget_left": lt(syn_retx, P(t.syn_retries, "tcp.syn_retries")),
        "syn_budget_spent": eq(syn_retx, P(t.syn_retries, "tcp.syn_retries")),
        "syn_timer": timer(ctx, "syn_sent", ["SYN"], ["SYN-ACK"], syn_retx),
        **end_conds(ctx, e),
    })
    fx = b.effects
    fx["send_syn"] = [V(send=["SYN"])]
    fx["retransmit_syn"] = [V(send=["SYN"], updates={ctx.n("syn_retx"): add(syn_retx, 1)})]
    fx["give_up"] = [V()]
    fx["recv_syn_ack@syn_sent"] = [V(recv="SYN-ACK", send=["ACK"])]
    for s in ("established", "fin_wait_1"):
        # An old SYN-ACK (the server retransmitted it): acknowledge again.
        fx[f"recv_syn_ack@{s}"] = [V(recv="SYN-ACK", send=["ACK"], label="dup")]
    for s in ("fin_wait_2", "close_wait", "last_ack", "time_wait"):
        # ... the server is synchronized by now (it acknowledged our FIN or sent its own).
        fx[f"recv_syn_ack@{s}"] = [V(recv="SYN-ACK", label="old")]
    fx["send_data"] = send_new(ctx, e)
    fx["recv_data@established"] = receive(ctx, e)
    # After closing first the client has all the server's data; after the server's FIN too.
    fx["recv_data@fin_wait_1"] = fx["recv_data@fin_wait_2"] = receive_dup(e, ack(e.peer))
    fx["recv_data@close_wait"] = fx["recv_data@last_ack"] = fx["recv_data@time_wait"] = \
        receive_dup(e, ACKF)
    fx["recv_ack@established"] = fx["recv_ack@close_wait"] = take_ack(ctx, e, live=True)
    for s in ("fin_wait_1", "fin_wait_2", "last_ack", "time_wait"):
        fx[f"recv_ack@{s}"] = take_ack(ctx, e, live=False)
    fx["retransmit_data"] = retransmit_oldest(ctx, e)
    fx["send_fin"] = [V(send=["FIN"], updates=restart(ctx))]
    fx["recv_ack_fin@fin_wait_1"] = [V(recv=ACKF)]
    fx["recv_ack_fin@last_ack"] = [V(recv=ACKF)]
    fx["recv_ack_fin@fin_wait_2"] = fx["recv_ack_fin@time_wait"] = [V(recv=ACKF, label="dup")]
    fx["recv_fin@established"] = [V(recv="FIN", send=[ACKF])]
    # The second FIN acknowledges the first (the server sends it after receiving ours).
    fx["recv_fin@fin_wait_1"] = [V(recv="FIN", send=[ACKF])]
    fx["recv_fin@fin_wait_2"] = [V(recv="FIN", send=[ACKF])]
    for s in ("close_wait", "last_ack", "time_wait"):
        fx[f"recv_fin@{s}"] = [V(recv="FIN", send=[ACKF], label="dup")]
    fx["retransmit_fin"] = [V(send=["FIN"], updates={ctx.n("data_retx"): add(ctx.f("data_retx"), 1)})]
    fx["abort"] = [V(send=["RST"])]
    fx["recv_rst"] = [V(recv="RST")]
    fx["recv_stray"] = stray(ctx.sc, ctx.role)
    return b
