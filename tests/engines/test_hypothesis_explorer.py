"""The compiled explorer finds exactly what interpreting the IR finds, on random guarded-command systems.

Hypothesis builds small systems directly in the IR (a few fields with small domains, of every
kind; guards from ``eq``/``ne``/``lt``/``le``/``and``/``or``/``not``; updates from constants,
fields, ``add``/``sub``/``min``/``max``/``ite``) and compares :func:`ndcheck.engines.explicit.explore`
(generated, packed-integer successor code with a decision tree, masked tests and constant
deltas) with a plain breadth-first search that steps each command by interpretation
(:meth:`System.step`, the reference semantics).  Both must agree on the reachable states, on
every edge, and on the overflow rule of ``engines/emit_packed.py``: an update that pushes a
``counter`` field past its ``hi`` through a growing expression (one containing ``add`` or
``max``) produces no successor and marks the search truncated.

Updates are generated to stay inside their field's domain except through that rule, so every
generated system is well-formed; a separate property covers updates that leave the domain by
other means, which must raise :class:`~ndcheck.engines.layout.DomainError` (never store a
corrupted state).

The wire traces of random paths of three catalog scenarios must be accepted by
:func:`ndcheck.checking.conform.conform` (a path's packets are, by definition, a behaviour of
the model).
"""

from __future__ import annotations

import random
from collections import deque

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ndcheck.engines.explicit import explore
from ndcheck.engines.layout import DomainError
from ndcheck.model.ir import Command, Expr, Field, System

