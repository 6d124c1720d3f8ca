"""The IKEv1 responder (server): answers MM and QM, never retransmits (ND-28), per peer kind."""

from __future__ import annotations

from statemachine import State

from ..ir import Field
from ..messages import other, qm1_bits
from .base import Binding, BoundMachine, Ctx, V
from .ike_initiator import qm1_variants


class IkeResponder(BoundMachine):
    """IKE responder (digest §7.4) for the seven peer kinds of the scenario.

    ``capable``: completes MM and QM.  ``silent``: no IKE stack, MM #1 vanishes (figure 8, N1).
    ``icmp``: answers MM #1 with ICMP port unreachable (N2, A-22).  ``no-credential``: answers
    MM #1..#4, then fails authentication of MM #5 and sends a NOTIFY (N3, ND-27).
    ``no-proposal``: accepts none of MM #1's proposals and answers every MM #1 with an
    unprotected NOTIFY (NO-PROPOSAL-CHOSEN, ND-29, timers-failures N1/N2), keeping no state.
    ``qm-refused``: completes Main Mode, then answers every QM #5 with a NOTIFY
    (INVALID-ID-INFORMATION under the MM SA, N3) and installs no SA; it keeps its MM SA.
    ``capable-no-nd``: a non-Windows IKEv1 stack (strongSwan, libreswan) that completes MM and QM
    without negotiation discovery: it ignores the ND vendor ID of MM #1 (no NDSupported, ND-2) and
    sends none in MM #2 (ND-3), ignores QM #5's EXCHANGE_INFO (no SA.Boundary / SA.GE, ND-21),
    sends none in QM #6 (ND-22), and neither sets the commit bit nor sends CONNECTED (ND-24,
    timers-failures C4-C9).
    The responder has no retransmission timer (ND-28); it re-sends its last message only when
    the initiator's message arrives again.
    """

    idle = State("IDLE", initial=True)
    mm2_sent = State("MM2-SENT")
    mm4_sent = State("MM4-SENT")
    mm_done = State("MM-DONE")
    qm2_sent = State("QM2-SENT")
    established = State("QM-DONE")
    failed = State("FAILED")

    recv_mm1 = idle.to(mm2_sent, cond="answers") | mm2_sent.to.itself()
    ignore_mm1 = idle.to.itself(cond="silent")
    reject_mm1 = idle.to.itself(cond="icmp")
    refuse_mm1 = idle.to.itself(cond="no_proposal")
    recv_mm3 = mm2_sent.to(mm4_sent) | mm4_sent.to.itself()
    recv_mm5 = mm4_sent.to(mm_done, cond="authenticates") | mm_done.to.itself()
    fail_auth = mm4_sent.to(failed, cond="no_credential") | failed.to.itself()
    recv_qm1 = (mm_done.to(qm2_sent, unless="refuses_qm") | qm2_sent.to.itself()
                | established.to(qm2_sent))
    refuse_qm1 = mm_done.to.itself(cond="refuses_qm")
    recv_qm3 = qm2_sent.to(established) | established.to.itself(cond="commit")
    sa_expire = established.to(mm_done, unless="ipsec_gone") | established.to(failed, cond="ipsec_gone")
    ignore_qm1 = failed.to.itself()

    #: Raised by SA expiry (composition), never on its own.
    DRIVEN_EVENTS = ("sa_expire",)


def fields(ctx: Ctx) -> list[Field]:
    return [Field(ctx.n("mm_nd"), 0, 1, 0, "bool", doc="MMSAD Negotiation Discovery Supported (ND-2)")]


