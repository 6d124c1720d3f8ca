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

from ..model.ir import Command, F, System, and_, eq, or_
from ..model.messages import HOSTS, in_flow
from .base import Concern
from .predicates import flag, has_event, initiator, sends_message, step_host

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
    return or_(*[and_(flag(h, "mm_sa"), flag(h, "acq_pending")) for h in HOSTS
                 if initiator(h) in s.machines])


def _every_flow_secure(s: System):
    return and_(*[eq(F(in_flow(f"{h}.secure", f.number)), 1) for f in s.flows for h in HOSTS])


W14 = multiflow.sometimes(
    "W-14", "one_negotiation_secures_every_flow",
    claim="Some run secures every flow at both ends over the hosts' shared SAs (A-16).",
    rules=("ND-11", "ND-14", "ND-19", "A-16"),
    state=_every_flow_secure,
    applies=several_flows,
)

PROPERTIES = (F1, W14)
