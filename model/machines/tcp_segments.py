"""What both TCP ends share: one direction's sender and receiver halves as binding variants.

Each end of the connection sends its own data segments and receives the peer's (digest §8.3,
RFC 9293 §3.10.7.4): the *sender* keeps ``snd_nxt`` / ``snd_una`` (data segments sent /
acknowledged, segments are whole units) and ``data_retx`` (retransmissions of the oldest
unacknowledged segment or the FIN, restarted when the peer acknowledges new data, T10); the
*receiver* keeps ``rcv_nxt`` (peer segments received in order) and ``oooI`` flags (peer segment
``I`` held out of order, within the window, T16 / RFC 9293 SHLD-31) and answers every data
segment with a separate cumulative acknowledgement ``ACKk`` (``ACKF`` once the peer's FIN has
arrived).  :class:`~ndcheck.model.machines.tcp_client.TcpClient` and
:class:`~ndcheck.model.machines.tcp_server.TcpServer` declare the control states and events; this
module builds their data fields, conditions and variants, so the two ends cannot disagree.

Timers (``tcp.timers``): a retransmission timer fires once neither its segment nor an answer that
would stop it is in flight (``quiet``); by default (``backoff``) only the first expiry of a
segment's timer may come while other packets are still on their way, later ones wait until the
system has settled -- nothing either host could take on its way, no application write or close
pending (:meth:`Ctx.settled`: the doubled RTO outlasts a round trip, RFC 6298 §5.5).  ``tcp.premature_timeouts`` lets every timer fire at any time.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import TRUE, Expr, F, Field, P, add, and_, eq, ite, lt, max_, not_, or_
from ..messages import ack, data, other
from ..timers import doubling, schedule, units
from .base import Ctx, V, Variant

#: The acknowledgement of a FIN (cumulative: all data and the FIN).
ACKF = "ACKF"


@dataclass(frozen=True, slots=True)
class End:
    """The numbers of one TCP end: segments it sends (``mine``) and receives (``peer``), the
    window, and its part in the close: ``first`` (sends the first FIN), ``second`` (answers a
    FIN with its own) or ``never`` (``tcp.close = "none"``)."""

    mine: int
    peer: int
    window: int
    close: str

    @property
    def closing(self) -> bool:
        return self.close != "never"


def end(sc, host: str) -> End:
    t = sc.tcp
    n, m = t.data_segments, t.server_segments
    close = "never" if t.close == "none" else ("first" if t.close == host else "second")
    return End(n if host == "client" else m, m if host == "client" else n, t.window, close)


# -- receiver -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Receipt:
    """One way a data segment can arrive: segment ``seg`` with ``rcv`` = ``r``, held flags
    ``held`` (segment -> required value), the new ``rcv`` and flags, and the ACK answered."""

    seg: int
    r: int
    held: tuple[tuple[int, int], ...]
    new_r: int
    set_held: tuple[tuple[int, int], ...]
    ack: int
    label: str


def receipts(n: int, w: int, rs=None) -> list[Receipt]:
    """Every arrival of data segment 1..n at a receiver with ``rcv_nxt`` in ``rs`` (default
    0..n): an old one gets a duplicate ACK; the next one is delivered with the run of held
    segments behind it; a later one within the window is held (duplicate ACK).  Beyond the window
    nothing arrives: the sender never sends past ``snd_una + window`` and ``snd_una <= rcv_nxt``."""
    out = []
    for i in range(1, n + 1):
        for r in (range(n + 1) if rs is None else rs):
            hi = min(n, r + w)
            if i <= r:
                out.append(Receipt(i, r, (), r, (), r, f"{data(i)}@{r} dup"))
            elif i == r + 1:
                for k in range(hi - i + 1):
                    need = [(j, 1) for j in range(i + 1, i + k + 1)]
                    if i + k + 1 <= hi:
                        need.append((i + k + 1, 0))
                    clear = tuple((j, 0) for j in range(i + 1, i + k + 1))
                    out.append(Receipt(i, r, tuple(need), i + k, clear, i + k,
                                       f"{data(i)}@{r}" + (f"+{k}" if k else "")))
            elif i <= hi:
                out.append(Receipt(i, r, (), r, ((i, 1),), r, f"{data(i)}@{r} held"))
    return out


def holdable(n: int, w: int) -> list[int]:
    """The segments a receiver of ``n`` segments with window ``w`` may hold out of order."""
    return sorted({j for rc in receipts(n, w) for j, v in rc.set_held if v})


def acks_of(n: int, w: int) -> list[str]:
    """The data acknowledgements (``ACKk``) a receiver of ``n`` segments sends."""
    return [ack(k) for k in sorted({rc.ack for rc in receipts(n, w)})]


def receive(ctx: Ctx, e: End, rs=None) -> list[Variant]:
    """Variants of receiving the peer's data segments (``rs``: the ``rcv_nxt`` values possible)."""
    rcv = ctx.f("rcv_nxt")
    out = []
    for rc in receipts(e.peer, e.window, rs):
        guard = and_(eq(rcv, rc.r), *[eq(ctx.f(f"ooo{j}"), v) for j, v in rc.held])
        ups = {ctx.n(f"ooo{j}"): v for j, v in rc.set_held}
        if rc.new_r != rc.r:
            ups[ctx.n("rcv_nxt")] = rc.new_r
        out.append(V(guard=guard, recv=data(rc.seg), send=[ack(rc.ack)], updates=ups,
                     label=rc.label))
    return out


