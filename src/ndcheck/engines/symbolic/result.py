"""What a z3 run answers: a verdict, with a counterexample path, an invariant or a CTI."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...model.ir import System


@dataclass(frozen=True, slots=True)
class Counterexample:
    """A path of the system found by z3, already re-executed by IR interpretation.

    ``system`` is the system the commands index (with lifted budgets: the system rebuilt with
    ``params``); the checking layer replays it through the python-statemachine instances and
    draws it (:func:`ndcheck.traces.trace.trace_from_commands`).
    """

    system: System
    commands: tuple[int, ...]
    params: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProofResult:
    """The outcome of one z3 run.

    ``verdict``: ``holds`` / ``violated`` / ``undetermined``; ``counterexample``: the path that
    refutes the property; ``trace``: that path replayed and named (filled in by the checking
    layer, :mod:`ndcheck.checking.symbolic`); ``invariant``: Spacer's inductive invariant in
    field names; ``cti``: k-induction's counterexample to induction as a list of
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
    cubes: int = 0      # of ``lemmas``, the last ``cubes`` are excluded cubes (.blocking)
    counterexample: Counterexample | None = None

    def to_json(self) -> dict:
        trace = self.trace.to_json() if self.trace is not None else None  # type: ignore[attr-defined]
        return {"scenario": self.scenario, "property": self.property, "engine": self.engine,
                "unbounded": self.unbounded, "verdict": self.verdict,
                "seconds": round(self.seconds, 3), "note": self.note,
                "invariant": self.invariant, "lemmas": self.lemmas, "cti": self.cti,
                "params": self.params or None, "trace": trace}
