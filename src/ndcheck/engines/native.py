"""The successor function in C: the generated Python (:func:`.codegen.generate`) translated
statement for statement, compiled by the system's C compiler and called through ``ctypes``.

The packed successor function is nearly all of an exploration's time (85 % of
``explore(crossing-ike-loss)``: 13 µs a state in Python; in C 0.6 µs, and with the visited set
in C too the whole search runs at about a million states per second, BENCHMARKS.md).  Its
source is a small language -- ``if``/``else``, assignments to locals, ``out.append((rank, command, state))``, ``ovf = True``,
integer expressions with ``& | + - << >>``, comparisons, ``and``/``or``/``not``, conditional
expressions and ``max`` -- over one unbounded ``int``, the packed state (:mod:`.layout`, at most
a few hundred bits).  :func:`translate` turns it into C over a fixed number of 64-bit words
(``W``, the store's words per state, little-endian like :class:`~.store.StateStore`): values
that can be wider than 64 bits (the state, masks, updated states) are ``B`` structs, the others
(fields shifted out and masked, comparisons, counters) ``uint64_t``; the kind of each expression
is inferred from its operands, and a narrow value meeting a wide one is widened.

:func:`compile_native` compiles it once per generated source (cached in memory and, as a shared
library, under ``$XDG_CACHE_HOME/ndcheck/native``, which keeps the :data:`KEEP` most recently
used: :func:`prune`), and returns a :class:`NativeSuccessors` whose
:meth:`~NativeSuccessors.expand` takes a batch of states as a ``(n, W)`` ``uint64`` array and
returns the successors as words with their commands, counts and overflow flags -- what
:func:`.expand.expand` returns, without a Python ``int`` per state -- and whose
:meth:`~NativeSuccessors.lookup_insert` looks them up in a :class:`~.store.StateStore` and
stores the new ones in one pass (the store's table, hash and numbering, in C).  The explorer
loads it with :func:`load` and compares it with the Python function on its first
:data:`~.expand.CHUNK` states (:func:`expand_checked`).

None of this is needed: without a C compiler (``cc``/``gcc``), or when the translation fails,
the explorer runs the Python function.
"""

from __future__ import annotations

import ast
import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import warnings

import numpy as np

from . import native_bfs

_HEADER = r"""
#include <stdint.h>
#include <string.h>
typedef uint64_t S;
typedef struct { uint64_t w[W]; } B;
static inline B b_of(S x) { B r; memset(&r, 0, sizeof r); r.w[0] = x; return r; }
static inline S b_lo(B a) { return a.w[0]; }
static inline B b_and(B a, B b) { for (int i = 0; i < W; i++) a.w[i] &= b.w[i]; return a; }
static inline B b_or(B a, B b) { for (int i = 0; i < W; i++) a.w[i] |= b.w[i]; return a; }
static inline B b_xor(B a, B b) { for (int i = 0; i < W; i++) a.w[i] ^= b.w[i]; return a; }
/* lexicographic comparison of n words, the first most significant */
static inline int memcmp_u64(const uint64_t *a, const uint64_t *b, int n) {
    for (int i = 0; i < n; i++) if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return 0;
}
static inline int b_nz(B a) { uint64_t x = 0; for (int i = 0; i < W; i++) x |= a.w[i]; return x != 0; }
static inline int b_eq(B a, B b) { for (int i = 0; i < W; i++) if (a.w[i] != b.w[i]) return 0; return 1; }
static inline int b_lt(B a, B b) {
    for (int i = W - 1; i >= 0; i--) if (a.w[i] != b.w[i]) return a.w[i] < b.w[i];
    return 0;
}
static inline B b_add(B a, B b) {
    B r; uint64_t c = 0;
    for (int i = 0; i < W; i++) { uint64_t s = a.w[i] + c; c = s < c; r.w[i] = s + b.w[i]; c += r.w[i] < s; }
    return r;
}
static inline B b_sub(B a, B b) {
    B r; uint64_t c = 0;
    for (int i = 0; i < W; i++) { uint64_t d = a.w[i] - b.w[i]; uint64_t c2 = a.w[i] < b.w[i]; r.w[i] = d - c; c = c2 | (d < c); }
    return r;
}
static inline B b_shr(B a, int k) {
    B r; int q = k / 64, m = k % 64;
    for (int i = 0; i < W; i++) {
        uint64_t lo = i + q < W ? a.w[i + q] : 0, hi = i + q + 1 < W ? a.w[i + q + 1] : 0;
        r.w[i] = m ? (lo >> m) | (hi << (64 - m)) : lo;
    }
    return r;
}
static inline B b_shl(B a, int k) {
    B r; int q = k / 64, m = k % 64;
    for (int i = W - 1; i >= 0; i--) {
        uint64_t hi = i - q >= 0 ? a.w[i - q] : 0, lo = i - q - 1 >= 0 ? a.w[i - q - 1] : 0;
        r.w[i] = m ? (hi << m) | (lo >> (64 - m)) : hi;
    }
    return r;
}
static inline S s_max(S a, S b) { return a > b ? a : b; }
#define RAISED 2
#define EMIT(RANK, CMD, STATE) do { rk[n] = (RANK); ac[n] = (CMD); tg[n] = (STATE); n++; } while (0)
"""

