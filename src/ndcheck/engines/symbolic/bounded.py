"""Bounded z3 verdicts for a list of safety properties (``ndcheck check --engine z3|both``).

**Certificate** (:mod:`.certificate`, the default): the explicit engine's reachable states, as
a decision diagram ``R``, are checked by z3 to be closed under the transition relation (one
query per scenario).  Then a property ``holds`` exactly when ``R ∧ bad`` is unsat, and
otherwise BMC searches for a shortest counterexample (the explorer says every state of ``R`` is
reachable; z3 does not take that on trust).  Soundness rests on z3 alone: a wrong ``R`` is not
closed, and a counterexample is re-executed.

**Without a closed certificate** (or ``certificate=False``) the Houdini lemmas of the scenario
(:mod:`.lemmas`: mined from the explicit graph, proved inductive by z3) are computed once, over
the candidates ``prove`` seeds with (:func:`.lemmas.seed_tier`: ``lean`` or ``core``, so that the
Spacer stages below find them cached); then, per property, in order:

1. the lemmas alone exclude the bad states (one solver for all properties) — ``holds``;
   or the property is inductive relative to them (:meth:`.lemmas.Strengthening.
   relatively_inductive`) — ``holds``;
2. k-induction up to k = 2 with the lemmas assumed in every state (bit-vectors) — ``holds``;
3. Spacer seeded with the lemmas, a few seconds — ``holds`` (or a counterexample depth);
4. BMC to depth 20 with the lemmas assumed and the explicit engine's breadth-first layers as
   hints (:mod:`.layers`) — ``violated``;
5. Spacer seeded with the lemmas, for the rest of the time budget.

Without lemmas (Houdini did not finish within ``timeout``): BMC as in step 4 without them, for a
third of the time, then Spacer.

Stages 1, 3 and 5 prove the property with the channel caps lifted (a superset of the bounded
model's states), stage 2 for the bounded model.  On a catalog scenario (never truncated) the
verdict equals the explicit engine's — a test checks every pair.  On a scenario truncated by
counter overflow the certificate still closes (an overflowing step has no successor in either
engine) but covers only the runs within the channel capacity: a property it excludes is
``undetermined``, as in the explicit engine, never ``holds``.  ``timeout`` applies to each
property; on timeout the verdict is ``undetermined``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import z3

from ...model.ir import System
from ..checkable import SafetyProperty
from .bad import bad_formula, counterexample, require_safety
from .bmc import bmc
from .certificate import Certificate, certify
from .encode import Encoding
from .kind import kinduction
from .layers import bfs_layers, constrain
from .lemmas import Strengthening, seed_tier, strengthening
from .prove import left, lemma_proof, prove
from .result import ProofResult

BMC_CERTIFIED_DEPTH = 200   # BMC inside a closed certificate: the bounded model is finite
KIND_K_SEEDED = 2           # k-induction relative to the Houdini lemmas, up to this k
SPACER_FIRST = 5.0          # seconds for the first, seeded Spacer attempt
BMC_DEPTH_SEEDED = 20       # BMC depth before the last Spacer attempt (deepest catalog violation: 14)
BMC_SHARE_UNSEEDED = 1 / 3  # of a property's time: BMC before Spacer when there are no lemmas


def check_safeties(system: System, props: Sequence[SafetyProperty], timeout: float | None = None,
                   certificate: bool = True, traces: bool = True) -> list[ProofResult]:
    """The bounded z3 verdicts of ``props`` (each a safety property that applies to ``system``).
    ``traces=False`` (reachability questions such as a trigger's, where no trace is shown): a
    bad state among the certificate's states is ``violated`` at once, without the BMC that finds
    its trace -- every certified state was reached by the explicit search, and a timed graph's
    triggers can lie hundreds of steps deep (IKE gives up at 60 s: about 620 steps)."""
    todo = list(props)
    for p in todo:
        require_safety(p, system)
    t0 = time.perf_counter()
    if certificate:
        cert = certify(system, timeout=timeout)
        if cert.closed:
            return _by_certificate(system, cert, todo, timeout, time.perf_counter() - t0, traces)
    # the tier prove() seeds Spacer with, so that its stages find the lemmas cached (the
    # ``full`` tier, used here before, cost fig7-both-capable 60 s of Houdini, and prove() then
    # ran its own pass over the lean candidates)
    # on both cores, as prove's default (a forked partner; the same lemmas): ge-server-only's
    # core pass takes 51 s on two, more than the 60 s a pair gets on one (BENCHMARKS.md)
    tier = seed_tier(system, timeout) or "core"
    seed = strengthening(system, unbounded=True, timeout=timeout, tier=tier, workers=2)
    shared = time.perf_counter() - t0
    implied = _implied(system, seed, todo) if seed else {}
    out = []
    for p in todo:
        t1 = time.perf_counter()
        r = _check_one(system, p, seed, implied.get(p.id), timeout)
        out.append(dataclasses.replace(r, engine="z3", unbounded=False,
                                       seconds=time.perf_counter() - t1 + shared))
    return out


def _by_certificate(system: System, cert: Certificate, todo: Sequence[SafetyProperty],
                    timeout: float | None, shared: float, traces: bool = True) -> list[ProofResult]:
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
        if r == z3.unsat and cert.overflow_states:
            # the certificate covers the runs that stay within the channel capacity only; the
            # explicit search is truncated there, and so is this verdict
            out.append(ProofResult("undetermined", "z3", **base,
                                   seconds=time.perf_counter() - t1 + shared,
                                   note=f"holds in {how}, but {cert.overflow_states} of them have a "
                                        f"step past the channel capacity {system.limits.capacity}: "
                                        f"runs beyond it are not covered"))
            continue
        if r == z3.unsat:
            out.append(ProofResult("holds", "z3", **base, seconds=time.perf_counter() - t1 + shared,
                                   note=f"holds in {how}"))
            continue
        if r == z3.sat and not traces:
            out.append(ProofResult("violated", "z3", **base, seconds=time.perf_counter() - t1 + shared,
                                   note=f"a bad state is among {how} (all reached by the explicit "
                                        f"search; no trace asked for)"))
            continue
        # plain BMC: assuming R at every step makes each query heavier (BENCHMARKS.md), and
        # R ∧ bad being satisfiable already says a trace exists
        b = bmc(enc, bad, BMC_CERTIFIED_DEPTH, left(deadline)) if r == z3.sat else None
        if b is not None and b.status == "found":
            cx = counterexample(Encoding(system), p, b.commands, b.states)
            out.append(ProofResult("violated", "z3", **base, counterexample=cx,
                                   seconds=time.perf_counter() - t1 + shared,
                                   note=f"a bad state is among {how}; bmc depth {b.depth}: "
                                        f"counterexample of {len(cx.commands)} steps, replayed"))
            continue
        why = (b.reason or f"no counterexample within {b.depth} steps") if b is not None else \
            f"z3: {sol.reason_unknown()}"
        out.append(ProofResult("undetermined", "z3", **base, seconds=time.perf_counter() - t1 + shared,
                               note=why))
    return out


def _implied(system: System, seed: Strengthening, props: Sequence[SafetyProperty]) -> dict[str, list[int]]:
    """Properties whose bad states the lemmas exclude, with the lemmas an unsat core used."""
    if not seed.overflow_free:
        return {}
    enc = Encoding(system, unbounded=True)
    q = enc.state("q")
    return seed.implies(enc, {p.id: bad_formula(enc, p)(q) for p in props}, q)


def _check_one(system: System, prop: SafetyProperty, seed: Strengthening | None,
               used: list[int] | None, timeout: float | None) -> ProofResult:
    t0 = time.perf_counter()
    deadline = None if timeout is None else t0 + timeout

    def done(verdict: str, note: str, **kw) -> ProofResult:
        return ProofResult(verdict, "z3", prop.id, system.name, False,
                           seconds=time.perf_counter() - t0, note=note, **kw)

    if seed is None:
        # no lemmas (Houdini did not finish in time, or the exploration was truncated): BMC with
        # the breadth-first hints first, for a share of the time (ge-marking-after S-6: Houdini
        # over its 4,668 core candidates takes more than 60 s, and Spacer alone finds no trace
        # in the next 60), then Spacer
        b = prove(system, prop, engine="bmc", depth=BMC_DEPTH_SEEDED,
                  timeout=None if timeout is None else timeout * BMC_SHARE_UNSEEDED)
        if b.verdict == "violated":
            return dataclasses.replace(b, seconds=time.perf_counter() - t0)
        return prove(system, prop, engine="spacer", timeout=left(deadline))
    if used is not None:
        return done("holds", **lemma_proof(seed, used))
    if seed.overflow_free:
        enc_u = Encoding(system, unbounded=True)
        rel = seed.relatively_inductive(enc_u, bad_formula(enc_u, prop), timeout=left(deadline))
        if rel is not None:
            return done("holds", **lemma_proof(seed, rel, relative=prop.id))
    twin = Encoding(system).bitvector_twin(max(KIND_K_SEEDED, BMC_DEPTH_SEEDED))
    bad = bad_formula(twin, prop)
    k = kinduction(twin, bad, KIND_K_SEEDED, left(deadline), background=seed.formula)
    if k.status == "proved":
        return done("holds", lemmas=seed.text(),
                    note=f"{k.k}-inductive relative to {len(seed.lemmas)} Houdini lemmas "
                         f"(bounded model)")
    first = SPACER_FIRST if deadline is None else min(SPACER_FIRST, left(deadline) or SPACER_FIRST)
    r = prove(system, prop, engine="spacer", timeout=first)
    if r.verdict != "undetermined":
        return r
    # the explicit engine's first breadth-first layers prune the depths before the shortest
    # counterexample, as in ``prove --engine bmc`` (.layers: hints only, the trace is replayed)
    hint = constrain(twin, bfs_layers(system, timeout=left(deadline)))
    b = bmc(twin, bad, BMC_DEPTH_SEEDED, left(deadline), background=seed.formula, hint=hint)
    if b.status == "found":
        cx = counterexample(Encoding(system), prop, b.commands, b.states)
        return done("violated", counterexample=cx,
                    note=f"bmc depth {b.depth} (Houdini lemmas assumed): counterexample of "
                         f"{len(cx.commands)} steps, replayed")
    return prove(system, prop, engine="spacer", timeout=left(deadline))
