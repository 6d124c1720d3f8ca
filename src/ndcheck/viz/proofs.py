"""z3 results for people: invariants split into readable conjuncts, CTIs as tables.

:func:`ndcheck.prove` returns a :class:`~ndcheck.engines.symbolic.ProofResult`; Spacer's inductive
invariant is a string over the model's field names in z3's syntax (``And(Not(client.ike_i == 4),
...)``), where a control field is compared with the *index* of a state.  This module parses that
string (field names are known from the system, so nothing is guessed), renders each conjunct with
state names (``client.ike_i ∉ {QM1-SENT}``), classifies it as a *domain* fact (one field within its
declared range) or a *protocol* fact, and evaluates it on a state — so a notebook can show which
conjuncts rule out a counterexample to induction (the strengthening k-induction lacked).

>>> from ndcheck import CATALOG, build_system
>>> system = build_system(CATALOG["transport-mode"])
>>> c = Conjunct.parse("Or(Not(client.ike_i == 5), Not(server.sa_in <= 0))", system)
>>> c.text
'client.ike_i ≠ QM3-SENT ∨ server.sa_in = 1'
>>> c.holds({"client.ike_i": "QM3-SENT", "server.sa_in": "0"}), c.kind
(False, 'protocol')
>>> Conjunct.parse("Not(client.syn_retx <= -1)", system).kind
'domain'
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .tables import Table

__all__ = ["Conjunct", "conjuncts", "cti_table", "invariant_table", "proof_table"]

_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_NEG = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_SHOW = {"==": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}


def _system_for(scenario: str):
    from ..model.compose import build_system
    from ..model.scenario import get_scenario

    return build_system(get_scenario(scenario))


class _Names:
    """Field names <-> Python identifiers for parsing z3's printed terms."""

    def __init__(self, system):
        self.system = system
        names = sorted((f.name for f in system.fields), key=len, reverse=True)
        self.to_id = {n: f"_f{i}" for i, n in enumerate(names)}
        self.to_name = {v: k for k, v in self.to_id.items()}
        self.params: dict[str, str] = {}
        self.to_name_param: dict[str, str] = {}
        self.pattern = re.compile("|".join(re.escape(n) for n in names) + r"|[A-Za-z_][\w.]*\[?\d*\]?")

    def encode(self, text: str) -> str:
        def sub(m: re.Match) -> str:
            w = m.group(0)
            if w in self.to_id:
                return self.to_id[w]
            if "." in w or "[" in w:   # a lifted scenario parameter (tcp.syn_retries): keep it
                ident = self.params.setdefault(w, f"_p{len(self.params)}")
                self.to_name_param[ident] = w
                return ident
            return w

        return self.pattern.sub(sub, text)


def _split_top(text: str) -> list[str]:
    """Arguments of a top-level ``And(...)`` (the whole text if it is not a conjunction)."""
    t = " ".join(text.split())
    if not t.startswith("And(") or not t.endswith(")"):
        return [t]
    body, out, depth, cur = t[4:-1], [], 0, []
    for ch in body:
        if ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur.append(ch)
    out.append("".join(cur).strip())
    return [x for x in out if x]


@dataclass(frozen=True)
class Conjunct:
    """One conjunct of an invariant: z3 text, readable text, fields, kind (domain/protocol)."""

    source: str
    text: str
    fields: tuple[str, ...]
    kind: str
    _tree: object = None
    _names: object = None

    @classmethod
    def parse(cls, source: str, system) -> Conjunct:
        names = _Names(system)
        try:
            tree = ast.parse(names.encode(source), mode="eval").body
        except SyntaxError:
            return cls(source, source, (), "unparsed")
        r = _Render(system, names)
        text = r.show(tree)
        fields = tuple(sorted(r.fields))
        kind = "domain" if len(fields) == 1 and r.is_domain(tree) else "protocol"
        return cls(source, text, fields, kind, tree, names)

    @classmethod
    def from_lemma(cls, text: str, system) -> Conjunct:
        """A Houdini lemma as printed by :meth:`ndcheck.engines.symbolic.lemmas.Lemma.text`:
        ``[x = a ∧ …] → y ∈ {v, …}`` or ``y = v`` (labels, not indices).  Without antecedent
        it is a domain fact when it allows the field's whole declared range."""
        lhs, _, rhs = text.rpartition(" → ")
        when = tuple(tuple(part.split(" = ", 1)) for part in lhs.split(" ∧ ")) if lhs else ()
        if " ∈ {" in rhs:
            name, vals = rhs.split(" ∈ {", 1)
            values = tuple(v.strip() for v in vals.rstrip("}").split(","))
        else:
            name, v = rhs.split(" = ", 1)
            values = (v,)
        fields = tuple(sorted({name, *(x for x, _ in when)}))
        f = system.field(name)
        whole = {f.label(v) for v in range(f.lo, f.hi + 1)} <= set(values)
        return cls(text, text, fields, "domain" if whole and not when else "protocol",
                   _names=("lemma", when, name, values, system))

    def holds(self, state: Mapping[str, str] | Sequence[int]) -> bool | None:
        """Truth value in a state (a ``{field: label}`` dict as in a CTI, or a state tuple);
        None when the conjunct mentions something the state does not give (a lifted budget)."""
        if isinstance(self._names, tuple):   # a Houdini lemma: compare labels
            _, when, name, values, system = self._names
            if not isinstance(state, Mapping):
                state = system.describe(state)
            if any(x not in state for x, _ in when) or name not in state:
                return None
            return any(state[x] != a for x, a in when) or state[name] in values
        if self._tree is None:
            return None
        system = self._names.system
        values: dict[str, int] = {}
        for name in self.fields:
            if isinstance(state, Mapping):
                if name not in state:
                    return None
                f = system.field(name)
                v = state[name]
                values[name] = f.labels.index(v) if f.labels and v in f.labels else int(v)
            else:
                values[name] = state[system.index[name]]
        try:
            return bool(_Eval(values, self._names).run(self._tree))
        except KeyError:
            return None


