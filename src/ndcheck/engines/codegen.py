"""Generate Python source for a System's successor function over packed integer states.

A state is one Python ``int``: field ``i`` occupies ``width[i]`` bits at a fixed offset and holds
``value - lo`` (:class:`Layout`).  The generated function takes a packed state and returns
``(successors, overflow)`` where successors is a list of ``(command index, next packed state)``.

* **Decision tree.** Commands are grouped on ``control field == constant`` conjuncts (machine
  control states first), so a state only evaluates the guards of commands whose control states
  match.  Inside a group, runs of consecutive commands that test the same condition (one
  positively, another negated) share one ``if``/``else``.  Both steps keep the order in which
  enabled commands are reported, which fixes BFS order, state ids and shortest traces.
* **Masked arithmetic.** A guard ``f == k`` / ``k < f`` is one ``&`` and one comparison on the
  packed word; an update ``f := f + k`` or ``f := k`` with ``f`` known from the guard is a constant
  added to the word; other updates are computed from the old word and or-ed into a cleared slot,
  so every update reads the pre-state (the IR's simultaneous assignment).
* **Overflow rule.** An update that would push a ``counter`` field past its ``hi`` sets
  ``overflow`` instead of producing a successor: a bound was hit and the search is reported
  truncated.  Any other value outside a field's bit slot (a model bug the tuple representation
  would have stored silently) raises :class:`DomainError` rather than corrupting a neighbour.

:func:`compile_successors` keeps the tuple interface (state tuples in and out) for callers that
step single states, e.g. conformance checking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from ..model.ir import Command, Expr, System, conjuncts

_BOOL = {"eq", "ne", "lt", "le", "and", "or", "not"}
_CMP = {"eq": "==", "ne": "!=", "lt": "<", "le": "<="}


class DomainError(ValueError):
    """A command produced a value outside a field's domain (other than a counter overflow)."""


# --------------------------------------------------------------------------------------------
# Layout: fields at fixed bit offsets
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Bit layout of a system's state vector: one packed ``int`` per state."""

    names: tuple[str, ...]
    lo: tuple[int, ...]
    hi: tuple[int, ...]
    offset: tuple[int, ...]
    width: tuple[int, ...]
    bits: int
    encode: Callable[[Sequence[int]], int]
    decode: Callable[[int], tuple[int, ...]]

    def mask(self, i: int) -> int:
        """The field's bits in place."""
        return ((1 << self.width[i]) - 1) << self.offset[i]

    def slot_max(self, i: int) -> int:
        """The largest value the field's slot can hold."""
        return self.lo[i] + (1 << self.width[i]) - 1

    def get(self, packed: int, i: int) -> int:
        return ((packed >> self.offset[i]) & ((1 << self.width[i]) - 1)) + self.lo[i]


