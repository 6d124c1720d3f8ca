"""Structural vocabulary for properties: control states, packets a step sends, filter rows it takes.

Properties are written against these helpers rather than against command names, so a property
reads like its claim ("a step that sends a clear TCP segment from ``host`` ...") and keeps
working when the composition renames or splits commands.  Everything here looks only at a
:class:`~ndcheck.model.ir.Command`'s structured parts (``kind``, ``wire``, ``events``, ``rules``,
``updates``, ``tags``) and at the scenario's policy constants.
"""

from __future__ import annotations

from ..model.ir import FALSE, TRUE, Command, Expr, F, System, and_, eq, lt, or_, substitute
from ..model.machines.base import state_ids, state_index
from ..model.messages import HOSTS, flow_of, in_flow, is_ike, other
from ..model.nd_rules import (
    INBOUND_ND,
    INBOUND_NONE,
    INBOUND_REQUIRE,
    OUTBOUND_ND,
    OUTBOUND_NONE,
    OUTBOUND_REQUIRE,
)
from ..model.scenario import Scenario

_INBOUND = INBOUND_ND + INBOUND_REQUIRE + INBOUND_NONE
_OUTBOUND = OUTBOUND_ND + OUTBOUND_REQUIRE + OUTBOUND_NONE

#: Inbound rows that hand a cleartext segment to TCP (ND-17, ND-18, ND-15 bypass).
ACCEPT_CLEAR = frozenset(r.id for r in _INBOUND if r.action == "accept" and ("esp", True) not in r.when)
#: Inbound rows that hand a decapsulated ESP segment to TCP (ND-19, ND-15 PROTECT).
ACCEPT_ESP = frozenset(r.id for r in _INBOUND if r.action == "accept" and ("esp", True) in r.when)
#: Inbound rows that silently discard a segment (ND-17, ND-18, ND-19, ND-15).
INBOUND_DROP = frozenset(r.id for r in _INBOUND if r.action == "drop")
#: Inbound drops of an ESP segment the host cannot decapsulate (no inbound SA / no IPsec).
ESP_UNDECIPHERABLE = frozenset(r.id for r in _INBOUND if r.action == "drop" and ("esp", True) in r.when)
#: Outbound rows that hold (or drop) the segment instead of sending it (ND-10, ND-12, ND-15).
OUTBOUND_HELD = frozenset(r.id for r in _OUTBOUND if r.action == "held")
#: Every filter row that keeps a TCP segment from its receiver (H-1).
BLOCKING = INBOUND_DROP | OUTBOUND_HELD

#: TCP control states (python-statemachine ids, the same in TcpClient and TcpServer) in which a
#: connection is synchronized (RFC 9293 §3.3.2: ESTABLISHED and later).
SYNCHRONIZED = ("established", "fin_wait_1", "fin_wait_2", "close_wait", "last_ack", "time_wait")
#: ... and in which the client has completed the handshake (a normal close included).
CLIENT_CONNECTED = (*SYNCHRONIZED, "done")


def scenario(system: System) -> Scenario:
    return system.scenario


def ctl(system: System, key: str, state_id: str) -> int:
    """Index of control state ``state_id`` (python-statemachine id) of machine ``key``."""
    return state_index(system.machines[key], state_id)


def has_state(system: System, key: str, state_id: str) -> bool:
    return state_id in state_ids(system.machines[key])


def in_state(system: System, key: str, *ids: str) -> Expr:
    """``key`` is in one of the given control states (unknown ids are ignored; false for a
    machine the scenario does not compose, such as the server's initiator against a silent
    peer)."""
    if key not in system.machines:
        return FALSE
    return or_(*[eq(F(key), ctl(system, key, s)) for s in ids if has_state(system, key, s)])


def initiator(host: str) -> str:
    """The machine key of ``host``'s IKE initiator."""
    return f"{host}.ike_i"


def responder(host: str) -> str:
    """The machine key of ``host``'s IKE responder."""
    return f"{host}.ike_r"


def mm_initiator(system: System, host: str) -> str:
    """The machine that runs ``host``'s Main Mode as initiator: the host's IKE initiator, or with
    per-flow Quick Mode SAs (``ike.qm_sa = "flow"``, A-16) its Main Mode initiator
    (``client.ike_mi``; ``client.ike_i`` is then the first flow's Quick Mode initiator)."""
    key = f"{host}.ike_mi"
    return key if key in system.machines else initiator(host)


def mm_responder(system: System, host: str) -> str:
    """The machine that answers the peer's Main Mode at ``host`` (see :func:`mm_initiator`)."""
    key = f"{host}.ike_mr"
    return key if key in system.machines else responder(host)


def per_flow(system: System) -> bool:
    """Each flow has its own Quick Mode SAs (``ike.qm_sa = "flow"``, A-16)."""
    return scenario(system).ike.per_flow


