"""Time: bounded responses of the timed model (``time.mode = "timed"``; H-3, T-3).

Both are ``within`` properties (:mod:`ndcheck.properties.base`): from every state where the
client's TCP is in SYN-SENT, every run leaves SYN-SENT within a bound of model time.

* **H-3** is H-1 in time: negotiation discovery exists so that IKE never delays the connection
  (ND-8: the first packet leaves in the clear at once and IKE runs beside it; digest §6.4/§9:
  0 ms, against the pre-ND policy's 3 s wait for a soft SA).  Where the server accepts a clear
  new flow and nothing is lost, the handshake takes one round trip whatever IKE does.
* **T-3** holds the connect to Windows' SYN schedule (timers-failures T1/T2/T7): SYN-SENT ends,
  established or given up, by the time the schedule gives up (7 s modern with two
  retransmissions, 21 s legacy or with four).
"""

from __future__ import annotations

from ..model.ir import F, System, lt, not_, or_
from ..model.timers import syn_waits
from .base import Concern
from .predicates import in_state, scenario

time = Concern("time")


def _timed(s: System) -> bool:
    return scenario(s).time.timed


def _syn_sent(s: System):
    return in_state(s, "client.tcp", "syn_sent")


def _left_syn_sent(s: System):
    return not_(_syn_sent(s))


def _h3_applies(s: System) -> bool:
    sc = scenario(s)
    return (_timed(s) and sc.client.outbound in ("request", "legacy")
            and sc.server.inbound in ("boundary", "none") and sc.server.outbound != "require"
            and "tcp" not in sc.network.loss and not sc.client.ale_require_encryption)


H3 = time.within(
    "H-3", "ike_never_delays_the_connect",
    claim="Where the server accepts a clear new flow and no TCP segment is lost, the client's "
          "handshake completes within one round trip of its SYN, whatever IKE does: ND sends the "
          "first packet at once and negotiates beside it.",
    rules=("ND-8", "ND-17", "ND-18"),
    trigger=_syn_sent, antecedent="the client's TCP is in SYN-SENT",
    state=_left_syn_sent,
    bound=lambda s: 2 * scenario(s).time.delay_max_ms,
    applies=_h3_applies,
    note="Timed scenarios only.  The pre-ND policy (outbound = \"legacy\", digest §6.4) holds the "
         "SYN until IKE completes or the 3 s soft SA: there H-3 is violated by configuration.",
)

T3 = time.within(
    "T-3", "connect_decided_by_the_syn_schedule",
    claim="The client's TCP leaves SYN-SENT, established or given up, by the time Windows' SYN "
          "schedule gives up (timers-failures T1/T2/T7): no ND or IKE step prolongs the connect.",
    rules=("ND-8", "ND-10", "ND-17"),
    trigger=_syn_sent, antecedent="the client's TCP is in SYN-SENT",
    state=_left_syn_sent,
    bound=lambda s: sum(syn_waits(scenario(s).time, scenario(s).tcp.syn_retries))
    + 2 * scenario(s).time.delay_max_ms,
    applies=_timed,
)

def _a_clock_runs(s: System):
    clocks = [f.name for f in s.fields if f.name.endswith("_clk")]
    return or_(*[lt(0, F(c)) for c in clocks])


W13 = time.sometimes(
    "W-13", "time_passes_with_a_timer_running",
    claim="Some run lets time pass while a timer runs (a clock above zero): the timed model's "
          "deadlines are exercised, so H-3 and T-3 are not decided on runs without time.",
    rules=("ND-8",),
    state=_a_clock_runs,
    applies=_timed,
)

PROPERTIES = (H3, T3, W13)
