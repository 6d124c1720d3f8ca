"""Captures the project writes itself, with dpkt: frames per packet kind and whole wire traces.

The decoding and conformance tests build their captures here rather than shipping opaque files;
``python -m tests.captures.build`` writes the few example captures of ``tests/captures/`` (the
README's examples), and a test checks that they are what this module makes.

A :class:`Host` makes Ethernet frames from its address (IPv4 or IPv6); :func:`capture_bytes`
writes frames as pcap or pcapng; :func:`wire_frames` turns a wire trace into frames, one per
packet: Main Mode and Quick Mode messages with the cookies and message id of one negotiation
(each message name has fixed bytes, so a repeated name is a byte-identical retransmission),
CONNECTED as the fourth Quick Mode message, NOTIFY/DELETE as unencrypted Informational
exchanges (INFO encrypted), ICMP quoting the last UDP 500 datagram, TCP segments with sequence
numbers, and protected segments as ESP.
"""

from __future__ import annotations

import io
import ipaddress
import struct
from dataclasses import dataclass, field
from pathlib import Path

import dpkt

from ndcheck.traces.isakmp import header

T0 = 1_767_225_600.0        # 2026-01-01 00:00:00 UTC
HERE = Path(__file__).resolve().parent
WIRE_DIR = HERE.parent / "wire"

ICOOKIE, RCOOKIE, MSGID = b"\x11" * 8, b"\x22" * 8, 0x0A0B0C0D
#: (initiator cookie, responder cookie) and Quick Mode message id of the negotiation each host
#: initiates; the client's are the ones a single negotiation uses.
COOKIES = {"client": (ICOOKIE, RCOOKIE), "server": (b"\x33" * 8, b"\x44" * 8)}
MSGIDS = {"client": MSGID, "server": 0x0E0F1011}
NO_PROPOSAL_CHOSEN = 14


def _ip_bytes(addr: str) -> bytes:
    return ipaddress.ip_address(addr).packed