def layout_of(system: System) -> Layout:
    """The bit layout of ``system`` (cached on the system's constants)."""
    cached = system.constants.get("_layout")
    if isinstance(cached, Layout) and cached.names == tuple(f.name for f in system.fields):
        return cached
    names, los, his, offs, wids = [], [], [], [], []
    off = 0
    for f in system.fields:
        if f.hi < f.lo:
            raise DomainError(f"field {f.name!r} has an empty domain {f.lo}..{f.hi}")
        if not f.lo <= f.init <= f.hi:
            raise DomainError(f"field {f.name!r}: initial value {f.init} outside {f.lo}..{f.hi}")
        w = (f.hi - f.lo).bit_length()
        names.append(f.name)
        los.append(f.lo)
        his.append(f.hi)
        offs.append(off)
        wids.append(w)
        off += w
    n = len(names)
    dec_parts = []
    enc_parts = []
    for i in range(n):
        m = (1 << wids[i]) - 1
        if wids[i] == 0:
            dec_parts.append(str(los[i]))
            continue
        x = "p" if offs[i] == 0 else f"(p >> {offs[i]})"
        d = f"{x} & {m}" if offs[i] + wids[i] < off else x
        dec_parts.append(f"({d}) + {los[i]}" if los[i] else f"({d})")
        v = f"(t[{i}] - {los[i]})" if los[i] else f"t[{i}]"
        enc_parts.append(v if offs[i] == 0 else f"({v} << {offs[i]})")
    src = (
        "def decode(p):\n    return (" + ", ".join(dec_parts) + ("," if n == 1 else "") + ")\n"
        "def encode_unchecked(t):\n    return " + (" | ".join(enc_parts) or "0") + "\n"
    )
    ns: dict = {}
    exec(compile(src, f"<ndcheck layout {system.name}>", "exec"), ns)
    enc_raw = ns["encode_unchecked"]
    names_t, lo_t, hi_t = tuple(names), tuple(los), tuple(his)
    top = tuple(lo + (1 << w) - 1 for lo, w in zip(los, wids))

    def encode(t: Sequence[int]) -> int:
        if len(t) != n:
            raise DomainError(f"state has {len(t)} components; the system has {n} fields")
        for i, v in enumerate(t):
            if not lo_t[i] <= v <= top[i]:
                raise DomainError(f"field {names_t[i]!r}: value {v} outside {lo_t[i]}..{hi_t[i]}")
        return enc_raw(t)

    lay = Layout(names_t, lo_t, hi_t, tuple(offs), tuple(wids), off, encode, ns["decode"])
    system.constants["_layout"] = lay
    return lay


# --------------------------------------------------------------------------------------------
# Expressions over a packed word
# --------------------------------------------------------------------------------------------


