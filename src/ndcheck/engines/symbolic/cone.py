"""Property-directed Houdini: the property and the few mined lemmas it needs, inductive together.

Full Houdini (:func:`.lemmas.houdini`) filters every mined candidate to the largest inductive
subset; on fig7-both-capable that is 100-150 z3 rounds, most of them refuting candidates about
channel counters that a property does not need.  This module looks instead for a small set
``U`` of candidates such that ``U ∧ P`` is inductive, ``P = ¬bad`` the property itself:

1. ``U`` starts empty.  Is ``U ∧ P`` inductive: ``U(s) ∧ P(s) ∧ T(s, t) ∧ ¬(U ∧ P)(t)``
   unsat (the goal asks only for steps that update a field of the candidate they falsify,
   :meth:`.lemmas._Search.changed`)?  Then done.
2. Otherwise ask the same with all active candidates ``A(s)``: a model is a state satisfying
   every active candidate and ``P`` whose successor falsifies some of ``U ∧ P``.  Every
   candidate its successor falsifies is refuted, as in Houdini (and the concrete walk of
   :func:`.lemmas._walk` refutes more); when it falsifies only ``P``, the property is not
   inductive relative to anything the candidates can say: the answer is None.  Unsat: ``U ∧ P``
   is inductive relative to ``A``, and a small support ``N`` from the unsat core joins ``U``
   (the core is shrunk by models: while ``U ∪ N`` has a counterexample ``(s, t)``, one core
   candidate ``s`` falsifies joins ``N``).

With ``P`` in the invariant rather than implied by ``U``, more properties close this way: on
fig7-both-capable every safety property that needed full Houdini or Spacer (S-3 with no lemma
at all, S-14 with 14, S-11 with 63, H-1 with 148; BENCHMARKS.md).  Each refutation is one
Houdini would make, so the refuted set is shared with the full Houdini pass
(:class:`.lemmas.Candidates`) and sent to a :mod:`.portfolio` partner running it on the other
core.  The search does not take the partner's refutations (they arrive when they arrive): its
answer, unlike Houdini's, depends on the order of the refutations, and a proof should not
depend on timing.

Soundness does not rest on the cores or the walk: the answer is a set ``U`` of candidates true
initially, with ``P`` true initially (z3: ``init ∧ bad`` unsat), for which z3 has answered
unsat to ``U(s) ∧ P(s) ∧ domain(s) ∧ T(s, t) ∧ ¬(U ∧ P)(t)``; the caller also requires
overflow freedom of ``U`` (:func:`.lemmas.overflow_free`), so that ``T`` (no step out of the
domains) is every step from those states.  Bounded by ``budget`` CPU seconds: past it the
answer is None and full Houdini takes over (keeping the refutations).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import z3

from ...model.ir import System, fields_of
from .lemmas import Candidates, Lemma, houdini, search_for

#: CPU seconds the cone search may take before Houdini takes over, on the same solver and
#: keeping the refutations.  fig7-both-capable (CPU s, loaded machine): S-3 closes with no
#: lemma in 0.7 s, S-2 with one in 1.7 s, S-12 with four in 2.4 s; S-11 and S-14 need about
#: 300 lemmas and do not close in 30 s, where Houdini over the lean candidates takes 10-15 s and
#: the property is then inductive relative to its lemmas (:meth:`.lemmas.Strengthening.
#: relatively_inductive`).  CPU rather than wall seconds, so that the answer does not depend on
#: the load; the wall clock stops it at three times the budget, and each z3 check gets the CPU
#: budget left as its (wall-clock) timeout, so one check cannot overrun it by much.  With a
#: :mod:`.portfolio` partner the full Houdini pass has already started on the other core.
BUDGET = 3.0


def cone_lemmas(system: System, pool: Candidates, bad: Callable[[Sequence[z3.ArithRef]], z3.BoolRef],
                unbounded: bool = True, tier: str = "core", budget: float | None = None,
                deadline: float | None = None, progress: Callable[[str], None] | None = None
                ) -> tuple[list[Lemma], int] | None:
    """Candidates ``U`` of ``pool`` with ``U ∧ ¬bad`` inductive and true initially (checked by
    z3, see the module docstring), and the z3 checks it took; None when none is found within
    ``budget`` CPU seconds (or before ``deadline``), when the property is not inductive
    relative to the active candidates.  ``budget`` defaults to :data:`BUDGET`, read at the call;
    ``math.inf``: no CPU budget."""
    if budget is None:
        budget = BUDGET
    try:
        return _cone(system, pool, bad, unbounded, tier, budget, deadline, progress)
    finally:
        search_for(system, pool, unbounded, tier).cpu_stop = None


def _cone(system: System, pool: Candidates, bad: Callable[[Sequence[z3.ArithRef]], z3.BoolRef],
          unbounded: bool, tier: str, budget: float, deadline: float | None,
          progress: Callable[[str], None] | None) -> tuple[list[Lemma], int] | None:
    """The search of :func:`cone_lemmas`."""
    search = search_for(system, pool, unbounded, tier)
    if not _initially_good(search, bad):
        return None
    if math.isfinite(budget):
        stop = time.perf_counter() + 3 * budget     # the budget is for the search, not the build
        search.deadline = stop if deadline is None else min(stop, deadline)
        search.cpu_stop = time.process_time() + budget
    else:
        search.deadline = deadline
    idx = search.idx
    say = progress if progress is not None else (lambda _text: None)
    p_lit = search.literal(z3.Not(bad(search.s)))
    bad_t = bad(search.t)
    u: set[int] = set()
    checks = 0
    while True:
        u &= idx.active
        say(f"houdini cone: {len(u)} lemmas, {len(idx.active)} candidates active")
        goal = search.literal(z3.Or([search.changed(k) for k in sorted(u)] + [bad_t]))
        checks += 1
        r = search.check(u, p_lit, goal)
        if r == z3.unsat:
            return [pool.lemmas[k] for k in sorted(u)], checks
        if r != z3.sat:
            return None
        checks += 1
        r = search.check(idx.active, p_lit, goal)
        if r == z3.sat:
            if not search.refute():     # only P turns false: not inductive relative to A
                return None
            continue
        if r != z3.unsat:
            return None
        n = search.shrink(u, search.core() - u, goal, p_lit)
        if n is None:
            return None
        u |= n


def _initially_good(search, bad) -> bool:
    """No initial state is bad (z3; with lifted parameters the initial states are many)."""
    enc = search.enc
    s = enc.state("cone_init")
    sol = z3.Solver(ctx=s[0].ctx)
    sol.add(enc.init(s), bad(s))
    return sol.check() == z3.unsat


#: The field cone (:func:`field_cone_lemmas`) is tried only when it holds at most this share of
#: the system's fields; a larger cone costs what full Houdini costs (fig7-both-capable: S-2,
#: S-3, S-11, S-12 reach 94-100 of its 104 fields at depth 1, S-13 only 20).
FIELD_CONE_SHARE = 1 / 3
#: Wall seconds Houdini over the field cone's candidates may take (fig7-both-capable S-13: 76
#: rounds, 3.0 s).
FIELD_CONE_BUDGET = 6.0


def field_cone(system: System, names: set[str]) -> set[int]:
    """The indices of the fields ``names`` and of every field a command that writes one of them
    reads (its guard, and the updates of those fields): one step of dependence."""
    out = set(names)
    for c in system.commands:
        written = [u for n, u in c.updates if n in names]
        if written:
            out |= fields_of(c.guard)
            for u in written:
                out |= fields_of(u)
    return {system.index[n] for n in out if n in system.index}


def field_cone_lemmas(system: System, pool: Candidates, names: set[str], unbounded: bool = True,
                      deadline: float | None = None, progress: Callable[[str], None] | None = None,
                      budget: float | None = None) -> tuple[list[Lemma], int, int, int] | None:
    """Houdini over the candidates of ``pool`` that speak only of the field cone of ``names``
    (:func:`field_cone`): ``(the largest inductive subset, rounds, candidates, cone fields)``.
    None when the cone is larger than :data:`FIELD_CONE_SHARE` of the fields, holds no
    candidate, or Houdini does not finish before ``deadline`` or within ``budget`` seconds
    (default :data:`FIELD_CONE_BUDGET`, read at the call).

    The answer is inductive for the whole transition relation, like any Houdini answer (the
    cone only chooses which candidates are asked about); whether it implies the property is the
    caller's question.  On fig7-both-capable S-13 is implied by 144 of the 344 candidates about
    its 20-field cone, found in 3.0 s where Houdini over all 1,433 lean candidates takes 8-15 s
    (BENCHMARKS.md)."""
    cone = field_cone(system, names)
    if not cone or len(cone) > FIELD_CONE_SHARE * len(system.fields):
        return None
    sub = [lem for lem in pool.lemmas if lem.field in cone and all(x in cone for x, _ in lem.when)]
    if not sub:
        return None
    stop = time.perf_counter() + (FIELD_CONE_BUDGET if budget is None else budget)
    deadline = stop if deadline is None else min(stop, deadline)
    out = houdini(system, sub, unbounded=unbounded, deadline=deadline, progress=progress)
    if out is None:
        return None
    kept, rounds = out
    return kept, rounds, len(sub), len(cone)
