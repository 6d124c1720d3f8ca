"""IKE bookkeeping: capability advertisement, EXCHANGE_INFO content, refusals, responder timers,
concurrent acquires (S-11, S-12, L-7, ND-27, ND-28).

ND-1..ND-4: the ND vendor ID travels in MM #1 and MM #2 and sets NDSupported in each host's MMSAD
(as initiator from MM #2, as responder from MM #1).  ND-9: QM #5 carries EXCHANGE_INFO with bit
0x1 iff the initiator's rule is Boundary and bit 0x2 iff the flow is GE.  A-7 (GE marking after
ND-9) is the digest's suspected way to break S-12, but in the model QM #5 is built by the IKE
service when it takes the acquire or when MM #6 arrives, after the triggering packet marked the
flow GE, so S-12 holds even with ``ike.ge_marking = "after"``; A-7 bites the outbound decision
instead (S-6 in ``ge-marking-after``).  L-7: with both hosts' outbound ND rules triggering their
own negotiations (A-13), crossing negotiations still end with usable SAs at both ends.
"""

from __future__ import annotations

from ..model.ir import TRUE, Command, F, System, and_, eq, implies, not_, or_
from ..model.messages import HOSTS, flow_of, in_flow, qm1_bits
from .base import Concern
from .predicates import (
    MM_PEERS,
    NOTIFYING_PEERS,
    after,
    flag,
    ike_done,
    in_state,
    initiator,
    mm_initiator,
    mm_responder,
    negotiations,
    peer_ipsec,
    responder,
    scenario,
)

ike = Concern("ike")

_MM2_SEEN = ("mm3_sent", "mm5_sent", "qm1_sent", "qm3_sent", "established", "expired",
             "mm_done")   # MM-DONE: the Main Mode initiator of ike.qm_sa = "flow"
_MM1_SEEN = ("mm2_sent", "mm4_sent", "mm_done", "qm2_sent", "established")


def _s11(s: System):
    sc = scenario(s)
    if not sc.peer_nd:
        # A capable-no-nd peer's MM #1 and MM #2 carry no ND vendor ID (ND-2/ND-4: the client's
        # NDSupported stays 0); the peer itself keeps no NDSupported (ND-2 is not its rule).
        return and_(flag("client", "mm_nd", 0), flag("server", "mm_nd", 0))
    parts = []
    for h in HOSTS:
        # The host has seen the peer's vendor ID: as initiator in MM #2, as responder in MM #1.
        # (with per-flow Quick Mode SAs, A-16, the host's Main Mode machines)
        mi, mr = mm_initiator(s, h), mm_responder(s, h)
        seen = or_(in_state(s, mi, *_MM2_SEEN), in_state(s, mr, *_MM1_SEEN))
        if "sad.mm_expired" in s.index:
            # Once the MM SA expired (ike.mm_expiry) its MMSAD entry, NDSupported with it, is
            # gone: a Main Mode that completed before it no longer counts, a new one does.
            done = or_(in_state(s, initiator(h), "established", "expired"),
                       in_state(s, responder(h), "mm_done", "established"))
            lapsed = and_(eq(F("sad.mm_expired"), 1), flag(h, "mm_sa", 0), done)
            seen = and_(seen, not_(lapsed))
        untouched = and_(*[in_state(s, k, "idle") for k in (mi, mr)
                           if k in s.machines])
        parts += [implies(seen, flag(h, "mm_nd")), implies(flag(h, "mm_nd"), not_(untouched))]
    return and_(*parts)


S11 = ike.always(
    "S-11", "nd_support_recorded",
    claim="Each host's MMSAD records NDSupported exactly when it has seen the peer's ND vendor ID "
          "(as initiator from MM #2, as responder from MM #1).",
    rules=("ND-1", "ND-2", "ND-3", "ND-4"),
    state=_s11,
    # Peers that answer MM #1 with MM #2 (a no-proposal peer keeps no MM SA: nothing to record).
    applies=lambda s: (scenario(s).client.outbound != "none"
                       and scenario(s).peer in (*MM_PEERS, "no-credential")),
)


def _qm1_packets(c: Command) -> list:
    """The QM #5 packets a step sends (their message ids carry the EXCHANGE_INFO bits, ND-9)."""
    return [p for p in c.wire if p.message == "QM1"]


def _s12_actions(s: System, c: Command) -> bool:
    return any(scenario(s).nd_host(p.sender) for p in _qm1_packets(c))


def _s12_pre(s: System, c: Command):
    parts = []
    for p in _qm1_packets(c):
        if not scenario(s).nd_host(p.sender):
            continue
        b, g = qm1_bits(p.internal)
        if b != int(getattr(scenario(s), p.sender).boundary):
            return TRUE
        if scenario(s).ike.per_flow:
            # per-flow Quick Mode SAs (A-16): bit 0x2 is the flag of the QM #5's own flow
            parts.append(after(c, eq(F(in_flow(f"{p.sender}.flow_ge", flow_of(p.internal))), 1 - g)))
            continue
        if scenario(s).mixed_ge(p.sender):
            # flows of the host differ in GE (ND-7): bit 0x2 is the triggering flow's flag, so it
            # must be some flow's (the conjunction over the flows is the same for every flow)
            parts.append(after(c, and_(*[eq(F(in_flow(f"{p.sender}.flow_ge", i)), 1 - g)
                                         for i in range(1, len(scenario(s).flows) + 1)])))
            continue
        parts.append(after(c, flag(p.sender, "flow_ge", 1 - g)))
    return or_(*parts)


