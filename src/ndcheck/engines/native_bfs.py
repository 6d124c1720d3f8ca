"""The breadth-first search loop in C, on one thread or several: its C source and its driver.

:mod:`.native` translates a model's successor function to C; this module adds the search
around it, compiled into the same library (:data:`C_SOURCE`), and :func:`run`, which the
explorer calls after its first, checked, batch (:func:`.explicit.explore` with ``native``).

**Same graph.**  States are numbered in order of first occurrence among the successors of
states ``0, 1, 2, ...``: the numbering of the sequential explorer.  The states to expand are
cut into *chunks* of consecutive ids, claimed in order; one thread, the *main* one (the
caller's), stores the successors of the chunks strictly in claim order (looks each one up,
appends the new ones, writes edges and parents), so ids, edges, parents, the ``max_states`` cut
and the overflow count are the sequential explorer's whatever the number of threads.

**Both cores.**  With ``threads = T > 1`` the ``T - 1`` other threads (pthreads) expand chunks
and hash their successors ahead of the main thread (up to :data:`RING` chunks ahead); the main
thread looks the successors up and stores them, and expands chunks itself while the next one
to store is not ready.  The other threads read only stored rows of ids already published (under
the lock that hands out the chunks); the table, the parents and the edges are the main
thread's alone.  The lookups miss the cache, so the main thread prefetches the table slot of
the successor 16 ahead and the stored row its slot names 8 ahead.  The buffers are Python's:
the store's numpy arrays and the graph's ``array('i')`` columns, which the C search writes
into directly; when one is full the main thread calls :func:`run`'s ``grow`` callback, which
enlarges it and writes the new addresses into the shared :class:`_Ctx`; while the rows' words
move, the other threads wait between chunks.  Tried and dropped: the other threads also
looking the successors up (*pre-find*, reading the table while the main thread writes it):
on crossing-ike-loss the lookups cost them 0.18 s of CPU and saved the main thread 0.06 s.
A ``tick`` callback every :data:`TICK_STATES` expanded sources shows progress and checks the
timeout and memory bounds.

Statuses returned by ``search``: :data:`DONE`, :data:`CUT` (``limit`` states stored; ``last``
is the source whose successor was left out), :data:`STOPPED` (``tick`` said stop),
:data:`RAISED` (the model's DomainError at state ``last``; nothing of its chunk stored),
:data:`FAILED` (``grow`` raised, or out of memory in C).
"""

from __future__ import annotations

import ctypes
from array import array
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

DONE, CUT, STOPPED, RAISED, FAILED = 0, 1, 2, 3, 4
CHUNK_STATES = 256           # states per chunk: about 0.15 ms of expansion
RING = 128                   # chunks expanded ahead of the main thread, at most
TICK_STATES = 2048           # expanded sources between two calls of ``tick``

