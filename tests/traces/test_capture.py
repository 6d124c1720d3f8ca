"""Captures decoded into the wire vocabulary, packet kind by packet kind (issue 15 items 1 and 5).

Every capture here is written by the test itself with dpkt (``tests/captures/build.py``).
"""

from __future__ import annotations

import struct

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ndcheck.traces.capture import CaptureError, decode_capture, read_capture, sniff
from ndcheck.traces.isakmp import header
from tests.captures.build import (
    ICOOKIE,
    MSGID,
    RCOOKIE,
    T0,
    Host,
    WireCapture,
    capture_bytes,
    delete_payload,
    notify_payload,
    read_wire_lines,
    wire_capture,
)

C, S = Host("192.0.2.1", b"\x02\0\0\0\0\x01"), Host("192.0.2.2", b"\x02\0\0\0\0\x02")
FORMATS = ["pcap", "pcapng"]


def decode(frames, fmt="pcap", **kw):
    return decode_capture(capture_bytes(frames, fmt, **kw), f"test.{fmt}")


def names(cap) -> list[str]:
    return [o.message + (f" {o.protection}" if o.protection else "") for o in cap.observed]


def ike(sender: Host, receiver: Host, data: bytes, port: int = 500) -> bytes:
    return sender.udp(receiver, port, data)


# --------------------------------------------------------------------------------------------
# IKE: Main Mode and Quick Mode by order and direction, CONNECTED as the fourth QM message
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_main_mode_and_quick_mode_by_order_and_direction(fmt):
    w = ["client>server MM1", "server>client MM2", "client>server MM3", "server>client MM4",
         "client>server MM5", "server>client MM6", "client>server QM1", "server>client QM2",
         "client>server QM3", "server>client CONNECTED"]
    cap = decode_capture(wire_capture(w, fmt), "t")
    assert names(cap) == [x.split()[1] for x in w]
    assert [o.number for o in cap.observed] == list(range(1, 11))
    assert [(o.src, o.dst) for o in cap.observed[:2]] == [("192.0.2.1", "192.0.2.2"), ("192.0.2.2", "192.0.2.1")]
    assert all(o.layer == "IKE" and not o.retransmission for o in cap.observed)
    assert "Quick Mode" in cap.observed[-1].detail and f"msgid {MSGID:#010x}" in cap.observed[-1].detail
    assert cap.format == fmt and cap.frames == 10 and cap.ignored == ()


def test_the_numbering_follows_each_direction_not_the_capture_order():
    """A capture may show the responder's MM2 after the initiator's MM3 (crossing on the wire)."""
    mm = {m: WireCapture().isakmp("client" if m in ("MM1", "MM3") else "server", m) for m in ("MM1", "MM2", "MM3")}
    cap = decode([ike(C, S, mm["MM1"]), ike(C, S, mm["MM3"]), ike(S, C, mm["MM2"])])
    assert names(cap) == ["MM1", "MM3", "MM2"]


def test_a_byte_identical_repeat_is_a_retransmission_of_the_same_message():
    mm1 = header(ICOOKIE, bytes(8), 2, body=b"sa")
    mm2 = header(ICOOKIE, RCOOKIE, 2, body=b"sa")
    cap = decode([ike(C, S, mm1), ike(C, S, mm1), ike(S, C, mm2), ike(S, C, mm2), ike(C, S, mm1)])
    assert names(cap) == ["MM1", "MM1", "MM2", "MM2", "MM1"]
    assert [o.retransmission for o in cap.observed] == [False, True, False, True, True]


def test_two_main_modes_are_numbered_apart_by_initiator_cookie():
    """Both hosts may start a negotiation (A-13): each cookie has its own initiator."""
    a = header(b"\x01" * 8, bytes(8), 2, body=b"a")
    b = header(b"\x02" * 8, bytes(8), 2, body=b"b")
    a2 = header(b"\x01" * 8, RCOOKIE, 2, body=b"a2")
    cap = decode([ike(C, S, a), ike(S, C, b), ike(S, C, a2)])
    assert names(cap) == ["MM1", "MM1", "MM2"]
    assert [o.src for o in cap.observed] == ["192.0.2.1", "192.0.2.2", "192.0.2.2"]


