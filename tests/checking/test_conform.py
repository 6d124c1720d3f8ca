"""Conformance of wire traces (DESIGN.md "Wire traces"): accepted, rejected, prefix, allowed next.

The rejected traces are the safety claims seen from the wire: no ESP before Quick Mode completes
(S-3, H-2), no cleartext after ESP on a secured flow (S-1, ND-10/ND-14), no reply to a clear SYN
at a require-inbound server (S-9, ND-17, A-10, figure 19), no client ESP before CONNECTED with the
commit bit (S-14, ND-24).
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from ndcheck import CATALOG, build_system, explore
from ndcheck.checking.conform import conform, describe
from ndcheck.model.ir import Packet
from ndcheck.traces.wire import read_wire

WIRE_DIR = Path(__file__).resolve().parents[1] / "wire"


@cache
def graph(name: str):
    return explore(build_system(CATALOG[name]))


@cache
def fig(name: str) -> list[str]:
    return read_wire(WIRE_DIR / f"{name}.txt").wire()


def test_the_two_packets_of_one_step_may_appear_in_either_order():
    """ND-8 + ND-1: the first SYN and the MM #1 it triggers come from one step."""
    g = graph("fig7-both-capable")
    for order in (["client>server SYN clear", "client>server MM1"],
                  ["client>server MM1", "client>server SYN clear"]):
        r = conform(g, order)
        assert r.accepted and r.prefix_len == 2, order
        assert len(r.witness.steps) == 1
        assert r.witness.steps[0].action.startswith("client.tcp.send_syn")


def test_a_capture_may_stop_between_the_two_packets_of_one_step():
    # MM #1 before its trigger: only the step that takes the acquire at once sends it (Q3)
    r = conform(graph("fig7-both-capable"), ["client>server MM1"])
    assert r.accepted and r.prefix_len == 1
    assert r.allowed_next == ("client>server SYN clear",)  # the rest of the step comes first


def test_nothing_may_come_between_the_two_packets_of_one_step():
    r = conform(graph("fig7-both-capable"), ["client>server MM1", "server>client MM2"])
    assert not r.accepted
    assert r.prefix_len == 1
    assert r.allowed_next == ("client>server SYN clear",)
    assert r.rejected_packet == "server>client MM2"


def test_the_acquire_is_queued_so_other_packets_may_leave_before_mm1():
    """Q1-Q3: the SYN queues the acquire to the IKE service; the SYN-ACK (and the server's own
    MM #1, A-13) may leave before the client's MM #1."""
    g = graph("fig7-both-capable")
    r = conform(g, ["client>server SYN clear", "server>client SYN-ACK clear", "server>client MM1",
                    "client>server MM1"])
    assert r.accepted
    r = conform(g, ["client>server SYN clear"])
    assert r.allowed_next == ("client>server MM1", "server>client MM1", "server>client SYN-ACK clear")


def test_packets_are_compared_as_packets_or_wire_strings():
    g = graph("fig8-silent-peer")
    a = conform(g, [Packet("client", "server", "MM1"), Packet("client", "server", "SYN", "clear")])
    b = conform(g, ["client>server MM1", "client>server SYN clear"])
    assert a.accepted and b.accepted and a.prefix == b.prefix


def test_the_witness_is_replayed_and_sends_exactly_the_trace():
    g = graph("fig7-both-capable")
    w = fig("fig7")
    r = conform(g, w)
    assert r.accepted and r.prefix_len == len(w) == 19
    assert r.witness.kind == "witness"
    assert r.witness.wire != w  # the model's step emits SYN before MM1; the figure shows MM1 first
    assert Counter(r.witness.wire) == Counter(w)
    # the same packets step by step, each step's packets adjacent in the trace
    pos = 0
    for s in r.witness.steps:
        assert Counter(s.wire) == Counter(w[pos:pos + len(s.wire)])
        pos += len(s.wire)
    assert pos == len(w)


