"""Property-directed Houdini: the few mined lemmas one property needs, grown from unsat cores.

Full Houdini (:func:`.lemmas.houdini`) filters every mined candidate to the largest inductive
subset; on fig7-both-capable that is 160-200 z3 rounds (18-22 s), most of it spent refuting
candidates about channel counters that most properties never need.  A property is often
implied by a handful of lemmas that are inductive among themselves (S-2: one).  This module
looks for such a set ``U`` directly:

1. ``U`` starts as a small unsat core of ``A(s) ∧ bad(s)``, ``A`` the candidates not yet
   refuted (none is refuted yet: the mined ones).  When ``A ∧ bad`` is satisfiable no subset
   of ``A`` implies the property: the answer is None at once (the caller goes on without
   lemmas for it, or with full Houdini for Spacer).
2. Is ``U`` inductive by itself, ``U(s) ∧ T(s, t) ∧ ¬U(t)`` unsat?  Then, if still
   ``U ⊨ ¬bad``, done.
3. Otherwise ask the same with ``A(s)``: a model is a counterexample to induction of the whole
   of ``A`` (``s`` satisfies every candidate still active), so every candidate its ``t``
   falsifies is refuted, as in Houdini (the concrete walk of :func:`.lemmas._walk` refutes
   more); unsat: ``U`` is inductive relative to ``A``, and a small support ``N`` from the
   unsat core is added to ``U`` (the core is shrunk by models: while ``U ∪ N`` has a
   counterexample ``(s, t)``, one core candidate ``s`` falsifies joins ``N``).

Each refutation is one Houdini would make, so the refuted set is shared with the later full
Houdini pass (:class:`.lemmas.Candidates`).  Soundness does not rest on the cores or the walk:
the answer is a set ``U`` of candidates true initially for which z3 has answered unsat to
``U(s) ∧ domain(s) ∧ T(s, t) ∧ ¬U(t)`` and to ``U(s) ∧ domain(s) ∧ bad(s)``; the caller also
requires overflow freedom (:func:`.lemmas.overflow_free`).  Bounded by ``budget`` CPU seconds:
past it the answer is None and full Houdini takes over (keeping the refutations).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import z3

from ...model.ir import System
from .lemmas import Candidates, Lemma, search_for

#: CPU seconds the cone search may take before Houdini takes over, on the same solver and
#: keeping the refutations (fig7-both-capable: S-2 and S-12 close in 0.1-0.5 s after the 1.5 s
#: build; H-1 needs 280 lemmas and 27 s this way, against 5 s of Houdini over the lean
#: candidates).  CPU rather than wall seconds, so that the answer does not depend on the load;
#: the wall clock stops it at three times the budget, and each z3 check gets the CPU budget
#: left as its (wall-clock) timeout, so one check cannot overrun it by much.
BUDGET = 1.0


def cone_lemmas(system: System, pool: Candidates, bad: Callable[[Sequence[z3.ArithRef]], z3.BoolRef],
                unbounded: bool = True, tier: str = "core", budget: float | None = None,
                deadline: float | None = None, progress: Callable[[str], None] | None = None
                ) -> tuple[list[Lemma], int] | None:
    """Candidates of ``pool`` that are inductive by themselves and exclude ``bad`` (checked by
    z3, see the module docstring), and the z3 checks it took; None when none is found within
    ``budget`` CPU seconds (or before ``deadline``) or no subset of the active candidates
    implies ``¬bad``.  ``budget`` defaults to :data:`BUDGET`, read at the call."""
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
    stop = time.perf_counter() + 3 * budget     # the budget is for the search, not the solver's build
    search.deadline = stop if deadline is None else min(stop, deadline)
    search.cpu_stop = time.process_time() + budget
    idx = search.idx
    say = progress if progress is not None else (lambda _text: None)
    bad_lit = search.literal(bad(search.s))
    checks = 0

    def needed() -> set[int] | None:
        nonlocal checks
        checks += 1
        if search.check(idx.active, bad_lit) != z3.unsat:
            return None
        return search.shrink(set(), search.core(), bad_lit)

    u = needed()
    while u is not None:
        u &= idx.active
        say(f"houdini cone: {len(u)} lemmas, {len(idx.active)} candidates active")
        goal = search.literal(z3.Or([search.changed(k) for k in sorted(u)] + [z3.BoolVal(False)]))
        checks += 1
        r = search.check(u, goal)
        if r == z3.unsat:
            checks += 1
            if search.check(u, bad_lit) == z3.unsat:
                return [pool.lemmas[k] for k in sorted(u)], checks
            more = needed()
            if more is None:
                return None
            u |= more
            continue
        if r != z3.sat:
            return None
        checks += 1
        r = search.check(idx.active, goal)
        if r == z3.sat:
            search.refute()
            continue
        if r != z3.unsat:
            return None
        n = search.shrink(u, search.core() - u, goal)
        if n is None:
            return None
        u |= n
    return None
