"""The z3 engine: bounded counterexamples and unbounded proofs from the same System IR.

Modules, one idea each: :mod:`.encode` (the transition relation generated from the IR; bounded
and unbounded modes), :mod:`.bmc` (shortest counterexamples), :mod:`.layers` (the explicit
engine's BFS layers as BMC constraints), :mod:`.kind` (k-induction and counterexamples to
induction), :mod:`.spacer` (CHC proofs with a printed inductive invariant),
:mod:`.lemmas` (Houdini: candidate invariants mined from the explicit graph, kept when z3 proves
them inductive), :mod:`.blocking` (cubes no explored state has, excluded until the property is
inductive), :mod:`.certificate` (the explored state set, checked closed by z3),
:mod:`.bad` (a property as bad states; a z3 path re-executed and checked bad),
:mod:`.result` (what a run answers), :mod:`.prove` (one property, one engine) and
:mod:`.bounded` (the bounded verdicts of ``ndcheck check --engine z3|both``).

The engine takes a :class:`~ndcheck.model.ir.System` and property objects
(:class:`~ndcheck.engines.checkable.SafetyProperty`); it answers with a
:class:`~.result.ProofResult` whose counterexample is a path of command indices.  Resolving
scenario and property names, and replaying counterexamples through the python-statemachine
instances, is the checking layer's work (:mod:`ndcheck.checking.symbolic`).

May import: :mod:`ndcheck.model.ir` and the engines; z3 is imported only here.
"""

from __future__ import annotations

from .bad import CounterexampleError, bad_formula
from .bounded import check_safeties
from .encode import Encoding, params_of
from .prove import DEFAULT_DEPTH, ENGINES, prove
from .result import Counterexample, ProofResult

__all__ = ["DEFAULT_DEPTH", "ENGINES", "Counterexample", "CounterexampleError", "Encoding",
           "ProofResult", "bad_formula", "check_safeties", "params_of", "prove"]
