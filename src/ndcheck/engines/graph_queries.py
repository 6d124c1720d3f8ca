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

from ..model.ir import Expr
from .explicit import Graph
from .pyexpr import compile_predicate


@dataclass(frozen=True, slots=True)
class Lasso:
    """A path of command indices from the initial state; ``commands[loop_start:]`` enters and
    stays in a bottom SCC that holds no goal state."""

    commands: tuple[int, ...]
    loop_start: int


class GraphQueries:
    """Per-graph caches (decoded states, adjacency, the condensation) and the queries on them."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.system = graph.system
        self.states = list(graph.states)
        self._scc: tuple[list[int], list[bool], dict[int, list[int]]] | None = None  # scc()
        self._succ: list[list[tuple[int, int]]] | None = None
        self._pred: list[list[int]] | None = None
        self._by_act: dict[int, list[int]] | None = None

    # -- adjacency ------------------------------------------------------------------------
    def succ(self) -> list[list[tuple[int, int]]]:
        """``(command, successor)`` pairs of every state."""
        if self._succ is None:
            g = self.graph
            out: list[list[tuple[int, int]]] = [[] for _ in range(g.n_states)]
            for u, v, a in zip(g.src, g.dst, g.act):
                out[u].append((a, v))
            self._succ = out
        return self._succ

    def pred(self) -> list[list[int]]:
        """Predecessor states of every state."""
        if self._pred is None:
            g = self.graph
            out: list[list[int]] = [[] for _ in range(g.n_states)]
            for u, v in zip(g.src, g.dst):
                out[v].append(u)
            self._pred = out
        return self._pred

    def scc(self) -> tuple[list[int], list[bool], dict[int, list[int]]]:
        """(component of each state, is each component bottom, members of each bottom component).

        Strong components by scipy's compiled Tarjan/Pearce search over the edge arrays (the
        networkx condensation took 31 s of a 50 s check on a 350k-state graph, building its
        DiGraph alone 16 s); a component is bottom iff no edge leaves it."""
        if self._scc is None:
            import numpy as np
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

    def by_action(self) -> dict[int, list[int]]:
        """Edge indices per command, ascending (so by source id, then exploration order)."""
        if self._by_act is None:
            import numpy as np

            act = np.frombuffer(self.graph.act, dtype=np.int32)
            order = np.argsort(act, kind="stable")
            cmds, starts = np.unique(act[order], return_index=True)
            ends = list(starts[1:]) + [len(order)]
            self._by_act = {int(a): order[lo:hi].tolist() for a, lo, hi in zip(cmds, starts, ends)}
        return self._by_act

    # -- queries --------------------------------------------------------------------------
    def first_state(self, e: Expr) -> int | None:
        """The lowest state id satisfying ``e`` (None: no explored state does)."""
        pred = compile_predicate(self.system, e)
        for i, s in enumerate(self.states):
            if pred(s):
                return i
        return None

    def path_to(self, sid: int) -> list[int]:
        """The commands of a shortest path from the initial state to ``sid``."""
        return [a for a, _ in self.graph.path_to(sid)]

    def first_firing(self, selected: Iterable[tuple[int, Expr | None]]) -> tuple[int, int] | None:
        """The edge with the lowest source id (then exploration order) whose command is one of
        ``selected`` and whose pre-state satisfies the paired condition (None: any pre-state);
        returned as ``(source state, command)``."""
        by_act = self.by_action()
        states, src = self.states, self.graph.src
        best: int | None = None
        for i, pre in selected:
            edges = by_act.get(i)
            if not edges:
                continue
            if pre is not None and pre.op == "const":
                if pre.args[0] == 0:
                    continue
                pre = None
            f = compile_predicate(self.system, pre) if pre is not None else None
            for k in edges:
                if best is not None and k >= best:
                    break
                if f is None or f(states[src[k]]):
                    best = k
                    break
        if best is None:
            return None
        return src[best], self.graph.act[best]

    def lasso(self, goal: Expr, trigger: Expr | None = None) -> Lasso | None:
        """A fair run from a ``trigger`` state (None: the initial state) that never reaches
        ``goal``, as a lasso; None when every fair run from every trigger state reaches it.
        The graph must not be truncated (frontier states would look like deadlocks)."""
        if self.graph.truncated:
            raise ValueError("lasso() needs a complete graph: a truncated one has no known bottom SCCs")
        n = self.graph.n_states
        goal_f = compile_predicate(self.system, goal)
        is_goal = [goal_f(s) for s in self.states]
        comp, bottom, members = self.scc()
        bad_comps = {c for c, m in members.items() if bottom[c] and not any(is_goal[i] for i in m)}
        if not bad_comps:
            return None
        # States that can reach a goal-free bottom SCC along goal-free states.
        doomed = [False] * n
        queue = deque(i for c in sorted(bad_comps) for i in members[c])
        for i in queue:
            doomed[i] = True
        pred = self.pred()
        while queue:
            v = queue.popleft()
            for u in pred[v]:
                if not doomed[u] and not is_goal[u]:
                    doomed[u] = True
                    queue.append(u)
        if trigger is None:
            start = 0 if doomed[0] else None
        else:
            trig = compile_predicate(self.system, trigger)
            start = next((i for i, s in enumerate(self.states) if doomed[i] and trig(s)), None)
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
        succ = self.succ()
        parent: dict[int, tuple[int, int]] = {start: (-1, -1)}
        queue = deque([start])
        while queue:
            u = queue.popleft()
            for a, v in succ[u]:
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
        succ = self.succ()
        for a in path:
            v = next(w for b, w in succ[v] if b == a)
        return v

    def _cycle(self, entry: int, comp: list[int]) -> list[int]:
        """A shortest cycle from ``entry`` back to itself inside its SCC (empty for a trivial SCC)."""
        succ = self.succ()
        c = comp[entry]
        for a, v in succ[entry]:
            if v == entry:
                return [a]
        best: list[int] | None = None
        for a, v in succ[entry]:
            if comp[v] != c:
                continue
            path, _ = self._bfs(v, lambda w: comp[w] == c, lambda w: w == entry)
            if best is None or len(path) + 1 < len(best):
                best = [a] + path
        return best or []
