"""Who is who in a capture (issue 15 item 2): the default sides, --client/--server, split addresses."""

from __future__ import annotations

import pytest

from ndcheck.traces.capture import CaptureError, decode_capture
from ndcheck.traces.sides import CaptureTrace, assign_sides, capture_trace, parse_addresses, read_observed
from ndcheck.traces.wire import WireTrace
from tests.captures.build import Host, WireCapture, capture_bytes, read_wire_lines, wire_frames

C, S = Host("192.0.2.1", b"\x02\0\0\0\0\x01"), Host("192.0.2.2", b"\x02\0\0\0\0\x02")
C_IKE, S_IKE = Host("198.51.100.1", b"\x02\0\0\0\0\x01"), Host("198.51.100.2", b"\x02\0\0\0\0\x02")
OTHER = Host("203.0.113.7", b"\x02\0\0\0\0\x07")


def cap_of(frames, fmt="pcap"):
    return decode_capture(capture_bytes(frames, fmt), "t.pcap")


def test_by_default_the_first_syn_names_the_client_and_the_server():
    t = capture_trace(cap_of(wire_frames(read_wire_lines("fig7"))))
    assert (t.sides.client, t.sides.server) == (("192.0.2.1",), ("192.0.2.2",))
    assert t.sides.text() == ("client 192.0.2.1 (sender of the first SYN, packet 2); "
                              "server 192.0.2.2 (receiver of the first SYN, packet 2)")
    assert t.wire()[:2] == ["client>server MM1", "client>server SYN clear"]
    assert t.connection == ("192.0.2.1", 49152, "192.0.2.2", 445)


def test_the_first_mm1_joins_its_addresses_to_the_sides_tunnel_mode():
    """Tunnel-mode test beds: IKE and ESP between one pair of addresses, TCP between another."""
    frames = wire_frames(read_wire_lines("fig7"), ike_client=C_IKE, ike_server=S_IKE)
    t = capture_trace(cap_of(frames))
    assert t.sides.client == ("192.0.2.1", "198.51.100.1")
    assert t.sides.server == ("192.0.2.2", "198.51.100.2")
    assert ("198.51.100.1", "client", "sender of the first MM1, packet 1") in t.sides.how
    assert t.wire() == [p.replace(" esp", "").replace("DATA", "*").replace("ACK", "*") + " esp"
                        if p.endswith(" esp") else p for p in read_wire_lines("fig7")]


def test_an_mm1_from_the_server_joins_by_its_known_address():
    """The MM1's receiver is the known client: its sender is the server."""
    frames = [C.tcp(S, "S", seq=1), S_IKE.udp(C, 500, WireCapture().isakmp("server", "MM1"))]
    t = capture_trace(cap_of(frames))
    assert t.sides.server == ("192.0.2.2", "198.51.100.2")
    assert t.wire() == ["client>server SYN clear", "server>client MM1"]


def test_given_addresses_override_the_defaults():
    frames = [S.tcp(C, "S", seq=1, sport=445, dport=49152), S.tcp(C, "A", seq=2, sport=445, dport=49152)]
    t = capture_trace(cap_of(frames))
    assert t.sides.client == ("192.0.2.2",)
    t = capture_trace(cap_of(frames), client=["192.0.2.1"])     # the SYN from the server is not *the* SYN
    assert (t.sides.client, t.sides.server) == (("192.0.2.1",), ("192.0.2.2",))
    assert t.wire() == ["server>client SYN clear", "server>client ACK clear"]
    assert ("192.0.2.2", "server", "sender of packet 1 (TCP with the client)") in t.sides.how
    t = capture_trace(cap_of(frames), server=["192.0.2.1"])
    assert t.sides.client == ("192.0.2.2",)
    t = capture_trace(cap_of(frames), client=["192.0.2.1"], server=["192.0.2.2"])
    assert [h[2] for h in t.sides.how] == ["--client", "--server"]


def test_one_given_side_and_only_esp_names_the_other():
    frames = [C.esp(S), S.esp(C)]
    with pytest.raises(CaptureError, match=r"t.pcap: cannot tell the client from the server: the capture "
                                           r"has no TCP SYN and no MM1 that says; give --client "
                                           r"ADDR\[,ADDR\.\.\.\] and --server"):
        capture_trace(cap_of(frames))
    t = capture_trace(cap_of(frames), client=["192.0.2.1"])
    assert t.wire() == ["client>server * esp", "server>client * esp"]