def receive_dup(e: End, answer: str) -> list[Variant]:
    """Variants of an old data segment arriving once all the peer's data is in (FIN-WAIT:
    ``ACKn``; after the peer's FIN: ``ACKF``)."""
    return [V(recv=data(i), send=[answer], label=f"{data(i)} dup") for i in range(1, e.peer + 1)]


# -- sender -------------------------------------------------------------------------------------

def send_new(ctx: Ctx, e: End) -> list[Variant]:
    """Sending the next data segment (the window is the transition's condition)."""
    snd_nxt = ctx.f("snd_nxt")
    return [V(guard=eq(snd_nxt, i), send=[data(i + 1)], updates={ctx.n("snd_nxt"): i + 1},
              label=data(i + 1)) for i in range(e.mine)]


def take_ack(ctx: Ctx, e: End, live: bool) -> list[Variant]:
    """Variants of a data acknowledgement of this end's segments arriving.  ``live``: data may
    be unacknowledged, so a new ACK advances ``snd_una`` and restarts the retransmission budget
    (T10: reset when ACKs resume); otherwise every ACK is old and only consumed."""
    una, retx = ctx.f("snd_una"), ctx.f("data_retx")
    out = []
    for a in acks_of(e.mine, e.window):
        k = int(a[3:])
        ups = {ctx.n("snd_una"): max_(una, k), ctx.n("data_retx"): ite(lt(una, k), 0, retx)} \
            if live and k else {}
        out.append(V(recv=a, updates=ups, label=a))
    return out


def retransmit_oldest(ctx: Ctx, e: End) -> list[Variant]:
    """RFC 6298 §5.4: retransmit the oldest unacknowledged segment."""
    una, retx = ctx.f("snd_una"), ctx.f("data_retx")
    return [V(guard=eq(una, u), send=[data(u + 1)], updates={ctx.n("data_retx"): add(retx, 1)},
              label=data(u + 1)) for u in range(e.mine)]


# -- conditions ---------------------------------------------------------------------------------

def timer(ctx: Ctx, state: str, mine: list[str], answers: list[str], retx: Expr) -> Expr:
    """A retransmission timer of ``state``: none of ``mine`` in flight from this host, none of
    ``answers`` toward it; with ``tcp.timers = "backoff"`` an expiry after the first (``retx``
    retransmissions so far) also waits until the network has settled (:meth:`Ctx.settled`)."""
    if ctx.sc.tcp.premature_timeouts:
        return TRUE
    q = and_(ctx.none_from(ctx.host, mine), ctx.none_from(other(ctx.host), answers))
    return and_(q, backoff(ctx, state, retx))


def backoff(ctx: Ctx, state: str, retx: Expr) -> Expr:
    """RFC 6298 §5.5: the first expiry may come while packets are on their way; later ones come
    after the doubled RTO, once the system has settled (:meth:`Ctx.settled`)."""
    if ctx.sc.tcp.timers != "backoff" or ctx.sc.tcp.premature_timeouts:
        return TRUE
    return or_(eq(retx, 0), ctx.settled())


def data_timer(ctx: Ctx, e: End, state: str) -> Expr:
    """The timer of the oldest unacknowledged segment: neither it nor an ACK that would advance
    ``snd_una`` is in flight (and the back-off)."""
    una = ctx.f("snd_una")
    if ctx.sc.tcp.premature_timeouts:
        return TRUE
    acks = acks_of(e.mine, e.window)
    per = [and_(eq(una, u), ctx.none_from(ctx.host, [data(u + 1)]),
                ctx.none_from(other(ctx.host), [a for a in acks if int(a[3:]) > u]))
           for u in range(e.mine)]
    return and_(or_(*per), backoff(ctx, state, ctx.f("data_retx")))


def fin_timer(ctx: Ctx, state: str) -> Expr:
    """The FIN's timer: neither it nor its acknowledgement (``ACKF``, or in FIN-WAIT-1 the
    peer's FIN, which acknowledges ours) is in flight (and the back-off)."""
    answers = [ACKF, "FIN"] if state == "fin_wait_1" else [ACKF]
    return timer(ctx, state, ["FIN"], answers, ctx.f("data_retx"))


