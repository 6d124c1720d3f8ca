"""The IR expression helpers: constant folding, substitution, interpretation."""

from __future__ import annotations

from ndcheck.model.ir import (
    FALSE,
    TRUE,
    C,
    F,
    add,
    and_,
    eq,
    evaluate,
    fields_of,
    ite,
    lt,
    max_,
    not_,
    or_,
    show,
    substitute,
)


def test_constant_folding():
    assert and_(TRUE, eq(1, 1)) == TRUE
    assert and_(F("a"), FALSE) == FALSE
    assert or_(F("a"), TRUE) == TRUE
    assert not_(not_(F("a"))) == F("a")
    assert ite(TRUE, F("x"), F("y")) == F("x")
    assert add(F("x"), 0) == F("x")
    assert eq(F("x"), F("x")) == TRUE


def test_substitute_is_sequential_composition():
    e = and_(eq(F("x"), 1), lt(F("y"), 3))
    assert substitute(e, {"x": C(1)}) == lt(F("y"), 3)
    assert substitute(e, {"x": C(0)}) == FALSE
    assert substitute(add(F("y"), 1), {"y": add(F("y"), 1)}) == add(add(F("y"), 1), 1)


def test_a_subtree_that_reads_no_substituted_field_is_kept_as_it_is():
    untouched = and_(lt(F("y"), 3), eq(F("z"), F("w")))
    e = or_(eq(F("x"), 1), untouched)
    out = substitute(e, {"x": C(2)})
    assert out is untouched                              # x == 1 folded away, the rest shared
    assert substitute(untouched, {"x": C(2)}) is untouched
    assert substitute(e, {"z": F("w")}) == or_(eq(F("x"), 1), lt(F("y"), 3))   # z == w folded: TRUE


def test_fields_of_is_cached_and_not_shared_with_the_caller():
    e = ite(lt(F("x"), F("y")), max_(F("x"), 4), add(F("z"), 1))
    got = fields_of(e)
    assert got == {"x", "y", "z"}
    got.add("w")                                         # the caller's own set
    assert fields_of(e) == {"x", "y", "z"}
    assert fields_of(C(3)) == set() and fields_of(F("a")) == {"a"}


def test_evaluate_and_show():
    env = {"x": 2, "y": 5}
    e = ite(lt(F("x"), F("y")), max_(F("x"), 4), 0)
    assert evaluate(e, env.__getitem__) == 4
    assert show(and_(eq(F("x"), 1), not_(F("y")))) == "((x == 1) & !y)"
