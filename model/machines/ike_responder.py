"""The IKEv1 responder of a host: answers MM and QM, never retransmits (ND-28), per peer kind."""

from __future__ import annotations

from statemachine import State

from ..ir import FALSE, TRUE, Field, and_, eq, max_, not_
from ..messages import other, qm1_bits
from .base import Binding, BoundMachine, Ctx, V
from .ike_initiator import qm1_variants


class IkeResponder(BoundMachine):
    """IKE responder of one host (digest §7.4); both hosts have one when the peer initiates.

    The server's responder answers the client as its peer kind says.  ``capable``: completes MM
    and QM.  ``silent``: no IKE stack, MM #1 vanishes (figure 8, N1).  ``icmp``: answers MM #1
    with ICMP port unreachable (N2, A-22).  ``no-credential``: answers MM #1..#4, then fails
    authentication of MM #5 and sends a NOTIFY (N3, ND-27).  ``no-proposal``: accepts none of
    MM #1's proposals and answers every MM #1 with an unprotected NOTIFY (NO-PROPOSAL-CHOSEN,
    ND-29, timers-failures N1/N2), keeping no state.  ``qm-refused``: completes Main Mode, then
    answers every QM #5 with a NOTIFY (INVALID-ID-INFORMATION under the MM SA, N3) and installs
    no SA.  ``capable-no-nd``: a non-Windows IKEv1 stack (strongSwan, libreswan) that completes
    MM and QM without negotiation discovery: it ignores the ND vendor ID of MM #1 (no
    NDSupported, ND-2) and sends none in MM #2 (ND-3), ignores QM #5's EXCHANGE_INFO (no
    SA.Boundary / SA.GE, ND-21), sends none in QM #6 (ND-22), and neither sets the commit bit nor
    sends CONNECTED (ND-24, timers-failures C4-C9).

    The client's responder is a Windows ND host answering the server's own negotiation (A-13);
    the failures are read symmetrically (choice X-4, README): no common proposal (its NOTIFY
    answers the server's MM #1), no common credential (its NOTIFY answers the server's MM #5),
    selectors outside its policy (its NOTIFY answers the server's QM #5).

    Over an MM SA its own host's initiator negotiated, the responder answers QM #5 from IDLE
    (either peer may start Quick Mode over an MM SA, timers-failures D3; ND-11: only QM #5 then);
    a QM #5 arriving before this host verified that MM SA waits in the network.  A copy of the
    QM #5 it already answered (a duplicate, or a retransmission) is answered with QM #6 again and
    changes nothing; a QM #5 whose GE flag differs from the one it answered starts a new Quick
    Mode (ND-12's renegotiation).  The responder has no retransmission timer (ND-28): it re-sends
    its last message only when the initiator's message arrives again.
    """

    idle = State("IDLE", initial=True)
    mm2_sent = State("MM2-SENT")
    mm4_sent = State("MM4-SENT")
    mm_done = State("MM-DONE")
    qm2_sent = State("QM2-SENT")
    established = State("QM-DONE")
    failed = State("FAILED")

    recv_mm1 = (idle.to(mm2_sent, cond="answers") | mm2_sent.to.itself()
                # A new Main Mode after the MM SA expired (ike.mm_expiry, ND-1).
                | mm_done.to(mm2_sent, cond=["answers", "mm_lapsed"])
                | established.to(mm2_sent, cond=["answers", "mm_lapsed"]))
    ignore_mm1 = idle.to.itself(cond="silent")
    reject_mm1 = idle.to.itself(cond="icmp")
    refuse_mm1 = idle.to.itself(cond="no_proposal")
    recv_mm3 = mm2_sent.to(mm4_sent) | mm4_sent.to.itself()
    recv_mm5 = mm4_sent.to(mm_done, cond="authenticates") | mm_done.to.itself()
    fail_auth = mm4_sent.to(failed, cond="no_credential") | failed.to.itself()
    # QM #5 over this host's MM SA: its own Main Mode (MM-DONE), one its initiator negotiated
    # (IDLE, D3), or one that replaced a Main Mode the peer abandoned half-way (MM2/MM4-SENT).
    recv_qm1 = (mm_done.to(qm2_sent, unless="refuses_qm")
                | idle.to(qm2_sent, cond="over_mm", unless="refuses_qm")
                | mm2_sent.to(qm2_sent, cond="over_mm", unless="refuses_qm")
                | mm4_sent.to(qm2_sent, cond="over_mm", unless="refuses_qm")
                | qm2_sent.to.itself()
                | established.to.itself())
    recv_new_qm1 = established.to(qm2_sent)
    refuse_qm1 = mm_done.to.itself(cond="refuses_qm") | idle.to.itself(cond=["over_mm", "refuses_qm"])
    recv_qm3 = qm2_sent.to(established) | established.to.itself(cond="commit")
    sa_expire = (established.to(mm_done, unless="ipsec_gone") | established.to(failed, cond="ipsec_gone")
                 | idle.to(failed, cond="ipsec_gone") | mm_done.to(failed, cond="ipsec_gone"))
    ignore_qm1 = failed.to.itself()

    #: Raised by SA expiry and by a DELETE (composition), never on its own.
    DRIVEN_EVENTS = ("sa_expire",)
    #: Steps that start a Quick Mode (a fresh QM #5 answered): they wait for a DELETE in flight
    #: toward this host (composition, ``ike.delete``).
    STARTS_QM = ("recv_qm1@mm_done", "recv_qm1@idle", "recv_qm1@mm2_sent", "recv_qm1@mm4_sent",
                 "recv_new_qm1")
    #: States in which a negotiation runs (answered, not finished).
    NEGOTIATING = ("mm2_sent", "mm4_sent", "qm2_sent")