SETTINGS = settings(max_examples=100, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _c(v: int) -> Expr:
    return Expr("const", (v,))


def _f(name: str) -> Expr:
    return Expr("field", (name,))


def _grows(e: Expr) -> bool:
    """The overflow rule's notion of a growing update (an ``add`` or ``max`` anywhere in it)."""
    if e.op in ("add", "max"):
        return True
    return any(isinstance(a, Expr) and _grows(a) for a in e.args)


def _slot_top(f: Field) -> int:
    """The largest value the packed slot of ``f`` holds (values past ``hi`` but inside the slot
    are stored as they are)."""
    return f.lo + (1 << (f.hi - f.lo).bit_length()) - 1


# --------------------------------------------------------------------------------------------
# Reference: BFS by interpretation
# --------------------------------------------------------------------------------------------


def reference(system: System, limit: int = 20_000):
    """(states, edges, overflow states, domain error) by stepping every command by interpretation."""
    init = system.init
    seen = {init}
    queue = deque([init])
    edges = set()
    overflow_states = 0
    domain_error = False
    while queue:
        s = queue.popleft()
        overflowed = False
        for ci, cmd in enumerate(system.commands):
            t = system.step(cmd, s)
            if t is None:
                continue
            over = False
            bad = False
            for name, e in cmd.updates:
                f = system.field(name)
                v = t[system.index[name]]
                if f.kind == "counter" and e.op != "const" and _grows(e) and v > f.hi:
                    over = True
                elif not f.lo <= v <= _slot_top(f):
                    bad = True
            if over:
                overflowed = True
                continue
            if bad:
                domain_error = True
                continue
            edges.add((s, ci, t))
            if t not in seen:
                seen.add(t)
                queue.append(t)
                assert len(seen) <= limit, "generated system too large for the reference"
        overflow_states += overflowed
    return seen, edges, overflow_states, domain_error


# --------------------------------------------------------------------------------------------
# Random systems
# --------------------------------------------------------------------------------------------
#
# Expressions are drawn as small untyped trees over field *positions* (static strategies, cheap
# to draw and to shrink) and instantiated against the drawn fields.  Integer positions accept
# conditions (0/1) and condition positions accept integers (non-zero is true): the IR's
# interpreter and the generated code define both.

KINDS = ("control", "bool", "counter", "enum")
CMPS = ("eq", "ne", "lt", "le")

_leaf = st.one_of(
    st.tuples(st.just("cmp"), st.sampled_from(CMPS), st.integers(0, 3), st.integers(-1, 4), st.booleans()),
    st.tuples(st.just("const"), st.integers(-1, 4)),
    st.tuples(st.just("field"), st.integers(0, 3)),
)
TREES = st.recursive(_leaf, lambda s: st.one_of(
    st.tuples(st.sampled_from(("add", "sub", "max", "min") + CMPS), s, s),
    st.tuples(st.sampled_from(("and", "or")), st.lists(s, min_size=1, max_size=3).map(tuple)),
    st.tuples(st.just("not"), s),
    st.tuples(st.just("ite"), s, s, s),
), max_leaves=5)

#: Update templates that stay inside the target field's domain (see ``_update``).
_UPDATE_LEAF = st.one_of(
    st.tuples(st.just("inc"), st.integers(1, 2)),
    st.tuples(st.just("const"), st.integers(0, 3)),
    st.tuples(st.just("copy"), st.integers(0, 3)),
    st.tuples(st.just("inc"), st.integers(1, 2)),
    st.tuples(st.just("inc"), st.integers(1, 2)),
    st.tuples(st.just("add"), st.integers(0, 3), st.integers(0, 2)),
    st.tuples(st.just("max"), st.integers(0, 3)),
    st.tuples(st.just("dec"), st.integers(1, 2)),
    st.tuples(st.just("min"), st.integers(0, 3)),
    st.tuples(st.just("cond"), TREES),
)
UPDATES = st.recursive(_UPDATE_LEAF, lambda s: st.tuples(st.just("ite"), TREES, s, s), max_leaves=3)


@st.composite
def field_specs(draw) -> list[Field]:
    n = draw(st.integers(2, 5))
    specs = []
    for i in range(n):
        kind = draw(st.sampled_from(KINDS))
        if kind == "bool":
            lo, hi = 0, 1
        else:
            lo = draw(st.sampled_from((0, 0, 1)))
            hi = lo + draw(st.integers(1, 3))
        init = draw(st.integers(lo, hi))
        specs.append(Field(f"{kind[:3]}{i}", lo, hi, init, kind,
                           labels=tuple(f"S{v}" for v in range(hi + 1)) if kind == "control" else ()))
    return specs


def _expr(t: tuple, fields: list[Field]) -> Expr:
    """Instantiate an expression tree; field positions wrap around the drawn fields."""
    op = t[0]
    if op == "const":
        return _c(t[1])
    if op == "field":
        return _f(fields[t[1] % len(fields)].name)
    if op == "cmp":
        _, cmp, i, k, flip = t
        x, y = _f(fields[i % len(fields)].name), _c(k)
        return Expr(cmp, (y, x) if flip else (x, y))
    if op in ("and", "or"):
        return Expr(op, tuple(_expr(a, fields) for a in t[1]))
    return Expr(op, tuple(_expr(a, fields) for a in t[1:]))


def _update(t: tuple, f: Field, fields: list[Field]) -> Expr:
    """Instantiate an update template for field ``f``: the value stays in ``f.lo..f.hi``, except
    that a counter may pass ``hi`` through a growing expression (the overflow rule)."""
    op = t[0]
    me = _f(f.name)
    span = f.hi - f.lo + 1
    fallback = _c(f.lo + t[-1] % span if isinstance(t[-1], int) else f.lo)
    if op == "ite":
        return Expr("ite", (_expr(t[1], fields), _update(t[2], f, fields), _update(t[3], f, fields)))
    if op == "const":
        return _c(f.lo + t[1] % span)
    if op == "cond":
        return _expr(t[1], fields) if f.kind == "bool" else fallback
    g = fields[t[1] % len(fields)] if op in ("copy", "add", "max", "min") else f
    if op == "copy":
        return _f(g.name) if f.lo <= g.lo and g.hi <= f.hi else fallback
    if f.kind != "counter":
        return fallback
    if op == "inc":
        return Expr("add", (me, _c(t[1])))
    if op == "add":
        return Expr("add", (_f(g.name), _c(t[2]))) if g.lo >= f.lo else fallback
    if op == "max":
        return Expr("max", (me, _f(g.name))) if g.lo >= f.lo else fallback
    if op == "min":
        return Expr("min", (_f(g.name), _c(f.hi))) if g.lo >= f.lo else fallback
    if op == "dec":  # saturating: f := (lo + k - 1 < f) ? f - k : lo
        k = t[1]
        return Expr("ite", (Expr("lt", (_c(f.lo + k - 1), me)), Expr("sub", (me, _c(k))), _c(f.lo)))
    raise AssertionError(op)


@st.composite
def systems(draw, wild: bool = False) -> System:
    fields = draw(field_specs())
    controls = [f for f in fields if f.kind == "control"]
    cmds = []
    for ci in range(draw(st.integers(3, 10))):
        conj = []
        # many commands test a control state first, as composed machine steps do
        for f in controls:
            if draw(st.integers(0, 2)) == 0:
                conj.append(Expr("eq", (_f(f.name), _c(draw(st.integers(f.lo, f.hi))))))
        conj += [_expr(t, fields) for t in draw(st.lists(TREES, max_size=1))]
        # raw, unfolded guards: constant and contradictory conjuncts must be handled too
        guard = Expr("and", tuple(conj)) if len(conj) != 1 else conj[0]
        targets = draw(st.lists(st.integers(0, len(fields) - 1), min_size=1, max_size=3, unique=True))
        if wild:
            ups = tuple((fields[i].name, _expr(draw(TREES), fields)) for i in targets)
        else:
            ups = tuple((fields[i].name, _update(draw(UPDATES), fields[i], fields)) for i in targets)
        cmds.append(Command(f"c{ci}", guard, ups))
    return System("random", fields, cmds)


def _explored(system: System):
    g = explore(system, max_states=100_000, timeout=60)
    states = {g.state(i) for i in range(g.n_states)}
    edges = {(g.state(u), a, g.state(v)) for u, v, a in zip(g.src, g.dst, g.act)}
    return g, states, edges


@SETTINGS
@given(systems())
def test_compiled_explorer_matches_interpretation(system):
    ref_states, ref_edges, ref_overflow, domain_error = reference(system)
    assert not domain_error, "the generator must keep updates inside their domains"
    g, states, edges = _explored(system)
    event("overflow" if ref_overflow else "no overflow")
    event(f"{len(ref_states) // 10 * 10}+ states")
    assert states == ref_states
    assert edges == ref_edges
    assert g.n_edges == len(ref_edges), "an edge was reported twice"
    assert g.overflow_states == ref_overflow
    assert g.truncated == (ref_overflow > 0)
    # BFS tree: every parent pointer is an edge, and the path to a state replays by interpretation
    for sid in range(1, g.n_states):
        s = system.init
        for ci, _ in g.path_to(sid):
            s = system.step(system.commands[ci], s)
            assert s is not None
        assert s == g.state(sid)


@SETTINGS
@given(systems(wild=True))
def test_updates_leaving_their_domain_raise_or_agree(system):
    """Arbitrary updates: the explorer either raises DomainError (a value left its slot, which
    the reference saw too) or agrees with interpretation exactly; it never stores a wrong state."""
    ref_states, ref_edges, ref_overflow, domain_error = reference(system)
    try:
        g, states, edges = _explored(system)
    except DomainError:
        event("domain error")
        assert domain_error, "DomainError although every value stayed inside its slot"
        return
    event("overflow" if ref_overflow else "no overflow")
    assert not domain_error, "a value left its slot and the explorer did not notice"
    assert states == ref_states
    assert edges == ref_edges
    assert g.overflow_states == ref_overflow


def test_a_false_constant_conjunct_disables_the_command():
    """Regression (found by the property above): a guard built without ``ir.and_`` may keep a
    constant 0 among its conjuncts; the command is never enabled."""
    fields = [Field("x", 0, 1, 0, "bool")]
    system = System("const-false", fields, [
        Command("never", Expr("and", (_c(0), Expr("eq", (_f("x"), _c(0))))), (("x", _c(1)),))])
    assert reference(system)[0] == {(0,)}
    assert explore(system).n_states == 1


@pytest.mark.parametrize(("width", "first", "second"), [(1, 1, 0), (3, 2, 1), (3, 3, 0), (3, 0, 2)])
def test_contradictory_equalities_on_one_field_disable_the_command(width, first, second):
    """Regression (found by the property above): ``a == 1 and a == 0`` once passed as one
    merged mask test; the command must never be enabled, whatever the field's width."""
    labels = tuple(f"A{v}" for v in range(width + 1))
    fields = [Field("a", 0, width, first, "control", labels), Field("b", 0, 1, 0, "control", ("B0", "B1"))]
    guard = Expr("and", (Expr("eq", (_f("a"), _c(first))), Expr("eq", (_f("a"), _c(second)))))
    system = System("contradiction", fields, [Command("never", guard, (("b", _c(1)),))])
    assert reference(system)[0] == {(first, 0)}
    assert explore(system).n_states == 1


# fig7-fifo (FIFO channels, 26 s) is slow-marked: tests/engines/test_explicit.py compares the
# compiled explorer with the interpretation on it in every run
@pytest.mark.parametrize("name", ["fig8-icmp-peer", "fig19-require-inbound", "transport-mode",
                                  pytest.param("fig7-fifo", marks=pytest.mark.slow)])
def test_catalog_systems_match_interpretation(name):
    """The same agreement on composed models (multiset and FIFO networks)."""
    from ndcheck.model.compose import build_system
    from ndcheck.model.scenario import CATALOG

    system = build_system(CATALOG[name])
    ref_states, ref_edges, ref_overflow, domain_error = reference(system)
    g, states, edges = _explored(system)
    assert not domain_error
    assert (states, edges, g.overflow_states) == (ref_states, ref_edges, ref_overflow)


# --------------------------------------------------------------------------------------------
# Wire traces of random paths are behaviours (conform)
# --------------------------------------------------------------------------------------------

CONFORM_SCENARIOS = ("fig7-both-capable", "fig8-silent-peer", "fig19-require-inbound")


@pytest.fixture(scope="module")
def conform_graphs():
    from ndcheck.model.compose import build_system
    from ndcheck.model.scenario import CATALOG

    return {name: explore(build_system(CATALOG[name])) for name in CONFORM_SCENARIOS}


@pytest.mark.parametrize("name", CONFORM_SCENARIOS)
def test_wire_traces_of_random_paths_are_accepted(name, conform_graphs):
    from ndcheck.checking.conform import conform

    g = conform_graphs[name]
    rng = random.Random(f"conform:{name}")
    checked = 0
    for _ in range(25):
        sid, packets = 0, []
        for _ in range(rng.randint(1, 40)):
            succ = g.successors_of(sid)
            if not succ:
                break
            a, sid = rng.choice(succ)
            packets.extend(p.wire() for p in g.system.commands[a].wire)
        if not packets:
            continue
        r = conform(g, packets)
        assert r.accepted, (packets, r.prefix_len, r.allowed_next)
        assert r.prefix_len == len(packets)
        # the witness replays the packets; a path that stopped after the first packet of a
        # two-packet step (the SYN with or without its MM #1, Q3) may be witnessed by the other
        # variant, whose second packet then ends the witness
        assert r.witness is not None and r.witness.wire[:len(packets)] == packets
        assert len(r.witness.wire) - len(packets) <= 1
        checked += 1
    assert checked >= 20
