"""Blocking against the explored states: cubes no reachable state has, until the property is inductive.

When the Houdini lemmas ``H`` neither imply a property nor make it inductive, the explicit
engine still knows more than the mined shapes can say: a complete exploration that overflows no
cap has seen *every* reachable state (with the caps lifted the reachable states are the same,
since no step from them leaves a domain), so any state it has not seen is unreachable.  This
stage looks for an inductive invariant ``H ∧ L ∧ ¬bad`` with ``L`` a conjunction of negated
*cubes* (conjunctions of ``x = v``, ``x ≥ v``, ``x ≤ v``), IC3's blocking with the explored states as
the oracle for what is reachable:

1. ask z3 for a counterexample to induction: ``H(s) ∧ L(s) ∧ ¬bad(s) ∧ T(s, t)`` with ``t``
   bad or inside a cube of ``L``;
2. ``t`` is unreachable (it is bad or matches a cube, and neither holds of a reachable state),
   so ``s`` is too: generalize ``s`` to a small cube that no explored state matches, the
   literals chosen greedily over the explored states' columns (numpy), then each widened to
   every value those states leave out (a counter's to an interval, a control field's to a set),
   and add its negation to ``L``;
3. until z3 answers unsat.

Nothing is ever taken back (every cube is false in every explored state), so no frames are
needed.  Soundness rests on z3 alone: the final query is unsat, no initial state is bad or
inside a cube (z3), ``H`` is inductive by itself and overflow-free (so ``T``, which has no step
out of the domains, is every step from an ``H``-state).  The explored states only choose the
cubes: were they not the reachable ones, a cube could exclude a reachable state, and then the
loop could never close (the invariant would be false of a reachable state).

It pays where the invariant is a relation the mined shapes cannot state, on small models: T-2
(no silent TCP death: TCP's acknowledgement clock across both hosts and the network) closes on
no-ipsec (149 states) with 200-250 cubes in about 1 s, where seeded Spacer has no answer in
600 s, on fig8-silent-peer (1,185 states) with about 220, on two-flows-per-flow-sa's 24,576
states with about 400 in 14 s, on fig8-timed (1,050 states) with about 160 once a clock's
literal is an interval (value by value: 2,500 cubes in 40 s, not closed), and, with a budget
that grows with the states, on fig18-timed (44,501 states), fig7-timed (68,054) and
fig18-boundary-server (70,649) with 1,300-2,100 cubes in 2-3 minutes; not on fig7-fifo (8,464
states), fig7-duplicates (21,930), mm-expiry-rekey (51,360) or fig7-both-capable (106,770:
3,000 cubes in 162 s, not closed in 300 s).  Hence a budget (:func:`budget_for`) and a size
(:data:`MAX_STATES`); BENCHMARKS.md has the measurements.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import z3

from ...model.ir import System
from .encode import Encoding

#: Wall seconds ``prove`` gives the blocking loop before it first goes on to Spacer.
BUDGET = 20.0
#: Wall seconds per explored state that ``prove`` gives the loop in all (at least
#: :data:`BUDGET`): the rest of it, resumed with the cubes so far, once Spacer seeded with the
#: ``lean`` lemmas has no answer.  Closing took about 2 ms a state (fig18-timed, 44,501 states:
#: 65 s; fig7-timed, 68,054: 131 s; fig18-boundary-server, 70,649: 123 s).
PER_STATE = 0.003
#: Explored states beyond which ``prove`` does not try it: each cube's z3 check and its greedy
#: literals grow with the states, and fig7-both-capable (106,770) did not close in 300 s.
MAX_STATES = 80_000


#: Why a loop stops when a counterexample to induction starts in an explored state: the
#: property is violated (or the unbounded model reaches more than the explored states).
FROM_EXPLORED = "a counterexample to induction starts in an explored state"


def budget_for(states: int) -> float:
    """The loop's whole budget in ``prove`` for a model of ``states`` explored states."""
    return max(BUDGET, PER_STATE * states)


#: A literal ``(field, op, value)``: ``op`` ``"="``, ``"≥"`` or ``"≤"`` with an int, or ``"∈"``
#: with a tuple of the values a control, flag or slot field may take.
Lit = tuple[int, str, "int | tuple[int, ...]"]


def _holds(x, op: str, v) -> object:
    """A literal of a z3 term or an int."""
    if op == "=":
        return x == v
    if op == "≥":
        return x >= v
    if op == "≤":
        return x <= v
    return z3.Or([x == u for u in v]) if isinstance(x, z3.ExprRef) else x in v