class _Emit:
    """Renders IR expressions as Python source over the packed word ``s``."""

    def __init__(self, system: System, lay: Layout):
        self.sys = system
        self.lay = lay
        self.idx = system.index

    def field(self, name: str) -> str:
        i = self.idx[name]
        lay = self.lay
        w, o, lo = lay.width[i], lay.offset[i], lay.lo[i]
        if w == 0:
            return str(lo)
        x = "s" if o == 0 else f"(s >> {o})"
        v = f"({x} & {(1 << w) - 1})"
        return f"({v} + {lo})" if lo else v

    def val(self, e: Expr) -> str:
        """Integer-valued rendering (booleans become 0/1)."""
        if e.op in _BOOL:
            return f"(1 if {self.cond(e)} else 0)"
        op, a = e.op, e.args
        if op == "const":
            return str(a[0])
        if op == "field":
            return self.field(a[0])
        if op == "add":
            return f"({self.val(a[0])} + {self.val(a[1])})"
        if op == "sub":
            return f"({self.val(a[0])} - {self.val(a[1])})"
        if op in ("max", "min"):
            return f"{op}({self.val(a[0])}, {self.val(a[1])})"
        if op == "ite":
            return f"({self.val(a[1])} if {self.cond(a[0])} else {self.val(a[2])})"
        raise ValueError(f"unknown expression operator {op!r}")

    def _masked_cmp(self, name: str, sym: str, k: int) -> str | None:
        """``field <sym> k`` as one mask and one comparison on the word, or a constant."""
        i = self.idx[name]
        lay = self.lay
        lo, top = lay.lo[i], lay.slot_max(i)
        # Constant answers when k lies outside the slot's range.
        if sym in ("==", "!=") and not lo <= k <= top:
            return "False" if sym == "==" else "True"
        if sym == "<" and k <= lo:
            return "False"
        if sym == "<" and k > top:
            return "True"
        if sym == "<=" and k < lo:
            return "False"
        if sym == "<=" and k >= top:
            return "True"
        if sym == ">" and k < lo:
            return "True"
        if sym == ">" and k >= top:
            return "False"
        if sym == ">=" and k <= lo:
            return "True"
        if sym == ">=" and k > top:
            return "False"
        m = lay.mask(i)
        kk = (k - lo) << lay.offset[i]
        if lay.width[i] == 1 and sym in ("==", "!="):
            # one-bit slot: test the bit itself
            want_set = (kk != 0) == (sym == "==")
            return f"(s & {m})" if want_set else f"(not s & {m})"
        if kk == 0 and sym == "!=":
            return f"(s & {m})"
        if kk == 0 and sym == "==":
            return f"(not s & {m})"
        return f"(s & {m} {sym} {kk})"

    def eq_mask(self, e: Expr) -> tuple[int, int] | None:
        """``(mask, bits)`` when ``e`` is ``field == k`` (or ``not field != k``) for k in the slot."""
        if e.op == "not" and e.args[0].op == "ne":
            e = Expr("eq", e.args[0].args)
        if e.op != "eq":
            return None
        x, y = e.args
        if x.op == "const" and y.op == "field":
            x, y = y, x
        if x.op != "field" or y.op != "const":
            return None
        i = self.idx[x.args[0]]
        k = y.args[0]
        if not self.lay.lo[i] <= k <= self.lay.slot_max(i) or self.lay.width[i] == 0:
            return None
        return self.lay.mask(i), (k - self.lay.lo[i]) << self.lay.offset[i]

    def conj(self, atoms: Sequence[Expr]) -> str:
        """A conjunction; equalities ``field == k`` over several fields become one masked test."""
        m = kk = 0
        rest = []
        for a in atoms:
            mk = self.eq_mask(a)
            if mk is None:
                rest.append(a)
            else:
                m |= mk[0]
                kk |= mk[1]
        parts = []
        if m:
            if kk == 0:
                parts.append(f"(not s & {m})")
            elif kk == m and m & (m - 1) == 0:
                parts.append(f"(s & {m})")
            else:
                parts.append(f"(s & {m} == {kk})")
        parts.extend(self.cond(a) for a in rest)
        if not parts:
            return "True"
        return parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"

    def cond(self, e: Expr) -> str:
        """Truth-valued rendering."""
        op, a = e.op, e.args
        if op == "and":
            return self.conj(a)
        if op == "const":
            return "True" if a[0] else "False"
        if op in _CMP:
            x, y = a
            sym = _CMP[op]
            if x.op == "field" and y.op == "const":
                r = self._masked_cmp(x.args[0], sym, y.args[0])
                if r is not None:
                    return r
            if x.op == "const" and y.op == "field":
                flip = {"==": "==", "!=": "!=", "<": ">", "<=": ">="}[sym]
                r = self._masked_cmp(y.args[0], flip, x.args[0])
                if r is not None:
                    return r
            return f"({self.val(x)} {sym} {self.val(y)})"
        if op == "or":
            return "(" + " or ".join(self.cond(x) for x in a) + ")"
        if op == "not":
            inner = a[0]
            if inner.op in ("eq", "ne"):
                return self.cond(Expr("ne" if inner.op == "eq" else "eq", inner.args))
            return f"(not {self.cond(inner)})"
        return f"({self.val(e)} != 0)"


# --------------------------------------------------------------------------------------------
# Static value ranges (to leave out run-time domain checks that can never fire)
# --------------------------------------------------------------------------------------------


def _range(e: Expr, dom: dict[str, tuple[int, int]], system: System) -> tuple[int, int]:
    op, a = e.op, e.args
    if op == "const":
        return a[0], a[0]
    if op == "field":
        if a[0] in dom:
            return dom[a[0]]
        f = system.fields[system.index[a[0]]]
        return f.lo, f.hi
    if op in _BOOL:
        return 0, 1
    if op in ("add", "sub", "max", "min"):
        (l1, h1), (l2, h2) = _range(a[0], dom, system), _range(a[1], dom, system)
        if op == "add":
            return l1 + l2, h1 + h2
        if op == "sub":
            return l1 - h2, h1 - l2
        if op == "max":
            return max(l1, l2), max(h1, h2)
        return min(l1, l2), min(h1, h2)
    if op == "ite":
        (l1, h1), (l2, h2) = _range(a[1], dom, system), _range(a[2], dom, system)
        return min(l1, l2), max(h1, h2)
    raise ValueError(f"unknown expression operator {op!r}")


