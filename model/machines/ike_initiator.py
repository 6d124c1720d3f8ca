"""The IKEv1 initiator (client): Main Mode #1..#6, Quick Mode QM1..QM3, CONNECTED, retransmission."""

from __future__ import annotations

from statemachine import State

from ..ir import TRUE, Field, P, add, eq, lt
from ..messages import other, qm1, qm1_bits
from .base import Binding, BoundMachine, Ctx, V


class IkeInitiator(BoundMachine):
    """IKE initiator for the flow's acquire (digest §7.2–7.5).

    ``acquire`` is raised by the ND outbound filter (ND-8, ND-10, ND-12); while a negotiation is
    in progress further acquires are coalesced (A-4).  The initiator retransmits its last message
    within a budget (RFC 2408 §5.1), then fails (figure 8, "IPsec Unsuccessful Negotiation").
    With the commit bit (ND-24, RFC 2408 §3.1) it waits for CONNECTED before using the SA
    outbound, unless the peer does no negotiation discovery (``capable-no-nd``: no ND vendor ID
    in MM #2, so NDSupported stays 0, ND-4; no EXCHANGE_INFO in QM #6, ND-23; no commit bit,
    timers-failures C9, so the SA is used right after QM #7, choice X-1, README).  A NOTIFY answering MM #1
    (``no-proposal`` peer, ND-29), MM #5 (``no-credential``) or QM #5 (``qm-refused``) ends the negotiation in FAILED (ND-27); the plaintext NOTIFY at
    MM #1 is ignored instead with ``ike.notify_at_mm1 = "ignore"`` (undocumented for Windows,
    timers-failures N2/N8): MM #1 is then retransmitted until the budget runs out.
    """

    #: Events raised by another component (the ND outbound filter; SA expiry), never on their own.
    DRIVEN_EVENTS = ("acquire", "sa_expire")

    idle = State("IDLE", initial=True)
    mm1_sent = State("MM1-SENT")
    mm3_sent = State("MM3-SENT")
    mm5_sent = State("MM5-SENT")
    qm1_sent = State("QM1-SENT")
    qm3_sent = State("QM3-SENT")
    established = State("QM-DONE")
    failed = State("FAILED")
    expired = State("SA-EXPIRED")

    acquire = (idle.to(mm1_sent) | failed.to(mm1_sent) | established.to(qm1_sent)
               | expired.to(qm1_sent))
    sa_expire = established.to(expired)
    recv_mm2 = mm1_sent.to(mm3_sent)
    recv_mm4 = mm3_sent.to(mm5_sent)
    recv_mm6 = mm5_sent.to(qm1_sent)
    recv_qm2 = qm1_sent.to(qm3_sent, cond="commit") | qm1_sent.to(established, unless="commit")
    recv_connected = qm3_sent.to(established)
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
                 | established.to.itself() | idle.to.itself())


def qm1_variants(sc, host: str) -> list[str]:
    """The QM #5 forms ``host``'s initiator can send (ND-9: bit 0x1 iff rule.Boundary, 0x2 iff flow.GE)."""
    pol = getattr(sc, host)
    b = int(pol.boundary)
    return [qm1(b, 0), qm1(b, 1)] if pol.guaranteed_encryption else [qm1(b, 0)]


def fields(ctx: Ctx) -> list[Field]:
    return [
        Field(ctx.n("ike_retx"), 0, ctx.sc.ike.retransmissions, 0, "counter", unbounded_ok=True,
              doc="retransmissions of the current IKE message"),
        Field(ctx.n("mm_nd"), 0, 1, 0, "bool", doc="MMSAD Negotiation Discovery Supported (ND-4)"),
        Field(ctx.n("qm_ge"), 0, 1, 0, "bool", doc="GE bit of the QM #5 last sent (ND-9)"),
    ]


def _send_qm1(ctx: Ctx, recv: str | None = None, **extra) -> list:
    """Variants sending QM #5 built per ND-9 from the current flow.GE (on receiving ``recv``)."""
    out = []
    qm1s = qm1_variants(ctx.sc, ctx.host)
    for m in qm1s:
        g = qm1_bits(m)[1]
        ups = {ctx.n("qm_ge"): g, **extra}
        out.append(V(guard=eq(ctx.f("flow_ge"), g) if len(qm1s) > 1 else TRUE,
                     recv=recv, send=[m], updates=ups, label=m, rules=("ND-9",)))
    return out


