"""Channels: multiset (reordering) and FIFO (order-preserving) semantics."""

from __future__ import annotations

from dataclasses import replace

from ndcheck.engines.explicit import explore
from ndcheck.model.compose import build_system
from ndcheck.model.scenario import CATALOG


def _has_state(scenario, pred):
    system = build_system(scenario)
    g = explore(system)
    ix = system.index
    return any(pred(s, ix) for s in g.states), g


def test_fifo_delivers_in_send_order():
    """With reorder = false the server can never receive the client's ACK before its SYN."""
    sc = CATALOG["fig7-fifo"]
    system = build_system(sc)
    g = explore(system)
    assert not g.truncated
    for cmd in system.commands:
        if cmd.kind == "deliver":
            assert "net.c2s[0]" in str(cmd.guard) or "net.s2c[0]" in str(cmd.guard), cmd.name


def test_multiset_allows_overtaking_but_fifo_does_not():
    """Data segment 2 can arrive before data segment 1 only on a reordering network."""
    base = CATALOG["fig7-both-capable"]

    def overtaken(s, ix):  # server received nothing in order but DATA2 was consumed: dup ACK0 sent
        return "net.s2c.ACK0.clear" in ix and s[ix["net.s2c.ACK0.clear"]] > 0

    found, _ = _has_state(base, overtaken)
    assert found
    fifo = replace(base, network=replace(base.network, reorder=False, capacity=4))
    system = build_system(fifo)
    g = explore(system)
    labels = system.field("net.s2c[0]").labels
    assert "ACK0 clear" in labels
    code = labels.index("ACK0 clear")
    slots = [system.index[f"net.s2c[{i}]"] for i in range(4)]
    assert not any(s[i] == code for s in g.states for i in slots)


def test_capacity_overflow_marks_the_search_truncated():
    sc = CATALOG["fig8-silent-lossy"]
    small = replace(sc, network=replace(sc.network, capacity=1))
    g = explore(build_system(small))
    assert g.truncated and "capacity" in g.reason


def test_channel_reader_reads_both_layouts_as_channel_entries():
    """What is in flight, per channel entry, read from a state by the names the network made."""
    from ndcheck.model.network import Key, channel_reader

    for name in ("fig7-both-capable", "fig7-fifo"):
        system = build_system(CATALOG[name])
        send_syn = next(c for c in system.commands
                        if c.name == "client.tcp.send_syn [SYN ND-8/clear+acquire +client.acquire +client.ike_i.acquire_mm@idle]")
        s = system.step(send_syn, system.init)
        assert channel_reader(system)(s) == {Key("client", "SYN", "clear"): 1, Key("client", "MM1", ""): 1}
        assert [Key.of(p) for p in send_syn.wire] == list(channel_reader(system)(s))
        assert not channel_reader(system)(system.init)


def test_a_packet_names_its_channel_entry():
    from ndcheck.model.network import Key

    k = Key("server", "ACK2", "esp")
    p = k.packet("ND-14/esp")
    assert (p.message, p.internal, p.rule, p.protection) == ("ACK", "ACK2", "ND-14/esp", "esp")
    assert Key.of(p) == k and Key.of(Key("client", "QM1/BG", "").packet()) == Key("client", "QM1/BG", "")