C_SOURCE = r"""
#include <pthread.h>
#include <stdlib.h>

/* the table rebuilt for the ids 0 .. n - 1 (table: size mask + 1, all slots empty) */
void rehash(const uint64_t *stored, long n, int32_t *table, uint64_t mask) {
    for (long id = 0; id < n; id++) {
        if (id + 16 < n) __builtin_prefetch(&table[hash_row(stored + (id + 16) * W) & mask], 1);
        uint64_t slot = hash_row(stored + id * W) & mask;
        while (table[slot] >= 0) slot = (slot + 1) & mask;
        table[slot] = (int32_t)id;
    }
}

typedef struct {
    uint64_t *stored; long cap;              /* rows of W words; capacity (rows) */
    int32_t *table; uint64_t mask;
    int32_t *parent, *pact; long pcap;       /* of each id: parent, command; capacity */
    int32_t *src, *dst, *act; long ecap;     /* edges; capacity */
    long n, i, ne, limit, overflow, last, threads, chunk, tick_every;
    long (*grow)(long rows, long slots, long edges);     /* 0: grown */
    long (*tick)(long i, long n);                        /* nonzero: stop */
} Ctx;

typedef struct {
    long seq, lo, hi, m, mcap, raised;
    int state, nomem;                        /* 0 free, 1 claimed, 2 ready */
    uint64_t *words, *hash; int32_t *acts, *cnt; uint8_t *ovf;
} Slot;

#define RING_SLOTS RING_N
typedef struct {
    Ctx *c;
    pthread_mutex_t mu; pthread_cond_t work, main;
    long next, npub, kclaim, kins;
    int stop, pause, busy;
    Slot slots[RING_SLOTS];
} Shared;

static int reserve(Slot *s, long need) {
    if (need <= s->mcap) return 1;
    long cap = s->mcap ? s->mcap : 1024;
    while (cap < need) cap *= 2;
    uint64_t *w = realloc(s->words, cap * W * sizeof(uint64_t)); if (!w) return 0; s->words = w;
    uint64_t *h = realloc(s->hash, cap * sizeof(uint64_t)); if (!h) return 0; s->hash = h;
    int32_t *a = realloc(s->acts, cap * sizeof(int32_t)); if (!a) return 0; s->acts = a;
    s->mcap = cap;
    return 1;
}

/* expand the chunk's states and hash their successors */
static void fill(const Ctx *c, Slot *s) {
    int rk[MAXOUT]; int ac[MAXOUT]; B tg[MAXOUT];
    /* read once: the main thread writes its counters beside it */
    const uint64_t *stored = c->stored;
    s->m = 0; s->raised = -1; s->nomem = 0;
    for (long st = s->lo; st < s->hi; st++) {
        B x; memcpy(x.w, stored + st * W, sizeof x.w);
        int ovf = 0;
        int k = succ_sorted(x, rk, ac, tg, &ovf);
        if (ovf == RAISED) { s->raised = st; return; }
        if (!reserve(s, s->m + k)) { s->nomem = 1; return; }
        for (int a = 0; a < k; a++) {
            long r = s->m + a;
            uint64_t *w = s->words + r * W;
            B x = CANON(tg[a]);                /* the orbit's representative, if reduced */
            memcpy(w, x.w, sizeof x.w);
            s->acts[r] = ac[a];
            s->hash[r] = hash_row(w);
        }
        s->cnt[st - s->lo] = k; s->ovf[st - s->lo] = (uint8_t)ovf;
        s->m += k;
    }
}

/* store the chunk's successors (in order); CUT at the limit, else DONE */
static long store_slot(Ctx *c, const Slot *s) {
    /* counters and addresses in locals: stores through the pointers could alias them */
    uint64_t *stored = c->stored, mask = c->mask;
    int32_t *table = c->table, *parent = c->parent, *pact = c->pact;
    int32_t *src = c->src, *dst = c->dst, *act = c->act;
    long n = c->n, ne = c->ne, limit = c->limit, overflow = c->overflow, r = 0, status = 0;
    /* the lookups miss the cache: fetch the table slot 16 rows ahead, the stored row 8 ahead */
    for (long q = 0; q < 16 && q < s->m; q++) __builtin_prefetch(&table[s->hash[q] & mask]);
    for (long st = s->lo; st < s->hi; st++) {
        long j = st - s->lo;
        for (int a = 0; a < s->cnt[j]; a++, r++) {
            if (r + 16 < s->m) __builtin_prefetch(&table[s->hash[r + 16] & mask]);
            if (r + 8 < s->m) {
                int32_t ahead = table[s->hash[r + 8] & mask];
                if (ahead >= 0) __builtin_prefetch(stored + (long)ahead * W);
            }
            const uint64_t *k = s->words + r * W;
            uint64_t slot = s->hash[r] & mask;
            int32_t id;
            for (;;) {
                id = table[slot];
                if (id < 0) {
                    if (n >= limit) { c->last = st; c->i = st; overflow += s->ovf[j]; status = CUT_; goto out; }
                    id = (int32_t)n++;
                    memcpy(stored + (long)id * W, k, W * sizeof(uint64_t));
                    parent[id] = (int32_t)st; pact[id] = s->acts[r];
                    table[slot] = id;
                    break;
                }
                if (memcmp(stored + (long)id * W, k, W * sizeof(uint64_t)) == 0) break;
                slot = (slot + 1) & mask;
            }
            src[ne] = (int32_t)st; dst[ne] = id; act[ne] = s->acts[r]; ne++;
        }
        overflow += s->ovf[j];
    }
    c->i = s->hi;
out:
    c->n = n; c->ne = ne; c->overflow = overflow;
    return status;
}

static int can_claim(const Shared *sh) {
    return !sh->pause && !sh->stop && sh->next < sh->npub && sh->kclaim < sh->kins + RING_SLOTS;
}

/* under the lock: the next chunk (its states: up to chunk, split between the threads while the
   frontier is narrow) */
static Slot *claim(Shared *sh) {
    Slot *s = &sh->slots[sh->kclaim % RING_SLOTS];
    long avail = sh->npub - sh->next, t = sh->c->threads;
    long size = avail >= t * sh->c->chunk ? sh->c->chunk : (avail + t - 1) / t;
    s->seq = sh->kclaim++;
    s->lo = sh->next; s->hi = sh->next + size; sh->next = s->hi;
    s->state = 1;
    sh->busy++;
    return s;
}

static void filled(Shared *sh, Slot *s) {       /* under the lock */
    s->state = 2;
    sh->busy--;
    pthread_cond_signal(&sh->main);
}

static void *worker(void *arg) {
    Shared *sh = arg;
    pthread_mutex_lock(&sh->mu);
    for (;;) {
        while (!sh->stop && !can_claim(sh)) pthread_cond_wait(&sh->work, &sh->mu);
        if (sh->stop) break;
        Slot *s = claim(sh);
        pthread_mutex_unlock(&sh->mu);
        fill(sh->c, s);
        pthread_mutex_lock(&sh->mu);
        filled(sh, s);
    }
    pthread_mutex_unlock(&sh->mu);
    return NULL;
}

long search(Ctx *c) {
    Shared *sh = calloc(1, sizeof(Shared));
    if (!sh) return FAILED_;
    sh->c = c;
    pthread_mutex_init(&sh->mu, NULL); pthread_cond_init(&sh->work, NULL); pthread_cond_init(&sh->main, NULL);
    sh->next = c->i; sh->npub = c->n;
    long status = DONE_, ticked = c->i, nthreads = 0;
    int ok = 1;
    for (int k = 0; k < RING_SLOTS && ok; k++) {
        sh->slots[k].cnt = malloc(c->chunk * sizeof(int32_t));
        sh->slots[k].ovf = malloc(c->chunk);
        ok = sh->slots[k].cnt && sh->slots[k].ovf;
    }
    pthread_t th[64];
    for (long t = 1; ok && t < c->threads && t < 64; t++)
        if (pthread_create(&th[nthreads], NULL, worker, sh) == 0) nthreads++;
    if (!ok) status = FAILED_;
    pthread_mutex_lock(&sh->mu);
    while (ok) {
        Slot *s = &sh->slots[sh->kins % RING_SLOTS];
        if (s->state == 2 && s->seq == sh->kins) {
            if (s->nomem) { status = FAILED_; break; }
            if (s->raised >= 0) { c->last = s->raised; c->i = s->lo; status = RAISED_; break; }
            long rows = c->n + s->m, slots = 2 * rows, edges = c->ne + s->m;
            if (rows > c->cap || slots > (long)c->mask + 1 || edges > c->ecap || rows > c->pcap) {
                /* the other threads read the stored rows: they wait between chunks while those
                   move; the table, parents and edges are the main thread's alone */
                int moving = rows > c->cap;
                if (moving) {
                    sh->pause = 1;
                    while (sh->busy > 0) pthread_cond_wait(&sh->main, &sh->mu);
                } else pthread_mutex_unlock(&sh->mu);
                long g = c->grow(rows, slots, edges);
                if (moving) {
                    sh->pause = 0;
                    pthread_cond_broadcast(&sh->work);
                } else pthread_mutex_lock(&sh->mu);
                if (g) { status = FAILED_; break; }
            }
            pthread_mutex_unlock(&sh->mu);
            long st = store_slot(c, s);
            pthread_mutex_lock(&sh->mu);
            s->state = 0;
            sh->kins++;
            sh->npub = c->n;
            if (nthreads) pthread_cond_broadcast(&sh->work);
            if (st == CUT_) { status = CUT_; break; }
            if (c->i - ticked >= c->tick_every) {
                ticked = c->i;
                pthread_mutex_unlock(&sh->mu);
                long stop = c->tick(c->i, c->n);
                pthread_mutex_lock(&sh->mu);
                if (stop) { status = STOPPED_; break; }
            }
            continue;
        }
        if (can_claim(sh)) {
            Slot *mine = claim(sh);
            pthread_mutex_unlock(&sh->mu);
            fill(c, mine);
            pthread_mutex_lock(&sh->mu);
            filled(sh, mine);
            continue;
        }
        if (sh->kclaim == sh->kins && sh->next >= sh->npub) break;      /* nothing left */
        pthread_cond_wait(&sh->main, &sh->mu);
    }
    sh->stop = 1;
    pthread_cond_broadcast(&sh->work);
    pthread_mutex_unlock(&sh->mu);
    for (long t = 0; t < nthreads; t++) pthread_join(th[t], NULL);
    for (int k = 0; k < RING_SLOTS; k++) {
        Slot *s = &sh->slots[k];
        free(s->words); free(s->hash); free(s->acts); free(s->cnt); free(s->ovf);
    }
    pthread_mutex_destroy(&sh->mu); pthread_cond_destroy(&sh->work); pthread_cond_destroy(&sh->main);
    free(sh);
    return status;
}
""".replace("RING_N", str(RING)).replace(
    "DONE_", str(DONE)).replace("CUT_", str(CUT)).replace("STOPPED_", str(STOPPED)).replace(
    "RAISED_", str(RAISED)).replace("FAILED_", str(FAILED))

