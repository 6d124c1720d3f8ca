"""An explored graph's states as columns, and IR expressions evaluated over all states at once.

The explorer keeps every state packed in 64-bit words (:mod:`.store`); a field of the
:mod:`.layout` is a bit range of those words, so its value in every state is a couple of numpy
shifts and masks over the word array.  :class:`Columns` extracts a field's column when an
expression first reads it; :meth:`Columns.mask` evaluates a condition over every state in
vector operations (a scan with a compiled per-state predicate decoded every state tuple first:
about 15 µs a state, a quarter of ``ndcheck check all``).

:meth:`Columns.condition` and :meth:`Columns.value` follow :func:`ndcheck.model.ir.evaluate`:
a boolean used as a value is 0/1, a value used as a condition is true when non-zero; the tests
compare them with the interpreter state by state.
"""

from __future__ import annotations

import numpy as np

from ..model.ir import BOOL_OPS, Expr
from .store import PackedStates, StateStore

_W = np.uint64(64)


class Columns:
    """Per-field value arrays (``int64``, one entry per state id) of an explored graph."""

    def __init__(self, graph, _of: tuple[Columns, np.ndarray] | None = None):
        self.graph = graph
        self.system = graph.system
        self._of = _of
        self.n = graph.n_states if _of is None else len(_of[1])
        self._cols: dict[str, np.ndarray] = {}
        self._keys: np.ndarray | None = None

    def take(self, ids: np.ndarray) -> Columns:
        """The columns of the states ``ids`` (in that order), extracted as they are read."""
        return Columns(self.graph, (self, ids))

    def _words(self) -> np.ndarray:
        if self._keys is None:
            packed = self.graph.packed
            if isinstance(packed, PackedStates):
                self._keys = packed.store.keys[:self.n]
            else:  # a graph built from a list of packed ints
                store = StateStore(bits=max(1, self.graph.layout.bits))
                self._keys = store.to_words(list(packed)) if self.n else np.zeros((0, store.words), np.uint64)
        return self._keys

    def column(self, name: str) -> np.ndarray:
        """The value of field ``name`` in every state."""
        col = self._cols.get(name)
        if col is None and self._of is not None:
            whole, ids = self._of
            col = self._cols[name] = whole.column(name)[ids]
        if col is None:
            lay = self.graph.layout
            i = self.system.index[name]
            off, width, lo = lay.offset[i], lay.width[i], lay.lo[i]
            if width == 0:
                col = np.full(self.n, lo, np.int64)
            else:
                keys = self._words()
                j, b = divmod(off, 64)
                bits = keys[:, j] >> np.uint64(b)
                if b + width > 64:  # the field straddles two words
                    bits = bits | (keys[:, j + 1] << (_W - np.uint64(b)))
                if width < 64:
                    bits = bits & np.uint64((1 << width) - 1)
                col = bits.astype(np.int64) + lo
            self._cols[name] = col
        return col

    # -- expressions ---------------------------------------------------------------------------
    def mask(self, e: Expr) -> np.ndarray:
        """A boolean array: which states satisfy the condition ``e``."""
        out = self.condition(e)
        if np.ndim(out) == 0:
            return np.full(self.n, bool(out))
        return out

    def condition(self, e: Expr):
        """``e`` as a condition: a boolean array, or a Python bool where ``e`` reads no field."""
        op, a = e.op, e.args
        if op == "const":
            return bool(a[0])
        if op == "field":
            return self.column(a[0]) != 0
        if op == "eq":
            return self.value(a[0]) == self.value(a[1])
        if op == "ne":
            return self.value(a[0]) != self.value(a[1])
        if op == "lt":
            return self.value(a[0]) < self.value(a[1])
        if op == "le":
            return self.value(a[0]) <= self.value(a[1])
        if op == "and":
            out = True
            for x in a:
                out = np.logical_and(out, self.condition(x))
            return out
        if op == "or":
            out = False
            for x in a:
                out = np.logical_or(out, self.condition(x))
            return out
        if op == "not":
            return np.logical_not(self.condition(a[0]))
        return self.value(e) != 0

    def value(self, e: Expr):
        """``e`` as an integer: an ``int64`` array, or a Python int where ``e`` reads no field."""
        op, a = e.op, e.args
        if op in BOOL_OPS:
            c = self.condition(e)
            return c.astype(np.int64) if isinstance(c, np.ndarray) else int(c)
        if op == "const":
            return int(a[0])
        if op == "field":
            return self.column(a[0])
        if op == "add":
            return self.value(a[0]) + self.value(a[1])
        if op == "sub":
            return self.value(a[0]) - self.value(a[1])
        if op == "min":
            return np.minimum(self.value(a[0]), self.value(a[1]))
        if op == "max":
            return np.maximum(self.value(a[0]), self.value(a[1]))
        if op == "ite":
            return np.where(self.condition(a[0]), self.value(a[1]), self.value(a[2]))
        raise ValueError(f"unknown expression operator {op!r}")
