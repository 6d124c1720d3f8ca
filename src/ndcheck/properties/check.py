"""Explicit checking: every applicable property of a scenario on its explored product graph.

How each kind is decided on the graph (states numbered in BFS order, so the lowest id that
refutes a property has the shortest path from the initial state):

* ``always``: a scan of the states with the predicate compiled to a Python lambda; the first
  failing state gives the shortest counterexample.
* ``never_action``: a scan of the edges; an edge is a violation when its command is selected and
  the property's ``pre`` holds in the edge's source state.  The counterexample is the shortest
  path to that source state plus the firing command.
* ``sometimes``: the first state satisfying the predicate is the (shortest) witness.
* ``eventually``: under **fairness** — a run never stays forever inside a strongly connected
  component that it can leave (such a path is unfair: it ignores a step that stays enabled
  again and again), and a run that reaches a bottom SCC visits all its states.  So a fair run
  ends in a bottom SCC of the condensation (a final state is a bottom SCC of its own).  The
  property fails iff, from a trigger state, some path avoiding goal states reaches a bottom SCC
  that contains no goal state; the counterexample is a lasso: the shortest path to the first
  such trigger state, a shortest goal-avoiding path into that bottom SCC (``loop_start`` marks
  the entry) and, if the SCC has more than one state or a self loop, a cycle back to the entry.

Truncation is never a pass: on a truncated graph anything not refuted is ``undetermined`` (and
``eventually`` is always ``undetermined``: frontier states look like deadlocks).  Every trace is
built by :func:`~ndcheck.properties.trace.trace_from_commands`, so it is replayed through the IR
and the python-statemachine instances before it is returned.

Expected verdicts come from the scenario's ``[expect]`` table (keys are property ids or names).
The built-in catalog lists every applicable property explicitly; a property without an entry is
expected to ``hold``.  An entry for an unknown or inapplicable property is bad input.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ..engines.explicit import Graph, explore
from ..engines.pyexpr import compile_predicate
from ..model.compose import build_system
from ..model.ir import System
from ..model.scenario import Scenario, ScenarioError, get_scenario
from .base import Property, Verdict
from .catalog import PROPERTIES, UnknownProperty, get_property
from .trace import Trace, trace_from_commands

ENGINES = ("explicit", "z3", "both")

__all__ = [
    "ENGINES",
    "PROPERTIES",
    "CheckResult",
    "EngineUnavailable",
    "applicable",
    "check",
    "check_graph",
    "compile_predicate",
    "get_property",
    "shortest_trace",
]


class EngineUnavailable(ValueError):
    """The requested engine is not installed or not built yet."""


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Verdicts of one scenario: graph size, time, and one :class:`Verdict` per (property, engine)."""

    scenario: str
    states: int
    edges: int
    truncated: bool
    seconds: float
    verdicts: tuple[Verdict, ...]
    reason: str = ""
    skipped: tuple[str, ...] = field(default=())   # property ids that do not apply

    @property
    def as_expected(self) -> bool:
        return all(v.as_expected for v in self.verdicts)

    @property
    def unexpected(self) -> list[Verdict]:
        """Verdicts that differ from the expectation (other than an unexpected 'undetermined')."""
        return [v for v in self.verdicts if not v.as_expected and v.verdict != "undetermined"]

    @property
    def undetermined(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.verdict == "undetermined" and not v.as_expected]

    def verdict(self, pid: str, engine: str = "explicit") -> Verdict:
        """The verdict of one property (by id or name)."""
        p = get_property(pid)
        for v in self.verdicts:
            if v.property.id == p.id and v.engine == engine:
                return v
        raise KeyError(f"{p.id} was not checked on {self.scenario} with engine {engine}")

    def matrix(self) -> dict[str, str]:
        """``{property id: verdict}`` for the explicit engine (or the only engine used)."""
        out: dict[str, str] = {}
        for v in self.verdicts:
            out.setdefault(v.property.id, v.verdict)
        return out

    def to_json(self) -> dict:
        """The ``check --json`` object of DESIGN.md."""
        return {
            "scenario": self.scenario, "states": self.states, "edges": self.edges,
            "truncated": self.truncated, "seconds": round(self.seconds, 3),
            "properties": [{
                "id": v.property.id, "name": v.property.name, "kind": v.property.kind,
                "verdict": v.verdict, "expected": v.expected, "engine": v.engine,
                "trace": v.trace.to_json() if isinstance(v.trace, Trace) else None,
            } for v in self.verdicts],
        }


