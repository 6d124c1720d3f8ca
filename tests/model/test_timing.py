"""Discrete time (model/timing.py, model/timers.py; issue 14): clocks, deadlines, urgency."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ndcheck.checking.latency import timed
from ndcheck.engines.explicit import explore
from ndcheck.engines.promela import run_spin, spin_available
from ndcheck.model.compose import build_system
from ndcheck.model.ir import evaluate
from ndcheck.model.scenario import CATALOG, ScenarioError, TimeKnobs, scenario_from_dict
from ndcheck.model.timers import ike_waits, syn_waits
from ndcheck.model.timing import TICK


def _timed(name: str, **knobs):
    sc = timed(CATALOG[name])
    return replace(sc, time=replace(sc.time, **knobs)) if knobs else sc


@pytest.fixture(scope="module")
def silent():
    return explore(build_system(_timed("fig8-silent-peer")))


def test_untimed_scenarios_have_no_clock_and_no_tick():
    s = build_system(CATALOG["fig8-silent-peer"])
    assert not any(f.name.endswith("_clk") for f in s.fields)
    assert not any(c.name == TICK for c in s.commands)


def test_one_clock_per_timer_and_one_tick():
    s = build_system(_timed("allow-clear-grace"))
    clocks = sorted(f.name for f in s.fields if f.name.endswith("_clk"))
    # each TCP end, each IKE initiator; the responders keep none (R1); the server's A-14 grace
    assert clocks == ["client.ike_i_clk", "client.tcp_clk", "server.grace_clk", "server.ike_i_clk",
                      "server.tcp_clk"]
    assert sum(c.name == TICK for c in s.commands) == 1


# Windows' connect schedules (timers-failures T1, T2, T7, T9): modern 1 s doubling, failing at
# 7 s with two retransmissions and 21 s with four; legacy 3 s doubling, 21 s with two.
@pytest.mark.parametrize("preset,budget,total", [("modern", 2, 7000), ("modern", 4, 21000),
                                                 ("legacy", 2, 21000)])
def test_syn_schedule(preset, budget, total):
    assert sum(syn_waits(TimeKnobs(tcp_preset=preset), budget)) == total


def test_ike_schedule_retransmits_at_1_2_5_s_and_gives_up_at_60_s():
    waits = ike_waits(TimeKnobs(), 3)
    assert [sum(waits[:i + 1]) for i in range(4)] == [1000, 2000, 5000, 60000]


def test_counts_equal_spin_and_pinned(silent):
    assert (silent.n_states, silent.n_edges) == (1050, 1998)
    if spin_available():
        r = run_spin(silent.system, optimize="-O0", depth=silent.n_states + 10, hash_bits=20)
        assert (r.states, r.transitions - 1) == (1050, 1998)


def test_no_timelock_and_no_clock_past_its_deadline(silent):
    """A state where some clock runs always has a successor (the timeout fires at its deadline,
    or time passes), and no clock exceeds the largest deadline it is compared with."""
    s = silent.system
    clocks = [i for i, f in enumerate(s.fields) if f.name.endswith("_clk")]
    has_succ = set(silent.src)
    for sid in range(silent.n_states):
        st = silent.state(sid)
        if any(st[i] for i in clocks):
            assert sid in has_succ, s.describe(st)
        for i in clocks:
            assert st[i] <= s.fields[i].hi


def test_a_timeout_fires_exactly_at_its_deadline(silent):
    """The silent peer's client initiator retransmits MM #1 at 1 s and 2 s (units of 100 ms)."""
    s = silent.system
    ix = s.index["client.ike_i_clk"]
    fired = {silent.state(u)[ix] for u, a in zip(silent.src, silent.act)
             if s.commands[a].name.startswith("client.ike_i.retransmit")}
    assert fired == {10}


