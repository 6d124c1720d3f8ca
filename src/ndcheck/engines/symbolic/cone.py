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
requires overflow freedom (:func:`.lemmas.overflow_free`).  Bounded by ``budget`` seconds:
past it the answer is None and full Houdini takes over (keeping the refutations).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import z3

from ...model.ir import System
from ..pyexpr import compile_lifted_successors
from .lemmas import CLOSURE_STATES, Candidates, Lemma, _encoding, _Index, _walk

#: Seconds the cone search may take before full Houdini takes over, on the same solver and
#: keeping the refutations (fig7-both-capable: S-2 and S-12 close in 0.1-0.5 s after the 1.5 s
#: build; H-1 needs 280 lemmas and 27 s this way, against 19 s of full Houdini).
BUDGET = 2.0


class _Search:
    """One incremental solver over ``domain(s) ∧ T(s, t) ∧ ⋀_k (lit_k → cand_k(s))``, shared
    by the properties of one system and mode (the candidate formulas are built once)."""

    def __init__(self, system: System, pool: Candidates, unbounded: bool) -> None:
        self.pool = pool
        self.unbounded = unbounded
        lemmas = pool.lemmas
        self.enc = enc = _encoding(system, unbounded)
        self.idx = _Index(lemmas)
        self.idx.drop(self.idx.violated(tuple(f.init for f in system.fields)))
        self.idx.drop(sorted(pool.known_false.get(unbounded, ())))
        self.succ = compile_lifted_successors(system, enc.lifted)
        self.s, self.t = enc.state("c_s"), enc.state("c_t")
        self.sol = z3.SolverFor("QF_BV" if enc.bits else "QF_LIA")
        self.sel = enc.selector("c_sel")
        self.sol.add(enc.domain(self.s), enc.step_rel(self.s, self.sel, self.t))
        self.lits = [z3.Bool(f"cone{k}") for k in range(len(lemmas))]
        self.index = {f"cone{k}": k for k in range(len(lemmas))}
        for lit, lem in zip(self.lits, lemmas):
            self.sol.add(z3.Implies(lit, lem.formula(self.s)))
        self.not_t = [z3.Not(lem.formula(self.t)) for lem in lemmas]
        # refuted candidates are switched off for good (else a query for "some candidate turns
        # false" could answer with one of them and make no progress)
        self.sol.add(*[z3.Not(self.lits[k]) for k in range(len(lemmas)) if k not in self.idx.active])
        self.goals = 0
        self.deadline: float | None = None

    def literal(self, formula: z3.BoolRef) -> z3.BoolRef:
        """A fresh literal that switches ``formula`` on when assumed."""
        self.goals += 1
        lit = z3.Bool(f"cone_goal{self.goals}")
        self.sol.add(z3.Implies(lit, formula))
        return lit

    def check(self, ks, *extra: z3.BoolRef) -> z3.CheckSatResult:
        if self.deadline is not None:
            left = self.deadline - time.perf_counter()
            if left <= 0:
                return z3.unknown
            self.sol.set(timeout=max(1, int(left * 1000)))
        return self.sol.check([self.lits[k] for k in sorted(ks)] + list(extra))

    def core(self) -> set[int]:
        return {self.index[str(x)] for x in self.sol.unsat_core() if str(x) in self.index}

    def refute(self) -> None:
        """The model is a counterexample to induction of every active candidate: drop what
        its post-state falsifies, then walk concretely from its pre-state."""
        m = self.sol.model()
        before = set(self.idx.active)
        self.idx.drop(self.idx.violated(self.enc.decode(m, self.t)))
        _walk(self.enc.decode(m, self.s), self.succ, self.idx, CLOSURE_STATES)
        gone = before - self.idx.active
        self.pool.known_false.setdefault(self.unbounded, set()).update(gone)
        self.sol.add(*[z3.Not(self.lits[k]) for k in sorted(gone)])   # for good
        return len(gone)

    def houdini(self, progress: Callable[[str], None] | None = None) -> tuple[list[Lemma], int] | None:
        """Full Houdini on this solver (what :func:`.lemmas.houdini` computes, starting from the
        refutations so far): one query per round for a counterexample to induction of any
        active candidate, until unsat.  None when the deadline passes first."""
        lemmas = self.pool.lemmas
        everything = self.literal(z3.Or([z3.And(lit, nt) for lit, nt in zip(self.lits, self.not_t)]))
        rounds = 0
        while True:
            rounds += 1
            if progress is not None:
                progress(f"houdini round {rounds}: {len(self.idx.active)} candidates left")
            r = self.check(self.idx.active, everything)
            if r == z3.unsat:
                return [lemmas[k] for k in sorted(self.idx.active)], rounds
            if r != z3.sat:
                return None
            self.refute()

    def shrink(self, base: set[int], core: set[int], goal: z3.BoolRef) -> set[int] | None:
        """A small ``N ⊆ core`` with ``base ∪ N`` (and ``goal``) unsat, knowing ``base ∪ core``
        is: grown one candidate per model (one the model's pre-state falsifies)."""
        n: set[int] = set()
        while True:
            r = self.check(base | n, goal)
            if r == z3.unsat:
                return n
            if r != z3.sat:
                return None
            pre = self.enc.decode(self.sol.model(), self.s)
            missing = [k for k in self.idx.violated(pre) if k in core and k not in n]
            if not missing:          # z3's core was not sufficient after all: take all of it
                return n | core
            n.add(missing[-1])


def search_for(system: System, pool: Candidates, unbounded: bool, tier: str) -> _Search:
    """The solver of ``pool`` in one mode, built once per system (cone and full Houdini share it)."""
    key = (id(system), unbounded, tier)
    hit = _SEARCHES.get(key)
    if hit is not None and hit[0] is system and hit[1].pool is pool:
        return hit[1]
    search = _Search(system, pool, unbounded)
    if len(_SEARCHES) > 8:
        _SEARCHES.clear()
    _SEARCHES[key] = (system, search)
    return search


_SEARCHES: dict[tuple[int, bool, str], tuple[System, _Search]] = {}


def cone_lemmas(system: System, pool: Candidates, bad: Callable[[Sequence[z3.ArithRef]], z3.BoolRef],
                unbounded: bool = True, tier: str = "core", budget: float = BUDGET,
                deadline: float | None = None, progress: Callable[[str], None] | None = None
                ) -> tuple[list[Lemma], int] | None:
    """Candidates of ``pool`` that are inductive by themselves and exclude ``bad`` (checked by
    z3, see the module docstring), and the z3 checks it took; None when none is found within
    ``budget`` seconds (or before ``deadline``) or no subset of the active candidates implies
    ``¬bad``."""
    search = search_for(system, pool, unbounded, tier)
    stop = time.perf_counter() + budget     # the budget is for the search, not the solver's build
    search.deadline = stop if deadline is None else min(stop, deadline)
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
        goal = search.literal(z3.Or([search.not_t[k] for k in sorted(u)] + [z3.BoolVal(False)]))
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
