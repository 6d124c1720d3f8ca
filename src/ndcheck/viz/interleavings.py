"""Counting interleavings: how many behaviours the product graph holds, three ways.

* :func:`graph_summary`: states, edges, terminal states (no successor), strongly connected
  components and whether the graph is acyclic.
* :func:`count_paths`: the number of complete paths (initial state to a terminal state).  When
  the graph has cycles there are infinitely many, so the count is taken in the condensation
  (each strongly connected component entered at most once, edges between components counted
  with their multiplicity) and flagged as such.
* :func:`wire_sequences`: the number of *distinct wire sequences* (what a capture can show) of
  each length, by determinising the product graph read as an automaton over wire packets:
  steps without packets are epsilon moves and a step sending two packets (SYN + MM #1, ND-8)
  shows them in either order, as in :mod:`ndcheck.checking.conform`.  Many paths show the
  same packets (a reception and a loss look alike on the sender's side), so this is the number
  of observably different interleavings.

>>> from ndcheck import CATALOG, build_system, explore
>>> g = explore(build_system(CATALOG["fig8-icmp-peer"]))
>>> s = graph_summary(g)
>>> s["states"] == g.n_states and s["acyclic"]
True
>>> count_paths(g).exact
True
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "PathCount",
    "WireCount",
    "bottom_components",
    "count_paths",
    "draw_wire_counts",
    "graph_summary",
    "wire_sequences",
]


def _digraph(graph):
    """A plain DiGraph over state ids with the number of parallel actions on each edge."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n_states))
    for u, v in zip(graph.src, graph.dst):
        if g.has_edge(u, v):
            g[u][v]["n"] += 1
        else:
            g.add_edge(u, v, n=1)
    return g


def graph_summary(graph) -> dict:
    """Sizes and shape of an explored graph (a dict, deterministic keys)."""
    import networkx as nx

    g = _digraph(graph)
    sccs = list(nx.strongly_connected_components(g))
    nontrivial = [c for c in sccs if len(c) > 1 or any(g.has_edge(v, v) for v in c)]
    terminal = sum(1 for v in g if g.out_degree(v) == 0)
    return {
        "scenario": graph.system.name,
        "states": graph.n_states,
        "edges": graph.n_edges,
        "terminal states": terminal,
        "strongly connected components": len(sccs),
        "cyclic components": len(nontrivial),
        "acyclic": not nontrivial,
        "truncated": graph.truncated,
    }


@dataclass(frozen=True, slots=True)
class PathCount:
    """Complete paths from the initial state to terminal states.

    ``exact`` is False when the graph has cycles: ``paths`` then counts paths of the
    condensation (each cycle traversed as one component), a lower bound on the behaviours.
    """

    paths: int
    terminal_states: int
    exact: bool
    longest: int          # edges on the longest path of the condensation
    shortest: int         # edges on the shortest complete path

    def __str__(self) -> str:
        kind = "complete paths" if self.exact else "complete paths of the condensation"
        return (f"{self.paths:,} {kind} to {self.terminal_states} terminal states, "
                f"{self.shortest}..{self.longest} steps long")


def count_paths(graph) -> PathCount:
    """Count the complete paths of an explored graph (see :class:`PathCount`)."""
    import networkx as nx

    g = _digraph(graph)
    cond = nx.condensation(g)
    comp = cond.graph["mapping"]
    mult: dict[tuple[int, int], int] = {}
    for u, v, d in g.edges(data=True):
        cu, cv = comp[u], comp[v]
        if cu != cv:
            mult[(cu, cv)] = mult.get((cu, cv), 0) + d["n"]
    exact = all(len(cond.nodes[c]["members"]) == 1 for c in cond) and nx.number_of_selfloops(g) == 0
    order = list(nx.topological_sort(cond))
    ways = {c: 0 for c in cond}
    longest = {c: -1 for c in cond}
    shortest: dict[int, int | None] = {c: None for c in cond}
    start = comp[0]
    ways[start], longest[start], shortest[start] = 1, 0, 0
    for c in order:
        if not ways[c]:
            continue
        for d in cond.successors(c):
            ways[d] += ways[c] * mult[(c, d)]
            longest[d] = max(longest[d], longest[c] + 1)
            s = shortest[c] + 1
            shortest[d] = s if shortest[d] is None else min(shortest[d], s)
    sinks = [c for c in cond if cond.out_degree(c) == 0 and ways[c]]
    terminal = sum(len(cond.nodes[c]["members"]) for c in sinks)
    return PathCount(sum(ways[c] for c in sinks), terminal, exact,
                     max((longest[c] for c in sinks), default=0),
                     min((shortest[c] for c in sinks if shortest[c] is not None), default=0))


