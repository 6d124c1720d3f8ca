"""Property kinds decided on an explored product graph (the explicit engine's verdicts).

* ``always``: the first state violating the predicate gives the shortest counterexample.
* ``never_action``: the firing edge with the lowest source id; the counterexample is the
  shortest path to its source plus the firing command.
* ``sometimes``: the first state satisfying the predicate is the (shortest) witness.
* ``eventually``: under fairness, a lasso into a goal-free bottom SCC
  (:meth:`~ndcheck.engines.graph_queries.GraphQueries.lasso` says why that is the right notion).
* ``within``: the greatest time from a trigger state to the goal
  (:func:`~ndcheck.checking.latency.within`); the counterexample is a run that exceeds the
  bound or can no longer meet it.

Vacuity: a property with a ``trigger`` (its claim's antecedent) that is not violated and whose
trigger no explored state satisfies is ``vacuous`` — on a complete graph, where "no explored
state" means "no reachable state".

Truncation is never a pass: on a truncated graph anything not refuted is ``undetermined`` (and
``eventually`` is always ``undetermined``: frontier states look like deadlocks), never
``vacuous``: a trigger missing from a partial graph may lie beyond its frontier.  Every trace is
built by :func:`~ndcheck.traces.trace.trace_from_commands`, so it is replayed through the IR
and the python-statemachine instances before it is returned.

Symmetry (a graph of orbit representatives, ``Graph.symmetry``): the lifted properties are
symmetric over interchangeable flows, so ``always``, ``sometimes`` and ``never_action`` are
decided on the representatives; a path between representatives is re-executed as a real run
(:func:`~ndcheck.engines.symmetry.concrete_commands`), and a ``never_action`` counterexample
ends with a firing of the property from that run's last state.  ``eventually`` and ``within``
are decided on the unreduced graph (explored on first need): they are checked flow by flow, and
a flow-1 goal read on representatives is not flow 1's goal (the canonical order may swap the
flows from one state to the next), so a quotient's bottom SCC can hide a stuck flow.
"""

from __future__ import annotations

from ..engines.explicit import explore
from ..engines.graph_queries import GraphQueries
from ..model.ir import Expr, evaluate, not_
from ..properties.base import Property
from ..traces.trace import Trace, trace_from_commands


def decide(q: GraphQueries, p: Property, traces: bool = True) -> tuple[str, Trace | None, str]:
    """``(verdict, trace or None, note)`` of one property on the graph behind ``q``: ``holds``
    becomes ``vacuous`` (note: why) when no explored state satisfies the property's trigger."""
    verdict, trace, note = _decide(q, p, traces)
    if verdict == "holds" and p.trigger is not None and not trigger_reachable(q, p):
        return "vacuous", None, p.vacuity
    return verdict, trace, note


def trigger_reachable(q: GraphQueries, p: Property) -> bool:
    """Some explored state satisfies the property's trigger (a property without one: True)."""
    return p.trigger is None or q.first_state(p.trigger(q.system)) is not None


def unreduced(q: GraphQueries) -> GraphQueries:
    """``q`` itself, or for a symmetry-reduced graph the queries of the full graph (explored
    once, with the same bounds, and kept on ``q``)."""
    if q.graph.symmetry is None:
        return q
    full = getattr(q, "unreduced", None)
    if full is None:
        full = GraphQueries(explore(q.system, symmetry=False))
        q.unreduced = full  # type: ignore[attr-defined]
    return full


def _decide(q: GraphQueries, p: Property, traces: bool) -> tuple[str, Trace | None, str]:
    if p.kind in ("eventually", "within"):
        q = unreduced(q)
    g, system = q.graph, q.system
    open_ = "undetermined" if g.truncated else None
    sym = g.symmetry

    def run_to(sid: int) -> list[int]:
        return sym.commands_to(g, sid) if sym else q.path_to(sid)

    def to_state(sid: int, kind: str) -> Trace | None:
        return trace_from_commands(system, run_to(sid), p.id, kind) if traces else None

    if p.kind == "always":
        assert p.state is not None
        sid = q.first_state(not_(p.state(system)))
        if sid is None:
            return open_ or "holds", None, ""
        return "violated", to_state(sid, "counterexample"), ""
    if p.kind == "sometimes":
        assert p.state is not None
        sid = q.first_state(p.state(system))
        if sid is None:
            return open_ or "violated", None, "no witness"
        return "holds", to_state(sid, "witness"), ""
    if p.kind == "never_action":
        assert p.actions is not None
        cmds = system.commands
        # command -> its pre-condition (None: any pre-state) if the property selects it, else
        # False; asked only for the commands that label some edge (fig7-both-capable: 219 of
        # 1,159; building the others' pre-conditions was a third of checking the catalog)
        pres: dict[int, Expr | None | bool] = {}

        def selection(i: int) -> Expr | None | bool:
            if i not in pres:
                c = cmds[i]
                pres[i] = (p.pre(system, c) if p.pre else None) if p.actions(system, c) else False
            return pres[i]

        selected = [(i, pre) for i in sorted(q.by_action()) if (pre := selection(i)) is not False]
        hit = q.first_firing(selected)
        if hit is None:
            return open_ or "holds", None, ""
        u, a = hit
        if not traces:
            return "violated", None, ""
        if sym:
            def fires(c: int, state) -> bool:
                # the run of the full graph may take commands no reduced edge carries
                pre = selection(c)
                if pre is False:
                    return False
                return pre is None or bool(evaluate(pre, system.getter(state)))

            commands = sym.commands_to(g, u, fires, a)
        else:
            commands = q.path_to(u) + [a]
        trace = trace_from_commands(system, commands, p.id, "counterexample")
        return "violated", trace, ""
    if p.kind == "eventually":
        if g.truncated:
            return "undetermined", None, "graph truncated: bottom SCCs unknown"
        # one (goal, trigger) pair per flow like the first (properties/flows.py): the shortest
        # lasso of any pair is the counterexample
        found = [x for x in (q.lasso(goal, trig) for goal, trig in p.goals(system)) if x is not None]
        if not found:
            return "holds", None, ""
        lasso = min(found, key=lambda x: len(x.commands))
        trace = trace_from_commands(system, list(lasso.commands), p.id, "lasso", lasso.loop_start) \
            if traces else None
        return "violated", trace, ""
    if p.kind == "within":
        if g.truncated:
            return "undetermined", None, "graph truncated: response times unknown"
        from .latency import within
        assert p.state is not None and p.trigger is not None and p.bound is not None
        return within(g, p, traces)
    raise ValueError(f"{p.id}: unknown property kind {p.kind!r}")