def test_tick_is_disabled_while_a_packet_is_in_flight():
    s = build_system(_timed("fig7-both-capable"))
    tick = next(c for c in s.commands if c.name == TICK)
    state = list(s.init)
    state[s.index["client.tcp"]] = 1               # SYN-SENT, its timer running
    state[s.index["net.c2s.SYN.clear"]] = 1
    assert not evaluate(tick.guard, lambda n: state[s.index[n]])
    state[s.index["net.c2s.SYN.clear"]] = 0
    assert evaluate(tick.guard, lambda n: state[s.index[n]])


def test_bad_time_knobs_are_one_line_errors():
    with pytest.raises(ScenarioError, match=r"time.mode: unknown value 'fast'; allowed: untimed, timed"):
        scenario_from_dict({"name": "x", "time": {"mode": "fast"}})
    with pytest.raises(ScenarioError, match=r"time.unit_ms: 0 is out of range"):
        scenario_from_dict({"name": "x", "time": {"unit_ms": 0}})
    with pytest.raises(ScenarioError, match="premature_timeouts is an untimed knob"):
        scenario_from_dict({"name": "x", "time": {"mode": "timed"}, "tcp": {"premature_timeouts": True}})


def test_delay_ages_copies_and_keeps_untimed_names():
    s = build_system(_timed("fig8-silent-peer", delay_min_ms=100, delay_max_ms=200))
    names = {f.name for f in s.fields}
    assert {"net.c2s.SYN.clear", "net.c2s.SYN.clear~1", "net.c2s.SYN.clear~2"} <= names
    g = explore(s)
    assert (g.n_states, g.n_edges) == (8215, 9792)
    if spin_available():
        r = run_spin(s, optimize="-O0", depth=g.n_states + 10, hash_bits=20)
        assert (r.states, r.transitions - 1) == (8215, 9792)
    # a copy is never taken before the minimum delay: every receive names an age of 1 or 2
    recv = [s.commands[a].name for a in set(g.act) if ".recv_" in s.commands[a].name]
    assert recv and all((" ~1" in n or " ~2" in n) for n in recv)


def test_delay_needs_multiset_channels():
    with pytest.raises(ScenarioError, match="needs multiset channels"):
        scenario_from_dict({"name": "x", "time": {"mode": "timed", "delay_max_ms": 100},
                            "network": {"reorder": False}})
    with pytest.raises(ScenarioError, match="delay_min_ms \\(200\\) exceeds"):
        scenario_from_dict({"name": "x", "time": {"delay_min_ms": 200, "delay_max_ms": 100}})


@pytest.mark.parametrize("c2s,s2c,ike", [(300, 300, 3000), (300, 0, 1500), (0, 300, 1500)])
def test_delays_per_direction(c2s, s2c, ike):
    """IKE's ten messages: five from the client (MM #1, #3, #5, QM #5, #7), five from the server
    (MM #2, #4, #6, QM #6, CONNECTED); each direction's delay counts for its own five."""
    from ndcheck.checking.latency import QUERIES, latency

    sc = _timed("fig19-timed", delay_min_ms=c2s, delay_max_ms=c2s,
                s2c_delay_min_ms=s2c, s2c_delay_max_ms=s2c)
    g = explore(build_system(sc))
    r = latency(g, QUERIES["ike-complete"], 100)
    assert (r.min, r.max) == (ike, ike)
    assert ("net.s2c.MM2~3" in g.system.index) == bool(s2c)
    assert ("net.c2s.MM1~3" in g.system.index) == bool(c2s)


def test_a_direction_without_its_own_delay_takes_the_common_one():
    tm = TimeKnobs(mode="timed", delay_min_ms=100, delay_max_ms=200)
    assert tm.delay("client") == tm.delay("server") == (100, 200)
    with pytest.raises(ScenarioError, match=r"time.s2c_delay_min_ms \(300\) exceeds time.s2c_delay_max_ms \(200\)"):
        scenario_from_dict({"name": "x", "time": {"s2c_delay_min_ms": 300, "s2c_delay_max_ms": 200}})