def sad(system: System, host: str, name: str, flow: int = 1) -> str:
    """The name of ``host``'s SAD field ``name`` (``sa_out``, ``sa_ge`` ...) that ``flow`` uses:
    the host's with host-to-host Quick Mode SAs, the flow's own with ``ike.qm_sa = "flow"``."""
    return in_flow(f"{host}.{name}", flow) if per_flow(system) else f"{host}.{name}"


def ike_machines(system: System) -> list[str]:
    """The IKE machines the scenario composes (initiators and responders of both hosts)."""
    return [k for h in HOSTS for k in (initiator(h), responder(h)) if k in system.machines]


def negotiations(system: System) -> list[tuple[str, str]]:
    """The (initiator host, responder host) pairs that can negotiate: the client's and, where
    the server initiates too (A-13), the server's."""
    return [(h, other(h)) for h in HOSTS if initiator(h) in system.machines]


def flag(host: str, name: str, value: int = 1) -> Expr:
    """A host's boolean field (``secure``, ``sa_out`` ...) equals ``value``."""
    return eq(F(f"{host}.{name}"), value)


def after(cmd: Command, e: Expr) -> Expr:
    """``e`` evaluated in the state after ``cmd``, as an expression over the pre-state."""
    return substitute(e, dict(cmd.updates))


def step_host(cmd: Command) -> str | None:
    """The host whose machines or filters take this step (None for network faults)."""
    if cmd.tags and cmd.tags[0] in HOSTS:
        return cmd.tags[0]
    for key, _, _ in cmd.events:
        return key.split(".")[0]
    return None


def cmd_flow(cmd: Command) -> int | None:
    """The flow whose TCP segments or TCP end the step handles (None: no TCP in it, an IKE or a
    timer step).  A step handles at most one flow's TCP, so the filter rows in its ``rules``
    are that flow's.  Properties speak for the first flow (properties/flows.py lifts them)."""
    for p in cmd.wire + cmd.held:
        if p.protection is not None or (p.internal and not is_ike(p.internal)):
            return flow_of(p.internal or p.message)
    for key, _, _ in cmd.events:
        if key.split(".")[1].startswith("tcp"):
            return flow_of(key)
    for t in cmd.tags[1:]:
        if not is_ike(t):
            return flow_of(t)
    return None


def first_flow(cmd: Command) -> bool:
    """The step handles the first flow's TCP, or none."""
    return cmd_flow(cmd) in (None, 1)


def sends_tcp(cmd: Command, host: str, protection: str) -> bool:
    """The step puts a TCP segment of the first flow from ``host`` on the wire with
    ``protection`` (clear/esp)."""
    return any(p.sender == host and p.protection == protection and flow_of(p.internal) == 1
               for p in cmd.wire)


def step_sends_tcp(cmd: Command, protection: str) -> bool:
    """The step's own host puts a TCP segment on the wire with ``protection`` (clear/esp)."""
    h = step_host(cmd)
    return h is not None and sends_tcp(cmd, h, protection)


def sends_message(cmd: Command, host: str, message: str) -> bool:
    """The step puts ``message`` (wire name) from ``host`` on the wire (a TCP segment: the first
    flow's)."""
    return any(p.sender == host and p.message == message and flow_of(p.internal) == 1
               for p in cmd.wire)


def takes_rows(cmd: Command, rows: frozenset[str] | set[str]) -> bool:
    """The step takes one of the filter ``rows`` for the first flow's segment."""
    return first_flow(cmd) and any(r in rows for r in cmd.rules)


def has_event(cmd: Command, key: str, event: str, source: str | None = None) -> bool:
    return any(k == key and e == event and (source is None or s == source)
               for k, e, s in cmd.events)


def updates_field(cmd: Command, name: str) -> bool:
    return any(n == name for n, _ in cmd.updates)


def data_segments(system: System) -> int:
    """The client's data segments (``tcp.data_segments``)."""
    return system.field("client.snd_una").hi


def server_segments(system: System) -> int:
    """The server's data segments (``tcp.server_segments``)."""
    return system.field("server.snd_una").hi


def all_acked(system: System) -> Expr:
    """Every data segment of the client has been acknowledged (the flow carried its data)."""
    return eq(F("client.snd_una"), data_segments(system))


def all_delivered(system: System) -> Expr:
    """Both ends have received all the peer's data in order and had all theirs acknowledged."""
    return and_(eq(F("client.snd_una"), data_segments(system)),
                eq(F("server.rcv_nxt"), data_segments(system)),
                eq(F("server.snd_una"), server_segments(system)),
                eq(F("client.rcv_nxt"), server_segments(system)))


def connected(system: System) -> Expr:
    """The client's TCP completed the handshake (ESTABLISHED or a later state)."""
    return in_state(system, "client.tcp", *CLIENT_CONNECTED)


