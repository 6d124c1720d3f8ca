"""IR guards and updates rendered as Python source over one packed state word ``s``.

* **Masked arithmetic.** A guard ``f == k`` / ``k < f`` is one ``&`` and one comparison on the
  packed word (:class:`PackedEmitter`); an update ``f := f + k`` or ``f := k`` with ``f`` known
  from the guard is a constant added to the word; other updates are computed from the old word
  and or-ed into a cleared slot, so every update reads the pre-state (the IR's simultaneous
  assignment) (:func:`emit_update`).
* **Overflow rule.** An update that would push a ``counter`` field past its ``hi`` sets
  ``overflow`` instead of producing a successor: a bound was hit and the search is reported
  truncated.  Any other value outside a field's bit slot (a model bug the tuple representation
  would have stored silently) raises :class:`~.layout.DomainError` rather than corrupting a
  neighbour.  Static ranges (:mod:`.ranges`) leave out the checks that can never fire.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model.ir import CMP_SYMBOLS, MIRRORED_CMP, Command, Expr, System, conjuncts
from .layout import Layout
from .pyexpr import render_value
from .ranges import can_grow, refine_range, value_range


class PackedEmitter:
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
        return render_value(e, self.field, self.cond)

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
        if kk == 0 and sym in ("!=", ">"):
            return f"(s & {m})"
        if kk == 0 and sym == "==":
            return f"(not s & {m})"
        return f"(s & {m} {sym} {kk})"

    def eq_mask(self, e: Expr) -> tuple[int, int] | None:
        """``(mask, bits)`` when ``e`` is ``field == k`` (or ``not field != k``) for k in the slot."""
        if e.op == "not" and e.args[0].op == "ne":
            e = Expr("eq", e.args[0].args)
        pol = True
        if e.op == "not":
            e, pol = e.args[0], False
        if e.op == "lt" and e.args[0].op == "const" and e.args[1].op == "field":
            # the canonical "lo < f": false means f == lo; true on a one-bit slot means f == hi
            i = self.idx[e.args[1].args[0]]
            if e.args[0].args[0] != self.lay.lo[i] or self.lay.width[i] == 0:
                return None
            if not pol:
                return self.lay.mask(i), 0
            if self.lay.hi[i] == self.lay.lo[i] + 1 and self.lay.width[i] == 1:
                return self.lay.mask(i), self.lay.mask(i)
            return None
        if e.op != "eq" or not pol:
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
                if (kk ^ mk[1]) & m & mk[0]:
                    return "False"  # one field tested against two different values
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
        if op in CMP_SYMBOLS:
            x, y = a
            sym = CMP_SYMBOLS[op]
            if x.op == "field" and y.op == "const":
                r = self._masked_cmp(x.args[0], sym, y.args[0])
                if r is not None:
                    return r
            if x.op == "const" and y.op == "field":
                r = self._masked_cmp(y.args[0], MIRRORED_CMP[sym], x.args[0])
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


def emit_update(lines: list[str], ind: str, rank: int, ci: int, c: Command, known: dict[str, int],
                em: PackedEmitter, system: System, lay: Layout) -> None:
    """Lines computing the successor of one enabled command from the pre-state ``s``."""
    # What the guard tells us about field values (for constant deltas and range checks).
    dom: dict[str, tuple[int, int]] = {k: (v, v) for k, v in known.items()}
    for cj in conjuncts(c.guard):
        refine_range(dom, cj, system)
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
        grow_checked = e.op != "const" and f.kind == "counter" and can_grow(e)
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
        rlo, rhi = value_range(e, dom, system)
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
    lines.append(f"{ind}out.append(({rank}, {ci}, {expr}))")


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
