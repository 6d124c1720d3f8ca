"""Explicit-state exploration: BFS over the compiled successor function into a product graph.

States are packed integers (:class:`~ndcheck.engines.layout.Layout`: one ``int`` per state,
fields at fixed bit offsets); the visited set is a dict from packed state to integer id, edges
are three ``array('i')`` columns and BFS parent pointers give shortest paths.  ``Graph.states``
decodes to the field tuples everyone else uses; ``Graph.packed`` is the raw list.  The
networkx graph is built from the arrays on demand (:meth:`Graph.to_networkx`).  Bounds
(``max_states``, ``timeout``, channel capacity overflow) mark the result truncated; a truncated
graph never yields ``holds``.

Order is deterministic: states are numbered in BFS order, and a state's successors are
reported in the fixed order of the generated decision tree
(:func:`~ndcheck.engines.decision_tree.report_order`), independent of ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import time
import warnings
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..model.ir import System
from . import native as c_search
from . import native_bfs
from .codegen import compile_packed, layout_of
from .expand import CHUNK, Batch, bound_reached, expand
from .layout import Layout
from .memguard import MemoryGuard
from .parallel import explore_parallel
from .store import PackedStates, StateStore, first_occurrences, hash_words
from .symmetry import Symmetry, symmetry_of


class StateView(Sequence):
    """Read-only sequence of state tuples over the packed states (decoded on access)."""

    __slots__ = ("_index", "_layout", "_packed")

    def __init__(self, packed: list[int] | PackedStates, layout: Layout):
        self._packed = packed
        self._layout = layout
        self._index: dict[int, int] | None = None

    def __len__(self) -> int:
        return len(self._packed)

    def __getitem__(self, i):
        if isinstance(i, slice):
            dec = self._layout.decode
            return [dec(p) for p in self._packed[i]]
        return self._layout.decode(self._packed[i])

    def __iter__(self) -> Iterator[tuple[int, ...]]:
        return map(self._layout.decode, self._packed)

    def _lookup(self):
        if isinstance(self._packed, PackedStates):
            return self._packed.store
        if self._index is None:
            self._index = {p: i for i, p in enumerate(self._packed)}
        return self._index

    def index(self, state, start: int = 0, stop: int | None = None) -> int:
        try:
            look = self._lookup()
            p = self._layout.encode(tuple(state))
            i = look.index(p) if isinstance(look, StateStore) else look.get(p)
        except ValueError:
            i = None
        if i is None or i < start or (stop is not None and i >= stop):
            raise ValueError(f"{tuple(state)!r} is not a reachable state")
        return i

    def __contains__(self, state) -> bool:
        try:
            self.index(state)
        except (ValueError, TypeError):
            return False
        return True

    def __eq__(self, other) -> bool:
        if isinstance(other, StateView):
            return self._packed == other._packed and self._layout.names == other._layout.names
        if isinstance(other, (list, tuple)):
            return len(other) == len(self) and all(a == tuple(b) for a, b in zip(self, other))
        return NotImplemented

    def __repr__(self) -> str:
        return f"<{len(self)} states>"


@dataclass
class Graph:
    """The explored product graph of one system.

    ``states[sid]`` is the state tuple of id ``sid`` (decoded from ``packed[sid]``); ``src``,
    ``dst``, ``act`` are the edges in exploration order (``src`` is non-decreasing); ``parent`` /
    ``parent_act`` are the BFS tree, so :meth:`path_to` is a shortest path.
    """

    system: System
    packed: list | PackedStates
    src: array
    dst: array
    act: array
    parent: array
    parent_act: array
    truncated: bool = False
    reason: str = ""
    seconds: float = 0.0
    overflow_states: int = 0
    compile_seconds: float = 0.0
    layout: Layout | None = field(default=None, repr=False)
    #: the canonicalizer when states are orbit representatives (symmetry-reduced); else None
    symmetry: Symmetry | None = field(default=None, repr=False)
    _nx: object = field(default=None, repr=False)
    _view: StateView | None = field(default=None, repr=False)
    _depth: int | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.layout is None:
            self.layout = layout_of(self.system)
        if self.packed and not isinstance(self.packed[0], int):
            # built from state tuples (compatibility): pack them
            self.packed = [self.layout.encode(s) for s in self.packed]

    @property
    def states(self) -> StateView:
        if self._view is None:
            self._view = StateView(self.packed, self.layout)
        return self._view

    @property
    def n_states(self) -> int:
        return len(self.packed)

    @property
    def n_edges(self) -> int:
        return len(self.src)

    @property
    def depth(self) -> int:
        """The BFS depth: the longest shortest path from the initial state, in steps (0 for a
        graph of one state), read off the parent pointers and computed once."""
        if self._depth is None:
            parent = self.parent
            n = min(len(parent), self.n_states)
            d = [0] * n
            for i in range(1, n):
                p = parent[i]
                # BFS numbering: a parent is discovered before its children
                d[i] = d[p] + 1 if p < i else len(self.path_to(i))
            self._depth = max(d, default=0)
        return self._depth

    def state(self, sid: int) -> tuple[int, ...]:
        return self.layout.decode(self.packed[sid])

    def index_of(self, state) -> int | None:
        """The id of a state tuple, or None if it was not reached."""
        try:
            return self.states.index(state)
        except ValueError:
            return None

    def path_to(self, sid: int) -> list[tuple[int, int]]:
        """Shortest (BFS) path from the initial state: list of (command index, state id)."""
        out = []
        while sid != 0:
            out.append((self.parent_act[sid], sid))
            sid = self.parent[sid]
        out.reverse()
        return out

    def to_networkx(self):
        """A ``networkx.MultiDiGraph`` over state ids; each edge keyed by its action name."""
        if self._nx is None:
            import networkx as nx

            g = nx.MultiDiGraph(name=self.system.name)
            g.add_nodes_from(range(self.n_states))
            names = [c.name for c in self.system.commands]
            g.add_edges_from(
                (u, v, names[a], {"action": names[a]})
                for u, v, a in zip(self.src, self.dst, self.act)
            )
            self._nx = g
        return self._nx

    def successors_of(self, sid: int) -> list[tuple[int, int]]:
        """(command, successor id) pairs of a state, in exploration order (binary search on src)."""
        lo = bisect_left(self.src, sid)
        hi = bisect_right(self.src, sid, lo)
        return list(zip(self.act[lo:hi], self.dst[lo:hi]))


def _store_new(store: StateStore, keys: np.ndarray, batch: Batch, i: int, max_states: int,
               parent: array, parent_act: array) -> tuple[np.ndarray, np.ndarray, int, str]:
    """Look a batch's successors up, store the new ones (numbered in order of first
    occurrence) and record their parents: ``(sources, ids, cut, reason)``, ``cut`` the first
    successor left out by ``max_states`` (the batch's length when none is; then the reason is
    "")."""
    n = store.n
    h = hash_words(keys)
    ids = store.find(keys, h)
    miss = np.flatnonzero(ids < 0)
    cut, reason = len(ids), ""
    sources = batch.sources(i)
    if miss.size:
        first, rank = first_occurrences(h[miss], keys[miss])
        new = miss[first]                       # candidate index of each new state, in order
        if n + len(new) > max_states:
            allowed = max(0, max_states - n)
            cut = int(new[allowed])             # the first candidate left out
            reason = f"max-states {max_states} reached"
            first, new = first[:allowed], new[:allowed]
            keep = miss < cut
            miss, rank = miss[keep], rank[keep]
        store.append(keys[new], h[new])
        ids[miss] = n + rank
        parent.frombytes(sources[new].astype(np.int32).tobytes())
        parent_act.frombytes(batch.acts[new].astype(np.int32).tobytes())
    return sources, ids, cut, reason


_NO_SYMMETRY = ("the process-parallel explorer does not reduce by symmetry: explore interchangeable "
                "flows with one worker, with the native search, or without the reduction")


def _explore_parallel(system: System, workers: int, max_states: int, timeout: float,
                      progress, symmetry: bool | None) -> Graph:
    if symmetry is not False and symmetry_of(system, layout_of(system)) is not None:
        raise ValueError(_NO_SYMMETRY)
    return Graph(system, *explore_parallel(system, workers, max_states, timeout, progress))


def prepare_native(system: System) -> None:
    """Compile (or load) the C libraries ``explore(system, native=True)`` uses: with the
    symmetry reduction's canonicalizer and, for the properties decided on the full graph,
    without.  Errors are left to :func:`explore`, which reports them and falls back."""
    try:
        _, src, lay = compile_packed(system)
        words = (lay.bits + 63) // 64
        sym = symmetry_of(system, lay)
        for canon in ([sym.c_source] if sym else []) + [""]:
            c_search.compile_native(src, words, canon=canon)
    except Exception:  # noqa: BLE001 - explore raises or warns about it in its own time
        return


def explore(system: System, max_states: int | None = None, timeout: float | None = None,
            progress: Callable[[int, int], None] | None = None, workers: int = 1,
            symmetry: bool | None = None, native: bool | None = None) -> Graph:
    """Breadth-first exploration of every reachable state (within the bounds).

    Bounds, checked every 2048 states: ``max_states`` and ``timeout`` (default: the scenario's
    ``bounds``), the resident-memory limit of :class:`~ndcheck.engines.memguard.MemoryGuard`;
    a counter overflow (channel capacity) also marks the result truncated.

    The visited set is a :class:`~.store.StateStore` (states as 64-bit words, an open-addressing
    table of ids).  States are expanded in batches of :data:`CHUNK`: the successors of a batch
    are looked up together, and the new ones numbered in order of first occurrence, which is
    the order a state-at-a-time BFS gives them.  ``workers > 1`` runs
    :func:`~.parallel.explore_parallel` (the same graph, on several processes), or with
    ``native`` the C search on ``workers`` threads.

    ``symmetry`` (default: on when the system has two or more interchangeable flows) stores one
    representative per orbit (:mod:`~ndcheck.engines.symmetry`); ``Graph.symmetry`` says so.
    The process-parallel explorer does not reduce: ``workers > 1`` with interchangeable flows
    needs ``native`` or ``symmetry=False``.

    ``native`` (default: the environment variable ``NDCHECK_NATIVE=1``) runs the successor
    function translated to C (:mod:`~ndcheck.engines.native`: compiled once per model and cached
    on disk, 33-48 s for crossing-ike-loss or fig7-both-capable) and, after the first
    :data:`~.expand.CHUNK` states, the whole search loop in C (:mod:`~ndcheck.engines.native_bfs`:
    about ten times the states per second, and 1.8 times that again on two threads,
    BENCHMARKS.md); the graph is the same.  The first :data:`~.expand.CHUNK` states are expanded
    by both successor functions (and canonicalizers, with symmetry reduction: the C one is
    :attr:`.symmetry.Symmetry.c_source`) and compared: a difference, like a missing compiler,
    falls back to Python with a warning (to the parallel processes with ``workers > 1``).
    """
    if max_states is None:
        max_states = system.limits.max_states
    if timeout is None:
        timeout = system.limits.timeout
    want_native = c_search.wanted(native)
    if workers > 1 and not want_native:
        return _explore_parallel(system, workers, max_states, timeout, progress, symmetry)
    guard = MemoryGuard.for_system(system)
    tc = time.perf_counter()
    succ, src, lay = compile_packed(system)
    sym = symmetry_of(system, lay) if symmetry is not False else None
    canon = sym.canon if sym else None
    nat = (c_search.load(system.name, src, (lay.bits + 63) // 64, sym.c_source if sym else "")
           if want_native else None)
    if workers > 1 and nat is None:
        return _explore_parallel(system, workers, max_states, timeout, progress, symmetry)
    checked = 0                          # states whose C successors were compared with Python's
    t0 = time.perf_counter()
    store = StateStore(lay.bits)
    init = lay.encode(system.init)
    store.append(store.to_words([canon(init) if canon else init]))
    src, dst, act = array("i"), array("i"), array("i")
    parent, parent_act = array("i", [0]), array("i", [-1])
    truncated, reason = False, ""
    overflow = 0
    i = 0
    stopped = [""]                               # the bound that stopped the C search

    def tick(at: int, n: int) -> bool:          # the C search's progress and bounds
        if progress:
            progress(at, n)
        stopped[0] = bound_reached(t0, timeout, guard)
        return bool(stopped[0])

    while i < store.n:
        if nat is not None and checked >= CHUNK:
            # the rest of the search in C, on ``workers`` threads (native_bfs)
            rest = native_bfs.run(nat.lib, store, i, max_states, workers,
                                  (src, dst, act, parent, parent_act), tick)
            overflow += rest.overflow
            i = rest.i
            if rest.status == native_bfs.RAISED:
                expand(succ, store.ints(rest.last, rest.last + 1))   # the model's DomainError ...
                warnings.warn(f"{system.name}: the C successor function raises where the Python "
                              "one does not; exploring with the Python one", RuntimeWarning,
                              stacklevel=2)               # ... or the translation is wrong
                nat = None
                continue
            if rest.status == native_bfs.CUT:
                truncated, reason = True, f"max-states {max_states} reached"
            elif rest.status == native_bfs.STOPPED:
                truncated, reason = True, stopped[0]
            break
        hi = min(store.n, i + CHUNK)
        got = None
        if nat is not None:
            got = c_search.expand_checked(nat, succ, store, i, hi, checked < CHUNK, canon)
            checked += hi - i
            if got is None:
                warnings.warn(f"{system.name}: the C successor function differs from the Python "
                              "one; exploring with the Python one", RuntimeWarning, stacklevel=2)
                nat = None
        if got is not None:
            # C: the successors, then one pass looking them up and storing the new ones
            keys, acts, counts, ovfs = got
            batch = Batch([], acts, counts, np.flatnonzero(ovfs).tolist())
            sources = batch.sources(i)
            ids, created, cut = nat.lookup_insert(store, keys, max_states)
            if cut < len(ids):
                truncated, reason = True, f"max-states {max_states} reached"
            new = np.flatnonzero(created[:cut])
            parent.frombytes(sources[new].astype(np.int32).tobytes())
            parent_act.frombytes(batch.acts[new].astype(np.int32).tobytes())
        else:
            batch = expand(succ, store.ints(i, hi))
            if canon:
                batch.targets = [canon(t) for t in batch.targets]
            sources, ids, cut, cut_reason = _store_new(store, store.to_words(batch.targets), batch,
                                                       i, max_states, parent, parent_act)
            if cut_reason:
                truncated, reason = True, cut_reason
        src.frombytes(sources[:cut].astype(np.int32).tobytes())
        dst.frombytes(ids[:cut].astype(np.int32).tobytes())
        act.frombytes(batch.acts[:cut].astype(np.int32).tobytes())
        if truncated:
            # states expanded up to and including the one whose successor was cut off
            last = int(sources[cut]) if cut < len(sources) else hi - 1
            overflow += batch.overflows(i, last + 1)
            i = last
            break
        overflow += batch.overflows(i, hi)
        i = hi
        if progress:
            progress(i, store.n)
        reason = bound_reached(t0, timeout, guard)
        if reason:
            truncated = True
            break
    if overflow and not truncated:
        truncated, reason = True, (f"channel capacity {system.limits.capacity} "
                                   f"exceeded in {overflow} states")
    if progress:
        progress(i, store.n)
    store.trim()
    return Graph(system, PackedStates(store), src, dst, act, parent, parent_act, truncated,
                 reason, time.perf_counter() - t0, overflow, t0 - tc, lay, sym)
