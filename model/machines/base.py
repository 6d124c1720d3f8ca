"""How a python-statemachine class is tied to the state vector: bindings beside each machine.

A machine class declares control states and events only.  Its module also defines
``fields(ctx)`` (the data fields it owns) and ``bind(ctx)`` returning a :class:`Binding`:
the IR expression behind every ``cond`` name, and per ``event`` (or ``event@source``) the
variants of the step — which message it receives, which it sends, which data it updates.
The same condition expressions back the instance methods (``cond_value``), so replay through a
python-statemachine instance and exploration of the compiled IR cannot disagree: every
``cond``/``unless`` name of a :class:`BoundMachine` subclass gets such a method when the class is
created (a class that writes its own is a :class:`ModelError`).  Each transition is declared
once, in the class; :func:`check_binding` holds a binding to it: every ``effects`` key names an
(event, source state) pair of the class, every pair has effects, and the ``conds`` are exactly
the class's condition names.  A control state is a field of the state vector holding the index
of its state id in ``cls.states`` (:func:`state_ids`, :func:`state_index`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from statemachine import State, StateMachine

from ..ir import TRUE, C, Expr, F, and_, evaluate, max_, not_
from ..messages import in_flow, is_ike
from ..suggest import did_you_mean


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
        """The variants of ``event`` taken from state ``source``: key ``event@source``, else ``event``."""
        key = f"{event}@{source}"
        if key in self.effects:
            return self.effects[key]
        if event in self.effects:
            return self.effects[event]
        raise ModelError(f"no effects for {key}: the binding has neither {key!r} nor {event!r}")

    def guard_of(self, transition) -> Expr:
        """The IR expression of a transition's ``cond``/``unless`` names (``unless`` negated)."""
        parts = []
        for c in transition.cond:
            name = str(c)
            neg = name.startswith("!")
            name = name.lstrip("!")
            if name not in self.conds:
                raise ModelError(f"condition {name!r} has no IR binding")
            parts.append(not_(self.conds[name]) if neg else self.conds[name])
        return and_(*parts)


def V(guard: Expr = TRUE, recv: str | None = None, send: Sequence[str] = (),
      updates: dict[str, Expr] | None = None, label: str = "", rules: Sequence[str] = ()) -> Variant:
    ups = tuple((k, v if isinstance(v, Expr) else C(v)) for k, v in (updates or {}).items())
    return Variant(guard, recv, tuple(send), ups, label, tuple(rules))


class ModelError(ValueError):
    """The model is inconsistent: a message sent that nobody can receive, an unknown control
    state, a condition without an IR binding ..."""


def transitions(cls, event: str | None = None) -> list[tuple[State, object, str]]:
    """``(source state, transition, event name)`` of a machine class in declaration order: state
    by state, each transition once per event it answers (only ``event``'s, if given)."""
    return [(st, t, str(ev)) for st in cls.states for t in st.transitions for ev in t.events
            if event is None or str(ev) == event]


def event_sources(cls) -> dict[str, list[str]]:
    """Each event of a machine class -> the ids of the states it leaves, in ``cls.states`` order."""
    out: dict[str, list[str]] = {}
    for st, _, ev in transitions(cls):
        srcs = out.setdefault(ev, [])
        if st.id not in srcs:
            srcs.append(st.id)
    return out


def condition_names(cls) -> list[str]:
    """The ``cond``/``unless`` names of a machine class's transitions, in declaration order."""
    out: list[str] = []
    for st in cls.states:
        for t in st.transitions:
            for c in t.cond:
                name = str(c).lstrip("!")
                if name not in out:
                    out.append(name)
    return out


def effect_keys(cls) -> list[str]:
    """The keys a binding of ``cls`` may use in ``effects``: each event, and ``event@source``."""
    return [k for ev, srcs in event_sources(cls).items() for k in (ev, *(f"{ev}@{s}" for s in srcs))]


def check_binding(cls, b: Binding) -> None:
    """Hold a binding to its machine class, else raise :class:`ModelError` naming the bad key.

    Every ``effects`` key is an event of ``cls`` or ``event@source`` for a state the event leaves;
    every (event, source) pair has effects (under one of its two keys); a plain ``event`` key is
    used by at least one source; every ``conds`` key is a ``cond``/``unless`` name of ``cls`` and
    every such name has an expression.
    """
    name = cls.__name__
    keys = effect_keys(cls)
    valid = f"; valid keys: {', '.join(keys)}"
    for key in b.effects:
        if key not in keys:
            raise ModelError(f"{name} binding: effects key {key!r} is no event or event@source of "
                             f"{name}{did_you_mean(key, keys)}{valid}")
    for ev, srcs in event_sources(cls).items():
        missing = [s for s in srcs if f"{ev}@{s}" not in b.effects]
        if missing and ev not in b.effects:
            raise ModelError(f"{name} binding: no effects for {ev}@{missing[0]} (key {ev!r} or "
                             f"{ev + '@' + missing[0]!r}){valid}")
        if not missing and ev in b.effects:
            raise ModelError(f"{name} binding: effects key {ev!r} is never used: every state "
                             f"{ev} leaves has its own {ev}@source key{valid}")
    conds = condition_names(cls)
    for c in b.conds:
        if c not in conds:
            raise ModelError(f"{name} binding: condition {c!r} is used by no transition of {name}"
                             f"{did_you_mean(c, conds)}; conditions: {', '.join(conds)}")
    for c in conds:
        if c not in b.conds:
            raise ModelError(f"{name} binding: condition {c!r} has no IR expression")


def state_ids(cls) -> list[str]:
    """The control state ids of a machine class, in the order of their field values."""
    return list(_state_ids(cls))


