"""The z3 engine: bounded counterexamples and unbounded proofs from the same System IR.

Modules, one idea each: :mod:`.encode` (the transition relation generated from the IR; bounded
and unbounded modes), :mod:`.bmc` (shortest counterexamples), :mod:`.kind` (k-induction and
counterexamples to induction), :mod:`.spacer` (CHC proofs with a printed inductive invariant).

* :func:`prove` — one safety property, one engine, bounded or unbounded; the verdict with a
  replayed trace, an invariant or a decoded CTI.
* :func:`check_safety` — the bounded verdict used by ``ndcheck check --engine z3|both``; it is
  exact: ``holds`` is a Spacer proof over the bounded model (and a proof that no counter
  overflows, i.e. that the explicit search would not be truncated), ``violated`` comes with a
  shortest BMC trace replayed through the model and the python-statemachine instances.

Every counterexample is replayed with :func:`ndcheck.properties.trace.trace_from_commands`
(in the system rebuilt with the counterexample's budgets when budgets are lifted) and its last
state (``always``) or last step (``never_action``) is checked against the property's own IR.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import z3

from ...model.ir import System
from .bmc import bmc
from .encode import Encoding, params_of, system_for_params
from .kind import classify, kinduction
from .spacer import spacer

ENGINES = ("spacer", "bmc", "kind")
DEFAULT_DEPTH = {"bmc": 40, "kind": 12, "spacer": 0}

__all__ = ["ENGINES", "Encoding", "ProofResult", "check_safety", "params_of", "prove"]


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

    def to_json(self) -> dict:
        return {"scenario": self.scenario, "property": self.property, "engine": self.engine,
                "unbounded": self.unbounded, "verdict": self.verdict,
                "seconds": round(self.seconds, 3), "note": self.note,
                "invariant": self.invariant, "cti": self.cti, "params": self.params or None,
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
          lift_budgets: bool = False, graph=None) -> ProofResult:
    """Decide one safety property of a scenario with z3.

    ``engine``: ``spacer`` (proof with invariant, or counterexample), ``bmc`` (counterexamples
    up to ``depth`` steps; never ``holds``), ``kind`` (k-induction up to ``depth``; a CTI when it
    does not close).  ``unbounded`` lifts the caps of ``unbounded_ok`` fields, ``lift_budgets``
    also the retransmission budgets (see :mod:`.encode`).  ``graph`` (an explored graph of the
    same system) lets k-induction classify a CTI without another z3 query.

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
        leak = kenc.template("overflow", lambda p: z3.Or(
            [x for x in (kenc.leaves_domain(c, p) for c in system.commands) if x is not None]
            + [z3.BoolVal(False)]))
        out = kinduction(kenc, lambda s: z3.Or(kbad(s), kenc.at(leak, s)), k, _left(deadline))
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
    out = spacer(enc_u, bad_u, _left(deadline), overflow=True)
    if out.status == "safe":
        how = "" if enc.unbounded else " (proved with the unbounded_ok caps lifted, so it also " \
                                       "holds beyond the scenario's channel capacity)"
        return done("holds", invariant=out.invariant,
                    note=f"inductive invariant found by spacer in {out.seconds:.2f}s{how}")
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
    again = spacer(enc, bad, _left(deadline), overflow=False)
    if again.status == "unsafe":
        return shortest(again.depth, f"spacer: bad state reachable in {again.depth} steps")
    why = _overflow_note(enc)
    if again.status == "safe":
        return done("undetermined", invariant=again.invariant,
                    note=f"holds while every field stays in its domain, but {why}")
    return done("undetermined", note=f"{why}; {again.reason}")


def _overflow_note(enc: Encoding) -> str:
    lifted = "unbounded mode lifts only unbounded_ok fields" if enc.unbounded else \
        "the explicit search would be truncated"
    return f"a field can leave its bounded domain (counter overflow; {lifted})"


def _overflow(enc: Encoding, timeout: float | None) -> str | None:
    """None when no step can take a field out of its domain; else why it is undetermined."""
    key = (id(enc.system), enc.unbounded, enc.lift_budgets)
    hit = _OVF_CACHE.get(key)
    if hit is not None and hit[0] is enc.system:
        return hit[1]
    out = spacer(enc, None, timeout, overflow=True)
    if out.status == "safe":
        res = None
    elif out.status == "unsafe":
        res = _overflow_note(enc)
    else:
        res = f"overflow freedom undetermined ({out.reason})"
    if out.status != "unknown":
        if len(_OVF_CACHE) > 16:
            _OVF_CACHE.clear()
        _OVF_CACHE[key] = (enc.system, res)
    return res


_OVF_CACHE: dict[tuple, tuple[System, str | None]] = {}


def check_safety(system: System, prop, timeout: float | None = None) -> ProofResult:
    """The bounded z3 verdict of one safety property: exactly the explicit engine's verdict.

    Spacer decides reachability of a bad state or of a domain overflow in the bounded model (the
    explicit engine's semantics); a counterexample is rebuilt as a shortest BMC trace and
    replayed.  ``holds`` therefore means: proved by an inductive invariant, and the explicit
    search is not truncated by an overflow.  On timeout the verdict is ``undetermined``.
    """
    t0 = time.perf_counter()
    # A cheap shallow BMC first: most catalog violations are within a dozen steps, and Spacer
    # is slower at finding counterexamples than at proofs.
    budget = 8.0 if timeout is None else min(8.0, timeout / 4)
    r = prove(system, prop, engine="bmc", depth=15, timeout=budget)
    if r.verdict != "violated":
        left = None if timeout is None else max(0.001, timeout - (time.perf_counter() - t0))
        r = prove(system, prop, engine="spacer", unbounded=False, timeout=left)
    return ProofResult(r.verdict, "z3", r.property, r.scenario, False, r.trace, r.invariant,
                       r.cti, time.perf_counter() - t0, r.note, r.params)
