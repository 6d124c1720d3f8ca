"""The IKEv1 initiator of a host: takes queued acquires, Main Mode #1..#6, Quick Mode QM1..QM3, CONNECTED."""

from __future__ import annotations

import dataclasses

from statemachine import State

from ..ir import FALSE, TRUE, Expr, F, Field, P, add, and_, eq, lt, max_, not_, or_
from ..messages import in_flow, other, qm1, qm1_bits
from ..timers import ike_waits, schedule, units
from .base import Binding, BoundMachine, Ctx, V


class IkeInitiator(BoundMachine):
    """IKE initiator of one host (digest §7.2–7.5); both hosts have one (DESIGN.md, A-13).

    The ND outbound filter does not run the initiator: a trigger (ND-8, ND-10, ND-12, ND-15)
    queues an acquire to the host's IKE service (``acq_pending``, timers-failures Q1–Q3; coalesced
    while one is pending or a negotiation runs, A-4), and ``acquire`` is the service taking it, in
    the same step as the trigger or in any later one (Q3: MM #1 may leave before or after the
    packet that triggered it): ``acquire_mm`` or ``acquire_qm``.  With no MM SA for the peer it starts Main Mode (ND-1/ND-11: MM #1
    with the ND vendor ID); over an existing MM SA -- one this host negotiated as initiator or as
    responder (timers-failures D3) -- it starts Quick Mode at #5 (ND-9).  Whether a Main Mode this
    host is still *answering* counts as an MM SA is A-6 (``ike.mm_in_progress``): ``counts`` keeps
    the acquire queued until that Main Mode ends.  A *stale* acquire, one whose flow has found a
    usable outbound SA by the time the service takes it (installed by this host's responder role,
    say), is dropped (``drop_stale_acquire``).

    The initiator retransmits its last message within a budget (RFC 2408 §5.1), then fails
    (figure 8, "IPsec Unsuccessful Negotiation").  When the peer's responder set the commit bit
    and this host honours it (ND-24, RFC 2408 §3.1; a Windows initiator) it uses the new outbound
    SA only after CONNECTED; a host without negotiation discovery (``capable-no-nd``) ignores the
    commit bit and reads CONNECTED only to drop it (timers-failures C4, C9), as any initiator does
    with a CONNECTED it no longer waits for.  A NOTIFY answering MM #1 (``no-proposal``,
    ND-29), MM #5 (``no-credential``) or QM #5 (``qm-refused``) ends the negotiation in FAILED
    (ND-27); the plaintext NOTIFY at MM #1 is ignored instead with ``ike.notify_at_mm1 = "ignore"``
    (timers-failures N2/N8).  Main Mode completes into the host's MMSAD (``mm_sa``, ``mm_nd``),
    shared with the host's responder.
    """

    #: Raised by SA expiry and by a DELETE (composition), never on their own.
    DRIVEN_EVENTS = ("sa_expire",)
    #: The IKE service takes a queued acquire within milliseconds, long before any retransmission
    #: timer (seconds): while it can, the system is not settled (:meth:`Ctx.settled`), so a TCP
    #: or IKE timer never fires in front of the MM #1 or QM #5 it is waiting for.
    URGENT_EVENTS = ("acquire_mm", "acquire_qm", "drop_stale_acquire")
    #: Timed model: the conditions that wait for the retransmission clock, and the fields whose
    #: change restarts it (:mod:`ndcheck.model.timing`; the responder keeps no timer, R1).
    TIMER_CONDS = ("mm1_quiet", "mm3_quiet", "mm5_quiet", "qm1_quiet", "qm3_quiet")
    TIMER_WATCH = ("ike_retx",)
    #: Steps that start a Quick Mode (QM #5 leaves): they wait for a DELETE in flight toward
    #: this host (composition, ``ike.delete``).
    STARTS_QM = ("acquire_qm", "recv_mm6")
    #: States in which a negotiation runs: a trigger is coalesced (A-4).
    NEGOTIATING = ("mm1_sent", "mm3_sent", "mm5_sent", "qm1_sent", "qm3_sent")

    idle = State("IDLE", initial=True)
    mm1_sent = State("MM1-SENT")
    mm3_sent = State("MM3-SENT")
    mm5_sent = State("MM5-SENT")
    qm1_sent = State("QM1-SENT")
    qm3_sent = State("QM3-SENT")
    established = State("QM-DONE")
    failed = State("FAILED")
    expired = State("SA-EXPIRED")

    acquire_mm = (idle.to(mm1_sent, cond="no_mm_sa") | failed.to(mm1_sent, cond="no_mm_sa")
                  # After the MM SA expired (ike.mm_expiry): Main Mode again (ND-1).
                  | established.to(mm1_sent, cond=["no_mm_sa", "mm_lapses"])
                  | expired.to(mm1_sent, cond=["no_mm_sa", "mm_lapses"]))
    acquire_qm = (idle.to(qm1_sent, cond="over_mm") | failed.to(qm1_sent, cond="over_mm")
                  | established.to(qm1_sent, cond="over_mm") | expired.to(qm1_sent, cond="over_mm"))
    drop_stale_acquire = (idle.to.itself(cond="stale") | failed.to.itself(cond="stale")
                          | established.to.itself(cond="stale") | expired.to.itself(cond="stale"))
    # The QM SAs are gone (expiry, a DELETE sent or received: both only between negotiations).
    sa_expire = established.to(expired)
    recv_mm2 = mm1_sent.to(mm3_sent)
    recv_mm4 = mm3_sent.to(mm5_sent)
    recv_mm6 = mm5_sent.to(qm1_sent)
    recv_qm2 = qm1_sent.to(qm3_sent, cond="commit") | qm1_sent.to(established, unless="commit")
    recv_connected = (qm3_sent.to(established) | established.to.itself() | failed.to.itself()
                      | expired.to.itself())
    retransmit = (mm1_sent.to.itself(cond=["budget_left", "mm1_quiet"])
                  | mm3_sent.to.itself(cond=["budget_left", "mm3_quiet"])
                  | mm5_sent.to.itself(cond=["budget_left", "mm5_quiet"])
                  | qm1_sent.to.itself(cond=["budget_left", "qm1_quiet"])
                  | qm3_sent.to.itself(cond=["budget_left", "qm3_quiet"]))
    give_up = (mm1_sent.to(failed, cond=["budget_spent", "mm1_quiet"])
               | mm3_sent.to(failed, cond=["budget_spent", "mm3_quiet"])
               | mm5_sent.to(failed, cond=["budget_spent", "mm5_quiet"])
               | qm1_sent.to(failed, cond=["budget_spent", "qm1_quiet"])
               | qm3_sent.to(failed, cond=["budget_spent", "qm3_quiet"]))
    recv_notify = (mm1_sent.to(failed, unless="ignores_mm1_notify")
                   | mm1_sent.to.itself(cond="ignores_mm1_notify")
                   | mm3_sent.to(failed) | mm5_sent.to(failed)
                   | qm1_sent.to(failed) | qm3_sent.to(failed))
    recv_icmp = (mm1_sent.to.itself() | mm3_sent.to.itself() | mm5_sent.to.itself()
                 | qm1_sent.to.itself() | qm3_sent.to.itself() | failed.to.itself()
                 | established.to.itself() | idle.to.itself() | expired.to.itself())