def _ge_variants(sc, host: str) -> bool:
    """The peer's initiator sends QM #5 with and without the GE flag (its flow may be GE)."""
    return len(qm1_variants(sc, other(host))) > 1


def fields(ctx: Ctx) -> list[Field]:
    if not _ge_variants(ctx.sc, ctx.host):
        return []
    return [Field(ctx.n("r_qm_ge"), 0, 1, 0, "bool",
                  doc="GE flag of the QM #5 the responder last answered (ND-21)")]


def main_mode_conds(sc, h: str) -> dict:
    """The conditions of the Main Mode transitions: how the host answers by the peer's kind."""
    peer = sc.peer
    return {
        "answers": peer in ("capable", "no-credential", "qm-refused", "capable-no-nd"),
        "silent": h == "server" and peer == "silent",
        "icmp": sc.answers_icmp(h),
        "no_proposal": peer == "no-proposal",
        "authenticates": peer in ("capable", "qm-refused", "capable-no-nd"),
        "no_credential": peer == "no-credential",
    }


def main_mode_effects(ctx: Ctx) -> dict[str, list]:
    """The Main Mode answers (MM #1..#6, and the refusals by peer kind) into the host's MMSAD;
    the host-wide responder and, with per-flow Quick Mode SAs, the Main Mode responder share them."""
    sc, h = ctx.sc, ctx.host
    nd = sc.nd_host(h) and sc.nd_host(other(h))   # ND-2: both hosts do negotiation discovery
    return {
        # ND-2: MM #1 carries the ND vendor ID (ND-1) -> NDSupported; ND-3: MM #2 carries ours.
        # A capable-no-nd host does neither.
        "recv_mm1@idle": [V(recv="MM1", send=["MM2"], updates={ctx.n("mm_nd"): 1} if nd else {},
                            rules=("ND-2", "ND-3") if nd else ())],
        "recv_mm1@mm2_sent": [V(recv="MM1", send=["MM2"], label="dup")],
        "ignore_mm1": [V(recv="MM1", rules=("ND-26",))],
        "reject_mm1": [V(recv="MM1", send=["ICMP"])],
        # NO-PROPOSAL-CHOSEN, unprotected in the first MM round trip (ND-29); no state is kept,
        # so every MM #1 (a retransmission too) gets the same answer.
        "refuse_mm1": [V(recv="MM1", send=["NOTIFY"], rules=("ND-29",))],
        "recv_mm3@mm2_sent": [V(recv="MM3", send=["MM4"], rules=("ND-5",))],
        "recv_mm3@mm4_sent": [V(recv="MM3", send=["MM4"], label="dup")],
        # MM #5 verified, MM #6 sent: the MM SA is in the host's MMSAD.
        "recv_mm5@mm4_sent": [V(recv="MM5", send=["MM6"], updates={ctx.n("mm_sa"): 1}, rules=("ND-5",))],
        "recv_mm5@mm_done": [V(recv="MM5", send=["MM6"], label="dup")],
        "fail_auth@mm4_sent": [V(recv="MM5", send=["NOTIFY"], rules=("ND-27", "ND-29"))],
        "fail_auth@failed": [V(recv="MM5", send=["NOTIFY"], label="dup")],
    }


def quick_mode_answers(ctx: Ctx, qm1s, ge: bool, late: bool):
    """How a responder answers QM #5, shared by the host-wide responder and the per-flow Quick
    Mode responder (``ike.qm_sa = "flow"``): ``answer(m)`` the QM #6 answer to the QM #5 form
    ``m``, ``same(m)`` whether ``m`` has the GE flag answered last, ``inbound(ge)`` the inbound
    SA's updates, ``this_ge`` the SA.GE of the Quick Mode being answered.

    ND-21: SA.Boundary / SA.GE from the EXCHANGE_INFO bits of QM #5 (a capable-no-nd host skips
    the unknown private notify); ND-22: QM #6 carries ND_BOUNDARY iff our rule is Boundary
    (modelled by the initiator's ND-23 update).  The inbound SA is installed when QM #6 is sent
    (typical), or on QM #7 (A-2 knob)."""
    sc, h = ctx.sc, ctx.host

    def answer(m: str, label: str = "", guard=None) -> V:
        bb, gg = qm1_bits(m)
        ups = {ctx.n("sa_boundary"): bb} if sc.nd_host(h) else {}
        if not sc.nd_host(h):
            gg = 0
        if ge:
            ups[ctx.n("r_qm_ge")] = gg
        if not late:
            ups.update(inbound(gg))
        rules = ("ND-21", "ND-22") if sc.nd_host(h) else ()
        return V(recv=m, send=["QM2"], updates=ups, label=m + label, rules=rules,
                 **({"guard": guard} if guard is not None else {}))

    def same(m: str):
        return eq(ctx.f("r_qm_ge"), qm1_bits(m)[1])

    def inbound(gg) -> dict:
        """The inbound SA installed, kept beside any other (D10); ND-20 reads its SA.GE."""
        return {ctx.n("sa_in"): 1, **({ctx.n("sa_in_ge"): max_(ctx.f("sa_in_ge"), gg)} if ge else {})}

    # The SA.GE of the Quick Mode being answered: the flag of the QM #5 answered last.
    this_ge = ctx.f("r_qm_ge") if ge else (qm1_bits(qm1s[0])[1] if sc.nd_host(h) else 0)
    return answer, same, inbound, this_ge


