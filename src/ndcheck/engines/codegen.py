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

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..model.ir import Command, Expr, System, conjuncts
from .pyexpr import render_value

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


class _EngineCache(dict):
    """Per-system cache of generated code; pickles and copies as empty (functions made by
    ``exec`` cannot be pickled, and a copy may be mutated)."""

    def __reduce__(self):
        return (_EngineCache, ())


def _cache(system: System) -> _EngineCache:
    c = system.cache.get("codegen")
    if not isinstance(c, _EngineCache):
        c = system.cache["codegen"] = _EngineCache()
    return c


def layout_of(system: System) -> Layout:
    """The bit layout of ``system`` (cached on the system)."""
    cached = _cache(system).get("layout")
    if cached and cached[0] == tuple(system.fields):
        return cached[1]
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
    exec(compile(src, f"<ndcheck layout {system.name}>", "exec"), ns)  # noqa: S102 - our own generated code
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
    _cache(system)["layout"] = (tuple(system.fields), lay)
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


def _lit(cj: Expr, system: System) -> tuple[Expr, bool]:
    """A guard conjunct as (atom, polarity), with tests of a field against its ``lo`` written
    as one canonical atom ``lo < field`` (so ``f == 0`` and ``0 < f`` share one test)."""
    pol = True
    while cj.op == "not":
        cj, pol = cj.args[0], not pol
    if cj.op == "ne":
        cj, pol = Expr("eq", cj.args), not pol
    if cj.op in ("eq", "lt", "le"):
        x, y = cj.args
        sym = _CMP[cj.op]
        if x.op == "const" and y.op == "field":
            x, y, sym = y, x, {"==": "==", "<": ">", "<=": ">="}[sym]
        if x.op == "field" and y.op == "const":
            f = system.fields[system.index[x.args[0]]]
            k = y.args[0]
            canon = Expr("lt", (Expr("const", (f.lo,)), x))
            truth = {  # (sym, k) -> polarity of "lo < f", when the test is one
                ("==", f.lo): False, (">", f.lo): True, (">=", f.lo + 1): True,
                ("<", f.lo + 1): False, ("<=", f.lo): False,
            }
            if f.hi == f.lo + 1:
                truth[("==", f.hi)] = True
            if (sym, k) in truth:
                return canon, truth[(sym, k)] == pol
    return cj, pol


def never_enabled(system: System, guard: Expr) -> bool:
    """True when the guard is constant false or contains a test and its negation."""
    if guard.op == "const":
        return guard.args[0] == 0
    seen: set[tuple[Expr, bool]] = set()
    for cj in conjuncts(guard):
        if cj.op == "const":
            if cj.args[0] == 0:
                return True
            continue
        atom, pol = _lit(cj, system)
        if (atom, not pol) in seen:
            return True
        seen.add((atom, pol))
    return False


def _atom_expr(atom: Expr, pol: bool) -> Expr:
    return atom if pol else Expr("not", (atom,))


@dataclass
class _Item:
    index: int                 # command index
    rank: int                  # position in the report order
    cmd: Command
    keyed: dict[str, int]      # control field == value conjuncts not yet tested
    lits: list[tuple[int, bool]]  # other conjuncts: (interned atom, polarity)


def report_order(system: System) -> list[int]:
    """The order in which a state's enabled commands are reported (and explored).

    It is the order of a decision tree on control-field equalities: pick the control field that
    most commands test, visit its values in increasing order, then the commands that do not test
    it, recursively; commands keep their index order within a leaf.  (This is the order of the
    first generated explorer; keeping it keeps state ids and shortest traces stable.)
    """
    control = [f.name for f in system.fields if f.kind == "control"]
    items = []
    for i, c in enumerate(system.commands):
        keyed: dict[str, int] = {}
        for cj in conjuncts(c.guard):
            kv = _eq_conj(cj)
            if kv and kv[0] in control and kv[0] not in keyed:
                keyed[kv[0]] = kv[1]
        items.append((i, keyed))
    order: list[int] = []

    def rec(group, avail: list[str]) -> None:
        best = None
        for fld in avail:
            cnt = sum(1 for it in group if fld in it[1])
            if cnt and (best is None or cnt > best[1]):
                best = (fld, cnt)
        if best is None:
            order.extend(i for i, _ in group)
            return
        fld = best[0]
        rest_avail = [f for f in avail if f != fld]
        with_f: dict[int, list] = {}
        without = []
        for it in group:
            (with_f.setdefault(it[1][fld], []) if fld in it[1] else without).append(it)
        for val in sorted(with_f):
            rec(with_f[val], rest_avail)
        if without:
            rec(without, rest_avail)

    rec(items, control)
    return order


def generate(system: System, fn_name: str = "successors") -> str:
    """Python source of ``fn_name(s) -> (sorted list of (rank, command, packed successor), overflow)``.

    ``rank`` is the command's position in :func:`report_order`; the list is sorted by it.
    """
    return _Gen(system).source(fn_name)


