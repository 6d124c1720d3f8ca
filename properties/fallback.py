"""Fallback to clear: a failed IKE negotiation never blocks the TCP flow (H-1, L-1, L-2, L-6, S-5).

The ND promise (MS-IKEE §1.3.5, §3.7 figure 8, ND-8, ND-26, ND-27) is that the first packets leave
in the clear while IKE runs, and that an IKE failure leaves the flow in the clear rather than
blocking it.  The promise holds for the *client's* ND filters by construction (ND-8 never holds a
packet while Secure = 0); it is broken by a server whose inbound policy does not accept clear new
flows (ND_SECURE, figure 19, A-10): there IKE failure — authentication failure
(``require-inbound-auth-failure``) or IKE loss (``fig19-lossy``) — leaves the clear SYNs dropped
until TCP gives up.  That is a policy choice, not a rule bug, and these properties record it.
With both hosts negotiating (A-13) "IKE failed" means some negotiation failed, at either end and
in either role; the other one may still secure the flow (``crossing-ike-loss``: L-6).
"""

from __future__ import annotations

from ..model.ir import Command, System, and_, not_, or_
from ..model.messages import HOSTS
from ..model.nd_rules import OUTBOUND_ND
from .base import Concern
from .predicates import (
    BLOCKING,
    IPSEC_PEERS,
    after,
    all_acked,
    client_nd,
    connected,
    data_segments,
    flag,
    ike_can_fail,
    ike_failed,
    in_state,
    initiator,
    initiator_can_fail,
    not_secure,
    scenario,
    step_host,
    takes_rows,
    tcp_reliable,
    updates_field,
)

fallback = Concern("fallback")


def flow_done(system: System):
    """The flow carried all its data (or, with no data, connected)."""
    return all_acked(system) if data_segments(system) else connected(system)


def failed_clear(system: System):
    """IKE has failed for the flow and neither end has secured it."""
    return and_(ike_failed(system), not_secure("client", "server"))


FAILED_CLEAR = "IKE has failed for the flow and neither end has secured it"


H1 = fallback.never_action(
    "H-1", "ike_failure_never_blocks_tcp",
    claim="Once IKE has failed for the flow and the flow is not secure, no ND filter drops or "
          "holds one of its TCP segments.",
    rules=("ND-8", "ND-17", "ND-18", "ND-26", "ND-27"),
    actions=lambda s, c: takes_rows(c, BLOCKING),
    pre=lambda s, c: failed_clear(s),
    trigger=failed_clear, antecedent=FAILED_CLEAR,
    applies=client_nd,
    note="Expected violated where the server is ND_SECURE and IKE can fail "
         "(require-inbound-auth-failure, fig19-lossy): ND-17 drops the clear SYN retransmissions.",
)

L1 = fallback.eventually(
    "L-1", "ike_failure_flow_still_completes",
    claim="After IKE fails on a flow that is not secure, the flow still delivers all its data "
          "(in the clear).",
    rules=("ND-8", "ND-12", "ND-13", "ND-14", "ND-26", "ND-27"),
    trigger=failed_clear, antecedent=FAILED_CLEAR, state=flow_done,
    applies=lambda s: client_nd(s) and tcp_reliable(s),
    note="Liveness under the fairness of check.py (no TCP loss; no path stays forever in a "
         "non-bottom SCC).  Violated with an ND_SECURE server, as H-1.",
)

L2 = fallback.eventually(
    "L-2", "non_capable_peer_connects_in_clear",
    claim="Against a peer without IPsec (silent, ICMP, refusing MM #1's proposals, failing "
          "authentication or refusing QM #5's IDs) the TCP connection completes and carries all "
          "its data in the clear.",
    rules=("ND-8", "ND-17", "ND-26", "ND-27"),
    state=lambda s: and_(flow_done(s), not_secure("client", "server")),
    applies=lambda s: (client_nd(s) and tcp_reliable(s) and scenario(s).peer not in IPSEC_PEERS
                       and not scenario(s).server.ipsec),
    note="The digest requires the server to have no IPsec policy at all; "
         "require-inbound-auth-failure (server ND_SECURE) is covered by H-1/L-1 instead.",
)


def _initiating(system: System) -> list[str]:
    """The hosts that have an IKE initiator (the client; the server too where it negotiates)."""
    return [h for h in HOSTS if initiator(h) in system.machines]


