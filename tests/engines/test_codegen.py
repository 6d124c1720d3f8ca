"""The packed-state code generator: bit layout, generated successor code, domain and overflow rules."""

from __future__ import annotations

import pytest

from ndcheck.engines.codegen import compile_explorer_successors, compile_packed, generate, layout_of
from ndcheck.engines.decision_tree import never_enabled, report_order
from ndcheck.engines.explicit import explore
from ndcheck.engines.layout import DomainError
from ndcheck.model.compose import build_system
from ndcheck.model.ir import C, Command, F, Field, System, add, and_, eq, ite, lt, not_, sub
from ndcheck.model.scenario import CATALOG


def toy() -> System:
    """Fields with lo != 0, a zero-width field, a swap (simultaneous assignment) and a counter."""
    fields = [
        Field("pc", 0, 2, 0, "control", ("A", "B", "C")),
        Field("x", 3, 5, 3, "counter"),       # lo = 3: stored as value - 3
        Field("y", 3, 5, 4, "enum"),
        Field("z", 7, 7, 7, "counter"),       # a single value: zero bits
        Field("n", 0, 2, 0, "counter"),
    ]
    cmds = [
        Command("swap", eq(F("pc"), 0), (("x", F("y")), ("y", F("x")), ("pc", C(1)))),
        Command("inc", and_(eq(F("pc"), 1), lt(F("x"), 5)), (("x", add(F("x"), 1)),)),
        Command("grow-n", eq(F("pc"), 1), (("n", add(F("n"), 1)),)),     # overflows at n = 2
        Command("back", and_(eq(F("pc"), 1), lt(0, F("n"))), (("pc", C(2)), ("n", sub(F("n"), 1)))),
        Command("ite", eq(F("pc"), 2), (("y", ite(eq(F("x"), 5), 3, F("y"))), ("pc", C(0)))),
        Command("dead", and_(eq(F("pc"), 2), not_(eq(F("pc"), 2))), (("pc", C(1)),)),
    ]
    return System("toy", fields, cmds)


def test_layout_round_trip_and_bounds():
    s = toy()
    lay = layout_of(s)
    assert lay.width == (2, 2, 2, 0, 2)
    assert lay.offset == (0, 2, 4, 6, 6)
    for t in [(0, 3, 3, 7, 0), (2, 5, 5, 7, 2), (1, 4, 3, 7, 1)]:
        p = lay.encode(t)
        assert lay.decode(p) == t
        assert [lay.get(p, i) for i in range(5)] == list(t)
    with pytest.raises(DomainError, match="'x'"):
        lay.encode((0, 2, 3, 7, 0))
    with pytest.raises(DomainError, match="5 fields"):
        lay.encode((0, 3))


def test_toy_successors_match_interpretation():
    s = toy()
    succ, _ = compile_explorer_successors(s)
    g = explore(s)
    assert g.truncated and g.overflow_states > 0  # grow-n at n = 2
    for state in g.states:
        out, _ = succ(state)
        want = []
        for ci in report_order(s):
            t = s.step(s.commands[ci], state)
            if t is None:
                continue
            if s.commands[ci].name == "grow-n" and t[4] > 2:
                continue
            want.append((ci, t))
        assert out == want
    assert (0, 4, 3, 7, 0) in g.states  # after the swap x = 4, y = 3 (from the pre-state)


def test_value_leaving_its_slot_raises():
    fields = [Field("b", 0, 1, 0, "bool"), Field("e", 0, 1, 0, "enum")]
    s = System("bad", fields, [Command("e+2", eq(F("b"), 0), (("e", add(F("e"), 2)),))])
    with pytest.raises(DomainError, match="e\\+2"):
        explore(s)


def test_generated_source_is_deterministic_and_sorted_by_report_order():
    s = build_system(CATALOG["fig7-fifo"])
    assert generate(s) == generate(build_system(CATALOG["fig7-fifo"]))
    order = report_order(s)
    assert sorted(order) == list(range(len(s.commands)))
    _, src, _ = compile_packed(s)
    assert "def successors(s):" in src and "out.sort()" in src
    g = explore(s)
    rank = {ci: r for r, ci in enumerate(order)}
    for sid in range(g.n_states):
        acts = [a for a, _ in g.successors_of(sid)]
        assert acts == sorted(acts, key=rank.__getitem__)


def test_never_enabled():
    s = toy()
    assert never_enabled(s, s.commands[5].guard)
    assert never_enabled(s, C(0))
    assert not never_enabled(s, s.commands[1].guard)
    # f == lo and lo < f are one test with opposite polarity
    assert never_enabled(s, and_(eq(F("n"), 0), lt(0, F("n"))))


def test_a_system_equal_in_fields_and_commands_reuses_the_compiled_function():
    """``compile_packed``'s process-wide cache: a system built again from the same scenario
    gets the same function object; a system whose commands differ in one guard does not."""
    a, b = toy(), toy()
    assert a.commands[0] is not b.commands[0] and a.commands == b.commands
    fa, src_a, _ = compile_packed(a)
    fb, src_b, _ = compile_packed(b)
    assert fa is fb and src_a == src_b
    c = toy()
    c.commands[1] = Command("inc", and_(eq(F("pc"), 1), lt(F("x"), 4)), c.commands[1].updates)
    fc, src_c, _ = compile_packed(c)
    assert fc is not fa and "4" in src_c and src_c != src_a
    assert explore(c).n_states != explore(a).n_states


def test_an_expression_hashes_once_and_equal_trees_hash_equal():
    """``Expr`` keeps its hash (the generators hash each subtree many times); equality and the
    hash still depend on the tree only."""
    e1 = and_(eq(F("pc"), 1), lt(F("x"), 5))
    e2 = and_(eq(F("pc"), 1), lt(F("x"), 5))
    assert e1 is not e2 and e1 == e2 and hash(e1) == hash(e2)
    assert hash(e1) == hash(e1) and e1 != and_(eq(F("pc"), 1), lt(F("x"), 4))
    assert {e1: 1}[e2] == 1
