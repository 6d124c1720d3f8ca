"""Re-keying after SA loss: a secured flow whose SAs are gone resumes only if IKE succeeds again (L-5).

A-5: Secure is never cleared, so after the QM SAs expire (scenario knob ``ike.sa_expiry``) or a
host deletes them (``ike.delete``, a DELETE) every packet of a Secure flow hits ND-10 (held,
IKE re-triggered).  The flow resumes iff the new Quick Mode succeeds; if the peer has stopped
negotiating (``ike.peer_drops_ipsec``) it stays blocked forever — by design.  Scenarios
without either knob have no SA loss and L-5 does not apply.
"""

from __future__ import annotations

from ..model.ir import TRUE, F, System, and_, eq, implies, not_
from ..model.messages import HOSTS, other
from ..model.network import Network
from .base import Concern
from .predicates import (
    all_acked,
    client_nd,
    flag,
    ike_machines,
    in_state,
    sa_lost,
    scenario,
    tcp_reliable,
)

rekey = Concern("rekey")


def _has_expiry(s: System) -> bool:
    return "sad.expired" in s.index or "sad.deleted" in s.index


L5 = rekey.eventually(
    "L-5", "secured_flow_resumes_after_sa_expiry",
    claim="After the SAs of a Secure flow with data still to deliver expire or are deleted, the "
          "flow eventually delivers all its data (over new SAs).",
    rules=("ND-10", "A-4", "A-5"),
    trigger=lambda s: and_(sa_lost(s), flag("client", "secure"), not_(all_acked(s))),
    antecedent="the SAs of the client's Secure flow have expired or been deleted with data still "
               "unacknowledged",
    state=all_acked,
    applies=lambda s: _has_expiry(s) and client_nd(s) and tcp_reliable(s),
    note="Violated by design when the peer no longer negotiates (ike.peer_drops_ipsec).",
)

def _no_delete_on_its_way(s: System):
    """No DELETE is in flight (true where none can be sent): the SAs it names are gone at both
    ends, so an SA a host holds now is a new one."""
    if "sad.deleted" not in s.index:
        return TRUE
    return Network(scenario(s), s.alphabet).none_of(("DELETE",))


W11 = rekey.sometimes(
    "W-11", "secured_flow_can_rekey",
    claim="Some run re-keys a Secure flow after its SAs expired or were deleted (the client has "
          "an outbound SA again).",
    rules=("ND-10", "ND-14"),
    state=lambda s: and_(sa_lost(s), _no_delete_on_its_way(s), flag("client", "secure"),
                         flag("client", "sa_out")),
    applies=lambda s: _has_expiry(s) and client_nd(s),
)

W12 = rekey.sometimes(
    "W-12", "rekey_with_new_main_mode",
    claim="Some run re-keys a Secure flow after both the MM SA and its QM SAs were lost, over a "
          "new Main Mode (ND-1: the MMSAD holds no MM SA for the peer any more).",
    rules=("ND-1", "ND-10", "ND-11"),
    state=lambda s: and_(eq(F("sad.mm_expired"), 1), sa_lost(s), flag("client", "secure"),
                         flag("client", "sa_out"), flag("client", "mm_sa")),
    applies=lambda s: "sad.mm_expired" in s.index and _has_expiry(s) and client_nd(s),
)

def _d1(s: System):
    net = Network(scenario(s), s.alphabet)
    quiet = and_(net.none_of(("DELETE",)),
                 *[not_(in_state(s, k, *getattr(s.machines[k], "NEGOTIATING", ())))
                   for k in ike_machines(s)])
    return implies(quiet, and_(*[implies(flag(h, "sa_out"), flag(other(h), "sa_in")) for h in HOSTS]))


D1 = rekey.always(
    "D-1", "delete_leaves_no_orphan_sa",
    claim="Once no DELETE is on its way and no negotiation runs, each host's outbound QM SA has "
          "an inbound partner at the peer: a DELETE removes the QM SAs at both ends (IKEE-M "
          "§3.8.4.1), so no host keeps sending ESP the peer can no longer decapsulate.",
    rules=("ND-14", "ND-19"),
    state=_d1,
    applies=lambda s: "sad.deleted" in s.index,
    note="Checked where a host may send a DELETE (ike.delete); a lost DELETE would violate it "
         "(Windows retransmits DELETEs to Windows peers, timers-failures R8; not modelled).",
)

PROPERTIES = (L5, W11, W12, D1)