def test_an_address_on_both_sides_is_an_error():
    with pytest.raises(CaptureError, match=r"address 192.0.2.1 is given as both client \(--client\) and server "
                                           r"\(--server\)"):
        assign_sides((), client=["192.0.2.1"], server=["192.0.2.1", "192.0.2.2"])


def test_a_packet_between_two_addresses_of_one_side_is_an_error():
    frames = [C.tcp(S, "S", seq=1), C.esp(C_IKE)]
    with pytest.raises(CaptureError, match=r"t.pcap: packet 2: 192.0.2.1 > 198.51.100.1 goes between two client "
                                           r"addresses .*check --client and --server"):
        capture_trace(cap_of(frames), client=["192.0.2.1", "198.51.100.1"])


def test_other_hosts_and_other_connections_are_ignored_and_counted():
    lines = read_wire_lines("fig7")
    frames = wire_frames(lines)
    noise = [OTHER.tcp(S, "S", seq=5), C.tcp(S, "PA", b"rdp", seq=9, sport=50000, dport=3389),
             OTHER.esp(S), C.arp()]
    mixed = frames[:3] + noise + frames[3:]
    t = capture_trace(cap_of(mixed))
    assert t.wire() == [p if not p.endswith(" esp") else p.split()[0] + " * esp" for p in lines]
    assert t.ignored_text() == "1 ARP, 1 ESP with other hosts, 1 TCP 3389 (another connection), 1 TCP with other hosts"
    assert [o.number for o in t.observed][:4] == [1, 2, 3, 8]


def test_without_a_syn_the_first_tcp_segment_names_the_connection():
    frames = [C.tcp(S, "PA", b"x", seq=2, sport=50001, dport=80), C.tcp(S, "PA", b"y", seq=2, sport=50002, dport=80),
              S.tcp(C, "A", seq=9, sport=80, dport=50001)]
    t = capture_trace(cap_of(frames), client=["192.0.2.1"])
    assert t.connection == ("192.0.2.1", 50001, "192.0.2.2", 80)
    assert t.wire() == ["client>server DATA clear", "server>client ACK clear"]
    assert t.ignored_text() == "1 TCP 80 (another connection)"


def test_a_capture_without_model_packets_is_an_error():
    with pytest.raises(CaptureError, match=r"t.pcap: no IKE, ESP or TCP packet between the client and the server "
                                           r"in 2 packets \(ignored: 1 ARP, 1 ESP with other hosts\)"):
        capture_trace(cap_of([C.arp(), OTHER.esp(S)]), client=["192.0.2.1"], server=["192.0.2.2"])


def test_locations_give_capture_number_time_and_retransmission():
    lines = read_wire_lines("fig8-silent")
    t = capture_trace(cap_of([C.arp()] + wire_frames(lines)))
    locs = t.locations()
    assert locs[0] == "capture packet 2, +0.010000 s"
    assert locs[4] == "capture packet 6, +0.050000 s, retransmission"
    assert isinstance(t, CaptureTrace) and len(t) == len(lines)


@pytest.mark.parametrize("text, option, expected", [
    ("10.0.0.1", "--client", ("10.0.0.1",)),
    ("10.0.0.1, 10.0.0.5", "--client", ("10.0.0.1", "10.0.0.5")),
    ("2001:0db8::0001,10.0.0.2", "--server", ("2001:db8::1", "10.0.0.2")),
])
def test_addresses_are_parsed_and_normalised(text, option, expected):
    assert parse_addresses(text, option) == expected


@pytest.mark.parametrize("text, message", [
    ("10.0.0.300", r"--client: '10.0.0.300' is not an IP address; give ADDR\[,ADDR\.\.\.\] \(IPv4 or IPv6\)"),
    ("client", r"--client: 'client' is not an IP address"),
    (",", r"--client: no address given"),
])
def test_bad_addresses(text, message):
    with pytest.raises(CaptureError, match=message):
        parse_addresses(text, "--client")


def test_read_observed_tells_captures_from_wire_traces_by_content(tmp_path):
    cap = tmp_path / "trace.txt"
    cap.write_bytes(capture_bytes(wire_frames(read_wire_lines("fig19")), "pcap"))
    text = tmp_path / "capture.pcap"
    text.write_text("client>server SYN clear\n")
    assert isinstance(read_observed(cap), CaptureTrace)
    assert isinstance(read_observed(text), WireTrace)
    with pytest.raises(CaptureError, match="is a directory"):
        read_observed(tmp_path)


def test_module_examples():
    import doctest

    from ndcheck.traces import sides

    result = doctest.testmod(sides)
    assert result.attempted > 0 and result.failed == 0