def qm1_variants(sc, host: str) -> list[str]:
    """The QM #5 forms ``host``'s initiator can send (ND-9: bit 0x1 iff rule.Boundary, 0x2 iff
    flow.GE); a host without negotiation discovery sends no EXCHANGE_INFO (plain QM #5).  A flow
    is GE by the host's own GE rule (ND-7) or by an inbound SA with SA.GE (ND-20), which the
    peer's GE rule can give it: with a GE rule on either host both forms exist."""
    if not sc.nd_host(host):
        return [qm1(0, 0)]
    b = int(getattr(sc, host).boundary)
    ge = sc.any_ge
    return [qm1(b, 0), qm1(b, 1)] if ge else [qm1(b, 0)]


def deadlines(b: Binding, h: str, sc) -> dict[str, Expr]:
    """Timed: every message's retransmission deadline by ``ike_retx``
    (:func:`~ndcheck.model.timers.ike_waits`: +1, +2, +5 s, give up at 60 s)."""
    d = schedule(F(f"{h}.ike_retx"), units(sc.time, ike_waits(sc.time, sc.ike.retransmissions)))
    return {c: d for c in IkeInitiator.TIMER_CONDS}


def fields(ctx: Ctx) -> list[Field]:
    return [
        Field(ctx.n("ike_retx"), 0, ctx.sc.ike.retransmissions, 0, "counter", unbounded_ok=True,
              doc="retransmissions of the initiator's current IKE message"),
        Field(ctx.n("qm_ge"), 0, 1, 0, "bool", doc="GE bit of the QM #5 the initiator last sent (ND-9)"),
    ]


