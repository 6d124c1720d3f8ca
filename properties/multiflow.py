"""Across flows (``[[flows]]``): one Main Mode per host pair, one Quick Mode SA for every flow.

Each host keeps one MMSAD and one SAD for all its flows (DESIGN.md "Flows"; A-16: the Quick Mode
SAs are host-to-host).  ND-1 starts Main Mode only when the host has no MM SA with the peer, and
ND-11 makes that a precondition of every trigger: a flow that triggers IKE over an existing MM
SA needs Quick Mode only.  With several flows, the triggers of later flows are what puts this to
the test (F-1).  W-14 shows the sharing: one negotiation secures every flow at both ends.

These properties speak for all flows at once (they are symmetric in them); they apply to
scenarios with more than one flow.
"""

from __future__ import annotations

from ..model.ir import FALSE, Command, F, System, and_, eq, not_, or_
from ..model.messages import HOSTS, in_flow
from .base import Concern
from .predicates import after, flag, has_event, initiator, scenario, sends_message, step_host

multiflow = Concern("flows")


def several_flows(s: System) -> bool:
    return len(s.flows) > 1


def _starts_main_mode(s: System, c: Command) -> bool:
    h = step_host(c)
    return h is not None and initiator(h) in s.machines and sends_message(c, h, "MM1") \
        and not has_event(c, initiator(h), "retransmit")


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
    return or_(*[and_(flag(h, "mm_sa"), or_(*[flag(h, q) for q in ("acq_pending", "acq_pending_ge")
                                              if f"{h}.{q}" in s.index]))
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


def _uses_sa(h: str, i: int):
    """Flow ``i`` at ``h`` is secured and the host's outbound SA is one it can use (ND-14)."""
    return and_(eq(_flow_flag(h, "secure", i), 1), eq(F(f"{h}.sa_out"), 1),
                eq(F(f"{h}.sa_ge"), _flow_flag(h, "flow_ge", i)))


def _takes_away_sa(s: System, c: Command):
    """``c`` leaves a flow that was using its host's outbound SA with one of the other GE flag."""
    h = step_host(c)
    if h is None or not any(n == f"{h}.sa_ge" for n, _ in c.updates):
        return FALSE
    n = len(s.flows)
    return or_(*[and_(_uses_sa(h, i), after(c, not_(eq(F(f"{h}.sa_ge"), _flow_flag(h, "flow_ge", i)))))
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
    actions=lambda s, c: step_host(c) is not None and any(n == f"{step_host(c)}.sa_ge" for n, _ in c.updates),
    pre=_takes_away_sa,
    trigger=_ge_differs,
    antecedent="a secured flow beside a flow whose GE flag differs at the same host",
    applies=mixed_ge,
    note="Expected violated in ge-beside-clear-flow: over one host-to-host SA (A-16) the GE and "
         "the non-GE flow each find the other's SA wrong and renegotiate in turn (ND-12); the new "
         "outbound SA replaces the older (D4), so the secured flow is held (ND-10) until its own "
         "renegotiation.",
)

PROPERTIES = (F1, F2, W14)
