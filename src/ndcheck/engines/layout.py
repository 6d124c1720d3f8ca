"""The bit layout of a packed state: every field at a fixed bit offset of one Python ``int``.

Field ``i`` occupies ``width[i]`` bits at ``offset[i]`` and holds ``value - lo`` (a field with a
single value takes no bits).  :func:`build_layout` generates and compiles the ``encode`` /
``decode`` pair; :func:`ndcheck.engines.codegen.layout_of` caches it on the system.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..model.ir import System


class DomainError(ValueError):
    """A command produced a value outside a field's domain (other than a counter overflow)."""


@dataclass(frozen=True)
class Layout:
    """Bit layout of a system's state vector: one packed ``int`` per state."""

    names: tuple[str, ...]
    lo: tuple[int, ...]
    hi: tuple[int, ...]
    offset: tuple[int, ...]
    width: tuple[int, ...]
    bits: int
    encode: Callable[[Sequence[int]], int]
    decode: Callable[[int], tuple[int, ...]]

    def mask(self, i: int) -> int:
        """The field's bits in place."""
        return ((1 << self.width[i]) - 1) << self.offset[i]

    def slot_max(self, i: int) -> int:
        """The largest value the field's slot can hold."""
        return self.lo[i] + (1 << self.width[i]) - 1

    def get(self, packed: int, i: int) -> int:
        return ((packed >> self.offset[i]) & ((1 << self.width[i]) - 1)) + self.lo[i]


def build_layout(system: System) -> Layout:
    """The bit layout of ``system``, with its generated ``encode`` and ``decode``."""
    names, los, his, offs, wids = [], [], [], [], []
    off = 0
    for f in system.fields:
        if f.hi < f.lo:
            raise DomainError(f"field {f.name!r} has an empty domain {f.lo}..{f.hi}")
        if not f.lo <= f.init <= f.hi:
            raise DomainError(f"field {f.name!r}: initial value {f.init} outside {f.lo}..{f.hi}")
        w = (f.hi - f.lo).bit_length()
        names.append(f.name)
        los.append(f.lo)
        his.append(f.hi)
        offs.append(off)
        wids.append(w)
        off += w
    n = len(names)
    dec_parts = []
    enc_parts = []
    for i in range(n):
        m = (1 << wids[i]) - 1
        if wids[i] == 0:
            dec_parts.append(str(los[i]))
            continue
        x = "p" if offs[i] == 0 else f"(p >> {offs[i]})"
        d = f"{x} & {m}" if offs[i] + wids[i] < off else x
        dec_parts.append(f"({d}) + {los[i]}" if los[i] else f"({d})")
        v = f"(t[{i}] - {los[i]})" if los[i] else f"t[{i}]"
        enc_parts.append(v if offs[i] == 0 else f"({v} << {offs[i]})")
    src = (
        "def decode(p):\n    return (" + ", ".join(dec_parts) + ("," if n == 1 else "") + ")\n"
        "def encode_unchecked(t):\n    return " + (" | ".join(enc_parts) or "0") + "\n"
    )
    ns: dict = {}
    exec(compile(src, f"<ndcheck layout {system.name}>", "exec"), ns)  # noqa: S102 - our own generated code
    enc_raw = ns["encode_unchecked"]
    names_t, lo_t, hi_t = tuple(names), tuple(los), tuple(his)
    top = tuple(lo + (1 << w) - 1 for lo, w in zip(los, wids))

    def encode(t: Sequence[int]) -> int:
        if len(t) != n:
            raise DomainError(f"state has {len(t)} components; the system has {n} fields")
        for i, v in enumerate(t):
            if not lo_t[i] <= v <= top[i]:
                raise DomainError(f"field {names_t[i]!r}: value {v} outside {lo_t[i]}..{hi_t[i]}")
        return enc_raw(t)

    return Layout(names_t, lo_t, hi_t, tuple(offs), tuple(wids), off, encode, ns["decode"])
