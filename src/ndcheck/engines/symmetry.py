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
    #: the same canonicalizer in C (``B canon(B p)`` over the native search's word structs,
    #: :mod:`.native`), generated from the same chunks
    c_source: str = ""

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
        sym = Symmetry(tuple(tuple(f.number for f in g) for g in groups), ns["canon"], src,
                       _generate_c(system, lay, groups))
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


def _pieces(chunks: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Each chunk as pieces of at most 64 bits, most significant first."""
    out = []
    for off, w in chunks:
        ps = [(off + lo, min(64, w - lo)) for lo in range(0, w, 64)]
        out.append(ps[::-1])
    return out


def _get(off: int, w: int) -> str:
    """C: bits ``off .. off + w - 1`` (w <= 64) of the state ``p`` as a ``uint64_t``."""
    q, r = divmod(off, 64)
    mask = f"{(1 << w) - 1}ULL"
    if r + w <= 64:
        x = f"(p.w[{q}] >> {r})" if r else f"p.w[{q}]"
        return x if r + w == 64 else f"({x} & {mask})"
    return f"(((p.w[{q}] >> {r}) | (p.w[{q + 1}] << {64 - r})) & {mask})"


def _put(op: str, off: int, w: int, v: str) -> list[str]:
    """C: combine ``v`` (at most w bits) into the state's bits ``off ..`` with ``op`` (|= or ^=)."""
    q, r = divmod(off, 64)
    out = [f"p.w[{q}] {op} {v} << {r};" if r else f"p.w[{q}] {op} {v};"]
    if r + w > 64:
        out.append(f"p.w[{q + 1}] {op} {v} >> {64 - r};")
    return out


def _generate_c(system: System, lay: Layout, groups: list[list]) -> str:
    """The C twin of :func:`_generate`: ``static B canon(B p)`` with the same order per group
    (two flows: chunk by chunk, the first difference decides; more: the compact keys as
    integers, sorted), on the words of the native search's state struct (:mod:`.native`): each
    chunk read as pieces of at most 64 bits, compared from the most significant piece of the
    order down, so no key wider than a word is built."""
    words = max(1, (lay.bits + 63) // 64)
    lines = ["static B canon(B p) {"]
    for gi, group in enumerate(groups):
        chunks = _chunks(system, lay, group)
        pieces = [_pieces(c) for c in chunks]          # flow -> chunk -> pieces, high first
        n = len(group)
        lines.append(f"    {{ /* group {gi}: flows {[f.number for f in group]} */")
        if n == 2:
            # chunk 0 first, each chunk's pieces from the most significant
            flat = [[pc for c in fl for pc in c] for fl in pieces]
            lines.append("        int d = 0;")
            for (o1, w), (o2, _) in zip(flat[0], flat[1]):
                lines.append(f"        if (!d) {{ uint64_t a = {_get(o1, w)}, b = {_get(o2, w)}; "
                             "d = a > b ? 1 : a < b ? -1 : 0; }")
            lines.append("        if (d > 0) {")
            for (o1, w), (o2, _) in zip(flat[0], flat[1]):
                lines.append(f"            {{ uint64_t x = {_get(o1, w)} ^ {_get(o2, w)};")
                lines += ["              " + s for s in _put("^=", o1, w, "x") + _put("^=", o2, w, "x")]
                lines.append("            }")
            lines += ["        }", "    }"]
            continue
        # more flows: the keys as integers, chunk 0 least significant: compare from the last
        # chunk's most significant piece down
        flat = [[pc for c in reversed(fl) for pc in c] for fl in pieces]
        m = len(flat[0])
        lines.append(f"        uint64_t v[{n}][{max(1, m)}];")
        for k in range(n):
            for j, (off, w) in enumerate(flat[k]):
                lines.append(f"        v[{k}][{j}] = {_get(off, w)};")
        lines.append(f"        int ord[{n}]; for (int i = 0; i < {n}; i++) ord[i] = i;")
        lines.append("        int moved = 0;")
        lines.append(f"        for (int i = 1; i < {n}; i++) {{")
        lines.append("            int x = ord[i], j = i - 1;")
        lines.append(f"            while (j >= 0 && memcmp_u64(v[x], v[ord[j]], {m}) < 0) "
                     "{ ord[j + 1] = ord[j]; j--; moved = 1; }")
        lines.append("            ord[j + 1] = x;")
        lines.append("        }")
        lines.append("        if (moved) {")
        clear = 0
        for fl in flat:
            for off, w in fl:
                clear |= ((1 << w) - 1) << off
        for i in range(words):
            cw = (clear >> (64 * i)) & ((1 << 64) - 1)
            if cw:
                lines.append(f"            p.w[{i}] &= {(~cw) & ((1 << 64) - 1)}ULL;")
        for k in range(n):
            for j, (off, w) in enumerate(flat[k]):
                lines += ["            " + s for s in _put("|=", off, w, f"v[ord[{k}]][{j}]")]
        lines += ["        }", "    }"]
    lines += ["    return p;", "}"]
    return "\n".join(lines) + "\n"


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