@dataclass(frozen=True, slots=True)
class Cube:
    """A conjunction of literals (:data:`Lit`)."""

    lits: tuple[Lit, ...]

    def formula(self, s: Sequence[z3.ArithRef]) -> z3.BoolRef:
        return z3.And([_holds(s[i], op, v) for i, op, v in self.lits])

    def matches(self, state: Sequence[int]) -> bool:
        return all(_holds(state[i], op, v) for i, op, v in self.lits)

    def text(self, system: System) -> str:
        """The lemma the cube stands for: ``¬(client.tcp ∈ {ABORTED, CLOSED} ∧ net.s2c.RST.esp ≥ 1)``
        (a set of more than half the field's values as the values it leaves out: ``∉ {…}``)."""
        f = system.fields

        def lit(i: int, op: str, v) -> str:
            if op == "=":
                return f"{f[i].name} = {f[i].label(v)}"
            if op == "∈":
                out = [u for u in range(f[i].lo, f[i].hi + 1) if u not in v]
                if len(out) < len(v):
                    return f"{f[i].name} ∉ {{{', '.join(f[i].label(u) for u in out)}}}"
                return f"{f[i].name} ∈ {{{', '.join(f[i].label(u) for u in v)}}}"
            return f"{f[i].name} {op} {v}"
        return f"¬({' ∧ '.join(lit(*x) for x in self.lits)})"


@dataclass(frozen=True)
class Blocked:
    """The cubes whose negations, with the seed lemmas, make the property inductive -- or, with
    ``why``, the cubes so far and why the loop stopped without closing."""

    cubes: list[Cube]
    checks: int
    seconds: float
    why: str = ""

    @property
    def closed(self) -> bool:
        return not self.why


class Explored:
    """The explored states as columns (one row per field), for choosing cubes none of them match."""

    def __init__(self, system: System, cols: Sequence[np.ndarray]) -> None:
        self.cols = np.stack([np.asarray(c, dtype=np.int64) for c in cols])
        self.top = self.cols.max(axis=1)
        self.counts = [f.kind not in ("control", "bool", "enum") for f in system.fields]
        self.lo = [f.lo for f in system.fields]
        self.hi = [f.hi for f in system.fields]

    def cube(self, state: Sequence[int]) -> Cube | None:
        """A small cube that ``state`` matches and no explored state does; None when an explored
        state equals ``state``.  A counter above every explored value needs one literal
        (``x ≥ top + 1``); otherwise the literal that leaves the fewest explored states is taken
        until none is left (a counter's ``x ≥ v`` or ``x ≤ v`` before ``x = v`` when they leave as
        many), then literals the others make redundant are dropped and the rest widened
        (:meth:`_widened`)."""
        cols = self.cols
        opts: list[tuple[Lit, np.ndarray]] = []
        for i, v in enumerate(state[:len(cols)]):
            if self.counts[i] and v > self.top[i]:
                return Cube(((i, "≥", int(self.top[i]) + 1),))
            if self.counts[i] and v >= 1:
                opts.append(((i, "≥", int(v)), cols[i] >= v))
            if self.counts[i] and v < self.top[i]:
                opts.append(((i, "≤", int(v)), cols[i] <= v))
            opts.append(((i, "=", int(v)), cols[i] == v))
        alive = np.ones(cols.shape[1], bool)
        chosen: list[int] = []
        left = int(alive.sum())
        while left:
            counts = [int(np.count_nonzero(alive & m)) for _, m in opts]
            best = min(range(len(opts)), key=lambda k: (counts[k], opts[k][0][1] == "="))
            if counts[best] == left:
                return None
            chosen.append(best)
            alive &= opts[best][1]
            left = counts[best]
        for k in list(chosen):
            rest = [j for j in chosen if j != k]
            if rest and not np.logical_and.reduce([opts[j][1] for j in rest]).any():
                chosen = rest
        return Cube(tuple(sorted(self._widened([opts[k] for k in chosen], state))))

    def _widened(self, lits: list[tuple[Lit, np.ndarray]], state: Sequence[int]) -> list[Lit]:
        """Each literal widened to every value the explored states matching the other literals
        leave out: a counter's to the largest interval around the state's value (``x = 519``
        with ``x`` only 0 in those states becomes ``x ≥ 1``: a clock excluded as an interval,
        not value by value), a control, flag or slot field's to the set of its values none of
        those states has (``client.tcp ∈ {SYN-SENT, CLOSED}``); a literal those states never
        need goes."""
        cols = self.cols
        out: list[tuple[list[Lit], np.ndarray]] = [([lit], m) for lit, m in lits]
        for k, ((i, _, _), _) in enumerate(lits):
            others = [m for j, (_, m) in enumerate(out) if j != k]
            seen = cols[i][np.logical_and.reduce(others)] if others else cols[i]
            x = int(state[i])
            new: list[Lit] = []
            mask = np.ones(cols.shape[1], bool)
            if self.counts[i]:
                below, above = seen[seen < x], seen[seen > x]
                if below.size:
                    new.append((i, "≥", int(below.max()) + 1))
                    mask &= cols[i] >= new[-1][2]
                if above.size:
                    new.append((i, "≤", int(above.min()) - 1))
                    mask &= cols[i] <= new[-1][2]
            elif seen.size:
                taken = set(np.unique(seen).tolist())
                free = tuple(u for u in range(self.lo[i], self.hi[i] + 1) if u not in taken)
                new.append((i, "=", x) if free == (x,) else (i, "∈", free))
                mask = np.isin(cols[i], free)
            out[k] = (new, mask)
        return [lit for group, _ in out for lit in group]


