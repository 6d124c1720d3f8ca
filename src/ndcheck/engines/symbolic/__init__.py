"""The z3 engine: bounded counterexamples and unbounded proofs from the same System IR.

Modules, one idea each: :mod:`.encode` (the transition relation generated from the IR; bounded
and unbounded modes), :mod:`.bmc` (shortest counterexamples), :mod:`.kind` (k-induction and
counterexamples to induction), :mod:`.spacer` (CHC proofs with a printed inductive invariant),
:mod:`.lemmas` (Houdini: candidate invariants mined from the explicit graph, kept when z3 proves
them inductive), :mod:`.certificate` (the explored state set, checked closed by z3).

* :func:`prove` — one safety property, one engine, bounded or unbounded; the verdict with a
  replayed trace, an invariant (Spacer seeded with the Houdini lemmas, or the lemmas alone) or a
  decoded CTI.
* :func:`check_safeties` / :func:`check_safety` — the bounded verdicts used by ``ndcheck check
  --engine z3|both``: ``holds`` when the z3-checked certificate (or an inductive invariant)
  excludes the bad states, ``violated`` with a shortest BMC trace replayed through the model
  and the python-statemachine instances.

Every counterexample is replayed with :func:`ndcheck.properties.trace.trace_from_commands`
(in the system rebuilt with the counterexample's budgets when budgets are lifted) and its last
state (``always``) or last step (``never_action``) is checked against the property's own IR.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import z3

from ...model.ir import System
from .bmc import bmc
from .certificate import Certificate, certify
from .encode import Encoding, params_of, system_for_params
from .kind import classify, kinduction
from .lemmas import Strengthening, strengthening
from .spacer import spacer

ENGINES = ("spacer", "bmc", "kind")
DEFAULT_DEPTH = {"bmc": 40, "kind": 12, "spacer": 0}

__all__ = ["ENGINES", "Encoding", "ProofResult", "check_safeties", "check_safety", "params_of", "prove"]


@dataclass(frozen=True, slots=True)
class ProofResult:
    """The outcome of one z3 run.

    ``verdict``: ``holds`` / ``violated`` / ``undetermined``; ``trace``: the replayed
    counterexample (:class:`~ndcheck.properties.trace.Trace`); ``invariant``: Spacer's inductive
    invariant in field names; ``cti``: k-induction's counterexample to induction as a list of
    ``{field: label}`` states; ``note``: how the verdict was reached (or why it is undetermined).
    """

    verdict: str
    engine: str
    property: str = ""
    scenario: str = ""
    unbounded: bool = False
    trace: object | None = None
    invariant: str | None = None
    cti: list[dict[str, str]] | None = None
    seconds: float = 0.0
    note: str = ""
    params: dict[str, int] = field(default_factory=dict)
    lemmas: list[str] | None = None   # the Houdini invariant the proof used (field names)

    def to_json(self) -> dict:
        return {"scenario": self.scenario, "property": self.property, "engine": self.engine,
                "unbounded": self.unbounded, "verdict": self.verdict,
                "seconds": round(self.seconds, 3), "note": self.note,
                "invariant": self.invariant, "lemmas": self.lemmas, "cti": self.cti,
                "params": self.params or None,
                "trace": self.trace.to_json() if self.trace is not None else None}


# --------------------------------------------------------------------------------------------
# Properties as bad-state formulas
# --------------------------------------------------------------------------------------------


def _resolve(prop):
    if isinstance(prop, str):
        from ...properties.catalog import get_property
        return get_property(prop)
    return prop


def bad_formula(enc: Encoding, prop) -> Callable[[Sequence[z3.ArithRef]], z3.BoolRef]:
    """``bad(s)`` for a safety property: ``¬state`` (always) or a selected command can fire."""
    system = enc.system
    if prop.kind == "always":
        e = prop.state(system)
        tmpl = enc.template(("bad", prop.id), lambda p: z3.Not(enc.formula(e, p)))
        return lambda s: enc.at(tmpl, s)
    if prop.kind == "never_action":
        firings = [(system.commands[i], cond) for i, cond in prop.firings(system)]

        def build(p):
            alts = [z3.And(enc.formula(cond, p), enc.post_domain(c, p)) for c, cond in firings]
            return z3.Or(alts) if alts else z3.BoolVal(False)
        tmpl = enc.template(("bad", prop.id), build)
        return lambda s: enc.at(tmpl, s)
    raise ValueError(f"{prop.id} is a {prop.kind} property; the z3 engine proves safety "
                     f"properties (always, never_action) — use `ndcheck check` for it")


def _firing(enc: Encoding, prop, state: tuple[int, ...]) -> int:
    """The first selected command whose firing condition holds in a (decoded) state."""
    system = enc.system
    n = len(system.fields)
    for i, cond in prop.firings(system):
        if system.eval(cond, state[:n]) and system.step(system.commands[i], state[:n]) is not None:
            return i
    raise AssertionError(f"{prop.id}: no selected command fires in the counterexample's last state")


def _replay(enc: Encoding, prop, commands: Sequence[int], states) -> tuple[object, dict[str, int]]:
    """Replay a decoded counterexample (in the system with its parameter values) and check it."""
    from ...properties.trace import ReplayError, trace_from_commands

    system = enc.system
    n = len(system.fields)
    cmds = list(commands)
    if prop.kind == "never_action":
        cmds.append(_firing(enc, prop, states[-1]))
    values = dict(zip(enc.params, states[0][n:])) if enc.params else {}
    target = system
    if values:
        target = system_for_params(system, values)
        names = {c.name: i for i, c in enumerate(target.commands)}
        cmds = [names[system.commands[i].name] for i in cmds]
    trace = trace_from_commands(target, cmds, prop.id, "counterexample")
    last = trace.states[-1 if prop.kind == "always" else -2]
    if prop.kind == "always" and target.eval(prop.state(target), last):
        raise ReplayError(f"{prop.id}: the z3 counterexample's last state satisfies the property")
    return trace, values


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def _system(target) -> System:
    if isinstance(target, System):
        return target
    from ...model.compose import build_system
    from ...model.scenario import Scenario, get_scenario
    if isinstance(target, str):
        target = get_scenario(target)
    if isinstance(target, Scenario):
        return build_system(target)
    raise TypeError(f"prove() takes a scenario name, Scenario or System, not {type(target).__name__}")


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.001, deadline - time.perf_counter())


def prove(target, property, engine: str = "spacer", unbounded: bool = False,
          depth: int | None = None, timeout: float | None = None,
          lift_budgets: bool = False, graph=None, seed: bool = True) -> ProofResult:
    """Decide one safety property of a scenario with z3.

    ``engine``: ``spacer`` (proof with invariant, or counterexample), ``bmc`` (counterexamples
    up to ``depth`` steps; never ``holds``), ``kind`` (k-induction up to ``depth``; a CTI when it
    does not close).  ``unbounded`` lifts the caps of ``unbounded_ok`` fields, ``lift_budgets``
    also the retransmission budgets (see :mod:`.encode`).  ``graph`` (an explored graph of the
    same system) lets k-induction classify a CTI without another z3 query.  ``seed=False`` runs
    Spacer without the Houdini lemmas of :mod:`.lemmas` (its own invariant only; slower).

    >>> r = prove("fig8-silent-peer", "S-3", engine="spacer", unbounded=True)
    >>> r.verdict
    'holds'
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")
    t0 = time.perf_counter()
    deadline = None if timeout is None else t0 + timeout
    system = _system(target)
    prop = _resolve(property)
    if not prop.safety:
        raise ValueError(f"{prop.id} is a {prop.kind} property; the z3 engine proves safety "
                         f"properties (always, never_action) — use `ndcheck check` for it")
    if not prop.applies(system):
        raise ValueError(f"property {prop.id} ({prop.name}) does not apply to scenario {system.name!r}")
    enc = Encoding(system, unbounded=unbounded or lift_budgets, lift_budgets=lift_budgets)
    bad = bad_formula(enc, prop)
    k = DEFAULT_DEPTH[engine] if depth is None else depth
    base = {"engine": engine, "property": prop.id, "scenario": system.name,
            "unbounded": enc.unbounded}

    def done(verdict: str, **kw) -> ProofResult:
        return ProofResult(verdict, seconds=time.perf_counter() - t0, **base, **kw)

    def violated(commands, states, how: str) -> ProofResult:
        trace, values = _replay(enc, prop, commands, states)
        extra = f" with {', '.join(f'{p} = {v}' for p, v in values.items())}" if values else ""
        return done("violated", trace=trace, params=values,
                    note=f"{how}: counterexample of {len(trace.steps)} steps{extra}, replayed")

    def bv_bmc(max_depth: int):
        twin = enc.bitvector_twin(max_depth)
        return bmc(twin, bad_formula(twin, prop), max_depth, _left(deadline))

    def shortest(max_depth: int, how: str) -> ProofResult:
        b = bv_bmc(max_depth)
        if b.status == "found":
            return violated(b.commands, b.states, how)
        return done("undetermined", note=f"{how}, but BMC found no trace within {max_depth} "
                                         f"steps ({b.reason or b.status})")

    if engine == "bmc":
        b = bv_bmc(k)
        if b.status == "found":
            return violated(b.commands, b.states, f"bmc depth {b.depth}")
        if b.status == "none":
            return done("undetermined", note=f"no counterexample within {k} steps (BMC proves nothing "
                                             f"beyond its depth)")
        return done("undetermined", note=b.reason)

    if engine == "kind":
        # bounded: bit-vectors (every state of the step case is inside the domains, so nothing
        # wraps); unbounded: integers (a lifted counter of an arbitrary CTI state could wrap).
        # The proved claim is "no bad state and no domain overflow", so that "holds" also says
        # the explicit search is not truncated.
        kenc = enc if enc.unbounded else enc.bitvector_twin(k)
        kbad = bad if kenc is enc else bad_formula(kenc, prop)
        out = kinduction(kenc, lambda s: z3.Or(kbad(s), kenc.leaks(s)), k, _left(deadline))
        if out.status == "found":
            last = out.states[-1][:len(system.fields)]
            if prop.kind == "always" and not system.eval(prop.state(system), last) or \
                    prop.kind == "never_action" and any(
                        system.eval(cond, last) and system.step(system.commands[i], last) is not None
                        for i, cond in prop.firings(system)):
                return violated(out.commands, out.states, f"k-induction base case at depth {out.k}")
            return done("undetermined", note=f"k-induction base case: {_overflow_note(enc)} "
                                             f"(depth {out.k})")
        if out.status == "proved":
            return done("holds", note=f"{out.k}-inductive (simple-path constraint), no overflow")
        cti = [enc.describe(s) for s in out.states] or None
        if out.status == "unknown":
            return done("undetermined", cti=cti, note=out.reason)
        kind_, how = classify(enc, out.states[0], graph, _left(deadline))
        if kind_ == "real":
            return shortest(max(DEFAULT_DEPTH["bmc"], 2 * out.k + 20),
                            f"counterexample to {out.k}-induction is real ({how})")
        return done("undetermined", cti=cti,
                    note=f"not {out.k}-inductive; the counterexample to induction is {kind_} "
                         f"({how}): a stronger invariant is needed (try --engine spacer)")

    # spacer: always asked with the unbounded_ok caps lifted (bounded reachable states are a
    # subset of those, so a proof there is a proof of the bounded model, and it is much cheaper
    # than proving the channel caps); the bounded model is consulted only for a counterexample.
    enc_u = enc if enc.unbounded else Encoding(system, unbounded=True)
    bad_u = bad if enc_u is enc else bad_formula(enc_u, prop)
    how = "" if enc.unbounded else " (proved with the unbounded_ok caps lifted, so it also " \
                                   "holds beyond the scenario's channel capacity)"
    # Houdini lemmas mined from the explicit graph and checked inductive by z3 (.lemmas); not
    # with lifted budgets, whose reachable states the bounded graph does not represent.
    seed = None if enc.lift_budgets or not seed else \
        strengthening(system, unbounded=True, timeout=_left(deadline))
    if seed is not None and seed.overflow_free:
        q = enc_u.state("q")
        used = seed.implies(enc_u, {prop.id: bad_u(q)}, q).get(prop.id)
        if used is not None:
            return done("holds", **_lemma_proof(seed, used, how))
    # an overflow-free seed already excludes every overflow: no need to ask Spacer again
    out = spacer(enc_u, bad_u, _left(deadline), overflow=seed is None or not seed.overflow_free,
                 background=seed.formula if seed is not None else None)
    if out.status == "safe":
        inv = out.invariant if seed is None else \
            f"{out.invariant}\n∧ {len(seed.lemmas)} Houdini lemmas (inductive; `ndcheck prove --lemmas`)"
        seeded = "" if seed is None else f", seeded with {len(seed.lemmas)} Houdini lemmas " \
                                         f"({seed.seconds:.2f}s)"
        return done("holds", invariant=inv, lemmas=seed.text() if seed is not None else None,
                    note=f"inductive invariant found by spacer in {out.seconds:.2f}s{seeded}{how}")
    if out.status == "unknown":
        return done("undetermined", note=out.reason)
    if out.reason == "bad":
        if enc_u is enc:
            return shortest(out.depth, f"spacer: bad state reachable in {out.depth} steps")
        b = bv_bmc(out.depth)
        if b.status == "found":
            return violated(b.commands, b.states, f"bad state reachable in {b.depth} steps (spacer, bmc)")
    # Either a non-liftable field overflows, or the unbounded counterexample needs more copies
    # in flight than the scenario allows: decide the bounded model itself.
    again = spacer(enc, bad, _left(deadline), overflow=False,
                   background=seed.formula if seed is not None else None)
    if again.status == "unsafe":
        return shortest(again.depth, f"spacer: bad state reachable in {again.depth} steps")
    why = _overflow_note(enc)
    if again.status == "safe":
        return done("undetermined", invariant=again.invariant,
                    note=f"holds while every field stays in its domain, but {why}")
    return done("undetermined", note=f"{why}; {again.reason}")