def _refine(dom: dict[str, tuple[int, int]], c: Expr, system: System) -> None:
    """Narrow field ranges with a guard conjunct of the shape ``field <cmp> const``."""
    neg = False
    if c.op == "not":
        neg, c = True, c.args[0]
    if c.op not in _CMP:
        return
    x, y = c.args
    if x.op == "field" and y.op == "const":
        name, k, sym = x.args[0], y.args[0], _CMP[c.op]
    elif x.op == "const" and y.op == "field":
        name, k, sym = y.args[0], x.args[0], {"==": "==", "!=": "!=", "<": ">", "<=": ">="}[_CMP[c.op]]
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


# --------------------------------------------------------------------------------------------
# The successor function
# --------------------------------------------------------------------------------------------


def _eq_conj(c: Expr):
    if c.op == "eq" and c.args[0].op == "field" and c.args[1].op == "const":
        return c.args[0].args[0], c.args[1].args[0]
    return None


def _can_grow(e: Expr) -> bool:
    if e.op in ("add", "max"):
        return True
    return any(isinstance(a, Expr) and _can_grow(a) for a in e.args)


def _base(atom: Expr) -> tuple[Expr, bool]:
    """An atom without its negation, and its polarity."""
    if atom.op == "not":
        return atom.args[0], False
    return atom, True


@dataclass
class _Item:
    index: int
    cmd: Command
    keyed: dict[str, int]
    atoms: list[Expr]
    ids: list[int] = field(default_factory=list)  # interned base atom of each entry of atoms


def command_order(system: System) -> list[int]:
    """The order in which the successor function reports enabled commands (fixed by the tree)."""
    _, order = _generate(system)
    return order


def generate(system: System, fn_name: str = "successors") -> str:
    """Python source of ``fn_name(s) -> (list of (command, packed successor), overflow)``."""
    return _generate(system, fn_name)[0]


