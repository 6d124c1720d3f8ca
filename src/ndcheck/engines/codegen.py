"""Compile a System's successor function over packed integer states, once per system.

A state is one Python ``int`` (:mod:`.layout`).  The generated function takes a packed state and
returns ``(successors, overflow)`` where successors is a sorted list of ``(rank, command index,
next packed state)``: :mod:`.decision_tree` decides its branching and the order of successors,
:mod:`.emit_packed` renders guards and updates on the packed word (masked tests, the overflow
rule), :mod:`.ranges` leaves out the domain checks that can never fire.

This module holds the entry points and their cache: :func:`layout_of`, :func:`generate`,
:func:`compile_packed` (what the explorer runs) and :func:`compile_explorer_successors` (the
same function on state tuples, for callers that step single states, e.g. conformance checking).
Layouts and compiled functions are kept in ``system.cache["codegen"]``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from ..model.ir import System
from .decision_tree import SuccessorTree
from .layout import DomainError, Layout, build_layout


class _EngineCache(dict):
    """Per-system cache of generated code; pickles and copies as empty (functions made by
    ``exec`` cannot be pickled, and a copy may be mutated)."""

    def __reduce__(self):
        return (_EngineCache, ())


def _cache(system: System) -> _EngineCache:
    c = system.cache.get("codegen")
    if not isinstance(c, _EngineCache):
        c = system.cache["codegen"] = _EngineCache()
    return c


def layout_of(system: System) -> Layout:
    """The bit layout of ``system`` (:func:`~.layout.build_layout`, cached on the system)."""
    cached = _cache(system).get("layout")
    if cached and cached[0] == tuple(system.fields):
        return cached[1]
    lay = build_layout(system)
    _cache(system)["layout"] = (tuple(system.fields), lay)
    return lay


def generate(system: System, fn_name: str = "successors") -> str:
    """Python source of ``fn_name(s) -> (sorted list of (rank, command, packed successor), overflow)``.

    ``rank`` is the command's position in :func:`~.decision_tree.report_order`; the list is
    sorted by it.
    """
    return SuccessorTree(system, layout_of(system)).source(fn_name)


#: Successor functions by the IR they were generated from (fields and commands, compared by
#: value), most recently used last: a system built again from the same scenario (the CLI's
#: ``check`` then ``trace`` in one notebook, the test suite's many builds of fig7-both-capable)
#: reuses the compiled function instead of generating and compiling it again (0.8-1 s on
#: fig7-both-capable).  The generated code reads nothing of the system but these two.  Room for
#: the whole catalog (42 scenarios, about 180 MB of code) and some of its variants: a smaller
#: table cycled through the catalog misses every time.
_SHARED: OrderedDict[tuple, tuple] = OrderedDict()
SHARED_SIZE = 64


def compile_packed(system: System):
    """``(successors over packed ints, source, layout)``.

    The compiled function is cached on the system (:func:`_cache`) and reused while the
    system's fields are equal and its commands are the same objects, so exploring one system
    several times (check, then trace, ...) generates and compiles once; a system equal in its
    fields and commands to one compiled before in this process reuses that one (:data:`_SHARED`).
    """
    lay = layout_of(system)
    cached = _cache(system).get("succ")
    fields, cmds = tuple(system.fields), tuple(system.commands)
    if (cached and cached[0] == fields and len(cached[1]) == len(cmds)
            and all(a is b for a, b in zip(cached[1], cmds))):
        return cached[2], cached[3], lay
    key = (fields, cmds)
    hit = _SHARED.get(key)
    if hit is not None:
        _SHARED.move_to_end(key)
        fn, src = hit
    else:
        src = generate(system)
        ns: dict = {"DomainError": DomainError}
        exec(compile(src, f"<ndcheck successors {system.name}>", "exec"), ns)  # noqa: S102 - our own generated code
        fn = ns["successors"]
        _SHARED[key] = (fn, src)
        while len(_SHARED) > SHARED_SIZE:
            _SHARED.popitem(last=False)
    _cache(system)["succ"] = (fields, cmds, fn, src)
    return fn, src, lay


def compile_explorer_successors(system: System):
    """The explorer's successor function on state tuples:
    ``(successors(state tuple) -> ([(command, next tuple)], overflow), source)``."""
    succ, src, lay = compile_packed(system)
    enc, dec = lay.encode, lay.decode

    def successors(state: Sequence[int]):
        out, ovf = succ(enc(state))
        return [(a, dec(t)) for _, a, t in out], ovf

    return successors, src