def _lemma_proof(seed: Strengthening, used: list[int], how: str = "") -> dict:
    """The invariant, lemmas and note of a proof by the Houdini lemmas alone."""
    head = (f"the conjunction of {len(seed.lemmas)} lemmas (inductive: checked by z3); "
            f"the property follows from these {len(used)}:")
    return {"invariant": "\n".join([head] + [f"  {t}" for t in seed.text(used)]),
            "lemmas": seed.text(),
            "note": f"implied by {len(seed.lemmas)} inductive lemmas (Houdini over "
                    f"{seed.candidates} candidates mined from the explicit graph, "
                    f"{seed.rounds} z3 rounds, {seed.seconds:.2f}s){how}"}


def _overflow_note(enc: Encoding) -> str:
    lifted = "unbounded mode lifts only unbounded_ok fields" if enc.unbounded else \
        "the explicit search would be truncated"
    return f"a field can leave its bounded domain (counter overflow; {lifted})"


def check_safety(system: System, prop, timeout: float | None = None) -> ProofResult:
    """The bounded z3 verdict of one safety property (``ndcheck check --engine z3|both``);
    see :func:`check_safeties`."""
    return check_safeties(system, [prop], timeout)[0]


def check_safeties(system: System, props=None, timeout: float | None = None,
                   certificate: bool = True) -> list[ProofResult]:
    """The bounded z3 verdicts of safety properties (default: every applicable one).

    **Certificate** (:mod:`.certificate`, the default): the explicit engine's reachable states,
    as a decision diagram ``R``, are checked by z3 to be closed under the transition relation
    (one query per scenario).  Then a property ``holds`` exactly when ``R ∧ bad`` is unsat, and
    otherwise BMC searches for a shortest counterexample (the explorer says every state of ``R``
    is reachable; z3 does not take that on trust), replayed through the model and the
    python-statemachine instances.  Soundness rests on z3 alone: a wrong ``R`` is not closed,
    and a counterexample is replayed.

    **Without a closed certificate** (or ``certificate=False``) the Houdini lemmas of the
    scenario (:mod:`.lemmas`: mined from the explicit graph, proved inductive by z3) are
    computed once; then, per property, in order:

    1. the lemmas alone exclude the bad states (one solver for all properties) — ``holds``;
    2. k-induction up to k = 2 with the lemmas assumed in every state (bit-vectors) — ``holds``;
    3. Spacer seeded with the lemmas, a few seconds — ``holds`` (or a counterexample depth);
    4. BMC to depth 20 with the lemmas assumed — ``violated``;
    5. Spacer seeded with the lemmas, for the rest of the time budget.

    Stages 1, 3 and 5 prove the property with the channel caps lifted (a superset of the
    bounded model's states), stage 2 for the bounded model.  On a catalog scenario (never
    truncated) the verdict equals the explicit engine's — a test checks every pair; on a
    scenario truncated by counter overflow the explicit engine says ``undetermined`` where z3
    may still prove ``holds`` for the bounded model.  ``timeout`` applies to each property; on
    timeout the verdict is ``undetermined``.
    """
    from ...properties.catalog import PROPERTIES

    todo = [_resolve(p) for p in props] if props is not None else \
        [p for p in PROPERTIES if p.safety and p.applies(system)]
    for p in todo:
        if not p.safety:
            raise ValueError(f"{p.id} is a {p.kind} property; the z3 engine proves safety "
                             f"properties (always, never_action) — use `ndcheck check` for it")
        if not p.applies(system):
            raise ValueError(f"property {p.id} ({p.name}) does not apply to scenario {system.name!r}")
    t0 = time.perf_counter()
    if certificate:
        cert = certify(system, timeout=timeout)
        if cert.closed:
            return _by_certificate(system, cert, todo, timeout, time.perf_counter() - t0)
    seed = strengthening(system, unbounded=True, timeout=timeout)
    shared = time.perf_counter() - t0
    implied = _implied(system, seed, todo) if seed else {}
    out = []
    for p in todo:
        t1 = time.perf_counter()
        r = _check_one(system, p, seed, implied.get(p.id), timeout)
        out.append(dataclasses.replace(r, engine="z3", unbounded=False,
                                       seconds=time.perf_counter() - t1 + shared))
    return out