def _generate(system: System, fn_name: str = "successors") -> tuple[str, list[int]]:
    lay = layout_of(system)
    em = _Emit(system, lay)
    lines = [f"def {fn_name}(s):", "    out = []", "    ovf = False"]
    order: list[int] = []
    control = [f.name for f in system.fields if f.kind == "control"]

    # Each command: its remaining guard conjuncts after splitting on control-field equalities.
    items = []
    interned: dict[Expr, int] = {}
    for i, c in enumerate(system.commands):
        keyed: dict[str, int] = {}
        rest = []
        for cj in conjuncts(c.guard):
            kv = _eq_conj(cj)
            if kv and kv[0] in control and kv[0] not in keyed:
                keyed[kv[0]] = kv[1]
            else:
                rest.append(cj)
        if c.guard.op == "const" and c.guard.args[0] == 0:
            continue  # never enabled
        if c.guard.op == "const":
            rest = []
        ids = [interned.setdefault(_base(a)[0], len(interned)) for a in rest]
        items.append(_Item(i, c, keyed, rest, ids))

    def tree(group: list[_Item], depth: int, avail: list[str], known: dict[str, int]) -> None:
        ind = "    " * depth
        best = None
        for fld in avail:
            cnt = sum(1 for it in group if fld in it.keyed)
            if cnt and (best is None or cnt > best[1]):
                best = (fld, cnt)
        if best is None:
            runs(group, depth, known)
            return
        fld = best[0]
        rest_avail = [f for f in avail if f != fld]
        with_f: dict[int, list[_Item]] = {}
        without = []
        for it in group:
            if fld in it.keyed:
                with_f.setdefault(it.keyed[fld], []).append(it)
            else:
                without.append(it)
        i = system.index[fld]
        var = f"v{depth}"
        lines.append(f"{ind}{var} = s & {lay.mask(i)}")
        first = True
        for val in sorted(with_f):
            kw = "if" if first else "elif"
            first = False
            if not lay.lo[i] <= val <= lay.slot_max(i):
                lines.append(f"{ind}{kw} False:")
            else:
                lines.append(f"{ind}{kw} {var} == {(val - lay.lo[i]) << lay.offset[i]}:")
            tree(with_f[val], depth + 1, rest_avail, {**known, fld: val})
        if without:
            tree(without, depth, rest_avail, known)

    def runs(group: list[_Item], depth: int, known: dict[str, int]) -> None:
        """Emit commands in order; consecutive commands testing one atom share its test."""
        ind = "    " * depth
        k = 0
        while k < len(group):
            best = None
            for bid in dict.fromkeys(group[k].ids):
                n = 1
                while k + n < len(group) and bid in group[k + n].ids:
                    n += 1
                if n >= 2 and (best is None or n > best[1]):
                    best = (bid, n)
            if best is None:
                command(group[k], depth, known)
                k += 1
                continue
            bid, n = best
            pos, neg = [], []
            for it in group[k:k + n]:
                j = it.ids.index(bid)
                hit = it.atoms[j]
                sub = _Item(it.index, it.cmd, it.keyed, it.atoms[:j] + it.atoms[j + 1:],
                            it.ids[:j] + it.ids[j + 1:])
                (pos if _base(hit)[1] else neg).append(sub)
            b = _base(group[k].atoms[group[k].ids.index(bid)])[0]
            kv = _eq_conj(b)
            known_pos = {**known, kv[0]: kv[1]} if kv else known
            if pos:
                lines.append(f"{ind}if {em.cond(b)}:")
                runs(pos, depth + 1, known_pos)
                if neg:
                    lines.append(f"{ind}else:")
                    runs(neg, depth + 1, known)
            else:
                lines.append(f"{ind}if not {em.cond(b)}:")
                runs(neg, depth + 1, known)
            k += n

    def command(it: _Item, depth: int, known: dict[str, int]) -> None:
        ind = "    " * depth
        c = it.cmd
        order.append(it.index)
        lines.append(f"{ind}# {it.index}: {c.name}")
        body = ind
        if it.atoms:
            lines.append(f"{ind}if {em.conj(it.atoms)}:")
            body = ind + "    "
        _emit_update(lines, body, it.index, c, known, em, system, lay)

    tree(items, 1, control, {})
    lines.append("    return out, ovf")
    return "\n".join(lines) + "\n", order


