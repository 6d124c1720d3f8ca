"""Re-keying after SA loss: a secured flow whose SAs expired resumes only if IKE succeeds again (L-5).

A-5: Secure is never cleared, so after the QM SAs expire (scenario knob ``ike.sa_expiry``) every
packet of a Secure flow hits ND-10 (held, IKE re-triggered).  The flow resumes iff the new Quick
Mode succeeds; if the peer has stopped negotiating (``ike.peer_drops_ipsec``) it stays blocked
forever — by design.  Scenarios without the expiry knob have no SA loss and L-5 does not apply.
"""

from __future__ import annotations

from ..model.ir import F, System, and_, eq, not_
from .base import Concern
from .predicates import all_acked, client_nd, flag, tcp_reliable

rekey = Concern("rekey")


def _has_expiry(s: System) -> bool:
    return "sad.expired" in s.index


L5 = rekey.eventually(
    "L-5", "secured_flow_resumes_after_sa_expiry",
    claim="After the SAs of a Secure flow with data still to deliver expire, the flow eventually "
          "delivers all its data (over new SAs).",
    rules=("ND-10", "A-4", "A-5"),
    trigger=lambda s: and_(eq(F("sad.expired"), 1), flag("client", "secure"), not_(all_acked(s))),
    antecedent="the SAs of the client's Secure flow have expired with data still unacknowledged",
    state=all_acked,
    applies=lambda s: _has_expiry(s) and client_nd(s) and tcp_reliable(s),
    note="Violated by design when the peer no longer negotiates (ike.peer_drops_ipsec).",
)

W11 = rekey.sometimes(
    "W-11", "secured_flow_can_rekey",
    claim="Some run re-keys a Secure flow after its SAs expired (the client has an outbound SA "
          "again).",
    rules=("ND-10", "ND-14"),
    state=lambda s: and_(eq(F("sad.expired"), 1), flag("client", "secure"), flag("client", "sa_out")),
    applies=lambda s: _has_expiry(s) and client_nd(s),
)

PROPERTIES = (L5, W11)
