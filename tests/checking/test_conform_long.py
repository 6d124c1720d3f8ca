"""Conformance on demand, with bounds lifted to the trace (issue 15, "Long captures").

``conform(scenario, ...)`` follows the model state by state from the compiled successor
function; ``strict=False`` raises the exploration bounds to what the trace needs
(:mod:`ndcheck.checking.lifting`) and follows a long stream through a sliding window of segment
ids (:mod:`ndcheck.checking.segments`).  The window is checked against the systems with one id
per segment: same verdicts and prefixes, and a shifted path replays in such a system.
"""

from __future__ import annotations

import doctest
import importlib
import random
from dataclasses import replace
from functools import cache

import pytest

from ndcheck import CATALOG, build_system, explore
from ndcheck.checking.conform import conform
from ndcheck.checking.lifting import plan
from ndcheck.checking.segments import SegmentWindow, WindowError, window_segments
from ndcheck.model.network import Key
from tests.captures.build import long_wire


def star(w: list[str]) -> list[str]:
    """ESP as a capture shows it: the segment's kind hidden."""
    return [p.rsplit(" ", 2)[0] + " * esp" if p.endswith(" esp") else p for p in w]


@cache
def concrete(name: str, n: int):
    sc = CATALOG[name]
    return build_system(replace(sc, tcp=replace(sc.tcp, data_segments=n)))


@pytest.mark.parametrize("name", ["segments", "lifting"])
def test_doctests(name):
    mod = importlib.import_module(f"ndcheck.checking.{name}")
    result = doctest.testmod(mod)
    assert result.attempted > 0 and result.failed == 0


def test_on_demand_strict_is_the_graph_search():
    """The same verdict, prefix, allowed packets and witness as the explored graph gives."""
    g = explore(build_system(CATALOG["fig7-both-capable"]))
    w = long_wire("fig7", 3)[:-1]
    for trace in (w, w[:18] + ["client>server DATA clear"], star(w)):
        a, b = conform(g, trace), conform(CATALOG["fig7-both-capable"], trace)
        assert (a.verdict, a.prefix_len, a.allowed_next) == (b.verdict, b.prefix_len, b.allowed_next)
        assert [s.action for s in a.prefix_witness.steps] == [s.action for s in b.prefix_witness.steps]
        assert b.states < g.n_states


@pytest.mark.parametrize("figure, name", [("fig7", "fig7-both-capable"), ("fig8-silent", "fig8-silent-peer")])
def test_a_long_stream_is_accepted_through_the_sliding_window(figure, name):
    w = star(long_wire(figure, 40))
    r = conform(CATALOG[name], w, strict=False)
    assert r.accepted and r.prefix_len == len(w)
    assert r.lifted and r.lifted[0].startswith("tcp.data_segments")
    assert r.witness is None and r.witness_note.startswith("witness not replayed: the path uses")
    # the scenario's own bounds: rejected at the client's first segment beyond them
    s = conform(CATALOG[name], w, strict=True)
    assert not s.accepted
    verb = "may go" if figure == "fig7" else "goes"
    assert s.bound.startswith(f"packet {s.prefix_len + 1} {verb} beyond tcp.data_segments")


def test_a_shifted_path_replays_in_the_system_with_one_id_per_segment():
    w = star(long_wire("fig7", 8))
    r = conform(CATALOG["fig7-both-capable"], w, strict=False)
    assert r.accepted and r.witness is not None      # replayed (trace_from_commands) in that system
    assert r.witness_system.scenario.tcp.data_segments > 5   # the window of 5 ids slid
    assert [p for p in r.witness.wire] and not any("*" in p for p in r.witness.wire)


@pytest.mark.parametrize("figure, name", [pytest.param("fig7", "fig7-both-capable", marks=pytest.mark.slow),
                                          ("fig8-silent", "fig8-silent-peer")])
def test_the_window_agrees_with_the_systems_with_one_id_per_segment(figure, name):
    """Mutated long traces (a packet dropped, two swapped, one added): the lifted search goes as
    far as the best system with 2..7 data segments (the traces have at most 7)."""
    rng = random.Random(15)
    base = star(long_wire(figure, 6))
    extra = (["client>server * esp", "server>client * esp"] if figure == "fig7"
             else ["client>server DATA clear", "server>client ACK clear"])
    traces = [base]
    for _ in range(4):
        w = list(base)
        k = rng.randrange(12, len(w) - 1)
        op = rng.choice("dsi")
        if op == "d":
            del w[k]
        elif op == "s":
            w[k], w[k + 1] = w[k + 1], w[k]
        else:
            w.insert(k, rng.choice(extra))
        traces.append(w)
    lo = CATALOG[name].tcp.data_segments
    for w in traces:
        lifted = conform(CATALOG[name], w, strict=False).prefix_len
        assert lifted == max(conform(concrete(name, n), w).prefix_len for n in range(lo, 8)), w


