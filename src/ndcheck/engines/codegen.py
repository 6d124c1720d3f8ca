"""Generate Python source for a System's successor function (the explicit engine's hot loop).

The generated function takes a state tuple and returns ``(successors, overflow)`` where
successors is a list of ``(command index, next state)``.  Commands are grouped by a decision
tree on ``field == constant`` conjuncts (machine control states first), so a state only
evaluates the guards of commands whose control states match.  An update that would push a
counter past its bound sets ``overflow`` instead of producing a successor: a bound was hit and
the search is reported truncated.
"""

from __future__ import annotations

from ..model.ir import Command, Expr, System, conjuncts

_BOOL = {"eq", "ne", "lt", "le", "and", "or", "not"}


def py_expr(e: Expr, idx: dict[str, int], var: str = "s") -> str:
    op = e.op
    a = e.args
    if op == "const":
        return str(a[0])
    if op == "field":
        return f"{var}[{idx[a[0]]}]"
    if op in ("eq", "ne", "lt", "le"):
        sym = {"eq": "==", "ne": "!=", "lt": "<", "le": "<="}[op]
        return f"({py_expr(a[0], idx, var)} {sym} {py_expr(a[1], idx, var)})"
    if op == "add":
        return f"({py_expr(a[0], idx, var)} + {py_expr(a[1], idx, var)})"
    if op == "sub":
        return f"({py_expr(a[0], idx, var)} - {py_expr(a[1], idx, var)})"
    if op in ("max", "min"):
        return f"{op}({py_expr(a[0], idx, var)}, {py_expr(a[1], idx, var)})"
    if op == "and":
        return "(" + " and ".join(py_expr(x, idx, var) for x in a) + ")"
    if op == "or":
        return "(" + " or ".join(py_expr(x, idx, var) for x in a) + ")"
    if op == "not":
        return f"(not {py_expr(a[0], idx, var)})"
    if op == "ite":
        return f"({py_val(a[1], idx, var)} if {py_expr(a[0], idx, var)} else {py_val(a[2], idx, var)})"
    raise ValueError(op)


def py_val(e: Expr, idx: dict[str, int], var: str = "s") -> str:
    """An integer-valued rendering (boolean expressions become 0/1)."""
    if e.op in _BOOL:
        return f"(1 if {py_expr(e, idx, var)} else 0)"
    return py_expr(e, idx, var)


def _eq_conj(c: Expr):
    if c.op == "eq" and c.args[0].op == "field" and c.args[1].op == "const":
        return c.args[0].args[0], c.args[1].args[0]
    return None


def generate(system: System, fn_name: str = "successors") -> str:
    idx = system.index
    n = len(system.fields)
    lines = [f"def {fn_name}(s):", "    out = []", "    ovf = False"]
    control = [f.name for f in system.fields if f.kind == "control"]

    # Each command: its remaining guard conjuncts after splitting on control-field equalities.
    items = []
    for i, c in enumerate(system.commands):
        keyed = {}
        rest = []
        for cj in conjuncts(c.guard):
            kv = _eq_conj(cj)
            if kv and kv[0] in control and kv[0] not in keyed:
                keyed[kv[0]] = kv[1]
            else:
                rest.append(cj)
        items.append((i, c, keyed, rest))

    def emit(group, depth: int, avail: list[str]) -> None:
        ind = "    " * depth
        # choose the control field that splits this group best
        best = None
        for fld in avail:
            cnt = sum(1 for it in group if fld in it[2])
            if cnt and (best is None or cnt > best[1]):
                best = (fld, cnt)
        if best is None:
            for it in group:
                _emit_cmd(lines, it, ind, idx, system, n)
            return
        fld = best[0]
        rest_avail = [f for f in avail if f != fld]
        with_f = {}
        without = []
        for it in group:
            if fld in it[2]:
                with_f.setdefault(it[2][fld], []).append(it)
            else:
                without.append(it)
        var = f"v{depth}"
        lines.append(f"{ind}{var} = s[{idx[fld]}]")
        first = True
        for val in sorted(with_f):
            kw = "if" if first else "elif"
            first = False
            lines.append(f"{ind}{kw} {var} == {val}:")
            emit(with_f[val], depth + 1, rest_avail)
        if without:
            emit(without, depth, rest_avail)

    emit(items, 1, control)
    lines.append("    return out, ovf")
    return "\n".join(lines) + "\n"


def _emit_cmd(lines, item, ind, idx, system: System, n: int) -> None:
    i, c, keyed, rest = item
    lines.append(f"{ind}# {i}: {c.name}")
    body = ind
    if rest:
        cond = " and ".join(py_expr(r, idx) for r in rest)
        lines.append(f"{ind}if {cond}:")
        body = ind + "    "
    ups = dict(c.updates)
    parts = []
    checks = []
    for j, f in enumerate(system.fields):
        if f.name in ups:
            parts.append(py_val(ups[f.name], idx))
            e = ups[f.name]
            if e.op != "const" and f.kind in ("counter",) and _can_grow(e):
                checks.append(f"t[{j}] > {f.hi}")
        else:
            parts.append(f"s[{j}]")
    tup = "(" + ", ".join(parts) + ("," if n == 1 else "") + ")"
    lines.append(f"{body}t = {tup}")
    if checks:
        lines.append(f"{body}if {' or '.join(checks)}:")
        lines.append(f"{body}    ovf = True")
        lines.append(f"{body}else:")
        lines.append(f"{body}    out.append(({i}, t))")
    else:
        lines.append(f"{body}out.append(({i}, t))")


def _can_grow(e: Expr) -> bool:
    if e.op in ("add", "max"):
        return True
    return any(isinstance(a, Expr) and _can_grow(a) for a in e.args)


def compile_successors(system: System):
    src = generate(system)
    ns: dict = {}
    exec(compile(src, f"<ndcheck successors {system.name}>", "exec"), ns)
    return ns["successors"], src
