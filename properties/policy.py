"""Inbound policy: who may open a flow in the clear, and what a require-inbound server costs (S-9, S-10, L-4).

ND_SECURE (require inbound / request outbound, figure 19) admits only protected new flows (A-10,
ALE INBOUND_INITIATE_SECURE); plain transport mode (ND-15) never sends or accepts cleartext.  The
price is L-4: the client connects only if IKE completes before its SYN retry budget runs out.
The model has no clock, only "a timer fires when nothing is in flight", so the SYN budget can
always be spent before IKE finishes: L-4 is violated in ``fig19-require-inbound`` — the digest's
race, not a rule bug — while W-10 shows the connection can also succeed.
"""

from __future__ import annotations

from ..model.ir import TRUE, Command, System, and_
from ..model.messages import HOSTS
from .base import Concern
from .predicates import (
    ACCEPT_CLEAR,
    connected,
    flag,
    in_state,
    peer_ipsec,
    scenario,
    sends_tcp,
    step_host,
    takes_rows,
    tcp_reliable,
)

policy = Concern("policy")


def _protected_server(s: System) -> bool:
    """The server requires inbound protection (ND_SECURE or plain transport mode)."""
    return scenario(s).server.inbound in ("secure", "require")


def _clear_new_flow(s: System, c: Command) -> bool:
    return (_protected_server(s)
            and any(k == "server.tcp" and src == "listen" for k, _, src in c.events)
            and takes_rows(c, ACCEPT_CLEAR))


S9 = policy.never_action(
    "S-9", "clear_new_flow_only_at_boundary",
    claim="A server whose inbound rule is not in boundary mode never opens a flow from a "
          "cleartext packet.",
    rules=("ND-17", "A-10", "ND-15"),
    actions=_clear_new_flow,
    applies=_protected_server,
)


def _transport_clear(s: System, c: Command) -> bool:
    h = step_host(c)
    if h is None:
        return False
    pol = getattr(scenario(s), h)
    return ((pol.outbound == "require" and sends_tcp(c, h, "clear"))
            or (pol.inbound == "require" and takes_rows(c, ACCEPT_CLEAR)))


S10 = policy.never_action(
    "S-10", "transport_mode_never_clear",
    claim="A host with a plain transport-mode (non-ND) rule never sends or accepts a cleartext "
          "TCP segment.",
    rules=("ND-15",),
    actions=_transport_clear,
    applies=lambda s: any("require" in (getattr(scenario(s), h).outbound,
                                        getattr(scenario(s), h).inbound)
                          for h in HOSTS),
)

L4 = policy.eventually(
    "L-4", "secure_server_connection_completes",
    claim="Against a capable server that requires inbound protection (ND_SECURE or plain "
          "transport mode), the client's TCP eventually reaches ESTABLISHED.",
    rules=("ND-8", "ND-17", "A-18"),
    state=connected,
    applies=lambda s: (scenario(s).client.outbound != "none" and peer_ipsec(s)
                       and tcp_reliable(s) and _protected_server(s)),
    note="Expected violated in fig19-require-inbound: the SYN retry budget can run out before "
         "IKE completes (digest L-4 is 'connects iff IKE beats the SYN timeout').",
)

W10 = policy.sometimes(
    "W-10", "secure_server_accepts_protected_flow",
    claim="Some run connects to a require-inbound server over ESP (figure 19's happy path).",
    rules=("ND-14", "ND-19"),
    # Plain transport mode (ND-15) accepts only ESP but never sets the ND Secure flag.
    state=lambda s: and_(in_state(s, "server.tcp", "established"),
                         flag("server", "secure") if scenario(s).server.inbound == "secure"
                         else TRUE),
    applies=lambda s: peer_ipsec(s) and _protected_server(s),
)

PROPERTIES = (S9, S10, L4, W10)