def test_connected_is_the_fourth_quick_mode_message_from_the_responder():
    qm = [header(ICOOKIE, RCOOKIE, 32, flags=1, msgid=7, body=bytes([i])) for i in range(4)]
    cap = decode([ike(C, S, qm[0]), ike(S, C, qm[1]), ike(C, S, qm[2]), ike(S, C, qm[3])])
    assert names(cap) == ["QM1", "QM2", "QM3", "CONNECTED"]
    # a second Quick Mode (another message id) starts again at QM1, here from the server
    other = header(ICOOKIE, RCOOKIE, 32, flags=1, msgid=8, body=b"x")
    assert names(decode([ike(C, S, qm[0]), ike(S, C, other)])) == ["QM1", "QM1"]


def test_a_third_distinct_quick_mode_message_from_the_initiator_is_refused():
    qm = [header(ICOOKIE, RCOOKIE, 32, flags=1, msgid=7, body=bytes([i])) for i in range(3)]
    with pytest.raises(CaptureError, match=r"test.pcap: packet 3: message 3 from the Quick Mode initiator "
                                           r"\(192.0.2.1\), which sends 2 \(QM1, QM3\)"):
        decode([ike(C, S, qm[0]), ike(C, S, qm[1]), ike(C, S, qm[2])])


def test_main_mode_without_its_mm1_cannot_be_numbered():
    with pytest.raises(CaptureError, match=r"packet 1: Main Mode message of an exchange whose MM1 is not in "
                                           r"the capture .*start the capture before the negotiation"):
        decode([ike(S, C, header(ICOOKIE, RCOOKIE, 2))])


# --------------------------------------------------------------------------------------------
# Informational: NOTIFY, DELETE, INFO; the RFC 2408 form of CONNECTED
# --------------------------------------------------------------------------------------------

def test_informational_exchanges_by_payload_or_encryption():
    notify = header(ICOOKIE, bytes(8), 5, next_payload=11, body=notify_payload())
    delete = header(ICOOKIE, RCOOKIE, 5, next_payload=12, body=delete_payload())
    hashed = header(ICOOKIE, RCOOKIE, 5, next_payload=8, body=struct.pack("!BBH", 11, 0, 8) + b"hash"
                    + notify_payload())
    info = header(ICOOKIE, RCOOKIE, 5, flags=1, msgid=99, next_payload=8, body=b"\x00" * 40)
    empty = header(ICOOKIE, RCOOKIE, 5, next_payload=13, body=struct.pack("!BBH", 0, 0, 8) + b"vid!")
    cap = decode([ike(S, C, notify), ike(S, C, delete), ike(S, C, hashed), ike(S, C, info), ike(S, C, empty)])
    assert names(cap) == ["NOTIFY", "DELETE", "NOTIFY", "INFO", "INFO"]
    assert "encrypted" in cap.observed[3].detail


def test_connected_as_an_informational_exchange_rfc_2408():
    """RFC 2408 §3.1 (timers-failures C1): the Informational exchange with N(CONNECTED) carries the
    Quick Mode's message id; encrypted, it is known by that id once QM3 was seen."""
    qm = [header(ICOOKIE, RCOOKIE, 32, flags=1, msgid=7, body=bytes([i])) for i in range(3)]
    conn = header(ICOOKIE, RCOOKIE, 5, flags=1, msgid=7, next_payload=8, body=b"hash+notify")
    cap = decode([ike(C, S, qm[0]), ike(S, C, qm[1]), ike(C, S, qm[2]), ike(S, C, conn)])
    assert names(cap) == ["QM1", "QM2", "QM3", "CONNECTED"]
    # before QM3 the same message is an INFO
    assert names(decode([ike(C, S, qm[0]), ike(S, C, conn)])) == ["QM1", "INFO"]
    # unencrypted, the notification type says it
    plain = header(ICOOKIE, RCOOKIE, 5, msgid=7, next_payload=11, body=notify_payload(16384))
    assert names(decode([ike(S, C, plain)])) == ["CONNECTED"]


# --------------------------------------------------------------------------------------------
# Versions and exchanges the model does not know: one clear line
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data, reason", [
    (header(ICOOKIE, bytes(8), 34, version=0x20), r"IKEv2 \(ISAKMP version 2.0\) is not supported"),
    (header(ICOOKIE, bytes(8), 243), r"AuthIP \(AuthIP Main Mode, exchange type 243, MS-AIPS\) is not supported"),
    (header(ICOOKIE, bytes(8), 4), r"IKEv1 exchange type 4 \(Aggressive Mode\) is not supported"),
    (header(ICOOKIE, bytes(8), 6), r"IKEv1 exchange type 6 \(Transaction"),
    (b"\x01" * 12, r"ISAKMP message of 12 bytes, shorter than its 28-byte header"),
])
def test_unsupported_ike_is_refused_with_the_packet_and_what_is_supported(data, reason):
    with pytest.raises(CaptureError) as e:
        decode([C.arp(), ike(C, S, data)])
    text = str(e.value)
    assert text.startswith("test.pcap: packet 2: ")
    assert "\n" not in text
    import re
    assert re.search(reason, text), text
    if "28-byte" not in text:
        assert "ndcheck reads IKEv1 (ISAKMP version 1.0) Main Mode (exchange type 2), Quick Mode (32) and " \
               "Informational (5)" in text
    assert text.endswith("(UDP 500, 192.0.2.1 > 192.0.2.2)")


