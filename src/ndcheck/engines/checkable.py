"""What an engine needs of a property: the protocol a property object satisfies.

Properties are written in :mod:`ndcheck.properties`, above the engines; an engine never imports
that package.  It receives a property as an object and uses only what is named here: the id
(for messages and cache keys), the kind, and the predicate as IR expressions built for the
system at hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..model.ir import Expr, System


class SafetyProperty(Protocol):
    """A safety property as the engines see it (``kind`` is ``always`` or ``never_action``)."""

    id: str
    name: str
    kind: str
    state: Callable[[System], Expr] | None

    @property
    def safety(self) -> bool: ...

    def applies(self, system: System) -> bool: ...

    def firings(self, system: System) -> list[tuple[int, Expr]]:
        """never_action: ``(command index, guard ∧ pre)`` for every selected command."""
        ...