def conds(ctx: Ctx, e: End, budget_name: str = "tcp.data_retries") -> dict[str, Expr]:
    """The data-transfer and close conditions both ends share."""
    t = ctx.sc.tcp
    snd_nxt, una, retx = ctx.f("snd_nxt"), ctx.f("snd_una"), ctx.f("data_retx")
    budget = P(t.data_retries, budget_name)
    return {
        "window_open": and_(lt(snd_nxt, e.mine), lt(snd_nxt, add(una, e.window))),
        "unacked": lt(una, snd_nxt),
        "data_budget_left": lt(retx, budget),
        "data_budget_spent": eq(retx, budget),
        "data_timer": data_timer(ctx, e, "established"),
        "data_timer_cw": data_timer(ctx, e, "close_wait"),
        "fin_timer": fin_timer(ctx, "fin_wait_1"),
        "fin_timer_la": fin_timer(ctx, "last_ack"),
        "closes_first": e.close == "first",
        "all_acked": eq(una, e.mine),
        "all_received": eq(ctx.f("rcv_nxt"), e.peer),
    }


def data_deadline(h: str, sc) -> Expr:
    """Timed (``time.mode = "timed"``): the data/FIN timer's deadline in units by ``data_retx``:
    ``time.data_rto_ms`` doubling (RFC 6298 §5.5), the abort after one more doubled wait."""
    tm = sc.time
    return schedule(F(f"{h}.data_retx"), units(tm, doubling(tm, tm.data_rto_ms, sc.tcp.data_retries)))


#: The timer conditions of both ends' data and FIN timers (one clock per end, RFC 6298).
DATA_TIMER_CONDS = ("data_timer", "data_timer_cw", "fin_timer", "fin_timer_la")


def fields(ctx: Ctx, e: End) -> list[Field]:
    """The sender's and the receiver's data of one end."""
    t = ctx.sc.tcp
    out = [
        Field(ctx.n("snd_nxt"), 0, e.mine, 0, "counter", doc="own data segments sent"),
        Field(ctx.n("snd_una"), 0, e.mine, 0, "counter", doc="own data segments acknowledged"),
        Field(ctx.n("data_retx"), 0, t.data_retries, 0, "counter", unbounded_ok=True,
              doc="retransmissions of the oldest unacknowledged segment or FIN (restarted by "
                  "a new ACK)"),
        Field(ctx.n("rcv_nxt"), 0, e.peer, 0, "counter", doc="peer data segments received in order"),
    ]
    for j in holdable(e.peer, e.window):
        out.append(Field(ctx.n(f"ooo{j}"), 0, 1, 0, "bool",
                         doc=f"peer segment {j} held out of order (T16)"))
    return out


def held_flags(sc, host: str) -> dict[int, str]:
    """The out-of-order flags of the end at ``host`` by the peer segment each holds
    (``{2: "client.ooo2", ...}``)."""
    e = end(sc, host)
    return {j: f"{host}.ooo{j}" for j in holdable(e.peer, e.window)}


def held_fields(sc, host: str) -> list[str]:
    """The out-of-order flags of the end at ``host`` (``client.ooo2`` ...)."""
    return list(held_flags(sc, host).values())


def sent_by(sc, host: str) -> list[str]:
    """Every TCP message the end at ``host`` sends (what a closed end may receive as a stray)."""
    e = end(sc, host)
    out = ["SYN", "ACK"] if host == "client" else ["SYN-ACK"]
    out += [data(i) for i in range(1, e.mine + 1)] + acks_of(e.peer, e.window)
    if e.closing:
        out += ["FIN", ACKF]
    return out + ["RST"]


def stray(sc, host: str) -> list[Variant]:
    """A segment reaching an end whose connection is gone: discarded.  (RFC 9293 §3.10.7.1 has
    a CLOSED end answer with a RST; the model does not: the peer, if still synchronized, finds
    out by its own timers.)"""
    return [V(recv=m, label=m) for m in sent_by(sc, other(host))]


def answer_rst(ctx: Ctx, skip: tuple[str, ...] = ()) -> list[Variant]:
    """A segment reaching a listening end that has no connection for it (§3.10.7.2): a RST is
    ignored, anything else is answered with a RST -- unless one of this end's RSTs is still on
    its way (rate limiting: the peer resets on the first one)."""
    pending = not_(ctx.none_from(ctx.host, ["RST"]))
    out = []
    for m in sent_by(ctx.sc, other(ctx.role)):
        if m in skip:
            continue
        if m == "RST":
            out.append(V(recv=m, label=m))
        else:
            out += [V(guard=not_(pending), recv=m, send=["RST"], label=m),
                    V(guard=pending, recv=m, label=f"{m} rst-pending")]
    return out


def restart(ctx: Ctx) -> dict[str, Expr]:
    """The budget of a FIN just sent starts at zero."""
    return {ctx.n("data_retx"): 0}


__all__ = [
    "ACKF",
    "End",
    "acks_of",
    "answer_rst",
    "backoff",
    "conds",
    "end",
    "fields",
    "held_fields",
    "held_flags",
    "holdable",
    "receipts",
    "receive",
    "receive_dup",
    "restart",
    "retransmit_oldest",
    "send_new",
    "sent_by",
    "stray",
    "take_ack",
    "timer",
]