# --------------------------------------------------------------------------------------------
# Predicates compiled to lambdas over state tuples
# --------------------------------------------------------------------------------------------

# --------------------------------------------------------------------------------------------
# Checking one graph
# --------------------------------------------------------------------------------------------


def applicable(system: System, properties: Iterable[Property] | None = None) -> list[Property]:
    """The properties (default: the whole catalog) that apply to ``system``, in catalog order."""
    return [p for p in (PROPERTIES if properties is None else properties) if p.applies(system)]


class _Checker:
    """Per-graph caches: decoded states, the bottom-SCC structure, reverse adjacency."""

    def __init__(self, graph: Graph):
        self.g = graph
        self.sys = graph.system
        self.states = list(graph.states)
        self._scc: tuple[list[int], list[bool], dict[int, list[int]]] | None = None
        self._succ: list[list[tuple[int, int]]] | None = None
        self._pred: list[list[int]] | None = None
        self._by_act: dict[int, list[int]] | None = None

    # -- adjacency ------------------------------------------------------------------------
    def succ(self) -> list[list[tuple[int, int]]]:
        if self._succ is None:
            out: list[list[tuple[int, int]]] = [[] for _ in range(self.g.n_states)]
            for u, v, a in zip(self.g.src, self.g.dst, self.g.act):
                out[u].append((a, v))
            self._succ = out
        return self._succ

    def pred(self) -> list[list[int]]:
        if self._pred is None:
            out: list[list[int]] = [[] for _ in range(self.g.n_states)]
            for u, v in zip(self.g.src, self.g.dst):
                out[v].append(u)
            self._pred = out
        return self._pred

    def scc(self) -> tuple[list[int], list[bool], dict[int, list[int]]]:
        """(component of each state, is each component bottom, members of each component)."""
        if self._scc is None:
            import networkx as nx

            dg = nx.DiGraph()
            dg.add_nodes_from(range(self.g.n_states))
            dg.add_edges_from(zip(self.g.src, self.g.dst))
            cond = nx.condensation(dg)
            mapping = cond.graph["mapping"]
            comp = [mapping[i] for i in range(self.g.n_states)]
            bottom = [cond.out_degree(c) == 0 for c in range(cond.number_of_nodes())]
            members = {c: sorted(cond.nodes[c]["members"]) for c in range(cond.number_of_nodes())}
            self._scc = (comp, bottom, members)
        return self._scc

    # -- kinds ----------------------------------------------------------------------------
    def first_state(self, pred: Callable[[Sequence[int]], bool]) -> int | None:
        for i, s in enumerate(self.states):
            if pred(s):
                return i
        return None

    def check(self, p: Property, traces: bool = True) -> tuple[str, Trace | None, str]:
        g, sysm = self.g, self.sys
        if p.kind == "always":
            assert p.state is not None
            ok = compile_predicate(sysm, p.state(sysm))
            sid = self.first_state(lambda s: not ok(s))
            if sid is None:
                return ("undetermined" if g.truncated else "holds"), None, ""
            return "violated", self._to_state(sid, p, "counterexample") if traces else None, ""
        if p.kind == "sometimes":
            assert p.state is not None
            sid = self.first_state(compile_predicate(sysm, p.state(sysm)))
            if sid is None:
                return ("undetermined" if g.truncated else "violated"), None, "no witness"
            return "holds", self._to_state(sid, p, "witness") if traces else None, ""
        if p.kind == "never_action":
            hit = self._first_firing(p)
            if hit is None:
                return ("undetermined" if g.truncated else "holds"), None, ""
            u, a = hit
            trace = None
            if traces:
                cmds = [c for c, _ in g.path_to(u)] + [a]
                trace = trace_from_commands(sysm, cmds, p.id, "counterexample")
            return "violated", trace, ""
        if p.kind == "eventually":
            if g.truncated:
                return "undetermined", None, "graph truncated: bottom SCCs unknown"
            return self._eventually(p, traces)
        raise ValueError(f"{p.id}: unknown property kind {p.kind!r}")

    def _to_state(self, sid: int, p: Property, kind: str) -> Trace:
        return trace_from_commands(self.sys, [a for a, _ in self.g.path_to(sid)], p.id, kind)

    def by_action(self) -> dict[int, list[int]]:
        """Edge indices per command, ascending (so by source id, then exploration order)."""
        if self._by_act is None:
            out: dict[int, list[int]] = {}
            for k, a in enumerate(self.g.act):
                lst = out.get(a)
                if lst is None:
                    out[a] = [k]
                else:
                    lst.append(k)
            self._by_act = out
        return self._by_act

    def _first_firing(self, p: Property) -> tuple[int, int] | None:
        """The firing edge with the lowest source id (then exploration order): (state, command)."""
        sysm = self.sys
        by_act = self.by_action()
        states, src = self.states, self.g.src
        best: int | None = None
        for i, c in enumerate(sysm.commands):
            edges = by_act.get(i)
            if not edges or p.actions is None or not p.actions(sysm, c):
                continue
            pre = p.pre(sysm, c) if p.pre else None
            if pre is not None and pre.op == "const":
                if pre.args[0] == 0:
                    continue
                pre = None
            f = compile_predicate(sysm, pre) if pre is not None else None
            for k in edges:
                if best is not None and k >= best:
                    break
                if f is None or f(states[src[k]]):
                    best = k
                    break
        if best is None:
            return None
        return src[best], self.g.act[best]

    def _eventually(self, p: Property, traces: bool) -> tuple[str, Trace | None, str]:
        sysm, g = self.sys, self.g
        assert p.state is not None
        goal_f = compile_predicate(sysm, p.state(sysm))
        goal = [goal_f(s) for s in self.states]
        comp, bottom, members = self.scc()
        bad_comps = {c for c, m in members.items() if bottom[c] and not any(goal[i] for i in m)}
        if not bad_comps:
            return "holds", None, ""
        # States that can reach a goal-free bottom SCC along goal-free states.
        doomed = [False] * g.n_states
        queue = deque(i for c in sorted(bad_comps) for i in members[c])
        for i in queue:
            doomed[i] = True
        pred = self.pred()
        while queue:
            v = queue.popleft()
            for u in pred[v]:
                if not doomed[u] and not goal[u]:
                    doomed[u] = True
                    queue.append(u)
        if p.trigger is None:
            start = 0 if doomed[0] else None
        else:
            trig = compile_predicate(sysm, p.trigger(sysm))
            start = next((i for i, s in enumerate(self.states) if doomed[i] and trig(s)), None)
        if start is None:
            return "holds", None, ""
        if not traces:
            return "violated", None, ""
        prefix = [a for a, _ in g.path_to(start)]
        stem, entry = self._bfs(start, lambda v: doomed[v], lambda v: comp[v] in bad_comps)
        loop = self._cycle(entry, comp)
        cmds = prefix + stem + loop
        loop_start = len(prefix) + len(stem)
        return "violated", trace_from_commands(sysm, cmds, p.id, "lasso", loop_start), ""

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


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

