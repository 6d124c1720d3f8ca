"""Queries over an explored product graph: first states, first firings, bottom SCCs, lassos.

States are numbered in BFS order, so the lowest state id that answers a query has a shortest
path from the initial state (:meth:`~ndcheck.engines.explicit.Graph.path_to`).  Predicates are
IR expressions, compiled once per query (:func:`~ndcheck.engines.pyexpr.compile_predicate`).
The answers are state ids and command indices; the checking layer decides what they mean for
a property and turns them into replayed traces.

Lassos (for ``eventually`` under fairness): a fair run never stays forever inside a strongly
connected component that it can leave, and a run that reaches a bottom SCC visits all its
states, so a fair run ends in a bottom SCC of the condensation (a final state is a bottom SCC of
its own).  A goal fails to be reached from a trigger state iff some goal-avoiding path from it
reaches a bottom SCC without goal states; :meth:`GraphQueries.lasso` returns the shortest path
to the first such trigger state, a shortest goal-avoiding path into that SCC and, if the SCC
has more than one state or a self loop, a shortest cycle back to the entry.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from ..model.ir import Expr
from .columns import Columns
from .explicit import Graph


@dataclass(frozen=True, slots=True)
class Lasso:
    """A path of command indices from the initial state; ``commands[loop_start:]`` enters and
    stays in a bottom SCC that holds no goal state."""

    commands: tuple[int, ...]
    loop_start: int


class GraphQueries:
    """Per-graph caches (state columns, adjacency, the strong components) and the queries on them.

    Predicates are evaluated over all states at once (:class:`~.columns.Columns`); the state
    tuples are decoded only where a caller reads ``states[sid]``."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.system = graph.system
        self._cols: Columns | None = None
        self._scc: tuple[list[int], list[bool], dict[int, list[int]]] | None = None  # scc()
        self._by_act: dict[int, np.ndarray] | None = None
        self._csr: tuple[list[int], list[int], list[int]] | None = None
        self._rev: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def states(self):
        """The state tuples by id (decoded on access)."""
        return self.graph.states

    @property
    def columns(self) -> Columns:
        if self._cols is None:
            self._cols = Columns(self.graph)
        return self._cols

    def _edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        g = self.graph
        return (np.frombuffer(g.src, dtype=np.int32), np.frombuffer(g.dst, dtype=np.int32),
                np.frombuffer(g.act, dtype=np.int32))

    # -- adjacency ------------------------------------------------------------------------
    def successors(self, u: int) -> list[tuple[int, int]]:
        """``(command, successor)`` pairs of state ``u``, in exploration order."""
        if self._csr is None:
            src, dst, act = self._edges()
            off = np.searchsorted(src, np.arange(self.graph.n_states + 1)).tolist()
            self._csr = (off, act.tolist(), dst.tolist())
        off, act_l, dst_l = self._csr
        lo, hi = off[u], off[u + 1]
        return list(zip(act_l[lo:hi], dst_l[lo:hi]))

    def _reverse(self) -> tuple[np.ndarray, np.ndarray]:
        """(row pointers, predecessor ids): the predecessors of ``v`` are ``pred[ptr[v]:ptr[v+1]]``."""
        if self._rev is None:
            src, dst, _ = self._edges()
            order = np.argsort(dst, kind="stable")
            ptr = np.searchsorted(dst[order], np.arange(self.graph.n_states + 1))
            self._rev = (ptr, src[order])
        return self._rev

    def scc(self) -> tuple[list[int], list[bool], dict[int, list[int]]]:
        """(component of each state, is each component bottom, members of each bottom component).

        Strong components by scipy's compiled Tarjan/Pearce search over the edge arrays (the
        networkx condensation took 31 s of a 50 s check on a 350k-state graph, building its
        DiGraph alone 16 s); a component is bottom iff no edge leaves it."""
        if self._scc is None:
            from scipy.sparse import csr_matrix
            from scipy.sparse.csgraph import connected_components

            g = self.graph
            n = g.n_states
            src = np.frombuffer(g.src, dtype=np.int32)
            dst = np.frombuffer(g.dst, dtype=np.int32)
            adj = csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
            n_comp, labels = connected_components(adj, directed=True, connection="strong")
            leaving = labels[src] != labels[dst]
            bottom = np.ones(n_comp, dtype=bool)
            bottom[labels[src[leaving]]] = False
            order = np.argsort(labels, kind="stable")  # members ascending within a component
            bounds = np.searchsorted(labels[order], np.arange(n_comp + 1))
            members = {int(c): order[bounds[c]:bounds[c + 1]].tolist() for c in np.flatnonzero(bottom)}
            self._scc = (labels.tolist(), bottom.tolist(), members)
        return self._scc

    def by_action(self) -> dict[int, np.ndarray]:
        """Edge indices per command, ascending (so by source id, then exploration order)."""
        if self._by_act is None:
            _, _, act = self._edges()
            order = np.argsort(act, kind="stable")
            cmds, starts = np.unique(act[order], return_index=True)
            ends = list(starts[1:]) + [len(order)]
            self._by_act = {int(a): order[lo:hi] for a, lo, hi in zip(cmds, starts, ends)}
        return self._by_act

    # -- queries --------------------------------------------------------------------------
    def first_state(self, e: Expr) -> int | None:
        """The lowest state id satisfying ``e`` (None: no explored state does)."""
        hits = np.flatnonzero(self.columns.mask(e))
        return int(hits[0]) if len(hits) else None

    def path_to(self, sid: int) -> list[int]:
        """The commands of a shortest path from the initial state to ``sid``."""
        return [a for a, _ in self.graph.path_to(sid)]

    def first_firing(self, selected: Iterable[tuple[int, Expr | None]]) -> tuple[int, int] | None:
        """The edge with the lowest source id (then exploration order) whose command is one of
        ``selected`` and whose pre-state satisfies the paired condition (None: any pre-state);
        returned as ``(source state, command)``."""
        by_act = self.by_action()
        src, _, act = self._edges()
        best: int | None = None
        for i, pre in selected:
            edges = by_act.get(i)
            if edges is None:
                continue
            if best is not None:
                edges = edges[:np.searchsorted(edges, best)]  # only earlier edges can win
            if not len(edges):
                continue
            if pre is not None and not (pre.op == "const" and pre.args[0]):
                if pre.op == "const":
                    continue
                edges = edges[self.columns.take(src[edges]).mask(pre)]
                if not len(edges):
                    continue
            best = int(edges[0])
        if best is None:
            return None
        return int(src[best]), int(act[best])

    def lasso(self, goal: Expr, trigger: Expr | None = None) -> Lasso | None:
        """A fair run from a ``trigger`` state (None: the initial state) that never reaches
        ``goal``, as a lasso; None when every fair run from every trigger state reaches it.
        The graph must not be truncated (frontier states would look like deadlocks)."""
        if self.graph.truncated:
            raise ValueError("lasso() needs a complete graph: a truncated one has no known bottom SCCs")
        is_goal = self.columns.mask(goal)
        comp, _, members = self.scc()  # members: of the bottom components
        bad_comps = {c for c, m in members.items() if not is_goal[m].any()}
        if not bad_comps:
            return None
        # States that can reach a goal-free bottom SCC along goal-free states: a backward
        # breadth-first search, one layer of predecessors per vector step.
        doomed = np.zeros(self.graph.n_states, dtype=bool)
        frontier = np.array([i for c in sorted(bad_comps) for i in members[c]], dtype=np.int64)
        doomed[frontier] = True
        ptr, pred = self._reverse()
        while len(frontier):
            lo, hi = ptr[frontier], ptr[frontier + 1]
            lengths = hi - lo
            total = int(lengths.sum())
            if not total:
                break
            idx = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths) + np.repeat(lo, lengths)
            cand = np.unique(pred[idx])
            cand = cand[~doomed[cand] & ~is_goal[cand]]
            doomed[cand] = True
            frontier = cand
        if trigger is None:
            start = 0 if doomed[0] else None
        else:
            hits = np.flatnonzero(doomed & self.columns.mask(trigger))
            start = int(hits[0]) if len(hits) else None
        if start is None:
            return None
        prefix = self.path_to(start)
        stem, entry = self._bfs(start, lambda v: doomed[v], lambda v: comp[v] in bad_comps)
        loop = self._cycle(entry, comp)
        return Lasso(tuple(prefix + stem + loop), len(prefix) + len(stem))

    # -- paths ----------------------------------------------------------------------------
    def _bfs(self, start: int, allowed: Callable[[int], bool],
             target: Callable[[int], bool]) -> tuple[list[int], int]:
        """Shortest command path from ``start`` to a ``target`` state through ``allowed`` states."""
        if target(start):
            return [], start
        parent: dict[int, tuple[int, int]] = {start: (-1, -1)}
        queue = deque([start])
        while queue:
            u = queue.popleft()
            for a, v in self.successors(u):
                if v in parent or not allowed(v):
                    continue
                parent[v] = (u, a)
                if target(v):
                    path = []
                    while v != start:
                        u2, a2 = parent[v]
                        path.append(a2)
                        v = u2
                    path.reverse()
                    return path, self._end(start, path)
                queue.append(v)
        raise AssertionError("no path to the target although one was computed")  # pragma: no cover

    def _end(self, start: int, path: list[int]) -> int:
        v = start
        for a in path:
            v = next(w for b, w in self.successors(v) if b == a)
        return v

    def _cycle(self, entry: int, comp: list[int]) -> list[int]:
        """A shortest cycle from ``entry`` back to itself inside its SCC (empty for a trivial SCC)."""
        c = comp[entry]
        for a, v in self.successors(entry):
            if v == entry:
                return [a]
        best: list[int] | None = None
        for a, v in self.successors(entry):
            if comp[v] != c:
                continue
            path, _ = self._bfs(v, lambda w: comp[w] == c, lambda w: w == entry)
            if best is None or len(path) + 1 < len(best):
                best = [a] + path
        return best or []
