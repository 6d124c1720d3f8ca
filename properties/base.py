"""The shape of a property: a named predicate over the System IR, checkable by every engine.

Kinds (DESIGN.md "Properties"):

* ``always``: ``state`` is an IR expression over fields that must hold in every reachable state.
* ``never_action``: ``actions`` selects commands (by :class:`~ndcheck.model.ir.Command`) that
  must never fire; equivalently, no reachable state enables one of them.  An optional ``pre``
  narrows a selected command to the pre-states where its firing is a violation:
  ``pre(system, command)`` is an IR expression over the **pre-state**; a condition about the
  post-state is written by substituting the command's updates
  (:func:`~ndcheck.model.ir.substitute`), so it stays an expression over the pre-state.  The
  property is violated iff some reachable state satisfies ``guard ∧ pre`` of a selected
  command — :meth:`Property.firings` lists exactly these conditions, :meth:`Property.bad`
  their disjunction, which is what the z3 engine refutes.
* ``sometimes``: ``state`` must hold in at least one reachable state (a witness; non-vacuity).
* ``eventually``: from every reachable state satisfying ``trigger`` (no trigger: from the
  initial state), every fair continuation reaches ``state`` (checked on bottom strongly
  connected components; see :mod:`ndcheck.engines.graph_queries` for the fairness assumption).
* ``within`` (bounded response, timed scenarios only: ``time.mode = "timed"``): from every
  reachable state satisfying ``trigger``, every run reaches ``state`` within ``bound(system)``
  milliseconds of model time (``tick`` steps times the unit); a run that can no longer reach
  it, or where time passes without bound first, violates it too
  (:mod:`ndcheck.checking.latency`).

**Triggers and vacuity.**  A property whose claim has an antecedent ("once X, never Y", "after X,
eventually Y", "if IKE fails ...") names it as ``trigger``: an IR expression over the fields, a
*state* predicate (for ``never_action`` too: the situation the claim speaks about, not a
command), with ``antecedent``, the same in words.  ``always`` and ``never_action`` properties
take one as an option, ``eventually`` properties as the start of their response; ``sometimes``
properties have none, and neither has a property without an antecedent (S-3, S-4, S-11 ...).
A property that is not violated and whose trigger **no reachable state satisfies** is
``vacuous``, never ``holds``: its claim was never put to the test.  A violated property stays
violated.  Where the search was cut short (a truncated graph, a z3 timeout) an unreachable
trigger is not established, so the verdict is ``undetermined``, never ``vacuous``.

Predicates are built from a :class:`~ndcheck.model.ir.System` (field names depend on the
scenario), so the explicit engine evaluates them on state tuples and the z3 engine translates
the same expressions.  ``applies`` says whether the property is meaningful for a scenario;
inapplicable properties are not reported.  A concern's module makes its properties with the
constructor of their kind (:class:`Concern`), which asks for exactly what that kind needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..model.ir import TRUE, Command, Expr, System, and_, not_, or_
from . import flows

KINDS = ("always", "never_action", "sometimes", "eventually", "within")


def _always_applies(system: System) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Property:
    """A named, documented predicate over a system (one digest id, one kind, one claim)."""

    id: str                      # digest id: S-1, L-2, H-1, ... (unique)
    name: str                    # snake_case
    kind: str                    # one of KINDS
    claim: str                   # one English sentence
    rules: tuple[str, ...] = ()  # rule ids it rests on
    concern: str = ""            # grouping: downgrade, upgrade, fallback, ge, policy, ike, tcp
    state: Callable[[System], Expr] | None = None
    actions: Callable[[System, Command], bool] | None = None
    trigger: Callable[[System], Expr] | None = None   # the claim's antecedent (vacuity)
    antecedent: str = ""         # the trigger in words: "IKE has failed for the flow and ..."
    applies: Callable[[System], bool] = field(default=_always_applies)
    pre: Callable[[System, Command], Expr] | None = None   # never_action only (see module doc)
    bound: Callable[[System], int] | None = None   # within only: the deadline in ms
    #: eventually only: the (goal, trigger) pairs to check, one per flow (properties/flows.py)
    pairs: Callable[[System], list[tuple[Expr, Expr | None]]] | None = None
    note: str = ""               # why the model does (not) show what the digest suspects

    @property
    def safety(self) -> bool:
        return self.kind in ("always", "never_action")

    def goals(self, system: System) -> list[tuple[Expr, Expr | None]]:
        """eventually: ``(goal, trigger)`` pairs, each checked on its own (one per flow)."""
        if self.pairs is not None:
            return self.pairs(system)
        assert self.state is not None
        return [(self.state(system), self.trigger(system) if self.trigger else None)]

    @property
    def vacuity(self) -> str:
        """Why a vacuous verdict is vacuous: ``no reachable state where <antecedent>``."""
        return f"no reachable state where {self.antecedent or 'the trigger holds'}"

    def firings(self, system: System) -> list[tuple[int, Expr]]:
        """never_action: ``(command index, guard ∧ pre)`` for every selected command.

        The property is violated iff some reachable state satisfies one of the conditions;
        commands whose condition folds to false are left out.
        """
        if self.kind != "never_action" or self.actions is None:
            raise ValueError(f"{self.id} is a {self.kind} property; firings() is for never_action")
        out = []
        for i, c in enumerate(system.commands):
            if not self.actions(system, c):
                continue
            cond = and_(c.guard, self.pre(system, c) if self.pre else TRUE)
            if cond.op == "const" and cond.args[0] == 0:
                continue
            out.append((i, cond))
        return out

    def bad(self, system: System) -> Expr:
        """Safety properties: the set of bad (pre-)states as one IR expression."""
        if self.kind == "always":
            assert self.state is not None
            return not_(self.state(system))
        if self.kind == "never_action":
            return or_(*[c for _, c in self.firings(system)])
        raise ValueError(f"{self.id} is a {self.kind} property, not a safety property")



StatePredicate = Callable[[System], Expr]
CommandPredicate = Callable[[System, Command], Expr]


@dataclass(frozen=True, slots=True)
class Concern:
    """The properties of one concern (one module of the catalog), made by the constructor of their
    kind: each names what its kind needs and fills in ``kind`` and ``concern``; ``options`` are
    ``applies`` and ``note``.

    >>> p = Concern("tcp").sometimes("W-99", "toy", claim="Toy.", rules=("ND-8",), state=lambda s: TRUE)
    >>> (p.kind, p.concern)
    ('sometimes', 'tcp')
    """

    title: str

    # Every constructor lifts what the property reads to all flows like the first
    # (properties/flows.py): with one flow the lifted callables build the same expressions.
    def always(self, id: str, name: str, *, claim: str, rules: tuple[str, ...],
               state: StatePredicate, trigger: StatePredicate | None = None, antecedent: str = "",
               **options) -> Property:
        """``state`` holds in every reachable state; vacuous if no reachable state satisfies
        ``trigger`` (the claim's antecedent, if it has one, described by ``antecedent``)."""
        return Property(id, name, "always", claim, rules, self.title, state=flows.all_flows(state),
                        **_triggered(id, trigger and flows.some_flow(trigger), antecedent), **options)

    def never_action(self, id: str, name: str, *, claim: str, rules: tuple[str, ...],
                     actions: Callable[[System, Command], bool], pre: CommandPredicate | None = None,
                     trigger: StatePredicate | None = None, antecedent: str = "", **options) -> Property:
        """No selected command fires (from a pre-state satisfying ``pre``); vacuous if no reachable
        state satisfies ``trigger`` (the claim's antecedent, if it has one, described by
        ``antecedent``)."""
        return Property(id, name, "never_action", claim, rules, self.title,
                        actions=flows.actions_any_flow(actions), pre=flows.pre_any_flow(actions, pre),
                        **_triggered(id, trigger and flows.some_flow(trigger), antecedent), **options)

    def sometimes(self, id: str, name: str, *, claim: str, rules: tuple[str, ...],
                  state: StatePredicate, **options) -> Property:
        """``state`` holds in some reachable state (a witness)."""
        return Property(id, name, "sometimes", claim, rules, self.title, state=flows.some_flow(state),
                        **options)

    def eventually(self, id: str, name: str, *, claim: str, rules: tuple[str, ...],
                   state: StatePredicate, trigger: StatePredicate | None = None, antecedent: str = "",
                   **options) -> Property:
        """Every fair run (from each state satisfying ``trigger``) reaches ``state``; vacuous if
        a trigger is given and no reachable state satisfies it (``antecedent``: in words)."""
        return Property(id, name, "eventually", claim, rules, self.title, state=flows.all_flows(state),
                        pairs=flows.goal_pairs(state, trigger),
                        **_triggered(id, trigger and flows.some_flow(trigger), antecedent), **options)


    def within(self, id: str, name: str, *, claim: str, rules: tuple[str, ...],
               trigger: StatePredicate, antecedent: str, state: StatePredicate,
               bound: Callable[[System], int], **options) -> Property:
        """From every state satisfying ``trigger``, every run reaches ``state`` within
        ``bound(system)`` ms (timed scenarios; vacuous if no reachable state satisfies the
        trigger)."""
        return Property(id, name, "within", claim, rules, self.title, state=state, bound=bound,
                        **_triggered(id, trigger, antecedent), **options)


def _triggered(id: str, trigger: StatePredicate | None, antecedent: str) -> dict:
    """``trigger`` and ``antecedent`` go together: a trigger is described, a description has one."""
    if (trigger is None) != (not antecedent):
        raise ValueError(f"{id}: give a trigger together with its antecedent in words")
    return {"trigger": trigger, "antecedent": antecedent}
