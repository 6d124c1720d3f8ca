"""IR expressions as Python source over plain state tuples (``s[i]``), compiled once.

The explicit explorer has its own emitter over *packed* integer states (:mod:`.emit_packed`,
tuned for throughput).  This module serves the places that work on decoded state tuples:

* :func:`compile_predicate` — a state predicate (:mod:`.graph_queries` scans graph states with
  it for :mod:`ndcheck.checking.explicit`);
* :func:`compile_lifted_successors` — every successor of one state tuple, with per-field domains
  that the caller chooses (the z3 engine's Houdini pass walks states outside the explored graph
  with it, including states whose lifted counters exceed the scenario's caps).

Both are equivalent to :func:`ndcheck.model.ir.evaluate` (a boolean used as a value is 0/1; a
value used as a condition is true when non-zero); tests compare them with the interpreter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from ..model.ir import BOOL_OPS, CMP_SYMBOLS, Expr, System


def cond_src(e: Expr, idx: dict[str, int]) -> str:
    """Python source of ``e`` as a condition over the tuple ``s``."""
    op, a = e.op, e.args
    if op == "const":
        return str(int(a[0]))
    if op == "field":
        return f"s[{idx[a[0]]}]"
    if op in CMP_SYMBOLS:
        return f"({value_src(a[0], idx)} {CMP_SYMBOLS[op]} {value_src(a[1], idx)})"
    if op == "and":
        return "(" + " and ".join(cond_src(x, idx) for x in a) + ")"
    if op == "or":
        return "(" + " or ".join(cond_src(x, idx) for x in a) + ")"
    if op == "not":
        return f"(not {cond_src(a[0], idx)})"
    return f"({value_src(e, idx)} != 0)"


def value_src(e: Expr, idx: dict[str, int]) -> str:
    """Python source of ``e`` as an integer value over the tuple ``s``."""
    return render_value(e, lambda name: f"s[{idx[name]}]", lambda c: cond_src(c, idx))


def render_value(e: Expr, field: Callable[[str], str], cond: Callable[[Expr], str]) -> str:
    """Integer-valued Python source of ``e``, given how a field and a condition are rendered
    (shared with the packed-state emitter of :mod:`.emit_packed`)."""
    op, a = e.op, e.args
    if op in BOOL_OPS:
        return f"(1 if {cond(e)} else 0)"
    if op == "const":
        return str(int(a[0]))
    if op == "field":
        return field(a[0])

    def val(x: Expr) -> str:
        return render_value(x, field, cond)
    if op == "add":
        return f"({val(a[0])} + {val(a[1])})"
    if op == "sub":
        return f"({val(a[0])} - {val(a[1])})"
    if op in ("min", "max"):
        return f"{op}({val(a[0])}, {val(a[1])})"
    if op == "ite":
        return f"({val(a[1])} if {cond(a[0])} else {val(a[2])})"
    raise ValueError(f"unknown expression operator {op!r}")


def compile_predicate(system: System, e: Expr) -> Callable[[Sequence[int]], bool]:
    """A Python function ``state tuple -> bool`` equivalent to :func:`ndcheck.model.ir.evaluate`."""
    src = f"lambda s: {cond_src(e, system.index)}"
    return eval(compile(src, f"<ndcheck predicate {system.name}>", "eval"))


#: Commands per generated function of :func:`lifted_successor_parts`: CPython compiles many small
#: functions faster than one of 1,159 ``if`` blocks (fig7-both-capable: 0.65 s against 0.95 s),
#: and a background thread compiling them one by one holds the GIL for one part at a time.
PART = 16


def lifted_successor_parts(system: System, lifted: Iterable[str] = (), part: int = PART):
    """The generated functions ``part(s, add)`` of :func:`compile_lifted_successors`, compiled
    one at a time (a generator: the caller may stop or interleave)."""
    idx = system.index
    lifted = set(lifted)
    cmds = list(enumerate(system.commands))
    for start in range(0, len(cmds), part):
        lines = ["def part(s, add):"]
        for ci, c in cmds[start:start + part]:
            lines.append(f"    if {cond_src(c.guard, idx)}:")
            if not c.updates:
                lines.append(f"        add(({ci}, tuple(s)))")
                continue
            lines.append("        t = list(s)")
            checks = []
            for name, e in c.updates:
                f = system.field(name)
                j = idx[name]
                lines.append(f"        t[{j}] = {value_src(e, idx)}")
                checks.append(f"t[{j}] >= {f.lo}" if name in lifted else f"{f.lo} <= t[{j}] <= {f.hi}")
            lines.append(f"        if {' and '.join(checks)}:")
            lines.append(f"            add(({ci}, tuple(t)))")
        lines.append("    return")
        ns: dict = {}
        exec(compile("\n".join(lines), f"<ndcheck tuple successors {system.name} {start}>", "exec"), ns)  # noqa: S102 - our own generated code
        yield ns["part"]


def join_successor_parts(parts: Sequence[Callable]) -> Callable[[Sequence[int]], list[tuple[int, tuple[int, ...]]]]:
    """One successor function from the parts of :func:`lifted_successor_parts`, in command order."""
    parts = tuple(parts)

    def succ(s):
        out: list = []
        add = out.append
        for f in parts:
            f(s, add)
        return out
    return succ


def compile_lifted_successors(system: System, lifted: Iterable[str] = ()
                              ) -> Callable[[Sequence[int]], list[tuple[int, tuple[int, ...]]]]:
    """``succ(s) -> [(command index, successor tuple), ...]`` in command order.

    A command whose update takes a field out of its domain ``lo..hi`` has no successor (the
    bounded semantics; the explicit engine reports such a step as an overflow).  Fields named in
    ``lifted`` keep only their lower bound (the z3 engine's unbounded mode).
    """
    return join_successor_parts(list(lifted_successor_parts(system, lifted)))