@functools.cache
def _state_ids(cls) -> tuple[str, ...]:
    # A class's states are fixed when it is created; iterating ``cls.states`` is slow.
    return tuple(s.id for s in cls.states)


def state_index(cls, state_id: str) -> int:
    """The value of ``cls``'s control field in state ``state_id`` (python-statemachine id)."""
    ids = _state_ids(cls)
    try:
        return ids.index(state_id)
    except ValueError:
        raise ModelError(f"{cls.__name__} has no state {state_id!r}; states: {', '.join(ids)}") from None


class Ctx:
    """What a binding may ask about the scenario while the system is being composed; it reaches
    the channels only through ``in_flight`` (either direction), ``in_flight_from`` (one
    direction) and ``settled`` (the host's inbox), all three given by the composition."""

    def __init__(self, host: str, scenario, in_flight: Callable[[str, Sequence[str]], Expr],
                 in_flight_from: Callable[[str, Sequence[str]], Expr] | None = None,
                 settled: Callable[[], Expr] | None = None,
                 role_in: Callable[[str, str, Sequence[str]], Expr] | None = None,
                 flow: int = 1, flow_ike: bool = False):
        self.host = host
        #: a per-flow Quick Mode machine (``ike.qm_sa = "flow"``, A-16): its IKE messages carry
        #: the flow's number too (``QM2#2``), and the flow flags it reads are its flow's
        self.flow_ike = flow_ike
        self.sc = scenario
        self._in_flight = in_flight
        self._from = in_flight_from
        self._settled = settled
        self._role_in = role_in
        #: the flow a TCP end's context speaks for (DESIGN.md "Flows"): its fields and TCP
        #: segments carry the flow's number (:func:`~ndcheck.model.messages.in_flow`); an IKE
        #: machine's context is the host's (flow 1: plain names)
        self.flow = flow
        #: the TCP role of this host in the flow: ``client`` (active opener) or ``server``
        flows = getattr(scenario, "flows", ())
        self.role = (("client" if flows[flow - 1].opener == host else "server")
                     if len(flows) >= flow else host)

    def f(self, name: str) -> Expr:
        """A field of this host (``snd_una`` -> ``client.snd_una``; flow 2: ``client.snd_una#2``)."""
        return F(self.n(name))

    def n(self, name: str) -> str:
        return in_flow(f"{self.host}.{name}", self.flow)

    def msgs(self, msgs: Sequence[str]) -> list[str]:
        """TCP message ids as this context's flow names them (IKE messages are the host's)."""
        return [m if is_ike(m) and not self.flow_ike else in_flow(m, self.flow) for m in msgs]

    def flow_flag(self, name: str) -> Expr:
        """A flow-table flag of the host (``flow_ge``) over every flow: set for some flow (one
        flow: the field itself).  The host's IKE service reads it for the Quick Mode it builds
        for whichever flow triggered it (host-to-host SAs, A-16); a per-flow Quick Mode machine
        reads its own flow's."""
        if self.flow_ike:
            return self.f(name)
        n = max(1, len(getattr(self.sc, "flows", ())))
        fs = [F(in_flow(f"{self.host}.{name}", i)) for i in range(1, n + 1)]
        return fs[0] if n == 1 else functools.reduce(max_, fs)

    def role_in(self, role: str, *state_ids: str) -> Expr:
        """True when this host's machine ``role`` (``ike_r`` -> ``client.ike_r``) is in one of the
        control states ``state_ids``; false when the host has no such machine.  The two IKE roles
        of a host share its MMSAD (A-6 asks whether the responder is answering a Main Mode)."""
        if self._role_in is None:
            raise ModelError("this Ctx cannot read other machines' control states")
        return self._role_in(self.host, role, state_ids)

    def quiet(self, *msgs: str) -> Expr:
        """True when none of ``msgs`` (any protection, either direction) is in flight.

        Timeout guards use it: by default a retransmission timer fires only when neither the
        segment nor its answer is still in the network (A real RTO is longer than the round trip);
        with ``tcp.premature_timeouts`` any timeout may fire at any time.
        """
        if self.sc.tcp.premature_timeouts:
            return TRUE
        return self._in_flight(self.host, self.msgs(msgs))

    def none_from(self, src: str, msgs: Sequence[str]) -> Expr:
        """No copy of ``msgs`` (any protection) sent by host ``src`` is in flight.  Without a
        one-direction view (a probe, a test) it asks both directions, which is stronger."""
        if not msgs:
            return TRUE
        if self._from is None:
            return self._in_flight(self.host, self.msgs(msgs))
        return self._from(src, self.msgs(msgs))

    def settled(self) -> Expr:
        """The system has settled: nothing that a machine of either host could take now is on
        its way (every TCP segment counts; an IKE message where its receiver's IKE machine takes
        it in its current control state) and no urgent step (``URGENT_EVENTS``) is enabled."""
        if self._settled is None:
            return TRUE
        return self._settled()


def guard(name: str):
    """A condition method whose truth is the binding's IR expression for ``name``."""

    def method(self) -> bool:
        return self.cond_value(name)

    method.__name__ = name
    method.__qualname__ = name
    method.__wrapped_condition__ = name
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
                    own = vars(cls).get(name)
                    if own is None:
                        setattr(cls, name, guard(name))
                    elif getattr(own, "__wrapped_condition__", None) != name:
                        raise ModelError(f"{cls.__name__} defines {name!r} itself: a condition is "
                                         f"an IR expression in the machine's binding, not a method")

    def attach(self, conds: dict[str, Expr]) -> None:
        self._cond_exprs = conds

    def set_vector(self, getter: Callable[[str], int]) -> None:
        self._getter = getter

    def cond_value(self, name: str) -> bool:
        return bool(evaluate(self._cond_exprs[name], self._getter))
