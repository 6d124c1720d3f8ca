"""The ND packet rules of MS-IKEE §3.7.4 as decision tables (digest ND-6..ND-20, ND-15).

Each row names its rule id, the conditions under which it applies (named predicates over the
host's SPD constants, SAD and flow fields) and its outcome.  :func:`outbound_branches` and
:func:`inbound_branches` turn the rows that apply to a host's policy into IR branches; every
branch carries its row id (``ND-8/clear+acquire``...) so coverage and traces point back here.
Beside the tables, also as data: what a *new flow* is (:data:`NEW_FLOW`, ND-17) and the GE
marks with where the composition applies them (:data:`MARKS`: ND-7 before or after the outbound
decision, A-7; ND-20 on an accepted packet), read through :func:`new_flow_states` and
:func:`marks`.

The ND tables also hold the rows of a Windows policy layer outside MS-IKEE, the ALE "require
IPsec encryption" filters of a guaranteed-encryption policy (WFP-GE; knob
``ale_require_encryption``, predicate ``ale``): with it a row that would send the flow's packet
in the clear holds it instead (``ND-8/ale-held+acquire`` ...), and a clear packet arriving for
the flow is dropped (``ND-17/ale-drop-new``, ``ND-18/ale-drop``).  :func:`outbound_table` and
:func:`inbound_table` give a host only the rows its policy can take.
"""

from __future__ import annotations

from dataclasses import dataclass

from .ir import FALSE, TRUE, C, Expr, F, and_, eq, ite, not_, or_
from .messages import in_flow
from .scenario import Policy, Scenario


@dataclass(frozen=True, slots=True)
class Row:
    """One decision-table row: ``when`` maps predicate names to the required truth value."""

    id: str
    rule: str
    when: tuple[tuple[str, bool], ...]
    action: str  # outbound: clear / esp / held;  inbound: accept / drop
    acquire: bool = False        # trigger IKE (ND-8 with Acquire := 1)
    trigger: bool = False        # trigger IKE without touching Acquire (ND-10)
    set_secure: bool = False     # Secure := 1 (ND-14, ND-19)
    note: str = ""


def _w(**kw: bool) -> tuple[tuple[str, bool], ...]:
    return tuple(kw.items())


# ---- Outbound (§3.7.4.1), ND rule ----------------------------------------------------------
OUTBOUND_ND: tuple[Row, ...] = (
    Row("ND-8/clear+acquire", "ND-8", _w(sa=False, secure=False, acquire=False, ale=False), "clear",
        acquire=True, note="no SA, Secure=0, first packet: send clear, trigger IKE, Acquire:=1"),
    Row("ND-8/clear", "ND-8", _w(sa=False, secure=False, acquire=True, ale=False), "clear",
        note="no SA, Secure=0, Acquire=1: send clear, no new IKE"),
    Row("ND-10/held", "ND-10", _w(sa=False, secure=True), "held", trigger=True,
        note="no SA, Secure=1: hold/drop the packet, trigger IKE"),
    Row("ND-12/clear+acquire", "ND-12", _w(sa=True, ge_match=False, secure=False, acquire=False, ale=False),
        "clear", acquire=True, note="GE mismatch treated as no SA (ND-8)"),
    Row("ND-12/clear", "ND-12", _w(sa=True, ge_match=False, secure=False, acquire=True, ale=False), "clear",
        note="GE mismatch, Acquire gating assumed (A-8)"),
    Row("ND-12/held", "ND-12", _w(sa=True, ge_match=False, secure=True), "held", trigger=True,
        note="GE mismatch with Secure=1 (ND-10)"),
    Row("ND-13/clear", "ND-13", _w(sa=True, ge_match=True, nat_boundary=True, ale=False), "clear",
        note="UDP-ESP SA toward a boundary peer: clear, Secure untouched (A-9)"),
    Row("ND-14/esp", "ND-14", _w(sa=True, ge_match=True, nat_boundary=False), "esp",
        set_secure=True, note="matching SA: encapsulate, Secure:=1"),
    # The ALE layer of a guaranteed-encryption policy (WFP-GE; knob ale_require_encryption): the
    # ALE_AUTH_CONNECT filter with FWPM_CONTEXT_ALE_SET_CONNECTION_REQUIRE_IPSEC_ENCRYPTION marks
    # the flow's connection as requiring encryption, so each row above that would send a packet
    # of the flow in the clear holds it instead (closing S-7, A-8).  The ND rule's IKE trigger
    # and Acquire:=1 stay as they were (ND-8, ND-12); a held packet is not sent, TCP retransmits
    # it, and it leaves over ESP once an SA exists (ND-14).  Choice X-2 (README): hold, as
    # ND-10 does, rather than refuse the connection.
    Row("ND-8/ale-held+acquire", "ND-8", _w(sa=False, secure=False, acquire=False, ale=True), "held",
        acquire=True, note="ALE requires encryption (WFP-GE): the first packet of the flow is held, "
                           "not sent clear; IKE triggered, Acquire:=1"),
    Row("ND-8/ale-held", "ND-8", _w(sa=False, secure=False, acquire=True, ale=True), "held",
        note="ALE requires encryption (WFP-GE): held while the negotiation runs (or after it failed)"),
    Row("ND-12/ale-held+acquire", "ND-12", _w(sa=True, ge_match=False, secure=False, acquire=False,
                                              ale=True), "held", acquire=True,
        note="ALE requires encryption (WFP-GE): GE mismatch, held instead of sent clear; IKE triggered"),
    Row("ND-12/ale-held", "ND-12", _w(sa=True, ge_match=False, secure=False, acquire=True, ale=True),
        "held", note="ALE requires encryption (WFP-GE): GE mismatch with Acquire=1, held"),
    Row("ND-13/ale-held", "ND-13", _w(sa=True, ge_match=True, nat_boundary=True, ale=True), "held",
        note="ALE requires encryption (WFP-GE): ND-13 would send clear over the UDP-ESP boundary SA; "
             "held, and nothing to negotiate (the flow is blocked)"),
)