# --------------------------------------------------------------------------------------------
# NAT traversal and ESP
# --------------------------------------------------------------------------------------------

def test_nat_t_ike_after_the_marker_and_esp_without_it():
    wc = WireCapture()
    mm = [wc.isakmp("client" if i % 2 == 0 else "server", f"MM{i + 1}") for i in range(6)]
    frames = [ike(C, S, mm[0]), ike(S, C, mm[1]), ike(C, S, mm[2]), ike(S, C, mm[3]),
              C.nat_t(S, mm[4]), S.nat_t(C, mm[5]), C.udp(S, 4500, b"\xff"), C.esp_udp(S, 0x1234, 1),
              S.esp_udp(C, 0x4321, 1)]
    cap = decode(frames)
    assert names(cap) == ["MM1", "MM2", "MM3", "MM4", "MM5", "MM6", "* esp", "* esp"]
    assert "UDP 4500, non-ESP marker" in cap.observed[4].detail
    assert cap.observed[6].layer == "ESP" and "spi 0x00001234" in cap.observed[6].detail
    assert cap.ignored == (("NAT-T keepalive", 1),)


def test_esp_is_a_protected_segment_of_unknown_kind():
    cap = decode([C.esp(S, 0x1000, 1), S.esp(C, 0x2000, 1), C.esp(S, 0x1000, 2)])
    assert names(cap) == ["* esp"] * 3
    assert not any(o.retransmission for o in cap.observed)
    assert [o.src for o in cap.observed] == ["192.0.2.1", "192.0.2.2", "192.0.2.1"]


# --------------------------------------------------------------------------------------------
# TCP in the clear, AH, ICMP
# --------------------------------------------------------------------------------------------

def test_tcp_kinds_by_flags_and_payload():
    frames = [C.tcp(S, "S", seq=1), S.tcp(C, "SA", seq=9, ack=2, sport=445, dport=49152),
              C.tcp(S, "A", seq=2, ack=10), C.tcp(S, "PA", b"hello", seq=2, ack=10),
              C.tcp(S, "A", b"more", seq=7, ack=10), C.tcp(S, "FA", seq=11, ack=10),
              S.tcp(C, "R", sport=445, dport=49152), S.tcp(C, "RA", sport=445, dport=49152)]
    cap = decode(frames)
    assert names(cap) == ["SYN clear", "SYN-ACK clear", "ACK clear", "DATA clear", "DATA clear", "FIN clear",
                          "RST clear", "RST clear"]
    assert cap.observed[0].flow == (49152, 445) and cap.observed[1].flow == (445, 49152)
    assert cap.observed[3].detail == "TCP 49152 > 445 [PA] seq 2 ack 10 len 5"


def test_tcp_retransmissions_are_marked_and_pure_acks_are_not():
    frames = [C.tcp(S, "S", seq=1), C.tcp(S, "S", seq=1), C.tcp(S, "A", seq=2, ack=10),
              C.tcp(S, "A", seq=2, ack=10), C.tcp(S, "PA", b"x", seq=2, ack=10), C.tcp(S, "PA", b"x", seq=2, ack=11)]
    cap = decode(frames)
    assert [o.retransmission for o in cap.observed] == [False, True, False, False, False, True]


def test_a_payload_cut_by_the_snapshot_length_is_still_data():
    frame = C.tcp(S, "PA", b"x" * 500, seq=2, ack=10)
    cap = decode([frame[:14 + 20 + 20 + 10]])
    assert names(cap) == ["DATA clear"]
    assert cap.observed[0].detail.endswith("len 500")


def test_ah_protected_tcp_keeps_its_kind_and_counts_as_protected():
    cap = decode([C.ah_tcp(S, "S", seq=1)])
    assert names(cap) == ["SYN esp"]
    assert cap.observed[0].layer == "AH" and "AH-protected" in cap.observed[0].detail