def test_esp_before_quick_mode_completes_is_rejected():
    """S-3 / H-2: no ESP before the client's QM has installed its SA (here: during Main Mode)."""
    g = graph("fig7-both-capable")
    w = fig("fig7")[:7] + ["client>server DATA esp"]
    r = conform(g, w)
    assert not r.accepted and r.verdict == "rejected"
    assert r.prefix_len == 7
    assert "client>server DATA clear" in r.allowed_next
    assert not any(p.endswith(" esp") for p in r.allowed_next)
    # and right at the start: the very first SYN cannot be protected
    r0 = conform(g, ["client>server SYN esp"])
    assert r0.prefix_len == 0
    assert r0.allowed_next == ("client>server MM1", "client>server SYN clear")


def test_client_esp_before_connected_is_rejected_with_the_commit_bit():
    """S-14 / ND-24: after QM3 the client waits for CONNECTED before sending ESP."""
    w = fig("fig7")
    assert w[15] == "client>server QM3" and w[16] == "server>client CONNECTED"
    r = conform(graph("fig7-both-capable"), w[:16] + ["client>server DATA esp"])
    assert not r.accepted and r.prefix_len == 16
    # (or the server's own QM #5 over the MM SA its responder completed, A-13, D3)
    assert r.allowed_next == ("client>server DATA clear", "server>client CONNECTED", "server>client QM1")


def test_without_the_commit_bit_the_client_may_send_esp_right_after_qm3():
    """The counterpart in qm3-race (commit bit off, A-2): the same packet is a behaviour there."""
    w = ["client>server SYN clear", "client>server MM1", "server>client MM2", "server>client SYN-ACK clear",
         "client>server ACK clear", "client>server MM3", "server>client MM4", "client>server MM5",
         "server>client MM6", "client>server QM1", "server>client QM2", "client>server QM3",
         "client>server DATA esp"]
    assert conform(graph("qm3-race"), w).accepted
    r = conform(graph("fig7-both-capable"), w)
    assert not r.accepted and r.prefix_len == 12


def test_cleartext_after_esp_on_a_secured_flow_is_rejected():
    """S-1 (ND-14 sets Secure; ND-10 never sends clear again)."""
    w = fig("fig7")
    assert w[17] == "client>server DATA esp"
    r = conform(graph("fig7-both-capable"), w[:18] + ["client>server DATA clear"])
    assert not r.accepted and r.prefix_len == 18
    assert "server>client ACK esp" in r.allowed_next
    assert not [p for p in r.allowed_next if p.startswith("client>") and p.endswith(" clear")]
    # the server side: after its protected SYN-ACK it never answers in the clear
    w19 = fig("fig19")
    i = w19.index("server>client SYN-ACK esp")
    r = conform(graph("fig19-require-inbound"), w19[:i + 1] + ["server>client SYN-ACK clear"])
    assert not r.accepted and r.prefix_len == i + 1


def test_a_require_inbound_server_never_answers_a_clear_syn():
    """Figure 19, S-9, ND-17 with A-10: the clear SYN is dropped, no SYN-ACK comes back."""
    r = conform(graph("fig19-require-inbound"),
                ["client>server SYN clear", "client>server MM1", "server>client SYN-ACK clear"])
    assert not r.accepted and r.prefix_len == 2
    assert r.allowed_next == ("client>server SYN clear", "server>client MM2")
    assert r.witness is None
    # the same packets are fine at a boundary server (figure 18)
    assert conform(graph("fig18-boundary-server"),
                   ["client>server SYN clear", "client>server MM1", "server>client SYN-ACK clear"]).accepted


def test_nothing_allowed_after_the_end_of_a_finished_run():
    """Figure 7 ends with the client's last data; the server then answers (its data segment)
    and the client closes: after the FIN exchange nothing more can be sent."""
    w = fig("fig7")
    r = conform(graph("fig7-both-capable"), w + ["server>client ACK esp"])
    assert not r.accepted and r.prefix_len == len(w)
    assert r.allowed_next == ("server>client DATA esp",)
    close = ["server>client DATA esp", "client>server ACK esp", "client>server FIN esp",
             "server>client ACK esp", "server>client FIN esp", "client>server ACK esp"]
    assert conform(graph("fig7-both-capable"), w + close).accepted
    r = conform(graph("fig7-both-capable"), w + close + ["server>client ACK esp"])
    assert not r.accepted and r.prefix_len == len(w) + len(close)
    assert r.allowed_next == ()


