"""Explicit-state exploration: BFS over the compiled successor function into a product graph.

The explorer keeps its own compact structures (a dict from state tuple to integer id, edge
arrays, BFS parent pointers); the networkx graph is built from them on demand
(:meth:`Graph.to_networkx`).  Bounds (``max_states``, ``timeout``, channel capacity overflow)
mark the result truncated; a truncated graph never yields ``holds``.
"""

from __future__ import annotations

import time
from array import array
from dataclasses import dataclass, field
from typing import Callable

from ..model.ir import System
from .codegen import compile_successors


@dataclass
class Graph:
    """The explored product graph of one system."""

    system: System
    states: list[tuple[int, ...]]
    src: array
    dst: array
    act: array
    parent: array
    parent_act: array
    truncated: bool = False
    reason: str = ""
    seconds: float = 0.0
    overflow_states: int = 0
    _nx: object = field(default=None, repr=False)

    @property
    def n_states(self) -> int:
        return len(self.states)

    @property
    def n_edges(self) -> int:
        return len(self.src)

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
        """(command, successor id) pairs of a state (linear in edges; for small uses)."""
        if not hasattr(self, "_out"):
            out: dict[int, list[tuple[int, int]]] = {}
            for u, v, a in zip(self.src, self.dst, self.act):
                out.setdefault(u, []).append((a, v))
            self._out = out
        return self._out.get(sid, [])


def explore(system: System, max_states: int | None = None, timeout: float | None = None,
            progress: Callable[[int, int], None] | None = None) -> Graph:
    """Breadth-first exploration of every reachable state (within the bounds)."""
    sc = system.constants.get("scenario")
    if max_states is None:
        max_states = sc.bounds.max_states if sc else 2_000_000
    if timeout is None:
        timeout = sc.bounds.timeout if sc else 300.0
    succ, _ = compile_successors(system)
    t0 = time.perf_counter()
    init = system.init
    ids: dict[tuple[int, ...], int] = {init: 0}
    states = [init]
    src, dst, act = array("i"), array("i"), array("i")
    parent, parent_act = array("i", [0]), array("i", [-1])
    truncated, reason = False, ""
    overflow = 0
    i = 0
    next_report = 2000
    while i < len(states):
        s = states[i]
        out, ovf = succ(s)
        if ovf:
            overflow += 1
        for a, t in out:
            j = ids.get(t)
            if j is None:
                if len(states) >= max_states:
                    truncated, reason = True, f"max-states {max_states} reached"
                    break
                j = len(states)
                ids[t] = j
                states.append(t)
                parent.append(i)
                parent_act.append(a)
            src.append(i)
            dst.append(j)
            act.append(a)
        if truncated:
            break
        i += 1
        if i >= next_report:
            next_report += 2000
            if progress:
                progress(i, len(states))
            if time.perf_counter() - t0 > timeout:
                truncated, reason = True, f"timeout {timeout:g}s reached"
                break
    if overflow and not truncated:
        truncated, reason = True, (f"channel capacity {sc.network.capacity if sc else '?'} "
                                   f"exceeded in {overflow} states")
    if progress:
        progress(i, len(states))
    return Graph(system, states, src, dst, act, parent, parent_act, truncated, reason,
                 time.perf_counter() - t0, overflow)
