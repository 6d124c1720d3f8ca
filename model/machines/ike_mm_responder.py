"""A host's Main Mode responder with per-flow Quick Mode SAs (``ike.qm_sa = "flow"``, A-16).

Machine key ``client.ike_mr``: the Main Mode half of :mod:`.ike_responder` (MM #1..#6 per peer
kind, into the host's MMSAD); each flow's Quick Modes are answered by the flow's own responder
(:mod:`.ike_qm_responder`).
"""

from __future__ import annotations

from statemachine import State

from ..ir import Field
from ..messages import other
from .base import Binding, BoundMachine, Ctx, V


class IkeMmResponder(BoundMachine):
    """Main Mode responder of one host (digest §7.4), as :class:`~.ike_responder.IkeResponder`
    answers Main Mode: ``capable`` (and ``capable-no-nd``, without the ND vendor IDs) completes
    it, ``silent`` drops MM #1, ``icmp`` answers it with ICMP, ``no-proposal`` with a NOTIFY,
    ``no-credential`` fails MM #5 with a NOTIFY.  No retransmission timer (ND-28)."""

    #: States in which a negotiation runs (answered, not finished).
    NEGOTIATING = ("mm2_sent", "mm4_sent")

    idle = State("IDLE", initial=True)
    mm2_sent = State("MM2-SENT")
    mm4_sent = State("MM4-SENT")
    mm_done = State("MM-DONE")
    failed = State("FAILED")

    recv_mm1 = idle.to(mm2_sent, cond="answers") | mm2_sent.to.itself()
    ignore_mm1 = idle.to.itself(cond="silent")
    reject_mm1 = idle.to.itself(cond="icmp")
    refuse_mm1 = idle.to.itself(cond="no_proposal")
    recv_mm3 = mm2_sent.to(mm4_sent) | mm4_sent.to.itself()
    recv_mm5 = mm4_sent.to(mm_done, cond="authenticates") | mm_done.to.itself()
    fail_auth = mm4_sent.to(failed, cond="no_credential") | failed.to.itself()


def fields(ctx: Ctx) -> list[Field]:
    return []


def bind(ctx: Ctx) -> Binding:
    sc, h = ctx.sc, ctx.host
    peer = sc.peer
    nd = sc.nd_host(h) and sc.nd_host(other(h))
    b = Binding(conds={
        "answers": peer in ("capable", "no-credential", "qm-refused", "capable-no-nd"),
        "silent": h == "server" and peer == "silent",
        "icmp": sc.answers_icmp(h),
        "no_proposal": peer == "no-proposal",
        "authenticates": peer in ("capable", "qm-refused", "capable-no-nd"),
        "no_credential": peer == "no-credential",
    })
    e = b.effects
    e["recv_mm1@idle"] = [V(recv="MM1", send=["MM2"], updates={ctx.n("mm_nd"): 1} if nd else {},
                            rules=("ND-2", "ND-3") if nd else ())]
    e["recv_mm1@mm2_sent"] = [V(recv="MM1", send=["MM2"], label="dup")]
    e["ignore_mm1"] = [V(recv="MM1", rules=("ND-26",))]
    e["reject_mm1"] = [V(recv="MM1", send=["ICMP"])]
    e["refuse_mm1"] = [V(recv="MM1", send=["NOTIFY"], rules=("ND-29",))]
    e["recv_mm3@mm2_sent"] = [V(recv="MM3", send=["MM4"], rules=("ND-5",))]
    e["recv_mm3@mm4_sent"] = [V(recv="MM3", send=["MM4"], label="dup")]
    e["recv_mm5@mm4_sent"] = [V(recv="MM5", send=["MM6"], updates={ctx.n("mm_sa"): 1}, rules=("ND-5",))]
    e["recv_mm5@mm_done"] = [V(recv="MM5", send=["MM6"], label="dup")]
    e["fail_auth@mm4_sent"] = [V(recv="MM5", send=["NOTIFY"], rules=("ND-27", "ND-29"))]
    e["fail_auth@failed"] = [V(recv="MM5", send=["NOTIFY"], label="dup")]
    return b