@dataclass(frozen=True, slots=True)
class WireCount:
    """Distinct wire sequences by length: ``by_length[n]`` sequences of exactly n packets
    (every prefix of a behaviour counts), ``complete[n]`` of them can end in a terminal state.
    ``exhausted`` says no sequence is longer than ``len(by_length) - 1`` (the count is total)."""

    by_length: tuple[int, ...]
    complete: tuple[int, ...]
    exhausted: bool
    dfa_states: int

    @property
    def total(self) -> int:
        return sum(self.by_length)

    @property
    def total_complete(self) -> int:
        return sum(self.complete)


def wire_sequences(graph, max_len: int = 60) -> WireCount:
    """Count distinct wire sequences of up to ``max_len`` packets (see module docstring)."""
    system = graph.system
    cmd_wire = [tuple(p.wire() for p in c.wire) for c in system.commands]
    n = graph.n_states
    eps: list[list[int]] = [[] for _ in range(n)]
    sends: list[list[tuple[int, tuple[str, ...]]]] = [[] for _ in range(n)]
    for u, v, a in zip(graph.src, graph.dst, graph.act):
        (sends[u].append((v, cmd_wire[a])) if cmd_wire[a] else eps[u].append(v))
    terminal = [not eps[v] and not sends[v] for v in range(n)]

    def closure(nodes) -> frozenset:
        out = set(nodes)
        stack = [x for x in nodes if not x[1]]
        while stack:
            sid, _ = stack.pop()
            for v in eps[sid]:
                node = (v, ())
                if node not in out:
                    out.add(node)
                    stack.append(node)
        return frozenset(out)

    def moves(dstate) -> dict[str, frozenset]:
        nxt: dict[str, set] = {}
        for sid, pending in dstate:
            if pending:
                for i, p in enumerate(pending):
                    nxt.setdefault(p, set()).add((sid, pending[:i] + pending[i + 1:]))
                continue
            for v, w in sends[sid]:
                for i, p in enumerate(w):
                    nxt.setdefault(p, set()).add((v, w[:i] + w[i + 1:]))
        return {p: closure(s) for p, s in sorted(nxt.items())}

    cache: dict[frozenset, dict[str, frozenset]] = {}
    level = {closure([(0, ())]): 1}
    by_length, complete = [], []
    for _ in range(max_len + 1):
        by_length.append(sum(level.values()))
        complete.append(sum(c for d, c in level.items()
                            if any(not pend and terminal[sid] for sid, pend in d)))
        nxt_level: dict[frozenset, int] = {}
        for d, c in level.items():
            if d not in cache:
                cache[d] = moves(d)
            for d2 in cache[d].values():
                nxt_level[d2] = nxt_level.get(d2, 0) + c
        level = nxt_level
        if not level:
            break
    return WireCount(tuple(by_length), tuple(complete), not level, len(cache))


def draw_wire_counts(wc: WireCount, ax=None, title: str | None = None):
    """Bar chart of :func:`wire_sequences`: distinct wire sequences per length (log scale),
    with the complete ones (ending in a terminal state) overlaid; returns the Figure."""
    from ._figure import new_axes

    if ax is None:
        fig, ax = new_axes((9, 3.6))
    else:
        fig = ax.figure
    n = range(len(wc.by_length))
    ax.bar(n, wc.by_length, color="#9ecae1", label="all wire sequences (prefixes included)")
    ax.bar(n, wc.complete, color="#3182bd", label="complete (can end in a terminal state)")
    ax.set_yscale("log")
    ax.set_xlabel("packets on the wire")
    ax.set_ylabel("distinct sequences (log)")
    ax.legend(fontsize=8, frameon=False)
    ax.set_title(title or f"{wc.total:,} distinct wire sequences, {wc.total_complete:,} complete"
                 + ("" if wc.exhausted else " (cut at the length bound)"), fontsize=10)
    fig.tight_layout()
    return fig


def bottom_components(graph, fields=("client.tcp", "client.ike_i", "server.tcp", "server.ike_r")):
    """Where fair runs end: the bottom strongly connected components of the graph.

    Under fairness (a run does not stay forever in a component it can leave) every run ends in a
    bottom SCC; in an acyclic graph these are the terminal states.  Returns a
    :class:`~ndcheck.viz.tables.Table` grouping the bottom components by the labels of
    ``fields`` (one row per combination): how many components and states, and one state id.
    """
    import networkx as nx

    from .tables import Table

    g = _digraph(graph)
    cond = nx.condensation(g)
    system = graph.system
    idx = [system.index[f] for f in fields]
    groups: dict[tuple, list] = {}
    for c in sorted(cond, key=lambda c: min(cond.nodes[c]["members"])):
        if cond.out_degree(c):
            continue
        members = sorted(cond.nodes[c]["members"])
        key = tuple(system.fields[i].label(graph.states[members[0]][i]) for i in idx)
        groups.setdefault(key, []).append(members)
    rows = tuple((*k, str(len(v)), str(sum(len(m) for m in v)), str(v[0][0]))
                 for k, v in sorted(groups.items(), key=lambda kv: -sum(len(m) for m in kv[1])))
    return Table((*fields, "bottom SCCs", "states", "example state"), rows,
                 f"{graph.system.name}: where fair runs end")