def _send_qm1(ctx: Ctx, recv: str | None = None, **extra) -> list:
    """Variants sending QM #5 built per ND-9 from the current flow.GE (on receiving ``recv``)."""
    out = []
    qm1s = qm1_variants(ctx.sc, ctx.host)
    for m in qm1s:
        g = qm1_bits(m)[1]
        ups = {ctx.n("qm_ge"): g, **extra}
        out.append(V(guard=eq(ctx.flow_flag("flow_ge"), g) if len(qm1s) > 1 else TRUE,
                     recv=recv, send=[m], updates=ups, label=m, rules=("ND-9",)))
    return out


def usable_sa(ctx: Ctx, ge: Expr | int | None = None):
    """The flow has a usable outbound SA: the outbound filter would encapsulate (or, ND-13, send
    clear) rather than trigger IKE -- an SA whose GE flag matches the flow's (ND-12) for an ND
    rule, any SA for a transport-mode rule (ND-15).  ``ge``: the GE flag the SA must have (a
    host whose flows differ in GE: the queued acquire's); by default the host's flows' flag."""
    sa = eq(ctx.f("sa_out"), 1)
    if getattr(ctx.sc, ctx.host).outbound == "request":
        return and_(sa, eq(ctx.f("sa_ge"), ctx.flow_flag("flow_ge") if ge is None else ge))
    return sa


#: A host whose flows differ in GE (``Scenario.mixed_ge``) queues an acquire per GE flag: for a
#: non-GE flow in ``acq_pending``, for a GE flow in ``acq_pending_ge`` (ND-9 builds QM #5 from
#: the triggering flow's flag; A-4 coalesces a trigger only with a request for the same flag).
PENDING = {0: "acq_pending", 1: "acq_pending_ge"}


def _mixed_bind(ctx: Ctx, b: Binding, take: dict, reset: dict) -> None:
    """The IKE service of a host whose flows differ in their GE rule (``Scenario.mixed_ge``,
    A-16 host-to-host SAs): a queued acquire says the GE flag of the flow that triggered it
    (:data:`PENDING`), the service takes one (either, when both are queued) and records that flag
    in ``qm_ge`` at once -- a Main Mode started for it ends in QM #5 with that flag (ND-9, ND-11)
    -- and an acquire is stale when an installed outbound SA already has its flag or no flow has
    that flag any more (ND-20 marked the non-GE flows GE meanwhile)."""
    sc, h, e = ctx.sc, ctx.host, b.effects
    flows = range(1, len(sc.flows) + 1)

    def wanted(g: int) -> Expr:
        """Some flow of the host still has GE flag ``g`` (flags only rise, A-5: a non-GE flow
        that ND-20 has since marked GE no longer wants a non-GE SA)."""
        return or_(*[eq(F(in_flow(f"{h}.flow_ge", i)), g) for i in flows])

    def stale(g: int) -> Expr:
        return and_(eq(ctx.f(PENDING[g]), 1), or_(usable_sa(ctx, g), not_(wanted(g))))

    b.conds["stale"] = or_(*[stale(g) for g in (0, 1)])
    bb = int(getattr(sc, h).boundary)
    del take[ctx.n("acq_pending")]

    def qm(g: int) -> str:
        """QM #5 for flag ``g`` (ND-9); a host without ND sends no EXCHANGE_INFO."""
        return qm1(bb, g) if sc.nd_host(h) else qm1(0, 0)

    def label(g: int) -> str:
        return qm(g) if sc.nd_host(h) else f"ge={g}"

    def fresh(g: int) -> Expr:
        return and_(eq(ctx.f(PENDING[g]), 1), not_(usable_sa(ctx, g)), wanted(g))

    e["acquire_mm"] = [V(guard=fresh(g), send=["MM1"], label=f"ge={g}",
                         updates={**take, ctx.n(PENDING[g]): 0, ctx.n("qm_ge"): g},
                         rules=("ND-1",) if sc.nd_host(h) else ()) for g in (0, 1)]
    e["acquire_qm"] = [V(guard=fresh(g), send=[qm(g)], label=label(g), rules=("ND-9",),
                         updates={**take, ctx.n(PENDING[g]): 0, ctx.n("qm_ge"): g}) for g in (0, 1)]
    e["drop_stale_acquire"] = [V(guard=stale(g),
                                 updates={ctx.n(PENDING[g]): 0}, label=f"stale ge={g}") for g in (0, 1)]
    # MM #6 verified: QM #5 built now (ND-9) for the flag the Main Mode was started for (qm_ge,
    # set when taken) -- unless that was a non-GE flow's and ND-20 has marked every flow GE
    # since: its flow is GE now, so QM #5 carries bit 0x2.
    now = {1: or_(eq(ctx.f("qm_ge"), 1), not_(wanted(0))), 0: and_(eq(ctx.f("qm_ge"), 0), wanted(0))}
    e["recv_mm6"] = [V(guard=now[g], recv="MM6", send=[qm(g)], label=label(g),
                       updates={**reset, ctx.n("mm_sa"): 1, ctx.n("qm_ge"): g}, rules=("ND-9",))
                     for g in (0, 1)]