def test_icmp_unreachable_quoting_ike_is_icmp_from_the_host_the_datagram_went_to():
    router = Host("198.51.100.9", b"\x02\0\0\0\0\x09")
    mm1 = ike(C, S, header(ICOOKIE, bytes(8), 2))
    quoted = mm1[14:]
    dns = C.udp(S, 53, b"query")[14:]
    cap = decode([mm1, S.icmp_unreachable(C, quoted), router.icmp_unreachable(C, quoted, code=1),
                  S.icmp_unreachable(C, dns), C.icmp_echo(S)])
    assert names(cap) == ["MM1", "ICMP", "ICMP"]
    assert [(o.src, o.dst) for o in cap.observed[1:]] == [("192.0.2.2", "192.0.2.1")] * 2
    assert "from 198.51.100.9" in cap.observed[2].detail and "code 1" in cap.observed[2].detail
    assert dict(cap.ignored) == {"ICMP unreachable (not IKE)": 1, "ICMP echo": 1}


def test_ike_and_icmpv6_over_ipv6():
    c6, s6 = Host("2001:db8::1", b"\x02\0\0\0\0\x01"), Host("2001:0db8:0:0::2", b"\x02\0\0\0\0\x02")
    mm1 = c6.udp(s6, 500, header(ICOOKIE, bytes(8), 2))
    cap = decode([mm1, s6.icmp_unreachable(c6, mm1[14:]), c6.tcp(s6, "S", seq=1)])
    assert names(cap) == ["MM1", "ICMP", "SYN clear"]
    assert cap.observed[0].src == "2001:db8::1" and cap.observed[0].dst == "2001:db8::2"
    assert (cap.observed[1].src, cap.observed[1].dst) == ("2001:db8::2", "2001:db8::1")


# --------------------------------------------------------------------------------------------
# Everything else is counted and ignored
# --------------------------------------------------------------------------------------------

def test_other_packets_are_counted_by_kind():
    lldp = C.eth(None, b"\x02\x07\x04" + b"\0" * 20, ethtype=0x88CC)
    c6, r6 = Host("fe80::1", b"\x02\0\0\0\0\x01"), Host("ff02::1", b"\x33\x33\0\0\0\x01")
    ns = c6.ip(r6, 58, bytes([135, 0, 0, 0]) + b"\0" * 20)
    frames = [C.arp(), C.arp(), C.udp(S, 53, b"q", sport=50000), S.udp(C, 50000, b"a", sport=53),
              C.udp(S, 137, b"nb"), lldp, ns, C.ip(S, 2, b"igmp"), C.tcp(S, "S", seq=1)]
    cap = decode(frames)
    assert names(cap) == ["SYN clear"]
    assert cap.ignored_text() == ("2 ARP, 2 DNS, 1 ICMPv6 neighbour discovery, 1 IGMP, 1 LLDP, 1 UDP 137")
    assert cap.frames == 9


