"""The shape of a property: a named predicate over the System IR, checkable by every engine.

Kinds (DESIGN.md "Properties"):

* ``always``: ``state`` is an IR expression over fields that must hold in every reachable state.
* ``never_action``: ``actions`` selects commands (by :class:`~ndcheck.model.ir.Command`) that
  must never fire; equivalently, no reachable state enables one of them.
* ``sometimes``: ``state`` must hold in at least one reachable state (a witness; non-vacuity).
* ``eventually``: from every reachable state satisfying ``trigger``, every fair continuation
  reaches ``state`` (checked on bottom strongly connected components).

Predicates are built from a :class:`~ndcheck.model.ir.System` (field names depend on the
scenario), so the explicit engine evaluates them on state tuples and the z3 engine translates
the same expressions.  ``applies`` says whether the property is meaningful for a scenario;
inapplicable properties are not reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..model.ir import Command, Expr, System

KINDS = ("always", "never_action", "sometimes", "eventually")


@dataclass(frozen=True, slots=True)
class Property:
    id: str                      # digest id: S-1, L-2, H-1, ... (unique)
    name: str                    # snake_case
    kind: str                    # one of KINDS
    claim: str                   # one English sentence
    rules: tuple[str, ...] = ()  # rule ids it rests on
    concern: str = ""            # grouping: downgrade, upgrade, fallback, ge, ike, tcp
    state: Callable[[System], Expr] | None = None
    actions: Callable[[System, Command], bool] | None = None
    trigger: Callable[[System], Expr] | None = None
    applies: Callable[[System], bool] = field(default=lambda s: True)

    @property
    def safety(self) -> bool:
        return self.kind in ("always", "never_action")


@dataclass(frozen=True, slots=True)
class Verdict:
    property: Property
    verdict: str                 # holds / violated / undetermined
    engine: str = "explicit"
    expected: str | None = None
    trace: object | None = None  # properties.trace.Trace
    note: str = ""

    @property
    def as_expected(self) -> bool:
        return self.expected is None or self.expected == self.verdict