class _Gen:
    """Builds a decision tree over guard atoms and renders it."""

    def __init__(self, system: System):
        self.sys = system
        self.lay = layout_of(system)
        self.em = _Emit(system, self.lay)
        self.atoms: list[Expr] = []
        self.atom_id: dict[Expr, int] = {}
        self.lines: list[str] = []
        control = [f.name for f in system.fields if f.kind == "control"]
        self.control = control
        rank = {ci: r for r, ci in enumerate(report_order(system))}
        items = []
        for i, c in enumerate(system.commands):
            if c.guard.op == "const" and c.guard.args[0] == 0:
                continue  # never enabled
            keyed: dict[str, int] = {}
            lits: list[tuple[int, bool]] = []
            for cj in conjuncts(c.guard):
                if cj.op == "const":
                    if cj.args[0] == 0:
                        break  # a false conjunct: never enabled
                    continue
                kv = _eq_conj(cj)
                if kv and kv[0] in control and kv[0] not in keyed:
                    keyed[kv[0]] = kv[1]
                    continue
                atom, pol = _lit(cj, system)
                aid = self.atom_id.setdefault(atom, len(self.atoms))
                if aid == len(self.atoms):
                    self.atoms.append(atom)
                if (aid, not pol) in lits:
                    break  # "a and not a": never enabled
                if (aid, pol) not in lits:
                    lits.append((aid, pol))
            else:
                items.append(_Item(i, rank[i], c, keyed, lits))
        self.items = items

    # ---- tree ---------------------------------------------------------------------------
    def build(self, group: list[_Item], avail: list[str]) -> list[tuple]:
        """Nodes: ("multi", field, [(value, nodes)]), ("split", atom, pos, neg), ("leaf", item)."""
        if not group:
            return []
        best = None  # (count, is_control, key)
        for fld in avail:
            cnt = sum(1 for it in group if fld in it.keyed)
            if cnt and (best is None or cnt > best[0]):
                best = (cnt, True, fld)
        counts: dict[int, int] = {}
        for it in group:
            for aid in dict.fromkeys(a for a, _ in it.lits):
                counts[aid] = counts.get(aid, 0) + 1
        for aid, cnt in counts.items():
            if best is None or cnt > best[0]:
                best = (cnt, False, aid)
        if best is None or best[0] <= 1:
            return [("leaf", it) for it in group]
        _, is_ctl, key = best
        if is_ctl:
            rest_avail = [f for f in avail if f != key]
            with_f: dict[int, list[_Item]] = {}
            without = []
            for it in group:
                if key in it.keyed:
                    k2 = dict(it.keyed)
                    val = k2.pop(key)
                    with_f.setdefault(val, []).append(_Item(it.index, it.rank, it.cmd, k2, it.lits))
                else:
                    without.append(it)
            node = ("multi", key, [(v, self.build(with_f[v], rest_avail)) for v in sorted(with_f)])
            return [node] + self.build(without, rest_avail)
        pos, neg, without = [], [], []
        for it in group:
            hit = next((p for a, p in it.lits if a == key), None)
            if hit is None:
                without.append(it)
                continue
            rest = [(a, p) for a, p in it.lits if a != key]
            (pos if hit else neg).append(_Item(it.index, it.rank, it.cmd, it.keyed, rest))
        node = ("split", key, self.build(pos, avail), self.build(neg, avail))
        return [node] + self.build(without, avail)

    # ---- rendering ----------------------------------------------------------------------
    def _known_from(self, aid: int, pol: bool, known: dict[str, int]) -> dict[str, int]:
        atom = self.atoms[aid]
        kv = _eq_conj(atom)
        if kv and pol:
            return {**known, kv[0]: kv[1]}
        if atom.op == "lt" and atom.args[0].op == "const" and atom.args[1].op == "field":
            f = self.sys.fields[self.sys.index[atom.args[1].args[0]]]
            if atom.args[0].args[0] == f.lo:
                if not pol:
                    return {**known, f.name: f.lo}
                if f.hi == f.lo + 1:
                    return {**known, f.name: f.hi}
        return known

    def _nonzero_mask(self, aid: int, pol: bool) -> int:
        """A mask whose bits cannot all be zero when the literal holds (0: none known)."""
        atom = self.atoms[aid]
        if atom.op == "lt" and atom.args[0].op == "const" and atom.args[1].op == "field" and pol:
            i = self.sys.index[atom.args[1].args[0]]
            if atom.args[0].args[0] >= self.lay.lo[i]:
                return self.lay.mask(i)
        kv = _eq_conj(atom)
        if kv and pol:
            i = self.sys.index[kv[0]]
            if kv[1] != self.lay.lo[i]:
                return self.lay.mask(i)
        return 0

    def _need(self, node: tuple) -> int:
        if node[0] == "split" and not node[3]:
            return self._nonzero_mask(node[1], True)
        if node[0] == "split" and not node[2]:
            return self._nonzero_mask(node[1], False)
        if node[0] == "leaf":
            for aid, pol in node[1].lits:
                m = self._nonzero_mask(aid, pol)
                if m:
                    return m
            for fld, val in node[1].keyed.items():
                i = self.sys.index[fld]
                if val != self.lay.lo[i]:
                    return self.lay.mask(i)
        return 0

    def render_list(self, nodes: list[tuple], depth: int, known: dict[str, int]) -> None:
        k = 0
        while k < len(nodes):
            if not self._need(nodes[k]):
                self.render(nodes[k], depth, known)
                k += 1
                continue
            j = k
            while j < len(nodes) and self._need(nodes[j]):
                j += 1
            self.render_group(nodes[k:j], depth, known)
            k = j

    def render_group(self, run: list[tuple], depth: int, known: dict[str, int]) -> None:
        """Nodes that each need some bits set: guard the run with one test of all those bits."""
        if len(run) == 1:
            self.render(run[0], depth, known)
            return
        m = 0
        for node in run:
            m |= self._need(node)
        self.lines.append(f"{'    ' * depth}if s & {m}:")
        if len(run) <= 4:
            for node in run:
                self.render(node, depth + 1, known)
        else:
            half = len(run) // 2
            self.render_group(run[:half], depth + 1, known)
            self.render_group(run[half:], depth + 1, known)

    def render(self, node: tuple, depth: int, known: dict[str, int]) -> None:
        ind = "    " * depth
        em, lay = self.em, self.lay
        if node[0] == "multi":
            _, fld, branches = node
            i = self.sys.index[fld]
            var = f"v{depth}"
            self.lines.append(f"{ind}{var} = s & {lay.mask(i)}")
            kw = "if"
            for val, sub in branches:
                if not sub:
                    continue
                if not lay.lo[i] <= val <= lay.slot_max(i):
                    test = "False"
                else:
                    test = f"{var} == {(val - lay.lo[i]) << lay.offset[i]}"
                self.lines.append(f"{ind}{kw} {test}:")
                kw = "elif"
                self.render_list(sub, depth + 1, {**known, fld: val})
            return
        if node[0] == "split":
            _, aid, pos, neg = node
            test = em.cond(self.atoms[aid])
            if pos:
                self.lines.append(f"{ind}if {test}:")
                self.render_list(pos, depth + 1, self._known_from(aid, True, known))
                if neg:
                    self.lines.append(f"{ind}else:")
                    self.render_list(neg, depth + 1, self._known_from(aid, False, known))
            elif neg:
                self.lines.append(f"{ind}if not {test}:")
                self.render_list(neg, depth + 1, self._known_from(aid, False, known))
            return
        it: _Item = node[1]
        c = it.cmd
        self.lines.append(f"{ind}# {it.index}: {c.name}")
        conds = [_atom_expr(self.atoms[a], p) for a, p in it.lits]
        conds += [Expr("eq", (Expr("field", (f,)), Expr("const", (v,)))) for f, v in it.keyed.items()]
        body = ind
        kn = dict(known)
        for f, v in it.keyed.items():
            kn[f] = v
        for a, p in it.lits:
            kn = self._known_from(a, p, kn)
        if conds:
            self.lines.append(f"{ind}if {em.conj(conds)}:")
            body = ind + "    "
        _emit_update(self.lines, body, it.rank, it.index, c, kn, em, self.sys, lay)

    def source(self, fn_name: str) -> str:
        self.lines = [f"def {fn_name}(s):", "    out = []", "    ovf = False"]
        self.render_list(self.build(self.items, self.control), 1, {})
        self.lines.append("    out.sort()")
        self.lines.append("    return out, ovf")
        return "\n".join(self.lines) + "\n"