def _failed_clear_at(system: System, h: str):
    """``h``'s initiator has failed with the flow's Acquire = 1 and Secure = 0."""
    return and_(in_state(system, initiator(h), "failed"), flag(h, "acquire"), flag(h, "secure", 0))


def _l6_trigger(system: System):
    return or_(*[_failed_clear_at(system, h) for h in _initiating(system)])


def _l6_actions(system: System, c: Command) -> bool:
    return any(updates_field(c, initiator(h)) or updates_field(c, f"{h}.secure")
               for h in _initiating(system))


def _l6_pre(system: System, c: Command):
    parts = []
    for h in _initiating(system):
        failed = in_state(system, initiator(h), "failed")
        parts.append(and_(_failed_clear_at(system, h),
                          or_(not_(after(c, failed)), after(c, flag(h, "secure")))))
    return or_(*parts)


L6 = fallback.never_action(
    "L-6", "failed_flow_never_retries",
    claim="After a host's IKE initiator failed for a flow (Acquire = 1, Secure = 0), that host "
          "never starts IKE again for the flow and never marks it secure.",
    rules=("ND-8", "A-5"),
    actions=_l6_actions, pre=_l6_pre, applies=client_nd,
    trigger=_l6_trigger,
    antecedent="a host's IKE initiator has failed with Acquire = 1 and Secure = 0",
    note="The digest lists L-6 as liveness ('stays clear forever'); its content is a safety "
         "claim, checked here as 'no step leaves that situation', at each host that initiates.",
)

#: The outbound rows that trigger IKE (ND-8/ND-12 with Acquire := 1, ND-10/ND-12 held).
_TRIGGERS = frozenset(r.id for r in OUTBOUND_ND if r.acquire or r.trigger)


def _s5_actions(s: System, c: Command) -> bool:
    h = step_host(c)
    return h is not None and getattr(scenario(s), h).outbound == "request" and takes_rows(c, _TRIGGERS)


S5 = fallback.never_action(
    "S-5", "acquire_at_most_once_while_clear",
    claim="While a host's flow is not secure, its ND rule triggers IKE for it at most once (the "
          "Acquire flag gates ND-8 and ND-12).",
    rules=("ND-8", "ND-12", "A-4", "A-8"),
    actions=_s5_actions,
    # Secure at the moment of the trigger: a step that first accepts ESP (ND-19) and then
    # holds its answer (ND-10) re-triggers legitimately.
    pre=lambda s, c: and_(after(c, flag(step_host(c), "secure", 0)), flag(step_host(c), "acquire")),
    # "at most once": the claim is about a flow that has already triggered IKE while clear
    trigger=lambda s: or_(*[and_(flag(h, "acquire"), flag(h, "secure", 0)) for h in HOSTS
                            if getattr(scenario(s), h).outbound == "request"]),
    antecedent="a host's flow has triggered IKE (Acquire = 1) and is not Secure",
    applies=client_nd,
    note="ND-10 (Secure = 1, no SA) re-triggers on every packet by design; the IKE service "
         "coalesces those (A-4), so no acquire storm reaches the wire.",
)


def _ike_may_fail(s: System) -> bool:
    """The client negotiates (ND request rule) with a peer that can make IKE fail."""
    return client_nd(s) and ike_can_fail(s)


W7 = fallback.sometimes(
    "W-7", "ike_can_fail",
    claim="Some run ends an IKE negotiation in failure (non-vacuity of H-1, L-1, L-6).",
    rules=("ND-26", "ND-27"),
    state=lambda s: or_(*[in_state(s, initiator(h), "failed") for h in HOSTS]),
    # Also where only a premature IKE timer or a failed re-keying makes IKE fail.
    applies=lambda s: client_nd(s) and initiator_can_fail(s),
)

W8 = fallback.sometimes(
    "W-8", "clear_fallback_completes",
    claim="Some run has IKE failed and the flow's data all delivered in the clear (figure 8).",
    rules=("ND-8", "ND-26", "ND-27"),
    state=lambda s: and_(failed_clear(s), flow_done(s)),
    applies=_ike_may_fail,
)

PROPERTIES = (H1, S5, L1, L2, L6, W7, W8)