def _emit_update(lines: list[str], ind: str, ci: int, c: Command, known: dict[str, int],
                 em: _Emit, system: System, lay: Layout) -> None:
    """Lines computing the successor of one enabled command from the pre-state ``s``."""
    # What the guard tells us about field values (for constant deltas and range checks).
    dom: dict[str, tuple[int, int]] = {k: (v, v) for k, v in known.items()}
    for cj in conjuncts(c.guard):
        _refine(dom, cj, system)
    delta = 0
    keep = (1 << lay.bits) - 1
    setbits = 0
    computed: list[tuple[int, str]] = []   # (field index, source of the new value)
    ovf_checks: list[str] = []             # conditions meaning "counter past its hi"
    dom_checks: list[str] = []             # conditions meaning "value outside the slot"
    for name, e in c.updates:
        i = system.index[name]
        f = system.fields[i]
        lo, hi, top, o = lay.lo[i], lay.hi[i], lay.slot_max(i), lay.offset[i]
        m = lay.mask(i)
        grow_checked = e.op != "const" and f.kind == "counter" and _can_grow(e)
        if e.op == "field" and e.args[0] == name:
            continue
        if e.op == "const":
            v = e.args[0]
            if not lo <= v <= top:
                dom_checks.append("True")
                continue
            cur = dom.get(name)
            if cur and cur[0] == cur[1]:
                delta += (v - cur[0]) << o
            else:
                keep &= ~m
                setbits |= (v - lo) << o
            continue
        step = _self_step(e, name)
        if step is not None:
            # f := f + step, done as a constant added to the word
            flo, fhi = dom.get(name, (f.lo, f.hi))
            if step > 0 and grow_checked:
                limit = hi - step  # overflow iff f > limit
                if limit < lo:
                    ovf_checks.append("True")
                elif limit < fhi:
                    ovf_checks.append(em.cond(Expr("lt", (Expr("const", (limit,)), Expr("field", (name,))))))
                # values up to hi always fit the slot
            elif step > 0 and fhi + step > top:
                dom_checks.append(em.cond(Expr("lt", (Expr("const", (top - step,)), Expr("field", (name,))))))
            elif step < 0 and flo + step < lo:
                dom_checks.append(em.cond(Expr("lt", (Expr("field", (name,)), Expr("const", (lo - step,))))))
            delta += step << o
            continue
        # general update: compute from the pre-state, then or it into the cleared slot
        var = f"u{len(computed)}"
        computed.append((i, var))
        lines.append(f"{ind}{var} = {em.val(e)}")
        rlo, rhi = _range(e, dom, system)
        if grow_checked:
            if rhi > hi:
                ovf_checks.append(f"{var} > {hi}")
            if rlo < lo:
                dom_checks.append(f"{var} < {lo}")
        else:
            if rhi > top or rlo < lo:
                dom_checks.append(f"not {lo} <= {var} <= {top}")
        keep &= ~m
    expr = "s"
    full = (1 << lay.bits) - 1
    if keep != full:
        expr = f"(s & {keep})"
    if setbits:
        expr = f"({expr} | {setbits})"
    for i, var in computed:
        lo, o = lay.lo[i], lay.offset[i]
        v = f"({var} - {lo})" if lo else var
        expr = f"{expr} | ({v} << {o})" if o else f"{expr} | {v}"
    if delta:
        expr = f"({expr}) + {delta}" if delta > 0 else f"({expr}) - {-delta}"
    if "True" in ovf_checks:
        lines.append(f"{ind}ovf = True")
        return
    if ovf_checks:
        # the overflow rule first: an overflowing step produces nothing, whatever else it sets
        lines.append(f"{ind}if {' or '.join(ovf_checks)}:")
        lines.append(f"{ind}    ovf = True")
        lines.append(f"{ind}else:")
        ind += "    "
    if dom_checks:
        lines.append(f"{ind}if {' or '.join(dom_checks)}:")
        lines.append(f"{ind}    raise DomainError({_msg(c)!r})")
    lines.append(f"{ind}out.append(({ci}, {expr}))")


def _self_step(e: Expr, name: str) -> int | None:
    """``k`` when ``e`` is ``name + k`` or ``name - k`` for a constant ``k``."""
    if e.op in ("add", "sub") and len(e.args) == 2:
        x, y = e.args
        if x.op == "field" and x.args[0] == name and y.op == "const":
            return y.args[0] if e.op == "add" else -y.args[0]
        if e.op == "add" and y.op == "field" and y.args[0] == name and x.op == "const":
            return x.args[0]
    return None


def _msg(c: Command) -> str:
    return (f"command {c.name!r} sets a field outside its domain; fix the model (only counters "
            f"may overflow, which truncates the search)")


def compile_packed(system: System):
    """``(successors over packed ints, source, layout)``."""
    lay = layout_of(system)
    src = generate(system)
    ns: dict = {"DomainError": DomainError}
    exec(compile(src, f"<ndcheck successors {system.name}>", "exec"), ns)
    return ns["successors"], src, lay


def compile_successors(system: System):
    """Tuple interface: ``(successors(state tuple) -> ([(command, next tuple)], overflow), source)``."""
    succ, src, lay = compile_packed(system)
    enc, dec = lay.encode, lay.decode

    def successors(state: Sequence[int]):
        out, ovf = succ(enc(state))
        return [(a, dec(t)) for a, t in out], ovf

    return successors, src
