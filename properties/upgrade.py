"""Upgrade: a flow is secured only through its own Quick Mode's SAs, and secured when it can be.

H-2 is the headline form ("secured only after QM completes", S-3 + S-14), for each host in either
IKE role (both hosts negotiate, A-13; a host's outbound SA is the newest of its roles', every
inbound SA is kept, D4/D10): an SA is installed only by the step that completes the host's part
of a Quick Mode -- the outbound SA when an IKE machine reaches QM-DONE (initiator: QM #6 received
and, with the commit bit, CONNECTED received, ND-24; responder: QM #7 received), the inbound SA
when the initiator receives QM #6 or the responder sends QM #6 (or, with
``ike.responder_install = "qm3"``, receives QM #7, A-2) -- the role read from the IKE control
state the step reaches, not from the SA fields it writes; ESP leaves only over an installed
outbound SA, is accepted only with an installed inbound SA, and Secure is set only where one of
the host's SAs is installed.  S-14 is the peer's view of the same step: ESP must never arrive
before the receiver can decapsulate it, and an initiator waiting for CONNECTED has not installed
its new outbound SA.  With the commit bit off and a responder that installs its inbound SA only on
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
    initiator,
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


#: Where each IKE role has completed the part of its Quick Mode that installs an SA: the
#: outbound SA on QM-DONE for both roles (initiator: QM #6 received, and CONNECTED where it waits
#: for it; responder: QM #7 received), the inbound SA from QM3-SENT for the initiator and from
#: QM2-SENT for a responder that installs it when sending QM #6 (A-2).
OUT_DONE = {"ike_i": ("established",), "ike_r": ("established",)}


def _in_done(s: System, role: str) -> tuple[str, ...]:
    if role == "ike_i":
        return ("qm3_sent", "established")
    early = scenario(s).ike.responder_install == "qm2"
    return ("qm2_sent", "established") if early else ("established",)


def _installs(c: Command, h: str, name: str) -> bool:
    """The step may set ``h``'s SA field ``name`` to 1 (it writes it with something but 0)."""
    v = dict(c.updates).get(f"{h}.{name}")
    return v is not None and not (v.op == "const" and v.args[0] == 0)


def _h2_host(c: Command) -> list[str]:
    h = step_host(c)
    return [x for x in HOSTS if x == h or _installs(c, x, "sa_out") or _installs(c, x, "sa_in")]


def _h2_actions(s: System, c: Command) -> bool:
    h = step_host(c)
    return h is not None and (sends_tcp(c, h, "esp") or takes_rows(c, ACCEPT_ESP)
                              or updates_field(c, f"{h}.secure")
                              or any(_installs(c, x, f) for x in HOSTS for f in ("sa_in", "sa_out")))


def _completes(s: System, c: Command, h: str, done: dict[str, tuple[str, ...]] | None) -> object:
    """After ``c``, one of ``h``'s IKE machines that take part in the step is where its role has
    installed the SA (``done``: role -> states; None: the inbound states of :func:`_in_done`)."""
    parts = []
    for key, _, _ in c.events:
        host, _, role = key.partition(".")
        if host == h and role in ("ike_i", "ike_r"):
            states = done[role] if done is not None else _in_done(s, role)
            parts.append(after(c, in_state(s, key, *states)))
    return or_(*parts)


def _h2_pre(s: System, c: Command):
    h = step_host(c)
    parts = []
    if h is not None and sends_tcp(c, h, "esp"):
        parts.append(flag(h, "sa_out", 0))
    if h is not None and takes_rows(c, ACCEPT_ESP):
        parts.append(flag(h, "sa_in", 0))
    if h is not None and updates_field(c, f"{h}.secure"):
        parts.append(and_(flag(h, "secure", 0), after(c, flag(h, "secure")),
                          flag(h, "sa_in", 0), flag(h, "sa_out", 0)))
    for x in HOSTS:
        # An SA is installed only by the step that completes the host's part of a Quick Mode.
        if _installs(c, x, "sa_out"):
            parts.append(and_(after(c, flag(x, "sa_out")), not_(_completes(s, c, x, OUT_DONE))))
        if _installs(c, x, "sa_in"):
            parts.append(and_(after(c, flag(x, "sa_in")), not_(_completes(s, c, x, None))))
    return or_(*parts) if parts else FALSE


H2 = upgrade.never_action(
    "H-2", "secured_only_after_own_qm",
    claim="A host sends ESP for the flow only over an outbound SA installed when it completed its "
          "own Quick Mode role (initiator: QM #6 received, and CONNECTED with the commit bit; "
          "responder: QM #7 received), accepts ESP only with an inbound SA installed by its "
          "role (initiator: QM #6 received; responder: QM #6 sent, or QM #7 received with "
          "ike.responder_install = \"qm3\"), and sets Secure only while one of its QM SAs is "
          "installed -- for the client and the server, in either IKE role.",
    rules=("ND-14", "ND-19", "ND-24", "S-3", "S-14"),
    actions=_h2_actions, pre=_h2_pre, applies=peer_ipsec,
    note="Each host has both roles and its outbound SA is the newest of either (D10), so the claim "
         "is checked where SAs are installed: a step that installs one is the step completing "
         "that role's part of the Quick Mode; ESP leaves and is accepted only with an SA "
         "installed.",
)

S3 = upgrade.always(
    "S-3", "secure_implies_sa",
    claim="A host's flow is Secure only if one of its QM SAs is installed.",
    rules=("ND-14", "ND-19"),
    state=lambda s: and_(*[implies(flag(h, "secure"), has_sa(h)) for h in HOSTS]),
    applies=lambda s: client_nd(s) and not scenario(s).ike.sa_loss,
    note="With SA loss (expiry or DELETE, L-5) the SAs vanish under a Secure flow by design; S-3 then does not "
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


def _initiator_installs_out(c: Command) -> list[str]:
    """Hosts whose initiator takes part in the step while the step installs their outbound SA."""
    return [h for h in HOSTS if any(k == initiator(h) for k, _, _ in c.events)
            and _installs(c, h, "sa_out")]


def _s14_actions(s: System, c: Command) -> bool:
    return takes_rows(c, ESP_UNDECIPHERABLE) or bool(_initiator_installs_out(c))


def _s14_pre(s: System, c: Command):
    if takes_rows(c, ESP_UNDECIPHERABLE):
        return and_()  # TRUE: the receiver discards ESP it cannot decapsulate
    # An initiator waits for CONNECTED (#8) before using its new SA when the commit bit is set:
    # its outbound SA is not installed while it is in QM3-SENT.  (An outbound SA its host's
    # responder installed meanwhile may carry ESP, D10.)
    return or_(*[and_(after(c, flag(h, "sa_out")), after(c, in_state(s, initiator(h), "qm3_sent")))
                 for h in _initiator_installs_out(c)])


S14 = upgrade.never_action(
    "S-14", "no_esp_before_receiver_sa",
    claim="No initiator uses the SA of its Quick Mode (installs it outbound) while waiting for "
          "CONNECTED, and no host receives an ESP segment it cannot decapsulate.",
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