_FOOTER = r"""
/* The visited set of store.StateStore: ids in an open-addressing table (linear probing) by
   the hash of store.hash_words.  Looks each row of keys up in order and stores the new ones
   (ids n, n + 1, ... in order of first occurrence, their words appended to stored) until limit
   states are stored; returns the row where that limit stopped it (m: none). */
static inline uint64_t hash_row(const uint64_t *k) {
    uint64_t h = k[0] * 0x9E3779B97F4A7C15ULL;
    for (int j = 1; j < W; j++) { h ^= k[j]; h *= 0x9E3779B97F4A7C15ULL; }
    h ^= h >> 30; h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 27; h *= 0x94D049BB133111EBULL;
    h ^= h >> 31;
    return h;
}
long lookup_insert(const uint64_t *keys, long m, uint64_t *stored, int32_t *table, uint64_t mask,
                   long *n, long limit, int32_t *ids, uint8_t *created) {
    for (long r = 0; r < m; r++) {
        const uint64_t *k = keys + r * W;
        uint64_t slot = hash_row(k) & mask;
        for (;;) {
            int32_t id = table[slot];
            if (id < 0) {
                if (*n >= limit) return r;
                id = (int32_t)(*n)++;
                memcpy(stored + (long)id * W, k, W * sizeof(uint64_t));
                table[slot] = id; ids[r] = id; created[r] = 1;
                break;
            }
            if (memcmp(stored + (long)id * W, k, W * sizeof(uint64_t)) == 0) { ids[r] = id; created[r] = 0; break; }
            slot = (slot + 1) & mask;
        }
    }
    return m;
}

/* the successors of s in the Python function's order (by rank); RAISED in *ovf: DomainError */
static inline int succ_sorted(const B s, int *rk, int *ac, B *tg, int *ovf) {
    int n = successors(s, rk, ac, tg, ovf);
    for (int a = 1; a < n; a++) {      /* insertion sort: a state has a few successors */
        int r = rk[a], c = ac[a]; B t = tg[a]; int b = a - 1;
        while (b >= 0 && rk[b] > r) { rk[b + 1] = rk[b]; ac[b + 1] = ac[b]; tg[b + 1] = tg[b]; b--; }
        rk[b + 1] = r; ac[b + 1] = c; tg[b + 1] = t;
    }
    return n;
}

/* successors of n states (words in, words out); -1: more than cap successors; -2 - i: the
   model raises DomainError at state i */
long expand(const uint64_t *in, long count, uint64_t *out, int32_t *acts, int32_t *counts,
            uint8_t *ovfs, long cap) {
    long m = 0;
    int rk[MAXOUT]; int ac[MAXOUT]; B tg[MAXOUT];
    for (long i = 0; i < count; i++) {
        B s; memcpy(s.w, in + i * W, sizeof s.w);
        int ovf = 0;
        int n = succ_sorted(s, rk, ac, tg, &ovf);
        if (ovf == RAISED) return -2 - i;
        if (m + n > cap) return -1;
        for (int a = 0; a < n; a++) { B x = CANON(tg[a]); memcpy(out + (m + a) * W, x.w, sizeof x.w); acts[m + a] = ac[a]; }
        counts[i] = n; ovfs[i] = (uint8_t)ovf;
        m += n;
    }
    return m;
}
"""


