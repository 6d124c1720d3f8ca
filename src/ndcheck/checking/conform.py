"""Conformance: is an observed packet sequence a behaviour of the model?

A wire trace is *accepted* when some path from the initial state of the explored product graph
puts exactly these packets on the wire in this order (DESIGN.md "Wire traces").  Steps that put
nothing on the wire (receptions without a reply, inbound drops, network losses, timeouts that
give up) may come between; the path need not end in a final state.  A step that puts two packets
on the wire (a cleartext SYN and the MM #1 it triggers, ND-8/ND-1) may show them in either order,
but adjacent: nothing else is sent in between.  A capture may stop between the two packets of one
step, so the accepted language is prefix-closed.

An observed packet may stand for several packets of the model (:func:`~ndcheck.traces.wire.matches`):
``client>server * esp`` for any TCP segment the client can send protected, ``INFO`` for a
``NOTIFY`` or a ``DELETE``.

**Where the capture was taken** (``at``).  ``"wire"`` (the default) reads the trace as above: every
packet appears when it is sent, in send order, as a tap between the hosts shows it.  A capture on
a host's interface (``"client"`` or ``"server"``, the host H) shows something else: H's own sends
when H sends them, and the peer's packets when they *reach* H, in arrival order; packets the
network loses on the way to H never appear, and H's packets appear even if the network loses
them later.  Conformance reads such a capture exactly: it is accepted when some path of the model
shows these sends and arrivals at H in this order, where the arrival of a packet P comes after
the peer's step that sent P and no later than H's step that takes P in (receives it, or drops it
in its ND inbound filter), and a packet that has reached H is not lost by the network any more.
Arrival and intake are separate events: H may take in a later packet before an earlier one (its
TCP and IKE run apart), as a multiset channel allows.  The peer's own steps show nothing.  A
step of H that takes a packet in and answers it shows the answer only after the packet's
arrival.  The search keeps, beside each state, the packets that have reached H and are not yet
taken in; it needs the scenario's multiset channels (``network.reorder = true``): with FIFO
channels the arrival order would be constrained too, which this reading does not do, so it
refuses them (:class:`ConformError`).

The check is a subset construction over the model read as an automaton whose letters are
observed packets: positions advance on a packet, steps that show nothing at the vantage point
are epsilon moves.  Each layer of the search is the set of nodes ``(state, packets of the
current step still to show, packets that have reached H and wait for H)`` reachable after
consuming a prefix; the first empty layer gives the longest accepted prefix, and the packets the
previous layer could show are what the model allowed next.  The witness path of an accepted
trace (and of the accepted prefix of a rejected one) is replayed through the IR and the machine
instances (:func:`~ndcheck.traces.trace.trace_from_commands`) before it is returned.

**On demand.**  Given a scenario (or a system), the states are never explored as a whole: the
search computes the successors of the states it reaches with the compiled successor function
over packed states (:func:`~ndcheck.engines.codegen.compile_packed`), and each layer is interned
with the layer each packet leads from it, so a long capture whose layers repeat costs a look-up
per packet.  Given an explored graph, the same search reads its edges (a truncated graph makes a
rejection undetermined).  ``strict=False`` raises the bounds that exist only to keep exploration
finite to what the trace needs (:mod:`.lifting`) and follows a long stream through a sliding
window of segment ids (:mod:`.segments`); the search then runs over several variant systems at
once (a node's state is ``(variant, packed state)``).

>>> from ndcheck import CATALOG, build_system, explore
>>> g = explore(build_system(CATALOG["fig8-silent-peer"]))
>>> r = conform(g, ["client>server MM1", "client>server SYN clear", "server>client SYN-ACK clear"])
>>> r.accepted, r.prefix_len, len(r.witness.wire)
(True, 3, 3)
>>> r = conform(g, ["client>server SYN clear", "server>client MM2"])
>>> r.accepted, r.prefix_len, "client>server MM1" in r.allowed_next
(False, 1, True)

The client's IKE service takes the acquire queued by the SYN (ND-8) in a later step, so a first
SYN retransmission (an early first expiry) may leave before MM #1; a second one waits until the
network has settled, which a queued acquire or an MM #1 still on its way prevents (figure 19:
the SYNs are dropped by the require-inbound server).  At the server the MM #1 may arrive after
both SYNs; nothing can arrive before the client sent it:

>>> g19 = explore(build_system(CATALOG["fig19-require-inbound"]))
>>> two, three = ["client>server SYN clear"] * 2, ["client>server SYN clear"] * 3
>>> conform(g19, two).accepted, conform(g19, two, at="server").accepted
(True, True)
>>> conform(g19, three).accepted, conform(g19, three, at="server").accepted
(False, False)
>>> conform(g19, ["server>client MM2"], at="server").allowed_next
('client>server MM1', 'client>server SYN clear')

On demand from the scenario, with and without its bounds: figure 8's silent peer sends two data
segments, a third is beyond them (``--strict``) or raised to (the default):

>>> w = ["client>server MM1", "client>server SYN clear", "server>client SYN-ACK clear",
...      "client>server ACK clear"] + ["client>server DATA clear", "server>client ACK clear"] * 3
>>> r = conform(CATALOG["fig8-silent-peer"], w)
>>> r.verdict, r.prefix_len, r.bound
('rejected', 8, "packet 9 goes beyond tcp.data_segments = 2: it is the client's data segment 3")
>>> r = conform(CATALOG["fig8-silent-peer"], w, strict=False)
>>> r.verdict, r.lifted
('accepted', ("tcp.data_segments 2 -> 3: the capture's client sends 3 data segments (2..3 built as they are)",))
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..model.ir import Packet
from ..model.network import Key, channel_reader
from ..traces.trace import Trace, trace_from_commands
from ..traces.wire import matches

__all__ = ["VANTAGES", "ConformError", "ConformResult", "conform", "describe"]

#: Where a capture was taken: on the wire between the hosts, or on one host's interface.
VANTAGES = ("wire", "client", "server")

#: Packets that have reached the capturing host and wait for it: sorted (entry, copies) pairs.
Arrived = tuple[tuple[Key, int], ...]
#: A node of the search: (state id, groups of packets of the current step still to show, arrived).
#: The packets of one group may show in either order; groups show one after the other.
Node = tuple[tuple[int, int], tuple[tuple[str, ...], ...], Arrived]


class ConformError(ValueError):
    """A conformance question that cannot be asked of this model (one line: what and why)."""


@dataclass(frozen=True, slots=True)
class ConformResult:
    """The verdict of :func:`conform`.

    ``prefix_len`` packets of the trace are a behaviour of the model (all of them when
    ``accepted``); ``prefix`` lists them; ``allowed_next`` is the sorted set of packets the model
    could put on the wire right after that prefix (empty when nothing more can be sent);
    ``witness`` is a replayed trace sending the accepted packets (``None`` when rejected).
    ``truncated`` says the explored graph was cut by a bound: a rejection is then inconclusive.
    ``prefix_witness`` is a replayed trace showing the accepted prefix (the witness when
    accepted), ``at`` the vantage point the trace was read from (:data:`VANTAGES`).
    ``lifted`` lists the bounds raised to what the trace needs (``--strict`` off), ``bound``
    names the scenario bound a rejected packet goes beyond (``--strict``), ``witness_note`` says
    why there is no replayed witness when a long stream's is not replayed, ``states`` counts the
    model states the search computed successors of (the explored graph's states for a graph).
    """

    accepted: bool
    prefix_len: int
    prefix: tuple[str, ...]
    allowed_next: tuple[str, ...]
    witness: Trace | None
    rest: tuple[str, ...] = ()
    truncated: bool = False
    reason: str = ""
    prefix_witness: Trace | None = None
    at: str = "wire"
    lifted: tuple[str, ...] = ()
    bound: str = ""
    witness_note: str = ""
    states: int = 0
    witness_system: object = None

    @property
    def length(self) -> int:
        """Packets in the checked trace."""
        return len(self.prefix) + len(self.rest)

    @property
    def verdict(self) -> str:
        """``accepted``, ``rejected``, or ``undetermined`` (rejected by a truncated graph)."""
        if self.accepted:
            return "accepted"
        return "undetermined" if self.truncated else "rejected"

    @property
    def rejected_packet(self) -> str | None:
        """The first packet the model does not allow there (None when accepted)."""
        return self.rest[0] if self.rest else None


def _wire_strings(packets: Sequence[Packet | str]) -> list[str]:
    out = []
    for p in packets:
        out.append(p if isinstance(p, str) else p.wire())
    return out


@lru_cache(maxsize=4096)
def _match(observed: str, sent: str) -> bool:
    return matches(observed, sent)


#: A path marker: the sliding window of one stream moved by one segment id (:mod:`.segments`).
SHIFT = -2


class _Truncated(Exception):
    """The on-the-fly search reached ``max-states`` or its timeout."""


class _GraphSource:
    """Successors read off an explored product graph (states are its ids; a truncated graph
    makes a rejection undetermined)."""

    def __init__(self, graph):
        self.graph = graph
        self.systems = [graph.system]
        self.truncated = bool(getattr(graph, "truncated", False))
        self.reason = getattr(graph, "reason", "")
        n = graph.n_states
        out: list[list[tuple[int, tuple[int, int]]]] = [[] for _ in range(n)]
        for u, v, a in zip(graph.src, graph.dst, graph.act):
            out[u].append((a, (0, v)))
        self._out = out
        self.windows: list[tuple] = [()]
        self.visited = 0

    @property
    def n_states(self) -> int:
        return self.graph.n_states

    def starts(self) -> list[tuple[int, int]]:
        return [(0, 0)]

    def successors(self, state: tuple[int, int]) -> list[tuple[int, tuple[int, int]]]:
        return self._out[state[1]]

    def decode(self, state: tuple[int, int]) -> tuple[int, ...]:
        return self.graph.state(state[1])


class _SystemSource:
    """Successors computed on demand by the compiled successor function of each variant system
    (:func:`~ndcheck.engines.codegen.compile_packed`); states are ``(variant, packed state)``.
    Only the states the search reaches are ever computed; ``max_states`` distinct ones, or
    ``timeout`` seconds, make it stop (truncated)."""

    def __init__(self, systems: Sequence, windows: Sequence[tuple] = (), max_states: int | None = None,
                 timeout: float | None = None):
        from ..engines.codegen import compile_packed

        self.systems = list(systems)
        self.compiled = [compile_packed(s) for s in self.systems]
        self.windows = list(windows) or [()] * len(self.systems)
        first = self.systems[0]
        self.max_states = max_states if max_states is not None else first.limits.max_states
        self.timeout = timeout if timeout is not None else first.limits.timeout
        self.t0 = time.perf_counter()
        self.truncated, self.reason = False, ""
        self.overflow = 0
        self._succ: dict = {}
        self._shifts: dict = {}
        self.visited = 0

    @property
    def n_states(self) -> int:
        """Model states whose successors the search computed."""
        return len(self._succ)

    def starts(self) -> list[tuple[int, int]]:
        return [(vi, lay.encode(s.init)) for vi, (s, (_, _, lay)) in enumerate(zip(self.systems, self.compiled))]

    def successors(self, state: tuple[int, int]) -> list[tuple[int, tuple[int, int]]]:
        out = self._succ.get(state)
        if out is None:
            if len(self._succ) >= self.max_states:
                self.truncated, self.reason = True, f"max-states {self.max_states} reached"
                raise _Truncated
            if not len(self._succ) % 2000 and time.perf_counter() - self.t0 > self.timeout:
                self.truncated, self.reason = True, f"timeout {self.timeout:g}s reached"
                raise _Truncated
            vi, packed = state
            res, ovf = self.compiled[vi][0](packed)
            if ovf:
                self.overflow += 1
            out = self._succ[state] = [(a, (vi, t)) for _, a, t in res]
        return out

    def decode(self, state: tuple[int, int]) -> tuple[int, ...]:
        return self.compiled[state[0]][2].decode(state[1])

    def shifts(self, state: tuple[int, int]) -> list[tuple[int, tuple[int, int]]]:
        """(window number, shifted state) for each stream whose window can slide here."""
        ws = self.windows[state[0]]
        if not ws:
            return []
        got = self._shifts.get(state)
        if got is not None:
            return got
        got = self._shifts[state] = self._shift(state, ws)
        return got

    def _shift(self, state: tuple[int, int], ws: tuple) -> list[tuple[int, tuple[int, int]]]:
        lay = self.compiled[state[0]][2]
        dec = lay.decode(state[1])
        out = []
        for i, w in enumerate(ws):
            t = w.shift(dec)
            if t is not None:
                out.append((i, (state[0], lay.encode(t))))
        return out


class _Automaton:
    """The model read as an automaton whose letters are observed packets, built on demand.

    An edge of a state is ``(command, target, groups, need)``: ``groups`` the packets it shows
    (one group of either-order packets on the wire; at a host, the arrival-dependent answer of
    H), ``need`` a condition on the packets waiting at H: ``("arrived", key)`` (H takes in a copy
    that has reached it) or ``("in network", key)`` (the network loses or duplicates a copy on
    its way to H), or None.  Edges that show nothing are epsilon moves.
    """

    def __init__(self, source, at: str = "wire"):
        if at not in VANTAGES:
            raise ConformError(f"unknown vantage point {at!r}; allowed: {', '.join(VANTAGES)}")
        self.source = source
        self.at = at
        self._edges: dict = {}
        self._chan: dict = {}
        self._readc: dict = {}
        self._arrivals: dict = {}
        self._names: dict = {}
        self._reads = None
        if at == "wire":
            self.cmd_wire = [[tuple(p.wire() for p in c.wire) for c in s.commands] for s in source.systems]
        else:
            for system in source.systems:
                network = getattr(getattr(system, "scenario", None), "network", None)
                if network is not None and not getattr(network, "reorder", True):
                    raise ConformError(f"a capture at the {at} (--at {at}) needs multiset channels; scenario "
                                       f"{system.name} has FIFO channels (network.reorder = false): read it "
                                       "at the wire (--at wire) or use a scenario with reorder = true")
            self._reads = [channel_reader(s) for s in source.systems]
            self.cmd_wire = [[tuple(p.wire() for p in c.wire if p.sender == at) for c in s.commands]
                             for s in source.systems]
            self.kinds = [[c.kind for c in s.commands] for s in source.systems]

    def edges(self, state) -> tuple[list, list]:
        """(epsilon moves ``(command, target, need)``, sends ``(command, target, groups, need)``)."""
        got = self._edges.get(state)
        if got is not None:
            return got
        eps, sends = [], []
        wire = self.cmd_wire[state[0]]
        if self._reads is None:
            for a, v in self.source.successors(state):
                w = wire[a]
                if w:
                    sends.append((a, v, (w,), None))
                else:
                    eps.append((a, v, None))
        else:
            kinds = self.kinds[state[0]]
            for a, v in self.source.successors(state):
                need = None
                kind = kinds[a]
                if kind in ("deliver", "drop", "lose", "dup"):
                    need = self._need(state, v, kind)
                w = wire[a]
                if w:
                    sends.append((a, v, (w,), need))
                else:
                    eps.append((a, v, need))
        got = self._edges[state] = (eps, sends)
        return got

    def _read(self, state) -> Counter:
        got = self._readc.get(state)
        if got is None:
            got = self._readc[state] = self._reads[state[0]](self.source.decode(state))
        return got

    def channel(self, state) -> Counter:
        """Copies in flight toward the capturing host in ``state``."""
        c = self._chan.get(state)
        if c is None:
            c = Counter({k: n for k, n in self._read(state).items() if k.dst == self.at})
            self._chan[state] = c
        return c

    def _need(self, u, v, kind: str) -> tuple | None:
        before = self._read(u)
        after = self._read(v)
        if kind == "dup":
            changed = [k for k in after if after[k] > before.get(k, 0)]
        else:
            changed = [k for k in before if before[k] > after.get(k, 0)]
        mine = [k for k in changed if k.dst == self.at]
        if not mine:
            return None
        if len(mine) != 1:
            raise ConformError(f"a {kind} step of the model changes {len(mine)} channel entries toward the "
                               f"{self.at} ({', '.join(k.label() for k in mine)}); a host capture needs one")
        return ("arrived" if kind in ("deliver", "drop") else "in network", mine[0])

    def allows(self, state, arrived: Arrived, need: tuple | None) -> bool:
        if need is None:
            return True
        what, key = need
        waiting = dict(arrived).get(key, 0)
        if what == "arrived":
            return waiting > 0
        return self.channel(state)[key] > waiting

    @staticmethod
    def after(arrived: Arrived, need: tuple | None) -> Arrived:
        """The waiting packets after a step: H's intake removes one copy."""
        if need is None or need[0] != "arrived":
            return arrived
        key = need[1]
        out = []
        for k, n in arrived:
            if k == key:
                n -= 1
            if n:
                out.append((k, n))
        return tuple(out)

    def arrivals(self, state, arrived: Arrived) -> list[tuple[str, Arrived]]:
        """Packets that can reach the capturing host next, with the waiting packets after each."""
        if self._reads is None:
            return []
        got = self._arrivals.get((state, arrived))
        if got is not None:
            return got
        waiting = dict(arrived)
        out = []
        for key, n in sorted(self.channel(state).items()):
            if n > waiting.get(key, 0):
                waiting[key] = waiting.get(key, 0) + 1
                name = self._names.get(key)
                if name is None:
                    name = self._names[key] = key.packet().wire()
                out.append((name, tuple(sorted(waiting.items()))))
                waiting[key] -= 1
                if not waiting[key]:
                    del waiting[key]
        self._arrivals[(state, arrived)] = out
        return out

    def shifts(self, node: Node) -> list[tuple[Node, int]]:
        """Nodes after sliding a stream's window (:mod:`.segments`), with the window number."""
        state, _, arrived = node
        shifts = getattr(self.source, "shifts", None)
        if shifts is None:
            return []
        out = []
        for i, t in shifts(state):
            now = arrived
            if arrived:
                w = self.source.windows[state[0]][i]
                moved: Counter = Counter()
                for k, n in arrived:
                    moved[w.shift_key(k)] += n
                now = tuple(sorted(moved.items()))
            out.append(((t, (), now), i))
        return out


def _automaton(graph, at: str = "wire") -> _Automaton:
    """The graph's automaton for a vantage point, built once per graph (several traces are
    often checked)."""
    cache = getattr(graph, "_conform_automata", None)
    if cache is None or cache.get("graph") is not graph:
        cache = {"graph": graph, "source": _GraphSource(graph)}
        try:
            graph._conform_automata = cache
        except AttributeError:  # a graph type with slots: rebuild next time
            pass
    auto = cache.get(at)
    if auto is None:
        auto = cache[at] = _Automaton(cache["source"], at)
    return auto


def _take(groups: tuple[tuple[str, ...], ...], want: str) -> list[tuple[tuple[str, ...], ...]]:
    """The groups left after showing one packet matching ``want`` from the first group."""
    first, rest = groups[0], groups[1:]
    out = []
    seen = set()
    for i, letter in enumerate(first):
        if letter in seen or not _match(want, letter):
            continue
        seen.add(letter)
        left = first[:i] + first[i + 1:]
        out.append(((left,) + rest) if left else rest)
    return out


def conform(model, packets: Sequence[Packet | str], *, property: str | None = None,
            automaton: _Automaton | None = None, at: str = "wire", strict: bool = True,
            retransmissions: Sequence[bool] | None = None, max_states: int | None = None,
            timeout: float | None = None) -> ConformResult:
    """Decide whether ``packets`` is a behaviour of ``model`` seen from ``at``.

    ``model`` is an explored :class:`~ndcheck.engines.explicit.Graph` (its states and edges, as
    explored), a :class:`~ndcheck.model.ir.System` or a
    :class:`~ndcheck.model.scenario.Scenario`: then the states consistent with each prefix are
    followed on demand from the compiled successor function and the whole graph is never
    explored.  For a scenario, ``strict=False`` first lifts the bounds that exist only to keep
    exploration finite to what the trace needs (:mod:`.lifting`, :mod:`.segments`;
    ``retransmissions`` marks captured retransmissions); with ``strict`` (the default) the
    scenario's own bounds apply, and a rejected packet that goes beyond one says so in
    ``bound``.  ``at`` is ``"wire"`` (packets in send order, the default) or the host whose
    interface the capture was taken on (``"client"``, ``"server"``: its sends and its arrivals;
    see the module documentation).  Parent pointers of the first visit give a witness with the
    fewest steps among those reaching each node in BFS order.
    """
    from ..model.scenario import Scenario

    wire = _wire_strings(packets)
    plan = None
    if automaton is None and getattr(model, "symmetry", None) is not None:
        # a graph of orbit representatives has not every run's wire: search its system
        model = model.system
    if automaton is not None:
        auto = automaton
    elif isinstance(model, Scenario):
        auto, plan = _scenario_automaton(model, wire, at, strict, retransmissions, max_states, timeout)
    elif hasattr(model, "commands") and hasattr(model, "fields"):
        if at in VANTAGES:
            auto = _Automaton(_SystemSource([model], max_states=max_states, timeout=timeout), at)
        else:
            raise ConformError(f"unknown vantage point {at!r}; allowed: {', '.join(VANTAGES)}")
    else:
        auto = _automaton(model, at)
    source = auto.source
    starts = [(s, (), ()) for s in source.starts()]
    # Layer i is the nodes reachable after i packets, in first-visit order; backs[i] maps each
    # to (1 if reached by packet i else 0, the node it came from, command) (None: a start).
    # A layer is interned and its successor layer per packet cached: a long capture's layers
    # repeat (the sliding window keeps the states few), so most packets cost one look-up.
    layer_ids: dict[tuple, int] = {}
    layer_of: list[tuple] = []
    step_cache: dict[tuple[int, str], tuple[int, dict]] = {}

    def intern(layer: tuple) -> int:
        lid = layer_ids.get(layer)
        if lid is None:
            lid = layer_ids[layer] = len(layer_of)
            layer_of.append(layer)
        return lid

    back0: dict = {n: None for n in starts}
    lids: list[int] = []
    backs: list[dict] = []
    stopped = False
    try:
        lids.append(intern(tuple(_closure(auto, list(starts), back0))))
        backs.append(back0)
        pos = 0
        while pos < len(wire) and layer_of[lids[-1]]:
            want = wire[pos]
            hit = step_cache.get((lids[-1], want))
            if hit is None:
                nxt, back = _step(auto, layer_of[lids[-1]], want)
                hit = step_cache[(lids[-1], want)] = (intern(tuple(_closure(auto, nxt, back))), back)
            lids.append(hit[0])
            backs.append(hit[1])
            pos += 1
    except _Truncated:
        stopped = True
    layers = [layer_of[i] for i in lids] + ([()] if stopped else [])
    layer = layers[-1]
    accepted = not stopped and bool(layer) and len(lids) == len(wire) + 1
    prefix_len = len(wire) if accepted else len(layers) - 2  # the last layer is empty
    end_layer = layers[prefix_len]
    try:
        allowed = _allowed(auto, end_layer)
    except _Truncated:
        allowed = set()
    start, path = _path(backs, prefix_len, end_layer[0])
    shown, note, shown_in = _witness(auto, start, path, property)
    truncated = bool(source.truncated) and not accepted
    reason = source.reason
    bound = ""
    if not accepted and not truncated and getattr(source, "overflow", 0):
        cap = source.systems[0].limits.capacity
        if strict:
            bound = (f"the channel capacity {cap} was exceeded in {source.overflow} states the search "
                     "reached: the bounded model cannot show more")
        else:
            truncated, reason = True, f"channel capacity {cap} exceeded in {source.overflow} states"
    if not accepted and not truncated and strict and isinstance(model, Scenario):
        from .lifting import exceeded

        bound = exceeded(model, wire, prefix_len, retransmissions) or bound
    return ConformResult(
        accepted=accepted, prefix_len=prefix_len, prefix=tuple(wire[:prefix_len]),
        allowed_next=tuple(sorted(allowed)), witness=shown if accepted else None,
        rest=tuple(wire[prefix_len:]), truncated=truncated, reason=reason, prefix_witness=shown, at=auto.at,
        lifted=tuple(plan.lines(plan.used(model, plan.variants[start], _states(auto, start, path)))) if plan else (),
        bound=bound, witness_note=note,
        states=source.n_states, witness_system=shown_in,
    )


def _states(auto: _Automaton, vi: int, path: list[tuple[int, int]]):
    """``(system, state tuple)`` along a path of the search (window shifts included)."""
    source = auto.source
    system = source.systems[vi]
    state = source.starts()[vi]
    yield system, source.decode(state)
    for _, a in path:
        if a < 0:
            state = dict(source.shifts(state))[SHIFT - a]
        else:
            state = next(t for b, t in source.successors(state) if b == a)
        yield system, source.decode(state)


#: The most segments a shifted witness is replayed with (a system with one id per segment).
MAX_REPLAY_SEGMENTS = 12


def _scenario_automaton(sc, wire: list[str], at: str, strict: bool, retransmissions, max_states, timeout):
    """The automaton of a scenario: as it is (``strict``) or lifted to the trace (:mod:`.lifting`)."""
    from ..model.compose import build_system
    from .lifting import plan as lift
    from .segments import SegmentWindow, WindowError

    if at not in VANTAGES:
        raise ConformError(f"unknown vantage point {at!r}; allowed: {', '.join(VANTAGES)}")
    if strict:
        return _Automaton(_SystemSource([build_system(sc)], max_states=max_states, timeout=timeout), at), None
    p = lift(sc, wire, retransmissions)
    systems, windows = [], []
    for variant in p.variants:
        system = build_system(p.scenario(variant))
        try:
            ws = tuple(SegmentWindow(system, host) for host in variant[2])
        except WindowError as e:
            raise ConformError(f"cannot follow a long stream in {sc.name}: {e}; use --strict") from None
        systems.append(system)
        windows.append(ws)
    return _Automaton(_SystemSource(systems, windows, max_states, timeout), at), p


def _witness(auto: _Automaton, vi: int, path: list[tuple[int, int]], property) -> tuple[Trace | None, str, object]:
    """The replayed trace of a path ``[(variant, command or SHIFT - window)]`` from variant
    ``vi``'s initial state, and a note when it cannot be replayed (too many segments for one id
    each)."""
    system = auto.source.systems[vi]
    cmds = [a for _, a in path]
    if all(a >= 0 for a in cmds):
        return trace_from_commands(system, cmds, property, "witness"), "", system
    return _concrete_witness(auto, vi, path, property)


def _concrete_witness(auto, vi: int, path, property) -> tuple[Trace | None, str, object]:
    """Replay a path with window shifts in the system with one id per segment it used."""
    from dataclasses import replace

    from ..engines.codegen import compile_packed
    from ..model.compose import build_system
    from .segments import project

    source = auto.source
    abstract = source.systems[vi]
    windows = source.windows[vi]
    shifts = Counter(windows[SHIFT - a].sender for _, a in path if a < 0)
    sc = abstract.scenario
    n = sc.tcp.data_segments + shifts["client"]
    m = sc.tcp.server_segments + shifts["server"]
    if max(n, m) > MAX_REPLAY_SEGMENTS:
        return None, (f"witness not replayed: the path uses {n} client and {m} server data segments; a "
                      f"replay builds one message id per segment, up to {MAX_REPLAY_SEGMENTS}"), None
    concrete = build_system(replace(sc, tcp=replace(sc.tcp, data_segments=n, server_segments=m)))
    succ, _, lay = compile_packed(concrete)
    alay = source.compiled[vi][2]
    offsets = {w.sender: 0 for w in windows}
    cur = lay.encode(concrete.init)
    astate = alay.encode(abstract.init)
    cmds: list[int] = []
    wire_a = [tuple(p.wire() for p in c.wire) for c in abstract.commands]
    for _, a in path:
        if a < 0:
            offsets[windows[SHIFT - a].sender] += 1
            astate = alay.encode(windows[SHIFT - a].shift(alay.decode(astate)))
            continue
        target = next(t for b, t in source.successors((vi, astate)) if b == a)[1]
        want = alay.decode(target)
        for _, c, t in succ(cur)[0]:
            if (tuple(p.wire() for p in concrete.commands[c].wire) == wire_a[a]
                    and project(abstract, concrete, lay.decode(t), offsets) == want):
                cmds.append(c)
                cur = t
                break
        else:
            return None, "witness not replayed: no step of the concrete system matches the window's step", None
        astate = target
    return trace_from_commands(concrete, cmds, property, "witness"), "", concrete


def _step(auto: _Automaton, layer: tuple, want: str) -> tuple[list, dict]:
    """The nodes one observed packet ``want`` leads to from ``layer`` (before their closure),
    with their back pointers (first visit only)."""
    nxt: list[Node] = []
    back: dict = {}

    def add(new: Node, node: Node, a: int) -> None:
        if new not in back:
            back[new] = (1, node, a)
            nxt.append(new)

    for node in layer:
        state, pending, arrived = node
        if pending:
            for left in _take(pending, want):
                add((state, left, arrived), node, -1)
            continue
        for letter, now in auto.arrivals(state, arrived):
            if _match(want, letter):
                add((state, (), now), node, -1)
        for a, v, groups, need in auto.edges(state)[1]:
            if not auto.allows(state, arrived, need):
                continue
            for left in _take(groups, want):
                add((v, left, auto.after(arrived, need)), node, a)
    return nxt, back


def _closure(auto: _Automaton, seeds: list, back: dict) -> list:
    """Epsilon closure (steps that show nothing, window shifts) of a layer; only nodes without
    pending packets move.  ``back`` gets the pointers of the nodes added."""
    out = list(seeds)
    i = 0
    while i < len(out):
        node = out[i]
        i += 1
        state, pending, arrived = node
        if pending:
            continue  # the rest of this step's packets must come first
        for a, v, need in auto.edges(state)[0]:
            if not auto.allows(state, arrived, need):
                continue
            new = (v, (), auto.after(arrived, need))
            if new not in back:
                back[new] = (0, node, a)
                out.append(new)
        for new, w in auto.shifts(node):
            if new not in back:
                back[new] = (0, node, SHIFT - w)
                out.append(new)
    return out


def _allowed(auto: _Automaton, layer: list) -> set[str]:
    out: set[str] = set()
    for state, pending, arrived in layer:
        if pending:
            out.update(pending[0])
            continue
        for a, _v, groups, need in auto.edges(state)[1]:
            if auto.allows(state, arrived, need):
                out.update(groups[0])
        out.update(letter for letter, _ in auto.arrivals(state, arrived))
    return out


def _path(backs: list[dict], pos: int, node: Node) -> tuple[int, list[tuple[int, int]]]:
    """The start's variant and (variant, command) along the back pointers from ``node`` at
    position ``pos`` (a packet of a pending step, or an arrival, adds none; a window shift is
    ``SHIFT - window``)."""
    cmds: list[tuple[int, int]] = []
    while True:
        entry = backs[pos][node]
        if entry is None:
            break
        crossed, prev, a = entry
        if a != -1:
            cmds.append((prev[0][0], a))
        pos -= crossed
        node = prev
    cmds.reverse()
    return node[0][0], cmds


def never_sent(graph, packet: str) -> bool:
    """Whether no step of the model sends a packet that ``packet`` may stand for (a ``DELETE``
    before the model has one, a ``RST`` in a scenario without aborts)."""
    system = getattr(graph, "system", graph)
    sent = {p.wire() for c in system.commands for p in c.wire}
    return not any(_match(packet, w) for w in sent)


def describe(result: ConformResult, trace_lines: Sequence[int] | None = None,
             scenario: str = "the model", locations: Sequence[str] | None = None,
             notes: Sequence[str] = ()) -> str:
    """A few lines explaining a verdict (used by ``ndcheck conform``).

    ``trace_lines`` gives the line of each packet in a wire-trace file; ``locations`` instead a
    short text per packet (``capture packet 44, +3.201568 s``), also shown in the prefix listing.
    ``notes`` are printed under the first line of a rejection.
    """
    lines = []
    n = result.length
    seen = "" if result.at == "wire" else f" at the {result.at}"
    raised = [f"  (raised to the trace: {line})" for line in result.lifted]
    if result.accepted:
        steps = len(result.witness.steps) if result.witness else 0
        verb = "send" if result.at == "wire" else "show"
        shown = f"witness: {steps} steps, replayed" if result.witness else result.witness_note
        lines.append(f"accepted: {scenario} can {verb} all {n} packets in this order{seen} ({shown})")
        lines.extend(raised)
        return "\n".join(lines)
    bad = result.rest[0]
    if locations:
        at = f" ({locations[result.prefix_len]})"
    else:
        at = f" (line {trace_lines[result.prefix_len]})" if trace_lines else ""
    head = "undetermined" if result.truncated else "rejected"
    lines.append(f"{head}: packet {result.prefix_len + 1}{at} '{bad}' is not a behaviour of "
                 f"{scenario}{seen} after the accepted prefix of {result.prefix_len} packet"
                 f"{'s' if result.prefix_len != 1 else ''}")
    lines.extend(f"  ({note})" for note in notes)
    if result.bound:
        lines.append(f"  ({result.bound}; without --strict it is raised to what the trace needs)")
    lines.extend(raised)
    if result.witness_note:
        lines.append(f"  ({result.witness_note})")
    if result.truncated:
        lines.append(f"  (the exploration was truncated: {result.reason}; raise --max-states)")
    if result.prefix:
        lines.append("longest accepted prefix:")
        width = max(len(x) for x in result.prefix)
        for i, x in enumerate(result.prefix, 1):
            where = f"  {'':{width - len(x)}}{locations[i - 1]}" if locations else ""
            lines.append(f"  {i:3d}  {x}{where}")
    if result.allowed_next:
        lines.append("the model allows next:")
        lines.extend(f"       {p}" for p in result.allowed_next)
    else:
        lines.append("the model allows no further packet after this prefix")
    return "\n".join(lines)