def test_a_fragmented_datagram_counts_once_at_the_fragment_that_completes_it():
    big = header(ICOOKIE, RCOOKIE, 2, flags=1, body=b"c" * 1800)   # an MM5 with a certificate
    wc = WireCapture()
    mm = [ike(C, S, wc.isakmp("client", "MM1")), ike(S, C, wc.isakmp("server", "MM2")),
          ike(C, S, wc.isakmp("client", "MM3")), ike(S, C, wc.isakmp("server", "MM4"))]
    udp = Host.udp_body(500, 500, big)
    first = C.eth(S, C.raw_ip(S, 17, udp[:1480], ident=77, off=0x2000))
    second = C.eth(S, C.raw_ip(S, 17, udp[1480:], ident=77, off=1480 // 8))
    cap = decode(mm + [first, C.arp(), second])
    assert names(cap) == ["MM1", "MM2", "MM3", "MM4", "MM5"]
    assert cap.observed[-1].number == 7
    assert dict(cap.ignored) == {"ARP": 1, "IP fragment (reassembled)": 1}
    # a datagram whose last fragment never comes is counted, not decoded
    cap = decode(mm + [first])
    assert names(cap) == ["MM1", "MM2", "MM3", "MM4"]
    assert dict(cap.ignored) == {"IP fragment (incomplete datagram)": 1}


def test_ike_fragments_count_once_at_fragment_one():
    def frag(n: int, last: bool) -> bytes:
        payload = struct.pack("!BBHHBB", 0, 0, 8 + 100, 1, n, 1 if last else 0) + bytes([n]) * 100
        return header(ICOOKIE, RCOOKIE, 2, next_payload=132, body=payload)
    wc = WireCapture()
    mm = [ike(C, S, wc.isakmp("client", m)) if m in ("MM1", "MM3") else ike(S, C, wc.isakmp("server", m))
          for m in ("MM1", "MM2", "MM3", "MM4")]
    cap = decode(mm + [ike(C, S, frag(1, False)), ike(C, S, frag(2, True)), ike(C, S, frag(1, False))])
    assert names(cap) == ["MM1", "MM2", "MM3", "MM4", "MM5", "MM5"]
    assert cap.observed[-1].retransmission and "IKE fragment 1" in cap.observed[-1].detail
    assert dict(cap.ignored) == {"IKE fragment (not the first)": 1}


# --------------------------------------------------------------------------------------------
# File formats: pcap (both byte orders, micro and nano seconds) and pcapng; link types
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_packet_numbers_and_timestamps(fmt):
    frames = [C.arp(), C.tcp(S, "S", seq=1), C.arp(), S.tcp(C, "SA", sport=445, dport=49152)]
    times = [T0, T0 + 0.5, T0 + 1.25, T0 + 2.000001]
    cap = decode(frames, fmt, times=times)
    assert [(o.number, o.message) for o in cap.observed] == [(2, "SYN"), (4, "SYN-ACK")]
    assert cap.observed[0].time == pytest.approx(T0 + 0.5, abs=1e-6)
    assert cap.observed[1].time == pytest.approx(T0 + 2.000001, abs=1e-6)
    assert cap.start == pytest.approx(T0)


def test_nanosecond_and_big_endian_pcap():
    frames = [C.tcp(S, "S", seq=1)]
    cap = decode_capture(capture_bytes(frames, "pcap", [T0 + 0.123456789], nano=True), "n.pcap")
    assert cap.observed[0].time == pytest.approx(T0 + 0.123456789, abs=1e-9)
    fh = bytes(dpkt.pcap.FileHdr(linktype=1))               # dpkt's default classes are big-endian
    ph = bytes(dpkt.pcap.PktHdr(tv_sec=int(T0), tv_usec=250000, caplen=len(frames[0]), len=len(frames[0])))
    data = fh + ph + frames[0]
    assert data[:4] == b"\xa1\xb2\xc3\xd4" and sniff(data) == "pcap"
    cap = decode_capture(data, "be.pcap")
    assert names(cap) == ["SYN clear"] and cap.observed[0].time == pytest.approx(T0 + 0.25)


@pytest.mark.parametrize("linktype, wrap", [
    (101, lambda f: f[14:]),                                                # raw IP
    (228, lambda f: f[14:]),                                                # raw IPv4
    (113, lambda f: struct.pack("!HHH8sH", 4, 1, 6, b"\x02" * 8, 0x0800) + f[14:]),     # Linux cooked
    (276, lambda f: struct.pack("!HHiHBB8s", 0x0800, 0, 1, 1, 4, 6, b"\x02" * 8) + f[14:]),  # cooked v2
    (0, lambda f: struct.pack("=I", 2) + f[14:]),                           # BSD loopback, AF_INET
])
def test_link_types(linktype, wrap):
    frames = [wrap(C.tcp(S, "S", seq=1)), wrap(C.esp(S))]
    assert names(decode(frames, linktype=linktype)) == ["SYN clear", "* esp"]


def test_vlan_tagged_ethernet():
    f = C.tcp(S, "S", seq=1)
    tagged = f[:12] + b"\x81\x00\x00\x0a" + f[12:]
    assert names(decode([tagged])) == ["SYN clear"]


def test_pcapng_with_two_interfaces_of_different_link_types():
    import io

    from dpkt import pcapng as ng

    out = io.BytesIO()
    idbs = [ng.InterfaceDescriptionBlockLE(linktype=1), ng.InterfaceDescriptionBlockLE(linktype=101)]
    w = ng.Writer(out, shb=ng.SectionHeaderBlockLE(), idb=idbs)
    w.writepkt(C.tcp(S, "S", seq=1), T0)
    epb = ng.EnhancedPacketBlockLE(iface_id=1, pkt_data=S.tcp(C, "SA", sport=445, dport=49152)[14:])
    w.writepkt(epb, T0 + 1)
    cap = decode_capture(out.getvalue(), "two.pcapng")
    assert names(cap) == ["SYN clear", "SYN-ACK clear"]


def test_an_unknown_link_type_is_refused():
    with pytest.raises(CaptureError, match=r"^w.pcap: packet 1: link type 105 \(IEEE 802.11\) is not supported; "
                                           r"supported: Ethernet \(1\), raw IP"):
        decode_capture(capture_bytes([b"\0" * 30], "pcap", linktype=105), "w.pcap")


@pytest.mark.parametrize("fmt, cut, message", [
    ("pcap", 10, r"truncated pcap: \d+ bytes, shorter than the 24-byte file header"),
    ("pcap", -20, r"truncated pcap: packet 2 needs \d+ bytes, \d+ left"),
    ("pcap", 24 + 16 + 54 + 5, r"truncated pcap: packet 2's record header is cut after 5 of 16 bytes"),
    ("pcapng", -20, r"truncated pcapng: block 4 needs \d+ bytes"),
    ("pcapng", -4, r"truncated pcapng: block 4 needs"),
])
def test_a_truncated_capture_is_an_error(fmt, cut, message):
    data = capture_bytes([C.tcp(S, "S", seq=1), C.tcp(S, "A", seq=2)], fmt)
    with pytest.raises(CaptureError, match=message) as e:
        decode_capture(data[:cut], "cut")
    assert "\n" not in str(e.value)


def test_a_corrupt_pcapng_is_an_error():
    data = bytearray(capture_bytes([C.tcp(S, "S", seq=1)], "pcapng"))
    shb_len = struct.unpack_from("<I", data, 4)[0]
    idb_len = struct.unpack_from("<I", data, shb_len + 4)[0]
    bad = bytearray(data)
    struct.pack_into("<I", bad, shb_len + idb_len + 4, 13)            # EPB length not a multiple of 4
    with pytest.raises(CaptureError, match=r"corrupt pcapng: block 3 has length 13"):
        decode_capture(bytes(bad), "c.pcapng")
    bad = bytearray(data)
    struct.pack_into("<I", bad, shb_len + idb_len + 8, 5)             # interface 5 was never described
    with pytest.raises(CaptureError, match=r"corrupt pcapng: packet 1 names interface 5, 1 described"):
        decode_capture(bytes(bad), "c.pcapng")


def test_content_not_the_name_decides(tmp_path):
    data = capture_bytes([C.tcp(S, "S", seq=1)], "pcapng")
    f = tmp_path / "capture.txt"
    f.write_bytes(data)
    assert sniff(data) == "pcapng" and names(read_capture(f)) == ["SYN clear"]
    assert sniff(b"client>server SYN clear\n") is None
    with pytest.raises(CaptureError, match=r"x.pcap: a Kuznetzov's modified pcap file; supported: pcap"):
        decode_capture(b"\xa1\xb2\xcd\x34" + b"\0" * 40, "x.pcap")


@pytest.mark.parametrize("name", ["fig7", "fig8-silent", "fig18", "fig19", "fig8-no-credential"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_figure_captures_decode_to_their_wire_traces(name, fmt):
    w = read_wire_lines(name)
    cap = decode_capture(wire_capture(w, fmt), name)
    expected = ["* esp" if x.endswith(" esp") else x.split(" ", 1)[1] for x in w]   # ESP hides the kind
    assert names(cap) == expected
    retx = [o.number for o in cap.observed if o.retransmission]
    if name == "fig8-silent":
        assert retx == [5, 8]                    # MM #1 sent again, byte for byte
    if name == "fig19":
        assert retx == [6]                       # the SYN retransmission


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(st.sampled_from(["pcap", "pcapng"]), st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)),
                                                      max_size=6), st.integers(0, 4000))
def test_any_damage_to_a_capture_is_decoded_or_one_capture_error(fmt, flips, cut):
    """Flipped bytes and cut files: a decoded capture or one CaptureError line, never a traceback."""
    data = bytearray(wire_capture(read_wire_lines("fig7"), fmt))
    for at, value in flips:
        if 4 <= at < len(data):            # keep the magic: the file stays a capture
            data[at] = value
    data = bytes(data[:max(cut, 4)])
    try:
        cap = decode_capture(data, "fuzz")
    except CaptureError as e:
        assert str(e).startswith("fuzz: ") and "\n" not in str(e)
        return
    assert all(o.number >= 1 for o in cap.observed)
    from ndcheck.traces.sides import capture_trace
    try:
        capture_trace(cap)
    except CaptureError as e:
        assert str(e).startswith("fuzz: ") and "\n" not in str(e)


def test_module_examples():
    import doctest

    from ndcheck.traces import capture, isakmp

    for module in (capture, isakmp):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__
