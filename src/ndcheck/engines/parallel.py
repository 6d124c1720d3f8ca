"""Parallel breadth-first exploration: worker processes own the states whose hash maps to them.

Each of ``workers`` processes (forked, so they share the compiled successor function) keeps the
states it owns in its own :class:`~.store.StateStore`.  The search goes level by level:

1. every worker expands the states of the current level it owns, in id order, and tags each
   successor with its place in the sequential order, ``(source id << 16) | k`` for the k-th
   successor of a source;
2. the coordinator (this process) forwards each successor to the worker owning its hash (as
   numpy arrays in files under ``/dev/shm``: a pipe carries only the names, see :class:`Box`);
3. each owner looks its successors up (its own while the others may still be expanding, then
   the forwarded ones), keeps the new ones (first occurrence = least tag, :func:`least_tags`)
   and returns the new states with their least tags;
4. the coordinator merges the owners' new states by tag, which numbers them exactly as the
   sequential BFS does (:func:`~.explicit.explore` numbers new states in order of first
   occurrence), and sends each owner the ids of its new states with the offsets of the level's
   sources among the edges; the owner writes the edges of its successors (target id, command)
   into a shared file at the places their tags give, and starts on the next level, while the
   coordinator appends the states and parents, and then the written edges.

So the graph is the sequential explorer's, state for state and edge for edge: same ids, edges,
parents, and the same cut under ``max_states``.  A ``timeout`` or memory limit is checked
between levels (the sequential explorer checks every 2048 states), so a graph truncated by
those may stop at a different point.

Speed: on two idle cores the workers share the expansion, which is most of the work; on a
machine where other sessions are busy, the kernel's autogroup scheduling
(``/proc/sys/kernel/sched_autogroup_enabled``) gives this session's processes together one
session's share, so there the parallel explorer is no faster than the sequential one
(BENCHMARKS.md, "Both cores").
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import shutil
import tempfile
import time
import traceback
from array import array
from collections.abc import Callable

import numpy as np

from ..model.ir import System
from .codegen import compile_packed
from .expand import CHUNK, bound_reached, expand
from .memguard import MemoryGuard
from .store import PackedStates, StateStore, first_occurrences, hash_words

K_BITS = 16                      # successors per state < 2**16 (one per command at most)
_K_MASK = (1 << K_BITS) - 1
_OWNER_SHIFT = np.uint64(56)


def owner_of(h: np.ndarray, workers: int) -> np.ndarray:
    """The worker owning each state, from its hash (bits the table's slots use least)."""
    return ((h >> _OWNER_SHIFT) % np.uint64(workers)).astype(np.int64)


def _worker(conn, system: System, me: int, workers: int, folder: str) -> None:
    try:
        _work(conn, system, me, workers, folder)
    except BaseException as exc:  # noqa: BLE001 - reported to the coordinator, which raises it
        try:
            conn.send(("error", exc, traceback.format_exc()))
        except Exception:  # noqa: BLE001 - an unpicklable exception: send its text
            conn.send(("error", RuntimeError(repr(exc)), traceback.format_exc()))
    finally:
        conn.close()


def _work(conn, system: System, me: int, workers: int, folder: str) -> None:
    succ, _, lay = compile_packed(system)
    act_type = np.int16 if len(system.commands) < 1 << 15 else np.int32
    store = StateStore(lay.bits)
    box = Box(folder, me)
    gid = np.zeros(1024, np.int32)                    # local id -> global id
    keys = store.to_words([lay.encode(system.init)])
    h = hash_words(keys)
    if owner_of(h, workers)[0] == me:
        store.append(keys, h)
        f_lo, f_gids = 0, np.zeros(1, np.int64)
    else:
        f_lo, f_gids = 0, np.zeros(0, np.int64)
    while True:
        # 1. expand the frontier this worker owns (in chunks: the words are made while the
        #    successors are still in the cache); the first level starts at once, the next ones
        #    when the coordinator has sent this level's ids
        f_hi = f_lo + len(f_gids)
        cnts, acts, words, ovf = [], [], [], []
        for lo in range(f_lo, f_hi, CHUNK):
            batch = expand(succ, store.ints(lo, min(f_hi, lo + CHUNK)))
            cnts.append(batch.counts)
            acts.append(batch.acts)
            words.append(store.to_words(batch.targets))
            ovf.extend(lo - f_lo + k for k in batch.ovf)
        counts = _cat(cnts, np.int64)
        A = _cat(acts, np.int64).astype(act_type)
        keys = np.concatenate(words) if words else np.zeros((0, store.words), np.uint64)
        h = hash_words(keys)
        m = len(keys)
        starts = np.cumsum(counts) - counts
        k = np.arange(m, dtype=np.int64) - np.repeat(starts, counts)
        tags = (np.repeat(f_gids, counts) << K_BITS) | k
        own = owner_of(h, workers)
        parts = [np.flatnonzero(own == w) for w in range(workers)]
        outgoing = [None if w == me else box.put(tags[p], A[p], keys[p], h[p])
                    for w, p in enumerate(parts)]
        ovf_gids = f_gids[np.asarray(ovf, np.int64)]
        conn.send((box.put(f_gids, counts, ovf_gids), outgoing))
        # 3. look up the successors this worker owns: its own first, while the others may
        #    still be expanding, then the ones they forward
        p = parts[me]
        incoming = [(tags[p], A[p], keys[p], h[p])]
        found = [store.find(keys[p], h[p])]
        forwarded = conn.recv()
        if isinstance(forwarded, str):
            return
        for msg in forwarded:
            x = Box.get(msg)
            x[2] = x[2].reshape(-1, store.words)
            incoming.append(x)
            found.append(store.find(x[2], x[3]))
        T = np.concatenate([x[0] for x in incoming])
        A = np.concatenate([x[1] for x in incoming])
        K = np.concatenate([x[2] for x in incoming])
        H = np.concatenate([x[3] for x in incoming])
        ids = np.concatenate(found)
        hit = ids >= 0
        miss = np.flatnonzero(~hit)
        dst = np.empty(len(T), np.int32)
        dst[hit] = gid[ids[hit]]
        if miss.size:
            first, rank = least_tags(T[miss], H[miss], K[miss])
            new = miss[first]
            dst[miss] = -1 - rank
        else:
            new = miss
        lo = store.n
        store.append(K[new], H[new])
        conn.send(box.put(T[new], A[new], K[new]))
        # 4. the new states' global ids (-1 past a max-states cut): the next frontier; with them
        #    this worker writes its successors' edges into the level's shared file
        reply = conn.recv()
        if isinstance(reply, str):
            return
        ids_box, a, offsets_box, edges_path, last = reply
        if store.n > len(gid):
            gid = np.resize(gid, max(store.n, 2 * len(gid)))
        new_ids = Box.get(ids_box)[0]
        gid[lo:store.n] = new_ids
        if len(T):
            # each successor's place among the level's edges, from the sources' offsets there
            pos = Box.get(offsets_box)[0][(T >> K_BITS) - a] + (T & _K_MASK)
            neg = dst < 0
            dst[neg] = new_ids[-1 - dst[neg]]
            columns = np.memmap(edges_path, np.int32, "r+").reshape(2, -1)
            columns[0, pos] = dst
            columns[1, pos] = A
            del columns
        if last:
            conn.send("written")
            return
        f_lo, f_gids = lo, new_ids.astype(np.int64)


def least_tags(tags: np.ndarray, h: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``keys``, each represented by its row of least tag (tags are distinct).

    Returns ``(first, rank)``: ``first`` the representatives' row indices in ascending tag
    order, ``rank[r]`` the position in ``first`` of row ``r``'s value; the same as
    :func:`~.store.first_occurrences` on the rows sorted by tag, with one unstable sort of the
    hashes instead of two stable sorts.

    >>> keys = np.array([[7], [5], [7], [9]], np.uint64)
    >>> [x.tolist() for x in least_tags(np.array([4, 3, 1, 2]), hash_words(keys), keys)]
    [[2, 3, 1], [0, 2, 0, 1]]
    """
    o = np.argsort(h)
    hs = h[o]
    start = np.ones(len(o), bool)
    start[1:] = hs[1:] != hs[:-1]
    heads = np.flatnonzero(start)
    group = np.cumsum(start) - 1                   # group of each sorted row
    ko = keys[o]
    if not (ko == ko[heads][group]).all():         # a 64-bit hash collision: exact keys
        by_tag = np.argsort(tags, kind="stable")
        first, r = first_occurrences(h[by_tag], keys[by_tag])
        rank = np.empty(len(tags), np.int64)
        rank[by_tag] = r
        return by_tag[first], rank
    to = tags[o]
    least = np.minimum.reduceat(to, heads)
    order = np.argsort(least)                      # the groups in order of their least tag
    pos = np.empty(len(heads), np.int64)
    pos[order] = np.arange(len(heads))
    rank = np.empty(len(o), np.int64)
    rank[o] = pos[group]
    reps = o[to == least[group]]                   # one per group (tags are distinct)
    return reps[order], rank


class Box:
    """Arrays passed between processes through files in shared memory (``/dev/shm``): a pipe
    carries only the file's name and the arrays' types and shapes, so a message of megabytes
    is two copies, not hundreds of pipe-buffer round trips between processes."""

    __slots__ = ("folder", "me", "sent")

    def __init__(self, folder: str, me: int) -> None:
        self.folder, self.me, self.sent = folder, me, 0

    def put(self, *arrays: np.ndarray) -> tuple[str, list]:
        self.sent += 1
        path = os.path.join(self.folder, f"{self.me}-{self.sent}")
        with open(path, "wb") as f:
            for a in arrays:
                np.ascontiguousarray(a).tofile(f)
        return path, [(a.dtype.str, a.shape) for a in arrays]

    @staticmethod
    def get(box: tuple[str, list]) -> list[np.ndarray]:
        path, specs = box
        buf = bytearray(os.path.getsize(path))
        with open(path, "rb") as f:
            f.readinto(buf)
        os.unlink(path)
        out, off = [], 0
        for dt, shape in specs:
            dt = np.dtype(dt)
            count = int(np.prod(shape, dtype=np.int64))
            out.append(np.frombuffer(buf, dt, count, off).reshape(shape))
            off += count * dt.itemsize
        return out


def _take_edges(level, src: _Column, dst: _Column, act: _Column) -> None:
    """Append a level's edges (written by the workers into its file) to the columns."""
    path, a, b, counts, n_e, n_keep = level
    src.extend(n_keep)[:] = np.repeat(np.arange(a, b, dtype=np.int32), counts)[:n_keep]
    if n_e:
        written = np.memmap(path, np.int32, "r").reshape(2, n_e)
        dst.extend(n_keep)[:] = written[0, :n_keep]
        act.extend(n_keep)[:] = written[1, :n_keep]
        del written
        os.unlink(path)


class _Column:
    """A growing ``int32`` column, filled through numpy views, handed out as ``array('i')``."""

    __slots__ = ("a", "n")

    def __init__(self, first: tuple[int, ...] = ()) -> None:
        self.a = np.zeros(max(1024, len(first)), np.int32)
        self.a[:len(first)] = first
        self.n = len(first)

    def extend(self, m: int) -> np.ndarray:
        """The next ``m`` places, to be written before the next call."""
        need = self.n + m
        if need > len(self.a):
            self.a.resize(max(need, 2 * len(self.a)), refcheck=False)
        view = self.a[self.n:need]
        self.n = need
        return view

    def array(self) -> array:
        out = array("i")
        out.frombytes(memoryview(self.a[:self.n]).cast("B"))
        self.a = np.zeros(0, np.int32)
        return out


def _cat(parts: list, dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)


def _recv(conn):
    """The next message of a worker; its exception if it failed."""
    try:
        msg = conn.recv()
    except EOFError:
        raise RuntimeError("an explorer worker exited unexpectedly (out of memory?)") from None
    if isinstance(msg, tuple) and msg and isinstance(msg[0], str) and msg[0] == "error":
        raise msg[1]
    return msg


def _send(conn, msg) -> None:
    """Send to a worker; if it has stopped, raise what it reported."""
    try:
        conn.send(msg)
    except OSError:
        _recv(conn)
        raise


def explore_parallel(system: System, workers: int, max_states: int, timeout: float,
                     progress: Callable[[int, int], None] | None = None):
    """The graph :func:`~.explicit.explore` finds, computed by ``workers`` processes: the
    arguments of :class:`~.explicit.Graph` after ``system`` (packed states, edge columns,
    parents, truncation, seconds, overflow states, compile seconds, layout)."""
    guard = MemoryGuard.for_system(system)
    tc = time.perf_counter()
    _, _, lay = compile_packed(system)                 # compiled once, before the fork
    t0 = time.perf_counter()
    ctx = mp.get_context("fork")
    folder = tempfile.mkdtemp(prefix="ndcheck-explore-",
                              dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    mine = Box(folder, workers)
    conns, procs = [], []
    # the objects the workers inherit stay out of their garbage collections, so a collection
    # does not write to (and copy) the pages they share with this process
    gc.freeze()
    try:
        for w in range(workers):
            here, there = ctx.Pipe()
            p = ctx.Process(target=_worker, args=(there, system, w, workers, folder), daemon=True)
            p.start()
            there.close()
            conns.append(here)
            procs.append(p)
    finally:
        gc.unfreeze()
    guard.pids = tuple(p.pid for p in procs)          # the workers' memory counts too
    store = StateStore(lay.bits)
    store.append(store.to_words([lay.encode(system.init)]), index=False)
    src, dst, act = _Column(), _Column(), _Column()
    parent, parent_act = _Column((0,)), _Column((-1,))
    truncated, reason, overflow = False, "", 0
    a, b, more = 0, 1, True
    pending = None                   # the last level's edges, until the workers have written them
    try:
        while True:
            expanded = [_recv(c) for c in conns]
            for w, c in enumerate(conns):
                _send(c, [e[1][w] for v, e in enumerate(expanded) if v != w])
            if pending:              # the workers wrote them before expanding this level
                _take_edges(pending, src, dst, act)
            counts = np.zeros(b - a, np.int64)
            ovf = []
            for head, _ in expanded:
                f_gids, cnt, o = Box.get(head)
                counts[f_gids - a] = cnt
                ovf.append(o)
            ovf = np.concatenate(ovf)
            offsets = np.cumsum(counts) - counts
            looked = [Box.get(_recv(c)) for c in conns]
            # number the new states by their first tag, as the sequential BFS does
            new_tags = np.concatenate([x[0] for x in looked])
            order = np.argsort(new_tags, kind="stable")
            n_e = n_keep = int(counts.sum())
            if b + len(order) > max_states:
                allowed = max(0, max_states - b)
                cut = int(new_tags[order[allowed]])
                order = order[:allowed]
                truncated, reason = True, f"max-states {max_states} reached"
                last = cut >> K_BITS
                n_keep = int(offsets[last - a] + (cut & _K_MASK))
                overflow += int((ovf <= last).sum())
            else:
                overflow += len(ovf)
                if len(order):
                    reason = bound_reached(t0, timeout, guard)
                    truncated = bool(reason)
            new_gid = np.full(len(new_tags), -1, np.int32)
            new_gid[order] = np.arange(b, b + len(order), dtype=np.int32)
            bounds = np.cumsum([0] + [len(x[0]) for x in looked])
            more = not truncated and len(order) > 0
            # the ids start the workers on the next level (after they have written this one's
            # edges, each at the place its tag gives, into a shared file)
            path = os.path.join(folder, f"edges-{a}")
            if n_e:
                with open(path, "wb") as f:
                    f.truncate(8 * n_e)
            for w, c in enumerate(conns):
                _send(c, (mine.put(new_gid[bounds[w]:bounds[w + 1]]), a,
                          mine.put(offsets) if n_e else None, path, not more))
            store.append(np.concatenate([x[2] for x in looked]).reshape(-1, store.words)[order],
                         index=False)
            parent.extend(len(order))[:] = new_tags[order] >> K_BITS
            parent_act.extend(len(order))[:] = np.concatenate([x[1] for x in looked])[order]
            pending = (path, a, b, counts, n_e, n_keep)
            a, b = b, b + len(order)
            if not more:
                break
            if progress:
                progress(a, b)
        for c in conns:
            if _recv(c) != "written":
                raise RuntimeError("an explorer worker did not write its edges")
        _take_edges(pending, src, dst, act)
    finally:
        if more:
            for c in conns:
                try:
                    c.send("stop")
                except OSError:
                    pass
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
                p.join()
        for c in conns:
            c.close()
        shutil.rmtree(folder, ignore_errors=True)
    if overflow and not truncated:
        truncated, reason = True, (f"channel capacity {system.limits.capacity} "
                                   f"exceeded in {overflow} states")
    if progress:
        progress(a, store.n)
    store.trim()
    src, dst, act = src.array(), dst.array(), act.array()
    parent, parent_act = parent.array(), parent_act.array()
    return (PackedStates(store), src, dst, act, parent, parent_act, truncated, reason,
            time.perf_counter() - t0, overflow, t0 - tc, lay)
