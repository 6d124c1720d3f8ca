"""Symmetry reduction over interchangeable flows: one canonical representative per orbit.

Flows opened by the same host, with the same GE rules (ND-7), are interchangeable (:class:`~ndcheck.model.ir.FlowNames`,
:func:`~ndcheck.model.ir.flow_swap`): permuting their names maps the system onto itself, and the
properties are lifted to be symmetric over the orbit (``properties/flows.py``).  So the
explorer may store one state per orbit: :func:`symmetry_of` builds a canonicalizer on packed
states (:class:`~ndcheck.engines.layout.Layout`) that, within each group of interchangeable
flows, sorts the flows' field blocks by value and writes them back in flow order.  A
representative is a real reachable state (the canonical image of one), so a graph of
representatives (the *quotient*) has the same safety verdicts with fewer states.

Bit slicing: a flow's fields are scattered over the packed ``int``; consecutive fields that are
adjacent in every flow of a group are merged into one *chunk* (a shift and a mask), each flow's
chunks are gathered into one compact key, the keys are compared, and only an out-of-order state
is rebuilt.  The function is generated Python, like the successor function.

A path in the quotient is a sequence of commands between representatives, not a run:
:func:`concrete_commands` re-executes it from the initial state, picking at each step an
enabled command whose successor canonicalizes to the next representative (the same command
when it does), so every trace stays a real run that replays through the machine instances.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..model.ir import System
from .codegen import compile_packed, layout_of
from .layout import Layout


class ConcretizationError(RuntimeError):
    """A quotient path could not be re-executed as a run (a broken symmetry: a bug)."""


@dataclass(frozen=True)
class Symmetry:
    """The canonicalizer of a system's interchangeable flows.

    ``groups`` lists the flow numbers of each group of interchangeable flows (two or more flows
    with the same opener and GE rules); ``canon(packed) -> packed`` maps a state to its orbit's representative.
    """

    groups: tuple[tuple[int, ...], ...]
    canon: Callable[[int], int]
    source: str

    def commands_to(self, graph, sid: int, final: Callable[[int, Sequence[int]], bool] | None = None,
                    final_hint: int | None = None) -> list[int]:
        """A real run to the orbit of ``sid``: :func:`concrete_commands`."""
        return concrete_commands(graph, sid, final, final_hint)

    def describe(self) -> str:
        return "reduced by symmetry over flows " + "; ".join(
            "{" + ", ".join(map(str, g)) + "}" for g in self.groups)


def interchangeable(system: System) -> list[list]:
    """The groups (two or more flows, flow order) of flows with the same opener and the same
    GE rules (:attr:`FlowNames.kind`: a GE flow and a non-GE flow are not interchangeable)."""
    by_opener: dict[tuple, list] = {}
    for f in system.flows:
        by_opener.setdefault(f.kind, []).append(f)
    return [g for g in by_opener.values() if len(g) >= 2]


def symmetry_of(system: System, layout: Layout | None = None) -> Symmetry | None:
    """The canonicalizer of ``system``'s packed states (cached on the system), or None when
    no two flows are interchangeable."""
    cached = system.cache.get("symmetry")
    if cached is not None and cached[0] == tuple(system.flows):
        return cached[1]
    lay = layout or layout_of(system)
    groups = interchangeable(system)
    sym = None
    if groups:
        src = _generate(system, lay, groups)
        ns: dict = {}
        exec(compile(src, f"<ndcheck symmetry {system.name}>", "exec"), ns)  # noqa: S102 - our own generated code
        sym = Symmetry(tuple(tuple(f.number for f in g) for g in groups), ns["canon"], src)
    system.cache["symmetry"] = (tuple(system.flows), sym)
    return sym


def _chunks(system: System, lay: Layout, group: list) -> list[list[tuple[int, int]]]:
    """Per flow of the group, its ``(offset, width)`` chunks, corresponding across the flows."""
    idx = system.index
    blocks = []
    for f in group:
        fs = [idx[n] for n in f.names if n in idx]  # message ids are not fields
        blocks.append(fs)
    if len({len(b) for b in blocks}) != 1:
        raise ValueError(f"flows {[f.number for f in group]} own different numbers of fields")
    for j in range(len(blocks[0])):
        col = [b[j] for b in blocks]
        if len({(lay.width[i], lay.lo[i]) for i in col}) != 1:
            names = [lay.names[i] for i in col]
            raise ValueError(f"fields {names} correspond across flows but differ in domain")
    out: list[list[tuple[int, int]]] = [[] for _ in group]
    for j in range(len(blocks[0])):
        col = [b[j] for b in blocks]
        w = lay.width[col[0]]
        if w == 0:
            continue
        # extend the previous chunk when the field follows it in every flow
        if out[0] and all(out[k][-1][0] + out[k][-1][1] == lay.offset[i] for k, i in enumerate(col)):
            for k in range(len(group)):
                o, cw = out[k][-1]
                out[k][-1] = (o, cw + w)
        else:
            for k, i in enumerate(col):
                out[k].append((lay.offset[i], w))
    return out


def _generate(system: System, lay: Layout, groups: list[list]) -> str:
    """Source of ``canon(p)``: per group, gather each flow's compact key, and if the keys are
    out of order, clear the group's bits and deposit the sorted keys in flow order."""
    lines = ["def canon(p):"]
    for gi, group in enumerate(groups):
        chunks = _chunks(system, lay, group)
        n = len(group)
        if n == 2:
            lines += _pair(gi, chunks)
            continue
        keys = []
        for k in range(n):
            parts, pos = [], 0
            for off, w in chunks[k]:
                m = (1 << w) - 1
                x = f"((p >> {off}) & {m})" if off else f"(p & {m})"
                parts.append(x if pos == 0 else f"({x} << {pos})")
                pos += w
            keys.append(f"k{gi}_{k}")
            lines.append(f"    k{gi}_{k} = " + (" | ".join(parts) or "0"))
        clear = 0
        for k in range(n):
            for off, w in chunks[k]:
                clear |= ((1 << w) - 1) << off
        inorder = " <= ".join(keys)
        lines.append(f"    if not ({inorder}):")
        if n == 2:
            lines.append(f"        s0, s1 = {keys[1]}, {keys[0]}")
        else:
            lines.append(f"        s{', s'.join(map(str, range(n)))}, = sorted(({', '.join(keys)},))")
        lines.append(f"        p &= {~clear & ((1 << lay.bits) - 1)}")
        for k in range(n):
            pos = 0
            deposit = []
            for off, w in chunks[k]:
                m = (1 << w) - 1
                x = f"(s{k} >> {pos})" if pos else f"s{k}"
                deposit.append(f"(({x} & {m}) << {off})" if off else f"({x} & {m})")
                pos += w
            lines.append("        p |= " + " | ".join(deposit))
    lines.append("    return p")
    return "\n".join(lines) + "\n"


