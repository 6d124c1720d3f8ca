"""One safety property decided by z3: BMC, k-induction or Spacer (seeded with Houdini lemmas).

Each engine is one function over the same :class:`_Run` (the encodings, the deadline and the
result constructors); :func:`prove` picks one.  A counterexample leaves as a
:class:`~.result.Counterexample` re-executed in the IR; the checking layer replays it through
the machine instances.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import z3

from ...model.ir import System
from ..checkable import SafetyProperty
from .bad import bad_formula, counterexample, is_bad, property_fields, require_safety
from .blocking import BUDGET as BLOCK_BUDGET
from .blocking import FROM_EXPLORED, Blocked, Explored, block, budget_for
from .blocking import MAX_STATES as BLOCK_MAX_STATES
from .bmc import bmc
from .cone import cone_lemmas, field_cone_lemmas
from .encode import Encoding
from .kind import classify, kinduction
from .layers import LayersAhead
from .lemmas import Strengthening, candidates, explored, overflow_free, search_for, seed_tier, strengthening
from .result import ProofResult
from .spacer import spacer

ENGINES = ("spacer", "bmc", "kind")
#: Seconds Spacer seeded with the ``lean`` Houdini lemmas may take before Houdini over the
#: ``core`` candidates gives it a stronger seed (fig7-both-capable S-11, S-14: 2-3 s).
LEAN_SPACER = 20.0
DEFAULT_DEPTH = {"bmc": 40, "kind": 12, "spacer": 0}
#: Cubes of a blocking proof shown in its invariant (all of them are its lemmas).
SHOWN_CUBES = 12


def left(deadline: float | None) -> float | None:
    """Seconds until ``deadline`` (at least 1 ms), None without one."""
    return None if deadline is None else max(0.001, deadline - time.perf_counter())


class _Run:
    """One proof attempt: the property, its encodings, the clock, and how results are made."""

    def __init__(self, system: System, prop: SafetyProperty, engine: str, unbounded: bool,
                 lift_budgets: bool, timeout: float | None,
                 progress: Callable[[str], None] | None = None):
        self.t0 = time.perf_counter()
        self.deadline = None if timeout is None else self.t0 + timeout
        self.system, self.prop = system, prop
        self.progress = progress
        self.workers = 1        # cores for BMC's depths (prove's ``workers``)
        self.tried: list[str] = []      # the stages that did not decide it (an undetermined note)
        # a blocking loop stopped by its first budget: the explored states, its cubes, seconds so far
        self.blocking: tuple[Explored, Blocked, float, int] | None = None   # … and z3 checks
        self.say("encoding the transition relation")
        self.enc = Encoding(system, unbounded=unbounded or lift_budgets, lift_budgets=lift_budgets)
        self._bad = None
        self.base = {"engine": engine, "property": prop.id, "scenario": system.name,
                     "unbounded": self.enc.unbounded}

    @property
    def bad(self):
        """``bad(s)`` in :attr:`enc`, built on first use (BMC builds its own, over bit-vectors:
        allow-clear-grace S-2's took 0.7 s here for nothing)."""
        if self._bad is None:
            self._bad = bad_formula(self.enc, self.prop)
        return self._bad

    def left(self) -> float | None:
        return left(self.deadline)

    def say(self, text: str) -> None:
        """Tell the progress callback (a side channel: nothing depends on it)."""
        if self.progress is not None:
            self.progress(text)

    def told(self, suffix: str) -> Callable[[str], None] | None:
        """The progress callback with ``suffix`` added to each message (None without one)."""
        if self.progress is None or not suffix:
            return self.progress
        return lambda text: self.say(f"{text}{suffix}")

    def undetermined(self, reason: str) -> ProofResult:
        """``undetermined`` with ``reason`` and, after it, the stages that did not decide it."""
        trail = f" (before: {'; '.join(self.tried)})" if self.tried else ""
        return self.done("undetermined", note=f"{reason}{trail}")

    def done(self, verdict: str, **kw) -> ProofResult:
        return ProofResult(verdict, seconds=time.perf_counter() - self.t0, **self.base, **kw)

    def violated(self, commands: Sequence[int], states, how: str) -> ProofResult:
        cx = counterexample(self.enc, self.prop, commands, states)
        values = cx.params
        extra = f" with {', '.join(f'{p} = {v}' for p, v in values.items())}" if values else ""
        return self.done("violated", counterexample=cx, params=values,
                         note=f"{how}: counterexample of {len(cx.commands)} steps{extra}, replayed")

    def bv_bmc(self, max_depth: int, ahead: LayersAhead | None = None):
        """BMC in the bit-vector twin, its depths on :attr:`workers` cores (:mod:`.parity`).  In
        the bounded model the explicit engine's first BFS layers are hints that prune the depths
        before the shortest counterexample (.layers; the trace is z3's, replayed), computed in a
        forked process while z3 builds its formulas and checks the first depths (``ahead``:
        already started, else started here; closed here either way)."""
        twin = self.enc.bitvector_twin(max_depth)
        if not self.enc.unbounded:
            self.say("bmc: breadth-first layers of the explicit engine (beside the first depths)")
            if ahead is None:
                ahead = LayersAhead(self.system, timeout=self.left())
        self.say(f"bmc: unrolling up to depth {max_depth}")
        try:
            return bmc(twin, bad_formula(twin, self.prop), max_depth, self.left(),
                       progress=self.progress, later=None if self.enc.unbounded else ahead,
                       workers=self.workers)
        finally:
            if ahead is not None:
                ahead.close()

    def shortest(self, max_depth: int, how: str) -> ProofResult:
        b = self.bv_bmc(max_depth)
        if b.status == "found":
            return self.violated(b.commands, b.states, how)
        return self.done("undetermined", note=f"{how}, but BMC found no trace within {max_depth} "
                                              f"steps ({b.reason or b.status})")


def prove(system: System, prop: SafetyProperty, engine: str = "spacer", unbounded: bool = False,
          depth: int | None = None, timeout: float | None = None,
          lift_budgets: bool = False, graph=None, seed: bool = True,
          progress: Callable[[str], None] | None = None, search: bool = True,
          workers: int = 1) -> ProofResult:
    """Decide one safety property of a system with z3.

    ``engine``: ``spacer`` (proof with invariant, or counterexample), ``bmc`` (counterexamples
    up to ``depth`` steps; never ``holds``), ``kind`` (k-induction up to ``depth``; a CTI when it
    does not close).  ``unbounded`` lifts the caps of ``unbounded_ok`` fields, ``lift_budgets``
    also the retransmission budgets (see :mod:`.encode`).  ``graph`` (an explored graph of the
    same system) lets k-induction classify a CTI without another z3 query.  ``seed=False`` runs
    Spacer without the Houdini lemmas of :mod:`.lemmas` (its own invariant only; slower);
    ``search=False`` stops Spacer before its own search: ``holds`` only when no state is bad or
    Houdini lemmas this process already has imply the property, else ``undetermined``.
    ``workers``: with 2 or more, Houdini (Spacer with seeds) runs on two cores, a forked
    partner with another z3 seed sharing refutations (:mod:`.portfolio`; the same lemmas), and
    BMC splits its depths by parity between two forked processes (:mod:`.parity`; a shortest
    trace as well, possibly another one than on one core).
    ``progress``, when given, is called with a short text each time the phase changes or a
    round or depth finishes (``"houdini round 3: 212 candidates left"``, ``"bmc depth 14"``);
    it is a side channel only: the result does not depend on it.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")
    require_safety(prop, system)
    ahead = None
    if engine == "bmc" and not (unbounded or lift_budgets):
        # forked before the encoding is built, so that the layers are ready at LATER_FROM
        # (allow-clear-grace S-2 waited 0.7 s for them when they started after it)
        ahead = LayersAhead(system, timeout=timeout)
    try:
        run = _Run(system, prop, engine, unbounded, lift_budgets, timeout, progress)
    except BaseException:
        if ahead is not None:
            ahead.close()
        raise
    run.workers = workers
    k = DEFAULT_DEPTH[engine] if depth is None else depth
    if engine == "bmc":
        return _bmc(run, k, ahead)
    if engine == "kind":
        return _kind(run, k, graph)
    return _spacer(run, seed, search, workers)


def _bmc(run: _Run, k: int, ahead: LayersAhead | None = None) -> ProofResult:
    b = run.bv_bmc(k, ahead)
    if b.status == "found":
        return run.violated(b.commands, b.states, f"bmc depth {b.depth}")
    if b.status == "none":
        return run.done("undetermined", note=f"no counterexample within {k} steps (BMC proves "
                                             f"nothing beyond its depth)")
    return run.done("undetermined", note=b.reason)


def _kind(run: _Run, k: int, graph) -> ProofResult:
    # bounded: bit-vectors (every state of the step case is inside the domains, so nothing
    # wraps); unbounded: integers (a lifted counter of an arbitrary CTI state could wrap).
    # The proved claim is "no bad state and no domain overflow", so that "holds" also says
    # the explicit search is not truncated.
    enc = run.enc
    kenc = enc if enc.unbounded else enc.bitvector_twin(k)
    kbad = run.bad if kenc is enc else bad_formula(kenc, run.prop)
    out = kinduction(kenc, lambda s: z3.Or(kbad(s), kenc.leaks(s)), k, run.left(),
                     progress=run.progress)
    if out.status == "found":
        if is_bad(run.system, run.prop, out.states[-1]):
            return run.violated(out.commands, out.states, f"k-induction base case at depth {out.k}")
        return run.done("undetermined", note=f"k-induction base case: {overflow_note(enc)} "
                                             f"(depth {out.k})")
    if out.status == "proved":
        return run.done("holds", note=f"{out.k}-inductive (simple-path constraint), no overflow")
    cti = [enc.describe(s) for s in out.states] or None
    if out.status == "unknown":
        return run.done("undetermined", cti=cti, note=out.reason)
    kind_, how = classify(enc, out.states[0], graph, run.left(), progress=run.progress)
    if kind_ == "real":
        return run.shortest(max(DEFAULT_DEPTH["bmc"], 2 * out.k + 20),
                            f"counterexample to {out.k}-induction is real ({how})")
    return run.done("undetermined", cti=cti,
                    note=f"not {out.k}-inductive; the counterexample to induction is {kind_} "
                         f"({how}): a stronger invariant is needed (try --engine spacer)")


def _spacer(run: _Run, use_seed: bool, search: bool = True, workers: int = 1) -> ProofResult:
    # Always asked with the unbounded_ok caps lifted (bounded reachable states are a subset of
    # those, so a proof there is a proof of the bounded model, and it is much cheaper than
    # proving the channel caps); the bounded model is consulted only for a counterexample.
    enc, system = run.enc, run.system
    enc_u = enc if enc.unbounded else Encoding(system, unbounded=True)
    bad_u = run.bad if enc_u is enc else bad_formula(enc_u, run.prop)
    how = "" if enc.unbounded else " (proved with the unbounded_ok caps lifted, so it also " \
                                   "holds beyond the scenario's channel capacity)"
    # No state inside the domains is bad and no step leaves them: every reachable state is in
    # the domains, so none is bad (no lemma needed; S-1 on fig7-both-capable: 0.6 s, not 25 s).
    run.say(f"domains: is any state inside the domains bad for {run.prop.id}?")
    if _no_bad_state(enc_u, bad_u) and overflow_free(system, [], unbounded=True):
        return run.done("holds", invariant=f"not bad({run.prop.id}) for every state inside the domains",
                        note=f"no state inside the domains is bad and no step leaves them{how}")
    # Houdini lemmas mined from the explicit graph and checked inductive by z3 (.lemmas): first
    # the few a property needs (.cone), then Houdini over the ``lean`` candidates (on
    # fig7-both-capable they imply or seed every safety property in a third of the time of
    # ``core``), then, only if Spacer seeded with those gives no answer within LEAN_SPACER s,
    # over the ``core`` candidates; not with lifted budgets, whose reachable states the bounded
    # graph does not represent.
    seeded = not enc.lift_budgets and use_seed
    seed, tier = None, ""
    if seeded:
        for tier in ("core", "lean"):
            seed = strengthening(system, unbounded=True, tier=tier, cached_only=True)
            if seed is not None:
                break
    # the quick answer without lemmas at hand: a bad state in the graph this process explored
    # settles it before any lemma search (a trigger reached: fig7-both-capable S-13/trigger,
    # 3 s of cone search); looked for once
    witness_first = seeded and seed is None and not search
    if witness_first:
        witness = _explored_witness(run)
        if witness is not None:
            return witness
    if seeded and seed is None:
        tier = seed_tier(system, run.left(), run.progress, cached_only=not search) or "core"
        # a property that reads few fields first tries Houdini over the candidates about them
        # (fig7-both-capable S-13: 3 s where full Houdini takes 8-15 s), before the partner's
        # solver is built (a second of the parent's time, wasted when this answers)
        proof = _field_cone_proof(run, enc_u, bad_u, how, tier) if search else None
        if proof is not None:
            return proof
        # with a second core, a forked partner starts Houdini while this process looks for
        # the property's cone (.portfolio); both keep sharing refutations in the full pass
        shared = _partner(run, tier, search and workers > 1)
        try:
            proof = _cone_proof(run, enc_u, bad_u, how, mine=search, tier=tier)
            if proof is not None:
                return proof
            if search:
                seed = strengthening(system, unbounded=True, timeout=run.left(), progress=run.progress,
                                     tier=tier)
                if seed is None:
                    run.tried.append(f"Houdini over the {tier} candidates did not finish")
        finally:
            if shared is not None:
                shared.stop_partner()
    blocked = False     # the blocking stage is tried once, with the first overflow-free seed
    while True:
        if seed is not None and seed.overflow_free:
            proof = _by_lemmas(run, seed, enc_u, bad_u, how)
            if proof is not None:
                return proof
            if search and not blocked:
                blocked = True
                # the whole budget at once unless Spacer with the lean lemmas comes between
                proof = _blocking_proof(run, seed, enc_u, bad_u, how, whole=tier != "lean")
                if proof is not None:
                    return proof
        elif seed is not None:
            run.tried.append(f"{len(seed.lemmas)} Houdini lemmas, but a step from them can leave the domains")
        if not search:
            witness = None if witness_first else _explored_witness(run)
            if witness is not None:
                return witness
            return run.done("undetermined", note="the Houdini lemmas do not imply it (no Spacer search)")
        if run.deadline is not None and time.perf_counter() >= run.deadline:
            # building Spacer's Horn clauses takes seconds and does not watch the clock
            return run.undetermined("the time limit was reached before Spacer")
        # an overflow-free seed already excludes every overflow: no need to ask Spacer again
        background = seed.formula if seed is not None else None
        told = run.told("" if seed is None else f" (seeded with {len(seed.lemmas)} Houdini lemmas)")
        fallback = seed is not None and tier == "lean"
        budget = run.left()
        if fallback:
            budget = LEAN_SPACER if budget is None else min(budget, LEAN_SPACER)
        out = spacer(enc_u, bad_u, budget, overflow=seed is None or not seed.overflow_free,
                     background=background, progress=told)
        if out.status == "unknown" and fallback and (run.left() is None or run.left() > 0.01):
            run.tried.append(f"Spacer seeded with them: no answer within {budget:.0f} s")
            # the rest of the blocking loop's budget, from its cubes so far (large models)
            proof = _blocking_proof(run, seed, enc_u, bad_u, how, resume=True) if search else None
            if proof is not None:
                return proof
            if run.left() is not None and run.left() <= 0.01:
                break
            run.say("spacer: no answer with the lean lemmas; Houdini over the core candidates")
            tier = "core"
            core = strengthening(system, unbounded=True, timeout=run.left(), progress=run.progress,
                                 tier=tier, workers=workers)
            if core is not None:
                seed = core
                continue
            run.tried.append("Houdini over the core candidates did not finish")
        break
    if out.status == "safe":
        inv = out.invariant if seed is None else \
            f"{out.invariant}\n∧ {len(seed.lemmas)} Houdini lemmas (inductive; `ndcheck prove --lemmas`)"
        seeded = "" if seed is None else f", seeded with {len(seed.lemmas)} Houdini lemmas " \
                                         f"({seed.seconds:.2f}s)"
        return run.done("holds", invariant=inv, lemmas=seed.text() if seed is not None else None,
                        note=f"inductive invariant found by spacer in {out.seconds:.2f}s{seeded}{how}")
    if out.status == "unknown":
        return run.undetermined(out.reason)
    if out.reason == "bad":
        if enc_u is enc:
            return run.shortest(out.depth, f"spacer: bad state reachable in {out.depth} steps")
        b = run.bv_bmc(out.depth)
        if b.status == "found":
            return run.violated(b.commands, b.states,
                                f"bad state reachable in {b.depth} steps (spacer, bmc)")
    # Either a non-liftable field overflows, or the unbounded counterexample needs more copies
    # in flight than the scenario allows: decide the bounded model itself.
    again = spacer(enc, run.bad, run.left(), overflow=False, background=background,
                   progress=run.told(" (bounded model)"))
    if again.status == "unsafe":
        return run.shortest(again.depth, f"spacer: bad state reachable in {again.depth} steps")
    why = overflow_note(enc)
    if again.status == "safe":
        return run.done("undetermined", invariant=again.invariant,
                        note=f"holds while every field stays in its domain, but {why}")
    return run.done("undetermined", note=f"{why}; {again.reason}")


def _partner(run: _Run, tier: str, wanted: bool):
    """The Houdini search of ``tier`` with a :mod:`.portfolio` partner started (None: not
    wanted, no candidates, or no second core)."""
    if not wanted:
        return None
    pool = candidates(run.system, tier, timeout=run.left(), progress=run.progress)
    if pool is None:
        return None
    found = search_for(run.system, pool, True, tier)
    found.deadline = run.deadline
    if not found.start_partner():
        return None
    run.say("houdini: a partner process runs Houdini on the second core")
    return found


def _cone_proof(run: _Run, enc_u: Encoding, bad_u, how: str, mine: bool,
                tier: str = "lean", budget: float | None = None) -> ProofResult | None:
    """``holds`` when a small set ``U`` of mined candidates, overflow-free, makes ``U ∧ ¬bad``
    inductive (:func:`.cone.cone_lemmas`); None otherwise (``mine=False``: only with
    candidates this process has already mined)."""
    t0 = time.perf_counter()
    system = run.system
    pool = candidates(system, tier, timeout=run.left(), progress=run.progress,
                      cached_only=not mine)
    if pool is None:
        return None
    run.say(f"houdini cone: which of the {len(pool.lemmas)} candidates does {run.prop.id} need?")
    got = cone_lemmas(system, pool, bad_u, unbounded=True, tier=tier, deadline=run.deadline,
                      progress=run.progress, budget=budget)
    if got is None:
        run.say("houdini cone: no small inductive set found" + (f"; Houdini over the {tier} candidates" if mine else ""))
        run.tried.append(f"no small set of the {len(pool.lemmas)} candidates makes {run.prop.id} inductive")
        return None
    kept, checks = got
    if not overflow_free(system, kept, unbounded=True):
        return None
    seed = Strengthening(system, kept, True, len(pool.lemmas), checks, True, time.perf_counter() - t0)
    q = enc_u.state("q")
    used = seed.implies(enc_u, {run.prop.id: bad_u(q)}, q, timeout=run.left()).get(run.prop.id) \
        if kept else None
    where = (f"property-directed Houdini over {len(pool.lemmas)} candidates mined from the "
             f"explicit graph, {checks} z3 checks, {seed.seconds:.2f}s")
    if used is not None:
        head = (f"the conjunction of {len(kept)} lemmas (inductive by themselves: checked by z3); "
                f"the property follows from these {len(used)}:")
        note = f"implied by {len(kept)} inductive lemmas ({where}){how}"
    else:
        head = (f"not bad({run.prop.id}) ∧ the conjunction of {len(kept)} lemmas (inductive "
                f"together, true initially: checked by z3):")
        note = (f"not bad({run.prop.id}) is inductive together with {len(kept)} lemmas "
                f"({where}){how}")
    return run.done("holds", invariant="\n".join([head] + [f"  {t}" for t in seed.text(used)]),
                    lemmas=seed.text(), note=note)


def _field_cone_proof(run: _Run, enc_u: Encoding, bad_u, how: str, tier: str) -> ProofResult | None:
    """``holds`` when Houdini over the candidates about the property's field cone
    (:func:`.cone.field_cone_lemmas`, within its time budget) gives
    overflow-free lemmas that imply the property or make it inductive relative to them; None
    otherwise (also when the cone is too large to be worth it)."""
    t0 = time.perf_counter()
    system, pid = run.system, run.prop.id
    pool = candidates(system, tier, timeout=run.left(), progress=run.progress)
    if pool is None:
        return None
    names = property_fields(system, run.prop)
    got = field_cone_lemmas(system, pool, names, unbounded=True, deadline=run.deadline,
                            progress=run.told(f" (the field cone of {pid})"))
    if got is None:
        return None
    kept, rounds, n_cands, n_fields = got
    seed = Strengthening(system, kept, True, n_cands, rounds, overflow_free(system, kept, unbounded=True),
                         time.perf_counter() - t0)
    if not seed.overflow_free:
        return None
    return _by_lemmas(run, seed, enc_u, bad_u, how, stage="houdini field cone",
                      scope=f"the candidates about the {n_fields} fields {pid} depends on in one step, ")


def _by_lemmas(run: _Run, seed: Strengthening, enc_u: Encoding, bad_u, how: str,
               stage: str = "spacer", scope: str = "") -> ProofResult | None:
    """``holds`` when the overflow-free lemmas ``seed`` imply the property, or when the
    property is inductive relative to them (then ``H ∧ ¬bad`` is an inductive invariant and
    Spacer is not needed: fig7-both-capable S-11, S-14); None otherwise.  ``stage`` and
    ``scope`` say where the lemmas came from (progress, note)."""
    pid, n = run.prop.id, len(seed.lemmas)
    run.say(f"{stage}: do the {n} Houdini lemmas imply {pid}?")
    q = enc_u.state("q")
    used = seed.implies(enc_u, {pid: bad_u(q)}, q, timeout=run.left()).get(pid)
    if used is not None:
        run.say(f"{stage}: {pid} follows from {len(used)} of the {n} lemmas")
        return run.done("holds", **lemma_proof(seed, used, how, scope=scope))
    run.say(f"{stage}: is {pid} inductive relative to the {n} lemmas?")
    used = seed.relatively_inductive(enc_u, bad_u, timeout=run.left())
    if used is not None:
        run.say(f"{stage}: {pid} is inductive relative to {len(used)} of the lemmas")
        return run.done("holds", **lemma_proof(seed, used, how, relative=pid, scope=scope))
    run.tried.append(f"{n} Houdini lemmas (of {scope}{seed.candidates} candidates) neither imply {pid} "
                     f"nor make it inductive")
    return None


def _blocking_proof(run: _Run, seed: Strengthening, enc_u: Encoding, bad_u, how: str,
                    resume: bool = False, whole: bool = False) -> ProofResult | None:
    """``holds`` when cubes that no explored state matches, with the overflow-free lemmas
    ``seed``, make the property inductive (:mod:`.blocking`); None otherwise, or when the
    explored graph is missing or larger than the stage's :data:`.blocking.MAX_STATES`.

    The first pass has :data:`.blocking.BUDGET` seconds (``whole``: all of
    :func:`.blocking.budget_for` the states); ``resume``: a pass stopped by that budget goes on
    from its cubes for the rest.  A counterexample to induction from an explored state: BMC
    looks for the counterexample (``violated``, replayed; nat-boundary T-2, depth 18)."""
    pid = run.prop.id
    if resume:
        if run.blocking is None:
            return None
        states, before, spent, checks = run.blocking
        n, start = states.cols.shape[1], before.cubes
        budget = budget_for(n) - spent
        if budget < 1.0:
            return None
        run.say(f"blocking: resumed with its {len(start)} cubes, {budget:.0f} s more")
    else:
        graph = explored(run.system)
        if graph is None or graph.n_states > BLOCK_MAX_STATES:
            return None
        from ..columns import Columns

        n, start, spent, checks = graph.n_states, [], 0.0, 0
        budget = budget_for(n) if whole else BLOCK_BUDGET
        run.say(f"blocking: cubes that none of the {n} explored states matches, with the "
                f"{len(seed.lemmas)} Houdini lemmas")
        cols = Columns(graph)
        states = Explored(run.system, [cols.column(f.name) for f in run.system.fields])
    if run.left() is not None:
        budget = min(budget, run.left())
    got = block(enc_u, seed.formula, bad_u, states, budget, progress=run.progress, start=start)
    spent += got.seconds
    checks += got.checks
    if got.why == FROM_EXPLORED:
        run.say("blocking: a counterexample to induction from an explored state; bmc")
        b = run.bv_bmc(DEFAULT_DEPTH["bmc"])
        if b.status == "found":
            return run.violated(b.commands, b.states, f"bad state reachable in {b.depth} steps "
                                                      f"(blocking: {got.why}; bmc)")
    if not got.closed:
        run.blocking = (states, got, spent, checks) if got.why.startswith("not closed within") else None
        # one entry for the loop, however many passes
        run.tried = [t for t in run.tried if not t.startswith("blocking against the ")]
        run.tried.append(f"blocking against the {n} explored states: {got.why}"
                         + (f", {spent:.0f} s in all" if resume else ""))
        return None
    k = len(got.cubes)
    run.say(f"blocking: not bad({pid}) is inductive with {k} cubes")
    head = (f"not bad({pid}) ∧ the conjunction of {len(seed.lemmas)} lemmas ∧ {k} cubes excluded "
            f"(inductive together, true initially: checked by z3); the cubes:")
    texts = [c.text(run.system) for c in got.cubes]
    shown = [f"  {t}" for t in texts[:SHOWN_CUBES]]
    if k > SHOWN_CUBES:
        shown.append(f"  … and {k - SHOWN_CUBES} more (all of them with --lemmas, and in JSON's lemmas)")
    again = ", resumed after Spacer" if resume else ""
    note = (f"not bad({pid}) is inductive together with {len(seed.lemmas)} Houdini lemmas and {k} "
            f"cubes none of the {n} explored states matches (blocking: {checks} z3 checks, "
            f"{spent:.2f}s{again}){how}")
    return run.done("holds", invariant="\n".join([head] + shown), lemmas=seed.text() + texts, cubes=k,
                    note=note)


def _explored_witness(run: _Run) -> ProofResult | None:
    """``violated`` when the bounded graph Houdini explored in this process has a bad state
    (``always`` properties): its breadth-first path, re-executed in the IR like every z3
    counterexample.  A bounded path is a path of the unbounded model too.  Used for the quick
    answer only (``search=False``, the vacuity question "is the trigger reachable?"), where it
    replaces a BMC run (fig7-both-capable S-2/trigger: 2-3 s)."""
    graph = explored(run.system)
    if graph is None or run.prop.kind != "always" or run.enc.lift_budgets:
        return None
    from ..pyexpr import compile_predicate

    assert run.prop.state is not None
    ok = compile_predicate(run.system, run.prop.state(run.system))
    for sid, state in enumerate(graph.states):
        if not ok(state):
            path = graph.path_to(sid)
            states = [graph.state(0)] + [graph.state(v) for _, v in path]
            return run.violated([c for c, _ in path], states, "bad state in the explored graph")
    return None


def _no_bad_state(enc: Encoding, bad) -> bool:
    """``domain(q) ∧ bad(q)`` is unsat."""
    q = enc.state("nb")
    sol = z3.SolverFor("QF_BV" if enc.bits else "QF_LIA")
    sol.add(enc.domain(q), bad(q))
    return sol.check() == z3.unsat


def lemma_proof(seed: Strengthening, used: list[int], how: str = "", relative: str = "",
                scope: str = "") -> dict:
    """The invariant, lemmas and note of a proof by the Houdini lemmas (``relative``: the
    property's own negated bad states are inductive relative to them, and the invariant is
    their conjunction with it; ``scope``: which candidates Houdini was given, when not all)."""
    mined = (f"{len(seed.lemmas)} inductive lemmas (Houdini over {scope}{seed.candidates} candidates "
             f"mined from the explicit graph, {seed.rounds} z3 rounds, {seed.seconds:.2f}s)")
    if relative:
        head = (f"not bad({relative}) ∧ the conjunction of {len(seed.lemmas)} lemmas (inductive "
                f"by themselves; not bad({relative}) is inductive relative to these {len(used)}):")
        note = f"inductive relative to {mined}; no initial state is bad"
    else:
        head = (f"the conjunction of {len(seed.lemmas)} lemmas (inductive: checked by z3); "
                f"the property follows from these {len(used)}:")
        note = f"implied by {mined}"
    return {"invariant": "\n".join([head] + [f"  {t}" for t in seed.text(used)]),
            "lemmas": seed.text(), "note": note + how}


def overflow_note(enc: Encoding) -> str:
    lifted = "unbounded mode lifts only unbounded_ok fields" if enc.unbounded else \
        "the explicit search would be truncated"
    return f"a field can leave its bounded domain (counter overflow; {lifted})"