@dataclass
class Host:
    """A host with one address (IPv4 or IPv6) and a MAC address; its methods return frames."""

    addr: str
    mac: bytes = b"\x02\x00\x00\x00\x00\x01"
    ident: list = field(default_factory=lambda: [0])

    @property
    def v6(self) -> bool:
        return ":" in self.addr

    def raw_ip(self, to: Host, proto: int, body: bytes, *, ident: int | None = None, off: int = 0) -> bytes:
        """An IP packet (no link layer) to ``to``."""
        if self.v6:
            ip6 = dpkt.ip6.IP6(src=_ip_bytes(self.addr), dst=_ip_bytes(to.addr), nxt=proto, hlim=64,
                               data=body)
            ip6.plen = len(body)
            return bytes(ip6)
        if ident is None:
            self.ident[0] += 1
            ident = self.ident[0]
        ip = dpkt.ip.IP(src=_ip_bytes(self.addr), dst=_ip_bytes(to.addr), p=proto, ttl=64, id=ident, data=body)
        ip.mf, ip.offset = bool(off & 0x2000), off & 0x1FFF
        ip.len = 20 + len(body)
        return bytes(ip)

    def eth(self, to: Host | None, raw: bytes, ethtype: int | None = None) -> bytes:
        kind = ethtype if ethtype is not None else (dpkt.ethernet.ETH_TYPE_IP6 if self.v6 else dpkt.ethernet.ETH_TYPE_IP)
        dst = to.mac if to is not None else b"\xff" * 6
        return bytes(dpkt.ethernet.Ethernet(src=self.mac, dst=dst, type=kind, data=raw))

    def ip(self, to: Host, proto: int, body: bytes) -> bytes:
        return self.eth(to, self.raw_ip(to, proto, body))

    @staticmethod
    def udp_body(sport: int, dport: int, payload: bytes) -> bytes:
        u = dpkt.udp.UDP(sport=sport, dport=dport, data=payload)
        u.ulen = 8 + len(payload)
        return bytes(u)

    def udp(self, to: Host, port: int, payload: bytes, sport: int | None = None) -> bytes:
        return self.ip(to, 17, self.udp_body(sport or port, port, payload))

    def nat_t(self, to: Host, isakmp: bytes) -> bytes:
        """IKE on UDP 4500 after the non-ESP marker."""
        return self.udp(to, 4500, b"\0\0\0\0" + isakmp)

    def esp_udp(self, to: Host, spi: int = 0x1000, seq: int = 1) -> bytes:
        return self.udp(to, 4500, struct.pack("!II", spi, seq) + b"\x5a" * 40)

    def esp(self, to: Host, spi: int = 0x1000, seq: int = 1) -> bytes:
        return self.ip(to, 50, struct.pack("!II", spi, seq) + b"\x5a" * 40)

    @staticmethod
    def tcp_body(flags: str, payload: bytes = b"", seq: int = 0, ack: int = 0, sport: int = 49152,
                 dport: int = 445) -> bytes:
        bits = sum(b for c, b in zip("FSRPAU", (1, 2, 4, 8, 16, 32)) if c in flags)
        return bytes(dpkt.tcp.TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=bits, win=8192, data=payload))

    def tcp(self, to: Host, flags: str, payload: bytes = b"", seq: int = 0, ack: int = 0, sport: int = 49152,
            dport: int = 445) -> bytes:
        return self.ip(to, 6, self.tcp_body(flags, payload, seq, ack, sport, dport))

    def ah_tcp(self, to: Host, flags: str, payload: bytes = b"", **kw) -> bytes:
        """A TCP segment under AH (transport mode: next header 6, 12 bytes of ICV)."""
        icv = b"\x77" * 12
        ah = bytes([6, (12 + len(icv)) // 4 - 2, 0, 0]) + struct.pack("!II", 0x2000, 1) + icv
        return self.ip(to, 51, ah + self.tcp_body(flags, payload, **kw))

    def icmp_unreachable(self, to: Host, quoted: bytes, code: int = 3) -> bytes:
        """Destination unreachable (port unreachable by default) quoting ``quoted`` (an IP packet)."""
        if self.v6:
            body = bytes([1, 4, 0, 0, 0, 0, 0, 0]) + quoted[:1232]
            return self.ip(to, 58, body)
        return self.ip(to, 1, bytes([3, code, 0, 0, 0, 0, 0, 0]) + quoted[:28])

    def icmp_echo(self, to: Host) -> bytes:
        return self.ip(to, 1, bytes([8, 0, 0, 0, 0, 1, 0, 1]) + b"ping")

    def arp(self) -> bytes:
        return self.eth(None, b"\x00\x01\x08\x00\x06\x04\x00\x01" + self.mac + _ip_bytes(self.addr)
                        + b"\0" * 10, ethtype=0x0806)


def capture_bytes(frames: list[bytes], fmt: str = "pcap", times: list[float] | None = None, *,
                  linktype: int = 1, nano: bool = False) -> bytes:
    """Frames as a pcap or pcapng file (timestamps 10 ms apart from :data:`T0` by default)."""
    times = times if times is not None else [T0 + i / 100 for i in range(len(frames))]
    out = io.BytesIO()
    if fmt == "pcap":
        w = dpkt.pcap.Writer(out, snaplen=65535, linktype=linktype, nano=nano)
        for f, t in zip(frames, times):
            w.writepkt(f, t)
    elif fmt == "pcapng":
        w = dpkt.pcapng.Writer(out, snaplen=65535, linktype=linktype)
        for f, t in zip(frames, times):
            w.writepkt(f, t)
    else:
        raise ValueError(fmt)
    return out.getvalue()


def notify_payload(kind: int = NO_PROPOSAL_CHOSEN) -> bytes:
    return struct.pack("!BBHIBBH", 0, 0, 12, 1, 1, 0, kind)


def delete_payload() -> bytes:
    return struct.pack("!BBHIBBH", 0, 0, 12, 1, 1, 16, 1) + b"\x11" * 16


@dataclass
class _Tcp:
    isn: int
    sent: int = 0        # sequence space used after the SYN (data bytes, FIN)


class WireCapture:
    """Turns wire-trace packets into frames between a client and a server.

    ``ike_client``/``ike_server`` give the hosts' IKE (and ESP) addresses when they differ from
    the TCP ones (tunnel-mode test beds); ``nat_t`` sends IKE from MM5 on and ESP over UDP 4500;
    ``encrypted_info`` writes every NOTIFY/DELETE as an encrypted Informational exchange.
    """

    def __init__(self, client: Host | None = None, server: Host | None = None, *, ike_client: Host | None = None,
                 ike_server: Host | None = None, nat_t: bool = False, encrypted_info: bool = False):
        self.hosts = {"client": client or Host("192.0.2.1", b"\x02\0\0\0\0\x01"),
                      "server": server or Host("192.0.2.2", b"\x02\0\0\0\0\x02")}
        self.ike = {"client": ike_client or self.hosts["client"], "server": ike_server or self.hosts["server"]}
        self.nat_t, self.encrypted_info = nat_t, encrypted_info
        self.tcp = {"client": _Tcp(1000), "server": _Tcp(5000)}
        self.esp_seq = {"client": 0, "server": 0}
        self.initiator: str | None = None
        self.last_ike: bytes = b""
        self.mm5_seen = False

    def frames(self, packets: list[str]) -> list[bytes]:
        return [self.frame(p) for p in packets]

    def frame(self, packet: str) -> bytes:
        head, _, rest = packet.partition(" ")
        sender, _, receiver = head.partition(">")
        message, _, protection = rest.partition(" ")
        if protection == "esp":
            return self._esp(sender, receiver)
        if protection == "clear":
            return self._tcp(sender, receiver, message)
        return self._ike(sender, receiver, message)

    def _esp(self, sender: str, receiver: str) -> bytes:
        self.esp_seq[sender] += 1
        a, b = self.ike[sender], self.ike[receiver]
        spi = 0x1000 if sender == "client" else 0x2000
        if self.nat_t:
            return a.esp_udp(b, spi, self.esp_seq[sender])
        return a.esp(b, spi, self.esp_seq[sender])

    def _tcp(self, sender: str, receiver: str, message: str) -> bytes:
        me, peer = self.tcp[sender], self.tcp[receiver]
        a, b = self.hosts[sender], self.hosts[receiver]
        ports = {"sport": 49152, "dport": 445} if sender == "client" else {"sport": 445, "dport": 49152}
        flags, payload = {"SYN": ("S", b""), "SYN-ACK": ("SA", b""), "ACK": ("A", b""), "DATA": ("PA", b"data" * 25),
                          "FIN": ("FA", b""), "RST": ("RA", b"")}[message]
        if message == "SYN":
            return a.tcp(b, flags, seq=me.isn, **ports)
        if message == "SYN-ACK":
            return a.tcp(b, flags, seq=me.isn, ack=peer.isn + 1, **ports)
        f = a.tcp(b, flags, payload, seq=me.isn + 1 + me.sent, ack=peer.isn + 1 + peer.sent, **ports)
        me.sent += len(payload) + (message == "FIN")
        return f

    def isakmp(self, sender: str, message: str) -> bytes:
        """The ISAKMP bytes of ``message`` from ``sender`` in this negotiation.  Both hosts may
        initiate (A-13): a Main Mode has the cookies of the host that sent its MM #1, a Quick Mode
        the message id of the host that sent its QM #5 (crossing negotiations stay apart)."""
        receiver = "server" if sender == "client" else "client"
        if message.startswith("MM") and message == "MM1":
            self.initiator = self.initiator or sender
        odd = message in ("MM1", "MM3", "MM5", "QM1", "QM3")
        owner = sender if odd else receiver            # the negotiation's initiator
        ic, rc_done = COOKIES[owner]
        rc = bytes(8) if message == "MM1" else rc_done
        body = message.lower().encode() + b"-body"
        if message.startswith("MM"):
            return header(ic, rc, 2, flags=1 if message in ("MM5", "MM6") else 0, body=body)
        if message.startswith("QM") or message == "CONNECTED":
            return header(ic, rc_done, 32, flags=1, msgid=MSGIDS[owner], next_payload=8, body=body)
        if message in ("NOTIFY", "DELETE", "INFO"):
            # a refusal answers the peer's negotiation
            ic, rc_done = COOKIES[receiver if message == "NOTIFY" else self.initiator or sender]
            rc = bytes(8) if message == "NOTIFY" and not self.mm5_seen else rc_done
            if self.encrypted_info or message == "INFO":
                return header(ic, rc, 5, flags=1, msgid=0x0BAD0BAD, next_payload=8, body=body)
            payload = notify_payload() if message == "NOTIFY" else delete_payload()
            return header(ic, rc if message == "NOTIFY" else rc_done, 5, msgid=0,
                          next_payload=11 if message == "NOTIFY" else 12, body=payload)
        raise ValueError(message)

    def _ike(self, sender: str, receiver: str, message: str) -> bytes:
        a, b = self.ike[sender], self.ike[receiver]
        if message == "ICMP":
            return a.icmp_unreachable(b, self.last_ike)
        data = self.isakmp(sender, message)
        self.mm5_seen = self.mm5_seen or message == "MM5"
        if self.nat_t and self.mm5_seen:
            return a.nat_t(b, data)
        frame = a.udp(b, 500, data)
        self.last_ike = frame[14:]
        return frame


def wire_frames(packets: list[str], **kw) -> list[bytes]:
    """Frames for wire-trace packets (keyword arguments as :class:`WireCapture`)."""
    return WireCapture(**kw).frames(packets)


def wire_capture(packets: list[str], fmt: str = "pcapng", **kw) -> bytes:
    return capture_bytes(wire_frames(packets, **kw), fmt)


def read_wire_lines(name: str) -> list[str]:
    from ndcheck.traces.wire import read_wire

    return read_wire(WIRE_DIR / f"{name}.txt").wire()


# --------------------------------------------------------------------------------------------
# Long captures (issue 15): a figure's negotiation, then a long TCP stream, then the close
# --------------------------------------------------------------------------------------------

#: The close after the client's last segment: the server's answer, its ACK, the client's FIN
#: (it closes first), the ACK of the FIN, the server's FIN and its ACK.
CLOSE = [("server", "DATA"), ("client", "ACK"), ("client", "FIN"), ("server", "ACK"), ("server", "FIN"),
         ("client", "ACK")]


def _tcp(sender: str, message: str, protection: str) -> str:
    receiver = "server" if sender == "client" else "client"
    return f"{sender}>{receiver} {message} {protection}"


def long_wire(figure: str, segments: int, *, burst: int = 2) -> list[str]:
    """A long but plausible wire trace of ``figure`` (``fig7``: fig7-both-capable, the stream
    under ESP after CONNECTED; ``fig8-silent``: fig8-silent-peer, all of it in the clear):
    the figure's packets up to its first data segments, then the client's data up to
    ``segments`` segments in all, ``burst`` segments (the window) before their
    acknowledgements, then :data:`CLOSE`.  The protected segments are written ``DATA esp`` and
    ``ACK esp``; a capture shows them as ESP (``* esp``)."""
    if figure == "fig7":
        head = read_wire_lines("fig7")[:17]           # up to CONNECTED: two clear data segments
        protection, sent = "esp", 2
    elif figure == "fig8-silent":
        head = read_wire_lines("fig8-silent")         # ends with the second data segment's ACK
        protection, sent = "clear", 2
    else:
        raise ValueError(figure)
    out = list(head)
    while sent < segments:
        k = min(burst, segments - sent)
        out += [_tcp("client", "DATA", protection)] * k + [_tcp("server", "ACK", protection)] * k
        sent += k
    out += [_tcp(sender, message, protection) for sender, message in CLOSE]
    return out


def long_capture(figure: str, segments: int, fmt: str = "pcapng", *, clear_at: int | None = None,
                 gap: float = 0.001) -> bytes:
    """:func:`long_wire` as a capture, ``gap`` seconds between packets.  ``clear_at`` (0-based)
    makes that packet a clear data segment of the client instead: the wrong-but-plausible
    capture of a downgrade after ESP (S-1)."""
    lines = long_wire(figure, segments)
    if clear_at is not None:
        lines[clear_at] = _tcp("client", "DATA", "clear")
    frames = wire_frames(lines)
    return capture_bytes(frames, fmt, [T0 + i * gap for i in range(len(frames))])


def long_segments(packets: int, figure: str = "fig7") -> int:
    """The data segment count that makes :func:`long_wire` about ``packets`` packets long."""
    head = 17 if figure == "fig7" else 10
    return max(2, 2 + (packets - head - len(CLOSE)) // 2)


#: The example captures of tests/captures/ (file name -> how it is made).
EXAMPLES = {
    "fig7.pcapng": lambda: wire_capture(read_wire_lines("fig7"), "pcapng"),
    "fig19.pcap": lambda: wire_capture(read_wire_lines("fig19"), "pcap"),
    "reject-clear-after-esp.pcapng": lambda: wire_capture(read_wire_lines("reject-clear-after-esp"), "pcapng"),
}


BAD_DIR = HERE.parent / "bad_inputs" / "capture"


def _truncated(fmt: str) -> bytes:
    data = wire_capture(read_wire_lines("fig7")[:4], fmt)
    return data[:-30]


def _one_ike(data: bytes, fmt: str = "pcap") -> bytes:
    c, s = WireCapture().hosts["client"], WireCapture().hosts["server"]
    return capture_bytes([c.udp(s, 500, data)], fmt)


def _corrupt_block() -> bytes:
    data = bytearray(wire_capture(read_wire_lines("fig7")[:2], "pcapng"))
    shb = struct.unpack_from("<I", data, 4)[0]
    idb = struct.unpack_from("<I", data, shb + 4)[0]
    struct.pack_into("<I", data, shb + idb + 4, 10)
    return bytes(data)


#: The captures of the bad-input corpus (tests/bad_inputs/capture/; see its manifest).
BAD_INPUTS = {
    "truncated.pcap": lambda: _truncated("pcap"),
    "truncated.pcapng": lambda: _truncated("pcapng"),
    "short-header.pcap": lambda: b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00",
    "no-packets.pcap": lambda: capture_bytes([], "pcap"),
    "wifi.pcap": lambda: capture_bytes([b"\x08\x02" + b"\0" * 40], "pcap", linktype=105),
    "corrupt-block.pcapng": _corrupt_block,
    "modified-pcap.pcap": lambda: b"\x34\xcd\xb2\xa1" + b"\0" * 40,
    "ikev2.pcapng": lambda: _one_ike(header(ICOOKIE, bytes(8), 34, version=0x20), "pcapng"),
    "authip.pcap": lambda: _one_ike(header(ICOOKIE, bytes(8), 243)),
    "aggressive.pcap": lambda: _one_ike(header(ICOOKIE, bytes(8), 4)),
    "only-esp.pcap": lambda: capture_bytes([Host("192.0.2.1").esp(Host("192.0.2.2"))], "pcap"),
    "mm-without-mm1.pcap": lambda: _one_ike(header(ICOOKIE, RCOOKIE, 2)),
}


def main(argv: list[str] | None = None) -> None:
    """Write the example captures; ``--long FIGURE PACKETS OUT`` writes a long capture instead."""
    import sys

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--long"]:
        figure, packets, out = argv[1], int(argv[2]), Path(argv[3])
        out.write_bytes(long_capture(figure, long_segments(packets, figure)))
        print(f"wrote {out} ({len(long_wire(figure, long_segments(packets, figure)))} packets)")
        return
    for name, make in EXAMPLES.items():
        (HERE / name).write_bytes(make())
        print(f"wrote tests/captures/{name}")
    BAD_DIR.mkdir(exist_ok=True)
    for name, make in BAD_INPUTS.items():
        (BAD_DIR / name).write_bytes(make())
        print(f"wrote tests/bad_inputs/capture/{name}")


if __name__ == "__main__":
    main()