def test_a_truncated_graph_makes_a_rejection_undetermined():
    sc = CATALOG["fig7-both-capable"].with_bounds(max_states=20)
    g = explore(build_system(sc))
    assert g.truncated
    r = conform(g, fig("fig7"))
    assert not r.accepted and r.verdict == "undetermined"
    assert "truncated" in describe(r, scenario=sc.name)


def test_describe_points_at_the_line_and_lists_prefix_and_next():
    t = read_wire(WIRE_DIR / "fig7.txt")
    r = conform(graph("fig19-require-inbound"), t.packets)
    text = describe(r, t.lines, "fig19-require-inbound")
    first = text.splitlines()[0]
    line = t.lines[3]
    assert (WIRE_DIR / "fig7.txt").read_text().splitlines()[line - 1].startswith("server>client SYN-ACK clear")
    assert first == (f"rejected: packet 4 (line {line}) 'server>client SYN-ACK clear' is not a behaviour of "
                     "fig19-require-inbound after the accepted prefix of 3 packets")
    assert "longest accepted prefix:\n    1  client>server MM1\n" in text
    assert text.endswith("the model allows next:\n       client>server MM3\n       client>server SYN clear")


@pytest.mark.parametrize("packets", [["client>server RST clear"], ["server>client ICMP"]])
def test_messages_the_scenario_never_sends_are_rejected_at_once(packets):
    r = conform(graph("fig7-both-capable"), packets)
    assert not r.accepted and r.prefix_len == 0


def test_module_examples():
    import doctest

    from ndcheck.checking import conform as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def _declared() -> list[tuple[str, str, str, int | None]]:
    """``# conform: SCENARIO accepted`` / ``# conform: SCENARIO rejected after N`` lines of tests/wire."""
    import re

    out = []
    for f in sorted(WIRE_DIR.glob("*.txt")):
        for line in f.read_text(encoding="utf-8").splitlines():
            m = re.match(r"# conform: (\S+) (accepted|rejected after (\d+))$", line)
            if m:
                out.append((f.name, m.group(1), m.group(2).split()[0], int(m.group(3)) if m.group(3) else None))
    return out


def test_every_wire_file_declares_its_verdicts():
    files = {name for name, *_ in _declared()}
    assert files == {f.name for f in WIRE_DIR.glob("*.txt")}
    assert len(_declared()) >= 14


@pytest.mark.parametrize("wire_file, scenario, verdict, prefix", _declared())
def test_wire_files_get_their_declared_verdicts(wire_file, scenario, verdict, prefix):
    t = read_wire(WIRE_DIR / wire_file)
    r = conform(graph(scenario), t.packets)
    assert r.verdict == verdict, describe(r, t.lines, scenario)
    assert r.prefix_len == (len(t) if prefix is None else prefix), describe(r, t.lines, scenario)


# --------------------------------------------------------------------------------------------
# What a capture shows: '*' for a protected segment, INFO for an encrypted Informational
# --------------------------------------------------------------------------------------------

def _starred(w: list[str]) -> list[str]:
    """ESP as a capture shows it: the segment's kind hidden."""
    return [p.rsplit(" ", 2)[0] + " * esp" if p.endswith(" esp") else p for p in w]


@pytest.mark.parametrize("name, scenario", [("fig7", "fig7-both-capable"), ("fig18", "fig18-boundary-server"),
                                            ("fig19", "fig19-require-inbound"), ("non-nd-peer", "non-nd-peer")])
def test_a_wildcard_stands_for_any_protected_segment(name, scenario):
    w = _starred(fig(name))
    assert any(" * esp" in p for p in w)
    r = conform(graph(scenario), w)
    assert r.accepted, describe(r, scenario=scenario)
    # the witness says which segments they were
    assert not any("*" in p for p in r.witness.wire)


