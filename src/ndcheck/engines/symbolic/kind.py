"""k-induction with the simple-path constraint; a counterexample to induction is decoded and classified.

For ``k = 0, 1, …``: the **base case** is BMC to depth ``k`` (a bad state within ``k`` steps is a
real counterexample); the **step case** asks for a path ``s0 → … → s(k+1)`` of pairwise distinct
states inside the field domains, good in ``s0..sk`` and bad in ``s(k+1)``.  If there is none the
property holds (it is ``k``-inductive; with the simple-path constraint the method is complete
for the bounded model, though ``k`` may need to reach its longest simple path).  Otherwise the
path is a *counterexample to induction* (CTI): its states are decoded into field labels and
classified by :func:`classify` — **real** when its first state is reachable (then the bad state
is reachable too: the property is violated) or **spurious** (the property needs a stronger
invariant, e.g. the one Spacer prints).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import z3

from .bmc import Unrolling
from .encode import Encoding


@dataclass(frozen=True, slots=True)
class KindOutcome:
    status: str                      # "proved" / "found" (base case) / "cti" / "unknown"
    k: int
    commands: tuple[int, ...] = ()   # found: counterexample commands; cti: the CTI path's commands
    states: tuple[tuple[int, ...], ...] = ()
    reason: str = ""
    seconds: float = 0.0


def _distinct(a: Sequence[z3.ArithRef], b: Sequence[z3.ArithRef]) -> z3.BoolRef:
    return z3.Or([x != y for x, y in zip(a, b)])


def kinduction(enc: Encoding, bad: Callable[[Sequence[z3.ArithRef]], z3.BoolRef], max_k: int,
               timeout: float | None = None, background=None,
               progress: Callable[[str], None] | None = None) -> KindOutcome:
    """Prove ``¬bad`` invariant by k-induction up to ``max_k``; the last CTI if it does not close.

    ``background``: an invariant already proved (the Houdini lemmas), assumed in every state
    of both unrollings — the step case then starts only from states it allows.  ``progress``
    is told each case before it is checked (``"k-induction k=3: step case"``).
    """
    t0 = time.perf_counter()
    base = Unrolling(enc, timeout, initial=True, tag="b", background=background)
    step = Unrolling(enc, timeout, initial=False, tag="i", background=background)
    last_cti: KindOutcome | None = None
    for k in range(max_k + 1):
        # base case: a bad state exactly k steps from init
        if progress is not None:
            progress(f"k-induction k={k}: base case")
        base.solver.push()
        base.solver.add(bad(base.states[-1]))
        r = base.check()
        if r == z3.sat:
            cmds, states = base.decode(base.solver.model())
            return KindOutcome("found", k, cmds, states, seconds=time.perf_counter() - t0)
        base.solver.pop()
        if r == z3.unknown:
            return _unknown(k, base.solver.reason_unknown(), last_cti, t0)
        # step case: good s0..sk (asserted permanently), bad s(k+1), simple path
        if progress is not None:
            progress(f"k-induction k={k + 1}: step case")
        step.solver.add(z3.Not(bad(step.states[-1])))
        step.extend()
        new = step.states[-1]
        step.solver.add(*[_distinct(old, new) for old in step.states[:-1]])
        step.solver.push()
        step.solver.add(bad(new))
        r = step.check()
        if r == z3.unsat:
            step.solver.pop()
            return KindOutcome("proved", k + 1, seconds=time.perf_counter() - t0)
        if r == z3.unknown:
            step.solver.pop()
            return _unknown(k, step.solver.reason_unknown(), last_cti, t0)
        cmds, states = step.decode(step.solver.model())
        step.solver.pop()
        last_cti = KindOutcome("cti", k + 1, cmds, states, seconds=time.perf_counter() - t0)
        base.extend()
    assert last_cti is not None
    return KindOutcome("cti", last_cti.k, last_cti.commands, last_cti.states,
                       reason=f"not {max_k + 1}-inductive", seconds=time.perf_counter() - t0)


def _unknown(k: int, why: str, cti: KindOutcome | None, t0: float) -> KindOutcome:
    return KindOutcome("unknown", k, cti.commands if cti else (), cti.states if cti else (),
                       reason=f"k-induction: {why} at k={k}", seconds=time.perf_counter() - t0)


def classify(enc: Encoding, cti_start: tuple[int, ...], graph=None,
             timeout: float | None = None, progress: Callable[[str], None] | None = None
             ) -> tuple[str, str]:
    """Is the first state of a CTI reachable?  ``("real" | "spurious" | "unknown", how)``.

    With an explored graph of the same (bounded) system, membership decides; otherwise Spacer
    is asked whether that exact state is reachable.
    """
    n = len(enc.system.fields)
    if graph is not None and not enc.params:
        start = tuple(cti_start[:n])
        if getattr(graph, "symmetry", None) is not None:
            # a graph of orbit representatives: look up the start's representative
            try:
                start = graph.layout.decode(graph.symmetry.canon(graph.layout.encode(start)))
            except ValueError:
                pass
        sid = graph.index_of(start)
        if sid is not None:
            return "real", f"reachable: state {sid} of the explored graph"
        if not graph.truncated:
            return "spurious", "not among the reachable states of the explored graph"
    from .spacer import spacer

    def is_start(s):
        return z3.And([v == x for v, x in zip(s, cti_start)])

    if progress is not None:
        progress("k-induction: is the counterexample to induction reachable? (spacer)")
    out = spacer(enc, is_start, timeout, progress=progress)
    if out.status == "unsafe":
        return "real", f"reachable in {out.depth} steps (spacer)"
    if out.status == "safe":
        return "spurious", "unreachable (spacer proved it)"
    return "unknown", out.reason