_GROW = ctypes.CFUNCTYPE(ctypes.c_long, ctypes.c_long, ctypes.c_long, ctypes.c_long)
_TICK = ctypes.CFUNCTYPE(ctypes.c_long, ctypes.c_long, ctypes.c_long)


class _Ctx(ctypes.Structure):
    """The C ``Ctx``: the buffers' addresses and the search's counters."""

    _fields_ = [("stored", ctypes.c_void_p), ("cap", ctypes.c_long),
                ("table", ctypes.c_void_p), ("mask", ctypes.c_uint64),
                ("parent", ctypes.c_void_p), ("pact", ctypes.c_void_p), ("pcap", ctypes.c_long),
                ("src", ctypes.c_void_p), ("dst", ctypes.c_void_p), ("act", ctypes.c_void_p),
                ("ecap", ctypes.c_long),
                ("n", ctypes.c_long), ("i", ctypes.c_long), ("ne", ctypes.c_long),
                ("limit", ctypes.c_long), ("overflow", ctypes.c_long), ("last", ctypes.c_long),
                ("threads", ctypes.c_long), ("chunk", ctypes.c_long), ("tick_every", ctypes.c_long),
                ("grow", _GROW), ("tick", _TICK)]


@dataclass
class Result:
    """How :func:`run` ended: ``status``, ``i`` the next source to expand (at :data:`CUT`, the
    source whose successor was left out), ``last`` (see the statuses), ``overflow`` the number
    of expanded sources that exceeded a channel capacity."""

    status: int
    i: int
    last: int
    overflow: int