BMC_CERTIFIED_DEPTH = 200   # BMC inside a closed certificate: the bounded model is finite


def _by_certificate(system: System, cert: Certificate, todo, timeout: float | None,
                    shared: float) -> list[ProofResult]:
    # bounded mode keeps every field inside its domain at every step, so the widths that make
    # one step safe from wrapping make any depth safe
    enc = Encoding(system).bitvector_twin(1)
    q = enc.state("q")
    sol = z3.SolverFor("QF_BV")
    sol.add(enc.domain(q), cert.formula(enc, q))
    how = (f"the {cert.states} explored states, checked closed under the z3 transition relation "
           f"(an inductive invariant; {cert.seconds:.2f}s)")
    out = []
    for p in todo:
        t1 = time.perf_counter()
        deadline = None if timeout is None else t1 + timeout
        bad = bad_formula(enc, p)
        lit = z3.Bool(f"bad:{p.id}")
        sol.add(z3.Implies(lit, bad(q)))
        if timeout is not None:
            sol.set(timeout=max(1, int(timeout * 1000)))
        r = sol.check(lit)
        base = {"property": p.id, "scenario": system.name}
        if r == z3.unsat:
            out.append(ProofResult("holds", "z3", **base, seconds=time.perf_counter() - t1 + shared,
                                   note=f"holds in {how}"))
            continue
        # plain BMC: assuming R at every step makes each query heavier (measured 34 s vs 11 s
        # on fig7-lossy L-6), and R ∧ bad being satisfiable already says a trace exists
        b = bmc(enc, bad, BMC_CERTIFIED_DEPTH, _left(deadline)) if r == z3.sat else None
        if b is not None and b.status == "found":
            trace, _ = _replay(Encoding(system), p, b.commands, b.states)
            out.append(ProofResult("violated", "z3", **base, trace=trace,
                                   seconds=time.perf_counter() - t1 + shared,
                                   note=f"a bad state is among {how}; bmc depth {b.depth}: "
                                        f"counterexample of {len(trace.steps)} steps, replayed"))
            continue
        why = (b.reason or f"no counterexample within {b.depth} steps") if b is not None else \
            f"z3: {sol.reason_unknown()}"
        out.append(ProofResult("undetermined", "z3", **base, seconds=time.perf_counter() - t1 + shared,
                               note=why))
    return out


