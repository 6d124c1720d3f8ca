"""Timer values of the timed model: each timer's waits per retransmission, in ms and in units.

The values are :class:`~ndcheck.model.scenario.TimeKnobs` (with their sources there); a machine
reads its deadlines here (``deadlines`` in its module), :mod:`ndcheck.model.timing` makes the
clocks.  Every wait is rounded *up* to whole units, so a timer never fires early.

>>> from ndcheck.model.scenario import TimeKnobs
>>> modern, legacy = TimeKnobs(), TimeKnobs(tcp_preset="legacy")
>>> syn_waits(modern, 4), syn_waits(modern, 2), syn_waits(legacy, 2)
([1000, 2000, 4000, 8000, 6000], [1000, 2000, 4000], [3000, 6000, 12000])
>>> ike_waits(modern, 3), units(modern, [300, 1000, 1250])
([1000, 1000, 3000, 55000], [3, 10, 13])
"""

from __future__ import annotations

from collections.abc import Sequence

from .ir import C, Expr, eq, ite
from .scenario import TimeKnobs


def schedule(counter: Expr, waits: Sequence[int]) -> Expr:
    """The deadline as a function of a retransmission counter: ``waits[r]`` units when the
    counter is ``r`` (the last value also for any larger one)."""
    out: Expr = C(waits[-1])
    for r in range(len(waits) - 2, -1, -1):
        out = ite(eq(counter, r), waits[r], out)
    return out


def doubling(tm: TimeKnobs, first_ms: int, budget: int) -> list[int]:
    """Waits in ms of a timer that starts at ``first_ms`` and doubles per retransmission up to
    ``time.rto_cap_ms`` (RFC 6298 §5.5, T9), for counters 0..budget (the last: before giving up)."""
    return [min(first_ms * 2 ** r, tm.rto_cap_ms) for r in range(budget + 1)]


def syn_waits(tm: TimeKnobs, budget: int) -> list[int]:
    """The SYN's waits in ms: doubling from the preset's initial RTO; the connect gives up
    ``connect_timeout_ms`` after the first SYN when that comes first (T1/T2: 21 s; T7: 7 s with
    two retransmissions on a modern stack, 21 s with four), and never less than a unit after the
    last SYN."""
    waits = doubling(tm, tm.syn_rto, budget)
    if tm.connect_timeout_ms:
        sent = sum(waits[:-1])
        waits[-1] = max(min(waits[-1], tm.connect_timeout_ms - sent), 1)
    return waits


def ike_waits(tm: TimeKnobs, budget: int) -> list[int]:
    """The IKE initiator's waits in ms for counters 0..budget: ``ike_retransmit_ms`` twice, then
    ``ike_backoff_ms`` (R4/R5: +1, +2, +5 s); the last (giving up) is what is left of
    ``ike_give_up_ms`` after the retransmissions, at least one unit."""
    waits = [tm.ike_retransmit_ms if r < 2 else tm.ike_backoff_ms for r in range(budget)]
    return waits + [max(tm.ike_give_up_ms - sum(waits), 1)]


def units(tm: TimeKnobs, waits_ms: Sequence[int]) -> list[int]:
    return [max(tm.units(w), 1) for w in waits_ms]
