"""Checking a scenario: every applicable property, on its explored graph, against [expect].

:func:`check` explores (a name, Scenario or System; or takes an explored graph) and decides
each applicable property with the explicit engine (:mod:`.explicit`), the z3 engine
(:mod:`.symbolic`, safety properties only) or both, marking where the two disagree.
Each verdict is ``holds``, ``violated``, ``vacuous`` (not violated, and the property's trigger —
the antecedent of its claim — is reachable in no state; both engines decide it) or
``undetermined``.  :func:`shortest_trace` gives the counterexample, witness or lasso of one
property.  Expected verdicts come from the scenario's ``[expect]`` table (:mod:`.expectations`);
a scenario without one has no expectation unless ``strict``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable

from ..engines.explicit import Graph, explore
from ..engines.graph_queries import GraphQueries
from ..model.compose import build_system
from ..model.ir import System
from ..model.scenario import Scenario, ScenarioError, get_scenario
from ..properties.base import Property
from ..properties.catalog import PROPERTIES, get_property
from ..traces.trace import Trace
from .expectations import causes, expectations
from .explicit import decide
from .results import CheckResult, Verdict
from .symbolic import EngineUnavailable, check_safety, z3_engine

ENGINES = ("explicit", "z3", "both")

__all__ = ["ENGINES", "CheckResult", "EngineUnavailable", "Target", "applicable", "check",
           "check_graph", "shortest_trace"]

Target = str | Scenario | System | Graph


def applicable(system: System, properties: Iterable[Property] | None = None) -> list[Property]:
    """The properties (default: the whole catalog) that apply to ``system``, in catalog order."""
    return [p for p in (PROPERTIES if properties is None else properties) if p.applies(system)]


def graph_for(target: Target, max_states: int | None = None, timeout: float | None = None,
              progress=None, symmetry: bool | None = None) -> Graph:
    """The explored graph of a scenario name, Scenario or System (a Graph is returned as is);
    ``symmetry``: see :func:`~ndcheck.engines.explicit.explore`."""
    if isinstance(target, Graph):
        return target
    if isinstance(target, str):
        target = get_scenario(target)
    if isinstance(target, Scenario):
        target = build_system(target.with_bounds(max_states, timeout))
        return explore(target, progress=progress, symmetry=symmetry)
    if isinstance(target, System):
        return explore(target, max_states=max_states, timeout=timeout, progress=progress,
                       symmetry=symmetry)
    raise TypeError(f"check() takes a scenario name, Scenario, System or Graph, not {type(target).__name__}")


def check_graph(graph: Graph, properties: Iterable[Property | str] | None = None, *,
                engine: str = "explicit", traces: bool = True, timeout: float | None = None,
                strict: bool = False, progress: Callable[[int, int, Property], None] | None = None,
                ) -> CheckResult:
    """Check the applicable ``properties`` (default: all) on an explored graph.

    Expected verdicts come from the scenario's ``[expect]``; a scenario without entries has none
    (every verdict reported, none a mismatch) unless ``strict`` (a missing entry means ``holds``).
    ``progress(done, total, property)`` is called before each property is decided.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")
    t0 = time.perf_counter()
    system = graph.system
    props = None if properties is None else [get_property(p) if isinstance(p, str) else p
                                             for p in properties]
    todo = applicable(system, props)
    skipped = tuple(p.id for p in (PROPERTIES if props is None else props) if p not in todo)
    expected = expectations(system, todo, strict=strict)
    why = causes(system, todo)
    use_z3 = engine in ("z3", "both")
    if use_z3:
        z3_engine()   # EngineUnavailable before any work
    q = GraphQueries(graph)
    verdicts: list[Verdict] = []
    for i, p in enumerate(todo):
        if progress is not None:
            progress(i, len(todo), p)
        if engine in ("explicit", "both") or not p.safety:
            v, tr, note = decide(q, p, traces)
            verdicts.append(Verdict(p, v, "explicit", expected[p.id], tr, note or p.note, why[p.id]))
        if use_z3 and p.safety:
            r = check_safety(system, p, timeout=timeout)
            verdicts.append(Verdict(p, r.verdict, "z3", expected[p.id], r.trace, r.note, why[p.id]))
    if engine == "both":
        verdicts = _mark_disagreements(verdicts)
    return CheckResult(system.name, graph.n_states, graph.n_edges, graph.truncated,
                       graph.seconds + (time.perf_counter() - t0), tuple(verdicts), graph.reason,
                       skipped, graph.symmetry.describe() if graph.symmetry else "")


def _mark_disagreements(verdicts: list[Verdict]) -> list[Verdict]:
    by_id: dict[str, dict[str, str]] = {}
    for v in verdicts:
        by_id.setdefault(v.property.id, {})[v.engine] = v.verdict
    out = []
    for v in verdicts:
        seen = by_id[v.property.id]
        if len(seen) == 2 and len(set(seen.values())) == 2 and "undetermined" not in seen.values():
            v = dataclasses.replace(
                v, note=f"engines disagree: explicit {seen['explicit']}, z3 {seen['z3']}")
        out.append(v)
    return out


def check(target: Target, properties: Iterable[Property | str] | None = None, *,
          max_states: int | None = None, timeout: float | None = None, engine: str = "explicit",
          traces: bool = True, progress=None, strict: bool = False,
          symmetry: bool | None = None) -> CheckResult:
    """Explore a scenario (name, Scenario, System or explored Graph) and check its properties.

    ``progress(done, found)`` follows the exploration; ``strict``: see :func:`check_graph`;
    ``symmetry=False`` explores every state rather than one per orbit of interchangeable flows.

    >>> r = check("fig8-silent-peer")
    >>> r.verdict("H-1").verdict, r.as_expected
    ('holds', True)
    """
    graph = graph_for(target, max_states, timeout, progress, symmetry)
    return check_graph(graph, properties, engine=engine, traces=traces, timeout=timeout, strict=strict)


def shortest_trace(target: Target, property_id: str, *, max_states: int | None = None,
                   timeout: float | None = None) -> Trace | None:
    """The shortest counterexample (always / never_action), witness (sometimes) or lasso
    (eventually) for one property; None when the property holds (or has no witness).

    >>> t = shortest_trace("guaranteed-encryption", "S-7")
    >>> t.steps[0].wire[0]
    'client>server SYN clear'
    """
    p = get_property(property_id)
    graph = graph_for(target, max_states, timeout)
    if not p.applies(graph.system):
        raise ScenarioError(f"property {p.id} ({p.name}) does not apply to scenario "
                            f"{graph.system.name!r}")
    _, trace, _ = decide(GraphQueries(graph), p, traces=True)
    return trace