def test_a_wildcard_is_rejected_where_the_segment_would_be():
    g = graph("fig7-both-capable")
    for name, at in (("reject-esp-before-qm", 7), ("reject-esp-before-connected", 16)):
        r = conform(g, _starred(fig(name)))
        assert not r.accepted and r.prefix_len == at, name
    # and a wildcard keeps its protection: '* clear' is a clear segment, never an ESP one
    w = fig("fig7")[:2]
    r = conform(g, w + ["server>client * clear"])
    assert r.accepted and "server>client SYN-ACK clear" in r.witness.wire[-2:]   # (+ its MM #1)
    assert conform(g, w + ["server>client * esp"]).prefix_len == 2


@pytest.mark.parametrize("name, scenario", [("no-proposal", "no-proposal-peer"), ("qm-refused", "qm-refused-peer"),
                                            ("fig8-no-credential", "fig8-no-credential")])
def test_info_stands_for_a_notify(name, scenario):
    w = [p.replace(" NOTIFY", " INFO") for p in fig(name)]
    assert any(p.endswith(" INFO") for p in w)
    r = conform(graph(scenario), w)
    assert r.accepted, describe(r, scenario=scenario)
    assert "server>client NOTIFY" in r.witness.wire


def test_a_delete_the_model_never_sends_is_rejected_at_that_packet():
    from ndcheck.checking.conform import never_sent

    g = graph("fig7-both-capable")
    w = fig("fig7") + ["server>client DELETE"]
    r = conform(g, w)
    assert not r.accepted and r.prefix_len == len(w) - 1 and r.rejected_packet == "server>client DELETE"
    # a capable peer never sends a NOTIFY either, so INFO (NOTIFY or DELETE) is never sent here;
    # a peer that fails authentication answers MM #5 with one
    assert never_sent(g, "server>client DELETE") and never_sent(g, "server>client INFO")
    assert not never_sent(graph("fig8-no-credential"), "server>client INFO")
    # the client never answers IKE with ICMP (only a peer without IKE does); a clear RST it may
    # send (an abort, RFC 9293)
    assert not never_sent(g, "client>server * esp") and never_sent(g, "client>server ICMP")
    assert not never_sent(g, "client>server RST clear")


# --------------------------------------------------------------------------------------------
# Where the capture was taken (at="client" | "server")
# --------------------------------------------------------------------------------------------

def test_a_vantage_point_must_be_known():
    from ndcheck.checking.conform import ConformError

    with pytest.raises(ConformError, match="unknown vantage point 'router'; allowed: wire, client, server"):
        conform(graph("fig7-both-capable"), fig("fig7"), at="router")


@pytest.mark.parametrize("name, scenario", [("fig7", "fig7-both-capable"), ("fig18", "fig18-boundary-server"),
                                            ("fig19", "fig19-require-inbound"), ("fig8-silent", "fig8-silent-peer")])
@pytest.mark.parametrize("at", ["client", "server"])
def test_a_send_order_is_also_what_each_host_can_see(name, scenario, at):
    """Without losses, every packet can reach its receiver right after it was sent."""
    w = fig(name)
    r = conform(graph(scenario), w, at=at)
    assert r.accepted and r.at == at, describe(r, scenario=scenario)


def test_at_a_host_a_packet_arrives_after_it_was_sent_and_at_most_once():
    g = graph("fig7-both-capable")
    r = conform(g, ["server>client MM2"], at="client")
    assert r.prefix_len == 0 and r.allowed_next == ("client>server MM1", "client>server SYN clear")
    r = conform(g, ["client>server SYN clear", "client>server MM1", "server>client MM2", "server>client MM2"],
                at="client")
    assert not r.accepted and r.prefix_len == 3
    assert "server>client SYN-ACK clear" in r.allowed_next and "client>server MM3" in r.allowed_next


def test_at_the_server_the_mm1_may_arrive_after_the_syns():
    """Figure 19: on the wire the SYN and the MM #1 it triggers are one step; at the server the
    MM #1 may still be on its way when the SYN retransmission arrives."""
    g = graph("fig19-require-inbound")
    two = ["client>server SYN clear", "client>server SYN clear", "client>server MM1", "server>client MM2"]
    assert conform(g, two, at="server").accepted
    # As a send order: the acquire is queued to the IKE service, and only the first SYN expiry
    # may come before the network settles, so one retransmission may leave before MM #1 (an
    # untimed reading: the service takes the acquire in milliseconds, the RTO is 1-3 s; issue
    # 14 gives it a clock), a second one may not -- the queued acquire is urgent.
    assert conform(g, two).accepted
    r = conform(g, ["client>server SYN clear"] * 3 + ["client>server MM1"])
    assert not r.accepted and r.prefix_len == 2 and r.allowed_next == ("client>server MM1",)


