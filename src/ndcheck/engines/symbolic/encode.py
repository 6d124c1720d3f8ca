"""The z3 transition relation of a System, generated from its IR (never written by hand).

One z3 ``Int`` per field; one disjunct per guarded command::

    T_c(s, t) = guard_c(s) ∧ ⋀_{f updated by c} t_f = update_f(s) ∧ dom_f(t_f)
                           ∧ ⋀_{g not updated by c} t_g = s_g
    T(s, t)   = ⋁_c T_c(s, t)            (or  sel = k ⇒ T_k  with an action selector)

Commands with the same updates differ only in their guards, so the selector form
(:meth:`Encoding.step_rel`, what BMC, k-induction, Houdini and the certificate unroll) joins them
into one **step class** (:func:`step_classes`): ``T_k`` is the disjunction of its members' guards
with their common updates, and an action selector picks a class, not a command
(:meth:`Encoding.trans` stays command by command: Spacer's rule, the tests' reference).  The relation is the
same set of pairs ``(s, t)``; the formula has one branch per distinct update vector
(fig7-both-capable: 708 classes for 1,159 commands) and z3 answers faster on it (BMC 15-35 %,
Houdini 27 %: BENCHMARKS.md).  A decoded step names the first member of its class whose guard
holds in the model (:meth:`Encoding.command_in`), so traces name commands as before.

The expression interpreter :meth:`Encoding.term` mirrors :func:`ndcheck.model.ir.evaluate`
operator by operator (a boolean-valued expression used as an update value means 0/1), and a
test compares the two on every reachable state of small scenarios.

**Bounded mode** (the default) is the explicit engine's semantics: every field keeps its domain
``lo..hi``, and a command whose update would take a field out of its domain has no successor.
The explicit explorer instead reports such a step as an *overflow* and marks the search
truncated; :meth:`Encoding.leaves_domain` gives the same condition so that the engines can ask
"is an overflow reachable?" and answer ``undetermined`` exactly when the explicit engine would.
Bounded agreement with the explicit engine is claimed for non-truncated scenarios (every
catalog scenario); on a truncated one both engines report ``undetermined`` for an unrefuted
property.

**Unbounded mode** lifts the search bounds that are not protocol facts:

* fields marked ``unbounded_ok`` (channel multiplicities ``net.*``, retransmission counters
  ``*_retx``) lose their upper domain bound ``hi`` — so ``network.capacity`` no longer limits
  how many copies of a message are in flight, and a command can no longer overflow them;
  their lower bound and every other field's domain stay (a non-liftable field that would leave
  its domain, e.g. a FIFO queue's length, is still an overflow and gives ``undetermined``);
* the guards that compare a retransmission counter with its scenario budget
  (``syn_retx < tcp.syn_retries``, ``ike_retx == ike.retransmissions``, ...) are kept: the
  budget is a protocol parameter, so only the counter's *cap* is lifted;
* with ``lift_budgets=True`` the budgets themselves become symbolic: every IR constant that
  the model marks as a scenario parameter (:func:`ndcheck.model.ir.P`, e.g.
  ``tcp.syn_retries``) is replaced by a z3 ``Int`` parameter ``p ≥ 0`` that is free in the
  initial state and never changes (it is carried in the state vector with ``t_p = s_p``).  A
  proof then holds for every budget; a counterexample fixes one, and the trace is replayed in
  the system rebuilt with that budget (``System.rebuild``).
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass, field

import z3

from ...model.ir import BOOL_OPS, Command, Expr, Field, System


def name_of(v: z3.ExprRef) -> str:
    """``str(v)`` for a z3 constant, read from its declaration (z3's Python printer costs about
    40 µs a call, this 6 µs: the SMT-LIB texts and unsat cores of one proof on
    fig7-both-capable name about 6,000 constants); any other term printed."""
    c, a = v.ctx_ref(), v.as_ast()
    if z3.Z3_is_app(c, a) and z3.Z3_get_app_num_args(c, a) == 0:
        d = z3.Z3_get_app_decl(c, a)
        if z3.Z3_get_decl_kind(c, d) == z3.Z3_OP_UNINTERPRETED:
            return z3.Z3_get_symbol_string(c, z3.Z3_get_decl_name(c, d))
    return str(v)


def param_name(e: Expr) -> str | None:
    """The scenario parameter a constant stands for (``tcp.syn_retries``), if the model marks it."""
    if e.op == "const" and len(e.args) > 1:
        return e.args[1]
    return None


def params_of(system: System) -> dict[str, int]:
    """Every marked scenario parameter the system's guards and updates mention, with its value."""
    out: dict[str, int] = {}

    def walk(e: Expr) -> None:
        name = param_name(e)
        if name is not None:
            out.setdefault(name, e.args[0])
            return
        if e.op in ("const", "field"):
            return
        for a in e.args:
            walk(a)

    for c in system.commands:
        walk(c.guard)
        for _, u in c.updates:
            walk(u)
    return dict(sorted(out.items()))