KIND_K_SEEDED = 2        # k-induction relative to the Houdini lemmas, up to this k
SPACER_FIRST = 5.0       # seconds for the first, seeded Spacer attempt
BMC_DEPTH_SEEDED = 20    # BMC depth before the last Spacer attempt (deepest catalog violation: 14)


def _implied(system: System, seed: Strengthening, props) -> dict[str, list[int]]:
    """Properties whose bad states the lemmas exclude, with the lemmas an unsat core used."""
    if not seed.overflow_free:
        return {}
    enc = Encoding(system, unbounded=True)
    q = enc.state("q")
    return seed.implies(enc, {p.id: bad_formula(enc, p)(q) for p in props}, q)


def _check_one(system: System, prop, seed: Strengthening | None, used: list[int] | None,
               timeout: float | None) -> ProofResult:
    t0 = time.perf_counter()
    deadline = None if timeout is None else t0 + timeout

    def done(verdict: str, note: str, **kw) -> ProofResult:
        return ProofResult(verdict, "z3", prop.id, system.name, False,
                           seconds=time.perf_counter() - t0, note=note, **kw)

    if seed is None:
        return prove(system, prop, engine="spacer", timeout=timeout)
    if used is not None:
        return done("holds", **_lemma_proof(seed, used))
    twin = Encoding(system).bitvector_twin(max(KIND_K_SEEDED, BMC_DEPTH_SEEDED))
    bad = bad_formula(twin, prop)
    k = kinduction(twin, bad, KIND_K_SEEDED, _left(deadline), background=seed.formula)
    if k.status == "proved":
        return done("holds", lemmas=seed.text(),
                    note=f"{k.k}-inductive relative to {len(seed.lemmas)} Houdini lemmas "
                         f"(bounded model)")
    first = SPACER_FIRST if deadline is None else min(SPACER_FIRST, _left(deadline))
    r = prove(system, prop, engine="spacer", timeout=first)
    if r.verdict != "undetermined":
        return r
    b = bmc(twin, bad, BMC_DEPTH_SEEDED, _left(deadline), background=seed.formula)
    if b.status == "found":
        trace, _ = _replay(Encoding(system), prop, b.commands, b.states)
        return done("violated", trace=trace,
                    note=f"bmc depth {b.depth} (Houdini lemmas assumed): counterexample of "
                         f"{len(trace.steps)} steps, replayed")
    return prove(system, prop, engine="spacer", timeout=_left(deadline))