def ike_failed(system: System) -> Expr:
    """An IKE negotiation for the flow has failed, at either end and in either role (figure 8,
    ND-26/27)."""
    return or_(*[in_state(system, k, "failed") for k in ike_machines(system)])


def ike_done(system: System) -> Expr:
    """Some Quick Mode has completed at both ends (its initiator and its responder)."""
    return or_(*[and_(in_state(system, initiator(i), "established"),
                      in_state(system, responder(r), "established"))
                 for i, r in negotiations(system)])


def more_to_send(system: System) -> Expr:
    """The client has sent fewer data segments than the flow carries."""
    return lt(F("client.snd_nxt"), system.field("client.snd_nxt").hi)


def secure(*hosts: str) -> Expr:
    return and_(*[flag(h, "secure") for h in hosts])


def not_secure(*hosts: str) -> Expr:
    return and_(*[flag(h, "secure", 0) for h in hosts])


def has_sa(host: str) -> Expr:
    """One of the host's QM SAs (inbound or outbound) is installed."""
    return or_(flag(host, "sa_in"), flag(host, "sa_out"))


# -- scenario predicates (for ``applies``) ---------------------------------------------------

def sa_lost(system: System) -> Expr:
    """The flow's QM SAs have been lost once: they expired (``ike.sa_expiry``) or a host deleted
    them with a DELETE (``ike.delete``); false in a scenario with neither."""
    return or_(*[eq(F(f), 1) for f in ("sad.expired", "sad.deleted") if f in system.index])


def nd_outbound(system: System) -> bool:
    """Some host has an outbound ND rule (request)."""
    sc = scenario(system)
    return "request" in (sc.client.outbound, sc.server.outbound)


def client_nd(system: System) -> bool:
    return scenario(system).client.outbound == "request"


def peer_capable(system: System) -> bool:
    """The peer is a Windows host that completes IKE and does negotiation discovery."""
    return scenario(system).peer == "capable"


#: Peer kinds that complete Main Mode and Quick Mode: with negotiation discovery (capable) or
#: without (capable-no-nd: no ND vendor ID, no EXCHANGE_INFO, no commit bit).
IPSEC_PEERS = ("capable", "capable-no-nd")


def peer_ipsec(system: System) -> bool:
    """The peer completes IKE (MM and QM), with or without negotiation discovery."""
    return scenario(system).peer in IPSEC_PEERS


def tcp_reliable(system: System) -> bool:
    """The fairness assumption of the liveness properties (digest §11.2, "reliable-enough
    network"): no TCP segment is lost and no TCP timer fires early.  Retransmission budgets stay
    what the scenario says, so a budget spent before IKE finishes is still a violation (L-4)."""
    sc = scenario(system)
    return "tcp" not in sc.network.loss and not sc.tcp.premature_timeouts


def ike_can_fail(system: System) -> bool:
    """The peer refuses or ignores IKE, or IKE messages can be lost (the flow's first
    negotiation can fail)."""
    sc = scenario(system)
    return sc.peer not in IPSEC_PEERS or "ike" in sc.network.loss


def initiator_can_fail(system: System) -> bool:
    """Some negotiation of the initiator can fail: :func:`ike_can_fail`, or an IKE timer may fire
    before the answer arrived (``tcp.premature_timeouts``), or the peer stops negotiating after
    its SAs expired, so the re-keying Quick Mode fails (``ike.peer_drops_ipsec``, L-5)."""
    sc = scenario(system)
    return ike_can_fail(system) or sc.tcp.premature_timeouts or sc.ike.peer_drops_ipsec


#: Peer kinds that answer an IKE message of the initiator with a NOTIFY ending the negotiation:
#: MM #1 (no-proposal, ND-29), MM #5 (no-credential, ND-27), QM #5 (qm-refused).
NOTIFYING_PEERS = ("no-proposal", "no-credential", "qm-refused")

#: Peer kinds that complete Main Mode (the MM SAs record NDSupported, or its absence, S-11).
MM_PEERS = ("capable", "qm-refused", "capable-no-nd")


def any_ge(system: System) -> bool:
    """Some flow matches a guaranteed-encryption rule at some host (ND-7; a host's policy flag
    or a flow's own ``guaranteed_encryption``)."""
    return scenario(system).any_ge


__all__ = [
    "ACCEPT_CLEAR", "ACCEPT_ESP", "BLOCKING", "ESP_UNDECIPHERABLE", "FALSE", "INBOUND_DROP",
    "OUTBOUND_HELD", "SYNCHRONIZED", "TRUE", "after", "all_acked", "all_delivered", "connected",
    "ctl", "flag", "has_event", "ike_done", "ike_failed", "ike_machines", "in_state", "initiator",
    "mm_initiator", "mm_responder", "negotiations", "not_secure", "per_flow", "responder", "sad",
    "scenario", "sends_tcp", "step_host",
    "takes_rows", "updates_field",
]
