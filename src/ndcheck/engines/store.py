"""A compact visited store: packed states as fixed-width 64-bit words in one array, found through
an open-addressing hash table of ``int32`` ids.

A packed state (:mod:`.layout`, one Python ``int`` of ``bits`` bits) is kept as ``words`` =
⌈bits / 64⌉ little-endian ``uint64`` words, row ``id`` of :attr:`StateStore.keys`; the table holds
ids at slots chosen by a 64-bit hash of the words (linear probing, load at most one half, size a
power of two).  Lookups and insertions work on whole batches of states with numpy, so the cost
per state is a few vector operations, and the memory per state is ``8 * words`` bytes of words
plus 8 to 16 bytes of table, against about 110-140 bytes for a ``dict`` of Python ints.

Ids are given in insertion order; :meth:`StateStore.append` takes distinct states that are not
yet stored (the explorer finds them with :meth:`StateStore.find` and :func:`first_occurrences`).

Examples
--------
>>> s = StateStore(bits=130)
>>> s.words
3
>>> keys = s.to_words([5, 1 << 129, 7])
>>> s.append(keys).tolist()
[0, 1, 2]
>>> s.find(s.to_words([7, 8, 5])).tolist()
[2, -1, 0]
>>> s[1] == 1 << 129, s.index(7), s.index(9)
(True, 2, None)
"""

from __future__ import annotations

import numpy as np

_C1 = np.uint64(0x9E3779B97F4A7C15)
_C2 = np.uint64(0xBF58476D1CE4E5B9)
_C3 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_EMPTY = -1