def _pair(gi: int, chunks: list[list[tuple[int, int]]]) -> list[str]:
    """Two flows: compare chunk by chunk (the first difference decides, so most states cost one
    or two shifts), and swap out-of-order blocks in place by XOR."""
    body = [f"    # group {gi}: flows' blocks compared chunk by chunk", "    d = 0"]
    for (o1, w), (o2, _) in zip(chunks[0], chunks[1]):
        a = f"((p >> {o1}) & {(1 << w) - 1})" if o1 else f"(p & {(1 << w) - 1})"
        b = f"((p >> {o2}) & {(1 << w) - 1})"
        body += ["    if not d:", f"        a = {a}; b = {b}", "        d = (a > b) - (a < b)"]
    body.append("    if d > 0:")
    for (o1, w), (o2, _) in zip(chunks[0], chunks[1]):
        body.append(f"        x = ((p >> {o1}) ^ (p >> {o2})) & {(1 << w) - 1}")
        body.append(f"        p ^= (x << {o1}) | (x << {o2})")
    return body


def concrete_commands(graph, sid: int, final: Callable[[int, Sequence[int]], bool] | None = None,
                      final_hint: int | None = None) -> list[int]:
    """The commands of a real run from the initial state along the quotient's shortest path to
    state ``sid`` (ending in a state whose representative is ``sid``).

    With ``final``, one more command is appended: an enabled command ``c`` of the run's last
    state ``s`` with ``final(c, s)`` (``final_hint`` first when it qualifies) -- the firing of a
    ``never_action`` property, which by symmetry exists wherever it exists at the representative.
    """
    system = graph.system
    sym: Symmetry = graph.symmetry
    succ, _, lay = compile_packed(system)
    canon = sym.canon
    s = lay.encode(system.init)
    if canon(s) != graph.packed[0]:
        raise ConcretizationError("the initial state is not its own representative")
    out: list[int] = []
    for step, (a, rid) in enumerate(graph.path_to(sid), 1):
        target = graph.packed[rid]
        pick = None
        for _, c, t in succ(s)[0]:
            if canon(t) == target:
                if c == a:
                    pick = (c, t)
                    break
                if pick is None:
                    pick = (c, t)
        if pick is None:
            raise ConcretizationError(f"step {step}: no enabled command reaches the orbit of "
                                      f"state {rid}")
        out.append(pick[0])
        s = pick[1]
    if final is not None:
        state = lay.decode(s)
        enabled = [c for _, c, _t in succ(s)[0]]
        if final_hint is not None and final_hint in enabled and final(final_hint, state):
            out.append(final_hint)
        else:
            for c in enabled:
                if final(c, state):
                    out.append(c)
                    break
            else:
                raise ConcretizationError(f"no firing command at the run's end (state {sid})")
    return out