class Raised(Exception):
    """The model raises :class:`~.layout.DomainError` at state ``args[0]`` of a batch: the
    caller runs the Python function there, which raises it with its message."""


class TranslationError(ValueError):
    """A construct of the generated source the translation does not know."""


class _C:
    """The translation of one function: expressions to (C text, kind) with kind ``"S"`` (64-bit)
    or ``"B"`` (W words)."""

    def __init__(self, words: int) -> None:
        self.words = words
        self.names: dict[str, tuple[str, str]] = {"s": ("s", "B")}   # Python name -> C name, kind
        self.fresh = 0
        self.appends = 0
        self.parts: list[str] = []        # functions split off (defined before their callers)

    # -- expressions ------------------------------------------------------------------------
    def big(self, e) -> str:
        code, kind = self.expr(e)
        return code if kind == "B" else f"b_of({code})"

    def test(self, e) -> str:
        code, kind = self.expr(e)
        return f"b_nz({code})" if kind == "B" else f"({code} != 0)"

    def const(self, v: int) -> tuple[str, str]:
        if v < 0:
            raise TranslationError(f"negative constant {v}")
        if v < 1 << 64:
            return f"{v}ULL", "S"
        if v >= 1 << (64 * self.words):
            raise TranslationError(f"constant wider than {self.words} words")
        ws = [(v >> (64 * i)) & ((1 << 64) - 1) for i in range(self.words)]
        return "((B){{" + ", ".join(f"{w}ULL" for w in ws) + "}})", "B"

    def expr(self, e) -> tuple[str, str]:
        if isinstance(e, ast.Constant):
            if isinstance(e.value, bool):
                return ("1" if e.value else "0"), "S"
            if isinstance(e.value, int):
                return self.const(e.value)
        elif isinstance(e, ast.Name):
            if e.id not in self.names:
                raise TranslationError(f"unknown name {e.id}")
            return self.names[e.id]
        elif isinstance(e, ast.BinOp):
            return self.binop(e)
        elif isinstance(e, ast.BoolOp):
            op = " && " if isinstance(e.op, ast.And) else " || "
            return "(" + op.join(self.test(v) for v in e.values) + ")", "S"
        elif isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not):
            return f"(!{self.test(e.operand)})", "S"
        elif isinstance(e, ast.Compare):
            return self.compare(e)
        elif isinstance(e, ast.IfExp):
            a, ka = self.expr(e.body)
            b, kb = self.expr(e.orelse)
            if ka != kb:
                a, b = self.big(e.body), self.big(e.orelse)
                ka = "B"
            return f"({self.test(e.test)} ? {a} : {b})", ka
        elif (isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id == "max"
              and not e.keywords and len(e.args) >= 2):
            args = [self.expr(a) for a in e.args]
            if any(k != "S" for _, k in args):
                raise TranslationError("max over wide values")
            code = args[0][0]
            for a, _ in args[1:]:
                code = f"s_max({code}, {a})"
            return code, "S"
        raise TranslationError(f"expression {ast.unparse(e)[:80]!r}")

    def binop(self, e: ast.BinOp) -> tuple[str, str]:
        a, ka = self.expr(e.left)
        op = e.op
        if isinstance(op, (ast.RShift, ast.LShift)):
            if not (isinstance(e.right, ast.Constant) and isinstance(e.right.value, int)):
                raise TranslationError("shift by a variable")
            k = e.right.value
            if isinstance(op, ast.RShift):
                return (f"({a} >> {k})", "S") if ka == "S" else (f"b_shr({a}, {k})", "B")
            return f"b_shl({self.big(e.left)}, {k})", "B"
        b, kb = self.expr(e.right)
        if isinstance(op, ast.BitAnd):
            if ka == "S" and kb == "S":
                return f"({a} & {b})", "S"
            if ka == "B" and kb == "B":
                return f"b_and({a}, {b})", "B"
            wide, narrow = (a, b) if ka == "B" else (b, a)
            return f"(b_lo({wide}) & {narrow})", "S"
        fn = {ast.BitOr: ("|", "b_or"), ast.Add: ("+", "b_add"), ast.Sub: ("-", "b_sub")}.get(type(op))
        if fn is None:
            raise TranslationError(f"operator {type(op).__name__}")
        if ka == "S" and kb == "S" and not isinstance(op, ast.Sub):
            return f"({a} {fn[0]} {b})", "S"
        return f"{fn[1]}({self.big(e.left)}, {self.big(e.right)})", "B"

    def compare(self, e: ast.Compare) -> tuple[str, str]:
        parts = []
        left = e.left
        for op, right in zip(e.ops, e.comparators):
            a, ka = self.expr(left)
            b, kb = self.expr(right)
            sym = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.Gt: ">", ast.LtE: "<=",
                   ast.GtE: ">="}.get(type(op))
            if sym is None:
                raise TranslationError(f"comparison {type(op).__name__}")
            if ka == "S" and kb == "S":
                parts.append(f"({a} {sym} {b})")
            else:
                a, b = self.big(left), self.big(right)
                parts.append({"==": f"b_eq({a}, {b})", "!=": f"(!b_eq({a}, {b}))",
                              "<": f"b_lt({a}, {b})", ">": f"b_lt({b}, {a})",
                              "<=": f"(!b_lt({b}, {a}))", ">=": f"(!b_lt({a}, {b}))"}[sym])
            left = right
        return "(" + " && ".join(parts) + ")", "S"

    # -- statements -------------------------------------------------------------------------
    def block(self, body, depth: int) -> list[str]:
        pad = "    " * depth
        out: list[str] = []
        saved = dict(self.names)
        for st in body:
            if isinstance(st, ast.If) and self._separable(st):
                out.append(f"{pad}{self._part(st)}(s, rk, ac, tg, ovf, &n);")
            elif isinstance(st, ast.If):
                out += self._if(st, depth)
            elif isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
                name = st.targets[0].id
                if name in ("out", "ovf"):
                    if name == "ovf" and isinstance(st.value, ast.Constant) and st.value.value is True:
                        out.append(f"{pad}*ovf = 1;")
                    elif not (isinstance(st.value, (ast.List, ast.Constant))):
                        raise TranslationError(f"assignment to {name}")
                    continue
                code, kind = self.expr(st.value)
                self.fresh += 1
                cname = f"{name}_{self.fresh}"      # a name reassigned in a block: a new C local
                self.names[name] = (cname, kind)
                out.append(f"{pad}const {kind} {cname} = {code};")
            elif (isinstance(st, ast.Expr) and isinstance(st.value, ast.Call)
                  and isinstance(st.value.func, ast.Attribute) and isinstance(st.value.func.value, ast.Name)
                  and st.value.func.value.id == "out"):
                call = st.value
                if call.func.attr == "sort":
                    continue           # expand() sorts by rank
                if call.func.attr != "append" or len(call.args) != 1 or not isinstance(call.args[0], ast.Tuple):
                    raise TranslationError(ast.unparse(st)[:80])
                rank, cmd, state = call.args[0].elts
                r, kr = self.expr(rank)
                c, kc = self.expr(cmd)
                if kr != "S" or kc != "S":
                    raise TranslationError("a wide rank or command")
                self.appends += 1
                out.append(f"{pad}EMIT({r}, {c}, {self.big(state)});")
            elif isinstance(st, ast.Return):
                out.append(f"{pad}return n;")
            elif (isinstance(st, ast.Raise) and isinstance(st.exc, ast.Call)
                  and isinstance(st.exc.func, ast.Name) and st.exc.func.id == "DomainError"):
                # the model's error: the caller runs the Python function, which raises it
                out.append(f"{pad}*ovf = RAISED; return n;")
            elif isinstance(st, ast.Pass) or (isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant)):
                continue
            else:
                raise TranslationError(f"statement {ast.unparse(st)[:80]!r}")
        # locals are scoped to their block, as in the generated source
        self.names = saved
        return out


    def _if(self, st: ast.If, depth: int) -> list[str]:
        pad = "    " * depth
        out = [f"{pad}if ({self.test(st.test)}) {{", *self.block(st.body, depth + 1)]
        if st.orelse:
            out += [f"{pad}}} else {{", *self.block(st.orelse, depth + 1)]
        return out + [f"{pad}}}"]

    def _separable(self, st: ast.If) -> bool:
        """A large branch that reads no local of the blocks around it: a function of its own
        (the C compiler's optimiser takes time superlinear in a function's size: -O1 on
        fig7-both-capable as one function did not finish in 9 minutes)."""
        size = 0
        for node in ast.walk(st):
            size += 1
            if isinstance(node, ast.Name) and node.id != "s" and node.id in self.names:
                return False
        return size > PART_NODES

    def _part(self, st: ast.If) -> str:
        saved, self.names = self.names, {"s": ("s", "B")}
        body = self._if(st, 1)
        self.names = saved
        name = f"part{len(self.parts)}"
        self.parts.append("\n".join([
            f"static void {name}(const B s, int *rk, int *ac, B *tg, int *ovf, int *np) {{",
            "    int n = *np;", *body, "    *np = n;", "}"]))
        return name