def hash_words(keys: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row of ``keys`` (``uint64`` words): each word folded in by a
    multiply, then the splitmix64 finaliser.  Independent of ``PYTHONHASHSEED``."""
    with np.errstate(over="ignore"):
        h = keys[:, 0] * _C1
        for j in range(1, keys.shape[1]):
            h ^= keys[:, j]
            h *= _C1
        h ^= h >> _S30
        h *= _C2
        h ^= h >> _S27
        h *= _C3
        h ^= h >> _S31
    return h


def first_occurrences(h: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``keys`` in order of first occurrence.

    Returns ``(first, rank)``: ``first`` the ascending row indices of the first occurrence of
    each distinct row, ``rank[r]`` the position in ``first`` of row ``r``'s value.  ``h`` are
    the rows' hashes; equal hashes of different rows (a 64-bit collision) are resolved exactly.
    """
    m = len(h)
    if m == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.argsort(h, kind="stable")
    hs = h[order]
    start = np.ones(m, bool)
    start[1:] = hs[1:] != hs[:-1]
    group = np.cumsum(start) - 1                   # group of each sorted row
    lead = order[start][group]                     # first row (stable sort) of each group
    same = (keys[order] == keys[lead]).all(axis=1)
    if not same.all():                             # a hash collision: resolve by exact keys
        return _first_occurrences_exact(keys)
    rep = np.empty(m, np.int64)
    rep[order] = lead                              # each row -> first row with its value
    first = order[start]
    first.sort()
    rank = np.searchsorted(first, rep)
    return first, rank


def _first_occurrences_exact(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    seen: dict[bytes, int] = {}
    first: list[int] = []
    rank = np.empty(len(keys), np.int64)
    for r, row in enumerate(keys):
        k = row.tobytes()
        j = seen.get(k)
        if j is None:
            j = seen[k] = len(first)
            first.append(r)
        rank[r] = j
    return np.asarray(first, np.int64), rank


class StateStore:
    """Packed states in an array of ``uint64`` words, ids through an open-addressing table."""

    __slots__ = ("bits", "indexed", "keys", "mask", "n", "nbytes", "table", "words")

    def __init__(self, bits: int, capacity: int = 1024) -> None:
        self.bits = bits
        self.words = max(1, (bits + 63) // 64)
        self.nbytes = 8 * self.words
        self.keys = np.zeros((max(capacity, 16), self.words), np.uint64)
        self.n = 0
        self.indexed = 0                             # ids 0 .. indexed - 1 are in the table
        size = 1 << max(4, (2 * max(capacity, 16) - 1).bit_length())
        self.table = np.full(size, _EMPTY, np.int32)
        self.mask = np.uint64(size - 1)

    # -- conversion between Python ints and words ---------------------------------------------
    def to_words(self, states: list[int]) -> np.ndarray:
        """Rows of words for packed states (Python ints)."""
        nb = self.nbytes
        buf = b"".join([t.to_bytes(nb, "little") for t in states])
        return np.frombuffer(buf, dtype="<u8").reshape(-1, self.words)

    def ints(self, lo: int, hi: int) -> list[int]:
        """The packed states of ids ``lo .. hi - 1`` as Python ints."""
        nb = self.nbytes
        data = self.keys[lo:hi].tobytes()
        frm = int.from_bytes
        return [frm(data[j:j + nb], "little") for j in range(0, len(data), nb)]

    def __getitem__(self, i: int) -> int:
        if not -self.n <= i < self.n:
            raise IndexError(i)
        return int.from_bytes(self.keys[i % self.n].tobytes(), "little")

    def __len__(self) -> int:
        return self.n

    def nbytes_used(self) -> int:
        """Bytes held: the words array and the table (capacity included)."""
        return self.keys.nbytes + self.table.nbytes

    # -- lookups ----------------------------------------------------------------------------
    def find(self, keys: np.ndarray, h: np.ndarray | None = None) -> np.ndarray:
        """The id of each row of ``keys``, -1 where the state is not stored."""
        if self.indexed < self.n:
            self._rehash(2 * self.n)
        if h is None:
            h = hash_words(keys)
        m = len(keys)
        res = np.full(m, -1, np.int64)
        if m == 0 or self.n == 0:
            return res
        table, stored, mask = self.table, self.keys, self.mask
        slot = h & mask
        active = np.arange(m)
        while active.size:
            ids = table[slot[active]]
            held = ids >= 0
            active, ids = active[held], ids[held]
            eq = (stored[ids] == keys[active]).all(axis=1)
            res[active[eq]] = ids[eq]
            active = active[~eq]
            slot[active] = (slot[active] + np.uint64(1)) & mask
        return res

    def index(self, state: int) -> int | None:
        """The id of one packed state, or None."""
        if state < 0 or state.bit_length() > self.nbytes * 8:
            return None
        i = int(self.find(self.to_words([state]))[0])
        return None if i < 0 else i

    # -- insertion --------------------------------------------------------------------------
    def append(self, keys: np.ndarray, h: np.ndarray | None = None, index: bool = True) -> np.ndarray:
        """Store distinct, not yet stored states; returns their ids (consecutive, in order).

        ``index=False`` only appends the words: the table is rebuilt at the next lookup (for a
        store filled in a known order and rarely searched, like the parallel explorer's).
        """
        m = len(keys)
        lo = self.n
        if lo + m > len(self.keys):
            self._grow_keys(lo + m)
        self.keys[lo:lo + m] = keys
        self.n = lo + m
        ids = np.arange(lo, lo + m, dtype=np.int64)
        if not index or self.indexed < lo:
            return ids
        if 2 * self.n > len(self.table):
            self._rehash(2 * self.n)
        else:
            self._place(ids, keys if h is None else None, h)
            self.indexed = self.n
        return ids

    def _grow_keys(self, need: int) -> None:
        cap = max(need, len(self.keys) + len(self.keys) // 2)
        # ndarray.resize reallocates in place where it can (no second copy for large arrays)
        self.keys.resize((cap, self.words), refcheck=False)

    def trim(self) -> None:
        """Release the unused capacity of the words array (the table keeps its size)."""
        if len(self.keys) > self.n:
            self.keys.resize((max(self.n, 1), self.words), refcheck=False)

    def _rehash(self, need_slots: int, place=None) -> None:
        """A new table of at least ``need_slots`` slots holding every stored id; ``place(keys,
        n, table, mask)`` fills it in one call (the C search's placer, :mod:`.native_bfs`)."""
        size = 16                            # a power of two, load between 1/4 and 1/2
        while size < need_slots:
            size <<= 1
        self.table = np.full(size, _EMPTY, np.int32)
        self.mask = np.uint64(size - 1)
        if place is not None:
            place(self.keys, self.n, self.table, size - 1)
            self.indexed = self.n
            return
        block = 1 << 20
        for lo in range(0, self.n, block):
            hi = min(self.n, lo + block)
            self._place(np.arange(lo, hi, dtype=np.int64), self.keys[lo:hi], None)
        self.indexed = self.n

    def _place(self, ids: np.ndarray, keys: np.ndarray | None, h: np.ndarray | None) -> None:
        """Put distinct ids into empty slots (linear probing from their hash)."""
        if h is None:
            h = hash_words(keys)
        table, mask = self.table, self.mask
        slot = h & mask
        active = np.arange(len(ids))
        while active.size:
            s = slot[active]
            free = table[s] < 0
            fa, fs = active[free], s[free]
            table[fs] = ids[fa]                      # several writers per slot: one wins
            won = np.zeros(len(active), bool)
            won[np.flatnonzero(free)[table[fs] == ids[fa]]] = True
            active = active[~won]
            slot[active] = (slot[active] + np.uint64(1)) & mask


class PackedStates:
    """Read-only sequence of packed states (Python ints) over a :class:`StateStore`."""

    __slots__ = ("store",)

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def __len__(self) -> int:
        return self.store.n

    def __bool__(self) -> bool:
        return self.store.n > 0

    def __getitem__(self, i):
        if isinstance(i, slice):
            lo, hi, step = i.indices(self.store.n)
            if step == 1:
                return self.store.ints(lo, max(lo, hi))
            return [self.store[j] for j in range(lo, hi, step)]
        return self.store[i]

    def __iter__(self):
        block = 1 << 14
        for lo in range(0, self.store.n, block):
            yield from self.store.ints(lo, min(self.store.n, lo + block))

    def index(self, state: int) -> int:
        i = self.store.index(state)
        if i is None:
            raise ValueError(f"{state} is not a stored state")
        return i

    def __contains__(self, state) -> bool:
        return isinstance(state, int) and self.store.index(state) is not None

    def __eq__(self, other) -> bool:
        if isinstance(other, PackedStates):
            s, o = self.store, other.store
            return s.n == o.n and s.words == o.words and bool((s.keys[:s.n] == o.keys[:o.n]).all())
        if isinstance(other, (list, tuple)):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __repr__(self) -> str:
        return f"<{len(self)} packed states, {self.store.words} words each>"
