"""The Promela export with one process per machine (engines/promela_processes.py).

The layout: each machine is a process whose locations are its control states, merged where
another machine's step changes them; every live command is offered at exactly one location
(its owner's source state); commands of no machine go to ``env``.  And pan's counts on the
export equal the explorer's (``states, stored`` = states, ``transitions`` = edges + 1) on
catalog scenarios, as for the flat export (tests/engines/test_promela.py).
"""

from __future__ import annotations

import dataclasses

import pytest

from ndcheck.engines.explicit import explore
from ndcheck.engines.promela import STYLES, PromelaError, promela_model, run_spin, spin_available, to_promela
from ndcheck.engines.promela_processes import layout
from ndcheck.model.compose import build_system
from ndcheck.model.ir import C, Command, F, Field, System, add, and_, eq, lt
from ndcheck.model.scenario import get_scenario

needs_spin = pytest.mark.skipif(not spin_available(), reason="spin/gcc not installed (apt-get install -y spin)")


def two_machines() -> System:
    """Machine ``a`` (3 states) whose step ``a.go`` also moves machine ``b`` from 0 to 1 (as a
    TCP send moves IKE to acquired); ``b`` steps on its own; ``lose`` belongs to no machine."""
    fields = [
        Field("a", 0, 2, 0, "control", ("IDLE", "BUSY", "DONE")),
        Field("b", 0, 2, 0, "control", ("OFF", "ARMED", "FIRED")),
        Field("n", 0, 3, 0, "counter"),
    ]
    cmds = [
        Command("a.go", and_(eq(F("a"), 0), eq(F("b"), 0)), (("a", C(1)), ("b", C(1))),
                events=(("a", "go", "idle"), ("b", "arm", "off"))),
        Command("a.tick", and_(eq(F("a"), 1), lt(F("n"), 3)), (("n", add(F("n"), 1)),),
                events=(("a", "tick", "busy"),)),
        Command("a.done", eq(F("a"), 1), (("a", C(2)),), events=(("a", "done", "busy"),)),
        Command("b.fire", eq(F("b"), 1), (("b", C(2)),), events=(("b", "fire", "armed"),)),
        Command("b.reset", and_(eq(F("b"), 2), eq(F("a"), 2)), (("b", C(0)),),
                events=(("b", "reset", "fired"),)),
        Command("lose", lt(0, F("n")), (("n", add(F("n"), -1)),), kind="lose"),
        Command("never", and_(eq(F("a"), 0), eq(F("a"), 1)), (("n", C(0)),)),
    ]
    return System("two", fields, cmds, machines={"a": object, "b": object})


def test_layout_locations_and_merges():
    procs = {p.name: p for p in layout(two_machines())}
    assert list(procs) == ["machine_a", "machine_b", "env"]
    a, b, env = procs["machine_a"], procs["machine_b"], procs["env"]
    assert [loc.label for loc in a.locations] == ["end_IDLE", "end_BUSY", "end_DONE"]
    # a.go moves b from OFF to ARMED without b's process: one location for both
    assert [loc.values for loc in b.locations] == [(0, 1), (2,)]
    assert [loc.label for loc in b.locations] == ["end_OFF__ARMED", "end_FIRED"]
    assert a.locations[0].options == ((0, 1),)                 # a.go: IDLE -> BUSY
    assert a.locations[1].options == ((1, 1), (2, 2))          # tick stays, done -> DONE
    assert a.locations[2].options == ()
    assert b.locations[0].options == ((3, 1),) and b.locations[1].options == ((4, 0),)
    assert env.locations[0].options == ((5, 0),)               # "never" is left out
    placed = sorted(i for p in procs.values() for loc in p.locations for i, _ in loc.options)
    assert placed == [0, 1, 2, 3, 4, 5]
    # without the other machine's source state in the guard, all its states share one location
    s = two_machines()
    s.commands[0] = dataclasses.replace(s.commands[0], guard=eq(F("a"), 0))
    b = {p.name: p for p in layout(s)}["machine_b"]
    assert [loc.values for loc in b.locations] == [(0, 1, 2)]


def test_styles_text_and_line_map():
    s = two_machines()
    assert to_promela(s) == to_promela(two_machines()) == to_promela(s, "processes")
    m = promela_model(s)
    lines = m.text.splitlines()
    assert sorted(m.steps.values()) == [0, 1, 2, 3, 4, 5]
    assert all("d_step" in lines[n - 1] for n in m.steps)
    assert "active proctype machine_a()" in m.text and "goto end_BUSY" in m.text
    flat = promela_model(s, "flat")
    assert flat.text.count(":: d_step") == 6 and "active proctype system()" in flat.text
    assert STYLES == ("processes", "flat")
    with pytest.raises(PromelaError, match="allowed: processes, flat"):
        promela_model(s, "threads")


@needs_spin
def test_toy_counts_equal_in_both_styles():
    s = two_machines()
    g = explore(s)
    for style in STYLES:
        r = run_spin(to_promela(s, style), optimize="-O0", depth=1000, hash_bits=16)
        assert (r.states, r.transitions) == (g.n_states, g.n_edges + 1), style


@needs_spin
@pytest.mark.parametrize("name", ["fig8-icmp-peer", "transport-mode", "no-ipsec", "ge-beside-clear-flow",
                                  "ge-beside-clear-flow-per-flow-sa",
                                  *(pytest.param(n, marks=pytest.mark.slow)
                                    for n in ("crossing-ike-loss", "sa-expiry-rekey", "fig7-timed"))])
def test_catalog_counts_equal(name):
    s = build_system(get_scenario(name))
    g = explore(s)
    r = run_spin(to_promela(s), optimize="-O0", depth=g.n_states + 10,
                 hash_bits=max(18, g.n_states.bit_length() + 2))
    assert (r.states, r.transitions) == (g.n_states, g.n_edges + 1)


def test_cli_style_and_property(tmp_path, capsys):
    from ndcheck.cli import main

    flat, proc = tmp_path / "flat.pml", tmp_path / "proc.pml"
    assert main(["export-promela", "fig8-icmp-peer", "--style", "flat", "-o", str(flat)]) == 0
    assert main(["export-promela", "fig8-icmp-peer", "--property", "S-3", "-o", str(proc)]) == 0
    assert "active proctype system()" in flat.read_text() and "NDCHECK" not in flat.read_text()
    text = proc.read_text()
    assert "active proctype machine_client_tcp()" in text and "NDCHECK_ON_0" in text
    assert "assertion NDCHECK_ON_0: S-3" in capsys.readouterr().err
