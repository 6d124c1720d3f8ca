"""Composition: machines + ND packet rules + network -> the System IR, as a pipeline of named stages.

:func:`build_system` binds the machines -- each host's TCP end and, since both hosts run IKE in
both roles (DESIGN.md, A-13), its IKE initiator ``{host}.ike_i`` and responder ``{host}.ike_r``
where they exist (:func:`machine_keys`) -- (a probe pass learns the message alphabet, the real
pass lets timeout guards read the channels), lays out the network, then asks one
:class:`Composer` for the fields and the guarded commands.  Every machine transition (and each
of its binding variants) goes through the composer's stages, each a function of its own:

* :meth:`~Composer.enable` -- the machine's control state, ``cond``/``unless`` and variant guard;
* :meth:`~Composer.receive` -- a received TCP segment passes the receiver's inbound filter
  (ND-16..ND-20); an inbound drop is a command of its own (:meth:`~Composer.drops`);
* :meth:`~Composer.step` -- the machine moves and updates its data;
* :meth:`~Composer.send` -- a sent TCP segment passes the sender's outbound filter
  (ND-6..ND-15), one fork per decision-table row;
* :meth:`~Composer.acquire` -- a row that triggers IKE queues an acquire to the host's IKE
  service (coalesced while one is pending or a negotiation runs, A-4); the initiator takes it in
  the same step or a later one (timers-failures Q1-Q3).

Stages compose sequentially by substitution (:class:`Fork`), so a later stage sees the updates
of an earlier one.  Unmatched send/receive events are rejected at build time.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from types import ModuleType

from .ir import (
    FALSE,
    TRUE,
    C,
    Command,
    Expr,
    F,
    Field,
    FlowNames,
    Limits,
    Packet,
    System,
    and_,
    eq,
    ite,
    not_,
    or_,
    substitute,
)
from .machines import (
    ike_initiator,
    ike_mm_initiator,
    ike_mm_responder,
    ike_qm_initiator,
    ike_qm_responder,
    ike_responder,
    tcp_client,
    tcp_server,
)
from .machines.base import (
    Binding,
    BoundMachine,
    Ctx,
    ModelError,
    V,
    Variant,
    check_binding,
    event_sources,
    state_index,
    transitions,
)
from .messages import HOSTS, flow_of, in_flow, is_ike, is_qm, other, unflowed
from .nd_rules import (
    AFTER_OUTBOUND,
    BEFORE_OUTBOUND,
    ON_ACCEPT,
    inbound_branches,
    marks,
    new_flow_states,
    outbound_branches,
    outbound_table,
)
from .network import Key, Network
from .scenario import Scenario
from .timing import Timing

# host -> machine key suffix -> module (the machines a host can have; :func:`machine_keys` says
# which of them a scenario composes)
MACHINES: dict[str, dict[str, ModuleType]] = {
    "client": {"tcp": tcp_client, "ike_i": ike_initiator, "ike_r": ike_responder},
    "server": {"tcp": tcp_server, "ike_i": ike_initiator, "ike_r": ike_responder},
}

#: With per-flow Quick Mode SAs (``ike.qm_sa = "flow"``, A-16) a host's IKE initiator and
#: responder split: Main Mode per host (``ike_mi``, ``ike_mr``), Quick Mode per flow under the
#: keys the host-wide machines have otherwise (``ike_i``, ``ike_i#2`` ...; ``ike_r`` ...).
PER_FLOW_IKE: dict[str, ModuleType] = {"ike_mi": ike_mm_initiator, "ike_mr": ike_mm_responder,
                                       "ike_i": ike_qm_initiator, "ike_r": ike_qm_responder}
#: ... and the host's SAD fields (:data:`HOST_FIELDS`) that are then the flow's
PER_FLOW_SAD = ("acq_pending", "sa_in", "sa_out", "sa_boundary", "sa_ge", "sa_in_ge")

#: TCP end modules by the end's role in its flow (the active opener runs ``tcp_client``)
TCP_ROLES: dict[str, ModuleType] = {"client": tcp_client, "server": tcp_server}

HOST_FIELDS = (
    ("mm_sa", "MMSAD: an MM SA with the peer exists (either IKE role negotiated it, D3)"),
    ("mm_nd", "MMSAD: Negotiation Discovery Supported (ND-2, ND-4)"),
    ("acq_pending", "IKE service: an acquire is queued, not yet taken (timers-failures Q1-Q3)"),
    ("sa_in", "SAD: an inbound QM SA is installed (every one is kept, D10)"),
    ("sa_out", "SAD: an outbound QM SA is installed (usable; the newest replaces the older, D4)"),
    ("sa_boundary", "SAD: SA.Boundary (peer's inbound rule is boundary, ND-21/23)"),
    ("sa_ge", "SAD: SA.GE of the outbound SA (encryption SA usable by GE flows, ND-12, ND-21)"),
    ("sa_in_ge", "SAD: some installed inbound SA has SA.GE (ND-20)"),
)
#: the flow table's flags, one set per flow (``client.secure``, ``client.secure#2`` ...)
FLOW_FIELDS = (
    ("secure", "flow table: Secure (ND-14, ND-19)"),
    ("acquire", "flow table: Acquire (ND-8)"),
    ("flow_ge", "flow table: GE (ND-7, ND-20)"),
)

Event = tuple[str, str, str]   # (machine key, event name, source state id)

#: IKE messages the host's IKE service takes in any state (composition steps, not a role
#: machine's): the DELETE (:meth:`Composer.deletes`).
SERVICE_MESSAGES = ("DELETE",)


@dataclass(frozen=True, slots=True)
class Fork:
    """One ND branch of a step being composed: its guard and updates so far, and what it collected.

    Stages compose sequentially by substitution: :meth:`cond` reads the state *after* the
    updates so far, :meth:`set` adds updates whose right-hand sides read that state too.
    :meth:`add` extends the action-name suffix, the rule ids, the wire packets, the segments
    held back and the machine events (the step's own, then the driven ones) the branch has taken.
    """

    guard: Expr = TRUE
    updates: dict[str, Expr] = dataclass_field(default_factory=dict)
    name: str = ""
    rules: tuple[str, ...] = ()
    wire: tuple[Packet, ...] = ()
    events: tuple[Event, ...] = ()
    held: tuple[Packet, ...] = ()

    def cond(self, g: Expr) -> Fork:
        return Fork(and_(self.guard, substitute(g, self.updates)), self.updates, self.name,
                    self.rules, self.wire, self.events, self.held)

    def set(self, ups: Mapping[str, Expr] | Sequence[tuple[str, Expr]]) -> Fork:
        if not ups:
            return self
        items = ups.items() if isinstance(ups, Mapping) else ups
        new = dict(self.updates)
        for k, v in items:
            new[k] = substitute(v, self.updates)
        return Fork(self.guard, new, self.name, self.rules, self.wire, self.events, self.held)

    def add(self, name: str = "", rules: Sequence[str] = (), wire: Sequence[Packet] = (),
            events: Sequence[Event] = (), held: Sequence[Packet] = ()) -> Fork:
        return Fork(self.guard, self.updates, self.name + name, self.rules + tuple(rules),
                    self.wire + tuple(wire), self.events + tuple(events), self.held + tuple(held))

    def command(self, name: str, kind: str, tags: tuple[str, ...]) -> Command:
        """The finished branch as a guarded command named ``name`` + the collected suffix."""
        return Command(name=name + self.name, guard=self.guard,
                       updates=tuple(sorted(self.updates.items())), wire=self.wire,
                       events=self.events, rules=tuple(dict.fromkeys(self.rules)), kind=kind,
                       tags=tags, held=self.held)


# --------------------------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------------------------


#: Systems composed in this process, by scenario (``repr``: scenarios hold dicts, so they do not
#: hash), most recently used last.  A notebook or the test suite builds the same scenario again
#: and again (the suite: about 830 builds, 200 CPU s of composition, most of them repeats);
#: each call gets its own copy (:func:`_copy`), so what one caller does to its system (a mutant's
#: name, an engine's cache) is not seen by the next.  The catalog's 42 systems take about 140 MB.
_BUILT: OrderedDict[str, System] = OrderedDict()
BUILT_SIZE = 64


def build_system(sc: Scenario) -> System:
    """Compose the scenario's four machines, ND rules and network into a :class:`System`
    (once per scenario in a process, :data:`_BUILT`; a new copy each call)."""
    key = repr(sc)
    system = _BUILT.get(key)
    if system is None:
        system = _BUILT[key] = _compose(sc)
        while len(_BUILT) > BUILT_SIZE:
            _BUILT.popitem(last=False)
    else:
        _BUILT.move_to_end(key)
    return _copy(system)


def _copy(system: System) -> System:
    """``system`` with its own lists and dictionaries (the fields, commands and expressions are
    immutable and shared) and an empty engine cache."""
    return dataclasses.replace(system, fields=list(system.fields), commands=list(system.commands),
                               machines=dict(system.machines),
                               conds={k: dict(v) for k, v in system.conds.items()},
                               alphabet={k: list(v) for k, v in system.alphabet.items()}, cache={})


def _compose(sc: Scenario) -> System:
    """The composition itself (:func:`build_system` without the cache)."""
    probe = bind_machines(sc, lambda host, msgs: TRUE)   # timeout guards are not needed yet
    net = Network(sc, alphabet(sc, probe))
    # Urgent steps' guards read no channel, so the probe's bindings describe them exactly.
    inbox = Inbox(net, probe)
    bindings = bind_machines(sc, lambda host, msgs: net.none_of(msgs), net.none_from, inbox.settled)
    comp = Composer(sc, net, bindings)
    if sc.time.timed:
        # Timed (model/timing.py): timer conditions read clocks; the tick waits for what is urgent.
        comp.timing = Timing(sc, bindings, comp.machines, {k: _module(k, sc) for k in comp.machines},
                             comp.variants)
        for key, conds in comp.timing.timed_conds().items():
            bindings[key].conds.update(conds)
        comp.quiet = inbox.settled(due=True)
    limits = Limits(sc.bounds.max_states, sc.bounds.timeout, sc.bounds.max_memory,
                    sc.network.capacity)
    system = System(sc.name, comp.fields(), comp.commands(), comp.machines,
                    description=sc.description, limits=limits,
                    conds={k: b.conds for k, b in bindings.items()}, alphabet=net.alphabet,
                    scenario=sc, rebuild=lambda values: build_system(sc.with_knobs(values)),
                    flows=comp.flow_names())
    _check_fields(system)
    return system


def may_delete(sc: Scenario, h: str) -> bool:
    """Host ``h`` may send a DELETE for the flow's QM SAs: the knob ``ike.delete`` lets it, and
    the hosts can negotiate QM SAs at all (one of them initiates)."""
    return sc.ike.deletes(h) and any(sc.initiates(x) for x in HOSTS)


def machine_class(mod: ModuleType) -> type:
    for obj in vars(mod).values():
        if isinstance(obj, type) and issubclass(obj, BoundMachine) and obj is not BoundMachine \
                and obj.__module__ == mod.__name__:
            return obj
    raise ModelError(f"{mod.__name__} defines no machine class")


def machine_keys(h: str, sc: Scenario) -> list[str]:
    """The machine keys of host ``h`` in scenario ``sc``, in composition order: its TCP end
    (``client.tcp``), its IKE initiator (``client.ike_i``) when it can initiate
    (:meth:`Scenario.initiates`: an outbound rule that triggers IKE and an IKE stack), its IKE
    responder (``client.ike_r``) when the peer can."""
    keys = [f"{h}.tcp"]
    ike = [k for k, on in (("ike_i", sc.initiates(h)), ("ike_r", sc.initiates(other(h)))) if on]
    if sc.ike.per_flow:
        # A-16 per flow: the host's Main Mode machines, then each flow's Quick Mode machines
        keys.extend(f"{h}.ike_m{k[-1]}" for k in ike)
    keys.extend(f"{h}.{k}" for k in ike)
    # further flows' TCP ends (and Quick Mode machines) after the first flow's machines
    for i in range(2, len(sc.flows) + 1):
        keys.append(in_flow(f"{h}.tcp", i))
        if sc.ike.per_flow:
            keys.extend(in_flow(f"{h}.{k}", i) for k in ike)
    return keys


def tcp_role(sc: Scenario, h: str, flow: int) -> str:
    """``h``'s TCP role in ``flow``: ``client`` if it opens the flow, else ``server``."""
    return "client" if sc.flows[flow - 1].opener == h else "server"


def _module(key: str, sc: Scenario | None = None) -> ModuleType:
    """The module of machine ``key``: a TCP end's by its role in its flow (the first flow's
    client end is the client's), an IKE machine's by its role."""
    base = unflowed(key)
    h, _, m = base.partition(".")
    if m == "tcp" and sc is not None:
        return TCP_ROLES[tcp_role(sc, h, flow_of(key))]
    if sc is not None and sc.ike.per_flow:
        return PER_FLOW_IKE[m]
    return MACHINES[h][m]


def role_reader(sc: Scenario):
    """``role_in(host, role, state_ids)`` for :meth:`Ctx.role_in`: the host's machine ``role`` is
    in one of the states (false if the scenario gives the host no such machine)."""

    def role_in(host: str, role: str, state_ids) -> Expr:
        key = f"{host}.{role}"
        if key not in machine_keys(host, sc):
            return FALSE
        cls = machine_class(_module(key, sc))
        return or_(*[eq(F(key), state_index(cls, s)) for s in state_ids])

    return role_in


def bind_machines(sc: Scenario, in_flight, in_flight_from=None, settled=None) -> dict[str, Binding]:
    """Every machine's binding (machine key -> :class:`Binding`), each held to its class
    (:func:`check_binding`); ``in_flight(host, msgs)``, ``in_flight_from(src, msgs)`` and
    ``settled()`` back the timeout guards (:meth:`Ctx.quiet`,
    :meth:`Ctx.none_from`, :meth:`Ctx.settled`)."""
    out: dict[str, Binding] = {}
    for h in HOSTS:
        for key in machine_keys(h, sc):
            fl = flow_of(key)
            ctx = Ctx(h, sc, in_flight, in_flight_from, settled, role_reader(sc), flow=fl,
                      flow_ike=per_flow_qm(sc, key))
            mod = _module(key, sc)
            out[key] = _flowed(mod.bind(ctx), ctx) if fl > 1 else mod.bind(ctx)
            check_binding(machine_class(mod), out[key])
    return out


def per_flow_qm(sc: Scenario, key: str) -> bool:
    """``key`` is a flow's Quick Mode machine (``ike.qm_sa = "flow"``, A-16)."""
    return sc.ike.per_flow and unflowed(key).split(".")[1] in ("ike_i", "ike_r")


def _flowed(b: Binding, ctx: Ctx) -> Binding:
    """A further flow's TCP (or Quick Mode) binding: the segments it sends and receives carry the flow's number
    (its fields and channel guards already do, through ``ctx``)."""
    def msg(m):
        return ctx.msgs([m])[0] if m else m
    return Binding(b.conds, {k: [dataclasses.replace(v, recv=msg(v.recv), send=tuple(ctx.msgs(v.send)))
                                 for v in vs] for k, vs in b.effects.items()})


def alphabet(sc: Scenario, bindings: dict[str, Binding]) -> dict[str, list[Key]]:
    """The channel entries each host sends: every message a variant sends, IKE unprotected, TCP
    in each protection its outbound table can choose.  A message sent by one host and received
    by no machine of the other (or the reverse) is a :class:`ModelError`."""
    sends: dict[str, list[str]] = {h: [] for h in HOSTS}
    recvs: dict[str, list[str]] = {h: [] for h in HOSTS}
    for h in HOSTS:
        for key in machine_keys(h, sc):
            for variants in bindings[key].effects.values():
                for v in variants:
                    for msg in v.send:
                        if msg not in sends[h]:
                            sends[h].append(msg)
                    if v.recv and v.recv not in recvs[h]:
                        recvs[h].append(v.recv)
    for h in HOSTS:
        p = other(h)
        unmatched = [m for m in sends[h] if m not in recvs[p]]
        if unmatched:
            raise ModelError(f"{h} sends {', '.join(unmatched)} but no {p} machine event receives it")
        unheard = [m for m in recvs[p] if m not in sends[h]]
        if unheard:
            raise ModelError(f"{p} receives {', '.join(unheard)} but no {h} machine event sends it")
    for h in HOSTS:
        # The DELETE is the IKE service's (composition: Composer.deletes), not a role machine's.
        if may_delete(sc, h) and "DELETE" not in sends[h]:
            sends[h].append("DELETE")
    out: dict[str, list[Key]] = {}
    for h in HOSTS:
        acts = {r.action for r in outbound_table(getattr(sc, h))}
        prots = [p for p in ("clear", "esp") if p in acts]
        keys = []
        for msg in sends[h]:
            if is_ike(msg):
                keys.append(Key(h, msg, ""))
            else:
                keys.extend(Key(h, msg, p) for p in prots)
        out[h] = keys
    return out


class Inbox:
    """When the system has settled, for :meth:`Ctx.settled`: nothing a host could take now is on
    its way -- every TCP segment counts (each TCP state takes, or an inbound filter drops, what
    can reach it), an IKE message where one of the IKE machine's transitions from its current
    control state receives it -- and no machine has an *urgent* step enabled (a class's
    ``URGENT_EVENTS``: an application write or close that happens at once, such as TCP's
    ``send_data`` and ``send_fin``).  A transition whose condition or variant guard folds to false
    takes nothing and is never urgent."""

    def __init__(self, net: Network, bindings: dict[str, Binding]):
        self.net = net
        self.bindings = bindings
        self.takes: dict[tuple[str, str], list[str]] = {}
        for h in HOSTS:
            for key in self._keys(h):
                cls = machine_class(_module(key, self.net.sc))
                b = bindings[key]
                for st, t, ev in transitions(cls):
                    if _false(b.guard_of(t)):
                        continue
                    msgs = self.takes.setdefault((key, st.id), [])
                    for v in b.variants(ev, st.id):
                        if v.recv and not _false(v.guard) and v.recv not in msgs:
                            msgs.append(v.recv)
        self._settled: Expr | None = None

    def _keys(self, h: str) -> list[str]:
        return [k for k in self.bindings if k.split(".")[0] == h]

    def urgent(self) -> Expr:
        """Some machine can take an urgent step (its class's ``URGENT_EVENTS``)."""
        out = []
        for h in HOSTS:
            for key in self._keys(h):
                cls = machine_class(_module(key, self.net.sc))
                b = self.bindings[key]
                for ev in getattr(cls, "URGENT_EVENTS", ()):
                    for st, t, _ in transitions(cls, ev):
                        for v in b.variants(ev, st.id):
                            out.append(and_(eq(F(key), state_index(cls, st.id)), b.guard_of(t),
                                            v.guard))
        return or_(*out)

    def settled(self, due: bool = False) -> Expr:
        """The system has settled: no TCP segment can be delivered in either direction, no IKE
        message that its receiver's IKE machine takes in its current control state, and no
        urgent step is enabled.  ``due`` (the timed tick): only copies that reached the maximum
        network delay count (:meth:`Network.none_due`; without delay the same)."""
        if self._settled is None or due:
            none = self.net.none_due if due else self.net.none_deliverable
            parts = [not_(self.urgent())]
            for h in HOSTS:
                src = other(h)
                parts.append(none(
                    src, sorted({k.msg for k in self.net.alphabet[src]
                                 if not is_ike(k.msg) or k.msg in SERVICE_MESSAGES})))
                for k in self._keys(h):
                    cls = machine_class(_module(k, self.net.sc))
                    for st in cls.states:
                        msgs = [m for m in self.takes.get((k, st.id), []) if is_ike(m)]
                        if msgs:
                            parts.append(or_(not_(eq(F(k), state_index(cls, st.id))),
                                             none(src, msgs)))
            if due:
                return and_(*parts)
            self._settled = and_(*parts)
        return self._settled


def _false(e: Expr) -> bool:
    return e.op == "const" and e.args[0] == 0


def _alive(forks: list[Fork]) -> list[Fork]:
    """The forks whose guard has not folded to false (the others could only make commands that
    :meth:`Composer.commands` leaves out; dropping them early saves the later stages)."""
    return [f for f in forks if not _false(f.guard)]


class Composer:
    """The product of one scenario's machines, ND rules and network: fields and commands."""

    def __init__(self, sc: Scenario, net: Network, bindings: dict[str, Binding]):
        self.sc = sc
        self.net = net
        self.bindings = bindings
        self.machines: dict[str, type] = {key: machine_class(_module(key, sc))
                                          for h in HOSTS for key in machine_keys(h, sc)}
        # What every step consults, computed once: event sources, filter rows, marks.
        self._sources = {key: event_sources(cls) for key, cls in self.machines.items()}
        flows = range(1, len(sc.flows) + 1)
        self._outbound = {(h, fl): outbound_branches(h, sc, fl) for h in HOSTS for fl in flows}
        self._inbound = {(h, esp, fl): inbound_branches(h, sc, esp, self.new_flow(h, fl), fl)
                         for h in HOSTS for esp in (False, True) for fl in flows}
        self._marks = {(h, stage, fl): marks(h, sc, stage, fl) for h in HOSTS
                       for stage in (BEFORE_OUTBOUND, AFTER_OUTBOUND, ON_ACCEPT) for fl in flows}
        self._live = self.live()
        self.timing: Timing | None = None   # set by build_system in a timed scenario
        self.quiet: Expr = TRUE             # ... with the tick's urgency condition

    # -- static pruning -----------------------------------------------------------------------
    def live(self) -> set[tuple[str, str, str, int]]:
        """The variants that may ever fire, as ``(machine key, event, source, variant index)``:
        a least fixpoint from the initial control states over transitions whose condition and
        variant guard do not fold to false and whose received message some live variant of the
        peer sends.  Driven events are live when their driver exists (``acquire``: the outbound
        filter; ``sa_expire``: ``ike.sa_expiry`` or ``ike.delete``).  A variant outside it cannot fire in any run,
        so leaving out its commands changes no behaviour (a scenario's knobs turn whole parts of
        a machine off: the close with ``tcp.close = "none"``, the server's data with
        ``tcp.server_segments = 0`` ...)."""
        drivers = {"acquire": True, "sa_expire": self.sc.ike.sa_loss}
        states = {key: {next(s.id for s in cls.states if s.initial)}
                  for key, cls in self.machines.items()}
        sent: set[tuple[str, str]] = set()
        live: set[tuple[str, str, str, int]] = set()
        changed = True
        while changed:
            changed = False
            for key, cls in self.machines.items():
                h = key.split(".")[0]
                b = self.bindings[key]
                driven = getattr(cls, "DRIVEN_EVENTS", ())
                for st, t, ev in transitions(cls):
                    if st.id not in states[key] or _false(b.guard_of(t)) \
                            or (ev in driven and not drivers.get(ev, True)):
                        continue
                    for i, v in enumerate(b.variants(ev, st.id)):
                        if (key, ev, st.id, i) in live or _false(v.guard) \
                                or (v.recv and (other(h), v.recv) not in sent):
                            continue
                        live.add((key, ev, st.id, i))
                        states[key].add(t.target.id)
                        sent.update((h, m) for m in v.send)
                        changed = True
        return live

    def variants(self, key: str, ev: str, st: str) -> list[Variant]:
        """The live variants of ``ev`` from ``st`` (:meth:`live`)."""
        return [v for i, v in enumerate(self.bindings[key].variants(ev, st))
                if (key, ev, st, i) in self._live]

    # -- fields -------------------------------------------------------------------------------
    def fields(self) -> list[Field]:
        """Control states, the machines' data, each host's SAD and flow table, the channels."""
        sc = self.sc
        out: list[Field] = []
        for key, cls in self.machines.items():
            states = list(cls.states)
            init = next(i for i, s in enumerate(states) if s.initial)
            out.append(Field(key, 0, len(states) - 1, init, "control",
                             tuple(s.name for s in states), doc=f"{cls.__name__} control state"))
        nflows = len(sc.flows)
        for h in HOSTS:
            for key in machine_keys(h, sc):
                ctx = Ctx(h, sc, lambda host, msgs: TRUE, role_in=role_reader(sc), flow=flow_of(key),
                          flow_ike=per_flow_qm(sc, key))
                out.extend(_module(key, sc).fields(ctx))
            for name, doc in HOST_FIELDS:
                if sc.ike.per_flow and name in PER_FLOW_SAD:
                    # A-16 per flow: each flow its own SAD entries and acquire queue
                    out.extend(Field(in_flow(f"{h}.{name}", i), 0, 1, 0, "bool", doc=f"{doc}, flow {i}")
                               for i in range(1, nflows + 1))
                else:
                    out.append(Field(f"{h}.{name}", 0, 1, 0, "bool", doc=doc))
            if sc.mixed_ge(h) and f"{h}.ike_i" in self.machines and not sc.ike.per_flow:
                # ND-9 / A-4: the flows differ in GE, so the queued acquire says which flag it is for
                out.append(Field(f"{h}.acq_pending_ge", 0, 1, 0, "bool",
                                 doc="IKE service: an acquire for a GE flow is queued (acq_pending: "
                                     "for a non-GE flow; the flows differ in GE, ND-7, ND-9)"))
            for i in range(1, nflows + 1):
                for name, doc in FLOW_FIELDS:
                    out.append(Field(in_flow(f"{h}.{name}", i), 0, 1, 0, "bool",
                                     doc=doc + (f", flow {i}" if nflows > 1 else "")))
            if self.soft_host(h):
                out.append(Field(f"{h}.soft_sa", 0, 1, 0, "bool",
                                 doc="legacy soft SA: no IKE reply within the fallback time (§6.4)"))
            if getattr(sc, h).allow_clear_timeout:
                out.append(Field(f"{h}.grace_over", 0, 1, 0, "bool",
                                 doc="A-14: the SA's allow-clear grace timer has expired"))
        out.extend(self.net.fields)
        if sc.ike.sa_expiry:
            out.append(Field("sad.expired", 0, 1, 0, "bool", doc="the QM SAs have expired once (L-5)"))
        if any(may_delete(sc, h) for h in HOSTS):
            out.append(Field("sad.deleted", 0, 1, 0, "bool",
                             doc="a host has deleted the QM SAs with a DELETE (once per run, L1)"))
        if sc.ike.mm_expiry:
            out.append(Field("sad.mm_expired", 0, 1, 0, "bool",
                             doc="the MM SA has expired once (L4, L13)"))
        if self.timing:
            out.extend(self.timing.fields())
        return out

    def flow_names(self) -> tuple[FlowNames, ...]:
        """Each flow's names (:class:`FlowNames`) in corresponding order: its TCP ends' control
        fields, their data fields, its flow-table flags, its channel counters, its message ids.
        Flow 1's are the plain names; a further flow's are the same with its number."""
        sc = self.sc
        if len(sc.flows) == 1:
            return ()
        # a flow's channel entries: its TCP segments (and, A-16 per flow, its Quick Mode messages)
        msgs = {h: [k for k in self.net.alphabet[h] if k.prot or (sc.ike.per_flow and is_qm(k.msg))]
                for h in HOSTS}
        out = []
        for i, fl in enumerate(sc.flows, 1):
            names: list[str] = []
            # ends in role order (opener first), so equal openers give equal layouts
            ends = [fl.opener, other(fl.opener)]
            names.extend(in_flow(f"{h}.tcp", i) for h in ends)
            qms = [in_flow(f"{h}.{m}", i) for h in ends for m in ("ike_i", "ike_r")
                   if in_flow(f"{h}.{m}", i) in self.machines] if sc.ike.per_flow else []
            names.extend(qms)     # A-16 per flow: the flow's Quick Mode machines
            for h in ends:
                ctx = Ctx(h, sc, lambda host, m: TRUE, role_in=role_reader(sc), flow=i)
                names.extend(f.name for f in _module(in_flow(f"{h}.tcp", i), sc).fields(ctx))
                names.extend(in_flow(f"{h}.{n}", i) for n, _ in FLOW_FIELDS)
                if sc.ike.per_flow:
                    for key in qms:
                        if key.startswith(f"{h}."):
                            qctx = Ctx(h, sc, lambda host, m: TRUE, role_in=role_reader(sc), flow=i,
                                       flow_ike=True)
                            names.extend(f.name for f in _module(key, sc).fields(qctx))
                    names.extend(in_flow(f"{h}.{n}", i) for n in PER_FLOW_SAD)
            for h in ends:
                for k in msgs[h]:
                    if flow_of(k.msg) == i:
                        names.extend(self.net.aged(k, a) for a in range(self.net.max_ages[h] + 1))
            names.extend(dict.fromkeys(k.msg for h in ends for k in msgs[h] if flow_of(k.msg) == i))
            out.append(FlowNames(i, fl.opener, tuple(names), (sc.ge_rule("client", i), sc.ge_rule("server", i))))
        return tuple(out)

    # -- commands -----------------------------------------------------------------------------
    def commands(self) -> list[Command]:
        """Machine steps and inbound drops per host, then network faults, SA expiry, A-14 timers;
        commands whose guard folds to false are left out, names must be unique."""
        cmds: list[Command] = []
        for h in HOSTS:
            for key in machine_keys(h, self.sc):
                cmds.extend(self.machine_commands(h, key))
            cmds.extend(self.drops(h))
        cmds.extend(self.net.fault_commands())
        cmds.extend(self.expiry())
        cmds.extend(self.mm_expiry())
        cmds.extend(self.deletes())
        cmds.extend(self.grace())
        cmds.extend(self.soft_sas())
        cmds = [self._after_delete(c) for c in cmds
                if not (c.guard.op == "const" and c.guard.args[0] == 0)]
        if self.timing:
            cmds = [self.timing.restart(c) for c in cmds] + [self.timing.tick(self.quiet, *self.net.aging())]
        names = set()
        for c in cmds:
            if c.name in names:
                raise ModelError(f"duplicate command name {c.name!r}")
            names.add(c.name)
        return cmds

    def machine_commands(self, h: str, key: str) -> list[Command]:
        """Every variant of every transition of machine ``key`` not driven by another component."""
        cls = self.machines[key]
        driven = getattr(cls, "DRIVEN_EVENTS", ())   # composed into the step that raises them
        return [c for st, t, ev in transitions(cls) if ev not in driven
                for v in self.variants(key, ev, st.id)
                for c in self.transition(h, key, st, t, ev, v)]

    def transition(self, h: str, key: str, st, t, ev: str, v: Variant) -> list[Command]:
        """One variant of one machine transition: enable, receive, step, send (and acquire)."""
        label = f"{key}.{ev}" + (f"@{st.id}" if len(self._sources[key][ev]) > 1 else "") + (
            f"[{v.label}]" if v.label else "")
        forks = _alive([self.enable(key, st, t, v).add(rules=v.rules, events=((key, ev, st.id),))])
        forks = self.receive(h, forks, v.recv)
        forks = self.step(key, forks, t, v)
        for msg in v.send:
            forks = self.send(h, forks, msg)
        if key == f"{h}.ike_mi" and t.target.id == "failed" and st.id != "failed":
            forks = self.mm_failed(h, forks)
        return [f.command(label, _kind(v), (h,)) for f in forks]

    def mm_failed(self, h: str, forks: list[Fork]) -> list[Fork]:
        """``h``'s Main Mode failed (``ike.qm_sa = "flow"``): each flow whose acquire waits for it
        fails its negotiation with it (its Quick Mode initiator's ``mm_failed``, ND-26/27)."""
        for k in [k for k in self.machines if unflowed(k) == f"{h}.ike_i"]:
            cls = self.machines[k]
            enabled = or_(*[self.enable(k, st, t, v).guard for st, t, _ in transitions(cls, "mm_failed")
                            for v in self.variants(k, "mm_failed", st.id)])
            forks = ([g for f in forks for g in self.drive(h, k, "mm_failed", f)]
                     + [f.cond(not_(enabled)) for f in forks])
        return _alive(forks)

    # -- stages -------------------------------------------------------------------------------
    def enable(self, key: str, st, t, v: Variant, fork: Fork | None = None) -> Fork:
        """The machine ``key`` is in ``st``, the transition's ``cond``/``unless`` hold (their IR
        expressions in the machine's binding) and so does the variant's data guard."""
        cls = self.machines[key]
        f = (fork or Fork()).cond(eq(F(key), state_index(cls, st.id)))
        return f.cond(self.bindings[key].guard_of(t)).cond(v.guard)

    def receive(self, h: str, forks: list[Fork], msg: str | None) -> list[Fork]:
        """Take ``msg`` off the channel toward ``h``: one fork per channel entry, and for a TCP
        segment one per inbound row that accepts it (ND-16..ND-19: ND-17 a new flow's clear
        packet, ND-18 a clear packet of an existing flow, ND-19 ESP, ND-15 without an ND rule),
        with ND-20's GE marking.  Rows that drop are :meth:`drops`."""
        if not msg:
            return forks
        net = self.net
        out = []
        for f in forks:
            for k in [k for k in net.alphabet[other(h)] if k.msg == msg]:
                for age, (g, take) in enumerate(net.takes(k), net.min_ages[k.src]):
                    a = f.cond(g).set(take)
                    if net.max_age:
                        a = a.add(name=f" ~{age}")
                    if not k.prot:
                        out.append(a)
                        continue
                    fl = flow_of(k.msg)
                    for br in self._inbound[h, k.prot == "esp", fl]:
                        if br.row.action == "accept":
                            out.append(a.cond(br.guard).set(br.updates).set(self._marks[h, ON_ACCEPT, fl])
                                       .add(name=f" <{k.label()} {br.row.id}>", rules=(br.row.id,)))
        return _alive(out)

    def step(self, key: str, forks: list[Fork], t, v: Variant) -> list[Fork]:
        """The machine ``key`` takes transition ``t`` and makes the variant's data updates."""
        target = C(state_index(self.machines[key], t.target.id))
        return [f.set({key: target}).set(v.updates) for f in forks]

    def send(self, h: str, forks: list[Fork], msg: str) -> list[Fork]:
        """Put ``msg`` on the channel from ``h``.  An IKE message goes as it is; a TCP segment
        passes the outbound filter (ND-6..ND-15): one fork per row of the host's table -- clear
        (ND-8, ND-12, ND-13, ND-15 bypass), esp (ND-14 with Secure := 1, ND-15 protect) or held
        (ND-10, ND-12, ND-15: not sent) -- a row that triggers IKE composed with :meth:`acquire`,
        and ND-7's GE marking before or after the decision (A-7, knob ``ike.ge_marking``)."""
        net = self.net
        out = []
        for f in forks:
            if is_ike(msg):
                k = Key(h, msg, "")
                out.append(f.set(net.produce(k)).add(wire=(k.packet(),)))
                continue
            fl = flow_of(msg)
            f = f.set(self._marks[h, BEFORE_OUTBOUND, fl])
            for br in self._outbound[h, fl]:
                a = f.cond(br.guard)
                if _false(a.guard):   # a row this step can never take: no fork (a speed-up)
                    continue
                a = a.set(br.updates).add(name=f" [{msg} {br.row.id}", rules=(br.row.id,))
                if br.row.action == "held":
                    a = a.add(held=(Key(h, msg, "").packet(br.row.id),))
                else:
                    k = Key(h, msg, br.row.action)
                    a = a.set(net.produce(k)).add(wire=(k.packet(br.row.id),))
                for a2 in _alive(self.acquire(h, a, fl)) if br.row.acquire or br.row.trigger else [a]:
                    out.append(a2.set(self._marks[h, AFTER_OUTBOUND, fl]).add(name="]"))
        return out

    def acquire(self, h: str, fork: Fork, flow: int = 1) -> list[Fork]:
        """An ND trigger (ND-8, ND-10, ND-12, ND-15 acquire) queues an acquire to ``h``'s IKE
        service (timers-failures Q1-Q3): ``acq_pending := 1``, unless one is already pending or
        the initiator is negotiating, where the trigger is coalesced (A-4).  The service takes a
        queued acquire in a later step -- the initiator's own ``acquire_mm`` / ``acquire_qm``
        (ND-1/ND-11 MM #1, or QM #5 per ND-9 over an MM SA), or ``drop_stale_acquire`` -- so other
        packets of the host may leave in between.  The flow's first trigger (ND-8 with
        Acquire := 1) may also be taken in this very step when it starts Main Mode: the
        triggering packet and MM #1 leave together, in either order (timers-failures Q3:
        figures 18/19 draw MM #1 first; later takes add no state, only that order).  A host
        without an initiator (no IKE stack, or no outbound rule that triggers IKE) records
        Acquire only."""
        key = in_flow(f"{h}.ike_i", flow) if self.sc.ike.per_flow else f"{h}.ike_i"
        if key not in self.machines:
            return [fork]
        cls = self.machines[key]
        running = or_(*[eq(F(key), state_index(cls, s)) for s in cls.NEGOTIATING])
        if self.sc.ike.per_flow:
            # A-16 per flow: the flow's own queue, coalesced with its own Quick Mode; the
            # service takes it later (its Quick Mode initiator, or Main Mode first: ND-11)
            pend = in_flow(f"{h}.acq_pending", flow)
            busy = or_(running, eq(F(pend), 1))
            return [fork.set({pend: ite(busy, F(pend), C(1))}).add(name=f" +{h}.acquire", rules=("A-4",))]
        if self.sc.mixed_ge(h):
            return self._acquire_by_ge(h, key, running, fork, flow)
        busy = or_(running, eq(F(f"{h}.acq_pending"), 1))
        # Queued unless coalesced: one fork, acq_pending := 1 when neither is the case.
        out = [fork.set({f"{h}.acq_pending": ite(busy, F(f"{h}.acq_pending"), C(1))})
               .add(name=f" +{h}.acquire", rules=("A-4",))]
        if self._first_packet(h, fork):
            # Q3: MM #1 of the flow's first negotiation leaves with its trigger, in either order.
            queued = fork.cond(not_(busy)).set({f"{h}.acq_pending": C(1)}).add(name=f" +{h}.acquire")
            out.extend(f for f in self.drive(h, key, "acquire_mm", queued)
                       if (key, "acquire_mm", "idle") in f.events)
        return out

    def _acquire_by_ge(self, h: str, key: str, running: Expr, fork: Fork, flow: int) -> list[Fork]:
        """:meth:`acquire` at a host whose flows differ in GE (``Scenario.mixed_ge``): the trigger
        asks for a Quick Mode with the triggering flow's GE flag (ND-9; the flag as the outbound
        step left it, after ND-7's mark), queued in ``acq_pending`` (non-GE) or
        ``acq_pending_ge`` (GE, :data:`~ndcheck.model.machines.ike_initiator.PENDING`).  It is
        coalesced (A-4) only with a request for the same flag: one queued, or the negotiation
        running for it (``qm_ge``, recorded when the service took it).  A request for the other
        flag is a different Quick Mode (its SA has another SA.GE, ND-12), not a duplicate: it
        waits, queued, while the running negotiation ends.  Q3 as in :meth:`acquire`."""
        PENDING = ike_initiator.PENDING
        ge = F(in_flow(f"{h}.flow_ge", flow))
        busy = {g: or_(and_(running, eq(F(f"{h}.qm_ge"), g)), eq(F(f"{h}.{PENDING[g]}"), 1))
                for g in (0, 1)}
        ups = {f"{h}.{PENDING[g]}": ite(and_(eq(ge, g), not_(busy[g])), C(1), F(f"{h}.{PENDING[g]}"))
               for g in (0, 1)}
        out = [fork.set(ups).add(name=f" +{h}.acquire", rules=("A-4", "ND-9"))]
        if self._first_packet(h, fork):
            for g in (0, 1):
                queued = (fork.cond(and_(eq(ge, g), not_(busy[g]))).set({f"{h}.{PENDING[g]}": C(1)})
                          .add(name=f" +{h}.acquire"))
                # ... this trigger's own request taken at once (not the other flag's, queued before)
                out.extend(f for f in self.drive(h, key, "acquire_mm", queued)
                           if (key, "acquire_mm", "idle") in f.events and f.name.endswith(f"[ge={g}]"))
        return out

    def _first_packet(self, h: str, fork: Fork) -> bool:
        """The fork sends ``h``'s flow's first trigger: an ND-8 row with Acquire := 1."""
        return any(r == "ND-8/clear+acquire" for r in fork.rules)

    def drive(self, h: str, key: str, event: str, fork: Fork) -> list[Fork]:
        """Forks of ``fork`` composed with each transition of ``key`` on the driven ``event``:
        enable, step, send."""
        out = []
        for st, t, _ in transitions(self.machines[key], event):
            for v in self.variants(key, event, st.id):
                fs = self.step(key, [self.enable(key, st, t, v, fork)], t, v)
                for msg in v.send:
                    fs = self.send(h, fs, msg)
                out.extend(f.add(name=f" +{key}.{event}@{st.id}" + (f"[{v.label}]" if v.label else ""),
                                 events=((key, event, st.id),), rules=v.rules)
                           for f in fs)
        return out

    # -- commands that are not a machine's own step -------------------------------------------
    def drops(self, h: str) -> list[Command]:
        """Inbound-filter drops: the segment is consumed and never reaches TCP (ND-17/18/19, ND-15)."""
        net = self.net
        out = []
        for k in net.alphabet[other(h)]:
            if not k.prot:
                continue
            for br in self._inbound[h, k.prot == "esp", flow_of(k.msg)]:
                if br.row.action != "drop":
                    continue
                for age, (g, take) in enumerate(net.takes(k), net.min_ages[k.src]):
                    f = Fork().cond(g).set(take).cond(br.guard).set(br.updates)
                    out.append(f.add(rules=(br.row.id,)).command(
                        f"{h}.nd.drop[{k.label()}: {br.row.id}]" + (f" ~{age}" if net.max_age else ""),
                        "drop", (h, k.msg)))
        return out

    def expiry(self) -> list[Command]:
        """SA lifetime expiry (knob ``ike.sa_expiry``): once some Quick Mode has completed at both
        ends, every QM SA of both hosts can be deleted together (one expiry per run), between
        negotiations (no IKE machine in the middle of one: lifetimes of an hour against
        negotiations of seconds, timers-failures L11); each IKE machine in QM-DONE takes its
        ``sa_expire`` (with ``ike.peer_drops_ipsec`` the server's responder fails whatever its
        state, and its initiator takes no more acquires).  Flow flags stay (A-5), so a secured flow is held by ND-10 until IKE
        re-keys -- or forever if the peer can no longer negotiate (L-5)."""
        if not self.sc.ike.sa_expiry:
            return []
        sas = {f"{h}.{f}": C(0) for h in HOSTS for f in ("sa_in", "sa_out")}
        start = Fork(and_(eq(F("sad.expired"), 0), self.between_negotiations()),
                     {"sad.expired": C(1), **sas}, rules=("A-5",))
        pairs = [and_(eq(F(f"{h}.ike_i"), state_index(self.machines[f"{h}.ike_i"], "established")),
                      eq(F(f"{other(h)}.ike_r"), state_index(self.machines[f"{other(h)}.ike_r"], "established")))
                 for h in HOSTS if f"{h}.ike_i" in self.machines and f"{other(h)}.ike_r" in self.machines]
        forks = self.sas_gone(HOSTS, [start.cond(or_(*pairs))])
        return [f.command("sad.expire", "local", ("fault",)) for f in forks]

    def between_negotiations(self, hosts: Sequence[str] = HOSTS) -> Expr:
        """No IKE machine of ``hosts`` is in the middle of a negotiation (its class's
        ``NEGOTIATING`` states): lifetimes of hours and administrators' deletes against
        negotiations of seconds (timers-failures L11, L13)."""
        return and_(*[not_(eq(F(k), state_index(cls, s))) for k, cls in self.machines.items()
                      if k.split(".")[0] in hosts for s in getattr(cls, "NEGOTIATING", ())])

    def sas_gone(self, hosts: Sequence[str], forks: list[Fork]) -> list[Fork]:
        """The QM SAs of ``hosts`` are gone: each of their IKE machines with an enabled
        ``sa_expire`` takes it, the others are untouched."""
        for k, cls in self.machines.items():
            h = k.split(".")[0]
            if h not in hosts or "sa_expire" not in getattr(cls, "DRIVEN_EVENTS", ()):
                continue
            enabled = or_(*[self.enable(k, st, t, V()).guard for st, t, _ in transitions(cls, "sa_expire")])
            forks = ([g for f in forks for g in self.drive(h, k, "sa_expire", f)]
                     + [f.cond(not_(enabled)) for f in forks])
        return forks

    def mm_expiry(self) -> list[Command]:
        """MM SA lifetime expiry (knob ``ike.mm_expiry``; timers-failures L11, L13: 480 min
        against the QM SAs' 60): once the MM SA exists at both ends it may expire, once per run,
        between negotiations; both MMSADs lose it (and NDSupported with it), the QM SAs stay (L4)
        and keep protecting the flow.  A later negotiation starts with Main Mode (ND-1)."""
        if not self.sc.ike.mm_expiry:
            return []
        g = and_(eq(F("sad.mm_expired"), 0), self.between_negotiations(),
                 *[eq(F(f"{h}.mm_sa"), 1) for h in HOSTS])
        ups = {"sad.mm_expired": C(1), **{f"{h}.{f}": C(0) for h in HOSTS for f in ("mm_sa", "mm_nd")}}
        return [Command(name="sad.mm_expire", guard=g, updates=tuple(sorted(ups.items())),
                        rules=("ND-1",), kind="local", tags=("fault",))]

    def deletes(self) -> list[Command]:
        """DELETE (knob ``ike.delete``; timers-failures L1, IKEE-M §3.8.4.1): a host that may
        delete, holding an outbound QM SA and the MM SA that protects the Informational exchange,
        deletes its QM SAs at once, once per run, and sends the DELETE; its IKE machines leave
        QM-DONE (``sa_expire``).  It does so between negotiations of both hosts (an
        administrator's or a policy change's time, not a negotiation's), so every QM SA the peer
        holds or is about to install belongs to a Quick Mode the DELETE names; the peer removes
        them all on receipt, and its IKE machines leave the Quick Mode (``sa_expire``).  A Quick
        Mode that starts after the DELETE left starts after it arrived (:meth:`_after_delete`).
        Flow flags stay (A-5): ND-10 holds a Secure flow and re-triggers IKE, and a Quick Mode
        over the MM SA re-keys it (ND-11)."""
        net = self.net
        out: list[Command] = []
        for h in HOSTS:
            if not may_delete(self.sc, h):
                continue
            p = other(h)
            k = self._delete_key(h)
            g = and_(eq(F("sad.deleted"), 0), eq(F(f"{h}.sa_out"), 1), eq(F(f"{h}.mm_sa"), 1),
                     self.between_negotiations())
            ups = {"sad.deleted": C(1), f"{h}.sa_in": C(0), f"{h}.sa_out": C(0)}
            forks = self.sas_gone((h,), [Fork(g, ups, rules=("A-5",))])
            forks = [f.set(net.produce(k)).add(wire=(k.packet(),)) for f in forks]
            out.extend(f.command(f"{h}.ike.delete", "send", (h,)) for f in forks)
            for age, (g, up) in enumerate(net.takes(k), net.min_ages[k.src]):
                take = Fork(g, up, rules=("A-5",)).set({f"{p}.sa_in": C(0), f"{p}.sa_out": C(0)})
                out.extend(f.command(f"{p}.ike.recv_delete" + (f" ~{age}" if net.max_age else ""),
                                     "deliver", (p, "DELETE"))
                           for f in self.sas_gone((p,), [take]))
        return out

    def _delete_key(self, h: str) -> Key:
        return next(k for k in self.net.alphabet[h] if k.msg == "DELETE")

    def _after_delete(self, c: Command) -> Command:
        """A step that starts a Quick Mode (a class's ``STARTS_QM`` events: sending or answering
        a fresh QM #5) waits while a DELETE is in flight: the deleting host's IKE service sends
        the Quick Mode that re-keys after the DELETE (one socket, one path), and the peer's
        processes the DELETE before it.  SPIs tell a DELETE's SAs from newer ones; the model's
        bit per direction cannot, so it keeps them apart in time."""
        if any(may_delete(self.sc, h) for h in HOSTS) and \
                any((ev, src) in _starts_qm(self.machines[key]) for key, ev, src in c.events):
            return dataclasses.replace(c, guard=and_(c.guard, self.net.none_of(("DELETE",))))
        return c

    def grace(self) -> list[Command]:
        """A-14: the allow-clear grace timer of a host's inbound SA may expire at any time."""
        out = []
        for h in HOSTS:
            if getattr(self.sc, h).allow_clear_timeout:
                g = and_(eq(F(f"{h}.sa_in"), 1), eq(F(f"{h}.grace_over"), 0))
                if self.timing:
                    g = and_(g, self.timing.expired(f"{h}.grace_clk"))   # G2: 10 s after the SA
                out.append(Command(name=f"{h}.sad.allow_clear_timeout", guard=g,
                                   updates=((f"{h}.grace_over", C(1)),), rules=("A-14",),
                                   kind="local", tags=(h,)))
        return out

    def soft_host(self, h: str) -> bool:
        """``h`` runs the pre-ND "Negotiate Security" policy with fallback to clear."""
        return getattr(self.sc, h).outbound == "legacy" and f"{h}.ike_i" in self.machines

    def soft_sas(self) -> list[Command]:
        """The legacy soft SA (digest §6.4, SOFTSA): while the host's Main Mode has had no reply
        (its initiator still in MM1-SENT), the fallback time after MM #1 creates an SA with
        neither AH nor ESP, and the flow goes clear (``ND-15/legacy-soft-clear``).  Untimed: at
        any time while no reply is on its way; timed: ``time.legacy_fallback_ms`` after MM #1."""
        out = []
        for h in HOSTS:
            if not self.soft_host(h):
                continue
            key = f"{h}.ike_i"
            g = and_(eq(F(f"{h}.soft_sa"), 0), eq(F(key), state_index(self.machines[key], "mm1_sent")))
            if self.timing:
                g = and_(g, self.timing.expired(f"{h}.soft_clk"))
            else:
                g = and_(g, self.net.none_from(other(h), ("MM2", "NOTIFY", "ICMP")))
            out.append(Command(name=f"{h}.ike.soft_sa", guard=g, updates=((f"{h}.soft_sa", C(1)),),
                               rules=("ND-15",), kind="local", tags=(h,)))
        return out

    # -- facts the ND rules need --------------------------------------------------------------
    def new_flow(self, h: str, flow: int = 1) -> Expr:
        """ND-17: a segment of ``flow`` arriving at ``h`` starts a new flow (the rows of
        ``nd_rules.NEW_FLOW``: the flow's passive end while its TCP is still in LISTEN; never at
        the flow's opener)."""
        return or_(*[eq(F(key), state_index(self.machines[key], st))
                     for key, st in new_flow_states(h, self.sc, flow)])


def _starts_qm(cls) -> set[tuple[str, str]]:
    """The (event, source) pairs of ``cls`` listed in its ``STARTS_QM`` (``event`` for every
    source, ``event@source`` for one)."""
    out = set()
    for item in getattr(cls, "STARTS_QM", ()):
        ev, _, src = item.partition("@")
        out.update((e, s.id) for s, _, e in transitions(cls, ev) if not src or s.id == src)
    return out


def _kind(v: Variant) -> str:
    if v.recv:
        return "deliver"
    if v.send:
        return "send"
    return "local"


def _check_fields(system: System) -> None:
    for c in system.commands:
        for name, _ in c.updates:
            if name not in system.index:
                raise ModelError(f"command {c.name!r} updates unknown field {name!r}")
