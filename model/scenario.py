"""Scenarios as data: host policies, peer kind, protocol knobs, network faults, bounds, expectations.

A scenario is a TOML document (the built-in catalog lives in ``model/catalog/*.toml``; users pass
their own with ``--file``).  Loading validates every key, type, enum value and bound and raises
:class:`ScenarioError` with one line naming what is wrong and what is allowed.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

from .messages import other
from .suggest import did_you_mean

OUTBOUND = ("request", "require", "none", "legacy")
INBOUND = ("boundary", "secure", "require", "none")
PEER_KINDS = ("capable", "silent", "no-credential", "icmp", "no-proposal", "qm-refused",
              "capable-no-nd")
#: Peer kinds whose IKE stack does negotiation discovery (a Windows host): the ND vendor ID in
#: MM #2 (ND-3), EXCHANGE_INFO in QM #6 (ND-21/22) and the commit bit (ND-24, timers-failures C7).
ND_PEERS = ("capable", "silent", "no-credential", "icmp", "no-proposal", "qm-refused")
INSTALL = ("qm2", "qm3")
GE_MARKING = ("before", "after")
NOTIFY_AT_MM1 = ("fail", "ignore")
MM_IN_PROGRESS = ("counts", "ignored")
DELETE_BY = ("none", "client", "server", "both")
#: A-16: one Quick Mode SA pair for every flow between the hosts, or one per flow
QM_SA = ("host", "flow")
LOSS = ("ike", "tcp")
#: Which end closes the connection first (``tcp.close``); the other closes after the FIN.
CLOSE = ("client", "server", "none")
#: When the server sends its data (``tcp.server_sends``).
SERVER_SENDS = ("after-request", "established")
#: When a TCP retransmission timer may fire (``tcp.timers``; ``tcp.premature_timeouts`` overrides).
TIMERS = ("backoff", "quiet")
TIME_MODES = ("untimed", "timed")
TCP_PRESETS = ("modern", "legacy")
VERDICTS = ("holds", "violated", "vacuous", "undetermined")
#: Why a property is expected ``violated`` (DESIGN.md "Modelling decisions"): ``spec``, a finding
#: about MS-IKEE (the rules it rests on, and one sentence saying what MS-IKEE allows); ``policy``,
#: the scenario's configuration makes it so (one sentence).  A modelling artefact is neither.
CAUSES = ("spec", "policy")
#: The digest's rule ids (ND-1..ND-30) and ambiguity ids (A-1..A-23), what ``rules`` may cite.
RULE_IDS = tuple(f"ND-{i}" for i in range(1, 31))
AMBIGUITY_IDS = tuple(f"A-{i}" for i in range(1, 24))
_EXPECT_KEYS = ("verdict", "cause", "rules", "note")


class ScenarioError(ValueError):
    """Bad scenario input; the message is one line naming the problem and what is allowed."""


@dataclass(frozen=True, slots=True)
class Cause:
    """Why a property is expected ``violated``: ``kind`` is ``spec`` (a finding about MS-IKEE:
    ``rules`` names the digest rules it rests on, ``note`` says in one sentence what MS-IKEE
    allows) or ``policy`` (the configuration makes it so: ``note``, one sentence; ``rules``
    optional)."""

    kind: str                      # one of CAUSES
    note: str
    rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    """One host's IPsec policy (SPD flags, §3.7.1 / §6.1 of the digest).

    ``outbound``: ``request`` = ND rule (negotiate discovery, NEGOTIATE_DISCOVER), ``require`` =
    plain transport-mode PROTECT (ND-15), ``none`` = BYPASS, ``legacy`` = the pre-ND "Negotiate
    Security" action with "Allow unsecured communication with non-IPsec-aware computer" (digest
    §6.4, for comparison): packets wait for IKE (held, as ND-15 PROTECT holds them), and if the
    peer has given no IKE reply ``time.legacy_fallback_ms`` (3 s, SOFTSA) after MM #1, a soft SA
    lets the flow go clear; a peer that replies and then fails leaves the flow blocked.  ``inbound``: ``boundary`` =
    ND_BOUNDARY (clear new flows accepted, ND-17), ``secure`` = ND_SECURE (clear new flows
    dropped by the ALE accept layer, A-10, figure 19), ``require`` = plain transport mode,
    ``none`` = no IPsec.  ``guaranteed_encryption`` is the GE rule flag (ND-7).
    ``allow_clear_timeout`` models Windows' ``ndAllowClearTimeoutSeconds`` (A-14): once an inbound
    SA exists, clear packets of a secured flow are still accepted until a grace timer expires.
    ``ale_require_encryption`` adds the Windows ALE filters of a guaranteed-encryption policy
    (WFP-GE: ``FWPM_CONTEXT_ALE_SET_CONNECTION_REQUIRE_IPSEC_ENCRYPTION`` at ALE_AUTH_CONNECT and
    ALE_AUTH_RECV_ACCEPT), a layer outside MS-IKEE: the host never sends a packet of the flow in
    the clear (the ND rows that would are held, ``nd_rules``) and drops every clear packet of it
    it receives.  It needs ``guaranteed_encryption`` and an IPsec rule in both directions.
    """

    outbound: str = "request"
    inbound: str = "boundary"
    guaranteed_encryption: bool = False
    allow_clear_timeout: bool = False  # A-14: ndAllowClearTimeoutSeconds grace after an SA exists
    ale_require_encryption: bool = False  # WFP-GE: the ALE layer blocks the GE flow's clear packets

    @property
    def boundary(self) -> bool:
        """rule.Boundary: plaintext acceptable for this (inbound) ND rule."""
        return self.inbound == "boundary"

    @property
    def ipsec(self) -> bool:
        return self.outbound != "none" or self.inbound != "none"


@dataclass(frozen=True, slots=True)
class IkeKnobs:
    """IKE knobs.

    ``notify_at_mm1``: what the initiator does with a NOTIFY answering its MM #1 (a ``no-proposal``
    peer's plaintext NO-PROPOSAL-CHOSEN, ND-29, timers-failures N1/N2).  MS-IKEE does not say how a
    Windows initiator reacts to an unauthenticated notify in the first round trip (no A-n of the
    digest names it: its §3.5 leaves MM failure behaviour other than "TCP unaffected" unspecified,
    ND-26/27, as A-22 does for an ICMP answer to MM #1; libreswan ignores
    it and keeps retransmitting, N2/N8; strongSwan treats MM error notifies as errors, N8).
    ``fail`` (default): the negotiation ends (FAILED), like the NOTIFY at MM #5; ``ignore``: the
    notify is dropped and MM #1 is retransmitted until the budget runs out.

    ``mm_in_progress`` (A-6, timers-failures D7): ND-1 starts a Main Mode only if the MMSAD holds
    no MM SA for the destination; whether a Main Mode this host is *answering* (its responder
    between MM #1 and MM #5) counts is unspecified.  ``ignored`` (default, the literal reading:
    ND-1 asks for an MM SA, and MS-AIPS counts MM SAs and negotiations in progress apart, D6):
    the host starts a second, crossing Main Mode (A-13); ``counts``: the MMSAD entry exists from
    MM #1 on (it is indexed by both cookies, MS-IKEE §3.1.1), so the IKE service keeps the
    acquire queued until that Main Mode completes, then sends QM #5 over it (or MM #1 if it
    failed) -- and forever if the peer abandons that Main Mode, since the responder keeps no
    timer in the model.

    ``server_initiator`` (A-13): the server's outbound rule triggers its own negotiation toward
    the client (default).  ``false`` is a *reduction*, not a reading of the specification: the
    server's triggers only record Acquire (the model before both hosts negotiated), for
    scenarios whose point lies elsewhere (loss, early timers), where the product of two
    negotiations exceeds the catalog's time budget; each such scenario says so.

    ``delete`` (timers-failures L1, L6; IKEE-M §3.8.4.1): which host may delete the flow's QM
    SAs with a DELETE, once per run, between its negotiations (a policy change or an
    administrator's cleanup, at a time of its own): ``none`` (default), ``client``, ``server``
    or ``both``.  The deleting host removes its QM SAs at once and sends the DELETE protected
    under the MM SA, which stays (L1); the peer removes the QM SAs the DELETE names -- not one
    installed after it was sent -- on receipt.  A-5 keeps the flow's flags, so ND-10 holds a
    Secure flow until a new Quick Mode over the MM SA (ND-11) re-keys it.

    ``mm_expiry`` (L11, L13: MM 480 min against QM 60 min): the MM SA (both ends' MMSAD entry)
    may expire once, between negotiations, apart from the QM SAs, which stay (L4); a later
    negotiation of either host starts with Main Mode again (ND-1).

    ``qm_sa`` (A-16): ``host`` (default) -- one Quick Mode SA pair with host-to-host selectors
    carries every flow, so an SA negotiated for one flow upgrades the others (ND-14); ``flow`` --
    each flow negotiates its own Quick Mode SA pair (port-specific selectors) over the host's
    one Main Mode SA (ND-11): per flow its own SAD fields, acquire queue and Quick Mode
    initiator/responder, Main Mode per host (README "Per-flow Quick Mode SAs").
    """

    commit_bit: bool = True          # RFC 2408 §3.1; ND-24
    responder_install: str = "qm2"   # A-2: responder installs inbound SA at QM2 (or QM3)
    retransmissions: int = 2         # initiator budget per negotiation (ND-28: responder none)
    ge_marking: str = "before"       # A-7: ND-7 applied before (or after) ND-9
    sa_expiry: bool = False          # the QM SAs may expire once after both ends completed (L-5, A-5)
    peer_drops_ipsec: bool = False   # ... and the server can no longer negotiate afterwards (L-5)
    notify_at_mm1: str = "fail"      # a plaintext NOTIFY answering MM #1 ends (or not) the MM (N2/N8)
    mm_in_progress: str = "ignored"  # A-6: an MM this host is answering does not count for ND-1
    server_initiator: bool = True    # A-13: the server's triggers reach its own IKE initiator
    delete: str = "none"             # L1: which host may delete the QM SAs with a DELETE (once)
    mm_expiry: bool = False          # L4, L13: the MM SA may expire once, apart from the QM SAs
    qm_sa: str = "host"              # A-16: host-to-host Quick Mode SAs, or one pair per flow

    @property
    def per_flow(self) -> bool:
        """Each flow has its own Quick Mode SAs (A-16, ``qm_sa = "flow"``)."""
        return self.qm_sa == "flow"

    def deletes(self, host: str) -> bool:
        """``host`` may delete the flow's QM SAs with a DELETE (knob ``delete``)."""
        return self.delete in (host, "both")

    @property
    def sa_loss(self) -> bool:
        """The flow's QM SAs may vanish under it: lifetime expiry or a DELETE (L-5)."""
        return self.sa_expiry or self.delete != "none"


@dataclass(frozen=True, slots=True)
class TcpKnobs:
    """TCP knobs (digest §8, timers-failures T1..T16; README "Modelling choices").

    ``data_segments`` the client sends, ``server_segments`` the server answers with: once it has
    received the client's data in order (``server_sends = "after-request"``, a request/response
    exchange) or at any time once ESTABLISHED (``"established"``).  ``window``: segments in flight
    per direction (the receiver holds out-of-order segments within it).  Budgets, each restarted
    when the peer acknowledges new data: ``syn_retries`` (Windows MaxSynRetransmissions, T1/T2:
    2), ``synack_retries`` (TcpMaxConnectResponseRetransmissions: 2), ``data_retries``
    (TcpMaxDataRetransmissions, T10: 5; retransmissions of the oldest unacknowledged segment or
    FIN, then abort with RST).  ``close``: which end closes first (after its data is acknowledged
    and the peer's received); the other closes once the FIN has arrived and its own data is
    acknowledged.  ``timers``: a retransmission timer fires once neither its segment nor an answer
    that would stop it is in flight (``quiet``); with ``backoff`` (default) only the first
    expiry of a segment's timer may come while other packets are on their way (figure 19's SYN
    retransmission crossing MM #4): after a timeout the RTO has doubled (RFC 6298 §5.5), so the
    next expiry waits until nothing either host could take is in flight.
    ``premature_timeouts``: any timer may fire at any time.
    """

    data_segments: int = 2
    server_segments: int = 1
    server_sends: str = "after-request"
    window: int = 2
    syn_retries: int = 2
    synack_retries: int = 2
    data_retries: int = 5
    close: str = "client"
    timers: str = "backoff"
    premature_timeouts: bool = False


@dataclass(frozen=True, slots=True)
class TimeKnobs:
    """Time (issue 14; DESIGN.md "Time"; values from timers-failures §1, §2, §7, §10).

    ``mode = "untimed"`` (default): a timer fires once nothing it waits for is in flight
    (:class:`TcpKnobs` ``timers``).  ``"timed"``: integer clocks, the digitization of the closed
    timed automata the timers are (exact for reachability with integer constants): every running
    timer has a clock counting ``unit_ms`` ticks, a ``tick`` step advances them all when no
    other step is urgent, and a timeout fires when its clock reaches its deadline (rounded up
    to whole units) and must fire before time passes it (:mod:`ndcheck.model.timing`).

    TCP (``tcp_preset``): ``modern`` (Windows 10/11, Server 2022: InitialRto 1 s, T5-T9) or
    ``legacy`` (Vista .. Server 2019: 3 s, T1/T2, T4); ``syn_rto_ms`` overrides the preset's
    initial SYN RTO (0: the preset's), the RTO doubles per retransmission (RFC 6298 §5.5) up to
    ``rto_cap_ms`` (60 s, T9), and the connect gives up ``connect_timeout_ms`` after the first
    SYN (21 s in both presets, T1/T2/T7-T9: the last wait is what is left of it).  The SYN-ACK
    uses the SYN's RTO, doubling, the last wait doubled too (T1).  Data and FIN: ``data_rto_ms``
    (300 ms: MinRto of the Internet template, T4/T5, what a LAN round trip rounds up to),
    doubling, the abort after one more doubled wait.

    IKE (inference, R4/R5, §10: no Microsoft number exists, R14): the initiator retransmits
    its last message ``ike_retransmit_ms`` after sending it, once more after as long again, then
    every ``ike_backoff_ms`` (MM #1 at +1, +2, +5 s); a message unanswered ``ike_give_up_ms``
    (60 s, R6/R11) after its first transmission fails the negotiation (with
    ``ike.retransmissions`` the last wait is what is left of it).  The responder keeps no timer
    (R1, ND-28).

    ``legacy_fallback_ms``: the pre-ND soft-SA fallback of an ``outbound = "legacy"`` host
    (SOFTSA: 3 s without an IKE reply; 500 ms with the Simple Policy Update, G5/G6).

    ``allow_clear_ms``: ndAllowClearTimeoutSeconds (G2: 10 s), the A-14 grace after an inbound
    SA is installed (G3), with ``client.allow_clear_timeout`` / ``server.allow_clear_timeout``.

    ``delay_min_ms`` / ``delay_max_ms``: the one-way network delay (default 0: a LAN, a packet
    in flight is taken, lost or dropped before time passes); a copy may be taken from
    ``delay_min_ms`` (rounded down to units) and must be by ``delay_max_ms`` (rounded up) after
    it was sent (:mod:`ndcheck.model.network`).  They apply from client to server, and from
    server to client unless ``s2c_delay_min_ms`` / ``s2c_delay_max_ms`` say otherwise (-1: the
    same).  SA lifetimes (60 min, 480 min),
    DELETE and the IKE service taking an acquire stay untimed: hours against seconds, and no
    latency is documented (Q1), so an acquire is taken before time passes.
    """

    mode: str = "untimed"
    unit_ms: int = 100
    tcp_preset: str = "modern"
    syn_rto_ms: int = 0
    connect_timeout_ms: int = 21000
    rto_cap_ms: int = 60000
    data_rto_ms: int = 300
    ike_retransmit_ms: int = 1000
    ike_backoff_ms: int = 3000
    ike_give_up_ms: int = 60000
    allow_clear_ms: int = 10000
    legacy_fallback_ms: int = 3000
    delay_min_ms: int = 0
    delay_max_ms: int = 0
    s2c_delay_min_ms: int = -1
    s2c_delay_max_ms: int = -1

    @property
    def timed(self) -> bool:
        return self.mode == "timed"

    def delay(self, src: str) -> tuple[int, int]:
        """The one-way delay bounds (ms) of packets that ``src`` sends."""
        if src == "server":
            lo = self.delay_min_ms if self.s2c_delay_min_ms < 0 else self.s2c_delay_min_ms
            hi = self.delay_max_ms if self.s2c_delay_max_ms < 0 else self.s2c_delay_max_ms
            return lo, hi
        return self.delay_min_ms, self.delay_max_ms

    def units(self, ms: int) -> int:
        """``ms`` in whole units, rounded up (a timer never fires early)."""
        return -(-ms // self.unit_ms)

    @property
    def syn_rto(self) -> int:
        return self.syn_rto_ms or (1000 if self.tcp_preset == "modern" else 3000)


@dataclass(frozen=True, slots=True)
class NetworkKnobs:
    capacity: int = 3
    loss: tuple[str, ...] = ()
    duplicate: int = 0
    reorder: bool = True
    nat: bool = False               # SAs are UDP-ESP (NAT-T), ND-13


@dataclass(frozen=True, slots=True)
class Bounds:
    max_states: int = 2_000_000
    timeout: float = 300.0
    max_memory: int = 0             # MB of resident memory; 0 = no limit (engines/memguard.py)


@dataclass(frozen=True, slots=True)
class Flow:
    """One TCP connection between the hosts (``[[flows]]``, DESIGN.md "Flows"): who opens it.

    Every flow matches the hosts' one rule (their ``[client]``/``[server]`` policies), so flows
    differ by their opener only; they share each host's MMSAD and SAD, and the Quick Mode SAs are
    host-to-host (A-16: the SA negotiated for one flow carries every flow).

    ``guaranteed_encryption`` (``None``: each host's ``guaranteed_encryption`` policy flag) says
    whether the flow's traffic matches a guaranteed-encryption rule (ND-7) at both hosts, so one
    flow can be GE beside a flow that is not (a GE rule for one port, WFP-GE).  Over the one
    host-to-host SA (A-16) the two then want SAs with different SA.GE flags (ND-12)."""

    opener: str = "client"
    guaranteed_encryption: bool | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    """A complete, validated scenario."""

    name: str
    description: str = ""
    figure: str = ""
    client: Policy = Policy()
    server: Policy = Policy()
    peer: str = "capable"
    ike: IkeKnobs = IkeKnobs()
    tcp: TcpKnobs = TcpKnobs()
    network: NetworkKnobs = NetworkKnobs()
    time: TimeKnobs = TimeKnobs()
    bounds: Bounds = Bounds()
    #: the TCP connections; the first is the client's (the one every figure draws)
    flows: tuple[Flow, ...] = (Flow(),)
    expect: dict[str, str] = field(default_factory=dict)
    #: why an expected ``violated`` is expected, by the same key as in ``expect`` (a ``violated``
    #: entry without one has no cause: allowed in a user file, refused in the catalog by a test)
    causes: dict[str, Cause] = field(default_factory=dict)
    source: str = "<built-in>"

    def ge_rule(self, host: str, flow: int = 1) -> bool:
        """``flow``'s traffic matches a guaranteed-encryption rule at ``host`` (ND-7): the flow's
        own ``guaranteed_encryption`` if it sets one, else the host's policy flag."""
        fl = self.flows[flow - 1].guaranteed_encryption if len(self.flows) >= flow else None
        return getattr(self, host).guaranteed_encryption if fl is None else fl

    def mixed_ge(self, host: str) -> bool:
        """``host``'s flows differ in their GE rule (ND-7): its IKE service must build each Quick
        Mode for the GE flag of the flow that triggered it (ND-9), and a trigger is coalesced
        only with a queued or running negotiation for the same flag (A-4)."""
        return len({self.ge_rule(host, i) for i in range(1, len(self.flows) + 1)}) > 1

    @property
    def any_ge(self) -> bool:
        """Some flow matches a guaranteed-encryption rule at some host (ND-7)."""
        return any(self.ge_rule(h, i) for h in ("client", "server") for i in range(1, len(self.flows) + 1))

    def uncaused(self) -> list[str]:
        """The ``[expect]`` keys expected ``violated`` without a cause, in file order."""
        return [k for k, v in self.expect.items() if v == "violated" and k not in self.causes]

    @property
    def peer_nd(self) -> bool:
        """The peer does negotiation discovery: it sends the ND vendor ID in MM #2 (ND-3) and
        reads and answers EXCHANGE_INFO in Quick Mode (ND-21, ND-22).  A ``capable-no-nd`` peer
        (strongSwan, libreswan) does neither."""
        return self.peer in ND_PEERS

    @property
    def commit_in_use(self) -> bool:
        """The responder sets the commit bit in QM #6 and sends CONNECTED after QM #7 (ND-24):
        ``ike.commit_bit`` against a Windows peer (timers-failures C7).  A ``capable-no-nd`` peer
        ignores the commit bit (C9), so the initiator uses its SA right after QM #7 (choice X-1, README)."""
        return self.ike.commit_bit and self.peer_nd

    # -- IKE roles (both hosts run IKE in both roles, DESIGN.md) ------------------------------
    def nd_host(self, host: str) -> bool:
        """``host``'s IKE stack does negotiation discovery (a Windows host): the client always,
        the server iff its peer kind is an ND one (:attr:`peer_nd`)."""
        return host == "client" or self.peer_nd

    def has_ike(self, host: str) -> bool:
        """``host`` runs an IKE stack: the client always; a ``silent`` or ``icmp`` server none."""
        return host == "client" or self.peer not in ("silent", "icmp")

    def initiates(self, host: str) -> bool:
        """``host`` has an IKE initiator: its outbound rule can trigger IKE (ND ``request``: ND-8,
        ND-10, ND-12; transport-mode ``require``: ND-15) and it runs an IKE stack (for the
        server, unless the reduction ``ike.server_initiator = false`` is in force)."""
        return (getattr(self, host).outbound in ("request", "require", "legacy") and self.has_ike(host)
                and (host == "client" or self.ike.server_initiator))

    def answers_icmp(self, host: str) -> bool:
        """``host`` answers MM #1 with ICMP port unreachable (no IKE listener, N2)."""
        return host == "server" and self.peer == "icmp"

    def sets_commit(self, host: str) -> bool:
        """``host``'s responder sets the commit bit in QM #6 and sends CONNECTED after QM #7
        (ND-24; a Windows responder with ``ike.commit_bit``, timers-failures C7)."""
        return self.ike.commit_bit and self.nd_host(host)

    def waits_connected(self, host: str) -> bool:
        """``host``'s initiator waits for CONNECTED before using its outbound SA: the peer's
        responder set the commit bit and ``host`` honours it (a Windows initiator, C10); a
        ``capable-no-nd`` initiator ignores it (C9)."""
        return self.sets_commit(other(host)) and self.nd_host(host)

    def with_bounds(self, max_states: int | None = None, timeout: float | None = None,
                    max_memory: int | None = None) -> Scenario:
        b = self.bounds
        return replace(
            self,
            bounds=Bounds(
                max_states if max_states is not None else b.max_states,
                timeout if timeout is not None else b.timeout,
                max_memory if max_memory is not None else b.max_memory,
            ),
        )

    def with_knobs(self, values: Mapping[str, int]) -> Scenario:
        """This scenario with knobs set by ``section.knob`` paths (``tcp.syn_retries``): how a
        z3 counterexample found with symbolic budgets names the budgets it needs."""
        sc = self
        changes: dict[str, dict[str, int]] = {}
        for name, v in values.items():
            section, _, knob = name.partition(".")
            changes.setdefault(section, {})[knob] = v
        for section, kv in changes.items():
            sc = replace(sc, **{section: replace(getattr(sc, section), **kv)})
        return sc


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------

_SECTIONS: dict[str, type] = {
    "client": Policy, "server": Policy, "ike": IkeKnobs, "tcp": TcpKnobs,
    "network": NetworkKnobs, "time": TimeKnobs, "bounds": Bounds,
}
_ENUMS = {
    ("client", "outbound"): OUTBOUND, ("server", "outbound"): OUTBOUND,
    ("client", "inbound"): INBOUND, ("server", "inbound"): INBOUND,
    ("ike", "responder_install"): INSTALL, ("ike", "ge_marking"): GE_MARKING,
    ("ike", "notify_at_mm1"): NOTIFY_AT_MM1, ("ike", "mm_in_progress"): MM_IN_PROGRESS,
    ("ike", "delete"): DELETE_BY, ("ike", "qm_sa"): QM_SA,
    ("tcp", "close"): CLOSE, ("tcp", "server_sends"): SERVER_SENDS, ("tcp", "timers"): TIMERS,
    ("time", "mode"): TIME_MODES, ("time", "tcp_preset"): TCP_PRESETS,
}
#: Keys that were renamed: the old name gets a message naming the new one.
_RENAMED = {("tcp", "fin"): 'tcp.fin was replaced by tcp.close = "client" | "server" | "none" '
                            '(fin = true is close = "client")'}
_RANGES = {
    ("ike", "retransmissions"): (0, 8),
    ("tcp", "data_segments"): (0, 8),
    ("tcp", "server_segments"): (0, 8),
    ("tcp", "window"): (1, 8),
    ("tcp", "syn_retries"): (0, 8),
    ("tcp", "data_retries"): (0, 8),
    ("tcp", "synack_retries"): (0, 8),
    ("network", "capacity"): (1, 16),
    ("time", "unit_ms"): (10, 10_000),
    ("time", "syn_rto_ms"): (0, 60_000),
    ("time", "connect_timeout_ms"): (1, 600_000),
    ("time", "rto_cap_ms"): (1, 600_000),
    ("time", "data_rto_ms"): (1, 60_000),
    ("time", "ike_retransmit_ms"): (1, 60_000),
    ("time", "ike_backoff_ms"): (1, 60_000),
    ("time", "ike_give_up_ms"): (1, 600_000),
    ("time", "allow_clear_ms"): (1, 600_000),
    ("time", "legacy_fallback_ms"): (1, 600_000),
    ("time", "delay_min_ms"): (0, 60_000),
    ("time", "delay_max_ms"): (0, 60_000),
    ("time", "s2c_delay_min_ms"): (-1, 60_000),
    ("time", "s2c_delay_max_ms"): (-1, 60_000),

    ("network", "duplicate"): (0, 8),
    ("bounds", "max_states"): (1, 1_000_000_000),
    ("bounds", "timeout"): (0.001, 86_400),
    ("bounds", "max_memory"): (0, 1_048_576),
}
_TOP = ("name", "description", "figure", "peer", "expect", "flows", *_SECTIONS)
FLOW_OPENERS = ("client", "server")
MAX_FLOWS = 4


def _flows(source: str, raw: Any) -> tuple[Flow, ...]:
    """``[[flows]]``: a list of tables ``{ opener = "client" | "server" }``; the first flow is the
    client's connection (the figures' one), so the list starts with ``opener = "client"``."""
    if not isinstance(raw, list) or not raw or not all(isinstance(x, dict) for x in raw):
        raise ScenarioError(f"{source}: flows: expected an array of tables ([[flows]] with "
                            f"opener = \"client\" | \"server\"), got {raw!r}")
    if len(raw) > MAX_FLOWS:
        raise ScenarioError(f"{source}: flows: {len(raw)} flows; at most {MAX_FLOWS}")
    out = []
    for i, item in enumerate(raw, 1):
        item = dict(item)
        ge = item.pop("guaranteed_encryption", None)
        if ge is not None and not isinstance(ge, bool):
            raise ScenarioError(f"{source}: flows[{i}].guaranteed_encryption: expected a boolean "
                                f"(true/false; leave it out for the hosts' policy flag), got {ge!r}")
        try:
            fl = _section(f"flows[{i}]", item, Flow)
        except ScenarioError as e:
            raise ScenarioError(f"{source}: {e}") from None
        fl = replace(fl, guaranteed_encryption=ge)
        if fl.opener not in FLOW_OPENERS:
            raise ScenarioError(f"{source}: flows[{i}].opener: unknown value {fl.opener!r}; allowed: "
                                f"{', '.join(FLOW_OPENERS)}{did_you_mean(fl.opener, FLOW_OPENERS)}")
        out.append(fl)
    if out[0].opener != "client":
        raise ScenarioError(f"{source}: flows[1].opener = {out[0].opener!r}: the first flow is the "
                            f"client's connection (opener = \"client\"); list server-opened flows after it")
    return tuple(out)



def _type_name(t: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(t, str(t))


def _check_value(where: str, key: str, value: Any, default: Any) -> Any:
    want = type(default)
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ScenarioError(f"{where}.{key}: expected a list of strings from {list(LOSS)}, got {value!r}")
        for v in value:
            if v not in LOSS:
                raise ScenarioError(f"{where}.{key}: unknown value {v!r}; allowed: {', '.join(LOSS)}"
                                    f"{did_you_mean(v, LOSS)}")
        return tuple(sorted(set(value)))
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if want is bool and not isinstance(value, bool):
        raise ScenarioError(f"{where}.{key}: expected {_type_name(bool)} (true/false), got {value!r}")
    if want is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ScenarioError(f"{where}.{key}: expected {_type_name(int)}, got {value!r}")
    if want is float and not isinstance(value, float):
        raise ScenarioError(f"{where}.{key}: expected {_type_name(float)}, got {value!r}")
    if want is str and not isinstance(value, str):
        raise ScenarioError(f"{where}.{key}: expected {_type_name(str)}, got {value!r}")
    allowed = _ENUMS.get((where, key))
    if allowed and value not in allowed:
        raise ScenarioError(f"{where}.{key}: unknown value {value!r}; allowed: {', '.join(allowed)}"
                            f"{did_you_mean(value, allowed)}")
    rng = _RANGES.get((where, key))
    if rng and not (rng[0] <= value <= rng[1]):
        raise ScenarioError(f"{where}.{key}: {value!r} is out of range; allowed {rng[0]}..{rng[1]}")
    return value


def _section(where: str, raw: Any, cls: type) -> Any:
    if not isinstance(raw, dict):
        raise ScenarioError(f"[{where}]: expected a table, got {raw!r}")
    defaults = cls()
    names = [f.name for f in fields(cls)]
    kwargs = {}
    for key, value in raw.items():
        if (where, key) in _RENAMED:
            raise ScenarioError(f"[{where}]: unknown key {key!r}: {_RENAMED[where, key]}")
        if key not in names:
            raise ScenarioError(f"[{where}]: unknown key {key!r}; allowed: {', '.join(names)}"
                                f"{did_you_mean(key, names)}")
        kwargs[key] = _check_value(where, key, value, getattr(defaults, key))
    return cls(**kwargs)


def scenario_from_dict(raw: dict[str, Any], source: str = "<dict>") -> Scenario:
    """Validate a parsed TOML document and build a :class:`Scenario`."""
    if not isinstance(raw, dict) or not raw:
        raise ScenarioError(f"{source}: empty scenario; it needs at least name = \"...\"")
    for key in raw:
        if key not in _TOP:
            raise ScenarioError(f"{source}: unknown key {key!r}; allowed: {', '.join(_TOP)}"
                                f"{did_you_mean(key, _TOP)}")
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        raise ScenarioError(f"{source}: name: expected a string such as \"my-scenario\", got {name!r}")
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError(f"{source}: missing or empty 'name' (a string such as \"my-scenario\")")
    for key in ("description", "figure"):
        if key in raw and not isinstance(raw[key], str):
            raise ScenarioError(f"{source}: {key}: expected a string, got {raw[key]!r}")
    peer = raw.get("peer", "capable")
    if peer not in PEER_KINDS:
        raise ScenarioError(f"{source}: peer: unknown value {peer!r}; allowed: {', '.join(PEER_KINDS)}"
                            f"{did_you_mean(str(peer), PEER_KINDS)}")
    try:
        parts = {k: _section(k, raw[k], cls) for k, cls in _SECTIONS.items() if k in raw}
    except ScenarioError as e:
        raise ScenarioError(f"{source}: {e}") from None  # name the file, as every other message does
    expect = raw.get("expect", {})
    if not isinstance(expect, dict):
        raise ScenarioError(f"{source}: [expect]: expected a table of PROPERTY = \"holds\"|\"violated\"|\"vacuous\"")
    verdicts: dict[str, str] = {}
    causes: dict[str, Cause] = {}
    for pid, value in expect.items():
        verdicts[pid], cause = _expectation(source, pid, value)
        if cause is not None:
            causes[pid] = cause
    if "flows" in raw:
        parts["flows"] = _flows(source, raw["flows"])
    sc = Scenario(
        name=name, description=raw.get("description", ""), figure=raw.get("figure", ""),
        peer=peer, expect=verdicts, causes=causes, source=source, **parts,
    )
    _check_consistency(sc, source)
    return sc


def _expectation(source: str, pid: str, value: Any) -> tuple[str, Cause | None]:
    """One ``[expect]`` entry: ``PROPERTY = "verdict"`` or ``PROPERTY = { verdict = "violated",
    cause = "spec", rules = ["ND-8"], note = "..." }`` (cause, rules and note only with
    ``violated``; ``spec`` needs rules and a note, ``policy`` a note)."""
    where = f"{source}: expect.{pid}"
    if isinstance(value, str):
        if value not in VERDICTS:
            raise ScenarioError(f"{where}: unknown verdict {value!r}; allowed: {', '.join(VERDICTS)}"
                                f"{did_you_mean(value, VERDICTS)}")
        return value, None
    if not isinstance(value, dict):
        raise ScenarioError(f"{where}: expected a verdict ({', '.join(VERDICTS)}) or a table "
                            f"{{ verdict = \"violated\", cause = \"spec\"|\"policy\", rules = [...], "
                            f"note = \"...\" }}, got {value!r}")
    for key in value:
        if key not in _EXPECT_KEYS:
            raise ScenarioError(f"{where}: unknown key {key!r}; allowed: {', '.join(_EXPECT_KEYS)}"
                                f"{did_you_mean(str(key), _EXPECT_KEYS)}")
    if "verdict" not in value:
        raise ScenarioError(f"{where}: missing verdict; write {pid} = {{ verdict = \"violated\", "
                            f"cause = ..., note = ... }}")
    verdict = value["verdict"]
    if verdict not in VERDICTS:
        raise ScenarioError(f"{where}.verdict: unknown verdict {verdict!r}; allowed: "
                            f"{', '.join(VERDICTS)}{did_you_mean(str(verdict), VERDICTS)}")
    given = [k for k in ("cause", "rules", "note") if k in value]
    if verdict != "violated":
        if given:
            raise ScenarioError(f"{where}: {' and '.join(given)} only {'goes' if len(given) == 1 else 'go'} "
                                f"with verdict = \"violated\" "
                                f"(a cause says why a property is violated); got verdict = {verdict!r}")
        return verdict, None
    if "cause" not in value:
        if given:
            raise ScenarioError(f"{where}: {' and '.join(given)} {'needs' if len(given) == 1 else 'need'} "
                                f"cause = \"spec\" (a finding about "
                                f"MS-IKEE) or \"policy\" (the configuration makes it so)")
        return verdict, None
    kind = value["cause"]
    if kind not in CAUSES:
        raise ScenarioError(f"{where}.cause: unknown cause {kind!r}; allowed: spec (a finding about "
                            f"MS-IKEE, with rules and note), policy (the configuration makes it so, "
                            f"with note){did_you_mean(str(kind), CAUSES)}")
    rules = _cause_rules(where, value.get("rules", []))
    if kind == "spec" and not any(r in RULE_IDS for r in rules):
        raise ScenarioError(f"{where}: cause = \"spec\" needs rules = [\"ND-n\", ...] naming the "
                            f"MS-IKEE rules it rests on (ND-1..ND-30; A-1..A-23 may be added)")
    note = value.get("note")
    if note is None:
        what = "what MS-IKEE allows" if kind == "spec" else "how the configuration makes it so"
        raise ScenarioError(f"{where}: cause = \"{kind}\" needs note = \"...\" (one sentence: {what})")
    if not isinstance(note, str) or not note.strip() or "\n" in note:
        raise ScenarioError(f"{where}.note: expected one line of text (one sentence), got {note!r}")
    return verdict, Cause(kind, note.strip(), rules)


def _cause_rules(where: str, rules: Any) -> tuple[str, ...]:
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        raise ScenarioError(f"{where}.rules: expected a list of rule ids such as [\"ND-8\", \"ND-12\"], "
                            f"got {rules!r}")
    for r in rules:
        if r not in RULE_IDS and r not in AMBIGUITY_IDS:
            raise ScenarioError(f"{where}.rules: unknown rule id {r!r}; allowed: ND-1..ND-30 (rules), "
                                f"A-1..A-23 (ambiguities){did_you_mean(r, RULE_IDS + AMBIGUITY_IDS)}")
    if len(set(rules)) != len(rules):
        raise ScenarioError(f"{where}.rules: rule ids repeat: {rules!r}")
    return tuple(rules)


#: What ``ike.qm_sa = "flow"`` is built for (README "Per-flow Quick Mode SAs"): the knobs it
#: refuses, each with what is allowed.
def _per_flow_cuts(sc: Scenario) -> list[tuple[str, str]]:
    ike = sc.ike
    return [(what, allowed) for what, on, allowed in (
        ("time.mode = \"timed\"", sc.time.timed, "untimed"),
        ("ike.sa_expiry = true", ike.sa_expiry, "sa_expiry = false"),
        ("ike.delete = " + repr(ike.delete), ike.delete != "none", "delete = \"none\""),
        ("ike.mm_expiry = true", ike.mm_expiry, "mm_expiry = false"),
        (f"peer = {sc.peer!r}", sc.peer == "qm-refused", "any peer but qm-refused"),
        ("outbound = \"legacy\"", "legacy" in (sc.client.outbound, sc.server.outbound),
         "outbound = \"request\", \"require\" or \"none\""),
        ("allow_clear_timeout", bool(sc.client.allow_clear_timeout or sc.server.allow_clear_timeout),
         "allow_clear_timeout = 0"),
    ) if on]


def _check_per_flow(sc: Scenario, source: str) -> None:
    """``ike.qm_sa = "flow"`` (A-16): per-flow Quick Mode SAs are built without SA expiry, DELETE,
    MM expiry, the qm-refused peer, the legacy policy, A-14's grace timer and time."""
    if not sc.ike.per_flow:
        return
    cuts = _per_flow_cuts(sc)
    if cuts:
        what, allowed = cuts[0]
        raise ScenarioError(f"{source}: ike.qm_sa = \"flow\" cannot be combined with {what} "
                            f"(per-flow Quick Mode SAs are built without it); allowed: {allowed}, "
                            f"or ike.qm_sa = \"host\"")


def _check_consistency(sc: Scenario, source: str) -> None:
    if sc.network.capacity < 1:
        raise ScenarioError(f"{source}: network.capacity must be at least 1")
    if len(sc.flows) > 1 and sc.time.timed:
        raise ScenarioError(f"{source}: {len(sc.flows)} flows with time.mode = \"timed\": timed "
                            f"scenarios have one flow (remove [[flows]] or use \"untimed\")")
    if len(sc.flows) > 1 and not sc.network.reorder:
        raise ScenarioError(f"{source}: {len(sc.flows)} flows need multiset channels "
                            f"(network.reorder = true): a FIFO slot holds one flow's segment codes")
    tm = sc.time
    for src, prefix in (("client", ""), ("server", "s2c_")):
        lo, hi = tm.delay(src)
        if lo > hi:
            raise ScenarioError(f"{source}: time.{prefix}delay_min_ms ({lo}) exceeds "
                                f"time.{prefix}delay_max_ms ({hi})")
    if tm.timed and not sc.network.reorder and max(tm.delay("client")[1], tm.delay("server")[1]):
        raise ScenarioError(f"{source}: a network delay (time.delay_max_ms = {tm.delay_max_ms}) "
                            f"needs multiset channels (network.reorder = true)")
    if tm.timed and sc.tcp.premature_timeouts:
        raise ScenarioError(f"{source}: tcp.premature_timeouts is an untimed knob; with "
                            f"time.mode = \"timed\" a timer fires at its deadline")
    if sc.ike.peer_drops_ipsec and not sc.ike.sa_expiry:
        raise ScenarioError(f"{source}: ike.peer_drops_ipsec needs ike.sa_expiry = true "
                            "(the peer can only stop negotiating after its SAs expired)")
    if sc.ike.peer_drops_ipsec and sc.ike.delete != "none":
        raise ScenarioError(f"{source}: ike.peer_drops_ipsec cannot be combined with ike.delete "
                            f"= {sc.ike.delete!r} (the peer stops negotiating after SA expiry only)")
    # A peer without an IKE stack (silent, ICMP) cannot enforce a require-inbound rule: it could
    # never accept the connection (L-2, ND-26); no-credential peers may (H-1's scenario).
    if sc.peer in ("silent", "icmp") and sc.server.inbound in ("secure", "require"):
        raise ScenarioError(
            f"{source}: peer {sc.peer!r} cannot run IKE, so server.inbound = "
            f"{sc.server.inbound!r} could never accept the connection; use 'none' or 'boundary'"
        )
    # WFP-GE: REQUIRE_IPSEC_ENCRYPTION rides on the guaranteed-encryption rule's traffic and is
    # "only usable together with a transport-mode option": without IPsec both ways it would
    # block the flow outright (nothing to encrypt with, or ESP it cannot decapsulate).
    # A flow's own GE rule (ND-7) beside the hosts': the ALE layer (WFP-GE) is modelled for a
    # host whose every flow is GE, not per flow.
    for i, fl in enumerate(sc.flows, 1):
        for h in ("client", "server"):
            if fl.guaranteed_encryption is not None and getattr(sc, h).ale_require_encryption:
                raise ScenarioError(f"{source}: flows[{i}].guaranteed_encryption with "
                                    f"{h}.ale_require_encryption = true: the ALE layer applies to "
                                    f"every flow of the host; leave the flow's key out (or the ALE knob)")
    # Flows that differ in GE (ND-7) renegotiate Quick Mode with the same flags again and again
    # over one MM SA (ND-12, A-16); the model has no QM message IDs, so a copy of a QM #5 must
    # not be possible where a new one is (the responder takes every QM #5 in QM-DONE as new).
    _check_per_flow(sc, source)
    if any(sc.mixed_ge(h) for h in ("client", "server")) and not sc.ike.per_flow:
        copies = [k for k, on in (("network.loss containing \"ike\"", "ike" in sc.network.loss),
                                  ("network.duplicate > 0", sc.network.duplicate > 0),
                                  ("tcp.premature_timeouts = true", sc.tcp.premature_timeouts),
                                  ("ike.commit_bit = false", not sc.ike.commit_bit)) if on]
        if copies:
            raise ScenarioError(f"{source}: flows that differ in guaranteed_encryption cannot be "
                                f"combined with {', '.join(copies)}: a copy of QM #5 would look like "
                                f"a new Quick Mode (the model has no QM message IDs)")
    for h in ("client", "server"):
        p = getattr(sc, h)
        if p.ale_require_encryption and not p.guaranteed_encryption:
            raise ScenarioError(f"{source}: {h}.ale_require_encryption needs {h}.guaranteed_encryption "
                                f"= true (the ALE filter requires encryption for the GE rule's traffic)")
        if p.ale_require_encryption and "none" in (p.outbound, p.inbound):
            raise ScenarioError(f"{source}: {h}.ale_require_encryption needs an IPsec rule both ways "
                                f"({h}.outbound = {p.outbound!r}, {h}.inbound = {p.inbound!r}); "
                                f"use 'request' or 'require' and 'boundary', 'secure' or 'require'")
    # A peer without negotiation discovery (strongSwan, libreswan) has no ND rule: its policy is
    # plain RFC 4301 (ND-15), PROTECT (require) or BYPASS (none).
    if sc.peer not in ND_PEERS and ("request" in (sc.server.outbound,)
                                    or sc.server.inbound in ("boundary", "secure")):
        raise ScenarioError(
            f"{source}: peer {sc.peer!r} does no negotiation discovery, so the server has no ND "
            f"rule (server.outbound = {sc.server.outbound!r}, server.inbound = "
            f"{sc.server.inbound!r}); use 'require' or 'none'"
        )


def load_scenario_text(text: str, source: str) -> Scenario:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{source}: not valid TOML: {e}") from None
    return scenario_from_dict(raw, source)


def load_scenario_file(path: str | Path) -> Scenario:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise ScenarioError(f"{p}: cannot read scenario file: {e.strerror}") from None
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark (Windows editors) is not an error
    except UnicodeDecodeError:
        raise ScenarioError(f"{p}: not a text file (invalid UTF-8); expected a TOML scenario") from None
    return load_scenario_text(text, str(p))


def _load_catalog() -> dict[str, Scenario]:
    out: dict[str, Scenario] = {}
    folder = resources.files("ndcheck.model") / "catalog"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            sc = load_scenario_text(entry.read_text(encoding="utf-8"), f"catalog/{entry.name}")
            if sc.name in out:
                raise ScenarioError(f"catalog/{entry.name}: duplicate scenario name {sc.name!r}")
            out[sc.name] = sc
    return out


CATALOG: dict[str, Scenario] = _load_catalog()


def get_scenario(name: str) -> Scenario:
    """A built-in scenario by name, or :class:`ScenarioError` listing the catalog."""
    try:
        return CATALOG[name]
    except KeyError:
        raise ScenarioError(
            f"unknown scenario {name!r}; available: {', '.join(sorted(CATALOG))}"
            f"{did_you_mean(name, CATALOG)}"
        ) from None