Target = str | Scenario | System | Graph


def _graph_for(target: Target, max_states: int | None, timeout: float | None,
               progress=None) -> Graph:
    if isinstance(target, Graph):
        return target
    if isinstance(target, str):
        target = get_scenario(target)
    if isinstance(target, Scenario):
        target = build_system(target.with_bounds(max_states, timeout))
        return explore(target, progress=progress)
    if isinstance(target, System):
        return explore(target, max_states=max_states, timeout=timeout, progress=progress)
    raise TypeError(f"check() takes a scenario name, Scenario, System or Graph, not {type(target).__name__}")


def expectations(system: System, props: Sequence[Property]) -> dict[str, str]:
    """``{property id: expected verdict}`` for the applicable ``props`` from the scenario's [expect].

    Raises :class:`ScenarioError` for an entry naming an unknown or inapplicable property.
    """
    sc = system.constants.get("scenario")
    raw = dict(sc.expect) if sc is not None else {}
    source = sc.source if sc is not None else system.name
    out: dict[str, str] = {}
    for key, verdict in raw.items():
        try:
            p = get_property(key)
        except UnknownProperty as e:
            raise ScenarioError(f"{source}: [expect] {e}") from None
        if not p.applies(system):
            raise ScenarioError(
                f"{source}: [expect] {key}: property {p.id} ({p.name}) does not apply to scenario "
                f"{system.name!r}; remove the entry")
        out[p.id] = verdict
    return {p.id: out.get(p.id, "holds") for p in props}


