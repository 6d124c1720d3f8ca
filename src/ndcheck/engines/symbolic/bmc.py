"""Bounded model checking: unroll the transition relation and look for a bad state, depth by depth.

One incremental solver holds ``init(s0) ∧ step(s0, a0, s1) ∧ … ∧ step(s{k-1}, a{k-1}, sk)``
(each step in the compact selector form of :meth:`.encode.Encoding.step_rel`, so the action of step
``i`` is the value of the selector ``a_i``, a step class of commands with the same updates); at depth ``k`` the negated property ``bad(sk)`` is
asserted behind a fresh assumption literal ``bad@k`` (``bad@k ⇒ bad(sk)``) and checked with that
literal assumed, so it binds only that check (no ``push``/``pop``; the solver keeps every depth's
implication, which constrains nothing once its literal is no longer assumed).  The first
satisfiable depth gives a **shortest** counterexample; its selectors decode into command indices
(:meth:`.encode.Encoding.command_in`)
that the caller replays through the model and the python-statemachine instances
(:func:`ndcheck.traces.trace.trace_from_commands`).  With two workers the depths from
:data:`SPLIT_FROM` on are checked by two forked processes, one per parity (:mod:`.parity`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import z3

from .encode import Encoding
from .parity import Halves, Lost
from .portfolio import available

#: The depth from which a hint computed beside the first checks (``bmc(later=...)``) is used:
#: the explicit engine's BFS layers take 1.3-1.5 s, about the time z3 needs for the step formula
#: and depths 0-2 of the catalog's larger models; fixed (not "when ready") so that the trace does
#: not depend on timing.
LATER_FROM = 3
#: The depth from which :func:`bmc` with two workers splits the depths between two forked
#: processes (:mod:`.parity`): after the layers' hints are in (the children inherit them), and
#: where the checks start to cost more than the forks.
SPLIT_FROM = LATER_FROM


@dataclass(frozen=True, slots=True)
class BmcOutcome:
    status: str                          # "found" / "none" (no bad state up to depth) / "unknown"
    depth: int                           # depth reached (found: the counterexample's length)
    commands: tuple[int, ...] = ()       # found: command indices from the initial state
    states: tuple[tuple[int, ...], ...] = ()   # found: decoded states s0..sk (fields, params)
    params: dict[str, int] | None = None  # found: values of lifted parameters
    reason: str = ""
    seconds: float = 0.0


class Unrolling:
    """An incremental unrolling ``s0 → s1 → …`` on one solver (shared by BMC and k-induction)."""

    def __init__(self, enc: Encoding, timeout: float | None = None, initial: bool = True,
                 tag: str = "", background=None, hint=None) -> None:
        self.enc = enc
        self.background = background
        self.hint = hint
        self.solver = z3.SolverFor("QF_BV" if enc.bits else "QF_LIA")
        self.deadline = None if timeout is None else time.perf_counter() + timeout
        self.tag = tag
        self.states = [enc.state(f"{tag}0")]
        self.sels: list[z3.ArithRef] = []
        if initial:
            self.solver.add(enc.init(self.states[0]))
            if hint is not None:
                self.solver.add(*hint(0, self.states[0], None))
        else:
            self.solver.add(enc.domain(self.states[0]))
            if background is not None:
                self.solver.add(background(self.states[0]))

    @property
    def depth(self) -> int:
        return len(self.sels)

    def add_hint(self, hint) -> None:
        """Take ``hint`` (see :func:`bmc`) from now on, asserted on the states unrolled so far
        too (it arrived late: :class:`.layers.LayersAhead`)."""
        self.hint = hint
        if hint is None:
            return
        for k, s in enumerate(self.states):
            self.solver.add(*hint(k, s, self.sels[k - 1] if k else None))

    def extend(self) -> None:
        k = self.depth
        s = self.states[-1]
        sel = self.enc.selector(f"action@{self.tag}{k}")
        t = self.enc.state(f"{self.tag}{k + 1}")
        self.solver.add(self.enc.step_rel(s, sel, t))
        if self.background is not None:
            self.solver.add(self.background(t))
        if self.hint is not None:
            self.solver.add(*self.hint(k + 1, t, sel))
        self.sels.append(sel)
        self.states.append(t)

    def check(self, *extra: z3.BoolRef) -> z3.CheckSatResult:
        if self.deadline is not None:
            left = self.deadline - time.perf_counter()
            if left <= 0:
                return z3.unknown
            self.solver.set(timeout=max(1, int(left * 1000)))
        return self.solver.check(*extra)

    def decode(self, model: z3.ModelRef, k: int | None = None
               ) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]:
        """The commands and states of the path to depth ``k`` (default: the whole unrolling)."""
        k = self.depth if k is None else k
        # a selector names a step class; the step's command is the member enabled in the model
        cmds = tuple(self.enc.command_in(model, model.eval(a, model_completion=True).as_long(), s)
                     for a, s in zip(self.sels[:k], self.states[:k]))
        states = tuple(self.enc.decode(model, s) for s in self.states[:k + 1])
        return cmds, states


def check_depth(u: Unrolling, k: int, bad: Callable[[Sequence[z3.ArithRef]], z3.BoolRef]
                ) -> tuple[str, object]:
    """Is a bad state reachable in exactly ``k`` steps of ``u`` (unrolled to depth ``k``)?
    ``("unsat", None)``, ``("sat", (commands, states))`` or ``("unknown", reason)``."""
    # an assumption literal rather than push/pop: a push on the large unrolled formula is
    # costly (BENCHMARKS.md)
    at_k = z3.Bool(f"bad@{u.tag}{k}", u.enc._ctx)
    u.solver.add(z3.Implies(at_k, bad(u.states[k])))
    r = u.check(at_k)
    if r == z3.sat:
        return "sat", u.decode(u.solver.model(), k)
    if r == z3.unknown:
        return "unknown", f"bmc: {u.solver.reason_unknown()} at depth {k}"
    return "unsat", None


def bmc(enc: Encoding, bad: Callable[[Sequence[z3.ArithRef]], z3.BoolRef], max_depth: int,
        timeout: float | None = None, min_depth: int = 0, background=None,
        progress: Callable[[str], None] | None = None, hint=None, later=None,
        workers: int = 1) -> BmcOutcome:
    """Look for a state satisfying ``bad`` within ``max_depth`` steps (shortest first).

    ``background``: an invariant of every reachable state (e.g. the Houdini lemmas), asserted
    at each unrolled state to prune the search; it cannot remove a real counterexample.
    ``hint(k, s_k, a_{k-1})``: constraints every *shortest* counterexample satisfies at depth
    ``k`` (:func:`.layers.constrain`, the explicit engine's BFS layers), asserted likewise.
    ``later``: a hint still being computed (an object with ``hook(enc)``, as
    :class:`.layers.LayersAhead`), taken (waited for) before the check at depth
    :data:`LATER_FROM`, so that the formulas z3 sees, and the trace it returns, do not depend
    on the thread's timing.
    ``workers``: with 2 or more (and a second core), the depths from :data:`SPLIT_FROM` on are
    split by parity between two forked processes (:mod:`.parity`).
    ``progress`` is told each depth before it is checked (``"bmc depth 14"``; with the split,
    two depths are checked at a time, so the last one told may be one past the answer).
    """
    t0 = time.perf_counter()
    u = Unrolling(enc, timeout, background=background, hint=hint)
    told = -1

    def tell(upto: int) -> None:        # "bmc depth k" for every depth up to ``upto``, in order
        nonlocal told
        while progress is not None and told < upto:
            told += 1
            if told >= min_depth:
                progress(f"bmc depth {told}")

    def outcome(k: int, r: str, payload) -> BmcOutcome:
        if r == "sat":
            cmds, states = payload
            n = len(enc.system.fields)
            params = dict(zip(enc.params, states[0][n:])) if enc.params else None
            return BmcOutcome("found", k, cmds, states, params, seconds=time.perf_counter() - t0)
        return BmcOutcome("unknown", k, reason=payload, seconds=time.perf_counter() - t0)

    try:
        while True:
            k = u.depth
            if later is not None and k >= LATER_FROM:
                u.add_hint(later.hook(enc))
                later = None
            if workers > 1 and k == SPLIT_FROM and k <= max_depth and available():
                halves = Halves(u, lambda uu, j: check_depth(uu, j, bad), k, max_depth, min_depth)
                try:
                    got = halves.answer(u.deadline, tell)
                finally:
                    halves.close()
                if got is None:
                    return BmcOutcome("none", max_depth, seconds=time.perf_counter() - t0)
                tell(got[0])
                return outcome(*got)
            if k >= min_depth:
                tell(k)
                r, payload = check_depth(u, k, bad)
                if r != "unsat":
                    return outcome(k, r, payload)
            if k >= max_depth:
                return BmcOutcome("none", k, seconds=time.perf_counter() - t0)
            u.extend()
    except Lost:
        # pathological (a child died): the whole search again on this core
        left = None if u.deadline is None else max(0.001, u.deadline - time.perf_counter())
        return bmc(enc, bad, max_depth, left, min_depth, background, progress, hint=u.hint,
                   later=later, workers=1)