# ---- Outbound, non-ND rule (ND-15: RFC 4301 PROTECT / BYPASS) --------------------------------
OUTBOUND_REQUIRE: tuple[Row, ...] = (
    Row("ND-15/protect", "ND-15", _w(sa=True), "esp", note="PROTECT with an SA"),
    Row("ND-15/held", "ND-15", _w(sa=False), "held", trigger=True,
        note="PROTECT without an SA: hold and acquire"),
)
# ---- Outbound, the pre-ND "Negotiate Security" action with fallback to clear (digest §6.4) -----
# Not an ND rule: RFC 4301 processing (ND-15) with the legacy soft SA (SOFTSA, KB234580).
OUTBOUND_LEGACY: tuple[Row, ...] = (
    Row("ND-15/legacy-protect", "ND-15", _w(sa=True), "esp", note="Negotiate Security with an SA"),
    Row("ND-15/legacy-soft-clear", "ND-15", _w(sa=False, soft=True), "clear",
        note="no SA, a soft SA (no IKE reply within 3 s, SOFTSA): clear"),
    Row("ND-15/legacy-held", "ND-15", _w(sa=False, soft=False), "held", trigger=True,
        note="no SA, no soft SA: the packet waits for IKE (held; acquire)"),
)
OUTBOUND_NONE: tuple[Row, ...] = (
    Row("ND-15/bypass-out", "ND-15", (), "clear", note="no IPsec rule: BYPASS"),
)

