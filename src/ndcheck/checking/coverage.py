"""Coverage: which machine transitions and ND rule branches an explored graph exercised.

A transition is ``(machine key, event, source state id)`` as in
:attr:`~ndcheck.model.ir.Command.events`; a rule branch is a decision-table row id of
:data:`ndcheck.model.nd_rules.ALL_ROWS` (``ND-8/clear+acquire``) or any other rule id a command
cites (``ND-1``, ``A-4``).  A transition or rule is *exercised* when some edge of the graph is a
command that performs or cites it.  :func:`catalog_coverage` unions the scenarios, against
everything the four machine classes and the decision tables define.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..engines.explicit import Graph
from ..model.ir import System
from ..model.messages import flow_of
from ..model.nd_rules import ALL_ROWS, inbound_table, outbound_table

Transition = tuple[str, str, str]


def machine_transitions(system: System) -> set[Transition]:
    """Every (machine key, event, source) the system's machine classes declare."""
    out: set[Transition] = set()
    for key, cls in system.machines.items():
        for st in cls.states:
            for t in st.transitions:
                for ev in t.events:
                    out.add((key, str(ev), st.id))
    return out


def scenario_rows(system: System) -> set[str]:
    """Row ids of the decision tables that the scenario's two policies use."""
    sc = system.scenario
    return {r.id for h in ("client", "server")
            for r in outbound_table(getattr(sc, h)) + inbound_table(getattr(sc, h))}


def _fmt(t: Transition) -> str:
    return f"{t[0]}.{t[1]}@{t[2]}"


@dataclass(frozen=True, slots=True)
class Coverage:
    """Defined vs exercised transitions and rule branches of one explored scenario."""

    scenario: str
    transitions: frozenset[Transition]           # declared by the machine classes
    transitions_possible: frozenset[Transition]  # performed by some command of the system
    transitions_exercised: frozenset[Transition]
    rules: frozenset[str]                        # rows of the scenario's tables + cited rule ids
    rules_exercised: frozenset[str]

    @property
    def transitions_missed(self) -> list[Transition]:
        return sorted(self.transitions - self.transitions_exercised)

    @property
    def rules_missed(self) -> list[str]:
        return sorted(self.rules - self.rules_exercised)

    def summary(self) -> str:
        head = (f"coverage of {self.scenario}: "
                f"{len(self.transitions_exercised)}/{len(self.transitions)} machine transitions, "
                f"{len(self.rules_exercised & self.rules)}/{len(self.rules)} rule branches")
        lines = [head]
        if self.rules_missed:
            lines.append("  rule branches not exercised: " + ", ".join(self.rules_missed))
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "transitions": len(self.transitions),
            "transitions_exercised": sorted(_fmt(t) for t in self.transitions_exercised),
            "transitions_missed": [_fmt(t) for t in self.transitions_missed],
            "rules": len(self.rules),
            "rules_exercised": sorted(self.rules_exercised),
            "rules_missed": self.rules_missed,
        }


def coverage(graph: Graph) -> Coverage:
    """What the edges of ``graph`` exercised."""
    system = graph.system
    fired = sorted(set(graph.act))
    ex_t: set[Transition] = set()
    ex_r: set[str] = set()
    for a in fired:
        c = system.commands[a]
        ex_t.update(c.events)
        ex_r.update(c.rules)
    possible = {e for c in system.commands for e in c.events}
    cited = {r for c in system.commands for r in c.rules}
    return Coverage(system.name, frozenset(machine_transitions(system)), frozenset(possible),
                    frozenset(ex_t), frozenset(scenario_rows(system) | cited), frozenset(ex_r))


@dataclass(frozen=True, slots=True)
class CatalogCoverage:
    """The union over scenarios, against everything the model defines."""

    transitions: frozenset[Transition]
    transitions_exercised: frozenset[Transition]
    rows: frozenset[str]                 # every row id of nd_rules.ALL_ROWS
    rules_exercised: frozenset[str]

    @property
    def transitions_missed(self) -> list[Transition]:
        return sorted(self.transitions - self.transitions_exercised)

    @property
    def rows_missed(self) -> list[str]:
        return sorted(self.rows - self.rules_exercised)


def catalog_coverage(covs: Iterable[Coverage]) -> CatalogCoverage:
    covs = list(covs)
    trans: set[Transition] = set()
    ex_t: set[Transition] = set()
    ex_r: set[str] = set()
    for c in covs:
        # a later flow's TCP ends are the first flow's classes again (``client.tcp#2``): the
        # catalog's coverage counts each class once, by the first flow's machine keys
        trans |= {t for t in c.transitions if flow_of(t[0]) == 1}
        ex_t |= {t for t in c.transitions_exercised if flow_of(t[0]) == 1}
        ex_r |= c.rules_exercised
    return CatalogCoverage(frozenset(trans), frozenset(ex_t), frozenset(r.id for r in ALL_ROWS),
                           frozenset(ex_r))
