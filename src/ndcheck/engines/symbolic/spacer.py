"""Spacer (constrained Horn clauses): unbounded proofs with a printed inductive invariant.

The clauses, generated from the :class:`~.encode.Encoding`::

    Inv(init)                                   (rule "init")
    Inv(t) ⇐ Inv(s) ∧ T(s, t)                   (rule "T")
    Err    ⇐ Inv(s) ∧ bad(s)                    (rule "bad")
    Err    ⇐ Inv(s) ∧ ⋁_c leaves_domain_c(s)    (rule "overflow", when asked)

``fp.query(Err)``: **unsat means safe** and ``Inv``'s cover is an inductive invariant; sat means
a counterexample whose length is the number of "T" rules along the derivation.  The transition
is one rule with a disjunction over commands rather than one rule per command (much faster on
the large models: BENCHMARKS.md).  The actions of a counterexample are therefore recovered by
BMC at the reported depth (:mod:`.bmc`), which also makes the trace a shortest one.
``xform.slice``, ``xform.inline_linear`` and ``xform.inline_eager`` are off so that the
invariant is stated over the model's own fields.  A timeout makes z3 raise
``Z3Exception('canceled')``: the outcome is ``unknown``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import z3

from .encode import Encoding


@dataclass(frozen=True, slots=True)
class SpacerOutcome:
    status: str                     # "safe" / "unsafe" / "unknown"
    invariant: str | None = None    # safe: the inductive invariant, in field names
    invariant_expr: object = None   # safe: the z3 formula over plain field-named Ints
    depth: int | None = None        # unsafe: number of steps to the bad state
    reason: str = ""                # unsafe: "bad" or "overflow"; unknown: why
    seconds: float = 0.0


def spacer(enc: Encoding, bad: Callable[[Sequence[z3.ArithRef]], z3.BoolRef] | None,
           timeout: float | None = None, overflow: bool = False,
           background: Callable[[Sequence[z3.ArithRef]], z3.BoolRef] | None = None,
           progress: Callable[[str], None] | None = None) -> SpacerOutcome:
    """Is a ``bad`` state (or, with ``overflow``, a domain overflow) reachable?

    ``background`` is an invariant already proved for ``enc`` (it holds initially and is
    inductive, e.g. :mod:`.lemmas`' Houdini result): it constrains both sides of the transition
    rule and the error rules, so Spacer only has to find what the property needs beyond it.
    The reported invariant is then Spacer's cover *in conjunction with* the background.
    ``progress`` is told when the query starts and when the invariant is read back.
    """
    t0 = time.perf_counter()
    fp = z3.Fixedpoint()
    fp.set(engine="spacer")
    fp.set("xform.slice", False)
    fp.set("xform.inline_linear", False)
    fp.set("xform.inline_eager", False)
    inv = z3.Function("Inv", *([z3.IntSort()] * enc.width), z3.BoolSort())
    err = z3.Function("Err", z3.BoolSort())
    fp.register_relation(inv, err)
    s, t = enc.state("s"), enc.state("t")
    fp.declare_var(*s, *t)
    bs = [] if background is None else [background(s)]
    bt = [] if background is None else [background(t)]
    fp.rule(inv(*s), [enc.init(s)], name="init")
    fp.rule(inv(*t), [inv(*s), *bs, enc.trans_at(s, t), *bt], name="T")
    if bad is not None:
        fp.rule(err(), [inv(*s), *bs, bad(s)], name="bad")
    if overflow:
        leak = enc.leaks(s)
        if not z3.is_false(z3.simplify(leak)):
            fp.rule(err(), [inv(*s), *bs, leak], name="overflow")
    if timeout is not None:
        # the time limit counts from the call: building the rules above takes seconds on the
        # larger models (fig7-both-capable seeded with 984 lemmas: about 4 s)
        left = t0 + timeout - time.perf_counter()
        if left <= 0:
            return SpacerOutcome("unknown", reason="spacer: no answer within the time limit (it "
                                                   "passed while the Horn clauses were built)",
                                 seconds=time.perf_counter() - t0)
        fp.set(timeout=max(1, int(left * 1000)))
    if progress is not None:
        progress("spacer: solving the Horn clauses")
    try:
        r = fp.query(err())
    except z3.Z3Exception as e:
        return SpacerOutcome("unknown", reason=f"spacer: {_why(e)}", seconds=time.perf_counter() - t0)
    dt = time.perf_counter() - t0
    if r == z3.unsat:
        if progress is not None:
            progress("spacer: safe; reading back the inductive invariant")
        cover = fp.get_cover_delta(-1, inv)
        expr = z3.simplify(z3.substitute_vars(cover, *enc.plain_state()))
        return SpacerOutcome("safe", invariant=str(expr), invariant_expr=expr, seconds=dt)
    if r == z3.sat:
        names = fp.get_rule_names_along_trace()
        names = [str(n) for n in (names if isinstance(names, (list, tuple)) else [names])]
        depth = sum(1 for n in names if n == "T")
        last = "overflow" if "overflow" in names else "bad"
        return SpacerOutcome("unsafe", depth=depth, reason=last, seconds=dt)
    return SpacerOutcome("unknown", reason=f"spacer: {fp.reason_unknown()}", seconds=dt)


def _why(e: z3.Z3Exception) -> str:
    """z3's message as text (it arrives as bytes: ``b'canceled'`` was shown as such); a
    cancellation is the time limit."""
    msg = getattr(e, "value", e)
    if isinstance(msg, bytes):
        msg = msg.decode(errors="replace")
    msg = str(msg)
    return "no answer within the time limit (z3: canceled)" if msg == "canceled" else msg
