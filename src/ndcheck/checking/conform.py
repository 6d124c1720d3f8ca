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

The check is a subset construction over the product graph read as an automaton whose letters are
observed packets: positions advance on a packet, steps that show nothing at the vantage point
are epsilon moves.  Each layer of the search is the set of nodes ``(state id, packets of the
current step still to show, packets that have reached H and wait for H)`` reachable after
consuming a prefix; the first empty layer gives the longest accepted prefix, and the packets the
previous layer could show are what the model allowed next.  The witness path of an accepted
trace (and of the accepted prefix of a rejected one) is replayed through the IR and the machine
instances (:func:`~ndcheck.traces.trace.trace_from_commands`) before it is returned.

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
"""

from __future__ import annotations

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
Node = tuple[int, tuple[tuple[str, ...], ...], Arrived]


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


class _Automaton:
    """The product graph's edges grouped by source, each with what a capture at ``at`` shows of it.

    An edge is ``(command, target, groups, need)``: ``groups`` the packets it shows (one group
    of either-order packets on the wire; at a host, the arrival-dependent answer of H), ``need``
    a condition on the packets waiting at H: ``("arrived", key)`` (H takes in a copy that has
    reached it) or ``("in network", key)`` (the network loses or duplicates a copy on its way
    to H), or None.
    """

    def __init__(self, graph, at: str = "wire"):
        if at not in VANTAGES:
            raise ConformError(f"unknown vantage point {at!r}; allowed: {', '.join(VANTAGES)}")
        self.graph = graph
        self.at = at
        system = graph.system
        n = graph.n_states
        eps: list[list[tuple[int, int, tuple | None]]] = [[] for _ in range(n)]
        sends: list[list[tuple[int, int, tuple, tuple | None]]] = [[] for _ in range(n)]
        self._chan: dict[int, Counter] = {}
        self._read = None
        if at == "wire":
            cmd_wire = [tuple(p.wire() for p in c.wire) for c in system.commands]
            for u, v, a in zip(graph.src, graph.dst, graph.act):
                w = cmd_wire[a]
                if w:
                    sends[u].append((a, v, (w,), None))
                else:
                    eps[u].append((a, v, None))
        else:
            network = getattr(getattr(system, "scenario", None), "network", None)
            if network is not None and not getattr(network, "reorder", True):
                raise ConformError(f"a capture at the {at} (--at {at}) needs multiset channels; scenario "
                                   f"{system.name} has FIFO channels (network.reorder = false): read it "
                                   "at the wire (--at wire) or use a scenario with reorder = true")
            self._read = channel_reader(system)
            host_wire = [tuple(p.wire() for p in c.wire if p.sender == at) for c in system.commands]
            kinds = [c.kind for c in system.commands]
            for u, v, a in zip(graph.src, graph.dst, graph.act):
                need = None
                kind = kinds[a]
                if kind in ("deliver", "drop", "lose", "dup"):
                    need = self._need(u, v, kind)
                w = host_wire[a]
                if w:
                    sends[u].append((a, v, (w,), need))
                else:
                    eps[u].append((a, v, need))
        self.eps = eps
        self.sends = sends

    def channel(self, sid: int) -> Counter:
        """Copies in flight toward the capturing host in state ``sid``."""
        c = self._chan.get(sid)
        if c is None:
            c = Counter({k: n for k, n in self._read(self.graph.state(sid)).items() if k.dst == self.at})
            self._chan[sid] = c
        return c

    def _need(self, u: int, v: int, kind: str) -> tuple | None:
        before = self._read(self.graph.state(u))
        after = self._read(self.graph.state(v))
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

    def allows(self, sid: int, arrived: Arrived, need: tuple | None) -> bool:
        if need is None:
            return True
        what, key = need
        waiting = dict(arrived).get(key, 0)
        if what == "arrived":
            return waiting > 0
        return self.channel(sid)[key] > waiting

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

    def arrivals(self, sid: int, arrived: Arrived) -> list[tuple[str, Arrived]]:
        """Packets that can reach the capturing host next, with the waiting packets after each."""
        if self._read is None:
            return []
        waiting = dict(arrived)
        out = []
        for key, n in sorted(self.channel(sid).items()):
            if n > waiting.get(key, 0):
                waiting[key] = waiting.get(key, 0) + 1
                out.append((key.packet().wire(), tuple(sorted(waiting.items()))))
                waiting[key] -= 1
                if not waiting[key]:
                    del waiting[key]
        return out


def _automaton(graph, at: str = "wire") -> _Automaton:
    """The graph's automaton for a vantage point, built once per graph (several traces are
    often checked)."""
    cache = getattr(graph, "_conform_automata", None)
    if cache is None or cache.get("graph") is not graph:
        cache = {"graph": graph}
        try:
            graph._conform_automata = cache
        except AttributeError:  # a graph type with slots: rebuild next time
            pass
    auto = cache.get(at)
    if auto is None:
        auto = cache[at] = _Automaton(graph, at)
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


def conform(graph, packets: Sequence[Packet | str], *, property: str | None = None,
            automaton: _Automaton | None = None, at: str = "wire") -> ConformResult:
    """Decide whether ``packets`` is a behaviour of the explored ``graph`` seen from ``at``.

    ``at`` is ``"wire"`` (packets in send order, the default) or the host whose interface the
    capture was taken on (``"client"``, ``"server"``: its sends and its arrivals; see the module
    documentation).  Parent pointers of the first visit give a witness with the fewest steps
    among those reaching each node in BFS order.
    """
    wire = _wire_strings(packets)
    auto = automaton or _automaton(graph, at)
    start: Node = (0, (), ())
    # parent[(pos, node)] = (pos', node', command or -1)
    parent: dict[tuple[int, Node], tuple[int, Node, int] | None] = {(0, start): None}
    layer = _closure(auto, 0, [start], parent)
    layers: list[list[Node]] = [layer]
    pos = 0
    while pos < len(wire) and layer:
        want = wire[pos]
        nxt: list[Node] = []
        add = _adder(parent, pos, nxt)
        for node in layer:
            sid, pending, arrived = node
            if pending:
                for left in _take(pending, want):
                    add((sid, left, arrived), node, -1)
                continue
            for letter, now in auto.arrivals(sid, arrived):
                if _match(want, letter):
                    add((sid, (), now), node, -1)
            for a, v, groups, need in auto.sends[sid]:
                if not auto.allows(sid, arrived, need):
                    continue
                for left in _take(groups, want):
                    add((v, left, auto.after(arrived, need)), node, a)
        pos += 1
        layer = _closure(auto, pos, nxt, parent)
        layers.append(layer)
    accepted = bool(layer) and pos == len(wire)
    prefix_len = len(wire) if accepted else len(layers) - 2  # the last layer is empty
    end_layer = layers[prefix_len]
    allowed = _allowed(auto, end_layer)
    shown = trace_from_commands(graph.system, _path(parent, (prefix_len, end_layer[0])), property,
                                "witness")
    return ConformResult(
        accepted=accepted, prefix_len=prefix_len, prefix=tuple(wire[:prefix_len]),
        allowed_next=tuple(sorted(allowed)), witness=shown if accepted else None,
        rest=tuple(wire[prefix_len:]), truncated=bool(getattr(graph, "truncated", False)),
        reason=getattr(graph, "reason", ""), prefix_witness=shown, at=auto.at,
    )


def _adder(parent: dict, pos: int, nxt: list):
    """``add(new, node, command)``: visit ``new`` at ``pos + 1`` from ``node`` (first visit only)."""
    def add(new: Node, node: Node, a: int) -> None:
        key = (pos + 1, new)
        if key not in parent:
            parent[key] = (pos, node, a)
            nxt.append(new)
    return add


def _closure(auto: _Automaton, pos: int, seeds: list, parent: dict) -> list:
    """Epsilon closure (steps that show nothing) of a layer; only nodes without pending packets move."""
    out = list(seeds)
    i = 0
    while i < len(out):
        node = out[i]
        i += 1
        sid, pending, arrived = node
        if pending:
            continue  # the rest of this step's packets must come first
        for a, v, need in auto.eps[sid]:
            if not auto.allows(sid, arrived, need):
                continue
            new = (v, (), auto.after(arrived, need))
            key = (pos, new)
            if key not in parent:
                parent[key] = (pos, node, a)
                out.append(new)
    return out


def _allowed(auto: _Automaton, layer: list) -> set[str]:
    out: set[str] = set()
    for sid, pending, arrived in layer:
        if pending:
            out.update(pending[0])
            continue
        for a, _v, groups, need in auto.sends[sid]:
            if auto.allows(sid, arrived, need):
                out.update(groups[0])
        out.update(letter for letter, _ in auto.arrivals(sid, arrived))
    return out


def _path(parent: dict, key) -> list[int]:
    """Commands along the parent pointers (a packet of a pending step, or an arrival, adds none)."""
    cmds: list[int] = []
    while parent[key] is not None:
        pos, node, a = parent[key]
        if a >= 0:
            cmds.append(a)
        key = (pos, node)
    cmds.reverse()
    return cmds


def never_sent(graph, packet: str) -> bool:
    """Whether no step of the model sends a packet that ``packet`` may stand for (a ``DELETE``
    before the model has one, a ``RST`` in a scenario without aborts)."""
    sent = {p.wire() for c in graph.system.commands for p in c.wire}
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
    if result.accepted:
        steps = len(result.witness.steps) if result.witness else 0
        verb = "send" if result.at == "wire" else "show"
        lines.append(f"accepted: {scenario} can {verb} all {n} packets in this order{seen} "
                     f"(witness: {steps} steps, replayed)")
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
