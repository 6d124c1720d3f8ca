"""Tuple-state code generation agrees with the IR interpreter (System.step / System.eval)."""

from __future__ import annotations

from ndcheck import CATALOG, build_system, explore
from ndcheck.engines.pyexpr import compile_lifted_successors, compile_predicate


def test_successors_equal_the_interpreter_on_reachable_states():
    system = build_system(CATALOG["fig8-silent-peer"])
    succ = compile_lifted_successors(system)
    for s in explore(system).states:
        expect = []
        for i, c in enumerate(system.commands):
            t = system.step(c, s)
            if t is not None and all(f.lo <= v <= f.hi for f, v in zip(system.fields, t)):
                expect.append((i, t))
        assert succ(s) == expect


def test_lifted_fields_keep_only_their_lower_bound():
    """A send into a channel already at its cap: no successor when bounded, one when lifted."""
    system = build_system(CATALOG["fig8-silent-peer"])
    lifted = {f.name for f in system.fields if f.unbounded_ok}
    init = tuple(f.init for f in system.fields)
    bounded, unbounded = compile_lifted_successors(system), compile_lifted_successors(system, lifted)
    cmd, t = next((i, t) for i, t in bounded(init)
                  if any(t[k] > init[k] and f.name in lifted for k, f in enumerate(system.fields)))
    k = next(k for k, f in enumerate(system.fields) if t[k] > init[k] and f.name in lifted)
    full = list(init)
    full[k] = system.fields[k].hi
    full = tuple(full)
    assert cmd not in [i for i, _ in bounded(full)]
    after = dict(unbounded(full))[cmd]
    assert after[k] == system.fields[k].hi + (t[k] - init[k])


def test_predicate_matches_eval():
    system = build_system(CATALOG["transport-mode"])
    c = system.commands[0]
    pred = compile_predicate(system, c.guard)
    for s in explore(system).states:
        assert pred(s) == bool(system.eval(c.guard, s))