def step_classes(system: System) -> tuple[tuple[int, ...], ...]:
    """The system's commands grouped by their updates (same fields, same expressions), each
    class in command order and the classes in the order of their first member; cached on the
    system.  The members of a class have the same successor wherever their guards hold."""
    hit = system.cache.get("z3.step_classes")
    if hit is None or hit[0] is not system.commands:    # keyed by the command list itself
        groups: dict[tuple, list[int]] = {}
        for i, c in enumerate(system.commands):
            groups.setdefault(c.updates, []).append(i)
        classes = tuple(tuple(g) for g in groups.values())
        of = [0] * len(system.commands)
        for k, members in enumerate(classes):
            for i in members:
                of[i] = k
        hit = system.cache["z3.step_classes"] = (system.commands, classes, of)
    return hit[1]


def class_of(system: System) -> list[int]:
    """The step class (:func:`step_classes`) of each command."""
    step_classes(system)
    return system.cache["z3.step_classes"][2]


@dataclass
class Encoding:
    """The z3 view of one System in one mode (bounded, unbounded, unbounded + lifted budgets)."""

    system: System
    unbounded: bool = False
    lift_budgets: bool = False
    ctx: z3.Context | None = None
    bits: int | None = None     # None: z3 Ints; n: signed n-bit bit-vectors (bounded BMC only)
    params: dict[str, int] = field(init=False)      # lifted parameter -> its scenario value
    lifted: tuple[str, ...] = field(init=False)     # fields whose upper bound is lifted
    _ctx: z3.Context = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.lift_budgets and not self.unbounded:
            raise ValueError("lift_budgets needs unbounded=True (a budget bounds its counter's cap)")
        self._ctx = self.ctx or z3.main_ctx()
        self.params = params_of(self.system) if self.lift_budgets else {}
        self.lifted = tuple(f.name for f in self.system.fields if self.unbounded and f.unbounded_ok)
        self._lifted = set(self.lifted)

    # -- naming ---------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """State-vector names: the fields, then the lifted parameters (``param:tcp.syn_retries``)."""
        return [f.name for f in self.system.fields] + [f"param:{p}" for p in self.params]

    @property
    def width(self) -> int:
        return len(self.system.fields) + len(self.params)

    def state(self, tag: str | int) -> list[z3.ArithRef]:
        """Fresh z3 terms for one state, named ``field@tag``: Ints, or bit-vectors.

        Bounded bit-vectors (BMC, the certificate's closure query, bounded Houdini): every state
        is inside the domains, so a field is a variable of just enough bits for ``hi - lo``
        (``ZeroExt`` to the arithmetic width, plus ``lo``).  The solver then has 1-4 state bits
        per field instead of ``bits`` (7): BMC about 2x faster (BENCHMARKS.md).
        """
        if not self.bits or self.unbounded:
            return self._vars(tag)
        out = []
        for f in self.system.fields:
            w = max(1, (f.hi - f.lo).bit_length())
            x = z3.ZeroExt(self.bits - w, z3.BitVec(f"{f.name}@{tag}", w, self._ctx))
            out.append(x + f.lo if f.lo else x)
        return out

    def _vars(self, tag: str | int) -> list[z3.ArithRef]:
        """One plain variable per state-vector entry (template placeholders), named ``field@tag``."""
        return [self.var(f"{n}@{tag}") for n in self.names]

    def var(self, name: str) -> z3.ArithRef:
        if self.bits:
            return z3.BitVec(name, self.bits, self._ctx)
        return z3.Int(name, self._ctx)

    @property
    def classes(self) -> tuple[tuple[int, ...], ...]:
        """The step classes (:func:`step_classes`): what an action selector's value indexes."""
        return step_classes(self.system)

    @property
    def class_of(self) -> list[int]:
        """The step class of each command."""
        return class_of(self.system)

    def command_in(self, model: z3.ModelRef, k: int, s: Sequence[z3.ArithRef]) -> int:
        """The command a step of class ``k`` from state ``s`` performs in ``model``: the first
        member whose guard holds there (all members have the same successor)."""
        members = self.classes[k]
        for i in members[:-1]:
            if z3.is_true(model.eval(self.guard(self.system.commands[i], s), model_completion=True)):
                return i
        return members[-1]

    def selector(self, name: str) -> z3.ArithRef:
        """An action-selector variable (which step class, :func:`step_classes`, a step performs)."""
        if self.bits:
            return z3.BitVec(name, 16, self._ctx)
        return z3.Int(name, self._ctx)

    def val(self, v: int) -> z3.ArithRef:
        if self.bits:
            return z3.BitVecVal(v, self.bits, self._ctx)
        return z3.IntVal(v, self._ctx)

    def plain_state(self) -> list[z3.ArithRef]:
        """z3 Ints named exactly like the fields (for printing invariants)."""
        return [self.var(n) for n in self.names]

    # -- expressions ----------------------------------------------------------------------
    def term(self, e: Expr, s: Sequence[z3.ArithRef]) -> z3.ArithRef:
        """An integer-valued z3 term (boolean expressions become 0/1, as in ``evaluate``)."""
        memo = self._memo(s)
        if memo is None:
            return self._term(e, s)
        key = ("t", e)  # structural: the IR repeats the same sub-expressions (35k nodes, 1k distinct)
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = self._term(e, s)
        return hit

    def formula(self, e: Expr, s: Sequence[z3.ArithRef]) -> z3.BoolRef:
        """A z3 Bool (an integer-valued expression is true when non-zero, as in ``evaluate``)."""
        memo = self._memo(s)
        if memo is None:
            return self._formula(e, s)
        key = ("f", e)
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = self._formula(e, s)
        return hit

    def _memo(self, s: Sequence[z3.ArithRef]) -> dict | None:
        """Translations over the template placeholder are memoised (shared with the templates)."""
        if s is not self.__dict__.get("_ph"):
            return None
        return self.template_cache().setdefault("_memo", {})

    def _term(self, e: Expr, s: Sequence[z3.ArithRef]) -> z3.ArithRef:
        if e.op in BOOL_OPS:
            return z3.If(self.formula(e, s), self.val(1), self.val(0))
        op, a = e.op, e.args
        if op == "const":
            name = param_name(e)
            if name is not None and name in self.params:
                return s[len(self.system.fields) + list(self.params).index(name)]
            return self.val(a[0])
        if op == "field":
            return s[self.system.index[a[0]]]
        if op == "add":
            return self.term(a[0], s) + self.term(a[1], s)
        if op == "sub":
            return self.term(a[0], s) - self.term(a[1], s)
        if op in ("max", "min"):
            x, y = self.term(a[0], s), self.term(a[1], s)
            return z3.If(x >= y, x, y) if op == "max" else z3.If(x <= y, x, y)
        if op == "ite":
            return z3.If(self.formula(a[0], s), self.term(a[1], s), self.term(a[2], s))
        raise ValueError(f"unknown expression operator {op!r}")

    def _formula(self, e: Expr, s: Sequence[z3.ArithRef]) -> z3.BoolRef:
        op, a = e.op, e.args
        if op == "const" and param_name(e) not in self.params:
            return z3.BoolVal(a[0] != 0, self._ctx)
        if op == "eq":
            return self.term(a[0], s) == self.term(a[1], s)
        if op == "ne":
            return self.term(a[0], s) != self.term(a[1], s)
        if op == "lt":
            return self.term(a[0], s) < self.term(a[1], s)
        if op == "le":
            return self.term(a[0], s) <= self.term(a[1], s)
        if op == "and":
            return z3.And([self.formula(x, s) for x in a]) if a else z3.BoolVal(True, self._ctx)
        if op == "or":
            return z3.Or([self.formula(x, s) for x in a]) if a else z3.BoolVal(False, self._ctx)
        if op == "not":
            return z3.Not(self.formula(a[0], s))
        if op == "ite":
            return z3.If(self.formula(a[0], s), self.formula(a[1], s), self.formula(a[2], s))
        return self.term(e, s) != 0

    # -- domains --------------------------------------------------------------------------
    def field_domain(self, f: Field, v: z3.ArithRef) -> z3.BoolRef:
        if f.name in self._lifted:
            return v >= f.lo
        return z3.And(v >= f.lo, v <= f.hi)

    def domain(self, s: Sequence[z3.ArithRef]) -> z3.BoolRef:
        """Every field within its (possibly lifted) domain; every lifted parameter ≥ 0."""
        parts = [self.field_domain(f, s[i]) for i, f in enumerate(self.system.fields)]
        n = len(self.system.fields)
        parts += [s[n + j] >= 0 for j in range(len(self.params))]
        return z3.And(parts)

    def init(self, s: Sequence[z3.ArithRef]) -> z3.BoolRef:
        """The initial state (lifted parameters are free, ≥ 0)."""
        parts = [s[i] == f.init for i, f in enumerate(self.system.fields)]
        n = len(self.system.fields)
        for j in range(len(self.params)):
            parts.append(s[n + j] >= 0)
            if self.bits:  # bit-vectors only search: a budget small enough not to wrap
                parts.append(s[n + j] <= 2 ** (self.bits - 3))
        return z3.And(parts)

    def bitvector_twin(self, depth: int) -> Encoding:
        """The same encoding over signed bit-vectors wide enough that ``depth`` steps cannot wrap.

        BMC uses it (bit-blasting answers faster than linear integer arithmetic on these models:
        BENCHMARKS.md): every update adds at most a small constant per step, so values stay
        within ``max |bound| + 2·depth`` of the domain.  In bounded mode every state is inside
        the domains (an update that would leave them has no successor), so one step's headroom
        is enough at any depth: 7 bits for the catalog instead of 9 at depth 40 (narrower is
        faster: BENCHMARKS.md).
        """
        top = max([max(abs(f.lo), abs(f.hi), abs(f.init)) for f in self.system.fields] + [1])
        if not self.unbounded:
            depth = 1
        bits = (top + 2 * depth + 8).bit_length() + 2
        return Encoding(self.system, self.unbounded, self.lift_budgets, bits=bits)

    # -- commands -------------------------------------------------------------------------
    def guard(self, c: Command, s: Sequence[z3.ArithRef]) -> z3.BoolRef:
        return self.formula(c.guard, s)

    def post(self, c: Command, s: Sequence[z3.ArithRef]) -> list[z3.ArithRef]:
        """The successor vector of ``s`` under ``c``'s updates (unchanged entries are ``s``'s)."""
        out = list(s)
        for name, e in c.updates:
            out[self.system.index[name]] = self.term(e, s)
        return out

    def _may_leave(self, c: Command) -> list[tuple[Field, Expr]]:
        """Updated fields whose new value is not statically inside the domain."""
        out = []
        for name, e in c.updates:
            f = self.system.field(name)
            if e.op == "const" and param_name(e) is None:
                if f.lo <= e.args[0] <= f.hi or (f.name in self._lifted and e.args[0] >= f.lo):
                    continue
            elif e.op in BOOL_OPS and f.lo <= 0 and f.hi >= 1 or e.op == "field" and e.args[0] == name:
                continue
            out.append((f, e))
        return out

    def post_domain(self, c: Command, s: Sequence[z3.ArithRef]) -> z3.BoolRef:
        """The updated fields stay within their domains (else: an overflow, no successor)."""
        return z3.And([self.field_domain(f, self.term(e, s)) for f, e in self._may_leave(c)]
                      + [z3.BoolVal(True, self._ctx)])

    def enabled(self, c: Command, s: Sequence[z3.ArithRef]) -> z3.BoolRef:
        """``c`` has a successor in ``s``: its guard holds and no update overflows."""
        return z3.And(self.guard(c, s), self.post_domain(c, s))

    def leaves_domain(self, c: Command, s: Sequence[z3.ArithRef]) -> z3.BoolRef | None:
        """``c``'s guard holds but an update leaves its field's domain (None: impossible)."""
        risky = self._may_leave(c)
        if not risky:
            return None
        return z3.And(self.guard(c, s),
                      z3.Or([z3.Not(self.field_domain(f, self.term(e, s))) for f, e in risky]))

    def leaks(self, s: Sequence[z3.ArithRef]) -> z3.BoolRef:
        """Some command's guard holds at ``s`` and its update leaves a field's domain (a cached
        template; False when no command can)."""
        def build(p):
            if not self.params:
                return _Smt(self, p).leaks()
            return z3.Or([x for x in (self.leaves_domain(c, p) for c in self.system.commands)
                          if x is not None] + [z3.BoolVal(False, self._ctx)])
        tmpl = self.template("overflow", build)
        return self.at(tmpl, s)

    def can_fire(self, firings: Sequence[tuple[Command, Expr]], s: Sequence[z3.ArithRef]) -> z3.BoolRef:
        """``⋁ (cond ∧ post_domain(c))`` over ``(c, cond)`` at ``s``: one of the selected commands
        can fire (written as SMT-LIB text and parsed at once where there are no lifted
        parameters: allow-clear-grace S-2 0.7 -> 0.1 s)."""
        if not self.params:
            return _Smt(self, s).firings(firings)
        alts = [z3.And(self.formula(cond, s), self.post_domain(c, s)) for c, cond in firings]
        return z3.Or(alts) if alts else z3.BoolVal(False, self._ctx)

    def trans_cmd(self, c: Command, s: Sequence[z3.ArithRef], t: Sequence[z3.ArithRef]) -> z3.BoolRef:
        """T_c(s, t): guard, updates, domain of the updated fields, frame for the rest."""
        nxt = self.post(c, s)
        return z3.And([self.enabled(c, s)] + [t[i] == nxt[i] for i in range(self.width)])

    def class_enabled(self, k: int, s: Sequence[z3.ArithRef]) -> z3.BoolRef:
        """A member of step class ``k`` has a successor in ``s``: one of their guards holds and
        the common update stays inside the domains."""
        cmds = self.system.commands
        members = self.classes[k]
        guard = self.guard(cmds[members[0]], s) if len(members) == 1 else \
            z3.Or([self.guard(cmds[i], s) for i in members])
        return z3.And(guard, self.post_domain(cmds[members[0]], s))

    def trans(self, s: Sequence[z3.ArithRef], t: Sequence[z3.ArithRef],
              sel: z3.ArithRef | None = None) -> z3.BoolRef:
        """T(s, t) = ⋁_c T_c(s, t) command by command, the reference form (Spacer's rule; the
        tests' independent inductiveness checks); with a selector ``sel``, ``sel == i`` picks
        command ``i`` (the engines' selectors name step classes: :meth:`step_rel`)."""
        cmds = self.system.commands
        if sel is None:
            return z3.Or([self.trans_cmd(c, s, t) for c in cmds])
        return z3.And(sel >= 0, sel < len(cmds),
                      *[z3.Implies(sel == i, self.trans_cmd(c, s, t)) for i, c in enumerate(cmds)])

    # -- templates: build once over placeholder variables, instantiate by substitution --------
    def template(self, key: object, build) -> object:
        """``build(s)`` over the placeholder state, built once per key (building through z3's
        Python API costs far more than substitution in z3 itself).  Shared by
        every encoding of the same system in the same mode (:func:`_shared_templates`)."""
        cache = self.template_cache()
        if key not in cache:
            cache[key] = build(self._placeholder())
        return cache[key]

    def template_cache(self) -> dict:
        cache = self.__dict__.get("_templates")
        if cache is None:
            cache = self.__dict__["_templates"] = _shared_templates(self)
        return cache

    def _placeholder(self) -> list[z3.ArithRef]:
        if "_ph" not in self.__dict__:
            self.__dict__["_ph"] = self._vars("_")
        return self.__dict__["_ph"]

    def at(self, expr, s: Sequence[z3.ArithRef], *extra: tuple[z3.ExprRef, z3.ExprRef]):
        """A template formula instantiated at state ``s`` (plus extra substitutions)."""
        pairs = list(zip(self._placeholder(), s)) + list(extra)
        return z3.substitute(expr, *pairs)

    def step_rel(self, s: Sequence[z3.ArithRef], sel: z3.ArithRef,
                 t: Sequence[z3.ArithRef]) -> z3.BoolRef:
        """``cond(s, sel) ∧ t = next(s, sel)`` from :meth:`step_formula`, in one substitution."""
        ph_sel = self.__dict__.setdefault("_ph_sel", self.selector("_sel"))
        ph_t = self.__dict__.setdefault("_ph_t", self._vars("_t"))

        def build(p):
            if not self.params:
                return _Smt(self, p).step_rel(ph_sel, ph_t)
            cond, nxt = self.template("step", lambda q: self.step_formula(q, ph_sel))
            return z3.And([cond] + [a == b for a, b in zip(ph_t, nxt)])
        rel = self.template("step_rel", build)
        return self.at(rel, s, (ph_sel, sel), *zip(ph_t, t))

    def trans_at(self, s: Sequence[z3.ArithRef], t: Sequence[z3.ArithRef]) -> z3.BoolRef:
        """:meth:`trans` (no selector) instantiated at ``s``, ``t`` from a cached template."""
        ph_t = self.__dict__.setdefault("_ph_t", self._vars("_t"))
        tr = self.template("trans", lambda p: self.trans(p, ph_t))
        return self.at(tr, s, *zip(ph_t, t))

    def step_formula(self, s: Sequence[z3.ArithRef], sel: z3.ArithRef) -> tuple[z3.BoolRef, list[z3.ArithRef]]:
        """One step selected by ``sel``: (``sel`` names an enabled command, successor terms).

        The compact form of T used by every engine: the successor of field ``f`` is an
        if-then-else over the step classes that update ``f`` (the others leave it unchanged), so
        the formula grows with the number of distinct updates rather than commands × fields.
        """
        cmds, classes = self.system.commands, self.classes
        cond = [sel >= 0, sel < len(classes)]
        branches: dict[int, list[tuple[int, z3.ArithRef]]] = {}
        for k, members in enumerate(classes):
            cond.append(z3.Implies(sel == k, self.class_enabled(k, s)))
            for name, e in cmds[members[0]].updates:
                branches.setdefault(self.system.index[name], []).append((k, self.term(e, s)))
        nxt = list(s)
        for j, alts in branches.items():
            v = s[j]
            for i, u in reversed(alts):
                v = z3.If(sel == i, u, v)
            nxt[j] = v
        return z3.And(cond), nxt

    # -- decoding -------------------------------------------------------------------------
    def decode(self, model: z3.ModelRef, s: Sequence[z3.ArithRef]) -> tuple[int, ...]:
        """The concrete state vector (fields, then parameters) of ``s`` in a z3 model."""
        if self.bits:
            return tuple(model.eval(v, model_completion=True).as_signed_long() for v in s)
        # z3py's eval wraps every value in a Python AST object (about 5 ms a state on
        # fig7-both-capable, two states per Houdini round): read the numerals through the C API
        ctx, mref = model.ctx.ref(), model.model
        r, val = (z3.Ast * 1)(), ctypes.c_int64()
        out = []
        for v in s:
            try:
                ok = z3.Z3_model_eval(ctx, mref, v.as_ast(), True, r) and \
                    z3.Z3_get_numeral_int64(ctx, r[0], ctypes.byref(val))
            except z3.Z3Exception:
                ok = False
            # not a 64-bit numeral: the general path
            out.append(val.value if ok else model.eval(v, model_completion=True).as_long())
        return tuple(out)

    def describe(self, vec: Sequence[int]) -> dict[str, str]:
        """A decoded state as ``{field: label}`` (parameters as plain numbers)."""
        n = len(self.system.fields)
        out = self.system.describe(vec[:n])
        out.update({f"param:{p}": str(v) for p, v in zip(self.params, vec[n:])})
        return out


