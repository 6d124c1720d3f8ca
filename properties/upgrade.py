"""Upgrade: a flow is secured only through its own Quick Mode's SAs, and secured when it can be.

H-2 is the headline form ("secured only after QM completes", S-3 + S-14): a host sends ESP only
once its IKE machine has completed its own Quick Mode role, accepts ESP only with its inbound SA,
and sets Secure only where one of its SAs is installed.  The role is read from the IKE control
state, not from the SA fields the same steps write: the initiator has completed its role in
QM-DONE (QM #6 received and, with the commit bit, CONNECTED received, ND-24); the responder in
QM-DONE (QM #7 received), or already in QM2-SENT when it installs its inbound SA on sending QM #6
(``ike.responder_install = "qm2"``, A-2).  S-14 is the peer's view of the same step: ESP must
never arrive before the receiver can decapsulate it.  With the commit bit (ND-24) the initiator
waits for CONNECTED; with the commit bit off and a responder that installs its inbound SA only on
QM #7 (A-2), ESP can overtake QM #7 — ``qm3-race`` shows it, and L-3 shows that TCP does not
always recover.
"""

from __future__ import annotations

from ..model.ir import FALSE, Command, System, and_, implies, not_, or_
from ..model.messages import HOSTS, other
from .base import Concern
from .predicates import (
    ACCEPT_ESP,
    ESP_UNDECIPHERABLE,
    after,
    all_acked,
    client_nd,
    flag,
    has_sa,
    ike_done,
    in_state,
    more_to_send,
    not_secure,
    peer_capable,
    peer_ipsec,
    scenario,
    secure,
    sends_tcp,
    step_host,
    takes_rows,
    tcp_reliable,
    updates_field,
)

upgrade = Concern("upgrade")


def _h2_actions(s: System, c: Command) -> bool:
    h = step_host(c)
    return h is not None and (sends_tcp(c, h, "esp") or takes_rows(c, ACCEPT_ESP)
                              or updates_field(c, f"{h}.secure"))


#: IKE control states in which each host has completed its own Quick Mode role (see module doc).
QM_ROLE_DONE = {"client": ("established",), "server": ("established",)}


def qm_role_done(s: System, h: str):
    """``h``'s IKE machine has completed its own Quick Mode role (initiator: QM #6 received, and
    CONNECTED with the commit bit; responder: QM #7 received, or QM #6 sent when it installs its
    inbound SA then)."""
    done = QM_ROLE_DONE[h]
    if h == "server" and scenario(s).ike.responder_install == "qm2":
        done += ("qm2_sent",)
    return in_state(s, f"{h}.ike", *done)


def _h2_pre(s: System, c: Command):
    h = step_host(c)
    parts = []
    if sends_tcp(c, h, "esp"):
        parts += [flag(h, "sa_out", 0), not_(qm_role_done(s, h))]
    if takes_rows(c, ACCEPT_ESP):
        parts.append(flag(h, "sa_in", 0))
    if updates_field(c, f"{h}.secure"):
        parts.append(and_(flag(h, "secure", 0), after(c, flag(h, "secure")),
                          flag(h, "sa_in", 0), flag(h, "sa_out", 0)))
    return or_(*parts) if parts else FALSE


H2 = upgrade.never_action(
    "H-2", "secured_only_after_own_qm",
    claim="A host sends ESP for the flow only after it has completed its own Quick Mode role "
          "(initiator: QM #6 received, and CONNECTED with the commit bit; responder: QM #7 "
          "received, or QM #6 sent where it installs its inbound SA then) and over its "
          "installed outbound SA, accepts ESP only with its installed inbound SA, and sets Secure "
          "only while one of its QM SAs is installed.",
    rules=("ND-14", "ND-19", "ND-24", "S-3", "S-14"),
    actions=_h2_actions, pre=_h2_pre, applies=peer_ipsec,
)

S3 = upgrade.always(
    "S-3", "secure_implies_sa",
    claim="A host's flow is Secure only if one of its QM SAs is installed.",
    rules=("ND-14", "ND-19"),
    state=lambda s: and_(*[implies(flag(h, "secure"), has_sa(h)) for h in HOSTS]),
    applies=lambda s: client_nd(s) and not getattr(scenario(s).ike, "sa_expiry", False),
    note="With SA expiry (L-5) the SAs vanish under a Secure flow by design; S-3 then does not "
         "apply and H-2 carries the step-wise claim.",
)