def bind(ctx: Ctx) -> Binding:
    sc = ctx.sc
    h = ctx.host
    peer = sc.peer
    qm1s = qm1_variants(sc, other(h))  # the QM #5 forms the peer's initiator sends
    commit = sc.sets_commit(h)
    late = sc.ike.responder_install == "qm3"
    ge = _ge_variants(sc, h)
    b = Binding(conds={
        **main_mode_conds(sc, h),
        "refuses_qm": peer == "qm-refused",
        "over_mm": eq(ctx.f("mm_sa"), 1),
        "mm_lapsed": and_(sc.ike.mm_expiry, eq(ctx.f("mm_sa"), 0)),
        "commit": commit,
        "ipsec_gone": h == "server" and sc.ike.peer_drops_ipsec,
    })
    e = b.effects
    e.update(main_mode_effects(ctx))
    # A new Main Mode after the MM SA expired (ike.mm_expiry, ND-1).
    for src in ("mm_done", "established"):
        e[f"recv_mm1@{src}"] = [V(recv="MM1", send=["MM2"], updates=dict(e["recv_mm1@idle"][0].updates),
                                  label="new", rules=e["recv_mm1@idle"][0].rules)]

    answer, same, inbound, this_ge = quick_mode_answers(ctx, qm1s, ge, late)

    new = [answer(m) for m in qm1s]
    for src in ("mm_done", "idle", "mm2_sent", "mm4_sent"):
        e[f"recv_qm1@{src}"] = new
    # The peer's flows differ in GE (Scenario.mixed_ge): its IKE service renegotiates each time a
    # flow finds the host-to-host SA's GE flag wrong (ND-12), so a QM #5 arriving in QM-DONE is a
    # new Quick Mode whatever its flag (a new message ID); the scenario rules out the copies a
    # model without message IDs could not tell apart (no IKE loss or duplication, no premature
    # timers, the commit bit: _check_consistency).
    fresh = sc.mixed_ge(other(h))
    dup = [V(recv=m, send=["QM2"], label=m + " dup",
             **({"guard": FALSE if fresh else same(m)} if ge else {})) for m in qm1s]
    e["recv_qm1@qm2_sent"] = [V(recv=m, send=["QM2"], label=m + " dup") for m in qm1s]
    # A copy of the QM #5 answered last: QM #6 again, nothing installed anew (MS-IKEE §3.1.5:
    # the responder re-sends in reaction to a duplicate).
    e["recv_qm1@established"] = dup
    # A QM #5 with the other GE flag: a new Quick Mode (the peer's flow found the SA's GE flag
    # wrong, ND-12).
    # (Without GE flags every QM #5 is the one answered: none starts a new Quick Mode.)
    e["recv_new_qm1"] = [answer(m, " new", guard=(TRUE if fresh else not_(same(m))) if ge else FALSE)
                         for m in qm1s]
    # QM #7: outbound SA (and inbound, if late) installed; CONNECTED when the commit bit is set.
    # The new outbound SA replaces the previous one (kernel duplicate-SA deletion, D4/D10).
    e["recv_qm3@qm2_sent"] = [V(recv="QM3", send=["CONNECTED"] if commit else [],
                                updates={**inbound(this_ge), ctx.n("sa_out"): 1,
                                         ctx.n("sa_ge"): this_ge},
                                rules=("ND-24",))]
    e["recv_qm3@established"] = [V(recv="QM3", send=["CONNECTED"], label="dup",
                                   rules=("ND-24",))]
    # SA lifetime expiry (L-5): the SAs are deleted (by the composition's expiry step); a
    # responder is ready for a new QM, one whose host lost its IPsec capability (whatever state
    # it was in) fails every later negotiation silently.
    e["sa_expire"] = [V()]
    e["ignore_qm1"] = [V(recv=m, label=m) for m in qm1s]
    # INVALID-ID-INFORMATION (N3), protected under the MM SA (ND-29's last-round-trip rule
    # extended to QM); no QM SA is installed, the MM SA stays (ND-27: TCP goes on in the clear).
    e["refuse_qm1"] = [V(recv=m, send=["NOTIFY"], label=m, rules=("ND-27",)) for m in qm1s]
    return b

