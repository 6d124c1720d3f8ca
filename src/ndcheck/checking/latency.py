"""Latency: the least and the greatest time from one event to another over all runs (UPPAAL's
``inf``/``sup``), on the explored graph of a timed scenario (``time.mode = "timed"``).

A query starts at every step that performs its *from* event and ends at the first later step
that performs its *to* event (or enters a state where it holds).  Time is the number of ``tick``
steps between (:data:`~ndcheck.model.timing.TICK`), times the scenario's unit.  ``min`` is a
0-1 breadth-first search; ``max`` is a longest path over the part of the graph between the two
events: the states reachable from a start without passing the end and from which the end is
still reachable.  If that part has a cycle through a tick, time can pass there without bound
and ``max`` is ``None`` with ``unbounded`` set; a query whose end is never reached after its
start has ``min`` and ``max`` ``None``.  Runs that start and never reach the end (the
connection fails) are not counted; ``always`` says whether every run from a start reaches the
end.  Each extreme comes with its trace, replayed like any other.

Built-in queries (issue 14): ``tcp-established`` (the client's SYN sent -> client ESTABLISHED),
``first-protected`` (SYN sent -> the first ESP segment of the flow on the wire),
``longest-stall`` (the longest interval in which data a host has sent is not yet delivered in
order, while both ends are synchronized), ``ike-give-up`` (the client's MM #1 -> its initiator
FAILED); and ``ike-complete`` (SYN sent -> the client's outbound SA usable: Quick Mode done,
CONNECTED received where the commit bit is in use).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ..engines.pyexpr import compile_predicate
from ..model.ir import Expr, F, System, and_, lt, not_, or_
from ..model.timing import TICK
from ..properties.predicates import SYNCHRONIZED, flag, in_state
from ..traces.trace import Trace, trace_from_commands

__all__ = ["QUERIES", "Latency", "Query", "SweepPoint", "latencies", "latency", "step_times",
           "sweep", "timed", "within"]

EdgePred = Callable[[int], bool]           # command index -> the step performs the event
#: What a query's start or end is, built from the system: a step (an edge predicate) and/or a
#: state condition (an IR expression, compiled once per query).
Event = Callable[[System], tuple[EdgePred | None, Expr | None]]


@dataclass(frozen=True, slots=True)
class Query:
    """A latency query: ``start(system)`` and ``end(system)`` build the events."""

    id: str
    frm: str
    to: str
    start: Event
    end: Event


@dataclass(frozen=True, slots=True)
class Latency:
    id: str
    frm: str
    to: str
    min: int | None               # ms
    max: int | None               # ms (None: unreachable, or unbounded)
    unbounded: bool
    always: bool                  # every run from a start reaches the end
    min_trace: Trace | None
    max_trace: Trace | None
    never_trace: Trace | None = None   # a run from a start that can no longer reach the end

    def to_json(self) -> dict:
        return {"id": self.id, "from": self.frm, "to": self.to, "min": self.min, "max": self.max,
                "unbounded": self.unbounded, "always": self.always,
                "trace": self.max_trace.to_json() if self.max_trace else None,
                "min_trace": self.min_trace.to_json() if self.min_trace else None}


def timed(sc):
    """The scenario as a timed one: an untimed scenario runs with its timer knobs (or the
    defaults); ``tcp.premature_timeouts`` has no timed meaning (a timer fires at its deadline)."""
    if sc.time.timed:
        return sc
    return replace(sc, time=replace(sc.time, mode="timed"),
                   tcp=replace(sc.tcp, premature_timeouts=False))


# -- events -------------------------------------------------------------------------------------

def _event(key: str, ev: str) -> Event:
    def build(system: System):
        hits = {i for i, c in enumerate(system.commands) if any(k == key and e == ev for k, e, _ in c.events)}
        return hits.__contains__, None
    return build


def _state(cond: Callable[[System], Expr]) -> Event:
    return lambda system: (None, cond(system))


def _esp_sent(system: System):
    hits = {i for i, c in enumerate(system.commands)
            if any(p.protection == "esp" for p in c.wire)}
    return hits.__contains__, None


def _stalled(system: System) -> Expr:
    """Both ends synchronized and some data sent that the peer has not received in order."""
    return and_(in_state(system, "client.tcp", *SYNCHRONIZED), in_state(system, "server.tcp", *SYNCHRONIZED),
                or_(lt(F("server.rcv_nxt"), F("client.snd_nxt")), lt(F("client.rcv_nxt"), F("server.snd_nxt"))))


QUERIES: dict[str, Query] = {q.id: q for q in (
    Query("tcp-established", "client.tcp.send_syn", "client.tcp ESTABLISHED",
          _event("client.tcp", "send_syn"), _state(lambda s: in_state(s, "client.tcp", "established"))),
    Query("first-protected", "client.tcp.send_syn", "first ESP segment on the wire",
          _event("client.tcp", "send_syn"), _esp_sent),
    Query("longest-stall", "data sent, not yet delivered in order", "delivered (or a TCP end left "
          "the synchronized states)", _state(_stalled), _state(lambda s: not_(_stalled(s)))),
    Query("ike-give-up", "client MM #1 (client.ike_i.acquire_mm)", "client.ike_i FAILED",
          _event("client.ike_i", "acquire_mm"), _state(lambda s: in_state(s, "client.ike_i", "failed"))),
    Query("ike-complete", "client.tcp.send_syn", "the client's outbound SA usable (client.sa_out)",
          _event("client.tcp", "send_syn"), _state(lambda s: flag("client", "sa_out"))),
)}


def within(graph, p, traces: bool = True) -> tuple[str, Trace | None, str]:
    """The verdict of a ``within`` property (:mod:`ndcheck.properties.base`) on an explored timed
    graph: ``violated`` with a trace when some run from a trigger state exceeds the bound before
    the goal, lets time pass without bound, or can no longer reach the goal; else ``holds``
    (``vacuous`` is decided by the caller from the trigger)."""
    system = graph.system
    sc = system.scenario
    if sc is None or not sc.time.timed:
        return "undetermined", None, "a within property needs a timed scenario (time.mode)"
    q = Query(p.id, p.antecedent, p.name, _state(p.trigger), _state(p.state))
    r = latency(graph, q, sc.time.unit_ms, every=True)
    bound = p.bound(system)

    def cex(tr: Trace | None) -> Trace | None:
        return replace(tr, kind="counterexample") if tr is not None and traces else None

    if r.unbounded:
        return "violated", None, f"time passes without bound before {p.name} (a cycle through a tick)"
    if not r.always:
        return "violated", cex(r.never_trace), \
            f"a run from the trigger can no longer reach the goal (bound {bound} ms)"
    if r.max is not None and r.max > bound:
        return "violated", cex(r.max_trace), f"{r.max} ms > {bound} ms"
    return "holds", None, "" if r.max is None else f"at most {r.max} ms (bound {bound} ms)"


# -- the search ------------------------------------------------------------------------------

def latency(graph, query: Query, unit_ms: int, every: bool = False) -> Latency:
    """Least and greatest time (ms) from ``query``'s start to its end over the runs of ``graph``
    (an explored timed system).  A start condition given as a state predicate starts where a
    run enters it, or with ``every`` in each state where it holds (bounded response)."""
    system = graph.system
    tick = next((i for i, c in enumerate(system.commands) if c.name == TICK), None)
    if tick is None:
        raise ValueError(f"{system.name} is not timed (no {TICK} step)")
    n = graph.n_states
    states, succ = _adjacency(graph)
    s_edge, s_cond = query.start(system)
    e_edge, e_cond = query.end(system)
    # each state condition evaluated once per state
    s_at = _holds(system, s_cond, states)
    e_at = _holds(system, e_cond, states)

    def ends(a: int, v: int) -> bool:
        return bool((e_edge and e_edge(a)) or e_at[v])

    # Starts: (entry node, the step into it or None for the initial state).
    starts: dict[int, int | None] = {}
    if s_at[0]:
        starts[0] = None
    for u in range(n):
        for a, v in succ[u]:
            if v in starts:
                continue
            if (s_edge and s_edge(a)) or (s_at[v] and (every or not s_at[u])):
                starts[v] = a
    # Between the events: reachable from a start without passing an end.
    region: set[int] = set()
    dq = deque(s for s in starts if not e_at[s])
    zero = [s for s in starts if e_at[s]]
    region.update(dq)
    while dq:
        u = dq.popleft()
        for a, v in succ[u]:
            if not ends(a, v) and v not in region:
                region.add(v)
                dq.append(v)
    # ... and from which the end is reachable (co-reachable inside the region).
    pred: dict[int, list[int]] = {u: [] for u in region}
    live: set[int] = set()
    for u in region:
        for a, v in succ[u]:
            if ends(a, v):
                live.add(u)
            elif v in region:
                pred[v].append(u)
    dq = deque(live)
    while dq:
        v = dq.popleft()
        for u in pred[v]:
            if u not in live:
                live.add(u)
                dq.append(u)
    # Every run from a start reaches the end: no state between is a dead end or leaves for a
    # state that cannot reach it.
    escapes = {u for u in region
               if not succ[u] or any(not ends(a, v) and v not in live for a, v in succ[u])}
    always = not escapes

    def trace(path):
        if path is None:
            return None
        first, steps = path
        a = starts[first]
        prefix = [c for c, _ in graph.path_to(first)] if a is None else \
            _prefix_to_edge(graph, first, a)
        return trace_from_commands(system, prefix + steps, property=query.id, kind="witness")

    never = trace(_escape(starts, region, escapes, live, succ, ends)) if escapes else None
    if not live and not zero:
        return Latency(query.id, query.frm, query.to, None, None, False, False, None, None, never)
    lo, lo_path = _least(starts, zero, live, succ, ends, tick)
    hi, hi_path, unbounded = _greatest(starts, zero, live, succ, ends, tick)
    return Latency(query.id, query.frm, query.to, lo * unit_ms,
                   None if unbounded else hi * unit_ms, unbounded, always,
                   trace(lo_path), None if unbounded else trace(hi_path), never)


def _holds(system: System, cond: Expr | None, states: list) -> list[bool]:
    """Per state id, whether ``cond`` holds (all false without a condition)."""
    if cond is None:
        return [False] * len(states)
    pred = compile_predicate(system, cond)
    return [bool(pred(s)) for s in states]


def _adjacency(graph) -> tuple[list, list[list[tuple[int, int]]]]:
    """The decoded states and the successor lists of ``graph``, computed once per graph (kept
    in its system's cache under the graph's identity: several queries share them)."""
    key = ("latency.adjacency", id(graph), graph.n_states, graph.n_edges)
    cache = graph.system.cache
    if cache.get("latency.adjacency.key") != key:
        states = [graph.state(i) for i in range(graph.n_states)]
        succ: list[list[tuple[int, int]]] = [[] for _ in range(graph.n_states)]
        for u, a, v in zip(graph.src, graph.act, graph.dst):
            succ[u].append((a, v))
        cache["latency.adjacency.key"] = key
        cache["latency.adjacency"] = (states, succ)
    return cache["latency.adjacency"]


def _escape(starts, region, escapes, live, succ, ends):
    """A shortest run from a start to a state between the events from which the end can be
    missed (a dead end, or a step to a state that cannot reach it), with that step."""
    parent = {s: None for s in starts if s in region}
    dq = deque(parent)
    while dq:
        u = dq.popleft()
        if u in escapes:
            tail = [] if not succ[u] else \
                [next(a for a, v in succ[u] if not ends(a, v) and v not in live)]
            steps = tail
            while parent[u] is not None:
                u, a = parent[u]
                steps.insert(0, a)
            return u, steps
        for a, v in succ[u]:
            if v in region and v not in parent and not ends(a, v):
                parent[v] = (u, a)
                dq.append(v)
    raise AssertionError("an escaping state outside the region")


def _prefix_to_edge(graph, v: int, a: int) -> list[int]:
    """A shortest path from the initial state that ends with step ``a`` into ``v`` (state ids
    are numbered in breadth-first order, so the least source is a shallowest one)."""
    u = min(u for u, act, w in zip(graph.src, graph.act, graph.dst) if w == v and act == a)
    return [c for c, _ in graph.path_to(u)] + [a]


def _least(starts, zero, live, succ, ends, tick):
    """0-1 BFS from the starts to the first end: (ticks, (start, steps))."""
    if zero:
        return 0, (zero[0], [])
    dist = {s: 0 for s in starts if s in live}
    parent: dict[int, tuple[int, int] | None] = {s: None for s in dist}
    dq = deque(dist)
    best: tuple[int, int, int] | None = None   # (ticks, node, step)
    done = set()
    while dq:
        u = dq.popleft()
        if u in done:
            continue
        done.add(u)
        d = dist[u]
        if best is not None and d >= best[0]:
            continue
        for a, v in succ[u]:
            w = d + (a == tick)
            if ends(a, v):
                if best is None or w < best[0]:
                    best = (w, u, a)
            elif v in live and w < dist.get(v, 1 << 60):
                dist[v] = w
                parent[v] = (u, a)
                (dq.append if a == tick else dq.appendleft)(v)
    w, u, a = best
    steps = [a]
    while parent[u] is not None:
        u, a = parent[u]
        steps.append(a)
    steps.reverse()
    return w, (u, steps)


def _greatest(starts, zero, live, succ, ends, tick):
    """Longest path (ticks) from a start to an end inside ``live``; unbounded if a cycle there
    passes a tick."""
    import networkx as nx
    g = nx.DiGraph()
    g.add_nodes_from(live)
    for u in live:
        for a, v in succ[u]:
            if v in live and not ends(a, v):
                g.add_edge(u, v)
    comp = {}
    sccs = list(nx.strongly_connected_components(g))
    for i, c in enumerate(sccs):
        for u in c:
            comp[u] = i
    for u in live:
        for a, v in succ[u]:
            if a == tick and v in live and not ends(a, v) and comp[u] == comp[v]:
                return None, None, True
    # Longest path over the condensation, in reverse topological order.
    cond = nx.condensation(g, sccs)
    best: dict[int, tuple[int, int, int, int | None]] = {}   # comp -> (ticks, node, step, next)
    for ci in reversed(list(nx.topological_sort(cond))):
        top = None
        for u in sccs[ci]:
            for a, v in succ[u]:
                if ends(a, v):
                    cand = (int(a == tick), u, a, None)
                elif v in live and comp[v] != ci:
                    cand = (int(a == tick) + best[comp[v]][0], u, a, v)
                else:
                    continue
                if top is None or cand[0] > top[0]:
                    top = cand
        best[ci] = top
    first = max((s for s in starts if s in live), key=lambda s: best[comp[s]][0], default=None)
    if first is None:
        return 0, (zero[0], []), False
    total = best[comp[first]][0]
    steps: list[int] = []
    u = first
    while True:
        _, node, a, nxt = best[comp[u]]
        steps.extend(_inside(succ, sccs[comp[u]], u, node, tick))
        steps.append(a)
        if nxt is None:
            break
        u = nxt
    return total, (first, steps), False


def _inside(succ, scc, src: int, dst: int, tick) -> list[int]:
    """Steps from ``src`` to ``dst`` inside one tick-free strongly connected component."""
    if src == dst:
        return []
    parent = {src: None}
    dq = deque([src])
    while dq:
        u = dq.popleft()
        for a, v in succ[u]:
            if v in scc and v not in parent and a != tick:
                parent[v] = (u, a)
                if v == dst:
                    out = []
                    while parent[v] is not None:
                        v, a2 = parent[v]
                        out.append(a2)
                    return out[::-1]
                dq.append(v)
    raise AssertionError("no path inside a strongly connected component")


# -- conveniences for reports and notebooks --------------------------------------------------

def latencies(sc, queries: Sequence[str] | None = None) -> tuple[object, list[Latency]]:
    """Explore ``sc`` timed (:func:`timed`) and answer ``queries`` (default: all): the graph and
    the results, in query order."""
    from ..engines.explicit import explore
    from ..model.compose import build_system

    sc = timed(sc)
    g = explore(build_system(sc))
    if g.truncated:
        raise ValueError(f"{sc.name}: exploration truncated ({g.reason}): latencies need every run")
    return g, [latency(g, QUERIES[q], sc.time.unit_ms) for q in (queries or list(QUERIES))]


def step_times(trace: Trace, unit_ms: int) -> list[int]:
    """The model time (ms) at which each step of ``trace`` happens: the ticks before it."""
    out, now = [], 0
    for s in trace.steps:
        if s.action == TICK:
            now += unit_ms
        out.append(now)
    return out


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """One point of :func:`sweep`: the one-way delay, which protocols may lose packets, and the
    query's least and greatest time (ms; None: never reached) and whether every run reaches it."""

    delay_ms: int
    loss: tuple[str, ...]
    min: int | None
    max: int | None
    always: bool
    states: int


def sweep(sc, delays_ms: Sequence[int], losses: Sequence[Sequence[str]] = ((),),
          query: str = "tcp-established") -> list[SweepPoint]:
    """``query`` over a grid of fixed one-way delays (``time.delay_min_ms = delay_max_ms``) and
    loss settings (``network.loss``), each point a scenario of its own, explored timed."""
    out = []
    base = timed(sc)
    for loss in losses:
        for d in delays_ms:
            point = replace(base, network=replace(base.network, loss=tuple(sorted(loss))),
                            time=replace(base.time, delay_min_ms=d, delay_max_ms=d))
            g, (r,) = latencies(point, [query])
            out.append(SweepPoint(d, tuple(sorted(loss)), r.min, r.max, r.always, g.n_states))
    return out
