"""How a python-statemachine class is tied to the state vector: bindings beside each machine.

A machine class declares control states and events only.  Its module also defines
``fields(ctx)`` (the data fields it owns) and ``bind(ctx)`` returning a :class:`Binding`:
the IR expression behind every ``cond`` name, and per ``event`` (or ``event@source``) the
variants of the step — which message it receives, which it sends, which data it updates.
The same condition expressions back the instance methods (``cond_value``), so replay through a
python-statemachine instance and exploration of the compiled IR cannot disagree: every
``cond``/``unless`` name of a :class:`BoundMachine` subclass gets such a method when the class is
created.  A control state is a field of the state vector holding the index of its state id in
``cls.states`` (:func:`state_ids`, :func:`state_index`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from statemachine import State, StateMachine

from ..ir import TRUE, C, Expr, F, evaluate


@dataclass(frozen=True, slots=True)
class Variant:
    """One concrete form of a machine step.

    ``recv``: message consumed (from the peer); ``send``: messages produced (toward the peer);
    ``guard``: extra data condition; ``updates``: field updates (absolute field names);
    ``label``: suffix shown in the action name (e.g. ``DATA2``); ``acquire``: the step raises
    an acquire on this host's IKE initiator (IKE messages it triggers are sent by that machine).
    """

    guard: Expr = TRUE
    recv: str | None = None
    send: tuple[str, ...] = ()
    updates: tuple[tuple[str, Expr], ...] = ()
    label: str = ""
    rules: tuple[str, ...] = ()


@dataclass(slots=True)
class Binding:
    conds: dict[str, Expr] = field(default_factory=dict)
    effects: dict[str, list[Variant]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Scenario constants may arrive as Python booleans; make every condition an Expr.
        self.conds = {k: v if isinstance(v, Expr) else C(v) for k, v in self.conds.items()}

    def variants(self, event: str, source: str) -> list[Variant]:
        key = f"{event}@{source}"
        if key in self.effects:
            return self.effects[key]
        if event in self.effects:
            return self.effects[event]
        raise KeyError(key)


def V(guard: Expr = TRUE, recv: str | None = None, send: Sequence[str] = (),
      updates: dict[str, Expr] | None = None, label: str = "", rules: Sequence[str] = ()) -> Variant:
    ups = tuple((k, v if isinstance(v, Expr) else C(v)) for k, v in (updates or {}).items())
    return Variant(guard, recv, tuple(send), ups, label, tuple(rules))


class ModelError(ValueError):
    """The model is inconsistent: a message sent that nobody can receive, an unknown control
    state, a condition without an IR binding ..."""


def state_ids(cls) -> list[str]:
    """The control state ids of a machine class, in the order of their field values."""
    return [s.id for s in cls.states]


def state_index(cls, state_id: str) -> int:
    """The value of ``cls``'s control field in state ``state_id`` (python-statemachine id)."""
    ids = state_ids(cls)
    try:
        return ids.index(state_id)
    except ValueError:
        raise ModelError(f"{cls.__name__} has no state {state_id!r}; states: {', '.join(ids)}") from None


class Ctx:
    """What a binding may ask about the scenario while the system is being composed; it reaches
    the channels only through ``in_flight``."""

    def __init__(self, host: str, scenario, in_flight: Callable[[str, Sequence[str]], Expr]):
        self.host = host
        self.sc = scenario
        self._in_flight = in_flight

    def f(self, name: str) -> Expr:
        """A field of this host (``snd_una`` -> ``client.snd_una``)."""
        return F(f"{self.host}.{name}")

    def n(self, name: str) -> str:
        return f"{self.host}.{name}"

    def quiet(self, *msgs: str) -> Expr:
        """True when none of ``msgs`` (any protection, either direction) is in flight.

        Timeout guards use it: by default a retransmission timer fires only when neither the
        segment nor its answer is still in the network (A real RTO is longer than the round trip);
        with ``tcp.premature_timeouts`` any timeout may fire at any time.
        """
        if self.sc.tcp.premature_timeouts:
            return TRUE
        return self._in_flight(self.host, msgs)


def guard(name: str):
    """A condition method whose truth is the binding's IR expression for ``name``."""

    def method(self) -> bool:
        return self.cond_value(name)

    method.__name__ = name
    method.__qualname__ = name
    return method


class BoundMachine(StateMachine):
    """Base class: condition methods evaluate IR expressions on the current state vector.

    A subclass declares no condition methods: each ``cond``/``unless`` name its transitions use
    becomes a :func:`guard` method when the class is created.
    """

    _cond_exprs: Mapping[str, Expr] = MappingProxyType({})  # set per instance by attach()
    _getter: Callable[[str], int] | None = None

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        for state in [v for v in vars(cls).values() if isinstance(v, State)]:
            for t in state.transitions:
                for c in t.cond:
                    name = str(c).lstrip("!")
                    if name not in vars(cls):
                        setattr(cls, name, guard(name))

    def attach(self, conds: dict[str, Expr]) -> None:
        self._cond_exprs = conds

    def set_vector(self, getter: Callable[[str], int]) -> None:
        self._getter = getter

    def cond_value(self, name: str) -> bool:
        return bool(evaluate(self._cond_exprs[name], self._getter))
