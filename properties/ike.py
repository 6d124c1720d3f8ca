"""IKE bookkeeping: capability advertisement, EXCHANGE_INFO content, refusals, responder timers
(S-11, S-12, ND-27, ND-28).

ND-1..ND-4: the ND vendor ID travels in MM #1 and MM #2 and sets NDSupported on both MM SAs.
ND-9: QM #5 carries EXCHANGE_INFO with bit 0x1 iff the initiator's rule is Boundary and bit 0x2
iff the flow is GE.  A-7 (GE marking after ND-9) is the digest's suspected way to break S-12,
but in the model QM #5 is built when MM #6 arrives, long after the flow's first packet marked
it GE, so S-12 holds even with ``ike.ge_marking = "after"``; A-7 bites the outbound decision
instead (S-6 in ``ge-marking-after``).
"""

from __future__ import annotations

import re

from ..model.ir import TRUE, Command, System, and_, implies, not_
from .base import Concern
from .predicates import (
    MM_PEERS,
    NOTIFYING_PEERS,
    after,
    flag,
    has_event,
    ike_done,
    in_state,
    peer_ipsec,
    scenario,
    sends_message,
)

ike = Concern("ike")

_MM2_SEEN = ("mm3_sent", "mm5_sent", "qm1_sent", "qm3_sent", "established", "expired")
_MM1_SEEN = ("mm2_sent", "mm4_sent", "mm_done", "qm2_sent", "established")


def _s11(s: System):
    c_mm = in_state(s, "client.ike", *_MM2_SEEN)
    s_mm = in_state(s, "server.ike", *_MM1_SEEN)
    if not scenario(s).peer_nd:
        # A capable-no-nd peer's MM #2 carries no ND vendor ID (ND-4: the client's NDSupported
        # stays 0); the peer itself keeps no NDSupported (ND-2 is not its rule).
        return and_(flag("client", "mm_nd", 0), flag("server", "mm_nd", 0))
    return and_(implies(c_mm, flag("client", "mm_nd")), implies(s_mm, flag("server", "mm_nd")),
                implies(flag("client", "mm_nd"), not_(in_state(s, "client.ike", "idle"))),
                implies(flag("server", "mm_nd"), not_(in_state(s, "server.ike", "idle"))))


S11 = ike.always(
    "S-11", "nd_support_recorded",
    claim="Each end's MM SA records NDSupported exactly when it has seen the peer's ND vendor ID "
          "(the initiator from MM #2, the responder from MM #1).",
    rules=("ND-1", "ND-2", "ND-3", "ND-4"),
    state=_s11,
    # Peers that answer MM #1 with MM #2 (a no-proposal peer keeps no MM SA: nothing to record).
    applies=lambda s: (scenario(s).client.outbound != "none"
                       and scenario(s).peer in (*MM_PEERS, "no-credential")),
)

_QM1 = re.compile(r"QM1(?:/([BG]+))?(?=[\] ])")


def _qm1_bits(c: Command) -> tuple[int, int] | None:
    m = _QM1.search(c.name)
    if not m:
        return None
    flags = m.group(1) or ""
    return int("B" in flags), int("G" in flags)


def _s12_actions(s: System, c: Command) -> bool:
    return sends_message(c, "client", "QM1") and _qm1_bits(c) is not None


def _s12_pre(s: System, c: Command):
    b, g = _qm1_bits(c)  # type: ignore[misc]
    if b != int(scenario(s).client.boundary):
        return TRUE
    return after(c, flag("client", "flow_ge", 1 - g))


S12 = ike.never_action(
    "S-12", "qm1_notify_matches_policy",
    claim="QM #5 carries EXCHANGE_INFO bit 0x1 iff the initiator's rule is Boundary and bit 0x2 "
          "iff its flow is GE.",
    rules=("ND-7", "ND-9", "A-7"),
    # Wherever Main Mode completes, the initiator sends QM #5 (a qm-refused peer refuses it).
    actions=_s12_actions, pre=_s12_pre, applies=lambda s: scenario(s).peer in MM_PEERS,
    note="A-7 does not break it: QM #5 is sent at MM #6, after ND-7 marked the flow.",
)


def _nd27_pre(s: System, c: Command):
    return not_(after(c, in_state(s, "client.ike", "failed")))


ND27 = ike.never_action(
    "ND-27", "notify_ends_negotiation",
    claim="A NOTIFY answering the initiator's MM #1, MM #5 or QM #5 ends that negotiation: the "
          "initiator fails (FAILED) and sends no further IKE message for it.",
    rules=("ND-27", "ND-29"),
    actions=lambda s, c: has_event(c, "client.ike", "recv_notify"),
    pre=_nd27_pre,
    applies=lambda s: (scenario(s).client.outbound != "none"
                       and scenario(s).peer in NOTIFYING_PEERS),
    note="Retransmissions leave only from MM1-SENT..QM3-SENT, so FAILED sends nothing more of the "
         "negotiation.  A modelling choice for the plaintext NOTIFY at MM #1, which MS-IKEE does "
         "not settle (timers-failures N2/N8): violated by configuration with "
         "ike.notify_at_mm1 = \"ignore\".",
)

def _nd28_actions(s: System, c: Command) -> bool:
    """A responder step that puts an IKE message on the wire without consuming one."""
    return c.kind != "deliver" and any(p.sender == "server" and p.protection is None
                                       for p in c.wire)


ND28 = ike.never_action(
    "ND-28", "responder_never_retransmits",
    claim="The IKE responder sends an IKE message only in answer to one it receives: it runs no "
          "retransmission timer (MS-IKEE §3.1.5).",
    rules=("ND-28",),
    actions=_nd28_actions,
    # MS-IKEE binds a Windows responder; a capable-no-nd peer (strongSwan, libreswan) is not one,
    # and the model's responder has no timer for any peer kind, so the check would claim nothing.
    applies=lambda s: scenario(s).peer != "silent" and scenario(s).peer_nd,
    note="A rule of the digest rather than one of its S-/L- properties; it is what lets a lost "
         "MM #6 or QM #6 be recovered only by the initiator's retransmission (§7.2).",
)

W3 = ike.sometimes(
    "W-3", "ike_can_complete",
    claim="Some run completes Main Mode and Quick Mode at both ends.",
    rules=("ND-5", "ND-24"),
    state=ike_done,
    applies=peer_ipsec,
)

PROPERTIES = (S11, S12, ND27, ND28, W3)
