"""No downgrade: once a flow is secure it is never sent or accepted in the clear (S-1, S-2, S-4).

The per-flow Secure bit (§3.7.1) is the whole mechanism: ND-8/ND-12 send clear only while
Secure = 0, ND-18 discards clear inbound packets once Secure = 1, and nothing ever clears the bit
(A-5).  The digest suspects one hole, ND-13: a UDP-ESP SA toward a boundary peer sends clear
without testing Secure, so a flow secured by an inbound ESP packet (ND-19) goes out clear
(A-9).  ``nat-boundary`` reaches exactly that.
"""

from __future__ import annotations

from ..model.ir import Command, System, and_, or_
from ..model.messages import HOSTS
from .base import Concern
from .predicates import (
    ACCEPT_CLEAR,
    after,
    flag,
    in_state,
    more_to_send,
    nd_outbound,
    peer_ipsec,
    scenario,
    step_host,
    step_sends_tcp,
    takes_rows,
    updates_field,
)

downgrade = Concern("downgrade")

FLOW_FLAGS = ("secure", "acquire", "flow_ge")
SOME_SECURE = "a host's flow is Secure"


def any_secure():
    """Some host's flow is Secure (the antecedent of S-1 and S-2)."""
    return or_(*[flag(h, "secure") for h in HOSTS])


S1 = downgrade.never_action(
    "S-1", "secure_flow_never_sends_clear",
    claim="Once a host's flow is Secure, the host never transmits one of its packets in cleartext.",
    rules=("ND-10", "ND-12", "ND-13", "ND-14"),
    actions=lambda s, c: step_sends_tcp(c, "clear"),
    # Secure in the post-state: a step that receives ESP (ND-19) and answers in the clear counts.
    pre=lambda s, c: after(c, flag(step_host(c), "secure")),
    trigger=lambda s: any_secure(), antecedent=SOME_SECURE,
    applies=nd_outbound,
    note="Expected violated only with NAT toward a boundary peer (ND-13, A-9): nat-boundary.",
)


def _accepts_clear(s: System, c: Command) -> bool:
    return step_host(c) is not None and takes_rows(c, ACCEPT_CLEAR)


S2 = downgrade.never_action(
    "S-2", "secure_flow_never_accepts_clear",
    claim="Once a host's flow is Secure, every cleartext inbound packet of the flow is discarded.",
    rules=("ND-17", "ND-18"),
    actions=_accepts_clear,
    pre=lambda s, c: flag(step_host(c), "secure"),
    trigger=lambda s: any_secure(), antecedent=SOME_SECURE,
    applies=lambda s: any(getattr(scenario(s), h).inbound in ("boundary", "secure") for h in HOSTS),
    note="ND-17 accepts a clear first packet without testing Secure, but the server's flow is "
         "new only while its TCP is in LISTEN, before any ESP could have set Secure.",
)


def _flags_touched(s: System, c: Command) -> bool:
    return any(updates_field(c, f"{h}.{f}") for h in HOSTS for f in FLOW_FLAGS)


def _flag_cleared(s: System, c: Command):
    return or_(*[and_(flag(h, f), after(c, flag(h, f, 0)))
                 for h in HOSTS for f in FLOW_FLAGS
                 if updates_field(c, f"{h}.{f}")])


S4 = downgrade.never_action(
    "S-4", "flow_flags_monotone",
    claim="The flow flags Secure, Acquire and GE never go from 1 back to 0.",
    rules=("ND-7", "ND-8", "ND-14", "ND-19", "ND-20", "A-5"),
    actions=_flags_touched, pre=_flag_cleared, applies=nd_outbound,
)

W6 = downgrade.sometimes(
    "W-6", "secured_flow_keeps_sending",
    claim="Some run secures the client's flow while it still has data to send (S-1 is not vacuous).",
    rules=("ND-14", "ND-19"),
    state=lambda s: and_(flag("client", "secure"), in_state(s, "client.tcp", "established"),
                         more_to_send(s)),
    applies=lambda s: peer_ipsec(s) and scenario(s).client.outbound == "request"
    and scenario(s).tcp.data_segments > 0,
)

PROPERTIES = (S1, S2, S4, W6)
