"""A flow's Quick Mode responder with per-flow Quick Mode SAs (``ike.qm_sa = "flow"``, A-16).

Machine key ``client.ike_r`` (first flow), ``client.ike_r#2`` ...: the Quick Mode half of
:mod:`.ike_responder` for one flow's QM #5s (``QM1#2``), over the host's MM SA.
"""

from __future__ import annotations

from statemachine import State

from ..ir import FALSE, F, Field, eq, not_
from ..messages import other
from .base import Binding, BoundMachine, Ctx, V
from .ike_initiator import qm1_variants
from .ike_responder import _ge_variants, quick_mode_answers


class IkeQmResponder(BoundMachine):
    """Quick Mode responder of one flow at one host (digest §7.4): answers the flow's QM #5 over
    the host's MM SA (from IDLE, once this host's MMSAD holds it; D3), installs the flow's
    inbound SA when it sends QM #6 (or on QM #7, A-2) and its outbound SA on QM #7, sends
    CONNECTED under the commit bit.  A copy of the QM #5 answered is answered again; one with the
    other GE flag starts a new Quick Mode (ND-12's renegotiation of this flow).  No timer (ND-28)."""

    #: Steps that start a Quick Mode (a fresh QM #5 answered).
    STARTS_QM = ("recv_qm1@idle", "recv_new_qm1")
    NEGOTIATING = ("qm2_sent",)

    idle = State("IDLE", initial=True)
    qm2_sent = State("QM2-SENT")
    established = State("QM-DONE")

    recv_qm1 = (idle.to(qm2_sent, cond="over_mm") | qm2_sent.to.itself() | established.to.itself())
    recv_new_qm1 = established.to(qm2_sent)
    recv_qm3 = qm2_sent.to(established) | established.to.itself(cond="commit")


def fields(ctx: Ctx) -> list[Field]:
    if not _ge_variants(ctx.sc, ctx.host):
        return []
    return [Field(ctx.n("r_qm_ge"), 0, 1, 0, "bool",
                  doc="GE flag of the flow's QM #5 the responder last answered (ND-21)")]


def bind(ctx: Ctx) -> Binding:
    sc, h = ctx.sc, ctx.host
    qm1s = qm1_variants(sc, other(h))
    commit = sc.sets_commit(h)
    late = sc.ike.responder_install == "qm3"
    ge = _ge_variants(sc, h)
    b = Binding(conds={"over_mm": eq(F(f"{h}.mm_sa"), 1), "commit": commit})
    e = b.effects

    answer, same, inbound, this_ge = quick_mode_answers(ctx, qm1s, ge, late)   # ND-21, ND-22
    e["recv_qm1@idle"] = [answer(m) for m in qm1s]
    e["recv_qm1@qm2_sent"] = [V(recv=m, send=["QM2"], label=m + " dup") for m in qm1s]
    e["recv_qm1@established"] = [V(recv=m, send=["QM2"], label=m + " dup",
                                   **({"guard": same(m)} if ge else {})) for m in qm1s]
    e["recv_new_qm1"] = [answer(m, " new", guard=not_(same(m)) if ge else FALSE) for m in qm1s]
    e["recv_qm3@qm2_sent"] = [V(recv="QM3", send=["CONNECTED"] if commit else [],
                                updates={**inbound(this_ge), ctx.n("sa_out"): 1, ctx.n("sa_ge"): this_ge},
                                rules=("ND-24",))]
    e["recv_qm3@established"] = [V(recv="QM3", send=["CONNECTED"], label="dup", rules=("ND-24",))]
    return b