def _peer_boundary(s: System, h: str) -> int:
    return int(getattr(scenario(s), other(h)).boundary)


def _nd_hosts(s: System) -> tuple[str, ...]:
    """The hosts that keep SA.Boundary: both, or only the client against a capable-no-nd peer."""
    return HOSTS if scenario(s).peer_nd else ("client",)


S13 = upgrade.always(
    "S-13", "sa_boundary_describes_peer",
    claim="A host's SA.Boundary equals 'the peer's inbound ND rule is in boundary mode' whenever "
          "the host has an SA.",
    rules=("ND-21", "ND-22", "ND-23"),
    state=lambda s: and_(*[implies(has_sa(h), flag(h, "sa_boundary", _peer_boundary(s, h)))
                           for h in _nd_hosts(s)]),
    trigger=lambda s: or_(*[has_sa(h) for h in _nd_hosts(s)]),
    antecedent="a host doing negotiation discovery has a QM SA installed",
    applies=peer_ipsec,
    note="Against a capable-no-nd peer only the client's SA.Boundary is claimed (0: the peer "
         "sends no EXCHANGE_INFO, ND-23, and has no ND rule); the peer keeps no SA.Boundary.",
)


def _s14_actions(s: System, c: Command) -> bool:
    return takes_rows(c, ESP_UNDECIPHERABLE) or sends_tcp(c, "client", "esp")


def _s14_pre(s: System, c: Command):
    if takes_rows(c, ESP_UNDECIPHERABLE):
        return and_()  # TRUE: the receiver discards ESP it cannot decapsulate
    # The initiator waits for CONNECTED (#8) before using the SA when the commit bit is set.
    return in_state(s, "client.ike", "qm3_sent")


S14 = upgrade.never_action(
    "S-14", "no_esp_before_receiver_sa",
    claim="The initiator sends no ESP while waiting for CONNECTED, and no host receives an ESP "
          "segment it cannot decapsulate.",
    rules=("ND-19", "ND-24", "A-2", "A-18"),
    actions=_s14_actions, pre=_s14_pre, applies=peer_ipsec,
    note="Expected violated in qm3-race (commit bit off, responder installs on QM #7, A-2).",
)


def _l3_trigger(s: System):
    return and_(ike_done(s), in_state(s, "client.tcp", "syn_sent", "established"), more_to_send(s))


L3 = upgrade.eventually(
    "L-3", "capable_flow_eventually_secured",
    claim="Once both ends completed Quick Mode while the client still has data to send, both "
          "ends eventually mark the flow Secure.",
    rules=("ND-8", "ND-14", "ND-19", "ND-21", "ND-24", "A-15"),
    trigger=_l3_trigger,
    antecedent="both ends completed Quick Mode while the client, connecting or connected, still "
               "has data to send",
    state=lambda s: secure("client", "server"),
    applies=lambda s: (peer_capable(s) and client_nd(s) and tcp_reliable(s)
                       and scenario(s).server.inbound == "boundary"
                       and scenario(s).tcp.data_segments > 0),
    note="Secure is set only by traffic (A-15), hence the trigger asks for data still to send; "
         "W-5 shows the idle case.",
)

W4 = upgrade.sometimes(
    "W-4", "flow_secured_both_ends",
    claim="Some run marks the flow Secure at both ends (figure 7's upgrade happens).",
    rules=("ND-14", "ND-19"),
    state=lambda s: secure("client", "server"),
    # Plain transport mode (ND-15) protects traffic but keeps no ND flow table.
    applies=lambda s: (peer_capable(s) and client_nd(s)
                       and scenario(s).server.inbound in ("boundary", "secure")),
)

W5 = upgrade.sometimes(
    "W-5", "idle_flow_stays_clear_after_qm",
    claim="Some run completes Quick Mode at both ends after the flow delivered all its data in "
          "the clear, so the flow is never upgraded (A-15).",
    rules=("A-15",),
    state=lambda s: and_(ike_done(s), not_secure("client", "server"), all_acked(s)),
    applies=lambda s: (peer_capable(s) and client_nd(s)
                       and scenario(s).server.inbound == "boundary"),
)

PROPERTIES = (H2, S3, S13, S14, L3, W4, W5)
