"""Rendering IR as Promela text: identifiers, types, expressions, one command's ``d_step``.

Shared by the two export styles (:mod:`.promela`, :mod:`.promela_processes`).
"""

from __future__ import annotations

import re

from ..model.ir import ARITH_SYMBOLS, BOOL_OPS, CMP_SYMBOLS, Command, Expr, System, fields_of
from .ranges import can_grow

KEYWORDS = frozenset((
    "active", "assert", "atomic", "bit", "bool", "break", "byte", "chan", "d_step", "D_proctype",
    "do", "else", "empty", "enabled", "eval", "fi", "for", "full", "get_priority", "goto",
    "hidden", "if", "in", "init", "inline", "int", "len", "local", "ltl", "mtype", "nempty",
    "never", "nfull", "np_", "od", "of", "pc_value", "print", "printf", "printm", "priority",
    "proctype", "provided", "run", "select", "set_priority", "short", "skip", "timeout", "true",
    "false", "typedef", "unless", "unsigned", "xr", "xs", "c_code", "c_decl", "c_expr", "c_state",
    "c_track",
    # C keywords: pan.c declares every variable as a member of its state struct
    "auto", "case", "char", "const", "continue", "default", "double", "enum", "extern", "float",
    "long", "register", "return", "signed", "sizeof", "static", "struct", "switch", "union", "void",
    "volatile", "while", "now",
))

class PromelaError(ValueError):
    """The system cannot be exported (e.g. a domain SPIN cannot represent)."""


def promela_names(system: System) -> dict[str, str]:
    """Field name -> Promela identifier (``client.tcp`` -> ``client_tcp``), unique."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for f in system.fields:
        base = re.sub(r"[^A-Za-z0-9_]", "_", f.name).strip("_") or "f"
        if base[0].isdigit():
            base = "f_" + base
        if base in KEYWORDS:
            base = "f_" + base
        name, k = base, 1
        while name in used:
            k += 1
            name = f"{base}_{k}"
        used.add(name)
        out[f.name] = name
    return out


def ctype(lo: int, hi: int) -> str:
    if lo >= 0 and hi <= 1:
        return "bit"
    if lo >= 0 and hi <= 255:
        return "byte"
    if lo >= -32768 and hi <= 32767:
        return "short"
    if lo >= -(2 ** 31) and hi < 2 ** 31:
        return "int"
    raise PromelaError(f"domain {lo}..{hi} does not fit a Promela int")


class Render:
    def __init__(self, names: dict[str, str]):
        self.names = names

    def val(self, e: Expr) -> str:
        op, a = e.op, e.args
        if op == "const":
            return str(a[0])
        if op == "field":
            return self.names[a[0]]
        if op in BOOL_OPS:
            return f"({self.cond(e)} -> 1 : 0)"
        if op in ARITH_SYMBOLS:
            return f"({self.val(a[0])} {ARITH_SYMBOLS[op]} {self.val(a[1])})"
        if op == "max":
            x, y = self.val(a[0]), self.val(a[1])
            return f"({x} > {y} -> {x} : {y})"
        if op == "min":
            x, y = self.val(a[0]), self.val(a[1])
            return f"({x} < {y} -> {x} : {y})"
        if op == "ite":
            return f"({self.cond(a[0])} -> {self.val(a[1])} : {self.val(a[2])})"
        raise PromelaError(f"unknown expression operator {op!r}")

    def cond(self, e: Expr) -> str:
        op, a = e.op, e.args
        if op == "const":
            return "true" if a[0] else "false"
        if op in CMP_SYMBOLS:
            return f"({self.val(a[0])} {CMP_SYMBOLS[op]} {self.val(a[1])})"
        if op == "and":
            return "(" + " && ".join(self.cond(x) for x in a) + ")"
        if op == "or":
            return "(" + " || ".join(self.cond(x) for x in a) + ")"
        if op == "not":
            return f"!{self.cond(a[0])}"
        return f"({self.val(e)} != 0)"


def comment(text: str) -> str:
    return text.replace("*/", "* /").replace("/*", "/ *")


def command_body(system: System, c: Command, names: dict[str, str], temps: list[str],
                 reset: bool = False) -> tuple[str, str]:
    """(guard, statements) of one command's ``d_step``; ``temps`` collects the temporaries.

    ``reset``: the temporaries are state variables (pan's breadth-first search rejects
    ``hidden`` ones), set back to 0 at the end of the step so that they never tell two states
    apart."""
    r = Render(names)
    guard_parts = [] if (c.guard.op == "const" and c.guard.args[0]) else [r.cond(c.guard)]
    assigned = {name for name, _ in c.updates}
    staged: list[tuple[str, str]] = []   # (temp, field)
    direct: list[str] = []
    tcount = 0
    for name, e in c.updates:
        f = system.field(name)
        if e.op == "field" and e.args[0] == name:
            continue
        if e.op != "const" and f.kind == "counter" and can_grow(e):
            # the explorer's overflow rule, as part of the guard (see module docstring)
            guard_parts.append(f"({r.val(e)} <= {f.hi})")
        rhs = r.val(e)
        if fields_of(e) & (assigned - {name}):
            t = f"_t{tcount}"
            tcount += 1
            staged.append((t, names[name]))
            direct.insert(0, f"{t} = {rhs}")  # computed first, from the pre-state
        else:
            direct.append(f"{names[name]} = {rhs}")
    stmts = [s for s in direct]
    # temporaries were computed at the front (in reverse insertion order: order is irrelevant,
    # they only read the pre-state); copy them in last
    stmts += [f"{fld} = {t}" for t, fld in staged]
    if reset:
        stmts += [f"{t} = 0" for t, _ in staged]
    while len(temps) < tcount:
        temps.append(f"_t{len(temps)}")
    guard = " && ".join(guard_parts) if guard_parts else "true"
    return guard, "; ".join(stmts) if stmts else "skip"