_TEMPLATES: dict[tuple, tuple[System, dict]] = {}


def _shared_templates(enc: Encoding) -> dict:
    """The template cache of ``enc``'s system and mode (building the step formula of a large
    model costs about a second; BMC, k-induction and Spacer each make their own encoding)."""
    key = (id(enc.system), enc.unbounded, enc.lift_budgets, enc.bits, id(enc._ctx))
    hit = _TEMPLATES.get(key)
    if hit is not None and hit[0] is enc.system:   # the entry keeps the system alive: ids stay unique
        return hit[1]
    if len(_TEMPLATES) > 64:
        _TEMPLATES.clear()
    cache: dict = {}
    _TEMPLATES[key] = (enc.system, cache)
    return cache


class _Smt:
    """The templates of :meth:`Encoding.step_rel` and :meth:`Encoding.leaks` (encodings without
    lifted parameters: integers, or the signed bit-vectors of :meth:`Encoding.bitvector_twin`)
    written as SMT-LIB text over the placeholder variables and parsed by z3 in one call: the same
    formulas as :meth:`Encoding.step_formula` and :meth:`Encoding.leaves_domain` build through
    z3's Python API, operator by operator (the tests compare both, in each mode), about 5x faster
    to build (fig7-both-capable: 1.6 s for the step through the Python API on a slow machine;
    allow-clear-grace's bit-vector step for BMC 2.0 -> 0.4 s)."""

    def __init__(self, enc: Encoding, p: Sequence[z3.ArithRef]) -> None:
        self.enc, self.p = enc, list(p)
        names = [name_of(v) for v in p]
        self.names = [f"|{n}|" for n in names]
        self.decls = dict(zip(names, p))
        self._t: dict[Expr, str] = {}
        self._f: dict[Expr, str] = {}
        bits = enc.bits
        self.bits = bits
        # the operators in each mode (bit-vectors: signed, as z3's Python operators on them)
        self.op = {"+": "bvadd", "-": "bvsub", "<": "bvslt", "<=": "bvsle", ">=": "bvsge"} if bits \
            else {"+": "+", "-": "-", "<": "<", "<=": "<=", ">=": ">="}

    def num(self, v: int, width: int | None = None) -> str:
        """A constant: an integer, or a bit-vector of ``width`` (default: the encoding's bits)."""
        if not self.bits:
            return str(v) if v >= 0 else f"(- {-v})"
        w = width or self.bits
        return f"(_ bv{v % (1 << w)} {w})"

    def term(self, e: Expr) -> str:
        hit = self._t.get(e)
        if hit is None:
            hit = self._t[e] = self._term(e)
        return hit

    def formula(self, e: Expr) -> str:
        hit = self._f.get(e)
        if hit is None:
            hit = self._f[e] = self._formula(e)
        return hit

    def _term(self, e: Expr) -> str:
        o = self.op
        if e.op in BOOL_OPS:
            return f"(ite {self.formula(e)} {self.num(1)} {self.num(0)})"
        op, a = e.op, e.args
        if op == "const":
            return self.num(a[0])
        if op == "field":
            return self.names[self.enc.system.index[a[0]]]
        if op == "add":
            return f"({o['+']} {self.term(a[0])} {self.term(a[1])})"
        if op == "sub":
            return f"({o['-']} {self.term(a[0])} {self.term(a[1])})"
        if op in ("max", "min"):
            x, y = self.term(a[0]), self.term(a[1])
            return f"(ite ({o['>=']} {x} {y}) {x} {y})" if op == "max" else \
                f"(ite ({o['<=']} {x} {y}) {x} {y})"
        if op == "ite":
            return f"(ite {self.formula(a[0])} {self.term(a[1])} {self.term(a[2])})"
        raise ValueError(f"unknown expression operator {op!r}")

    def _formula(self, e: Expr) -> str:
        op, a = e.op, e.args
        if op == "const":
            return "true" if a[0] != 0 else "false"
        if op in ("eq", "ne", "lt", "le"):
            x, y = self.term(a[0]), self.term(a[1])
            return {"eq": f"(= {x} {y})", "ne": f"(not (= {x} {y}))", "lt": f"({self.op['<']} {x} {y})",
                    "le": f"({self.op['<=']} {x} {y})"}[op]
        if op == "and":
            return f"(and {' '.join(self.formula(x) for x in a)})" if a else "true"
        if op == "or":
            return f"(or {' '.join(self.formula(x) for x in a)})" if a else "false"
        if op == "not":
            return f"(not {self.formula(a[0])})"
        if op == "ite":
            return f"(ite {self.formula(a[0])} {self.formula(a[1])} {self.formula(a[2])})"
        return f"(not (= {self.term(e)} {self.num(0)}))"

    def field_domain(self, f: Field, v: str) -> str:
        ge, le = self.op[">="], self.op["<="]
        if f.name in self.enc._lifted:
            return f"({ge} {v} {self.num(f.lo)})"
        return f"(and ({ge} {v} {self.num(f.lo)}) ({le} {v} {self.num(f.hi)}))"

    def parse(self, body: str, extra: Sequence[z3.ExprRef] = ()) -> z3.BoolRef:
        decls = dict(self.decls)
        decls.update({name_of(v): v for v in extra})
        got = z3.parse_smt2_string(f"(assert {body})", decls=decls, ctx=self.enc._ctx)
        assert len(got) == 1
        return got[0]

    def step_rel(self, sel: z3.ArithRef, t: Sequence[z3.ArithRef]) -> z3.BoolRef:
        """``And(step_formula's condition, t = step_formula's successor)``."""
        system = self.enc.system
        cmds = system.commands
        sv = f"|{name_of(sel)}|"
        w = sel.size() if self.bits else None      # the selector's own width (16 bits)

        def pick(i: int) -> str:
            return self.num(i, w) if self.bits else str(i)
        classes = self.enc.classes
        cond = [f"({self.op['>=']} {sv} {pick(0)})", f"({self.op['<']} {sv} {pick(len(classes))})"]
        branches: dict[int, list[tuple[int, str]]] = {}
        for k, members in enumerate(classes):
            c = cmds[members[0]]
            dom = [self.field_domain(f, self.term(e)) for f, e in self.enc._may_leave(c)]
            guard = self.formula(c.guard) if len(members) == 1 else \
                f"(or {' '.join(self.formula(cmds[i].guard) for i in members)})"
            enabled = f"(and {guard} (and {' '.join(dom)} true))"
            cond.append(f"(=> (= {sv} {pick(k)}) {enabled})")
            for name, e in c.updates:
                branches.setdefault(system.index[name], []).append((k, self.term(e)))
        eqs = []
        for j in range(self.enc.width):
            v = self.names[j]
            for i, u in reversed(branches.get(j, [])):
                v = f"(ite (= {sv} {pick(i)}) {u} {v})"
            eqs.append(f"(= |{t[j]}| {v})")
        return self.parse(f"(and (and {' '.join(cond)}) {' '.join(eqs)})", [sel, *t])

    def firings(self, firings: Sequence[tuple[Command, Expr]]) -> z3.BoolRef:
        """``⋁ (cond ∧ post_domain(c))`` over ``(c, cond)``: a selected command can fire (the
        bad states of a ``never_action`` property, :func:`.bad.bad_formula`)."""
        alts = []
        for c, cond in firings:
            dom = [self.field_domain(f, self.term(e)) for f, e in self.enc._may_leave(c)]
            alts.append(f"(and {self.formula(cond)} (and {' '.join(dom)} true))")
        return self.parse(f"(or {' '.join(alts)} false)")

    def leaks(self) -> z3.BoolRef:
        """:meth:`Encoding.leaks`' template: some command's guard holds and an update leaves its
        field's domain."""
        parts = []
        for c in self.enc.system.commands:
            risky = self.enc._may_leave(c)
            if risky:
                out = " ".join(f"(not {self.field_domain(f, self.term(e))})" for f, e in risky)
                parts.append(f"(and {self.formula(c.guard)} (or {out}))")
        return self.parse(f"(or {' '.join(parts)} false)")
