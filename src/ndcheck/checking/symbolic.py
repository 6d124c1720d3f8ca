"""The z3 engine driven with catalog properties: names resolved, counterexamples replayed.

The engine (:mod:`ndcheck.engines.symbolic`) answers with paths of command indices, already
re-executed in the IR; here each becomes a :class:`~ndcheck.traces.trace.Trace`, which replays
it through the python-statemachine instances before anything is shown.  The z3 engine is loaded
on first use, so that the explicit engine works where z3 is not installed.

Vacuity (:mod:`ndcheck.properties.base`): the engine knows no triggers, so a ``holds`` of a
property with one is put to the same engine a second time, as the safety property "no reachable
state satisfies the trigger" (:class:`NeverTrigger`): violated — the trigger is reachable, the
verdict stays ``holds``; holds — ``vacuous``; undetermined — ``undetermined``.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Sequence
from types import ModuleType

from ..model.compose import build_system
from ..model.ir import Expr, System, not_
from ..model.scenario import Scenario, get_scenario
from ..properties.base import Property
from ..properties.catalog import PROPERTIES, get_property
from ..traces.trace import trace_from_commands


class EngineUnavailable(ValueError):
    """The z3 engine cannot be loaded (z3-solver is not installed)."""


def z3_engine() -> ModuleType:
    """The z3 engine module; :class:`EngineUnavailable` when it cannot be imported."""
    try:
        return importlib.import_module("ndcheck.engines.symbolic")
    except ImportError as e:
        raise EngineUnavailable(f"the z3 engine is not available ({e}); use --engine explicit") from None


def _system(target: str | Scenario | System) -> System:
    if isinstance(target, System):
        return target
    if isinstance(target, str):
        target = get_scenario(target)
    if isinstance(target, Scenario):
        return build_system(target)
    raise TypeError(f"prove() takes a scenario name, Scenario or System, not {type(target).__name__}")


def _property(prop: str | Property) -> Property:
    return get_property(prop) if isinstance(prop, str) else prop


def _with_trace(result, progress: Callable[[str], None] | None = None):
    """The result with its counterexample replayed into a named trace."""
    cx = result.counterexample
    if cx is None:
        return result
    if progress is not None:
        progress(f"replaying the counterexample ({len(cx.commands)} steps) through the machines")
    trace = trace_from_commands(cx.system, list(cx.commands), result.property, "counterexample")
    return dataclasses.replace(result, trace=trace)


def prove(target: str | Scenario | System, property: str | Property, engine: str = "spacer",
          progress: Callable[[str], None] | None = None, **options):
    """Decide one safety property of a scenario with z3 (:func:`ndcheck.engines.symbolic.prove`;
    the same options); a counterexample comes back as a replayed trace.  ``progress`` (a side
    channel) is called with the engine's phases: ``"houdini round 3: 212 candidates left"``,
    ``"spacer: solving the Horn clauses"``, ``"bmc depth 14"``, ...

    A ``holds`` of a property with a trigger is asked once more, of "no reachable state
    satisfies the trigger", with the same engine and options: proved, the verdict is
    ``vacuous``; undecided, ``undetermined`` (as in :func:`check_safeties`).

    >>> r = prove("fig8-silent-peer", "S-3", engine="spacer", unbounded=True)
    >>> r.verdict
    'holds'
    >>> prove("fig8-silent-peer", "S-1", engine="spacer", unbounded=True).verdict
    'vacuous'
    """
    system, prop = _system(target), _property(property)
    if prop.kind == "within":
        # the safety part of a bounded response: an observer clock (checking/deadline.py)
        from .deadline import observed
        system, prop = observed(system, prop)
    result = z3_engine().prove(system, prop, engine, progress=progress, **options)
    if result.verdict == "holds" and prop.trigger is not None:
        if progress is not None:
            progress(f"is the trigger of {prop.id} reachable at all?")
        never = _trigger_reached(system, prop, progress, options) if engine == "spacer" else None
        if never is None:
            never = z3_engine().prove(system, NeverTrigger(prop), engine, progress=progress, **options)
        result = dataclasses.replace(_with_vacuity(result, prop, never),
                                     seconds=result.seconds + never.seconds)
    return _with_trace(result, progress)


#: Depth of the BMC that looks for a trigger state before the chosen engine searches.
TRIGGER_BMC_DEPTH = 24


def _trigger_reached(system: System, prop: Property, progress, options: dict):
    """A quick answer (for Spacer) to "the trigger is never reached", else None: first whether
    the Houdini lemmas (already computed for the property) imply it, or a trigger state is in
    the graph Houdini explored (its path replayed); then a BMC that finds a
    trigger state within :data:`TRIGGER_BMC_DEPTH` steps (a path of the bounded model is one of
    the unbounded model too).  Finding a deep counterexample is slow work for Spacer
    (fig7-both-capable S-1: 66 s against 4 s)."""
    never = NeverTrigger(prop)
    r = z3_engine().prove(system, never, "spacer", progress=progress, search=False, **options)
    if r.verdict in ("holds", "violated"):   # violated: a trigger state of the explored graph
        return r
    opts = {k: v for k, v in options.items() if k in ("timeout", "lift_budgets")}
    bmc = z3_engine().prove(system, never, "bmc", depth=TRIGGER_BMC_DEPTH, progress=progress, **opts)
    return bmc if bmc.verdict == "violated" else None


@dataclasses.dataclass(frozen=True)
class NeverTrigger:
    """"No reachable state satisfies ``prop``'s trigger" as an ``always`` property the engine can
    check (:class:`~ndcheck.engines.checkable.SafetyProperty`; the id names the property it
    serves, distinct from every catalog id, so engine caches keyed by id keep the two apart)."""

    prop: Property

    kind = "always"
    safety = True

    @property
    def id(self) -> str:
        return f"{self.prop.id}/trigger"

    @property
    def name(self) -> str:
        return f"{self.prop.name}_never_triggered"

    @property
    def state(self):
        trigger = self.prop.trigger
        assert trigger is not None

        def never(system: System) -> Expr:
            return not_(trigger(system))
        return never

    def applies(self, system: System) -> bool:
        return self.prop.applies(system)

    def firings(self, system: System) -> list:
        raise ValueError(f"{self.id} is an always property; firings() is for never_action")


def _vacuity(system: System, results: list, todo: Sequence[Property], timeout: float | None,
             certificate: bool) -> list:
    """``holds`` of a property with a trigger becomes ``vacuous`` (or ``undetermined``) when the
    engine shows the trigger unreachable (or cannot tell); see the module doc."""
    ask = [i for i, (r, p) in enumerate(zip(results, todo)) if r.verdict == "holds" and p.trigger]
    if not ask:
        return results
    # one query per distinct trigger (S-1 and S-2 share theirs)
    queries: dict[Expr, NeverTrigger] = {}
    for i in ask:
        queries.setdefault(todo[i].trigger(system), NeverTrigger(todo[i]))  # type: ignore[misc]
    answers = dict(zip(queries, z3_engine().check_safeties(system, list(queries.values()), timeout,
                                                           certificate, traces=False)))
    out = list(results)
    for i in ask:
        r, p = results[i], todo[i]
        a = answers[p.trigger(system)]  # type: ignore[misc]
        out[i] = _with_vacuity(r, p, a)
    return out


def _with_vacuity(result, prop: Property, never):
    """A ``holds`` of ``prop`` read against the engine's answer to "the trigger is never
    reached" (``never``): proved -> ``vacuous``; undecided -> ``undetermined``; refuted (the
    trigger is reachable) -> ``holds`` stands."""
    if never.verdict == "holds":
        return dataclasses.replace(result, verdict="vacuous", note=f"{prop.vacuity} ({never.note})")
    if never.verdict == "undetermined":
        return dataclasses.replace(result, verdict="undetermined",
                                   note=f"{result.note}; whether its trigger is reachable: {never.note}")
    return result


def check_safeties(system: System, props: Sequence[str | Property] | None = None,
                   timeout: float | None = None, certificate: bool = True) -> list:
    """The bounded z3 verdicts of safety properties (default: every applicable one of the
    catalog), counterexamples replayed (:mod:`ndcheck.engines.symbolic.bounded`); a property
    with a trigger that z3 shows unreachable is ``vacuous`` (module doc)."""
    todo = [_property(p) for p in props] if props is not None else \
        [p for p in PROPERTIES if p.safety and p.applies(system)]
    results = z3_engine().check_safeties(system, todo, timeout, certificate)
    results = _vacuity(system, results, todo, timeout, certificate)
    return [_with_trace(r) for r in results]


def check_safety(system: System, prop: str | Property, timeout: float | None = None):
    """The bounded z3 verdict of one safety property; see :func:`check_safeties`."""
    return check_safeties(system, [prop], timeout)[0]