def main_mode_conds(ctx: Ctx, retx: Expr) -> dict[str, object]:
    """The Main Mode initiator's retransmission budget and timers, and its reading of a NOTIFY
    answering MM #1 (ND-29): shared by this host-wide machine and the per-flow split's Main Mode
    machine (:mod:`.ike_mm_initiator`, A-16); ``retx`` is the machine's retransmission counter."""
    budget = ctx.sc.ike.retransmissions
    q = ctx.quiet
    return {
        "ignores_mm1_notify": ctx.sc.ike.notify_at_mm1 == "ignore",
        "budget_left": lt(retx, P(budget, "ike.retransmissions")),
        "budget_spent": eq(retx, P(budget, "ike.retransmissions")),
        # The timer fires when neither the message nor its answer is in flight.
        "mm1_quiet": q("MM1", "MM2", "ICMP", "NOTIFY"),
        "mm3_quiet": q("MM3", "MM4"),
        "mm5_quiet": q("MM5", "MM6", "NOTIFY"),
    }


def main_mode_exchange(ctx: Ctx, reset: dict[str, object]) -> dict[str, list[V]]:
    """MM #2 and MM #4 answered (``reset``: the counter's restart): ND-4 reads the ND vendor ID of
    MM #2 when both hosts do negotiation discovery (a capable-no-nd peer sends none, so
    NDSupported stays 0; the model keeps no other use of it: the digest's §3.5 leaves its IKEv1
    use open, and ND-9 sends EXCHANGE_INFO regardless, choice X-1, README); ND-5 at MM #4."""
    h = ctx.host
    nd = ctx.sc.nd_host(h) and ctx.sc.nd_host(other(h))
    return {
        "recv_mm2": [V(recv="MM2", send=["MM3"], updates={**reset, **({ctx.n("mm_nd"): 1} if nd else {})},
                       rules=("ND-4",) if nd else ())],
        "recv_mm4": [V(recv="MM4", send=["MM5"], updates=reset, rules=("ND-5",))],
    }


def negotiation_ends(ctx: Ctx) -> dict[str, list[V]]:
    """The budget spent, a NOTIFY (ND-27), a plaintext NOTIFY answering MM #1
    (NO-PROPOSAL-CHOSEN, ND-29: the end of the negotiation, or dropped unread with
    ike.notify_at_mm1 = "ignore", N2/N8) and ICMP: shared with :mod:`.ike_mm_initiator`."""
    ignore = ctx.sc.ike.notify_at_mm1 == "ignore"
    return {
        "give_up": [V()],
        "recv_notify": [V(recv="NOTIFY", rules=("ND-27",))],
        "recv_notify@mm1_sent": [V(recv="NOTIFY", label="ignored" if ignore else "",
                                   rules=("ND-29",) if ignore else ("ND-27", "ND-29"))],
        "recv_icmp": [V(recv="ICMP")],
    }


