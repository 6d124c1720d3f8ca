"""A flow's Quick Mode initiator with per-flow Quick Mode SAs (``ike.qm_sa = "flow"``, A-16).

Machine key ``client.ike_i`` for the first flow, ``client.ike_i#2`` for the second: the key the
host-wide initiator has with ``qm_sa = "host"``, so a property that reads "the flow's
initiator" (QM-DONE, QM3-SENT, FAILED) reads this machine, renamed flow by flow
(``properties/flows.py``).  Main Mode is the host's (:mod:`.ike_mm_initiator`).
"""

from __future__ import annotations

from statemachine import State

from ..ir import TRUE, F, Field, P, add, and_, eq, lt, max_, not_
from ..messages import in_flow, other, qm1_bits
from .base import Binding, BoundMachine, Ctx, V
from .ike_initiator import qm1_variants


class IkeQmInitiator(BoundMachine):
    """Quick Mode initiator of one flow at one host (digest §7.3), over the host's MM SA.

    A trigger of the flow (ND-8, ND-10, ND-12, ND-15) queues an acquire in the flow's
    ``acq_pending`` (coalesced while one is queued or this Quick Mode runs, A-4).  Over an MM SA
    the IKE service takes it (``acquire_qm``: QM #5 per ND-9 from the flow's GE flag, with the
    flow's port-specific selectors); without one the host's Main Mode initiator starts Main Mode
    and the acquire waits for it (ND-11).  A stale acquire (the flow has a usable outbound SA,
    installed by its responder role) is dropped.  QM #6 installs the flow's SAs (ND-23, with
    CONNECTED first under the commit bit, ND-24); only this flow's packets use them.  The Main
    Mode failing fails the flow's negotiation too (``mm_failed``, driven).
    """

    #: Raised when the host's Main Mode fails while the flow waits for it (composition).
    DRIVEN_EVENTS = ("mm_failed",)
    URGENT_EVENTS = ("acquire_qm", "drop_stale_acquire")
    #: Steps that start a Quick Mode (QM #5 leaves).
    STARTS_QM = ("acquire_qm",)
    #: States in which a negotiation runs: a trigger of the flow is coalesced (A-4).
    NEGOTIATING = ("qm1_sent", "qm3_sent")

    idle = State("IDLE", initial=True)
    qm1_sent = State("QM1-SENT")
    qm3_sent = State("QM3-SENT")
    established = State("QM-DONE")
    failed = State("FAILED")

    acquire_qm = (idle.to(qm1_sent, cond="over_mm") | failed.to(qm1_sent, cond="over_mm")
                  | established.to(qm1_sent, cond="over_mm"))
    drop_stale_acquire = (idle.to.itself(cond="stale") | failed.to.itself(cond="stale")
                          | established.to.itself(cond="stale"))
    mm_failed = idle.to(failed) | failed.to.itself()
    recv_qm2 = qm1_sent.to(qm3_sent, cond="commit") | qm1_sent.to(established, unless="commit")
    recv_connected = qm3_sent.to(established) | established.to.itself() | failed.to.itself()
    retransmit = (qm1_sent.to.itself(cond=["budget_left", "qm1_quiet"])
                  | qm3_sent.to.itself(cond=["budget_left", "qm3_quiet"]))
    give_up = (qm1_sent.to(failed, cond=["budget_spent", "qm1_quiet"])
               | qm3_sent.to(failed, cond=["budget_spent", "qm3_quiet"]))


def usable_sa(sc, h: str, flow: int):
    """Flow ``flow`` of ``h`` has a usable outbound SA of its own: one whose GE flag matches the
    flow's (ND-12) for an ND rule, any for a transport-mode rule (ND-15)."""
    sa = eq(F(in_flow(f"{h}.sa_out", flow)), 1)
    if getattr(sc, h).outbound == "request":
        return and_(sa, eq(F(in_flow(f"{h}.sa_ge", flow)), F(in_flow(f"{h}.flow_ge", flow))))
    return sa


def fields(ctx: Ctx) -> list[Field]:
    return [
        Field(ctx.n("ike_retx"), 0, ctx.sc.ike.retransmissions, 0, "counter", unbounded_ok=True,
              doc="retransmissions of the flow's Quick Mode initiator's current message"),
        Field(ctx.n("qm_ge"), 0, 1, 0, "bool", doc="GE bit of the flow's last QM #5 (ND-9)"),
    ]


def bind(ctx: Ctx) -> Binding:
    sc, h = ctx.sc, ctx.host
    retx = ctx.f("ike_retx")
    budget = sc.ike.retransmissions
    q = ctx.quiet
    qm1s = qm1_variants(sc, h)
    pending = eq(ctx.f("acq_pending"), 1)
    usable = usable_sa(sc, h, ctx.flow)
    mm_sa = eq(F(f"{h}.mm_sa"), 1)           # the host's MMSAD (one Main Mode for every flow)
    b = Binding(conds={
        "over_mm": mm_sa,
        "stale": and_(pending, usable),
        "commit": sc.waits_connected(h),
        "budget_left": lt(retx, P(budget, "ike.retransmissions")),
        "budget_spent": eq(retx, P(budget, "ike.retransmissions")),
        "qm1_quiet": q(*qm1s, "QM2"),
        "qm3_quiet": q("QM3", "CONNECTED"),
    })
    e = b.effects
    reset = {ctx.n("ike_retx"): 0}
    take = {**reset, ctx.n("acq_pending"): 0}
    fresh = and_(pending, not_(usable))
    e["acquire_qm"] = [V(guard=and_(fresh, eq(ctx.f("flow_ge"), qm1_bits(m)[1]) if len(qm1s) > 1 else TRUE),
                         send=[m], updates={**take, ctx.n("qm_ge"): qm1_bits(m)[1]}, label=m,
                         rules=("ND-9", "ND-11")) for m in qm1s]
    e["drop_stale_acquire"] = [V(updates={ctx.n("acq_pending"): 0}, label="stale")]
    # The host's Main Mode failed while the flow's acquire waited for it (ND-26, ND-27).
    e["mm_failed"] = [V(guard=pending, updates={ctx.n("acq_pending"): 0}, rules=("ND-26",))]
    nd = sc.nd_host(h) and sc.nd_host(other(h))
    sb = int(getattr(sc, other(h)).boundary and nd)
    qm_ge = ctx.f("qm_ge")
    out = {ctx.n("sa_out"): 1, ctx.n("sa_ge"): qm_ge}
    ups = {**reset, ctx.n("sa_in"): 1, ctx.n("sa_boundary"): sb}
    if len(qm1s) > 1:
        ups[ctx.n("sa_in_ge")] = max_(ctx.f("sa_in_ge"), qm_ge)
    if not sc.waits_connected(h):
        ups.update(out)
    e["recv_qm2"] = [V(recv="QM2", send=["QM3"], updates=ups,
                       rules=("ND-23", "ND-24") if nd else ("ND-24",))]
    e["recv_connected@qm3_sent"] = [V(recv="CONNECTED", updates={**reset, **out}, rules=("ND-24",))]
    e["recv_connected"] = [V(recv="CONNECTED", label="ignored")]
    e["retransmit@qm3_sent"] = [V(send=["QM3"], updates={ctx.n("ike_retx"): add(retx, 1)})]
    e["retransmit@qm1_sent"] = [
        V(guard=eq(ctx.f("qm_ge"), qm1_bits(m)[1]) if len(qm1s) > 1 else TRUE,
          send=[m], updates={ctx.n("ike_retx"): add(retx, 1)}, label=m) for m in qm1s]
    e["give_up"] = [V()]
    return b