# ---- Inbound (§3.7.4.2) --------------------------------------------------------------------
INBOUND_ND: tuple[Row, ...] = (
    Row("ND-17/accept-new", "ND-17", _w(esp=False, new=True, accept_clear_new=True, ale=False), "accept",
        note="clear first packet matching an inbound ND boundary rule"),
    Row("ND-17/drop-new", "ND-17", _w(esp=False, new=True, accept_clear_new=False, ale=False), "drop",
        note="clear first packet at an ND_SECURE server (ALE INBOUND_INITIATE_SECURE, A-10)"),
    Row("ND-18/accept", "ND-18", _w(esp=False, new=False, secure=False, ale=False), "accept",
        note="clear packet of an existing flow with Secure=0"),
    Row("ND-18/drop", "ND-18", _w(esp=False, new=False, secure=True, grace=False, ale=False), "drop",
        note="clear packet of a secured flow: silent discard"),
    Row("A-14/accept-grace", "ND-18", _w(esp=False, new=False, secure=True, grace=True, ale=False),
        "accept", note="ndAllowClearTimeoutSeconds variant: clear still accepted during the SA's grace window"),
    Row("ND-19/accept", "ND-19", _w(esp=True, sa_in=True), "accept", set_secure=True,
        note="ESP decapsulated: Secure:=1"),
    Row("ND-19/drop-no-sa", "ND-19", _w(esp=True, sa_in=False), "drop",
        note="ESP without an inbound SA cannot be decapsulated (RFC 4301 §5.2)"),
    # The ALE layer of a guaranteed-encryption policy (WFP-GE; knob ale_require_encryption): the
    # ALE_AUTH_RECV_ACCEPT filter (INBOUND_INITIATE_SECURE with REQUIRE_IPSEC_ENCRYPTION) admits
    # the flow's connection only encrypted, and the connection's clear packets are dropped after
    # it too, whatever Secure and an A-14 grace say.  ESP is accepted as above: every SA of the
    # model is an encryption SA (S-8).
    Row("ND-17/ale-drop-new", "ND-17", _w(esp=False, new=True, ale=True), "drop",
        note="ALE requires encryption (WFP-GE): a clear first packet is refused, boundary or not"),
    Row("ND-18/ale-drop", "ND-18", _w(esp=False, new=False, ale=True), "drop",
        note="ALE requires encryption (WFP-GE): a clear packet of the flow is dropped, Secure or not"),
)
INBOUND_REQUIRE: tuple[Row, ...] = (
    Row("ND-15/drop-clear", "ND-15", _w(esp=False), "drop", note="transport mode: clear dropped"),
    Row("ND-15/accept-esp", "ND-15", _w(esp=True, sa_in=True), "accept", note="ESP with an SA"),
    Row("ND-15/drop-no-sa", "ND-15", _w(esp=True, sa_in=False), "drop", note="ESP without SA"),
)
INBOUND_NONE: tuple[Row, ...] = (
    Row("ND-15/bypass-in", "ND-15", _w(esp=False), "accept", note="no IPsec: clear accepted"),
    Row("ND-15/drop-esp", "ND-15", _w(esp=True), "drop", note="no IPsec: ESP undecipherable"),
)

ALL_ROWS: tuple[Row, ...] = (OUTBOUND_ND + OUTBOUND_REQUIRE + OUTBOUND_NONE + OUTBOUND_LEGACY + INBOUND_ND
                             + INBOUND_REQUIRE + INBOUND_NONE)


def _for_policy(rows: tuple[Row, ...], p: Policy) -> tuple[Row, ...]:
    """The rows a host with policy ``p`` can take: the ALE rows with ``ale_require_encryption``,
    the rows they replace without it (a row that does not test ``ale`` either way)."""
    return tuple(r for r in rows if dict(r.when).get("ale", p.ale_require_encryption)
                 == p.ale_require_encryption)


def outbound_table(p: Policy) -> tuple[Row, ...]:
    """The outbound rows of a host with policy ``p`` (ND-8..ND-15, and the ALE rows of WFP-GE)."""
    return _for_policy({"request": OUTBOUND_ND, "require": OUTBOUND_REQUIRE,
                        "none": OUTBOUND_NONE, "legacy": OUTBOUND_LEGACY}[p.outbound], p)


def inbound_table(p: Policy) -> tuple[Row, ...]:
    """The inbound rows of a host with policy ``p`` (ND-15..ND-19, and the ALE rows of WFP-GE)."""
    return _for_policy({"boundary": INBOUND_ND, "secure": INBOUND_ND, "require": INBOUND_REQUIRE,
                        "none": INBOUND_NONE}[p.inbound], p)


@dataclass(frozen=True, slots=True)
class Branch:
    row: Row
    guard: Expr
    updates: tuple[tuple[str, Expr], ...]


# ---- What a new flow is (ND-17) --------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FlowStart:
    """ND-17's "first packet of a new flow" at ``host``: its ``machine`` is in control state ``state``.

    A host without a row never sees a new flow (the client opens the connection).
    """

    id: str
    rule: str
    end: str        # the flow's end that sees it: "passive" (not the flow's opener)
    machine: str    # machine key suffix: "tcp" -> server.tcp (flow 2: server.tcp#2)
    state: str      # python-statemachine state id
    note: str = ""


