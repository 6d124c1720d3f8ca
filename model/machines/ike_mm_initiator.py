"""A host's Main Mode initiator with per-flow Quick Mode SAs (``ike.qm_sa = "flow"``, A-16).

With per-flow Quick Mode SAs the host's IKE initiator splits in two: this machine runs the
host's one Main Mode (``client.ike_mi``: MM #1..#6 into the host's MMSAD, ND-1..ND-5), and each
flow has its own Quick Mode initiator (:mod:`.ike_qm_initiator`, ``client.ike_i#2``).  With
``qm_sa = "host"`` (the default) neither is composed: :mod:`.ike_initiator` runs both.
"""

from __future__ import annotations

from statemachine import State

from ..ir import FALSE, F, Field, add, and_, eq, not_, or_
from ..messages import in_flow
from .base import Binding, BoundMachine, Ctx, V
from .ike_initiator import main_mode_conds, main_mode_exchange, negotiation_ends
from .ike_qm_initiator import usable_sa


class IkeMmInitiator(BoundMachine):
    """Main Mode initiator of one host (digest §7.2), the flows' Quick Mode initiators beside it.

    The IKE service starts Main Mode (``start_mm``: MM #1 with the ND vendor ID, ND-1) when some
    flow's acquire is queued and still fresh while the host holds no MM SA with the peer (ND-1,
    ND-11; A-6 ``ike.mm_in_progress`` as for the host-wide initiator).  The acquire stays queued
    in its flow's ``acq_pending`` until the MM SA exists, when the flow's own Quick Mode
    initiator takes it (ND-11: over an MM SA only QM #5); a flow that triggers while this Main
    Mode runs waits for it the same way (it joins it, F-1).  MM #6 verified puts the MM SA in the
    host's MMSAD and sends nothing: the waiting flows' Quick Mode initiators send their QM #5s
    (urgent steps).  When Main Mode fails (the retransmission budget spent, a NOTIFY) every flow
    waiting for it fails its negotiation with it (composition: the flows' ``mm_failed``).
    """

    #: The IKE service takes a queued acquire within milliseconds (as the host-wide initiator's).
    URGENT_EVENTS = ("start_mm",)
    #: States in which a negotiation runs.
    NEGOTIATING = ("mm1_sent", "mm3_sent", "mm5_sent")

    idle = State("IDLE", initial=True)
    mm1_sent = State("MM1-SENT")
    mm3_sent = State("MM3-SENT")
    mm5_sent = State("MM5-SENT")
    mm_done = State("MM-DONE")
    failed = State("FAILED")

    start_mm = idle.to(mm1_sent, cond="no_mm_sa") | failed.to(mm1_sent, cond="no_mm_sa")
    recv_mm2 = mm1_sent.to(mm3_sent)
    recv_mm4 = mm3_sent.to(mm5_sent)
    recv_mm6 = mm5_sent.to(mm_done)
    retransmit = (mm1_sent.to.itself(cond=["budget_left", "mm1_quiet"])
                  | mm3_sent.to.itself(cond=["budget_left", "mm3_quiet"])
                  | mm5_sent.to.itself(cond=["budget_left", "mm5_quiet"]))
    give_up = (mm1_sent.to(failed, cond=["budget_spent", "mm1_quiet"])
               | mm3_sent.to(failed, cond=["budget_spent", "mm3_quiet"])
               | mm5_sent.to(failed, cond=["budget_spent", "mm5_quiet"]))
    recv_notify = (mm1_sent.to(failed, unless="ignores_mm1_notify")
                   | mm1_sent.to.itself(cond="ignores_mm1_notify")
                   | mm3_sent.to(failed) | mm5_sent.to(failed))
    recv_icmp = (idle.to.itself() | mm1_sent.to.itself() | mm3_sent.to.itself()
                 | mm5_sent.to.itself() | mm_done.to.itself() | failed.to.itself())


def fields(ctx: Ctx) -> list[Field]:
    return [Field(ctx.n("mm_retx"), 0, ctx.sc.ike.retransmissions, 0, "counter", unbounded_ok=True,
                  doc="retransmissions of the Main Mode initiator's current message")]


def waiting(ctx: Ctx) -> object:
    """Some flow of the host has a fresh acquire queued (ND-8, ND-10, ND-12 triggers)."""
    sc, h = ctx.sc, ctx.host
    return or_(*[and_(eq(F(in_flow(f"{h}.acq_pending", i)), 1), not_(usable_sa(sc, h, i)))
                 for i in range(1, len(sc.flows) + 1)])


def bind(ctx: Ctx) -> Binding:
    sc, h = ctx.sc, ctx.host
    retx = ctx.f("mm_retx")
    answering = (ctx.role_in("ike_mr", "mm2_sent", "mm4_sent")
                 if sc.ike.mm_in_progress == "counts" else FALSE)
    b = Binding(conds={
        "no_mm_sa": and_(eq(ctx.f("mm_sa"), 0), not_(answering)),
        **main_mode_conds(ctx, retx),
    })
    e = b.effects
    reset = {ctx.n("mm_retx"): 0}
    e["start_mm"] = [V(guard=waiting(ctx), send=["MM1"], updates=reset,
                       rules=("ND-1", "ND-11") if sc.nd_host(h) else ("ND-11",))]
    e.update(main_mode_exchange(ctx, reset))      # ND-4, ND-5
    e["recv_mm6"] = [V(recv="MM6", updates={**reset, ctx.n("mm_sa"): 1}, rules=("ND-11",))]
    for src, msg in (("mm1_sent", "MM1"), ("mm3_sent", "MM3"), ("mm5_sent", "MM5")):
        e[f"retransmit@{src}"] = [V(send=[msg], updates={ctx.n("mm_retx"): add(retx, 1)})]
    e.update(negotiation_ends(ctx))               # ND-27, ND-29
    return b
