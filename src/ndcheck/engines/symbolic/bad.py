"""Safety properties as bad-state formulas, and z3 counterexamples checked against them.

A property arrives as an object (:class:`~ndcheck.engines.checkable.SafetyProperty`): ``always``
is bad where its state predicate fails, ``never_action`` where a selected command can fire
(:meth:`firings`).  A decoded z3 path is re-executed by IR interpretation and its end is checked
to be bad before it leaves the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import z3

from ...model.ir import fields_of
from ..checkable import SafetyProperty
from .encode import Encoding
from .result import Counterexample


class CounterexampleError(AssertionError):
    """A decoded z3 path does not re-execute in the IR, or does not end in a bad state."""


def require_safety(prop: SafetyProperty, system) -> None:
    """Raise ValueError unless ``prop`` is a safety property that applies to ``system``."""
    if not prop.safety:
        raise ValueError(f"{prop.id} is a {prop.kind} property; the z3 engine proves safety "
                         f"properties (always, never_action) — use `ndcheck check` for it")
    if not prop.applies(system):
        raise ValueError(f"property {prop.id} ({prop.name}) does not apply to scenario {system.name!r}")


def bad_formula(enc: Encoding, prop: SafetyProperty) -> Callable[[Sequence[z3.ArithRef]], z3.BoolRef]:
    """``bad(s)`` for a safety property: ``¬state`` (always) or a selected command can fire."""
    system = enc.system
    if prop.kind == "always":
        assert prop.state is not None
        e = prop.state(system)
        tmpl = enc.template(("bad", prop.id), lambda p: z3.Not(enc.formula(e, p)))
        return lambda s: enc.at(tmpl, s)
    if prop.kind == "never_action":
        firings = [(system.commands[i], cond) for i, cond in prop.firings(system)]

        tmpl = enc.template(("bad", prop.id), lambda p: enc.can_fire(firings, p))
        return lambda s: enc.at(tmpl, s)
    raise ValueError(f"{prop.id} is a {prop.kind} property; the z3 engine proves safety "
                     f"properties (always, never_action) — use `ndcheck check` for it")


def property_fields(system, prop: SafetyProperty) -> set[str]:
    """The names of the fields ``bad`` reads: the state predicate's (always), or the firing
    conditions' and the selected commands' guards' (never_action)."""
    if prop.kind == "always":
        assert prop.state is not None
        return fields_of(prop.state(system))
    out: set[str] = set()
    for i, cond in prop.firings(system):
        out |= fields_of(cond) | fields_of(system.commands[i].guard)
    return out


def is_bad(system, prop: SafetyProperty, state: Sequence[int]) -> bool:
    """Whether a concrete state is bad for ``prop`` (by IR interpretation)."""
    n = len(system.fields)
    if prop.kind == "always":
        assert prop.state is not None
        return not system.eval(prop.state(system), state[:n])
    return any(system.eval(cond, state[:n]) and system.step(system.commands[i], state[:n]) is not None
               for i, cond in prop.firings(system))


def _firing(enc: Encoding, prop: SafetyProperty, state: Sequence[int]) -> int:
    """The first selected command whose firing condition holds in a (decoded) state."""
    system = enc.system
    n = len(system.fields)
    for i, cond in prop.firings(system):
        if system.eval(cond, state[:n]) and system.step(system.commands[i], state[:n]) is not None:
            return i
    raise CounterexampleError(f"{prop.id}: no selected command fires in the counterexample's last state")


def counterexample(enc: Encoding, prop: SafetyProperty, commands: Sequence[int],
                   states: Sequence[Sequence[int]]) -> Counterexample:
    """A decoded z3 path as a :class:`Counterexample`, re-executed in the IR and checked bad.

    With lifted budgets the path is moved to the system rebuilt with the budgets' values
    (``System.rebuild``; the rebuilt system has the same command names).
    """
    system = enc.system
    n = len(system.fields)
    cmds = list(commands)
    if prop.kind == "never_action":
        cmds.append(_firing(enc, prop, states[-1]))
    values = dict(zip(enc.params, states[0][n:])) if enc.params else {}
    target = system
    if values:
        if system.rebuild is None:
            raise CounterexampleError(f"{system.name}: the counterexample needs budgets {values}, "
                                      f"but this system cannot be rebuilt with other budgets")
        target = system.rebuild(values)
        names = {c.name: i for i, c in enumerate(target.commands)}
        cmds = [names[system.commands[i].name] for i in cmds]
    state = target.init
    visited = [state]
    for k, ci in enumerate(cmds, 1):
        nxt = target.step(target.commands[ci], state)
        if nxt is None:
            raise CounterexampleError(f"step {k}: {target.commands[ci].name} is not enabled in the model")
        visited.append(nxt)
        state = nxt
    if prop.kind == "always" and not is_bad(target, prop, visited[-1]):
        raise CounterexampleError(f"{prop.id}: the z3 counterexample's last state satisfies the property")
    return Counterexample(target, tuple(cmds), values)
