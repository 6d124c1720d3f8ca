"""A host's Main Mode responder with per-flow Quick Mode SAs (``ike.qm_sa = "flow"``, A-16).

Machine key ``client.ike_mr``: the Main Mode half of :mod:`.ike_responder` (MM #1..#6 per peer
kind, into the host's MMSAD); each flow's Quick Modes are answered by the flow's own responder
(:mod:`.ike_qm_responder`).
"""

from __future__ import annotations

from statemachine import State

from ..ir import Field
from .base import Binding, BoundMachine, Ctx
from .ike_responder import main_mode_conds, main_mode_effects


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
    b = Binding(conds=main_mode_conds(ctx.sc, ctx.host))
    b.effects.update(main_mode_effects(ctx))
    return b
