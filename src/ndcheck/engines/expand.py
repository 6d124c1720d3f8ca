"""Expanding a batch of states: the successor function called on each, its results as columns.

The explorers (:mod:`.explicit`, :mod:`.parallel`) expand states :data:`CHUNK` at a time and
turn the successors into arrays at once, while they are still in the processor's cache.
"""

from __future__ import annotations

import time

import numpy as np

CHUNK = 2048   # states expanded per batch (the sequential explorer checks its bounds between batches)


class Batch:
    """The successors of consecutive states: targets (packed ints), commands, counts per state."""

    __slots__ = ("acts", "counts", "ovf", "targets")

    def __init__(self, targets: list[int], acts: list[int], counts: list[int], ovf: list[int]):
        self.targets = targets
        self.acts = np.asarray(acts, np.int64)
        self.counts = np.asarray(counts, np.int64)
        self.ovf = ovf

    def sources(self, first_id: int) -> np.ndarray:
        """The source id of each successor."""
        return np.repeat(np.arange(first_id, first_id + len(self.counts)), self.counts)

    def overflows(self, lo_id: int, hi_id: int) -> int:
        """States among ``lo_id .. hi_id - 1`` (ids of this batch) with a counter overflow."""
        base = hi_id - lo_id
        return sum(1 for k in self.ovf if k < base)


def bound_reached(t0: float, timeout: float, guard) -> str:
    """Why exploring must stop between batches or levels: the ``timeout`` since ``t0`` passed, or
    the memory guard tripped ("" when neither)."""
    if time.perf_counter() - t0 > timeout:
        return f"timeout {timeout:g}s reached"
    if guard and guard.exceeded():
        return guard.reason
    return ""


def expand(succ, states: list[int]) -> Batch:
    """Call the successor function on each state; ``ovf`` lists the positions that overflowed."""
    targets: list[int] = []
    acts: list[int] = []
    counts: list[int] = []
    ovf: list[int] = []
    add_t, add_a, add_c = targets.append, acts.append, counts.append
    for k, p in enumerate(states):
        out, o = succ(p)
        if o:
            ovf.append(k)
        add_c(len(out))
        for _, a, t in out:
            add_a(a)
            add_t(t)
    return Batch(targets, acts, counts, ovf)