NEW_FLOW: tuple[FlowStart, ...] = (
    FlowStart("ND-17/new-flow", "ND-17", "passive", "tcp", "listen",
              note="the passive opener has no flow entry while its TCP is in LISTEN: the arriving "
                   "segment (the SYN) creates it.  LISTEN-AGAIN (the half-open connection dropped "
                   "after its SYN-ACK budget) is no new flow: the entry stays (A-5)"),
)


def new_flow_states(host: str, sc: Scenario, flow: int = 1) -> list[tuple[str, str]]:
    """``(machine key, state id)`` pairs in which a segment of ``flow`` arriving at ``host`` starts
    a new flow (the host is the flow's passive end: it did not open it)."""
    passive = sc.flows[flow - 1].opener != host
    return [(in_flow(f"{host}.{r.machine}", flow), r.state) for r in NEW_FLOW
            if r.end == "passive" and passive]


# ---- GE marks beside the decision (ND-7, ND-20) -----------------------------------------------
# Where the composition applies a mark to a TCP segment's step.
BEFORE_OUTBOUND = "before-outbound"   # before the outbound decision (and the QM #5 it triggers)
AFTER_OUTBOUND = "after-outbound"     # after it (and after the IKE trigger)
ON_ACCEPT = "on-accept"               # after an inbound row accepted the packet
STAGES = (BEFORE_OUTBOUND, AFTER_OUTBOUND, ON_ACCEPT)


@dataclass(frozen=True, slots=True)
class Mark:
    """A flow flag set to 1 at one ``stage`` of a segment's step when ``when`` holds (never cleared, A-5)."""

    id: str
    rule: str
    stage: str   # one of STAGES
    when: tuple[tuple[str, bool], ...]
    flag: str    # the host's flow-table field: flow_ge
    note: str = ""


MARKS: tuple[Mark, ...] = (
    Mark("ND-7/before", "ND-7", BEFORE_OUTBOUND, _w(ge_rule=True, ge_marking_before=True), "flow_ge",
         note="a packet matching a GE rule sets flow.GE before the outbound decision, so the QM #5 "
              "it triggers carries the GE flag (A-7 default, ike.ge_marking = before)"),
    Mark("ND-7/after", "ND-7", AFTER_OUTBOUND, _w(ge_rule=True, ge_marking_before=False), "flow_ge",
         note="ND-7 as placed in the text, after the case analysis: the first QM #5 lacks the GE "
              "flag (A-7, ike.ge_marking = after)"),
    Mark("ND-20/sa-ge", "ND-20", ON_ACCEPT, _w(sa_in=True, sa_in_ge=True), "flow_ge",
         note="an accepted packet of a flow whose inbound SA has SA.GE sets flow.GE"),
)


def _h(host: str, name: str) -> Expr:
    return F(f"{host}.{name}")


def _fl(host: str, name: str, flow: int) -> Expr:
    """A flag of ``flow``'s entry in ``host``'s flow table."""
    return F(in_flow(f"{host}.{name}", flow))


def _sad(host: str, sc: Scenario, name: str, flow: int) -> Expr:
    """``host``'s SAD field ``name`` as ``flow`` sees it: the host's (host-to-host Quick Mode
    SAs, A-16 default) or the flow's own (``ike.qm_sa = "flow"``)."""
    return _fl(host, name, flow) if sc.ike.per_flow else _h(host, name)


def _preds_mark(host: str, sc: Scenario, flow: int = 1) -> dict[str, Expr]:
    return {
        # ND-7: the flow's traffic matches a GE rule (the flow's own key, else the host's flag)
        "ge_rule": C(sc.ge_rule(host, flow)),
        "ge_marking_before": C(sc.ike.ge_marking == "before"),
        "sa_in": eq(_sad(host, sc, "sa_in", flow), 1),
        "sa_in_ge": eq(_sad(host, sc, "sa_in_ge", flow), 1),
    }