def _extend(col: array, need: int) -> None:
    """Room for at least ``need`` items in ``col``: zeros appended, an eighth as many again
    (the zeros touch their pages: a larger step holds more memory the search may not use)."""
    if need > len(col):
        col.frombytes(memoryview(np.zeros(max(need, len(col) * 9 // 8) - len(col), np.int32)).cast("B"))


def run(lib, store, i: int, limit: int, threads: int, cols: tuple[array, ...],
        tick: Callable[[int, int], bool] | None = None) -> Result:
    """Expand the states of ``store`` from id ``i`` on (the store holds every state found so
    far, fully indexed) and store their successors until no state is left, ``limit`` states
    are stored, ``tick(i, n)`` returns true, or the model raises; ``lib`` is the model's loaded
    library (:class:`.native.NativeSuccessors`' ``lib``).  The store's words, table and count
    are updated in place; the edges (source, target, command) and the new states' parents
    (parent, command) are appended to ``cols``, five ``array('i')`` columns (the parents' with
    one item per stored state), which the C search writes into directly."""
    if store.indexed < store.n:
        store._rehash(2 * store.n)
    src, dst, act, parent, pact = cols
    if not len(src) == len(dst) == len(act) or not len(parent) == len(pact) == store.n:
        raise ValueError("the edge columns differ in length, or the parents' are not one per state")
    ctx = _Ctx()
    failure: list[BaseException] = []

    def point() -> None:
        if ctx.stored != store.keys.ctypes.data:  # the other threads read it: written only while
            ctx.stored = store.keys.ctypes.data   # they wait (the rows moved), never rewritten
        ctx.cap = len(store.keys)
        ctx.table, ctx.mask = store.table.ctypes.data, int(store.mask)
        ctx.src, ctx.dst, ctx.act = (c.buffer_info()[0] for c in (src, dst, act))
        ctx.parent, ctx.pact = parent.buffer_info()[0], pact.buffer_info()[0]
        ctx.ecap, ctx.pcap = len(src), len(parent)

    def grow(rows: int, slots: int, edges: int) -> int:
        try:
            store.n = store.indexed = ctx.n
            if rows > len(store.keys):
                store._grow_keys(rows)              # half as many again, at least
            if slots > len(store.table):
                store._rehash(slots, place=lambda keys, n, table, mask: lib.rehash(
                    keys.ctypes.data, n, table.ctypes.data, mask))
            for col in (src, dst, act):
                _extend(col, edges)
            for col in (parent, pact):
                _extend(col, rows)
            point()
            return 0
        except BaseException as e:  # noqa: BLE001 - raised again after the search returns
            failure.append(e)
            return 1

    def ticked(at: int, n: int) -> int:
        try:
            return int(bool(tick and tick(at, n)))
        except BaseException as e:  # noqa: BLE001 - raised again after the search returns
            failure.append(e)
            return 1

    grow_cb, tick_cb = _GROW(grow), _TICK(ticked)
    ne = len(src)
    for col in (src, dst, act):
        _extend(col, ne + (1 << 16))
    for col in (parent, pact):
        _extend(col, store.n + (1 << 14))
    point()
    ctx.n, ctx.i, ctx.ne, ctx.limit = store.n, i, ne, limit
    ctx.threads, ctx.chunk, ctx.tick_every = max(1, threads), CHUNK_STATES, TICK_STATES
    ctx.grow, ctx.tick = grow_cb, tick_cb
    try:
        status = lib.search(ctypes.byref(ctx))
    finally:
        store.n = store.indexed = ctx.n
        for col, used in ((src, ctx.ne), (dst, ctx.ne), (act, ctx.ne), (parent, ctx.n), (pact, ctx.n)):
            del col[used:]
    if failure:
        raise failure[0]
    if status == FAILED:
        raise MemoryError("the C search could not allocate its buffers")
    return Result(status, ctx.i, ctx.last, ctx.overflow)
