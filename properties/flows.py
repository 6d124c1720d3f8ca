"""Properties over many flows: a property written for the first flow speaks for every flow like it.

The catalog's properties are written against the first flow's names (``client.tcp``,
``client.secure``, the segments ``SYN`` .. ``DATA2``), and their command predicates look at that
flow's segments only (:func:`~ndcheck.properties.predicates.cmd_flow`).  In a scenario with
``[[flows]]``, a flow opened by the same host is interchangeable with the first: the renaming
that swaps the two flows' names (:func:`~ndcheck.model.ir.flow_swap`) maps the system onto
itself.  So "the property for flow *j*" is the property with that renaming applied to what it
reads -- the expressions it builds and the commands it is shown -- and the property a
multi-flow scenario checks is the conjunction over the first flow's *orbit* (every flow with
its opener):

* ``always``: every flow's state predicate holds (the conjunction); its trigger is some flow's;
* ``never_action``: no command fires that the property selects for some flow (from a pre-state
  where that flow's ``pre`` holds);
* ``sometimes``: some flow has a witness (the disjunction);
* ``eventually``: for every flow, every fair run from that flow's trigger reaches that flow's
  goal (:meth:`Property.goals` lists the pairs the explicit engine checks one by one).

A property lifted this way is symmetric in the orbit's flows, which is what makes the symmetry
reduction over interchangeable flows sound for it.  Flows opened by the other host are not in
the first flow's orbit: the catalog's per-flow properties do not speak for them (a server-opened
flow's client end is the server); the cross-flow properties do (:mod:`ndcheck.properties.multiflow`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ..model.ir import FALSE, TRUE, Command, Expr, F, System, and_, flow_swap, or_, substitute

Renaming = dict[str, str]


def orbit(system: System) -> list[Renaming]:
    """The renamings to each flow interchangeable with the first (the first's own: empty), in
    flow order; ``[{}]`` for a single flow."""
    key = "flows.orbit"
    if key not in system.cache:
        if not system.flows:
            out: list[Renaming] = [{}]
        else:
            first = system.flows[0]
            out = [{} if f is first else flow_swap(first, f)
                   for f in system.flows if f.opener == first.opener]
        system.cache[key] = out
    return system.cache[key]  # type: ignore[return-value]


def rename(e: Expr, r: Renaming) -> Expr:
    """``e`` with every field renamed by ``r``."""
    if not r:
        return e
    return substitute(e, {a: F(b) for a, b in r.items()})


def rename_command(system: System, c: Command, r: Renaming) -> Command:
    """``c`` as the flow ``r`` swaps with the first sees it: fields, machine keys and message ids
    renamed in its guard, updates, packets, events and tags (its name, rules and kind stay)."""
    if not r:
        return c
    cache = system.cache.setdefault("flows.commands", {})
    key = (id(c), id(r))
    got = cache.get(key)  # type: ignore[union-attr]
    if got is None:
        def pkt(p):
            return dataclasses.replace(p, internal=r.get(p.internal, p.internal))
        got = dataclasses.replace(
            c, guard=rename(c.guard, r),
            updates=tuple((r.get(n, n), rename(v, r)) for n, v in c.updates),
            wire=tuple(pkt(p) for p in c.wire), held=tuple(pkt(p) for p in c.held),
            events=tuple((r.get(k, k), e, s) for k, e, s in c.events),
            tags=tuple(r.get(t, t) for t in c.tags))
        cache[key] = (got, c)  # type: ignore[index]   # keep c alive: its id stays its own
        return got
    return got[0]


StateFn = Callable[[System], Expr]


def all_flows(fn: StateFn) -> StateFn:
    """``fn`` for every flow of the first's orbit (conjunction)."""
    def lifted(system: System) -> Expr:
        e = fn(system)
        return and_(*[rename(e, r) for r in orbit(system)])
    return lifted


def some_flow(fn: StateFn) -> StateFn:
    """``fn`` for some flow of the first's orbit (disjunction)."""
    def lifted(system: System) -> Expr:
        e = fn(system)
        return or_(*[rename(e, r) for r in orbit(system)])
    return lifted


def actions_any_flow(actions: Callable[[System, Command], bool]) -> Callable[[System, Command], bool]:
    """A command is selected when the property selects it for some flow."""
    def lifted(system: System, c: Command) -> bool:
        rs = orbit(system)
        if len(rs) == 1:
            return actions(system, c)
        return any(actions(system, rename_command(system, c, r)) for r in rs)
    return lifted


def pre_any_flow(actions: Callable[[System, Command], bool],
                 pre: Callable[[System, Command], Expr] | None) -> Callable[[System, Command], Expr]:
    """The pre-state condition of a selected command: some flow that selects it has its ``pre``."""
    def lifted(system: System, c: Command) -> Expr:
        rs = orbit(system)
        if len(rs) == 1:
            return pre(system, c) if pre else TRUE
        parts = []
        for r in rs:
            rc = rename_command(system, c, r)
            if actions(system, rc):
                parts.append(rename(pre(system, rc), r) if pre else TRUE)
        return or_(*parts) if parts else FALSE
    return lifted


def goal_pairs(state: StateFn, trigger: StateFn | None) -> Callable[[System], list[tuple[Expr, Expr | None]]]:
    """``eventually``: one (goal, trigger) pair per flow of the first's orbit."""
    def pairs(system: System) -> list[tuple[Expr, Expr | None]]:
        g = state(system)
        t = trigger(system) if trigger else None
        return [(rename(g, r), rename(t, r) if t is not None else None) for r in orbit(system)]
    return pairs
