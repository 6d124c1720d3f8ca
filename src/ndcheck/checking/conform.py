"""Conformance: is an observed packet sequence a behaviour of the model?

A wire trace is *accepted* when some path from the initial state of the explored product graph
puts exactly these packets on the wire in this order (DESIGN.md "Wire traces").  Steps that put
nothing on the wire (receptions without a reply, inbound drops, network losses, timeouts that
give up) may come between; the path need not end in a final state.  A step that puts two packets
on the wire (a cleartext SYN and the MM #1 it triggers, ND-8/ND-1) may show them in either order,
but adjacent: nothing else is sent in between.  A capture may stop between the two packets of one
step, so the accepted language is prefix-closed.

The check is a subset construction over the product graph read as an automaton whose letters are
wire packets: positions advance on a packet, wire-less edges are epsilon moves.  Each layer of the
search is the set of nodes ``(state id, packets of the current step still to show)`` reachable
after consuming a prefix; the first empty layer gives the longest accepted prefix, and the
packets the previous layer could emit are what the model allowed next.  The witness path of an
accepted trace is replayed through the IR and the machine instances
(:func:`~ndcheck.traces.trace.trace_from_commands`) before it is returned.

>>> from ndcheck import CATALOG, build_system, explore
>>> g = explore(build_system(CATALOG["fig8-silent-peer"]))
>>> r = conform(g, ["client>server MM1", "client>server SYN clear", "server>client SYN-ACK clear"])
>>> r.accepted, r.prefix_len, len(r.witness.wire)
(True, 3, 3)
>>> r = conform(g, ["client>server SYN clear", "server>client MM2"])
>>> r.accepted, r.prefix_len, "client>server MM1" in r.allowed_next
(False, 1, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..model.ir import Packet
from ..traces.trace import Trace, trace_from_commands

__all__ = ["ConformResult", "conform"]

#: A node of the search: (state id, packets of the current step still to show).
Node = tuple[int, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class ConformResult:
    """The verdict of :func:`conform`.

    ``prefix_len`` packets of the trace are a behaviour of the model (all of them when
    ``accepted``); ``prefix`` lists them; ``allowed_next`` is the sorted set of packets the model
    could put on the wire right after that prefix (empty when nothing more can be sent);
    ``witness`` is a replayed trace sending the accepted packets (``None`` when rejected).
    ``truncated`` says the explored graph was cut by a bound: a rejection is then inconclusive.
    """

    accepted: bool
    prefix_len: int
    prefix: tuple[str, ...]
    allowed_next: tuple[str, ...]
    witness: Trace | None
    rest: tuple[str, ...] = ()
    truncated: bool = False
    reason: str = ""

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


class _Automaton:
    """The product graph's edges grouped by source, each with its command's wire packets."""

    def __init__(self, graph):
        self.graph = graph
        system = graph.system
        cmd_wire = [tuple(p.wire() for p in c.wire) for c in system.commands]
        n = graph.n_states
        eps: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        sends: list[list[tuple[int, int, tuple[str, ...]]]] = [[] for _ in range(n)]
        for u, v, a in zip(graph.src, graph.dst, graph.act):
            w = cmd_wire[a]
            if w:
                sends[u].append((a, v, w))
            else:
                eps[u].append((a, v))
        self.eps = eps
        self.sends = sends


def _automaton(graph) -> _Automaton:
    """The graph's automaton, built once per graph (several traces are often checked)."""
    auto = getattr(graph, "_conform_automaton", None)
    if auto is None or auto.graph is not graph:
        auto = _Automaton(graph)
        try:
            graph._conform_automaton = auto
        except AttributeError:  # a graph type with slots: rebuild next time
            pass
    return auto


def _remove_one(items: tuple[str, ...], x: str) -> tuple[str, ...]:
    i = items.index(x)
    return items[:i] + items[i + 1:]


