"""The SPIN engine driven with catalog properties: each safety property a monitored predicate,
each trail replayed into a trace, vacuity decided by the same pan runs.

Every safety property is a set of bad states (:meth:`~ndcheck.properties.base.Property.bad`:
``always`` — the states violating the claim; ``never_action`` — the pre-states from which a
selected command fires).  :func:`~ndcheck.engines.spin_search.search` checks them all with one
compiled pan (an ``always`` property in a monitor process, a ``never_action`` one as an
assertion in each selected command's step), together with one predicate per distinct trigger
(the claim's antecedent): a property that holds is ``vacuous`` when its trigger predicate also "holds" (no reachable state
satisfies it), as with the other engines.  A ``never_action`` counterexample is the trail to the
pre-state plus the firing command.  Every counterexample is replayed through the model and the
python-statemachine instances (:func:`~ndcheck.traces.trace.trace_from_commands`).

Properties that are not safety properties (``sometimes``, ``eventually``, ``within``) are not
checked by this engine: they are reported ``undetermined`` with a note that says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from ..engines.spin_search import SpinSearch, search
from ..model.compose import build_system
from ..model.ir import Expr, System
from ..model.scenario import Scenario, get_scenario
from ..properties.base import Property
from ..properties.catalog import PROPERTIES, get_property
from ..traces.trace import trace_from_commands
from .expectations import causes, expectations
from .results import CheckResult, Verdict

#: The note of a property this engine does not decide.
NOT_CHECKED = ("not checked: the spin engine decides safety properties (always, never_action) "
               "only; use --engine explicit for this one")


def _system(target: str | Scenario | System) -> System:
    if isinstance(target, System):
        return target
    if isinstance(target, str):
        target = get_scenario(target)
    return build_system(target)


def checks(system: System, props: list[Property], triggers: bool = True):
    """The engine's checks for safety properties: ``(bad, firing, slot of each property id,
    slot of each property's trigger)``; ``always`` properties and the distinct triggers are
    bad-state predicates, ``never_action`` properties firing conditions (slots after them)."""
    states = [p for p in props if p.kind == "always"]
    actions = [p for p in props if p.kind == "never_action"]
    bad: list[Expr] = [p.bad(system) for p in states]
    trigger_slot: dict[str, int] = {}
    seen: dict[Expr, int] = {}
    for p in props:
        if triggers and p.trigger is not None:
            t = p.trigger(system)
            if t not in seen:
                seen[t] = len(bad)
                bad.append(t)
            trigger_slot[p.id] = seen[t]
    firing = [p.firings(system) for p in actions]
    order = {p.id: k for k, p in enumerate(states)}
    order.update({p.id: len(bad) + k for k, p in enumerate(actions)})
    return bad, firing, order, trigger_slot


def check_spin(target: str | Scenario | System, properties: Iterable[Property | str] | None = None,
               **options) -> CheckResult:
    """Check the applicable properties of a scenario with SPIN (module doc; the options of
    :func:`spin_check`).

    ``states``/``edges`` of the result are pan's stored states and transitions − 1 of its last
    run (the full state space when that run was exhaustive; ``truncated`` otherwise).
    """
    return spin_check(target, properties, **options)[0]


def spin_check(target: str | Scenario | System, properties: Iterable[Property | str] | None = None, *,
               cores: int = 1, bitstate: bool = False, style: str = "processes",
               hash_bits: int | None = None, timeout: float | None = None, traces: bool = True,
               optimize: str = "-O0",
               strict: bool = False, progress: Callable[[str], None] | None = None,
               ) -> tuple[CheckResult, SpinSearch]:
    """:func:`check_spin`, with what pan reported (runs, depth, CPU seconds per phase).

    ``cores``: pan's multi-core search; ``bitstate``: a bitstate search in ``2^hash_bits`` bits
    (verdicts other than ``violated`` are ``undetermined``); ``style``: the Promela export;
    ``optimize``: gcc's level for pan (default ``-O0``: it compiles in a few seconds where ``-O2``
    takes tens on the larger models, for a search about 1.6 times as fast: worth it only for
    searches of minutes).
    """
    t0 = time.perf_counter()
    system = _system(target)
    props = None if properties is None else [get_property(p) if isinstance(p, str) else p
                                             for p in properties]
    pool = PROPERTIES if props is None else props
    todo = [p for p in pool if p.applies(system)]
    skipped = tuple(p.id for p in pool if p not in todo)
    expected = expectations(system, todo, strict=strict)
    why = causes(system, todo)
    safety = [p for p in todo if p.safety]
    bad, firing, order, trigger_slot = checks(system, safety)
    run: SpinSearch = search(system, bad, firing, cores=cores, bitstate=bitstate, style=style,
                             hash_bits=hash_bits, timeout=timeout or 3600.0, optimize=optimize,
                             progress=progress)
    verdicts: list[Verdict] = []
    for p in todo:
        if not p.safety:
            verdicts.append(Verdict(p, "undetermined", "spin", expected[p.id], None, NOT_CHECKED, why[p.id]))
            continue
        a = run.answers[order[p.id]]
        verdict, trace, note = a.verdict, None, a.note
        if verdict == "violated" and traces:
            trace = trace_from_commands(system, list(a.commands), p.id, "counterexample")
        elif verdict == "holds" and p.id in trigger_slot:
            t = run.answers[trigger_slot[p.id]]
            if t.verdict == "holds":
                verdict, note = "vacuous", p.vacuity
            elif t.verdict == "undetermined":
                verdict, note = "undetermined", f"whether its trigger is reachable: {t.note}"
        verdicts.append(Verdict(p, verdict, "spin", expected[p.id], trace, note or p.note, why[p.id]))
    reason = "" if run.complete else run.note
    return CheckResult(system.name, run.states, max(0, run.transitions - 1), not run.complete,
                       time.perf_counter() - t0, tuple(verdicts), reason, skipped), run
