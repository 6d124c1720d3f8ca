"""TCP: the connection carries its data and ends normally unless loss or policy explains otherwise (T-1, T-2, W-1, W-2).

T-1 (delivery) is the liveness promise a protocol engineer expects of a lossless run: both ends
finish normally -- closed after the FIN exchange, or ESTABLISHED and idle with ``tcp.close =
"none"`` -- with every data segment of both directions delivered in order.  T-2 (no silent
death) is its safety side: no step gives up, aborts or resets a connection unless the scenario
can explain it (a lossy network, premature timers, a policy that requires protection, SAs that
expired).  Both apply only where the policy cannot legitimately block the flow
(:func:`policy_can_block`).  W-1 and W-2 are witnesses (non-vacuity).
"""

from __future__ import annotations

from ..model.ir import Command, Expr, F, System, and_, eq, not_
from ..model.messages import HOSTS
from .base import Concern
from .predicates import (
    all_delivered,
    data_segments,
    has_event,
    in_state,
    sa_lost,
    scenario,
)

tcp = Concern("tcp")


def policy_can_block(s: System) -> bool:
    """The configuration may legitimately stop the flow: a rule that requires protection (the
    server's inbound ND_SECURE or transport mode drops clear SYNs, ND-17/A-10, ND-15; a client
    inbound transport-mode rule; an outbound transport-mode rule holds segments until an SA
    exists, ND-15), guaranteed encryption (ND-12 holds a GE flow without a GE SA), or SA loss by
    expiry or DELETE (ND-10 holds a Secure flow until IKE re-keys, L-5)."""
    sc = scenario(s)
    return (sc.server.inbound in ("secure", "require") or sc.client.inbound == "require"
            or "require" in (sc.client.outbound, sc.server.outbound)
            or "legacy" in (sc.client.outbound, sc.server.outbound)   # §6.4: a replying, failing peer blocks
            or sc.any_ge
            or sc.ike.sa_loss)


def lossy(s: System) -> bool:
    """The network may lose packets (TCP or IKE) or timers may fire early."""
    sc = scenario(s)
    return bool(sc.network.loss) or sc.tcp.premature_timeouts


def finished(s: System) -> Expr:
    """Both ends finished normally with all data of both directions delivered in order."""
    # The first closer stays in TIME-WAIT (2MSL outlasts the run), the second ends CLOSED.
    ends = ("time_wait", "done") if scenario(s).tcp.close != "none" else ("established",)
    return and_(*[in_state(s, f"{h}.tcp", *ends) for h in HOSTS], all_delivered(s))


T1 = tcp.eventually(
    "T-1", "tcp_delivers_and_closes",
    claim="Every run of a scenario without loss ends with both TCP ends finished normally (closed "
          "after the FIN exchange, or ESTABLISHED and idle without a close) and all data of "
          "both directions delivered in order: no abort, no stuck state.",
    rules=("ND-8", "ND-14", "ND-17", "ND-18", "ND-19", "A-1", "A-19"),
    state=finished,
    applies=lambda s: not lossy(s) and not policy_can_block(s),
    note="Applies without loss (TCP or IKE: a lost IKE message lets IKE's retransmission timer "
         "race TCP's, and without a clock TCP may spend its budget first) and premature timers, "
         "and where no rule requires protection (policy_can_block).  Violated where the ND rules "
         "themselves stop the flow: the NAT boundary (ND-13 sends clear what ND-18 drops, A-9).",
)

#: The steps that end a connection abnormally: the SYN budget spent (give-up), a data/FIN budget
#: spent (abort with RST), the half-open connection dropped, a RST received before the close.
_DEATHS = (
    ("client.tcp", "give_up", None), ("server.tcp", "drop_half_open", None),
    ("client.tcp", "abort", None), ("server.tcp", "abort", None),
    *[(f"{h}.tcp", "recv_rst", src) for h in HOSTS
      for src in ("syn_sent", "syn_received", "established", "fin_wait_1", "fin_wait_2",
                  "close_wait")],
)


def _death(s: System, c: Command) -> bool:
    return any(has_event(c, key, ev, src) for key, ev, src in _DEATHS)


def _unexplained(s: System, c: Command) -> Expr:
    """Within T-2's scenarios only SA loss (expiry, DELETE) explains a death, once the SAs are
    gone (ND-10)."""
    return not_(sa_lost(s))


T2 = tcp.never_action(
    "T-2", "no_silent_tcp_death",
    claim="No TCP connection gives up, aborts, drops its half-open state or is reset unless a "
          "loss budget (TCP or IKE loss, premature timers), a rule that requires protection or "
          "the expiry of its SAs explains it.",
    rules=("ND-8", "ND-10", "ND-17", "ND-18", "ND-26", "ND-27"),
    actions=_death, pre=_unexplained,
    applies=lambda s: not lossy(s) and not (policy_can_block(s) and not scenario(s).ike.sa_loss),
    note="Loss, premature timers and protection-requiring rules explain every death, so T-2 "
         "does not apply there; with SA loss (expiry, DELETE) it applies to the deaths before the "
         "SAs were lost.",
)

W1 = tcp.sometimes(
    "W-1", "tcp_can_establish",
    claim="Some run brings the client's TCP to ESTABLISHED.",
    rules=("ND-8", "ND-17", "ND-14"),
    state=lambda s: in_state(s, "client.tcp", "established"),
)

W2 = tcp.sometimes(
    "W-2", "all_data_delivered",
    claim="Some run delivers every data segment to the server in order.",
    rules=("ND-18", "ND-19"),
    state=lambda s: eq(F("server.rcv_nxt"), data_segments(s)),
    applies=lambda s: data_segments(s) > 0,
)

PROPERTIES = (T1, T2, W1, W2)

__all__ = ["PROPERTIES", "T1", "T2", "W1", "W2", "finished", "lossy", "policy_can_block"]