def _z3_check_safety():
    try:
        from ..engines import symbolic
    except ImportError as e:
        raise EngineUnavailable(f"the z3 engine is not available ({e}); use --engine explicit") from None
    fn = getattr(symbolic, "check_safety", None)
    if fn is None:
        raise EngineUnavailable("the z3 engine does not provide check_safety yet; "
                                "use --engine explicit")
    return fn


def _z3_verdict(fn, system: System, p: Property, timeout: float | None) -> tuple[str, object, str]:
    res = fn(system, p, timeout=timeout) if timeout is not None else fn(system, p)
    if isinstance(res, tuple):
        verdict, trace = res[0], (res[1] if len(res) > 1 else None)
        return str(verdict), trace, ""
    return str(res.verdict), getattr(res, "trace", None), str(getattr(res, "note", "") or "")


def check_graph(graph: Graph, properties: Iterable[Property | str] | None = None, *,
                engine: str = "explicit", traces: bool = True, timeout: float | None = None) -> CheckResult:
    """Check the applicable ``properties`` (default: all) on an explored graph."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")
    t0 = time.perf_counter()
    system = graph.system
    props = None if properties is None else [get_property(p) if isinstance(p, str) else p
                                             for p in properties]
    todo = applicable(system, props)
    skipped = tuple(p.id for p in (PROPERTIES if props is None else props) if p not in todo)
    expected = expectations(system, todo)
    z3fn = _z3_check_safety() if engine in ("z3", "both") else None
    ck = _Checker(graph)
    verdicts: list[Verdict] = []
    for p in todo:
        if engine in ("explicit", "both") or not p.safety:
            v, tr, note = ck.check(p, traces)
            verdicts.append(Verdict(p, v, "explicit", expected[p.id], tr, note or p.note))
        if z3fn is not None and p.safety:
            v, tr, note = _z3_verdict(z3fn, system, p, timeout)
            verdicts.append(Verdict(p, v, "z3", expected[p.id], tr, note))
    if engine == "both":
        verdicts = _mark_disagreements(verdicts)
    return CheckResult(system.name, graph.n_states, graph.n_edges, graph.truncated,
                       graph.seconds + (time.perf_counter() - t0), tuple(verdicts), graph.reason,
                       skipped)


def _mark_disagreements(verdicts: list[Verdict]) -> list[Verdict]:
    by_id: dict[str, dict[str, str]] = {}
    for v in verdicts:
        by_id.setdefault(v.property.id, {})[v.engine] = v.verdict
    out = []
    for v in verdicts:
        seen = by_id[v.property.id]
        if len(seen) == 2 and len(set(seen.values())) == 2 and "undetermined" not in seen.values():
            v = Verdict(v.property, v.verdict, v.engine, v.expected, v.trace,
                        f"engines disagree: explicit {seen['explicit']}, z3 {seen['z3']}")
        out.append(v)
    return out


def check(target: Target, properties: Iterable[Property | str] | None = None, *,
          max_states: int | None = None, timeout: float | None = None, engine: str = "explicit",
          traces: bool = True, progress=None) -> CheckResult:
    """Explore a scenario (name, Scenario, System or explored Graph) and check its properties.

    >>> r = check("fig8-silent-peer")
    >>> r.verdict("H-1").verdict, r.as_expected
    ('holds', True)
    """
    graph = _graph_for(target, max_states, timeout, progress)
    return check_graph(graph, properties, engine=engine, traces=traces, timeout=timeout)


def shortest_trace(target: Target, property_id: str, *, max_states: int | None = None,
                   timeout: float | None = None) -> Trace | None:
    """The shortest counterexample (always / never_action), witness (sometimes) or lasso
    (eventually) for one property; None when the property holds (or has no witness).

    >>> t = shortest_trace("guaranteed-encryption", "S-7")
    >>> t.steps[0].wire[0]
    'client>server SYN clear'
    """
    p = get_property(property_id)
    graph = _graph_for(target, max_states, timeout)
    if not p.applies(graph.system):
        raise ScenarioError(f"property {p.id} ({p.name}) does not apply to scenario "
                            f"{graph.system.name!r}")
    _, trace, _ = _Checker(graph).check(p, traces=True)
    return trace if isinstance(trace, Trace) else None