def bind(ctx: Ctx) -> Binding:
    retx = ctx.f("ike_retx")
    budget = ctx.sc.ike.retransmissions
    q = ctx.quiet
    qm1s = qm1_variants(ctx.sc, ctx.host)
    b = Binding(conds={
        "commit": ctx.sc.commit_in_use,
        "ignores_mm1_notify": ctx.sc.ike.notify_at_mm1 == "ignore",
        "budget_left": lt(retx, P(budget, "ike.retransmissions")),
        "budget_spent": eq(retx, P(budget, "ike.retransmissions")),
        # The timer fires when neither the message nor its answer is in flight.
        "mm1_quiet": q("MM1", "MM2", "ICMP", "NOTIFY"),
        "mm3_quiet": q("MM3", "MM4"),
        "mm5_quiet": q("MM5", "MM6", "NOTIFY"),
        "qm1_quiet": q(*qm1s, "QM2", "NOTIFY"),
        "qm3_quiet": q("QM3", "CONNECTED"),
    })
    e = b.effects
    reset = {ctx.n("ike_retx"): 0}
    # ND-1 / ND-11: no MM SA yet -> MM #1 carrying the ND vendor ID.
    e["acquire@idle"] = [V(send=["MM1"], updates=reset, rules=("ND-1",))]
    e["acquire@failed"] = [V(send=["MM1"], updates=reset, rules=("ND-1",))]
    # MM SA exists (QM-DONE after a GE mismatch, ND-12, or after SA expiry): a new QM at #5.
    e["acquire@established"] = _send_qm1(ctx, **reset)
    e["acquire@expired"] = _send_qm1(ctx, **reset)
    e["sa_expire"] = [V(updates={ctx.n("sa_in"): 0, ctx.n("sa_out"): 0})]
    # ND-4: NDSupported from the ND vendor ID of MM #2; a capable-no-nd peer sends none, so
    # NDSupported stays 0 (the model keeps no other use of it: the digest's §3.5 leaves its IKEv1
    # use open, and ND-9 sends EXCHANGE_INFO regardless, choice X-1, README).
    nd = {ctx.n("mm_nd"): 1} if ctx.sc.peer_nd else {}
    e["recv_mm2"] = [V(recv="MM2", send=["MM3"], updates={**reset, **nd}, rules=("ND-4",))]
    e["recv_mm4"] = [V(recv="MM4", send=["MM5"], updates=reset, rules=("ND-5",))]
    e["recv_mm6"] = _send_qm1(ctx, recv="MM6", **reset)
    # QM #6 received (ND-23): SA.Boundary from the responder's EXCHANGE_INFO bit; the
    # initiator installs inbound and outbound SAs (digest §7.3); with the commit bit the outbound
    # SA is used only after CONNECTED (ND-24).
    # A capable-no-nd peer sends no EXCHANGE_INFO in QM #6: SA.Boundary stays 0 (ND-23).
    sb = int(getattr(ctx.sc, other(ctx.host)).boundary and ctx.sc.peer_nd)
    commit = ctx.sc.commit_in_use
    e["recv_qm2"] = [V(recv="QM2", send=["QM3"], updates={
        **reset, ctx.n("sa_in"): 1, ctx.n("sa_out"): 0 if commit else 1,
        ctx.n("sa_boundary"): sb, ctx.n("sa_ge"): ctx.f("qm_ge")}, rules=("ND-23", "ND-24"))]
    e["recv_connected"] = [V(recv="CONNECTED", updates={**reset, ctx.n("sa_out"): 1},
                             rules=("ND-24",))]
    last = {"mm1_sent": ["MM1"], "mm3_sent": ["MM3"], "mm5_sent": ["MM5"], "qm3_sent": ["QM3"]}
    for src, msgs in last.items():
        e[f"retransmit@{src}"] = [V(send=msgs, updates={ctx.n("ike_retx"): add(retx, 1)})]
    e["retransmit@qm1_sent"] = [
        V(guard=eq(ctx.f("qm_ge"), qm1_bits(m)[1]) if len(qm1s) > 1 else TRUE,
          send=[m], updates={ctx.n("ike_retx"): add(retx, 1)}, label=m) for m in qm1s]
    e["give_up"] = [V()]
    e["recv_notify"] = [V(recv="NOTIFY", rules=("ND-27",))]
    # A plaintext NOTIFY answering MM #1 (NO-PROPOSAL-CHOSEN, ND-29): the end of the
    # negotiation, or dropped unread with ike.notify_at_mm1 = "ignore" (N2/N8).
    ignore = ctx.sc.ike.notify_at_mm1 == "ignore"
    e["recv_notify@mm1_sent"] = [V(recv="NOTIFY", label="ignored" if ignore else "",
                                   rules=("ND-29",) if ignore else ("ND-27", "ND-29"))]
    e["recv_icmp"] = [V(recv="ICMP")]
    return b