def _emit_update(lines: list[str], ind: str, rank: int, ci: int, c: Command, known: dict[str, int],
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


def compile_packed(system: System):
    """``(successors over packed ints, source, layout)``.

    The compiled function is cached on the system (:func:`_cache`) and reused while the
    system's fields are equal and its commands are the same objects, so exploring one system
    several times (check, then trace, ...) generates and compiles once.
    """
    lay = layout_of(system)
    cached = _cache(system).get("succ")
    fields, cmds = tuple(system.fields), tuple(system.commands)
    if (cached and cached[0] == fields and len(cached[1]) == len(cmds)
            and all(a is b for a, b in zip(cached[1], cmds))):
        return cached[2], cached[3], lay
    src = generate(system)
    ns: dict = {"DomainError": DomainError}
    exec(compile(src, f"<ndcheck successors {system.name}>", "exec"), ns)  # noqa: S102 - our own generated code
    _cache(system)["succ"] = (fields, cmds, ns["successors"], src)
    return ns["successors"], src, lay


def compile_successors(system: System):
    """Tuple interface: ``(successors(state tuple) -> ([(command, next tuple)], overflow), source)``."""
    succ, src, lay = compile_packed(system)
    enc, dec = lay.encode, lay.decode

    def successors(state: Sequence[int]):
        out, ovf = succ(enc(state))
        return [(a, dec(t)) for _, a, t in out], ovf

    return successors, src
