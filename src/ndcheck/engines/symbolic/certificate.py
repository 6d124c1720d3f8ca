"""The explored state space as an inductive certificate, checked by z3 (bounded verdicts).

The explicit engine claims that its state set ``R`` is everything reachable.  That claim has a
certificate z3 can check independently of the code that produced it: ``R`` holds initially and
is *closed* under the transition relation generated from the IR (:mod:`.encode`)::

    init ∈ R          and          R(s) ∧ T(s, t) ∧ ¬R(t)   unsat

Then ``R`` is an inductive invariant of the bounded model, and a safety property holds exactly
when ``R(s) ∧ bad(s)`` is unsat.  If the explorer (the generated packed-integer successor code)
and the z3 encoding disagreed on any step from a reachable state, the closure query would find
it — so the certificate is also a cross-check of the two translations of the IR.

``R`` is written as a multi-valued decision diagram over the fields in their declared order
(:func:`diagram`): one node per distinct (field, value → sub-diagram) set, shared, so the
53,546 states of fig7-lossy need about 16,000 nodes.  The formula is built once over
placeholder variables and instantiated by substitution (:meth:`.encode.Encoding.template`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import z3

from ...model.ir import System
from .encode import Encoding

TRUE = -1   # the terminal node


@dataclass
class Certificate:
    """An explored state set as a decision diagram, and whether z3 found it closed."""

    system: System
    nodes: list[tuple[int, tuple[tuple[int, int], ...]]]   # (field index, ((value, child), ...))
    root: int
    states: int
    closed: bool = False
    counterexample: tuple[tuple[int, ...], int, tuple[int, ...]] | None = None  # (s, command, t)
    seconds: float = 0.0
    overflow_states: int = 0   # explored states with a step past a channel capacity

    def formula(self, enc: Encoding, s: Sequence[z3.ArithRef]) -> z3.BoolRef:
        """``s ∈ R`` in ``enc`` (a cached template per encoding, instantiated at ``s``)."""
        tmpl = enc.template(("certificate", id(self)), lambda p: self._build(p))
        return enc.at(tmpl, s)

    def _build(self, s: Sequence[z3.ArithRef]) -> z3.BoolRef:
        memo: dict[int, z3.BoolRef] = {}
        for nid, (j, items) in enumerate(self.nodes):   # children precede parents
            alts = [s[j] == v if c == TRUE else z3.And(s[j] == v, memo[c]) for v, c in items]
            memo[nid] = alts[0] if len(alts) == 1 else z3.Or(alts)
        return memo[self.root] if self.root != TRUE else z3.BoolVal(True)

    def __contains__(self, state: Sequence[int]) -> bool:
        nid = self.root
        while nid != TRUE:
            j, items = self.nodes[nid]
            nxt = dict(items).get(state[j])
            if nxt is None:
                return False
            nid = nxt
        return True


def diagram(n_fields: int, states: Sequence[Sequence[int]]) -> tuple[list, int]:
    """The reduced, shared decision diagram of ``states`` (fields in order): (nodes, root)."""
    nodes: list[tuple[int, tuple[tuple[int, int], ...]]] = []
    unique: dict[tuple, int] = {}

    def build(group: list, level: int) -> int:
        if level == n_fields:
            return TRUE
        by: dict[int, list] = {}
        for st in group:
            by.setdefault(st[level], []).append(st)
        key = (level, tuple(sorted((v, build(g, level + 1)) for v, g in by.items())))
        nid = unique.get(key)
        if nid is None:
            nid = unique[key] = len(nodes)
            nodes.append(key)
        return nid

    return nodes, build(list(states), 0)


_CACHE: dict[int, tuple[System, Certificate]] = {}


def certify(system: System, graph=None, timeout: float | None = None) -> Certificate:
    """The explored states of ``system`` as a certificate, with z3's closure verdict (cached).

    ``closed`` is False when z3 finds a step from an explored state to an unexplored one (the
    ``counterexample``: an exploration cut short by ``max_states``/``timeout``, or a
    disagreement between the explorer and the z3 encoding), or when z3 runs out of time.  A
    search truncated only by counter overflows can still be closed: the bounded semantics has
    no successor for an overflowing step, in both engines.  ``overflow_states`` says so: such a
    certificate proves nothing about the runs that exceed the capacity, so the bounded verdicts
    built on it are ``undetermined`` where the explicit engine's are
    (:func:`.bounded.check_safeties`).
    """
    hit = _CACHE.get(id(system))
    if hit is not None and hit[0] is system and graph is None:
        return hit[1]
    from ..explicit import explore

    t0 = time.perf_counter()
    given = graph
    if graph is None or getattr(graph, "symmetry", None) is not None:
        # a certificate is the set of every reachable state, not one per orbit
        graph = explore(system, timeout=timeout, symmetry=False)
    states = list(graph.states)
    nodes, root = diagram(len(system.fields), states)
    cert = Certificate(system, nodes, root, len(states), overflow_states=graph.overflow_states)
    init = tuple(f.init for f in system.fields)
    if init in cert:
        enc = Encoding(system).bitvector_twin(1)   # every state inside the domains: no wrap
        s, t = enc.state("c_s"), enc.state("c_t")
        sel = enc.selector("c_sel")
        sol = z3.SolverFor("QF_BV")
        if timeout is not None:
            sol.set(timeout=max(1, int(timeout * 1000)))
        sol.add(cert.formula(enc, s), enc.step_rel(s, sel, t), z3.Not(cert.formula(enc, t)))
        r = sol.check()
        if r == z3.unsat:
            cert.closed = True
        elif r == z3.sat:
            m = sol.model()
            cert.counterexample = (enc.decode(m, s),
                                   enc.command_in(m, m.eval(sel, model_completion=True).as_long(), s),
                                   enc.decode(m, t))
    cert.seconds = time.perf_counter() - t0
    if given is None:   # only the engine's own exploration is cached
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[id(system)] = (system, cert)
    return cert
