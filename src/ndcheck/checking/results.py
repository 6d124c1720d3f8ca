"""Results: the verdict of one property, and the verdicts of one scenario with its graph size."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model.scenario import Cause
from ..properties.base import Property
from ..properties.catalog import get_property
from ..traces.trace import Trace

#: ``holds``; ``violated``; ``vacuous``: not violated, but no reachable state satisfies the
#: property's trigger (the antecedent of its claim), so the claim was never put to the test;
#: ``undetermined``: a bound stopped the search before the property was decided.
VERDICTS = ("holds", "violated", "vacuous", "undetermined")

#: How a verdict compares with its expectation (what ``ndcheck check`` colours a row by):
#: ``expected`` met (or no expectation), ``unexpected`` contradicted (an expected ``holds`` met
#: by ``vacuous`` too), ``undetermined`` a bound stopped the search (and ``undetermined`` was not
#: the expectation), ``vacuous`` a vacuous verdict that was expected (or had no expectation).
OUTCOMES = ("expected", "unexpected", "undetermined", "vacuous")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of checking one property on one scenario with one engine."""

    property: Property
    verdict: str                 # one of VERDICTS
    engine: str = "explicit"
    expected: str | None = None
    trace: Trace | None = None
    note: str = ""
    cause: Cause | None = None   # why ``expected == "violated"`` (spec or policy), if the scenario says

    @property
    def as_expected(self) -> bool:
        """The verdict meets the expectation; no expectation (``expected is None``) is always met."""
        return self.expected is None or self.expected == self.verdict

    @property
    def outcome(self) -> str:
        """One of :data:`OUTCOMES`: the verdict against its expectation."""
        if self.verdict == "undetermined" and self.expected != "undetermined":
            return "undetermined"
        if not self.as_expected:
            return "unexpected"
        return "vacuous" if self.verdict == "vacuous" else "expected"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Verdicts of one scenario: graph size, time, and one :class:`Verdict` per (property, engine)."""

    scenario: str
    states: int
    edges: int
    truncated: bool
    seconds: float
    verdicts: tuple[Verdict, ...]
    reason: str = ""
    skipped: tuple[str, ...] = field(default=())   # property ids that do not apply
    #: "reduced by symmetry over flows {1, 2}" when the states are orbit representatives
    symmetry: str = ""

    @property
    def as_expected(self) -> bool:
        return all(v.as_expected for v in self.verdicts)

    @property
    def unexpected(self) -> list[Verdict]:
        """Verdicts that differ from the expectation (other than an unexpected 'undetermined')."""
        return [v for v in self.verdicts if not v.as_expected and v.verdict != "undetermined"]

    @property
    def undetermined(self) -> list[Verdict]:
        """Verdicts a bound left undetermined, unless ``undetermined`` was the expectation
        (without an expectation an undetermined verdict still counts: the search was cut short)."""
        return [v for v in self.verdicts if v.outcome == "undetermined"]

    def verdict(self, pid: str, engine: str = "explicit") -> Verdict:
        """The verdict of one property (by id or name)."""
        p = get_property(pid)
        for v in self.verdicts:
            if v.property.id == p.id and v.engine == engine:
                return v
        raise KeyError(f"{p.id} was not checked on {self.scenario} with engine {engine}")

    def matrix(self) -> dict[str, str]:
        """``{property id: verdict}`` for the explicit engine (or the only engine used)."""
        out: dict[str, str] = {}
        for v in self.verdicts:
            out.setdefault(v.property.id, v.verdict)
        return out

    def to_json(self) -> dict:
        """The ``check --json`` object of DESIGN.md; a property expected ``violated`` also has
        ``cause`` (``spec``, ``policy`` or null where the scenario gives none), ``rules`` and
        ``note``."""
        return {
            "scenario": self.scenario, "states": self.states, "edges": self.edges,
            "truncated": self.truncated, "seconds": round(self.seconds, 3),
            "properties": [_property_json(v) for v in self.verdicts],
        } | ({"symmetry": self.symmetry} if self.symmetry else {})


def _property_json(v: Verdict) -> dict:
    out = {
        "id": v.property.id, "name": v.property.name, "kind": v.property.kind,
        "verdict": v.verdict, "expected": v.expected, "engine": v.engine,
        "trace": v.trace.to_json() if isinstance(v.trace, Trace) else None,
    }
    if v.expected == "violated":
        c = v.cause
        out.update(cause=c.kind if c else None, rules=list(c.rules) if c else [],
                   note=c.note if c else "")
    return out