def test_clear_data_after_esp_in_a_long_stream_is_rejected_at_that_packet():
    w = star(long_wire("fig7", 60))
    k = next(i for i in range(80, len(w)) if w[i - 1] == "client>server * esp")   # packet k, 1-based
    w[k - 1] = "client>server DATA clear"
    r = conform(CATALOG["fig7-both-capable"], w, strict=False)
    assert not r.accepted and r.prefix_len == k - 1 and r.rejected_packet == "client>server DATA clear"
    assert "client>server * esp" not in r.allowed_next and "client>server DATA esp" in r.allowed_next


def test_a_retransmission_beyond_the_budget():
    """fig8-silent-peer retransmits MM #1 twice; a third is beyond --strict, raised without it."""
    w = long_wire("fig8-silent", 2)[:10]
    w = w[:8] + ["client>server MM1"] + w[8:]
    s = conform(CATALOG["fig8-silent-peer"], w, strict=True)
    assert not s.accepted and s.prefix_len == 8
    assert s.bound == ("packet 9 goes beyond ike.retransmissions = 2: it is the 3rd retransmission of "
                       "client>server MM1")
    r = conform(CATALOG["fig8-silent-peer"], w, strict=False)
    assert r.accepted and r.witness is not None
    assert r.lifted == ("ike.retransmissions 2 -> 4: the capture retransmits one IKE message 3 times",)


def test_the_plan_never_lowers_a_bound_and_keeps_the_scenarios_own_counts():
    p = plan(CATALOG["fig7-both-capable"], star(long_wire("fig7", 100)))
    assert p.base.ike.retransmissions == 1 and p.base.network.capacity == 3
    assert p.variants == ((3, 1, ()), (4, 1, ()), (5, 1, ("client",)))
    assert plan(CATALOG["fig7-both-capable"], long_wire("fig7", 3)).variants == ((3, 1, ()),)


def _window_system(name: str, **time):
    sc = CATALOG[name]
    if time:
        sc = replace(sc, time=replace(sc.time, **time))
    return build_system(replace(sc, tcp=replace(sc.tcp, data_segments=window_segments(sc))))


@pytest.mark.parametrize("name, time, why", [
    ("fig7-fifo", {}, "needs multiset channels (network.reorder = true)"),
    ("two-flows", {}, "follows one TCP connection; this system has 2"),
    ("fig7-timed", {"delay_max_ms": 200},
     "needs channels without delay (each copy's age has a field: net.c2s.DATA1.clear~1)"),
])
def test_the_window_refuses_a_system_whose_segments_it_cannot_follow(name, time, why):
    with pytest.raises(WindowError) as e:
        SegmentWindow(_window_system(name, **time), "client")
    assert str(e.value).endswith(why)


def test_the_window_finds_its_fields_by_the_models_names():
    """The stream's fields come from the alphabet and the held flags, not from parsing names."""
    system = _window_system("fig7-both-capable")
    w = SegmentWindow(system, "client")
    name = {i: f.name for i, f in enumerate(system.fields)}
    assert {p: {k: name[i] for k, i in t.items()} for p, t in w.data.items()} == \
        {p: {k: f"net.c2s.DATA{k}.{p}" for k in range(1, 6)} for p in ("clear", "esp")}
    assert sorted(w.acks["esp"]) == list(range(w.ack_lo, 6)) and w.ack_lo == 0
    assert {j: name[i] for j, i in w.ooo.items()} == {j: f"server.ooo{j}" for j in range(2, 6)}
    # an arrived packet waiting at a host: this stream's ids slide, the other's and IKE's do not
    assert w.shift_key(Key("client", "DATA4", "esp")) == Key("client", "DATA3", "esp")
    assert w.shift_key(Key("client", "DATA1", "clear")) == Key("client", "DATA1", "clear")
    assert w.shift_key(Key("server", "ACK3", "esp")) == Key("server", "ACK2", "esp")
    assert w.shift_key(Key("server", "ACK0", "esp")) == Key("server", "ACK0", "esp")
    for k in (Key("client", "ACK1", "esp"), Key("server", "DATA1", "esp"), Key("client", "ACKF", "esp"),
              Key("client", "MM1", "")):
        assert w.shift_key(k) == k