def conform(graph, packets: Sequence[Packet | str], *, property: str | None = None,
            automaton: _Automaton | None = None) -> ConformResult:
    """Decide whether ``packets`` (in send order) is a behaviour of the explored ``graph``.

    Nodes are ``(state id, pending)`` where ``pending`` holds the packets of the current step
    not yet shown (the second packet of a two-packet step, ND-8).  Parent pointers of the first
    visit give a witness with the fewest steps among those reaching each node in BFS order.
    """
    wire = _wire_strings(packets)
    auto = automaton or _automaton(graph)
    start: Node = (0, ())
    # parent[(pos, node)] = (pos', node', command or -1)
    parent: dict[tuple[int, Node], tuple[int, Node, int] | None] = {(0, start): None}
    layers: list[list[Node]] = [[start]]
    pos = 0
    layer = _closure(auto, 0, [start], parent)
    layers[0] = layer
    while pos < len(wire) and layer:
        want = wire[pos]
        nxt: list[Node] = []
        for node in layer:
            sid, pending = node
            if pending:
                if want in pending:
                    new = (sid, _remove_one(pending, want))
                    key = (pos + 1, new)
                    if key not in parent:
                        parent[key] = (pos, node, -1)
                        nxt.append(new)
                continue
            for a, v, w in auto.sends[sid]:
                if want in w:
                    new = (v, _remove_one(w, want))
                    key = (pos + 1, new)
                    if key not in parent:
                        parent[key] = (pos, node, a)
                        nxt.append(new)
        pos += 1
        layer = _closure(auto, pos, nxt, parent)
        layers.append(layer)
    accepted = bool(layer) and pos == len(wire)
    if accepted:
        prefix_len = len(wire)
        allowed = _allowed(auto, layer)
        end = layer[0]
        witness = trace_from_commands(graph.system, _path(parent, (pos, end)), property, "witness")
    else:
        prefix_len = len(layers) - 2  # the last layer is empty
        allowed = _allowed(auto, layers[prefix_len])
        witness = None
    return ConformResult(
        accepted=accepted, prefix_len=prefix_len, prefix=tuple(wire[:prefix_len]),
        allowed_next=tuple(sorted(allowed)), witness=witness, rest=tuple(wire[prefix_len:]),
        truncated=bool(getattr(graph, "truncated", False)), reason=getattr(graph, "reason", ""),
)


def _closure(auto: _Automaton, pos: int, seeds: list, parent: dict) -> list:
    """Epsilon closure (wire-less edges) of a layer; only nodes without pending packets move."""
    out = list(seeds)
    i = 0
    while i < len(out):
        node = out[i]
        i += 1
        sid, pending = node
        if pending:
            continue  # the rest of this step's packets must come first
        for a, v in auto.eps[sid]:
            new = (v, ())
            key = (pos, new)
            if key not in parent:
                parent[key] = (pos, node, a)
                out.append(new)
    return out


def _allowed(auto: _Automaton, layer: list) -> set[str]:
    out: set[str] = set()
    for sid, pending in layer:
        if pending:
            out.update(pending)
        else:
            for _, _, w in auto.sends[sid]:
                out.update(w)
    return out


def _path(parent: dict, key) -> list[int]:
    """Commands along the parent pointers (a packet of a pending step adds no command)."""
    cmds: list[int] = []
    while parent[key] is not None:
        pos, node, a = parent[key]
        if a >= 0:
            cmds.append(a)
        key = (pos, node)
    cmds.reverse()
    return cmds


def describe(result: ConformResult, trace_lines: Sequence[int] | None = None,
             scenario: str = "the model") -> str:
    """A few lines explaining a verdict (used by ``ndcheck conform``)."""
    lines = []
    n = result.length
    if result.accepted:
        steps = len(result.witness.steps) if result.witness else 0
        lines.append(f"accepted: {scenario} can send all {n} packets in this order "
                     f"(witness: {steps} steps, replayed)")
        return "\n".join(lines)
    bad = result.rest[0]
    at = f" (line {trace_lines[result.prefix_len]})" if trace_lines else ""
    head = "undetermined" if result.truncated else "rejected"
    lines.append(f"{head}: packet {result.prefix_len + 1}{at} '{bad}' is not a behaviour of "
                 f"{scenario} after the accepted prefix of {result.prefix_len} packet"
                 f"{'s' if result.prefix_len != 1 else ''}")
    if result.truncated:
        lines.append(f"  (the exploration was truncated: {result.reason}; raise --max-states)")
    if result.prefix:
        lines.append("longest accepted prefix:")
        for i, p in enumerate(result.prefix, 1):
            lines.append(f"  {i:3d}  {p}")
    if result.allowed_next:
        lines.append("the model allows next:")
        lines.extend(f"       {p}" for p in result.allowed_next)
    else:
        lines.append("the model allows no further packet after this prefix")
    return "\n".join(lines)
