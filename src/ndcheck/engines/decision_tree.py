"""Decision trees over command guards: the order of successors and the generated code's branching.

Commands are grouped on ``control field == constant`` conjuncts (machine control states first),
so a state only evaluates the guards of commands whose control states match.

* :func:`report_order` fixes the order in which a state's enabled commands are reported (BFS
  order, state ids, shortest traces) with a tree on control-field equalities alone.
* :class:`SuccessorTree` builds the tree the generated code branches on: control fields, then
  the other guard atoms (:func:`_lit` writes tests of a field against its ``lo`` as one atom).
  Inside a group, runs of consecutive commands that test the same condition (one positively,
  another negated) share one ``if``/``else``.  Each enabled command appends its
  :func:`report_order` rank, and the generated function sorts by it, so the shape of this tree
  never changes the order of successors.

:func:`never_enabled` uses the same canonical literals to spot a guard that tests a condition
and its negation.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.ir import CMP_SYMBOLS, MIRRORED_CMP, Command, Expr, System, conjuncts
from .emit_packed import PackedEmitter, emit_update
from .layout import Layout


def _eq_conj(c: Expr):
    if c.op == "eq" and c.args[0].op == "field" and c.args[1].op == "const":
        return c.args[0].args[0], c.args[1].args[0]
    return None


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
        sym = CMP_SYMBOLS[cj.op]
        if x.op == "const" and y.op == "field":
            x, y, sym = y, x, MIRRORED_CMP[sym]
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


class SuccessorTree:
    """Builds a decision tree over guard atoms and renders it as the successor function."""

    def __init__(self, system: System, lay: Layout):
        self.sys = system
        self.lay = lay
        self.em = PackedEmitter(system, lay)
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
        emit_update(self.lines, body, it.rank, it.index, c, kn, em, self.sys, lay)

    def source(self, fn_name: str) -> str:
        self.lines = [f"def {fn_name}(s):", "    out = []", "    ovf = False"]
        self.render_list(self.build(self.items, self.control), 1, {})
        self.lines.append("    out.sort()")
        self.lines.append("    return out, ovf")
        return "\n".join(self.lines) + "\n"