def bind(ctx: Ctx) -> Binding:
    sc = ctx.sc
    h = ctx.host
    retx = ctx.f("ike_retx")
    q = ctx.quiet
    qm1s = qm1_variants(sc, h)
    pending = eq(ctx.f("acq_pending"), 1)
    fresh = and_(pending, not_(usable_sa(ctx)))
    # a Main Mode this host's responder is answering counts as an MM SA (ike.mm_in_progress).
    answering = (ctx.role_in("ike_r", "mm2_sent", "mm4_sent")
                 if sc.ike.mm_in_progress == "counts" else FALSE)
    # L-5 (ike.peer_drops_ipsec): once the SAs expired the server no longer negotiates.
    gone = eq(F("sad.expired"), 1) if sc.ike.peer_drops_ipsec and h == "server" else FALSE
    b = Binding(conds={
        # The MMSAD decides between Main Mode and Quick Mode (ND-1, ND-11); that an acquire is
        # queued and still fresh is the variants' data guard (it may be queued in the same step).
        "no_mm_sa": and_(eq(ctx.f("mm_sa"), 0), not_(answering), not_(gone)),
        "over_mm": and_(eq(ctx.f("mm_sa"), 1), not_(gone)),
        "mm_lapses": sc.ike.mm_expiry,
        "stale": and_(pending, usable_sa(ctx)),
        "commit": sc.waits_connected(h),
        **main_mode_conds(ctx, retx),
        "qm1_quiet": q(*qm1s, "QM2", "NOTIFY"),
        "qm3_quiet": q("QM3", "CONNECTED"),
    })
    e = b.effects
    reset = {ctx.n("ike_retx"): 0}
    take = {**reset, ctx.n("acq_pending"): 0}
    # ND-1 / ND-11: no MM SA yet -> MM #1 carrying the ND vendor ID (a Windows host).
    e["acquire_mm"] = [V(guard=fresh, send=["MM1"], updates=take,
                         rules=("ND-1",) if sc.nd_host(h) else ())]
    # An MM SA exists (negotiated by either role, D3; QM-DONE after a GE mismatch, ND-12, or
    # after SA expiry): a new Quick Mode at #5 (ND-9, ND-11).
    e["acquire_qm"] = [dataclasses.replace(v, guard=and_(fresh, v.guard)) for v in _send_qm1(ctx, **take)]
    e["drop_stale_acquire"] = [V(updates={ctx.n("acq_pending"): 0}, label="stale")]
    e["sa_expire"] = [V()]
    e.update(main_mode_exchange(ctx, reset))      # ND-4, ND-5
    nd = sc.nd_host(h) and sc.nd_host(other(h))
    # MM #6 verified: the MM SA is in the host's MMSAD (either role may now start Quick Mode, D3).
    e["recv_mm6"] = _send_qm1(ctx, recv="MM6", **reset, **{ctx.n("mm_sa"): 1})
    # QM #6 received (ND-23): SA.Boundary from the responder's EXCHANGE_INFO bit; the initiator
    # installs inbound and outbound SAs (digest §7.3), SA.GE from the QM #5 it sent (§3.5);
    # waiting for CONNECTED (ND-24) it keeps using its previous outbound SA, if any: the new
    # one is added only then, replacing it (D4/D10).  Every inbound SA is kept (D10).
    # A capable-no-nd peer sends no EXCHANGE_INFO in QM #6: SA.Boundary stays 0 (ND-23).
    sb = int(getattr(sc, other(h)).boundary and nd)
    qm_ge = ctx.f("qm_ge")
    out = {ctx.n("sa_out"): 1, ctx.n("sa_ge"): qm_ge}
    ups = {**reset, ctx.n("sa_in"): 1, ctx.n("sa_boundary"): sb}
    if len(qm1_variants(sc, h)) > 1:   # SA.GE can be 1 (ND-20 reads the inbound SA's)
        ups[ctx.n("sa_in_ge")] = max_(ctx.f("sa_in_ge"), qm_ge)
    if not sc.waits_connected(h):
        ups.update(out)
    e["recv_qm2"] = [V(recv="QM2", send=["QM3"], updates=ups,
                       rules=("ND-23", "ND-24") if nd else ("ND-24",))]
    e["recv_connected@qm3_sent"] = [V(recv="CONNECTED", updates={**reset, **out},
                                      rules=("ND-24",))]
    # A CONNECTED the initiator does not wait for is read and dropped: a copy of one it has
    # received, one for a Quick Mode it gave up, or, at a host without negotiation discovery
    # that ignores the commit bit, the fourth QM message itself (C4, C9).
    e["recv_connected"] = [V(recv="CONNECTED", label="ignored")]
    last = {"mm1_sent": ["MM1"], "mm3_sent": ["MM3"], "mm5_sent": ["MM5"], "qm3_sent": ["QM3"]}
    for src, msgs in last.items():
        e[f"retransmit@{src}"] = [V(send=msgs, updates={ctx.n("ike_retx"): add(retx, 1)})]
    e["retransmit@qm1_sent"] = [
        V(guard=eq(ctx.f("qm_ge"), qm1_bits(m)[1]) if len(qm1s) > 1 else TRUE,
          send=[m], updates={ctx.n("ike_retx"): add(retx, 1)}, label=m) for m in qm1s]
    e.update(negotiation_ends(ctx))               # ND-27, ND-29
    if sc.mixed_ge(h):
        _mixed_bind(ctx, b, dict(take), reset)
    return b