PART_NODES = 800   # syntax nodes of the generated source above which a branch is a function


def translate(source: str, words: int, fn_name: str = "successors", canon: str = "") -> str:
    """The C translation of the generated Python ``source`` (states of ``words`` 64-bit words);
    ``canon``, the C text of a ``static B canon(B p)`` (:attr:`.symmetry.Symmetry.c_source`),
    maps every successor to its orbit's representative."""
    tree = ast.parse(source)
    fns = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == fn_name]
    if len(fns) != 1:
        raise TranslationError(f"no function {fn_name}")
    c = _C(words)
    body = c.block(fns[0].body, 1)
    fn = ["static int successors(const B s, int *rk, int *ac, B *tg, int *ovf) {",
          "    int n = 0;", *body, "    return n;", "}"]
    reduce = [canon, "#define CANON(x) canon(x)"] if canon else ["#define CANON(x) (x)"]
    return "\n".join([f"#define W {words}", f"#define MAXOUT {max(1, c.appends)}", _HEADER,
                      *c.parts, *fn, *reduce, _FOOTER, native_bfs.C_SOURCE])


def compiler() -> str | None:
    """The C compiler the translation is built with (``NDCHECK_CC``, else ``cc`` or ``gcc``)."""
    name = os.environ.get("NDCHECK_CC")
    if name is not None:
        return shutil.which(name) if name else None
    return shutil.which("cc") or shutil.which("gcc")