def bind(ctx: Ctx) -> Binding:
    peer = ctx.sc.peer
    qm1s = qm1_variants(ctx.sc, other(ctx.host))  # the QM #5 forms the peer's initiator sends
    commit = ctx.sc.commit_in_use
    nd = ctx.sc.peer_nd
    late = ctx.sc.ike.responder_install == "qm3"
    b = Binding(conds={
        "answers": peer in ("capable", "no-credential", "qm-refused", "capable-no-nd"),
        "silent": peer == "silent",
        "icmp": peer == "icmp",
        "no_proposal": peer == "no-proposal",
        "authenticates": peer in ("capable", "qm-refused", "capable-no-nd"),
        "no_credential": peer == "no-credential",
        "refuses_qm": peer == "qm-refused",
        "commit": commit,
        "ipsec_gone": ctx.sc.ike.peer_drops_ipsec,
    })
    e = b.effects
    # ND-2: MM #1 carries the ND vendor ID (ND-1) -> NDSupported; ND-3: MM #2 carries ours.
    # A capable-no-nd peer does neither: its MM #2 carries no ND vendor ID.
    e["recv_mm1@idle"] = [V(recv="MM1", send=["MM2"], updates={ctx.n("mm_nd"): 1} if nd else {},
                            rules=("ND-2", "ND-3") if nd else ())]
    e["recv_mm1@mm2_sent"] = [V(recv="MM1", send=["MM2"], label="dup")]
    e["ignore_mm1"] = [V(recv="MM1", rules=("ND-26",))]
    e["reject_mm1"] = [V(recv="MM1", send=["ICMP"])]
    # NO-PROPOSAL-CHOSEN, unprotected in the first MM round trip (ND-29); no state is kept, so
    # every MM #1 (a retransmission too) gets the same answer.
    e["refuse_mm1"] = [V(recv="MM1", send=["NOTIFY"], rules=("ND-29",))]
    e["recv_mm3@mm2_sent"] = [V(recv="MM3", send=["MM4"], rules=("ND-5",))]
    e["recv_mm3@mm4_sent"] = [V(recv="MM3", send=["MM4"], label="dup")]
    e["recv_mm5@mm4_sent"] = [V(recv="MM5", send=["MM6"], rules=("ND-5",))]
    e["recv_mm5@mm_done"] = [V(recv="MM5", send=["MM6"], label="dup")]
    e["fail_auth@mm4_sent"] = [V(recv="MM5", send=["NOTIFY"], rules=("ND-27", "ND-29"))]
    e["fail_auth@failed"] = [V(recv="MM5", send=["NOTIFY"], label="dup")]
    # ND-21: SA.Boundary / SA.GE from the EXCHANGE_INFO bits of QM #5; ND-22: QM #6 carries
    # ND_BOUNDARY iff our rule is Boundary (modelled by the initiator's ND-23 update).  The
    # inbound SA is installed when QM #6 is sent (typical), or on QM #7 (A-2 knob).
    def qm1_effects(dup: bool) -> list:
        out = []
        for m in qm1s:
            bb, gg = qm1_bits(m)
            # A capable-no-nd peer skips the unknown private notify: no SA.Boundary / SA.GE.
            ups = {ctx.n("sa_boundary"): bb, ctx.n("sa_ge"): gg} if nd else {}
            if not late:
                ups[ctx.n("sa_in")] = 1
            out.append(V(recv=m, send=["QM2"], updates=ups, label=m + (" dup" if dup else ""),
                         rules=("ND-21", "ND-22") if nd else ()))
        return out
    e["recv_qm1@mm_done"] = qm1_effects(False)
    e["recv_qm1@qm2_sent"] = qm1_effects(True)
    e["recv_qm1@established"] = qm1_effects(False)
    # QM #7: outbound SA (and inbound, if late) installed; CONNECTED when the commit bit is set.
    e["recv_qm3@qm2_sent"] = [V(recv="QM3", send=["CONNECTED"] if commit else [],
                                updates={ctx.n("sa_in"): 1, ctx.n("sa_out"): 1},
                                rules=("ND-24",))]
    e["recv_qm3@established"] = [V(recv="QM3", send=["CONNECTED"], label="dup", rules=("ND-24",))]
    # SA lifetime expiry (L-5): the SAs are deleted; a capable responder is ready for a new QM,
    # a responder that lost its IPsec capability fails every later negotiation silently.
    e["sa_expire"] = [V(updates={ctx.n("sa_in"): 0, ctx.n("sa_out"): 0})]
    e["ignore_qm1"] = [V(recv=m, label=m) for m in qm1s]
    # INVALID-ID-INFORMATION (N3), protected under the MM SA (ND-29's last-round-trip rule
    # extended to QM); no QM SA is installed, the MM SA stays (ND-27: TCP goes on in the clear).
    e["refuse_qm1"] = [V(recv=m, send=["NOTIFY"], label=m, rules=("ND-27",)) for m in qm1s]
    return b