def block(enc: Encoding, seed_formula: Callable[[Sequence[z3.ArithRef]], z3.BoolRef],
          bad: Callable[[Sequence[z3.ArithRef]], z3.BoolRef], explored: Explored,
          budget: float, max_cubes: int | None = None,
          progress: Callable[[str], None] | None = None, start: Sequence[Cube] = ()) -> Blocked:
    """Cubes ``L`` with ``H ∧ L ∧ ¬bad`` inductive and true initially (see the module docstring;
    ``seed_formula`` is ``H``, inductive and overflow-free).  Not :attr:`~Blocked.closed` when it
    does not close within ``budget`` seconds (or ``max_cubes``), when z3 has no answer, or when a
    counterexample's pre-state is an explored state (the property is violated, or the states
    are not the reachable ones).  ``start``: the cubes of an earlier loop that did not close
    (each matches no explored state), to go on from."""
    t0 = time.perf_counter()
    stop = t0 + budget
    s, t = enc.state("blk_s"), enc.state("blk_t")
    ctx = s[0].ctx
    sol = z3.Solver(ctx=ctx)
    sel = enc.selector("blk_sel")
    sol.add(enc.domain(s), enc.step_rel(s, sel, t), seed_formula(s), z3.Not(bad(s)))
    # ``goal``: t is bad or inside one of the cubes so far, a chain of one literal per cube
    goal = z3.Bool("blk_bad", ctx)
    sol.add(goal == bad(t))
    cubes: list[Cube] = []
    checks = 0

    def exclude(cube: Cube) -> None:
        nonlocal goal
        cubes.append(cube)
        sol.add(z3.Not(cube.formula(s)))
        wider = z3.Bool(f"blk_goal{len(cubes)}", ctx)
        sol.add(wider == z3.Or(goal, cube.formula(t)))
        goal = wider

    for cube in start:
        exclude(cube)

    def stopped(why: str) -> Blocked:
        return Blocked(cubes, checks, time.perf_counter() - t0, why)

    while True:
        left = stop - time.perf_counter()
        if left <= 0 or (max_cubes is not None and len(cubes) > max_cubes):
            return stopped(f"not closed within {budget:.0f} s ({len(cubes)} cubes)")
        sol.set(timeout=max(1, int(left * 1000)))
        checks += 1
        r = sol.check(goal)
        if r == z3.unsat:
            break
        if r != z3.sat:
            return stopped(f"not closed within {budget:.0f} s ({len(cubes)} cubes; z3: {sol.reason_unknown()})")
        cube = explored.cube(enc.decode(sol.model(), s))
        if cube is None:
            return stopped(FROM_EXPLORED)
        exclude(cube)
        if progress is not None and len(cubes) % 25 == 0:
            progress(f"blocking: {len(cubes)} cubes no explored state has")
    # no initial state is bad or inside a cube (with lifted parameters the initial states are many)
    q = enc.state("blk_init")
    first = z3.Solver(ctx=ctx)
    first.add(enc.init(q), z3.Or([bad(q)] + [c.formula(q) for c in cubes]))
    if first.check() != z3.unsat:
        return stopped("an initial state is bad or inside a cube")
    return Blocked(cubes, checks, time.perf_counter() - t0)


__all__ = ["BUDGET", "FROM_EXPLORED", "MAX_STATES", "PER_STATE", "Blocked", "Cube", "Explored", "block", "budget_for"]
