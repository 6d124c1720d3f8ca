"""State columns: every field's column and every expression agree with the IR interpreter."""

from __future__ import annotations

import random

import numpy as np
import pytest

from ndcheck import CATALOG, build_system, explore
from ndcheck.engines.columns import Columns
from ndcheck.engines.explicit import Graph
from ndcheck.model.ir import BOOL_OPS, C, Expr, F, evaluate
from ndcheck.properties.catalog import PROPERTIES


@pytest.fixture(scope="module", params=["fig8-no-credential", "two-flows-small"])
def graph(request) -> Graph:
    if request.param == "two-flows-small":
        # two flows: a state of four 64-bit words
        from dataclasses import replace

        sc = CATALOG["two-flows"]
        sc = replace(sc, tcp=replace(sc.tcp, data_segments=0))
        return explore(build_system(sc), symmetry=False)
    return explore(build_system(CATALOG[request.param]))


def _sample(g: Graph) -> np.ndarray:
    """Every state of a small graph; 800 states spread over a large one."""
    return np.arange(g.n_states) if g.n_states <= 1500 else np.linspace(0, g.n_states - 1, 800).astype(int)


def _interpreted(g: Graph, e: Expr, as_value: bool) -> np.ndarray:
    out = []
    for s in (g.states[i] for i in _sample(g)):
        v = evaluate(e, g.system.getter(s))
        out.append(int(v) if as_value else bool(v))
    return np.array(out)


def test_every_column_is_the_decoded_field(graph):
    cols = Columns(graph)
    states = np.array(list(graph.states))
    for i, f in enumerate(graph.system.fields):
        assert cols.column(f.name).tolist() == states[:, i].tolist(), f.name


def test_every_property_predicate_agrees_with_the_interpreter(graph):
    cols, system, checked = Columns(graph), graph.system, 0
    for p in PROPERTIES:
        exprs = []
        for make in (p.state, p.trigger):
            if make is not None:
                try:
                    exprs.append(make(system))
                except (KeyError, ValueError):  # a property over fields this system lacks
                    pass
        for e in exprs:
            assert cols.mask(e)[_sample(graph)].tolist() == _interpreted(graph, e, False).tolist(), p.id
            checked += 1
    assert checked >= 20


def _random_expr(rnd: random.Random, fields: list, depth: int) -> Expr:
    if depth == 0 or rnd.random() < 0.2:
        if rnd.random() < 0.3:
            return C(rnd.randrange(-1, 4))
        return F(rnd.choice(fields).name)
    op = rnd.choice(["eq", "ne", "lt", "le", "and", "or", "not", "add", "sub", "min", "max", "ite"])
    arity = {"not": 1, "ite": 3}.get(op, 2)
    args = tuple(_random_expr(rnd, fields, depth - 1) for _ in range(arity))
    return Expr(op, args)


def test_random_expressions_agree_with_the_interpreter(graph):
    rnd = random.Random(7)
    cols, fields = Columns(graph), list(graph.system.fields)
    for _ in range(60):
        e = _random_expr(rnd, fields, 3)
        got = cols.mask(e) if e.op in BOOL_OPS else np.broadcast_to(cols.value(e), (graph.n_states,))
        assert got[_sample(graph)].tolist() == _interpreted(graph, e, e.op not in BOOL_OPS).tolist(), e


def test_a_subset_reads_the_same_values(graph):
    cols = Columns(graph)
    ids = np.arange(graph.n_states)[::3][::-1]
    e = F(graph.system.fields[0].name)
    sub = cols.take(ids)
    assert sub.n == len(ids)
    for f in graph.system.fields[:12]:
        assert sub.column(f.name).tolist() == cols.column(f.name)[ids].tolist()
    assert sub.mask(e).tolist() == cols.mask(e)[ids].tolist()


def test_fields_across_a_word_boundary_and_wide_fields():
    """The layout may put a field across two words (``b``, ``c``); a field may be a constant."""
    from types import SimpleNamespace

    from ndcheck.engines.layout import Layout

    names, lo, width = ("a", "b", "c", "d"), (0, -1, 3, 2), (60, 10, 40, 0)
    offset = (0, 60, 100, 140)
    lay = Layout(names, lo, tuple(l + (1 << w) - 1 for l, w in zip(lo, width)), offset, width, 140,
                 None, None)
    rnd = random.Random(3)
    values = [tuple(rnd.randrange(1 << w) for w in width) for _ in range(50)]
    packed = [sum(v << o for v, o in zip(vs, offset)) for vs in values]
    g = SimpleNamespace(system=SimpleNamespace(index={n: i for i, n in enumerate(names)}),
                        n_states=len(packed), packed=packed, layout=lay)
    cols = Columns(g)
    for i, n in enumerate(names):
        assert cols.column(n).tolist() == [vs[i] + lo[i] for vs in values], n