S12 = ike.never_action(
    "S-12", "qm1_notify_matches_policy",
    claim="QM #5 carries EXCHANGE_INFO bit 0x1 iff its initiator's rule is Boundary and bit 0x2 "
          "iff the initiator's flow is GE (for either host's initiator).",
    rules=("ND-7", "ND-9", "A-7"),
    # Wherever Main Mode completes, the initiator sends QM #5 (a qm-refused peer refuses it).
    actions=_s12_actions, pre=_s12_pre, applies=lambda s: scenario(s).peer in MM_PEERS,
    note="A-7 does not break it: QM #5 is sent at MM #6 or by the IKE service after the trigger, "
         "after ND-7 marked the flow.",
)


def _notified(c: Command) -> list[str]:
    """The initiators whose ``recv_notify`` this step performs."""
    return [k for k, e, _ in c.events if e == "recv_notify" and k.endswith((".ike_i", ".ike_mi"))]


def _nd27_pre(s: System, c: Command):
    return or_(*[not_(after(c, in_state(s, k, "failed"))) for k in _notified(c)])


ND27 = ike.never_action(
    "ND-27", "notify_ends_negotiation",
    claim="A NOTIFY answering an initiator's MM #1, MM #5 or QM #5 ends that negotiation: the "
          "initiator fails (FAILED) and sends no further IKE message for it.",
    rules=("ND-27", "ND-29"),
    actions=lambda s, c: bool(_notified(c)),
    pre=_nd27_pre,
    applies=lambda s: (scenario(s).client.outbound != "none"
                       and scenario(s).peer in NOTIFYING_PEERS),
    note="Retransmissions leave only from MM1-SENT..QM3-SENT, so FAILED sends nothing more of the "
         "negotiation.  A modelling choice for the plaintext NOTIFY at MM #1, which MS-IKEE does "
         "not settle (timers-failures N2/N8): violated by configuration with "
         "ike.notify_at_mm1 = \"ignore\".",
)

#: The IKE messages only a responder sends (its answers): MM #2/#4/#6, QM #6, CONNECTED, and
#: the refusals NOTIFY and ICMP.
RESPONDER_MESSAGES = frozenset({"MM2", "MM4", "MM6", "QM2", "CONNECTED", "NOTIFY", "ICMP"})


def _nd28_actions(s: System, c: Command) -> bool:
    """A step that puts a Windows responder's IKE message on the wire without consuming one."""
    return c.kind != "deliver" and any(p.protection is None and p.message in RESPONDER_MESSAGES
                                       and scenario(s).nd_host(p.sender) for p in c.wire)


def _windows_responder(s: System) -> bool:
    """Some responder of the scenario is a Windows (ND) host that answers IKE."""
    sc = scenario(s)
    return (responder("client") in s.machines
            or (responder("server") in s.machines and sc.peer != "silent" and sc.peer_nd))


ND28 = ike.never_action(
    "ND-28", "responder_never_retransmits",
    claim="Each IKE responder sends an IKE message only in answer to one it receives: it runs no "
          "retransmission timer (MS-IKEE §3.1.5).",
    rules=("ND-28",),
    actions=_nd28_actions,
    # MS-IKEE binds a Windows responder; a capable-no-nd peer (strongSwan, libreswan) is not one,
    # and the model's responder has no timer for any peer kind, so the check would claim nothing
    # about it.
    applies=_windows_responder,
    note="A rule of the digest rather than one of its S-/L- properties; it is what lets a lost "
         "MM #6 or QM #6 be recovered only by the initiator's retransmission (§7.2).  Checked for "
         "the responder of each host (the client's answers the server's own negotiation, A-13).",
)

def _both_initiate(s: System) -> bool:
    """Both hosts have outbound ND rules toward a capable Windows peer, over a network that loses
    no IKE message and fires no IKE timer early (the fairness of digest §11.2), and no SA
    expires (SA loss is L-5's concern)."""
    sc = scenario(s)
    return (sc.client.outbound == sc.server.outbound == "request" and sc.peer == "capable"
            and "ike" not in sc.network.loss and not sc.tcp.premature_timeouts
            and not sc.ike.sa_loss and all(sc.initiates(h) for h in HOSTS))


#: The initiator's states once it has taken an acquire (every state but IDLE).
_STARTED = ("mm1_sent", "mm3_sent", "mm5_sent", "qm1_sent", "qm3_sent", "established", "failed",
            "expired")


def _usable_sas(s: System):
    return and_(*[and_(flag(h, "sa_out"), flag(h, "sa_in")) for h in HOSTS])


L7 = ike.eventually(
    "L-7", "concurrent_acquires_converge",
    claim="When both hosts have started an IKE negotiation for the flow (their outbound ND rules "
          "both triggered, A-13), every fair run still reaches usable SAs at both ends (inbound "
          "and outbound): no livelock between the two hosts' acquires.",
    rules=("ND-1", "ND-8", "ND-11", "A-6", "A-13"),
    trigger=lambda s: and_(*[in_state(s, initiator(h), *_STARTED) for h in HOSTS]),
    antecedent="both hosts' IKE initiators have started a negotiation",
    state=_usable_sas,
    applies=_both_initiate,
    note="Not covered by MS-IKEE (A-13): the model lets crossing Main Modes and Quick Modes both "
         "complete, the newest outbound SA replacing the older one and every inbound SA kept "
         "(timers-failures D4/D10).",
)

W3 = ike.sometimes(
    "W-3", "ike_can_complete",
    claim="Some run completes Main Mode and Quick Mode at both ends.",
    rules=("ND-5", "ND-24"),
    state=ike_done,
    # ... where some host has an initiator (no-ipsec: neither host has a rule that triggers IKE)
    applies=lambda s: peer_ipsec(s) and bool(negotiations(s)),
)

PROPERTIES = (S11, S12, L7, ND27, ND28, W3)
