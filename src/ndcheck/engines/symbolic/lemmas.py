"""Candidate lemmas mined from the explored states, filtered to an inductive invariant (Houdini).

Spacer alone needs a minute or more on the larger models (fig7-both-capable: 66 fields, 918
commands) because it must discover the relations between the four machines and the channels
one lemma at a time.  The explicit engine has already seen every reachable state of the bounded
model, so it can *propose* those relations; z3 then *checks* them:

1. **Mining** (:func:`mine`): for every field ``y`` the set of values it takes (``y ∈ S``);
   for every field ``x`` that is not a channel multiplicity and every value ``a`` of ``x``, the
   values ``y`` takes when ``x = a`` (``x = a → y ∈ S``); and for the two ends of one protocol
   (``client.ike_i``/``server.ike_r``, ``server.ike_i``/``client.ike_r``,
   ``client.tcp``/``server.tcp``) the values ``y`` takes in each joint phase
   (``client.ike_i = a ∧ server.ike_r = b → y ∈ S``).  A candidate is kept when
   it says more than the unary one.  Channel multiplicities (``net.*``) are not antecedents:
   on fig7-both-capable they doubled the candidates and the Houdini rounds without proving
   one more property; the joint IKE phase is what L-6 and S-11 need (without it Spacer had to
   find those relations itself, much more slowly: BENCHMARKS.md).
2. **Houdini** (:func:`houdini`): the largest subset ``H`` of the candidates with
   ``init ⊨ H`` and ``H(s) ∧ T(s, t) ⊨ H(t)``.  One incremental z3 query per round: a model is
   a state ``s ⊨ H`` with a successor ``t ⊭ H``; every candidate ``t`` falsifies is dropped.
   From ``s`` a short concrete walk through states that still satisfy ``H``
   (:func:`~ndcheck.engines.pyexpr.compile_lifted_successors`) drops more candidates per round
   without asking z3 (halves the rounds on fig7).  The fixpoint is reached when the query is
   unsat — so ``H`` is inductive by z3's word, whatever the explicit engine proposed: a bug
   there can only make ``H`` weaker, never unsound.
3. **Overflow freedom**: ``H(s) ∧ leaves_domain(s)`` unsat means no step from an ``H`` state
   takes a non-liftable field out of its domain (with the caps of ``unbounded_ok`` fields
   lifted, the mode the engines use), so Spacer need not prove it again.

:func:`strengthening` caches one result per system, mode and tier (:data:`TIERS`) and is what
the engines use: ``prove(..., engine="spacer")`` first looks for the few ``lean`` candidates one
property needs together with the property itself (:mod:`.cone`, property-directed), then runs
Houdini over the ``lean`` ones (on two cores with a :mod:`.portfolio` partner) and asks whether
``H ⊨ ¬bad`` or ``¬bad`` is inductive relative to ``H`` (:meth:`Strengthening.
relatively_inductive`), and otherwise gives ``H`` to Spacer as a background invariant on both
sides of the transition rule (and only when that gives no answer, does the same with ``core``).  Houdini does not need
the candidates to be true: with lifted budgets (``--lift-budgets``) the bounded graph does not
represent the reachable states, and the engines do not seed Spacer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import z3

from ...model.ir import System
from ..layout import DomainError
from ..pyexpr import join_successor_parts, lifted_successor_parts
from .encode import Encoding, name_of

CLOSURE_STATES = 100  # concrete states walked per Houdini round (the choice: BENCHMARKS.md)


@dataclass(frozen=True, slots=True)
class Lemma:
    """``(x1 = a1 ∧ …) → y ∈ values``; ``when`` lists the antecedents ``(x, a)`` (none: unary)."""

    field: int
    values: frozenset[int]
    when: tuple[tuple[int, int], ...] = ()

    def formula(self, s: Sequence[z3.ArithRef]) -> z3.BoolRef:
        v = s[self.field]
        vals = sorted(self.values)
        if vals[-1] - vals[0] + 1 == len(vals):
            inside = v == vals[0] if len(vals) == 1 else z3.And(v >= vals[0], v <= vals[-1])
        else:
            inside = z3.Or([v == x for x in vals])
        if not self.when:
            return inside
        cond = [s[x] == a for x, a in self.when]
        return z3.Implies(cond[0] if len(cond) == 1 else z3.And(cond), inside)

    def holds(self, state: Sequence[int]) -> bool:
        return state[self.field] in self.values or any(state[x] != a for x, a in self.when)

    def text(self, system: System) -> str:
        f = system.fields[self.field]
        vals = sorted(self.values)
        rhs = f"{f.name} = {f.label(vals[0])}" if len(vals) == 1 else \
            f"{f.name} ∈ {{{', '.join(f.label(v) for v in vals)}}}"
        if not self.when:
            return rhs
        lhs = " ∧ ".join(f"{system.fields[x].name} = {system.fields[x].label(a)}" for x, a in self.when)
        return f"{lhs} → {rhs}"


#: Candidate sets: ``core`` keeps the unary candidates, those whose antecedent is a control
#: state (or the joint phase of an exchange) and those whose antecedent is a boolean flag and
#: whose consequent is no channel counter -- on fig7-both-capable (50k states) they prove every
#: safety property but S-11 and S-14 (and the vacuity of H-1 and L-6) after 6 s of Houdini
#: where ``full`` takes 18 s, and seed Spacer as well for those two;
#: ``full`` is every shape of the module docstring (the bounded certificate uses it);
#: ``lean`` is ``core`` without the consequents that cost Houdini most of its rounds, those about
#: a counter and those about a channel under a single-field antecedent (:func:`lean`): on the
#: v2 fig7-both-capable (106k states) Houdini keeps 984 of its 1,433 candidates in 5 s of CPU
#: where ``core`` keeps 1,500 of 2,279 in 14 s, and they still imply H-1, S-2, S-3, S-12, S-13,
#: L-6 (and the triggers of H-1 and L-6 unreachable) and seed Spacer to S-11 and S-14 in 2-3 s
#: (``prove`` tries ``lean`` first, then ``core``; BENCHMARKS.md).
TIERS = ("lean", "core", "full")


#: ``prove`` seeds with the ``lean`` tier only when it leaves out at least this share of the
#: ``core`` candidates (fig7-both-capable: 37 %); where it leaves out fewer (ge-marking-after:
#: 27 %, 3,426 of 4,668) its Houdini pass costs nearly as much as core's (393 rounds) and Spacer
#: seeded with it did not prove S-14 in 20 s, so core is used from the start, as before.
LEAN_SHARE = 1 / 3


def seed_tier(system: System, timeout: float | None = None,
              progress: Callable[[str], None] | None = None, cached_only: bool = False) -> str | None:
    """``lean`` or ``core`` (see :data:`LEAN_SHARE`); None when there are no candidates."""
    core = candidates(system, "core", timeout, progress, cached_only)
    sub = candidates(system, "lean", timeout, progress, cached_only)
    if core is None or sub is None:
        return None
    return "lean" if len(sub.lemmas) <= (1 - LEAN_SHARE) * len(core.lemmas) else "core"


def lean(system: System, lem: Lemma) -> bool:
    """Whether a ``core`` candidate is in the ``lean`` tier: its consequent is a control state or
    a flag, or a channel counter under no antecedent or a joint phase of one exchange."""
    f = system.fields[lem.field]
    if f.name.startswith("net."):
        return len(lem.when) != 1
    return f.kind in ("control", "bool")


def mine(system: System, states: Sequence[Sequence[int]], tier: str = "full") -> list[Lemma]:
    """Candidate lemmas true in every given state (see the module docstring for their shape;
    ``tier`` as :data:`TIERS`)."""
    n = len(system.fields)
    arr = np.array(states, dtype=np.int64).reshape(len(states), n)
    return mine_columns(system, [arr[:, j] for j in range(n)], tier)


def mine_columns(system: System, cols: Sequence[np.ndarray], tier: str = "full") -> list[Lemma]:
    """:func:`mine` over the states given column by column (one ``int64`` array per field, as
    :class:`~ndcheck.engines.columns.Columns` extracts them from the explorer's packed store
    without decoding a state tuple: 1.4 s saved on fig7-both-capable's 106,770 states)."""
    n = len(system.fields)
    domain = [frozenset(_distinct(c).tolist()) for c in cols]
    out = [Lemma(j, domain[j]) for j in range(n) if domain[j]]
    core = tier in ("core", "lean")
    # lean: no consequent about a counter, none about a channel under a single-field antecedent
    single = [not (tier == "lean" and (f.kind == "counter" or f.name.startswith("net.")))
              for f in system.fields]
    joint = [not (tier == "lean" and f.kind == "counter" and not f.name.startswith("net."))
             for f in system.fields]
    packed = _Columns(domain, cols)
    for i, fx in enumerate(system.fields):
        if len(domain[i]) < 2 or fx.name.startswith("net.") or (core and fx.kind not in ("control", "bool")):
            continue
        flag_only = core and fx.kind == "bool"    # a flag antecedent: no channel consequent
        for j in range(n):
            if j == i or len(domain[j]) < 2 or not single[j] or \
                    (flag_only and system.fields[j].name.startswith("net.")):
                continue
            seen = packed.pairs(i, j)
            if seen is None:    # a domain too wide for one byte per pair: count the pairs
                seen = packed.wide_pairs(i, j)
            for a in sorted(seen):
                if len(seen[a]) < len(domain[j]):
                    out.append(Lemma(j, frozenset(seen[a]), ((i, a),)))
    # the two ends of one exchange (client.ike_i with server.ike_r, client.tcp with server.tcp):
    # their joint phase as antecedent; the value triples counted in numpy (np.bincount over
    # one code per state), 15x faster than collecting them in a Python set
    for i1, i2 in _peer_controls(system, domain):
        lo1, lo2 = packed.lo[i1], packed.lo[i2]
        s1, s2 = packed.span[i1], packed.span[i2]
        a12 = (cols[i1] - lo1) * s2 + (cols[i2] - lo2)
        for j in range(n):
            if j in (i1, i2) or len(domain[j]) < 2 or not joint[j]:
                continue
            sj, lj = packed.span[j], packed.lo[j]
            codes = a12 * sj + (cols[j] - lj)
            if s1 * s2 * sj <= 1 << 22:
                hit = np.bincount(codes, minlength=s1 * s2 * sj) > 0
            else:       # wide domains: no table of every triple
                hit = np.zeros(s1 * s2 * sj, bool)
                hit[np.unique(codes)] = True
            hit = hit.reshape(s1 * s2, sj)
            for ab in np.flatnonzero(hit.any(axis=1)).tolist():
                vals = (np.flatnonzero(hit[ab]) + lj).tolist()
                if len(vals) < len(domain[j]):
                    a1, a2 = divmod(ab, s2)
                    out.append(Lemma(j, frozenset(vals), ((i1, a1 + lo1), (i2, a2 + lo2))))
    if tier == "lean":
        out = [lem for lem in out if lean(system, lem)]
    return out


def _distinct(col: np.ndarray) -> np.ndarray:
    """The distinct values of a column, sorted: ``np.unique`` counted by ``np.bincount`` over
    the column's range when that is narrow (every field's is: 0.57 -> 0.03 s over the 104
    columns of fig7-both-capable)."""
    if not len(col):
        return col[:0]
    lo, hi = int(col.min()), int(col.max())
    if hi - lo > 1 << 20:
        return np.unique(col)
    return np.flatnonzero(np.bincount(col - lo, minlength=hi - lo + 1)) + lo


class _Columns:
    """The explored states column by column, each column one big ``int`` with one byte per state
    (``value - lo``), so that the value pairs of two fields are found by C-level operations:
    ``x · K + y`` byte-wise (no carries when ``span(x) · K ≤ 256``, ``K = span(y)``), then one
    ``memchr`` (``bytes.__contains__``) per possible pair.  About 8x faster than collecting the
    pairs in a Python set on fig7-both-capable (106k states, 2279 candidates)."""

    def __init__(self, domain: Sequence[frozenset[int]], cols: Sequence[np.ndarray]) -> None:
        self.domain = domain
        self.n = len(cols[0]) if cols else 0
        self.lo = [min(d) if d else 0 for d in domain]
        self.span = [max(d) - min(d) + 1 if d else 1 for d in domain]
        self._big: dict[int, int] = {}
        self._cols = cols

    def _column(self, j: int) -> int:
        hit = self._big.get(j)
        if hit is None:
            raw = (self._cols[j] - self.lo[j]).astype(np.uint8).tobytes()
            hit = self._big[j] = int.from_bytes(raw, "big")
        return hit

    def pairs(self, i: int, j: int) -> dict[int, set[int]] | None:
        """``{a: {values of field j in the states where field i = a}}``; None when the two
        domains do not fit in one byte."""
        k = self.span[j]
        if self.span[i] * k > 256 or not self.n:
            return None
        joint = (self._column(i) * k + self._column(j)).to_bytes(self.n, "big")
        li, lj = self.lo[i], self.lo[j]
        out: dict[int, set[int]] = {}
        for a in self.domain[i]:
            vals = {v for v in self.domain[j] if bytes(((a - li) * k + v - lj,)) in joint}
            if vals:
                out[a] = vals
        return out

    def wide_pairs(self, i: int, j: int) -> dict[int, set[int]]:
        """:meth:`pairs` for any domains: the distinct value pairs by ``np.unique``."""
        k = self.span[j]
        codes = np.unique((self._cols[i] - self.lo[i]) * k + (self._cols[j] - self.lo[j]))
        out: dict[int, set[int]] = {}
        for c in codes.tolist():
            a, b = divmod(c, k)
            out.setdefault(a + self.lo[i], set()).add(b + self.lo[j])
        return out


#: The machine of the other host that runs the same exchange: TCP with TCP, an IKE initiator with
#: the peer's responder (``client.ike_i`` / ``server.ike_r`` and the other way round).
_COUNTERPART = {"ike_i": "ike_r", "ike_r": "ike_i"}


def _peer_controls(system: System, domain) -> list[tuple[int, int]]:
    """Control fields of the two ends of one exchange on the two hosts (``client.tcp`` /
    ``server.tcp``, ``client.ike_i`` / ``server.ike_r``, ``server.ike_i`` / ``client.ike_r``)."""
    ctl = {f.name: i for i, f in enumerate(system.fields) if f.kind == "control" and len(domain[i]) > 1}
    out = []
    for name, i in ctl.items():
        if name.startswith("client."):
            role = name[len("client."):]
            peer = "server." + _COUNTERPART.get(role, role)
            if peer in ctl:
                out.append((i, ctl[peer]))
    return out


class _Index:
    """The active candidates, indexed for fast concrete evaluation on state tuples."""

    _tab: tuple | None

    def __init__(self, lemmas: Sequence[Lemma]) -> None:
        self.lemmas = lemmas
        self.active = set(range(len(lemmas)))
        self.unary = [(k, lem) for k, lem in enumerate(lemmas) if not lem.when]
        self.by_when: dict[tuple[int, int], list[tuple[int, Lemma]]] = {}
        for k, lem in enumerate(lemmas):
            if lem.when:   # indexed by the first antecedent; the others are checked in violated()
                self.by_when.setdefault(lem.when[0], []).append((k, lem))

    def violated(self, t: Sequence[int]) -> list[int]:
        """Active candidates false in ``t`` (dropped ones stay indexed and are skipped)."""
        act = self.active
        out = [k for k, lem in self.unary if k in act and t[lem.field] not in lem.values]
        for i, v in enumerate(t):
            for k, lem in self.by_when.get((i, v), ()):
                if k in act and t[lem.field] not in lem.values and all(t[x] == a for x, a in lem.when[1:]):
                    out.append(k)
        return out

    def drop(self, ks) -> None:
        self.active.difference_update(ks)

    def violated_any(self, states: Sequence[Sequence[int]]) -> list[int]:
        """Active candidates false in at least one of ``states``: :meth:`violated` over a batch,
        in numpy (one Python pass over 100 states and 1,433 candidates per Houdini round cost
        about 10 ms on fig7-both-capable)."""
        if not states:
            return []
        tab = self._table()
        if tab is None:
            bad: set[int] = set()
            for t in states:
                bad.update(self.violated(t))
            return sorted(bad)
        j, lo, allowed, x1, a1, has1, x2, a2, has2 = tab
        S = np.asarray(states, dtype=np.int64)
        off = S[:, j] - lo                                   # states x candidates
        width = allowed.shape[1]
        inside = (off >= 0) & (off < width)
        ok = allowed[np.arange(len(j)), np.clip(off, 0, width - 1)] & inside
        cond = (~has1 | (S[:, x1] == a1)) & (~has2 | (S[:, x2] == a2))
        hit = np.flatnonzero((cond & ~ok).any(axis=0)).tolist()
        act = self.active
        return [k for k in hit if k in act]

    def _table(self):
        """The candidates as arrays for :meth:`violated_any` (None: a shape it does not cover)."""
        if "_tab" in self.__dict__:
            return self._tab
        lemmas = self.lemmas
        self._tab = None
        if not lemmas or any(len(lem.when) > 2 for lem in lemmas):
            return None
        lo = np.array([min(lem.values) for lem in lemmas], np.int64)
        width = max(max(lem.values) - min(lem.values) + 1 for lem in lemmas)
        if width > 4096:
            return None
        allowed = np.zeros((len(lemmas), width), bool)
        for k, lem in enumerate(lemmas):
            allowed[k, [v - lo[k] for v in lem.values]] = True
        w1 = [lem.when[0] if lem.when else (0, 0) for lem in lemmas]
        w2 = [lem.when[1] if len(lem.when) > 1 else (0, 0) for lem in lemmas]
        self._tab = (np.array([lem.field for lem in lemmas], np.intp), lo, allowed,
                     np.array([x for x, _ in w1], np.intp), np.array([a for _, a in w1], np.int64),
                     np.array([bool(lem.when) for lem in lemmas]),
                     np.array([x for x, _ in w2], np.intp), np.array([a for _, a in w2], np.int64),
                     np.array([len(lem.when) > 1 for lem in lemmas]))
        return self._tab


@dataclass
class Strengthening:
    """An inductive invariant ``H`` (a conjunction of lemmas) of one system, checked by z3."""

    system: System
    lemmas: list[Lemma]
    unbounded: bool = False     # inductive for the encoding with unbounded_ok caps lifted
    candidates: int = 0
    rounds: int = 0
    overflow_free: bool = False
    seconds: float = 0.0

    def formula(self, s: Sequence[z3.ArithRef]) -> z3.BoolRef:
        return z3.And([lem.formula(s) for lem in self.lemmas] + [z3.BoolVal(True, s[0].ctx)])

    def text(self, which: Sequence[int] | None = None) -> list[str]:
        picked = self.lemmas if which is None else [self.lemmas[k] for k in which]
        return [lem.text(self.system) for lem in picked]

    def relatively_inductive(self, enc: Encoding, bad: Callable[[Sequence[z3.ArithRef]], z3.BoolRef],
                             timeout: float | None = None) -> list[int] | None:
        """When ``¬bad`` is inductive relative to these lemmas -- ``H(s) ∧ ¬bad(s) ∧ T(s, t) ∧
        bad(t)`` unsat inside the domains -- and no initial state is bad, ``H ∧ ¬bad`` is an
        inductive invariant (``H`` is inductive by itself): the indices of the lemmas in an unsat
        core of the step query; else None (also when z3 has no answer within ``timeout``
        seconds).  Only for lemmas that are overflow-free (so that ``T``, which has no step out
        of the domains, is every step from an ``H``-state).

        On fig7-both-capable this proves S-11 and S-14 from the ``lean`` lemmas in about 0.6 s
        of z3, where Spacer seeded with them took 6-9 s (BENCHMARKS.md)."""
        if not self.overflow_free or enc.unbounded != self.unbounded:
            return None
        tag = getattr(self, "_rel", 0) + 1
        self._rel = tag
        s, t = enc.state(f"r{tag}_s"), enc.state(f"r{tag}_t")
        first = z3.Solver(ctx=s[0].ctx)
        first.add(enc.init(s), bad(s))
        if first.check() != z3.unsat:
            return None
        sol = z3.SolverFor("QF_BV" if enc.bits else "QF_LIA", ctx=s[0].ctx)
        if timeout is not None:
            sol.set(timeout=max(1, int(timeout * 1000)))
        sel = enc.selector(f"r{tag}_sel")
        sol.add(enc.domain(s), enc.step_rel(s, sel, t), z3.Not(bad(s)), bad(t))
        lits = [z3.Bool(f"rel{tag}_{k}", s[0].ctx) for k in range(len(self.lemmas))]
        for lit, form in zip(lits, _formulas(self.lemmas, s, enc)):
            sol.add(z3.Implies(lit, form))
        if sol.check(lits) != z3.unsat:
            return None
        return sorted(_core_indices(sol, {name_of(x): k for k, x in enumerate(lits)}))

    def implies(self, enc: Encoding, bads: dict[str, z3.BoolRef], s: Sequence[z3.ArithRef],
                timeout: float | None = None) -> dict[str, list[int]]:
        """For each ``bad(s)`` the lemmas exclude (``H(s) ∧ domain(s) ∧ bad(s)`` unsat): the
        indices of the lemmas in an unsat core.  One solver for all of them; ``timeout``
        seconds for all the queries together (a query past it excludes nothing)."""
        # one solver per encoding mode and state, kept for the next call (a property and the
        # unreachability of its trigger ask the same lemmas: 0.3 s to build on fig7-both-capable)
        key = (id(s[0].ctx), id(enc.system), enc.unbounded, enc.lift_budgets, tuple(map(name_of, s)))
        cache = self.__dict__.setdefault("_implies", {})
        if key not in cache:
            sol = z3.Solver(ctx=s[0].ctx)
            sol.add(enc.domain(s))
            lits = [z3.Bool(f"lemma{k}", s[0].ctx) for k in range(len(self.lemmas))]
            for lit, form in zip(lits, _formulas(self.lemmas, s, enc)):
                sol.add(z3.Implies(lit, form))
            cache.clear()
            cache[key] = (sol, lits, {name_of(x): k for k, x in enumerate(lits)})
        sol, lits, index = cache[key]
        stop = None if timeout is None else time.perf_counter() + timeout
        out = {}
        for key, bad in bads.items():
            left = None if stop is None else stop - time.perf_counter()
            if left is not None and left <= 0:
                break
            sol.set(timeout=4294967295 if left is None else max(1, int(left * 1000)))
            self._asked = getattr(self, "_asked", 0) + 1
            at = z3.Bool(f"bad:{key}#{self._asked}", s[0].ctx)
            sol.add(z3.Implies(at, bad))
            if sol.check(lits + [at]) == z3.unsat:
                out[key] = sorted(_core_indices(sol, index))
        return out


def houdini(system: System, lemmas: Sequence[Lemma], unbounded: bool = False,
            deadline: float | None = None, progress: Callable[[str], None] | None = None
            ) -> tuple[list[Lemma], int] | None:
    """The largest inductive subset of ``lemmas``, and the rounds it took.

    Bounded semantics by default (bit-vectors: every state inside the domains, a step that
    would leave them has no successor); ``unbounded`` uses the encoding with the caps of
    ``unbounded_ok`` fields lifted (integers), so the result is inductive for that model.
    None when the deadline passes first.  Candidates false in the initial state are dropped
    before the first query.  ``progress`` is told each round and the candidates still active.
    (:func:`strengthening` runs the same loop on :class:`_Search`, the solver :mod:`.cone` built, keeping its
    refutations.)
    """
    enc = _encoding(system, unbounded)
    init = tuple(f.init for f in system.fields)
    idx = _Index(lemmas)
    idx.drop(idx.violated(init))
    # the concrete walk: the explorer's packed successors, the lifted ones compiled beside the
    # first z3 checks (:class:`_Walker`; compiling them first cost the field cone of
    # fig7-both-capable S-13 1.8 s of its 4.6-5.5)
    walker = _Walker(system, enc.lifted)
    s, t = enc.state("h_s"), enc.state("h_t")
    sel = enc.selector("h_sel")
    sol = z3.SolverFor("QF_BV" if enc.bits else "QF_LIA")
    sol.add(enc.domain(s), enc.step_rel(s, sel, t))
    lits = [z3.Bool(f"cand{k}") for k in range(len(lemmas))]
    for k, lem in enumerate(lemmas):
        sol.add(z3.Implies(lits[k], lem.formula(s)))
    # some active candidate is false after the step (dropped ones are switched off for good)
    sol.add(z3.Or([z3.And(lits[k], z3.Not(lem.formula(t))) for k, lem in enumerate(lemmas)]))
    sol.add(*[z3.Not(lits[k]) for k in range(len(lemmas)) if k not in idx.active])
    walker.start()
    rounds = 0
    while True:
        rounds += 1
        if progress is not None:
            progress(f"houdini round {rounds}: {len(idx.active)} candidates left")
        if deadline is not None:
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            sol.set(timeout=max(1, int(left * 1000)))
        r = sol.check([lits[k] for k in sorted(idx.active)])
        if r == z3.unsat:
            return [lemmas[k] for k in sorted(idx.active)], rounds
        if r != z3.sat:
            return None
        m = sol.model()
        start = enc.decode(m, s)
        before = set(idx.active)
        walker(start, idx, CLOSURE_STATES, also=[enc.decode(m, t)])
        sol.add(*[z3.Not(lits[k]) for k in before - idx.active])


def _walk(start: tuple[int, ...], succ, idx: _Index, limit: int) -> None:
    """Concrete Houdini steps: from an H-state, drop what its successors falsify; go on from them.

    Every state visited satisfies the candidates still active when it is expanded (its
    violations were dropped when it was generated), so each drop is one Houdini would make.
    The walk itself does not depend on the candidates: the states are collected first and
    checked as one batch (:meth:`_Index.violated_any`).
    """
    seen = {start}
    work = [start]
    reached = []
    while work and len(seen) < limit:
        s = work.pop()
        for _, t in succ(s):
            if t in seen:
                continue
            reached.append(t)
            seen.add(t)
            work.append(t)
    idx.drop(idx.violated_any(reached))


class _Walker:
    """:func:`_walk` for :class:`_Search`: over the explicit engine's packed successor function
    (compiled and cached on the system by the exploration) when the start state lies inside the
    bounded domains -- every bounded step is a step of the lifted model too, and one that would
    overflow has no successor there, so each drop is still one Houdini would make -- else over
    the lifted tuple successors.

    Those take about 1 s of CPU to generate and compile for fig7-both-capable's 1,159 commands.
    A background thread compiles them from the first z3 check on (:meth:`start`), one part of
    :data:`~ndcheck.engines.pyexpr.PART` commands at a time: z3's checks release the GIL
    (ctypes), so on two cores the thread runs beside them.  Started any earlier, it stole the
    GIL from the solver's build (thousands of short z3 calls, each giving the GIL away: the
    build took 2.1 s instead of 0.9 s).  Until the parts are all compiled, a counterexample to
    induction outside the domains is not walked (only its post-state is checked): the walk only
    drops earlier what Houdini drops anyway, so the answer is the same, the rounds may differ."""

    def __init__(self, system: System, lifted: Sequence[str]) -> None:
        from ..codegen import compile_packed

        self.system, self.lifted = system, lifted
        self.packed, _, self.layout = compile_packed(system)
        self._lifted_succ = None
        self._compiled: list = []
        self._thread: threading.Thread | None = None
        self.off = False        # a forked Houdini partner does not compile them

    def start(self) -> None:
        """Begin compiling the lifted successors in a background thread (once)."""
        if self._thread is None and not self.off:
            self._thread = threading.Thread(target=self._compile, daemon=True,
                                            name="ndcheck-lifted-successors")
            self._thread.start()

    def _compile(self) -> None:
        try:
            self._compiled.append(join_successor_parts(list(lifted_successor_parts(self.system, self.lifted))))
        except Exception as e:   # noqa: BLE001 - re-raised by lifted_succ() in the caller's thread
            self._compiled.append(e)

    def lifted_succ(self, wait: bool = True):
        """The lifted successor function; with ``wait=False`` None while it is being compiled."""
        if self._lifted_succ is None:
            if self.off:
                return None
            self.start()
            if not wait and not self._compiled:
                return None
            self._thread.join()
            if not self._compiled:   # the thread did not survive a fork: compile here
                self._compile()
            got = self._compiled[0]
            if isinstance(got, Exception):
                raise got
            self._lifted_succ = got
        return self._lifted_succ

    def __call__(self, start: tuple[int, ...], idx: _Index, limit: int,
                 also: Sequence[tuple[int, ...]] = ()) -> None:
        """Walk from ``start`` and drop what the states reached (and ``also``) falsify.  The walk
        does not depend on the candidates, so the states are collected first and checked as
        one batch (:meth:`_Index.violated_any`): the same drops as :func:`_walk`'s."""
        lay = self.layout
        if any(v < lo or v > hi for v, lo, hi in zip(start, lay.lo, lay.hi)):
            idx.drop(idx.violated_any(list(also)))
            succ = self.lifted_succ(wait=False)
            if succ is not None:
                _walk(start, succ, idx, limit)
            return
        succ, decode = self.packed, lay.decode
        p0 = lay.encode(start)
        seen = {p0}
        work = [p0]
        reached = list(also)
        while work and len(seen) < limit:
            try:
                out, _ = succ(work.pop())
            except DomainError:
                # a step of an unreachable state sets a field that is no counter outside its
                # domain (the explorer stops there: "fix the model"); z3's step relation has no
                # such step, and the walk only drops early what Houdini drops anyway, so this
                # state is not walked on (fig7-fifo: prove S-3 raised it)
                continue
            for _, _, q in out:
                if q in seen:
                    continue
                reached.append(decode(q))
                seen.add(q)
                work.append(q)
        idx.drop(idx.violated_any(reached))


def _encoding(system: System, unbounded: bool) -> Encoding:
    if unbounded:
        return Encoding(system, unbounded=True)
    return Encoding(system).bitvector_twin(1)   # wide enough that no single step wraps


def overflow_free(system: System, lemmas: Sequence[Lemma], unbounded: bool = False) -> bool:
    """No step from a state satisfying the lemmas (inside the domains) leaves a field's domain."""
    enc = _encoding(system, unbounded)
    s = enc.state("o_s")
    leak = enc.leaks(s)
    if z3.is_false(z3.simplify(leak)):
        return True
    sol = z3.SolverFor("QF_BV" if enc.bits else "QF_LIA")
    sol.add(enc.domain(s), leak, *_formulas(lemmas, s, enc))
    return sol.check() == z3.unsat


def _core_indices(sol: z3.Solver, index: dict[str, int]) -> set[int]:
    """The indices (``index``: literal name -> index) of the literals in ``sol``'s unsat core."""
    return {k for k in map(index.get, map(name_of, sol.unsat_core())) if k is not None}


def _formulas(lemmas: Sequence[Lemma], s: Sequence[z3.ArithRef], enc: Encoding) -> list[z3.BoolRef]:
    """``[lem.formula(s) for lem in lemmas]``, parsed from SMT-LIB text in one call where the
    state is plain integer variables (984 lemmas: 0.05 s against 0.35 s)."""
    if enc.bits or not lemmas:
        return [lem.formula(s) for lem in lemmas]
    plain = [name_of(v) for v in s]
    names = [f"|{n}|" for n in plain]
    text = "".join(f"(assert {lemma_smt(lem, names)})\n" for lem in lemmas)
    return list(z3.parse_smt2_string(text, decls=dict(zip(plain, s)), ctx=s[0].ctx))


def _silent(_text: str) -> None:
    pass


_CACHE: dict[tuple[int, bool, str], tuple[System, Strengthening | None]] = {}
_GRAPHS: dict[int, tuple[System, object]] = {}   # the explored graph, shared by the tiers


def explored(system: System):
    """The explored graph of ``system`` if this process has one (Houdini explored it), else None."""
    got = _GRAPHS.get(id(system))
    return got[1] if got is not None and got[0] is system else None


def strengthening(system: System, unbounded: bool = False, timeout: float | None = None,
                  progress: Callable[[str], None] | None = None, tier: str = "full",
                  cached_only: bool = False, workers: int = 1) -> Strengthening | None:
    """The Houdini invariant of ``system`` from its explored states and the candidates of
    ``tier`` (:data:`TIERS`; cached per system, mode and tier; ``cached_only``: None unless
    already computed).

    None when the explicit exploration is truncated (its states are not all the reachable ones,
    so mining would mostly propose false candidates) or Houdini does not finish in time.
    ``progress`` is told the phases (exploring, mining, each Houdini round, overflow check).
    ``workers > 1``: Houdini with a forked partner on another core (:mod:`.portfolio`).
    """
    key = (id(system), unbounded, tier)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is system:
        if progress is not None:
            progress("houdini: " + ("no lemmas (cached)" if hit[1] is None else
                                    f"{len(hit[1].lemmas)} lemmas (cached)"))
        return hit[1]
    if cached_only:
        return None
    t0 = time.perf_counter()
    deadline = None if timeout is None else t0 + timeout
    say = progress if progress is not None else _silent
    pool = candidates(system, tier, timeout, progress)
    res: Strengthening | None = None
    if pool is not None:
        cands = pool.lemmas
        say(f"houdini: encoding {len(cands)} candidates for z3")
        search = search_for(system, pool, unbounded, tier)
        search.deadline = deadline
        if workers > 1:
            search.start_partner()    # Houdini on two cores (.portfolio)
        out = search.houdini(progress)
        if out is None:
            say("houdini: stopped by the time limit")
        else:
            kept, rounds = out
            say(f"houdini: {len(kept)} lemmas inductive after {rounds} rounds; checking overflow freedom")
            res = Strengthening(system, kept, unbounded, len(cands), rounds,
                                overflow_free(system, kept, unbounded), time.perf_counter() - t0)
    if res is not None or timeout is None:
        if len(_CACHE) > 32:
            _CACHE.clear()
        _CACHE[key] = (system, res)
    return res


@dataclass
class Candidates:
    """The mined candidates of one system and tier, and what is already known about them:
    ``known_false[unbounded]`` holds indices refuted by a counterexample to induction in that
    mode (so no later Houdini pass asks z3 about them again)."""

    system: System
    lemmas: list[Lemma]
    known_false: dict[bool, set[int]]


_POOLS: dict[tuple[int, str], tuple[System, Candidates | None]] = {}


def candidates(system: System, tier: str = "full", timeout: float | None = None,
               progress: Callable[[str], None] | None = None,
               cached_only: bool = False) -> Candidates | None:
    """The candidates of ``tier`` mined from the explored states (cached per system and tier);
    None when the exploration is truncated (its states are not all the reachable ones), or
    with ``cached_only`` when they are not mined yet."""
    key = (id(system), tier)
    hit = _POOLS.get(key)
    if hit is not None and hit[0] is system:
        return hit[1]
    if cached_only:
        return None
    if tier == "lean":      # the core candidates filtered: one mining pass serves both tiers
        core = candidates(system, "core", timeout, progress)
        sub = None if core is None else \
            Candidates(system, [lem for lem in core.lemmas if lean(system, lem)], {})
        _POOLS[key] = (system, sub)
        return sub
    from ..explicit import explore

    say = progress if progress is not None else _silent
    got = _GRAPHS.get(id(system))
    if got is not None and got[0] is system:
        graph = got[1]
    else:
        say("houdini: exploring the bounded model")
        graph = explore(system, timeout=timeout, symmetry=False,   # mine every reachable state
                        progress=None if progress is None else
                        lambda done, found: progress(f"houdini: exploring the bounded model, {found} states"))
        if not graph.truncated:
            _GRAPHS.clear()
            _GRAPHS[id(system)] = (system, graph)
    if graph.truncated:
        say(f"houdini: no lemmas (the exploration was truncated: {graph.reason})")
        return None
    say(f"houdini: mining {tier} candidates from {graph.n_states} states")
    pool = Candidates(system, _mine_graph(system, graph, tier), {})
    if len(_POOLS) > 32:
        _POOLS.clear()
    _POOLS[key] = (system, pool)
    return pool


def _mine_graph(system: System, graph, tier: str) -> list[Lemma]:
    """:func:`mine` over every state of an explored graph, read as columns from its packed
    store when it has one (no state tuple decoded), else from its state tuples."""
    if getattr(graph, "layout", None) is not None and getattr(graph, "packed", None) is not None:
        from ..columns import Columns

        cols = Columns(graph)
        return mine_columns(system, [cols.column(f.name) for f in system.fields], tier)
    return mine(system, list(graph.states), tier)


class _Search:
    """One incremental solver over ``domain(s) ∧ T(s, t) ∧ ⋀_k (lit_k → cand_k(s))``, shared
    by the properties of one system and mode (the candidate formulas are built once)."""

    def __init__(self, system: System, pool: Candidates, unbounded: bool) -> None:
        self.pool = pool
        self.unbounded = unbounded
        lemmas = pool.lemmas
        self.enc = enc = _encoding(system, unbounded)
        self.idx = _Index(lemmas)
        self.idx.drop(self.idx.violated(tuple(f.init for f in system.fields)))
        self.idx.drop(sorted(pool.known_false.get(unbounded, ())))
        self.walk = _Walker(system, enc.lifted)
        self.s, self.t = enc.state("c_s"), enc.state("c_t")
        self.sol = z3.SolverFor("QF_BV" if enc.bits else "QF_LIA")
        self.sel = enc.selector("c_sel")
        self.sol.add(enc.domain(self.s), enc.step_rel(self.s, self.sel, self.t))
        self.lits = [z3.Bool(f"cone{k}") for k in range(len(lemmas))]
        self._asts = [lit.as_ast() for lit in self.lits]
        self.index = {f"cone{k}": k for k in range(len(lemmas))}
        self.moved = self._moved(system)
        self._text: _Text | None = None
        if enc.bits:    # bounded Houdini's bit-vector fields are terms (ZeroExt + lo), not names
            for lit, lem in zip(self.lits, lemmas):
                self.sol.add(z3.Implies(lit, lem.formula(self.s)))
            self.not_t = [z3.Not(lem.formula(self.t)) for lem in lemmas]
        else:           # integers: the 2 x 1,433 candidate formulas as SMT-LIB text, parsed at once
            self._text = text = _Text(lemmas, self.s, self.t, self.lits, self.moved)
            self.sol.add(*text.parse(f"(=> {text.lit[k]} {text.pre[k]})" for k in range(len(lemmas))))
            self.not_t = text.parse(f"(not {text.post[k]})" for k in range(len(lemmas)))
        # refuted candidates are switched off for good (else a query for "some candidate turns
        # false" could answer with one of them and make no progress)
        self.sol.add(*[z3.Not(self.lits[k]) for k in range(len(lemmas)) if k not in self.idx.active])
        self.goals = 0
        self.partner = None     # a .portfolio.Partner (or, in the forked child, its link back)
        self.fixed = False      # the active candidates are the largest inductive subset
        self.deadline: float | None = None     # wall clock (perf_counter)
        self.cpu_stop: float | None = None     # CPU time (process_time; the cone's budget)

    def _moved(self, system: System) -> list[z3.BoolRef]:
        """One Boolean per field, defined as "the selected step class updates it".  A candidate can
        only turn false in a step that updates one of its fields (the others are framed), and
        saying so in the goal (:meth:`changed`) spares z3 the frame reasoning: Houdini over
        fig7-both-capable's lean candidates 8.3-11.3 s of CPU with it, 12.3-15.1 s without
        (three z3 seeds each; BENCHMARKS.md)."""
        writers: list[list[int]] = [[] for _ in system.fields]
        for k, members in enumerate(self.enc.classes):     # a selector names a step class
            for name, _ in system.commands[members[0]].updates:
                writers[system.index[name]].append(k)
        sel = self.sel
        out = []
        for j, ws in enumerate(writers):
            flag = z3.Bool(f"moved{j}")
            runs: list[list[int]] = []       # the writers as runs of consecutive class indices
            for i in ws:
                if runs and runs[-1][1] == i - 1:
                    runs[-1][1] = i
                else:
                    runs.append([i, i])
            picks = [sel == a if a == b else z3.And(sel >= a, sel <= b) for a, b in runs]
            self.sol.add(flag == (z3.Or(picks) if picks else z3.BoolVal(False)))
            out.append(flag)
        return out

    def _everything(self) -> z3.BoolRef:
        """Some active candidate is false after the step (which updates one of its fields)."""
        if self._text is None:
            return z3.Or([z3.And(lit, self.changed(k)) for k, lit in enumerate(self.lits)])
        text = self._text
        return text.parse([f"(or {' '.join(text.changed(k, True) for k in range(len(self.lits)))} false)"])[0]

    def changed(self, k: int) -> z3.BoolRef:
        """Candidate ``k`` is false after the step, which updates one of its fields."""
        lem = self.pool.lemmas[k]
        fields = sorted({lem.field, *(x for x, _ in lem.when)})
        return z3.And(self.not_t[k], z3.Or([self.moved[j] for j in fields]))

    def literal(self, formula: z3.BoolRef) -> z3.BoolRef:
        """A fresh literal that switches ``formula`` on when assumed."""
        self.goals += 1
        lit = z3.Bool(f"cone_goal{self.goals}")
        self.sol.add(z3.Implies(lit, formula))
        return lit

    def check(self, ks, *extra: z3.BoolRef) -> z3.CheckSatResult:
        if self.cpu_stop is not None and time.process_time() > self.cpu_stop:
            return z3.unknown
        if self.deadline is not None or self.cpu_stop is not None:
            left = float("inf") if self.deadline is None else self.deadline - time.perf_counter()
            if self.cpu_stop is not None:
                # the cone's CPU budget bounds each check too (one check overran it by 0.7 s on
                # fig7-both-capable H-1); z3's limit is wall-clock, equal to CPU when idle
                left = min(left, self.cpu_stop - time.process_time())
            if left <= 0:
                return z3.unknown
            self.sol.set(timeout=max(1, int(left * 1000)))
            self._timed = True
        elif getattr(self, "_timed", False):     # no stale limit from the cone's budget
            self.sol.set(timeout=4294967295)
            self._timed = False
        self.walk.start()   # the lifted successors compile beside this check (_Walker)
        # what Solver.check does, without casting each of the ~1,500 literals to Bool again in
        # every round (7 % of a Houdini pass on fig7-both-capable)
        asts = self._asts
        lits = [asts[k] for k in sorted(ks)] + [e.as_ast() for e in extra]
        arr = (z3.Ast * len(lits))(*lits)
        return z3.CheckSatResult(z3.Z3_solver_check_assumptions(self.sol.ctx.ref(), self.sol.solver,
                                                                len(lits), arr))

    def core(self) -> set[int]:
        return _core_indices(self.sol, self.index)

    def refute(self) -> int:
        """The model is a counterexample to induction of every active candidate: drop what
        its post-state falsifies, then walk concretely from its pre-state (and tell a
        :mod:`.portfolio` partner what was dropped)."""
        m = self.sol.model()
        before = set(self.idx.active)
        self.walk(self.enc.decode(m, self.s), self.idx, CLOSURE_STATES, also=[self.enc.decode(m, self.t)])
        gone = before - self.idx.active
        self._switch_off(gone)
        if self.partner is not None:
            self.partner.send(gone)
        return len(gone)

    def _switch_off(self, gone) -> None:
        self.pool.known_false.setdefault(self.unbounded, set()).update(gone)
        self.sol.add(*[z3.Not(self.lits[k]) for k in sorted(gone)])   # for good

    def start_partner(self, seed: int = 1) -> bool:
        """Fork a :class:`~.portfolio.Partner` that runs Houdini on this solver with z3 seed
        ``seed`` and shares its refutations (False where no second core or ``fork`` is there)."""
        from .portfolio import Partner, available

        if self.partner is None and available():
            self.partner = Partner(self, seed)
        return self.partner is not None

    def stop_partner(self) -> None:
        if self.partner is not None and hasattr(self.partner, "close"):
            self.partner.close()
            self.partner = None

    def _absorb(self) -> bool:
        """Take the partner's drops; True when its answer is adopted (the active candidates
        are then the largest inductive subset)."""
        if self.partner is None:
            return False
        drops, answer = self.partner.take()
        gone = set(drops) & self.idx.active
        if gone:
            self.idx.drop(gone)
            self._switch_off(gone)
        if answer is None:
            return False
        keep = set(answer)
        if not keep <= self.idx.active:     # cannot happen (both sides drop soundly): go on alone
            self.stop_partner()
            return False
        gone = self.idx.active - keep
        self.idx.drop(gone)
        self._switch_off(gone)
        self.stop_partner()
        self.fixed = True
        return True

    def houdini(self, progress: Callable[[str], None] | None = None) -> tuple[list[Lemma], int] | None:
        """Full Houdini on this solver (what :func:`.lemmas.houdini` computes, starting from the
        refutations so far): one query per round for a counterexample to induction of any
        active candidate, until unsat.  None when the deadline passes first."""
        try:
            return self._houdini(progress)
        finally:
            self.stop_partner()     # its only use is this pass

    def _houdini(self, progress: Callable[[str], None] | None) -> tuple[list[Lemma], int] | None:
        lemmas = self.pool.lemmas
        if self.fixed:      # a partner's fixpoint, adopted (the active set is inductive)
            return [lemmas[k] for k in sorted(self.idx.active)], 0
        everything = self.literal(self._everything())
        rounds = 0
        while True:
            if self._absorb():
                if progress is not None:
                    progress(f"houdini: the partner process found the fixpoint (round {rounds})")
                return [lemmas[k] for k in sorted(self.idx.active)], rounds
            rounds += 1
            if progress is not None:
                progress(f"houdini round {rounds}: {len(self.idx.active)} candidates left")
            r = self.check(self.idx.active, everything)
            if r == z3.unsat:
                self.fixed = True
                return [lemmas[k] for k in sorted(self.idx.active)], rounds
            if r != z3.sat:
                return None
            self.refute()

    def shrink(self, base: set[int], core: set[int], goal: z3.BoolRef, *extra: z3.BoolRef) -> set[int] | None:
        """A small ``N ⊆ core`` with ``base ∪ N`` (and ``goal``, ``extra``) unsat, knowing
        ``base ∪ core`` is: grown one candidate per model (one the model's pre-state falsifies)."""
        n: set[int] = set()
        while True:
            r = self.check(base | n, goal, *extra)
            if r == z3.unsat:
                return n
            if r != z3.sat:
                return None
            pre = self.enc.decode(self.sol.model(), self.s)
            missing = [k for k in self.idx.violated(pre) if k in core and k not in n]
            if not missing:          # z3's core was not sufficient after all: take all of it
                return n | core
            n.add(missing[-1])


class _Text:
    """The candidates of a :class:`_Search` as SMT-LIB text over its state names, parsed by z3
    in one call per batch: the same formulas as :meth:`Lemma.formula` (a test compares them),
    about 10x faster to build than through z3's Python API (fig7-both-capable: the 2 x 1,433
    candidate formulas and Houdini's goal took 1.4 s that way)."""

    def __init__(self, lemmas: Sequence[Lemma], s, t, lits, moved) -> None:
        self.lemmas = lemmas
        every = [*s, *t, *lits, *moved]
        plain = [name_of(v) for v in every]
        self.decls = dict(zip(plain, every))
        quoted = [f"|{n}|" for n in plain]
        a, b, c = len(s), len(s) + len(t), len(s) + len(t) + len(lits)
        names_s, names_t, self.lit, self.moved = quoted[:a], quoted[a:b], quoted[b:c], quoted[c:]
        self.ctx = s[0].ctx
        self.pre = [lemma_smt(lem, names_s) for lem in lemmas]
        self.post = [lemma_smt(lem, names_t) for lem in lemmas]

    def changed(self, k: int, with_lit: bool = False) -> str:
        lem = self.lemmas[k]
        fields = sorted({lem.field, *(x for x, _ in lem.when)})
        moved = " ".join(self.moved[j] for j in fields)
        lit = f"{self.lit[k]} " if with_lit else ""
        return f"(and {lit}(not {self.post[k]}) (or {moved}))"

    def parse(self, bodies) -> list[z3.BoolRef]:
        text = "".join(f"(assert {b})\n" for b in bodies)
        return list(z3.parse_smt2_string(text, decls=self.decls, ctx=self.ctx))


def _num(v: int) -> str:
    return str(v) if v >= 0 else f"(- {-v})"


def lemma_smt(lem: Lemma, names: Sequence[str]) -> str:
    """:meth:`Lemma.formula` as SMT-LIB text over the (quoted) variable ``names``."""
    v = names[lem.field]
    vals = sorted(lem.values)
    if vals[-1] - vals[0] + 1 == len(vals):
        inside = f"(= {v} {_num(vals[0])})" if len(vals) == 1 else \
            f"(and (>= {v} {_num(vals[0])}) (<= {v} {_num(vals[-1])}))"
    else:
        inside = f"(or {' '.join(f'(= {v} {_num(x)})' for x in vals)})"
    if not lem.when:
        return inside
    cond = [f"(= {names[x]} {_num(a)})" for x, a in lem.when]
    return f"(=> {cond[0] if len(cond) == 1 else '(and ' + ' '.join(cond) + ')'} {inside})"


def search_for(system: System, pool: Candidates, unbounded: bool, tier: str) -> _Search:
    """The solver of ``pool`` in one mode, built once per system (cone and full Houdini share it)."""
    key = (id(system), unbounded, tier)
    hit = _SEARCHES.get(key)
    if hit is not None and hit[0] is system and hit[1].pool is pool:
        return hit[1]
    search = _Search(system, pool, unbounded)
    if len(_SEARCHES) > 8:
        _SEARCHES.clear()
    _SEARCHES[key] = (system, search)
    return search


_SEARCHES: dict[tuple[int, bool, str], tuple[System, _Search]] = {}
