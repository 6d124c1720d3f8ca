"""Across flows (``[[flows]]``): one Main Mode per host pair, one Quick Mode SA for every flow.

Each host keeps one MMSAD and one SAD for all its flows (DESIGN.md "Flows"; A-16: the Quick Mode
SAs are host-to-host).  ND-1 starts Main Mode only when the host has no MM SA with the peer, and
ND-11 makes that a precondition of every trigger: a flow that triggers IKE over an existing MM
SA needs Quick Mode only.  With several flows, the triggers of later flows are what puts this to
the test (F-1).  W-14 shows the sharing: one negotiation secures every flow at both ends.

With per-flow Quick Mode SAs (``ike.qm_sa = "flow"``, A-16) each flow negotiates its own Quick
Mode and SA pair over the host's one Main Mode: F-3 claims that an SA then upgrades only its own
flow, W-15 that every flow completes its own Quick Mode; F-1 and F-2 read the flow's own SAD.

These properties speak for all flows at once (they are symmetric in them); they apply to
scenarios with more than one flow.
"""

from __future__ import annotations

from ..model.ir import FALSE, Command, F, System, and_, eq, not_, or_
from ..model.messages import HOSTS, in_flow, other
from .base import Concern
from .predicates import (
    after,
    flag,
    has_event,
    in_state,
    initiator,
    mm_initiator,
    per_flow,
    responder,
    sad,
    scenario,
    sends_message,
    step_host,
)

multiflow = Concern("flows")


def several_flows(s: System) -> bool:
    return len(s.flows) > 1


def _starts_main_mode(s: System, c: Command) -> bool:
    h = step_host(c)
    return h is not None and initiator(h) in s.machines and sends_message(c, h, "MM1") \
        and not has_event(c, mm_initiator(s, h), "retransmit")


F1 = multiflow.never_action(
    "F-1", "one_main_mode_per_peer",
    claim="A host never starts a Main Mode while it holds an MM SA with the peer: a flow that "
          "triggers IKE over an existing MM SA needs Quick Mode only.",
    rules=("ND-1", "ND-11"),
    actions=_starts_main_mode,
    pre=lambda s, c: flag(step_host(c), "mm_sa"),
    trigger=lambda s: _acquire_over_mm(s),
    antecedent="an acquire is queued to a host's IKE service while the host holds an MM SA",
    applies=several_flows,
)


def _acquire_over_mm(s: System):
    # a host whose flows differ in GE queues a GE flow's acquire in acq_pending_ge (ND-9)
    # with per-flow Quick Mode SAs each flow has its queue (acq_pending#2 ...)
    queues = ("acq_pending", "acq_pending_ge", *(in_flow("acq_pending", f.number) for f in s.flows[1:]))
    return or_(*[and_(flag(h, "mm_sa"), or_(*[flag(h, q) for q in queues if f"{h}.{q}" in s.index]))
                 for h in HOSTS if initiator(h) in s.machines])


def _every_flow_secure(s: System):
    return and_(*[eq(F(in_flow(f"{h}.secure", f.number)), 1) for f in s.flows for h in HOSTS])


W14 = multiflow.sometimes(
    "W-14", "one_negotiation_secures_every_flow",
    claim="Some run secures every flow at both ends over the hosts' shared SAs (A-16).",
    rules=("ND-11", "ND-14", "ND-19", "A-16"),
    state=_every_flow_secure,
    applies=several_flows,
)

def mixed_ge(s: System) -> bool:
    """Several flows, and a host's flows differ in their GE rule (``[[flows]]
    guaranteed_encryption``, ND-7)."""
    sc = scenario(s)
    return several_flows(s) and any(sc.mixed_ge(h) for h in HOSTS)


def _flow_flag(h: str, name: str, i: int):
    return F(in_flow(f"{h}.{name}", i))


def _uses_sa(s: System, h: str, i: int):
    """Flow ``i`` at ``h`` is secured and the outbound SA it reads (the host's, or with per-flow
    Quick Mode SAs its own) is one it can use (ND-14)."""
    return and_(eq(_flow_flag(h, "secure", i), 1), eq(F(sad(s, h, "sa_out", i)), 1),
                eq(F(sad(s, h, "sa_ge", i)), _flow_flag(h, "flow_ge", i)))


def _sets_sa_ge(s: System, c: Command) -> bool:
    """``c`` writes an SA.GE of its host's outbound SAs (the host's, or a flow's own)."""
    h = step_host(c)
    return h is not None and any(n in {sad(s, h, "sa_ge", f.number) for f in s.flows} for n, _ in c.updates)


def _takes_away_sa(s: System, c: Command):
    """``c`` leaves a flow that was using its outbound SA with one of the other GE flag."""
    h = step_host(c)
    if not _sets_sa_ge(s, c):
        return FALSE
    n = len(s.flows)
    return or_(*[and_(_uses_sa(s, h, i), after(c, not_(eq(F(sad(s, h, "sa_ge", i)), _flow_flag(h, "flow_ge", i)))))
                 for i in range(1, n + 1)])


