"""The explicit engine's breadth-first layers as constraints on BMC's unrolled states (hints only).

A shortest path ``s0 a0 s1 … sd`` to a bad state has every ``s_k`` at breadth-first distance
exactly ``k`` from the initial state (were ``s_k`` nearer, a shorter path to ``sd`` would exist),
and every ``a_k`` is a command fired from such a state.  So BMC may require, at each depth ``k``
whose layer the explicit search has completed, that each field of ``s_k`` takes one of the values
it takes in layer ``k`` (the layer projected field by field: an over-approximation) and that the
selector ``a_k`` names the step class of a command fired from layer ``k``: every shortest
counterexample satisfies
these constraints, so BMC still finds one, at the same depth.  They prune the unsat depths before
it (nat-boundary T-2: 8.7 → 3.6 s of CPU; BENCHMARKS.md).

Nothing rests on them for soundness: a counterexample is z3's model, re-executed in the IR and
replayed through the machines as always, and BMC never answers ``holds``.  The layers are those
of the bounded model (the default encoding), so they are used only there (not with lifted caps or
budgets).  The search is breadth-first with a state budget (:data:`STATES`): layers whose states
are all discovered constrain the states, layers whose states are all expanded constrain the
selectors; deeper steps are left free.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import z3

from ...model.ir import System
from ..columns import Columns
from .encode import Encoding

#: States the breadth-first search may discover: the first 10-16 layers of the catalog's BMC
#: scenarios, about 0.2 s.  The early layers do the pruning: nat-boundary T-2 takes 3.7 s of CPU
#: with 10k states, 3.6 s with 20k, 3.9 s with 40k or 60k (8.7 s without; BENCHMARKS.md).
STATES = 20_000


@dataclass(frozen=True, slots=True)
class Layers:
    """``values[k][j]``: the values field ``j`` takes at BFS depth ``k`` (None: its whole domain);
    ``actions[k]``: the commands fired from depth-``k`` states (``len(actions) ≤ len(values)``)."""

    values: tuple[tuple[frozenset[int] | None, ...], ...]
    actions: tuple[frozenset[int], ...]
    states: int

    def state(self, k: int, s: Sequence[z3.ArithRef]) -> list[z3.BoolRef]:
        """Constraints on the state at depth ``k`` (none beyond the complete layers)."""
        if k >= len(self.values):
            return []
        return [z3.Or([s[j] == v for v in sorted(vals)]) if len(vals) > 1 else s[j] == next(iter(vals))
                for j, vals in enumerate(self.values[k]) if vals is not None]

    def selector(self, k: int, sel: z3.ArithRef, class_of: Sequence[int]) -> list[z3.BoolRef]:
        """Constraints on the action of step ``k`` (from depth ``k`` to ``k + 1``): the step
        classes (``class_of``: :func:`.encode.class_of`) of the commands fired there."""
        if k >= len(self.actions):
            return []
        picks = sorted({class_of[a] for a in self.actions[k]})
        return [z3.Or([sel == a for a in picks] + [z3.BoolVal(False, sel.ctx)])]


_CACHE: dict[tuple[int, int], tuple[System, Layers | None]] = {}


def bfs_layers(system: System, max_states: int = STATES, timeout: float | None = None) -> Layers | None:
    """The complete breadth-first layers of ``system``'s bounded model within ``max_states``
    (None when not even layer 1 is complete); cached per system."""
    key = (id(system), max_states)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is system:
        return hit[1]
    from ..explicit import explore

    g = explore(system, max_states=max_states, timeout=timeout)
    parent, src, act = g.parent, g.src, g.act
    n = g.n_states
    depth = np.zeros(n, np.int64)
    for i in range(1, n):       # BFS: a parent precedes its children
        depth[i] = depth[parent[i]] + 1
    if g.truncated:
        # stopped at (or after) the last source with edges: its layer's states are all
        # discovered (BFS order), the layers before it are all expanded
        last = max(src) if len(src) else 0
        full_states, full_edges = int(depth[last]) + 1, int(depth[last])
    else:
        full_states = full_edges = (int(depth[-1]) + 1) if n else 0
    if full_edges < 1:
        out = None
    else:
        # BFS order: the depths are sorted, a layer is a slice of each field's column
        starts = np.searchsorted(depth, np.arange(full_states + 1)).tolist()
        cols, end = Columns(g), starts[-1]
        values: list[list[frozenset[int] | None]] = [[] for _ in range(full_states)]
        for f in system.fields:
            col, size = cols.column(f.name)[:end] - f.lo, f.hi - f.lo + 1
            if size <= 4096:    # which (depth, value) pairs occur: one bincount per field
                hit = (np.bincount(depth[:end] * size + col, minlength=full_states * size) > 0
                       ).reshape(full_states, size)
                layer_values = [np.flatnonzero(row) for row in hit]
            else:
                layer_values = [np.unique(col[starts[k]:starts[k + 1]]) for k in range(full_states)]
            for k, seen in enumerate(layer_values):
                values[k].append(None if len(seen) >= size else frozenset((seen + f.lo).tolist()))
        acts: list[set[int]] = [set() for _ in range(full_edges)]
        for u, a in zip(src, act):
            d = depth[u]
            if d < full_edges:
                acts[d].add(a)
        out = Layers(tuple(map(tuple, values)), tuple(frozenset(a) for a in acts), n)
    if len(_CACHE) > 8:
        _CACHE.clear()
    _CACHE[key] = (system, out)
    return out


#: Seconds :class:`LayersAhead` waits for its child before computing the layers itself (they take
#: 1.3-1.5 s on the catalog's larger models).
AHEAD_WAIT = 20.0


class LayersAhead:
    """:func:`bfs_layers` computed in a forked process while BMC builds its formulas and checks
    its first depths, handed over as :func:`constrain`'s hook (:meth:`hook`).  Most of the cost
    is compiling the explicit engine's successor function (about 1.1 of 1.3-1.5 s), Python work
    that a thread would do under the interpreter lock that BMC's own formula building needs; the
    layers themselves are small (value sets per depth) and come back pickled.  Without ``fork``
    or a second core they are computed when first asked for."""

    def __init__(self, system: System, timeout: float | None = None) -> None:
        from .portfolio import available

        self.system, self.timeout = system, timeout
        self._pid, self._rd = 0, -1
        hit = _CACHE.get((id(system), STATES))
        if (hit is None or hit[0] is not system) and available():
            self._fork()

    def _fork(self) -> None:
        from .portfolio import fork_child

        def work(wr: int) -> None:      # the layers, pickled to the pipe
            data = pickle.dumps(bfs_layers(self.system, timeout=self.timeout))
            with os.fdopen(wr, "wb") as out:
                out.write(data)
        self._pid, self._rd = fork_child(work)

    def _collect(self) -> Layers | None:
        """The child's layers, waiting at most :data:`AHEAD_WAIT` seconds (a child that inherited
        a lock held by another thread at the fork could hang); raises ``TimeoutError`` past it
        or ``EOFError`` when the child failed (the child is reaped either way)."""
        chunks, stop = [], time.perf_counter() + AHEAD_WAIT
        while not chunks or chunks[-1]:
            wait = stop - time.perf_counter()
            if wait <= 0 or not select.select([self._rd], [], [], wait)[0]:
                self.close()
                raise TimeoutError("the layers' child did not answer in time")
            chunks.append(os.read(self._rd, 1 << 20))
        os.close(self._rd)
        _, status = os.waitpid(self._pid, 0)
        self._pid = 0
        if status != 0:
            raise EOFError("the layers' child failed")
        got = pickle.loads(b"".join(chunks))
        _CACHE[(id(self.system), STATES)] = (self.system, got)
        return got

    def layers(self) -> Layers | None:
        """The layers: the child's, else (no child, or it failed or took too long) computed here."""
        if self._pid:
            try:
                return self._collect()
            except (TimeoutError, EOFError, pickle.UnpicklingError):
                pass
        return bfs_layers(self.system, timeout=self.timeout)

    def hook(self, enc: Encoding):
        """:func:`constrain`'s hook for the layers in ``enc`` (waits for them; None without
        layers)."""
        return constrain(enc, self.layers())

    def close(self) -> None:
        """Stop a child still running (BMC finished first) and reap it."""
        if self._pid:
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self._pid, 0)
            os.close(self._rd)
            self._pid = 0


def constrain(enc: Encoding, layers: Layers | None):
    """The per-depth hook of :func:`.bmc.bmc` for these layers (None without layers)."""
    if layers is None or enc.unbounded or enc.lift_budgets:
        return None

    def hook(k: int, s: Sequence[z3.ArithRef], sel: z3.ArithRef | None) -> list[z3.BoolRef]:
        out = layers.state(k, s)
        if sel is not None:
            out += layers.selector(k - 1, sel, enc.class_of)
        return out
    return hook