def _cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ndcheck", "native")


class NativeSuccessors:
    """A compiled successor function: :meth:`expand` over word arrays."""

    def __init__(self, path: str, words: int) -> None:
        self.words = words
        self.lib = ctypes.CDLL(path)
        f = self.lib.expand
        f.restype = ctypes.c_long
        f.argtypes = [ctypes.c_void_p, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p,
                      ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long]
        self._f = f
        g = self.lib.lookup_insert
        g.restype = ctypes.c_long
        g.argtypes = [ctypes.c_void_p, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p,
                      ctypes.c_uint64, ctypes.c_void_p, ctypes.c_long, ctypes.c_void_p,
                      ctypes.c_void_p]
        self._g = g
        self.lib.rehash.restype = None
        self.lib.rehash.argtypes = [ctypes.c_void_p, ctypes.c_long, ctypes.c_void_p, ctypes.c_uint64]
        self.lib.search.restype = ctypes.c_long
        self.lib.search.argtypes = [ctypes.POINTER(native_bfs._Ctx)]

    def lookup_insert(self, store, keys: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray, int]:
        """:meth:`~.store.StateStore.find` and :meth:`~.store.StateStore.append` of the new
        rows of ``keys`` in one pass, in order: ``(ids, created, cut)``; ``created[r]``: row
        ``r`` was stored as a new state; ``cut``: the row at which ``limit`` states were stored
        and the pass stopped (``len(keys)`` when it did not), rows from it have no id."""
        keys = np.ascontiguousarray(keys, np.uint64)
        m = len(keys)
        if store.indexed < store.n:
            store._rehash(2 * store.n)
        if store.n + m > len(store.keys):
            store._grow_keys(store.n + m)
        if 2 * (store.n + m) > len(store.table):
            store._rehash(2 * (store.n + m))
        ids = np.empty(m, np.int32)
        created = np.zeros(m, np.uint8)
        n = ctypes.c_long(store.n)
        cut = self._g(keys.ctypes.data, m, store.keys.ctypes.data, store.table.ctypes.data,
                      int(store.mask), ctypes.byref(n), limit, ids.ctypes.data, created.ctypes.data)
        store.n = store.indexed = n.value
        return ids, created.view(bool), cut

    def expand(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(successor words ``(m, W)``, commands ``(m,)``, counts ``(n,)``, overflow flags ``(n,)``)
        of the ``(n, W)`` states, each state's successors in the Python function's order."""
        states = np.ascontiguousarray(states, np.uint64)
        n = len(states)
        counts = np.empty(n, np.int32)
        ovfs = np.empty(n, np.uint8)
        cap = max(64, 8 * n)
        while True:
            out = np.empty((cap, self.words), np.uint64)
            acts = np.empty(cap, np.int32)
            m = self._f(states.ctypes.data, n, out.ctypes.data, acts.ctypes.data,
                        counts.ctypes.data, ovfs.ctypes.data, cap)
            if m >= 0:
                return out[:m], acts[:m], counts, ovfs
            if m <= -2:
                raise Raised(int(-2 - m))
            cap *= 4


def expand_checked(native: NativeSuccessors, succ, store, lo: int, hi: int, check: bool,
                   canon=None):
    """:meth:`NativeSuccessors.expand` of the states ``lo .. hi - 1`` of ``store``, or None
    where it differs from the Python function ``succ`` (followed by the Python canonicalizer
    ``canon`` when the library reduces by symmetry): compared on every state when ``check``,
    and wherever the C function signals the model's DomainError (the Python function raises it
    there; if it does not, the two differ)."""
    from .expand import expand as expand_py

    try:
        got = native.expand(store.keys[lo:hi])
    except Raised:
        expand_py(succ, store.ints(lo, hi))      # raises the model's DomainError ...
        return None                              # ... or the translation is wrong
    if check:
        words, acts, counts, ovfs = got
        b = expand_py(succ, store.ints(lo, hi))
        if canon is not None:
            b.targets = [canon(x) for x in b.targets]
        if not (np.array_equal(counts, b.counts) and np.array_equal(acts.astype(np.int64), b.acts)
                and np.array_equal(words, store.to_words(b.targets) if b.targets else words[:0])
                and np.flatnonzero(ovfs).tolist() == sorted(b.ovf)):
            return None
    return got


def load(name: str, source: str, words: int, canon: str = "") -> NativeSuccessors | None:
    """The compiled translation of scenario ``name``'s generated ``source``, or None with a
    warning naming why (no compiler, a construct the translation does not know, a failed
    build)."""
    try:
        return compile_native(source, words, canon=canon)
    except (TranslationError, OSError, subprocess.SubprocessError) as e:
        warnings.warn(f"{name}: no C successor function ({e}); exploring with the Python one",
                      RuntimeWarning, stacklevel=3)
        return None


def wanted(native: bool | None) -> bool:
    """``native``, or by default whether ``NDCHECK_NATIVE=1``."""
    return native if native is not None else os.environ.get("NDCHECK_NATIVE") == "1"


VERSION = 4            # of the translation: part of the cache key of a compiled library
#: gcc's optimisation level: -O0 compiled fig7-both-capable in 12.7 s but ran 4.6x the Python
#: function's speed; -O1 (with the large branches split off) 48 s and 20x (BENCHMARKS.md)
OPT = "-O1"
_LOCK = threading.Lock()
_LOADED: dict[str, NativeSuccessors] = {}
_BUILDING: dict[str, threading.Lock] = {}     # a lock per library being built


def compile_native(source: str, words: int, timeout: float = 600.0, canon: str = "") -> NativeSuccessors:
    """The compiled translation of ``source`` with the canonicalizer ``canon`` (C text, or "":
    none; see :func:`translate`), or a :class:`TranslationError` or ``OSError`` /
    ``subprocess`` error when it cannot be built."""
    cc = compiler()
    if cc is None:
        raise OSError("no C compiler (cc or gcc) on PATH")
    # the key: everything the library is built from (the C parts too, so editing them rebuilds)
    key = hashlib.sha256(f"{VERSION} {words} {cc} {OPT}\n{_HEADER}{_FOOTER}{native_bfs.C_SOURCE}"
                         f"\n{source}\n{canon}".encode()).hexdigest()[:24]
    with _LOCK:
        hit = _LOADED.get(key)
        if hit is not None:
            return hit
        building = _BUILDING.setdefault(key, threading.Lock())
    # one build per library; different libraries build at the same time (check all compiles the
    # next scenarios' on another thread, explicit.prepare_native)
    with building:
        with _LOCK:
            hit = _LOADED.get(key)
        if hit is not None:
            return hit
        folder = _cache_dir()
        os.makedirs(folder, exist_ok=True)
        lib = os.path.join(folder, f"succ-{key}.so")
        if not os.path.exists(lib):
            text = translate(source, words, canon=canon)
            with tempfile.TemporaryDirectory(dir=folder) as tmp:
                src = os.path.join(tmp, "succ.c")
                with open(src, "w", encoding="ascii") as f:
                    f.write(text)
                out = os.path.join(tmp, "succ.so")
                subprocess.run([cc, OPT, "-pthread", "-shared", "-fPIC", "-o", out, src], check=True,
                               capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
                os.replace(out, lib)          # atomic: a concurrent build finds one or the other
            prune(folder, keep=lib)
        else:
            os.utime(lib)                     # used now: the pruning keeps the recently used
        native = NativeSuccessors(lib, words)
        with _LOCK:
            _LOADED[key] = native
        return native


#: libraries kept in the cache folder (0.1-1.6 MB each, one per model and translation)
KEEP = 128


def prune(folder: str, keep: str | None = None, limit: int | None = None) -> list[str]:
    """Delete all but the ``limit`` (default :data:`KEEP`) most recently used libraries of the
    cache ``folder`` (never ``keep``); the names deleted."""
    limit = KEEP if limit is None else limit
    libs = []
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if name.startswith("succ-") and name.endswith(".so") and path != keep:
            try:
                libs.append((os.stat(path).st_mtime, path))
            except OSError:                   # deleted by a concurrent pruning
                continue
    libs.sort(reverse=True)
    gone = []
    for _, path in libs[max(0, limit - (keep is not None)):]:
        try:
            os.remove(path)                   # a process that loaded it keeps its mapping
            gone.append(path)
        except OSError:
            pass
    return gone