def _ge_differs(s: System):
    n = len(s.flows)
    return or_(*[and_(eq(_flow_flag(h, "secure", i), 1),
                      not_(eq(_flow_flag(h, "flow_ge", i), _flow_flag(h, "flow_ge", j))))
                 for h in HOSTS for i in range(1, n + 1) for j in range(1, n + 1) if i != j])


F2 = multiflow.never_action(
    "F-2", "secured_flow_keeps_its_sa",
    claim="A host never replaces the outbound SA a secured flow is using with one of the other GE "
          "flag (which the flow cannot use, ND-12).",
    rules=("ND-10", "ND-12", "ND-14", "A-16"),
    actions=_sets_sa_ge,
    pre=_takes_away_sa,
    trigger=_ge_differs,
    antecedent="a secured flow beside a flow whose GE flag differs at the same host",
    applies=mixed_ge,
    note="Expected violated in ge-beside-clear-flow: over one host-to-host SA (A-16) the GE and "
         "the non-GE flow each find the other's SA wrong and renegotiate in turn (ND-12); the new "
         "outbound SA replaces the older (D4), so the secured flow is held (ND-10) until its own "
         "renegotiation.  Holds with per-flow Quick Mode SAs (ike.qm_sa = \"flow\"): each flow renegotiates "
         "only its own SA (ge-beside-clear-flow-per-flow-sa).",
)


def _usable(s: System, h: str, i: int):
    """Flow ``i``'s outbound decision at ``h`` finds an SA it can use (ND-14; any SA for a
    transport-mode rule, ND-15)."""
    sa = eq(F(sad(s, h, "sa_out", i)), 1)
    if getattr(scenario(s), h).outbound != "request":
        return sa
    return and_(sa, eq(F(sad(s, h, "sa_ge", i)), _flow_flag(h, "flow_ge", i)))


def _clear_waiting(s: System, h: str, i: int):
    """Flow ``i`` at ``h`` is under way in the clear (it has sent a packet clear, Acquire = 1,
    Secure = 0) and has no SA it can use."""
    return and_(eq(_flow_flag(h, "acquire", i), 1), eq(_flow_flag(h, "secure", i), 0),
                not_(_usable(s, h, i)))


def _pairs(s: System):
    n = len(s.flows)
    return [(i, j) for i in range(1, n + 1) for j in range(i + 1, n + 1)]


def _two_clear(s: System):
    return or_(*[and_(_clear_waiting(s, h, i), _clear_waiting(s, h, j)) for h in HOSTS for i, j in _pairs(s)])


def _upgrades_two(s: System, c: Command):
    h = step_host(c)
    if h is None:
        return FALSE
    return or_(*[and_(_clear_waiting(s, h, i), _clear_waiting(s, h, j),
                      after(c, and_(_usable(s, h, i), _usable(s, h, j)))) for i, j in _pairs(s)])


F3 = multiflow.never_action(
    "F-3", "sa_upgrades_its_own_flow",
    claim="An SA a host installs upgrades only the flow it was negotiated for: no step gives two "
          "flows under way in the clear an outbound SA they can use at once.",
    rules=("ND-8", "ND-11", "ND-14", "A-16"),
    actions=lambda s, c: step_host(c) is not None,
    pre=_upgrades_two,
    trigger=_two_clear,
    antecedent="two flows of a host under way in the clear without an SA they can use",
    applies=lambda s: several_flows(s) and per_flow(s),
    note="Per-flow Quick Mode SAs (ike.qm_sa = \"flow\", A-16): each SA has its flow's "
         "selectors.  Violated by design with host-to-host SAs (two-flows: the Quick Mode a flow "
         "triggers upgrades every clear flow mid-stream, ND-14), so the catalog checks it where "
         "the knob is \"flow\".",
)


def _own_qm_done(s: System):
    """Every flow's Quick Mode completed at both ends: each host that initiates has its flow's
    initiator in QM-DONE and the peer's flow's responder in QM-DONE."""
    parts = []
    for f in s.flows:
        for h in HOSTS:
            i, r = in_flow(initiator(h), f.number), in_flow(responder(other(h)), f.number)
            if i in s.machines and r in s.machines:
                parts.append(and_(in_state(s, i, "established"), in_state(s, r, "established")))
                break
    return and_(*parts) if parts else FALSE


W15 = multiflow.sometimes(
    "W-15", "every_flow_its_own_quick_mode",
    claim="Some run completes a Quick Mode of every flow's own at both ends over the hosts' one "
          "Main Mode (per-flow Quick Mode SAs, A-16).",
    rules=("ND-9", "ND-11", "ND-24", "A-16"),
    state=_own_qm_done,
    applies=lambda s: several_flows(s) and per_flow(s),
)

PROPERTIES = (F1, F2, F3, W14, W15)
