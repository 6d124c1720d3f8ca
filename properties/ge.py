"""Guaranteed encryption: a GE flow uses only GE (encryption) SAs and is never sent clear (S-6, S-7).

ND-7 marks the flow GE, ND-9/ND-21 carry the GE bit into the responder's SA, ND-12 refuses a
non-GE SA for a GE flow.  But ND-12 and ND-8 fall back to *cleartext* while Secure = 0, so the
first packets of a GE flow leave in the clear (digest S-7).  ``guaranteed-encryption`` shows it
on the very first SYN, ``ge-server-only`` on the server's replies.  Windows closes this outside
MS-IKEE, at the ALE layer (WFP-GE), which the model has as the policy knob
``ale_require_encryption`` (rows ``ND-8/ale-held...`` of ``nd_rules``): in
``guaranteed-encryption-ale`` S-7 holds.  With ND-7 applied after the
outbound decision (A-7, ``ge-marking-after``) a GE flow's first packet can even use a non-GE SA
(S-6).  S-8 (GE SAs are encryption SAs) is not expressible: every SA of the model is an
ESP encryption SA, there is no transform choice.
"""

from __future__ import annotations

from ..model.ir import System, and_, or_
from ..model.messages import HOSTS
from .base import Concern
from .predicates import after, any_ge, flag, peer_capable, scenario, step_host, step_sends_tcp

ge = Concern("ge")

S6 = ge.never_action(
    "S-6", "ge_flow_never_uses_non_ge_sa",
    claim="A packet of a GE flow is never encapsulated with an SA whose SA.GE is 0.",
    rules=("ND-7", "ND-12", "ND-14"),
    actions=lambda s, c: step_sends_tcp(c, "esp"),
    pre=lambda s, c: after(c, and_(flag(step_host(c), "flow_ge"), flag(step_host(c), "sa_ge", 0))),
    trigger=lambda s: or_(*[and_(flag(h, "flow_ge"), flag(h, "sa_out")) for h in HOSTS]),
    antecedent="a host's flow is GE and the host has an outbound SA to encapsulate it with",
    applies=any_ge,
    note="Expected violated in ge-marking-after (A-7: ND-7 applied after the outbound decision, "
         "so the first reply of the server's GE flow is encapsulated with a non-GE SA).",
)

S7 = ge.never_action(
    "S-7", "ge_flow_never_sent_clear",
    claim="A packet of a GE flow is never transmitted in cleartext.",
    rules=("ND-7", "ND-8", "ND-12"),
    actions=lambda s, c: step_sends_tcp(c, "clear"),
    pre=lambda s, c: after(c, flag(step_host(c), "flow_ge")),
    trigger=lambda s: or_(*[flag(h, "flow_ge") for h in HOSTS]),
    antecedent="a host's flow is GE",
    applies=any_ge,
    note="Expected violated in guaranteed-encryption: ND-8 sends the GE flow's first SYN clear; "
         "holds in guaranteed-encryption-ale, where the ALE layer (WFP-GE) holds it instead.",
)


def _ge_host(s: System) -> str:
    """A host with a GE rule for some flow (ND-7)."""
    sc = scenario(s)
    return "client" if any(sc.ge_rule("client", i) for i in range(1, len(sc.flows) + 1)) else "server"


W9 = ge.sometimes(
    "W-9", "ge_flow_can_be_secured",
    claim="Some run protects a GE flow with a GE SA.",
    rules=("ND-9", "ND-14", "ND-21"),
    state=lambda s: and_(flag(_ge_host(s), "flow_ge"), flag(_ge_host(s), "secure"),
                         flag(_ge_host(s), "sa_ge")),
    applies=lambda s: any_ge(s) and peer_capable(s),
)

PROPERTIES = (S6, S7, W9)