class _Render:
    def __init__(self, system, names: _Names):
        self.system, self.names, self.fields = system, names, set()

    def field(self, node):
        if isinstance(node, ast.Name) and node.id in self.names.to_name:
            return self.system.field(self.names.to_name[node.id])
        return None

    def atom(self, node) -> str:
        if isinstance(node, ast.Name):
            name = self.names.to_name.get(node.id)
            if name:
                self.fields.add(name)
                return name
            return self.names.to_name_param.get(node.id, node.id)
        if isinstance(node, ast.Constant):
            return str(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return "-" + self.atom(node.operand)
        if isinstance(node, ast.BinOp):
            op = {ast.Add: "+", ast.Sub: "-", ast.Mult: "·"}.get(type(node.op), "?")
            return f"{self.atom(node.left)} {op} {self.atom(node.right)}"
        return self.show(node)

    def compare(self, node, negate: bool = False) -> str:
        op = _OPS[type(node.ops[0])]
        if negate:
            op = _NEG[op]
        left, right = node.left, node.comparators[0]
        f = self.field(left)
        if f is not None and _const(right) is not None:
            self.fields.add(f.name)
            k = _const(right)
            values = range(f.lo, f.hi + 1)
            keep = [v for v in values if _cmp(v, op, k)]
            if f.kind == "control" and f.labels:
                if not keep:
                    return "false"
                if len(keep) == len(values):
                    return "true"
                if len(keep) == 1:
                    return f"{f.name} = {f.label(keep[0])}"
                drop = [v for v in values if v not in keep]
                if len(drop) == 1:
                    return f"{f.name} ≠ {f.label(drop[0])}"
                if len(keep) <= len(drop):
                    return f"{f.name} ∈ {{{', '.join(f.label(v) for v in keep)}}}"
                return f"{f.name} ∉ {{{', '.join(f.label(v) for v in drop)}}}"
            if f.kind == "bool" and keep and len(keep) == 1:
                return f"{f.name} = {keep[0]}"
            # counters: a lower/upper bound in the simplest form
            if op == ">":
                op, k = ">=", k + 1
            if op == "<":
                op, k = "<=", k - 1
            return f"{f.name} {_SHOW[op]} {k}"
        return f"{self.atom(left)} {_SHOW[op]} {self.atom(right)}"

    def show(self, node, negate: bool = False) -> str:
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return self.compare(node, negate)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            fn, args = node.func.id, node.args
            if fn == "Not":
                return self.show(args[0], not negate)
            if fn in ("And", "Or"):
                conj = (fn == "And") != negate
                parts = [self.show(a, negate) for a in args]
                joined = (" ∧ " if conj else " ∨ ").join(
                    f"({p})" if (" ∧ " in p or " ∨ " in p) else p for p in parts)
                return joined
            if fn == "Implies" and not negate:
                return f"({self.show(args[0])}) ⇒ ({self.show(args[1])})"
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return str(node.value != negate).lower()
        names = {**self.names.to_name, **self.names.to_name_param}
        text = re.sub(r"\b_[fp]\d+\b", lambda m: names.get(m.group(0), m.group(0)), ast.unparse(node))
        return f"¬({text})" if negate else text

    def is_domain(self, node) -> bool:
        """A single comparison that only restates the field's declared range."""
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Not" and len(node.args) == 1:
            inner = node.args[0]
            if isinstance(inner, ast.Compare) and len(inner.ops) == 1:
                f = self.field(inner.left)
                k = _const(inner.comparators[0])
                if f is not None and k is not None:
                    op = _NEG[_OPS[type(inner.ops[0])]]
                    # within lo..hi; a lower bound alone is a domain fact too (unbounded counters)
                    return all(_cmp(v, op, k) for v in range(f.lo, f.hi + 1)) or (
                        op in (">=", ">") and _cmp(f.lo, op, k))
        return False


def _const(node) -> int | None:
    """The integer of a constant node (z3 prints negative numbers as ``-1``: a unary minus)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _const(node.operand)
        return None if inner is None else -inner
    return None


def _cmp(v: int, op: str, k: int) -> bool:
    return {"==": v == k, "!=": v != k, "<": v < k, "<=": v <= k, ">": v > k, ">=": v >= k}[op]


class _Eval:
    def __init__(self, values: dict[str, int], names: _Names):
        self.values, self.names = values, names

    def run(self, node):
        if isinstance(node, ast.Name):
            if node.id in ("True", "False"):
                return node.id == "True"
            return self.values[self.names.to_name[node.id]]
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -self.run(node.operand)
        if isinstance(node, ast.BinOp):
            a, b = self.run(node.left), self.run(node.right)
            return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}[type(node.op)]
        if isinstance(node, ast.Compare):
            return _cmp(self.run(node.left), _OPS[type(node.ops[0])], self.run(node.comparators[0]))
        if isinstance(node, ast.Call):
            fn, args = node.func.id, node.args
            if fn == "Not":
                return not self.run(args[0])
            if fn == "And":
                return all(self.run(a) for a in args)
            if fn == "Or":
                return any(self.run(a) for a in args)
            if fn == "Implies":
                return (not self.run(args[0])) or self.run(args[1])
            if fn == "If":
                return self.run(args[1]) if self.run(args[0]) else self.run(args[2])
        raise KeyError(ast.dump(node))


def conjuncts(result, system=None) -> list[Conjunct]:
    """The conjuncts of a proof result's invariant (empty when it has none).

    A proof by Houdini lemmas lists the lemmas that imply the property, one per line after a
    header (``the conjunction of N lemmas ...``); Spacer seeded with lemmas ends its invariant
    with a line ``∧ N Houdini lemmas (...)`` — only its own cover is split here.
    """
    if not getattr(result, "invariant", None):
        return []
    system = system or _system_for(result.scenario)
    lines = result.invariant.splitlines()
    if lines[0].startswith("the conjunction of"):
        return [Conjunct.from_lemma(ln.strip(), system) for ln in lines[1:] if ln.strip()]
    body = "\n".join(ln for ln in lines if not ln.startswith("∧ "))
    return [Conjunct.parse(c, system) for c in _split_top(body)]


def invariant_table(result, system=None, state: Mapping[str, str] | None = None,
                    kinds: Sequence[str] = ("protocol",)) -> Table:
    """The invariant's conjuncts of the given ``kinds`` (``domain``/``protocol``) as a table;
    with ``state`` (e.g. a CTI's first state) a column says whether each holds there."""
    cs = [c for c in conjuncts(result, system) if c.kind in kinds or c.kind == "unparsed"]
    cols = ("#", "conjunct", "fields")
    rows = []
    for i, c in enumerate(cs, 1):
        row = (str(i), c.text, ", ".join(c.fields))
        if state is not None:
            h = c.holds(state)
            row += ("—" if h is None else "yes" if h else "NO: excludes this state",)
        rows.append(row)
    if state is not None:
        cols += ("holds in the given state",)
    all_cs = conjuncts(result, system)
    n_dom = sum(c.kind == "domain" for c in all_cs)
    return Table(cols, tuple(rows),
                 f"{result.scenario} {result.property}: invariant of {len(all_cs)} conjuncts "
                 f"({n_dom} domain facts{' not shown' if 'domain' not in kinds else ''}); "
                 f"shown: {', '.join(kinds)}")


def cti_table(result, system=None, everything: bool = False) -> Table:
    """A counterexample to induction as a table: one row per field, one column per state.

    Only fields that are not at their initial value somewhere (or all with ``everything``).
    """
    cti = getattr(result, "cti", None) or []
    system = system or _system_for(result.scenario)
    init = system.describe(system.init)
    names = [f.name for f in system.fields
             if everything or any(s.get(f.name, init[f.name]) != init[f.name] for s in cti)]
    cols = ("field", "initial", *[f"s{i}" + (" (CTI start)" if i == 0 else "") for i in range(len(cti))])
    rows = tuple((n, init[n], *[s.get(n, "?") for s in cti]) for n in names)
    return Table(cols, rows, f"{result.scenario} {result.property}: counterexample to induction, "
                             f"{len(cti)} states (fields off their initial value)")


def proof_table(results: Sequence) -> Table:
    """Several :class:`~ndcheck.engines.symbolic.ProofResult` objects side by side."""
    rows = tuple((r.scenario, r.property, r.engine, "unbounded" if r.unbounded else "bounded",
                  ", ".join(f"{k}={v}" for k, v in (r.params or {}).items()), r.verdict,
                  f"{r.seconds:.1f}", r.note) for r in results)
    return Table(("scenario", "property", "engine", "mode", "params", "verdict", "seconds", "note"),
                 rows, "z3 results")
