"""Engines generated from the System IR: the explicit explorer, the z3 engine, the Promela export.

Owns :mod:`.explicit` (compiled BFS into a product graph), :mod:`.store` (the compact visited
set: packed states as 64-bit words, an open-addressing table of ids), :mod:`.expand` (a batch of
states through the successor function), :mod:`.parallel` (the same BFS on several processes,
states owned by hash), :mod:`.graph_queries` (scans, bottom
SCCs and lassos over an explored graph), :mod:`.codegen` (the compiled successor function and
its per-system cache), :mod:`.layout` (fields at bit offsets of one packed ``int``),
:mod:`.emit_packed` (guards and updates as Python source over the packed word),
:mod:`.decision_tree` (successor order and the generated code's branching), :mod:`.ranges`
(static value ranges), :mod:`.pyexpr` (IR expressions as Python source over state tuples),
:mod:`.promela` (the SPIN export), :mod:`.export` (GraphML/DOT), :mod:`.memguard` (the
resident-memory bound) and :mod:`.symbolic` (z3: BMC, k-induction, Spacer, Houdini lemmas,
certificates).

May import: :mod:`ndcheck.model.ir` only.  A property reaches an engine as an object
(:class:`~.checkable.SafetyProperty`); an engine answers with states and command indices, and
the checking layer turns them into replayed traces.
"""