def marks(host: str, sc: Scenario, stage: str, flow: int = 1) -> dict[str, Expr]:
    """The updates of the :data:`MARKS` that apply at ``stage`` of a segment's step at ``host``:
    ``flag := flag | when``; a mark whose condition is false for the scenario makes none."""
    if stage not in STAGES:
        raise ValueError(f"unknown mark stage {stage!r}; stages: {', '.join(STAGES)}")
    preds = _preds_mark(host, sc, flow)
    conds: dict[str, list[Expr]] = {}
    for m in MARKS:
        if m.stage == stage:
            g = _row_guard(m, preds)
            if g != FALSE:
                conds.setdefault(in_flow(f"{host}.{m.flag}", flow), []).append(g)
    return {f: ite(or_(eq(F(f), 1), *gs), 1, 0) for f, gs in conds.items()}


def _preds_out(host: str, sc: Scenario, flow: int = 1) -> dict[str, Expr]:
    p: Policy = getattr(sc, host)
    return {
        # WFP-GE: the host's ALE layer requires encryption for the flow (a policy constant)
        "ale": C(p.ale_require_encryption),
        "sa": eq(_sad(host, sc, "sa_out", flow), 1),
        "ge_match": eq(_sad(host, sc, "sa_ge", flow), _fl(host, "flow_ge", flow)),
        "nat_boundary": and_(sc.network.nat, eq(_sad(host, sc, "sa_boundary", flow), 1)),
        "secure": eq(_fl(host, "secure", flow), 1),
        "acquire": eq(_fl(host, "acquire", flow), 1),
        # the legacy soft SA (digest §6.4): only an outbound "legacy" host with an IKE initiator
        # has one (without, its packets stay held, as ND-15 PROTECT holds them without an SA)
        "soft": eq(_h(host, "soft_sa"), 1) if p.outbound == "legacy" and sc.initiates(host) else C(0),
    }


def _preds_in(host: str, sc: Scenario, esp: bool, new_flow: Expr, flow: int = 1) -> dict[str, Expr]:
    p: Policy = getattr(sc, host)
    return {
        "esp": esp,
        "new": new_flow,
        # accept_clear_new = rule.ND and rule.Boundary.
        "accept_clear_new": p.inbound == "boundary",
        "secure": eq(_fl(host, "secure", flow), 1),
        "sa_in": eq(_sad(host, sc, "sa_in", flow), 1),
        # A-14 (policy knob allow_clear_timeout): the inbound SA's clear-acceptance window is open.
        "grace": and_(p.allow_clear_timeout, eq(_h(host, "sa_in"), 1),
                      eq(_h(host, "grace_over"), 0)),
        # WFP-GE: the host's ALE layer requires encryption for the flow (a policy constant)
        "ale": C(p.ale_require_encryption),
    }


def _row_guard(row: Row | Mark, preds: dict[str, Expr]) -> Expr:
    return and_(*[(preds[k] if v else not_(preds[k])) for k, v in row.when])


def _branches(host: str, rows: tuple[Row, ...], preds: dict[str, Expr], flow: int = 1) -> list[Branch]:
    """Each row as a branch: its guard over ``preds`` and its flag updates (Acquire, Secure)."""
    out = []
    for row in rows:
        ups: dict[str, Expr] = {}
        if row.acquire:
            ups[in_flow(f"{host}.acquire", flow)] = TRUE
        if row.set_secure:
            ups[in_flow(f"{host}.secure", flow)] = TRUE
        out.append(Branch(row, _row_guard(row, preds), tuple(ups.items())))
    return out


def outbound_branches(host: str, sc: Scenario, flow: int = 1) -> list[Branch]:
    """Branches of the outbound filter for one TCP segment of ``flow`` sent by ``host``
    (ND-6..ND-15): the host's one rule, the flow's entry in its flow table."""
    return _branches(host, outbound_table(getattr(sc, host)), _preds_out(host, sc, flow), flow)


def inbound_branches(host: str, sc: Scenario, esp: bool, new_flow: Expr, flow: int = 1) -> list[Branch]:
    """Branches of the inbound filter for one TCP segment of ``flow`` arriving at ``host``
    (ND-16..ND-19; ND-20 is a mark, :func:`marks` at stage ``ON_ACCEPT``)."""
    return _branches(host, inbound_table(getattr(sc, host)),
                     _preds_in(host, sc, esp, new_flow, flow), flow)