def test_at_the_client_an_ack_may_arrive_late():
    """The server's clear ACK of DATA 1 reaches the client only after CONNECTED: at the client
    that is an arrival order (the ACK left before the server installed its outbound SA at QM #7);
    as a send order it is not, since after QM #7 the server sends the flow over ESP (ND-14)."""
    w = fig("fig7")
    i = w.index("server>client ACK clear")                   # the ACK of DATA 1
    j = w.index("server>client CONNECTED")
    seen = w[:i] + w[i + 1:j + 1] + [w[i]] + w[j + 1:]
    g = graph("fig7-both-capable")
    assert conform(g, seen, at="client").accepted
    r = conform(g, seen)
    assert not r.accepted and r.rejected_packet == "server>client ACK clear" and r.prefix_len == j


def test_at_the_client_a_clear_ack_may_arrive_after_the_first_protected_one():
    """The server sent its clear ACK before securing the flow; it reaches the client late."""
    w = fig("fig7")
    assert w[-2:] == ["client>server DATA esp", "server>client ACK esp"]
    i = w.index("server>client ACK clear", 12)   # the ACK of clear DATA 2
    late = w[:i] + w[i + 1:] + [w[i]]
    g = graph("fig7-both-capable")
    r = conform(g, late, at="client")
    assert r.accepted, describe(r)
    assert not conform(g, late).accepted      # as a send order it is a downgrade (S-1)


@pytest.mark.parametrize("name, at, prefix", [("reject-clear-after-esp", "client", 18),
                                              ("reject-esp-before-qm", "client", 7),
                                              ("reject-esp-before-connected", "client", 16),
                                              ("reject-synack-at-secure-server", "server", 2)])
def test_what_a_host_itself_cannot_send_is_rejected_at_that_host_too(name, at, prefix):
    scenario = "fig19-require-inbound" if "secure-server" in name else "fig7-both-capable"
    r = conform(graph(scenario), fig(name), at=at)
    assert not r.accepted and r.prefix_len == prefix, describe(r)


def test_a_rejection_keeps_a_replayed_witness_of_the_prefix():
    w = fig("reject-esp-before-qm")
    r = conform(graph("fig7-both-capable"), w)
    assert r.witness is None and r.prefix_witness is not None
    from collections import Counter
    assert Counter(r.prefix_witness.wire) >= Counter(w[:r.prefix_len])


def test_a_host_capture_needs_multiset_channels():
    from ndcheck.checking.conform import ConformError

    with pytest.raises(ConformError, match=r"needs multiset channels; scenario fig7-fifo has FIFO channels"):
        conform(graph("fig7-fifo"), fig("fig7"), at="client")


def test_at_a_host_lost_packets_never_arrive_and_arrived_ones_are_not_lost():
    g = graph("fig8-silent-lossy")
    w = fig("fig8-silent")
    r = conform(g, w, at="client")
    assert r.accepted, describe(r)


def test_describe_names_the_vantage_point_and_the_capture_locations():
    w = fig("fig7")
    r = conform(graph("fig7-both-capable"), w, at="client")
    assert describe(r, scenario="fig7-both-capable").startswith(
        "accepted: fig7-both-capable can show all 19 packets in this order at the client")
    r = conform(graph("fig19-require-inbound"), w, at="client")
    locs = [f"capture packet {i + 10}, +{i:.6f} s" for i in range(len(w))]
    text = describe(r, scenario="fig19", locations=locs, notes=["a note"])
    lines = text.splitlines()
    assert lines[0] == ("rejected: packet 4 (capture packet 13, +3.000000 s) 'server>client SYN-ACK clear' is not "
                        "a behaviour of fig19 at the client after the accepted prefix of 3 packets")
    assert lines[1] == "  (a note)"
    assert lines[3] == "    1  client>server MM1        capture packet 10, +0.000000 s"
