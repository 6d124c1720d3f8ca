"""Static value ranges of IR expressions, to leave out run-time domain checks that can never fire.

:func:`refine_range` narrows a field's range with a guard conjunct, :func:`value_range` bounds an
update's value from those ranges, and :func:`can_grow` tells whether an update may push a counter
past its ``hi`` (the overflow rule of :mod:`.emit_packed`; the Promela export guards the same
updates).
"""

from __future__ import annotations

from ..model.ir import BOOL_OPS, CMP_SYMBOLS, MIRRORED_CMP, Expr, System


def value_range(e: Expr, dom: dict[str, tuple[int, int]], system: System) -> tuple[int, int]:
    """Bounds ``(lo, hi)`` of ``e``'s value when each field lies in ``dom`` (else its domain)."""
    op, a = e.op, e.args
    if op == "const":
        return a[0], a[0]
    if op == "field":
        if a[0] in dom:
            return dom[a[0]]
        f = system.fields[system.index[a[0]]]
        return f.lo, f.hi
    if op in BOOL_OPS:
        return 0, 1
    if op in ("add", "sub", "max", "min"):
        (l1, h1), (l2, h2) = value_range(a[0], dom, system), value_range(a[1], dom, system)
        if op == "add":
            return l1 + l2, h1 + h2
        if op == "sub":
            return l1 - h2, h1 - l2
        if op == "max":
            return max(l1, l2), max(h1, h2)
        return min(l1, l2), min(h1, h2)
    if op == "ite":
        (l1, h1), (l2, h2) = value_range(a[1], dom, system), value_range(a[2], dom, system)
        return min(l1, l2), max(h1, h2)
    raise ValueError(f"unknown expression operator {op!r}")


def refine_range(dom: dict[str, tuple[int, int]], c: Expr, system: System) -> None:
    """Narrow field ranges with a guard conjunct of the shape ``field <cmp> const``."""
    neg = False
    if c.op == "not":
        neg, c = True, c.args[0]
    if c.op not in CMP_SYMBOLS:
        return
    x, y = c.args
    if x.op == "field" and y.op == "const":
        name, k, sym = x.args[0], y.args[0], CMP_SYMBOLS[c.op]
    elif x.op == "const" and y.op == "field":
        name, k, sym = y.args[0], x.args[0], MIRRORED_CMP[CMP_SYMBOLS[c.op]]
    else:
        return
    if neg:
        sym = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}[sym]
    f = system.fields[system.index[name]]
    lo, hi = dom.get(name, (f.lo, f.hi))
    if sym == "==":
        lo, hi = max(lo, k), min(hi, k)
    elif sym == "!=":
        if k == lo:
            lo += 1
        elif k == hi:
            hi -= 1
    elif sym == "<":
        hi = min(hi, k - 1)
    elif sym == "<=":
        hi = min(hi, k)
    elif sym == ">":
        lo = max(lo, k + 1)
    elif sym == ">=":
        lo = max(lo, k)
    dom[name] = (lo, hi)


def can_grow(e: Expr) -> bool:
    """True when ``e`` adds or takes a maximum somewhere: a ``counter`` update to such a value
    that passes ``hi`` is an overflow (a bound was hit), any other value outside the domain a
    model bug."""
    if e.op in ("add", "max"):
        return True
    return any(isinstance(a, Expr) and can_grow(a) for a in e.args)
