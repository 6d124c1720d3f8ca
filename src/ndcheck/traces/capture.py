"""Captures: a pcap or pcapng file decoded into the packets the model speaks of.

A capture is recognised by its first bytes (the pcap magic numbers ``a1b2c3d4``/``a1b23c4d`` in
either byte order, the pcapng Section Header Block ``0a0d0d0a``), never by its file name; anything
else is read as a text wire trace (:mod:`ndcheck.traces.wire`).  Each packet of the capture
becomes at most one :class:`Observed` packet with its packet number (1-based, as Wireshark counts
frames) and timestamp:

* IKEv1 on UDP 500, and on UDP 4500 after the 4-byte non-ESP marker: ``MM1``..``MM6``,
  ``QM1``..``QM3``, ``CONNECTED``, ``NOTIFY``, ``DELETE`` or ``INFO``, retransmissions marked
  (:mod:`ndcheck.traces.isakmp`; IKEv2, AuthIP and Aggressive Mode are refused with the reason);
* ESP (IP protocol 50) and ESP in UDP 4500 (a non-zero first word): ``* esp``, a protected TCP
  segment whose kind the encryption hides; AH-protected TCP (protocol 51) is readable, so it
  gets its kind with protection ``esp`` (in the wire format ``esp`` means "protected by an SA");
* TCP in the clear by its flags and payload: ``SYN``, ``SYN-ACK``, ``RST``, ``FIN``, ``DATA``
  (a payload), ``ACK`` (none); a segment repeating an earlier one (same ports, sequence number,
  flags and payload) is marked as a retransmission;
* ICMP (or ICMPv6) destination unreachable quoting a UDP 500/4500 datagram: ``ICMP``, from the
  host the datagram was sent to, to its sender (a router's answer stands for that host).

Everything else is counted by kind and ignored (``12 ARP, 3 DNS, 1 UDP 137``); a fragmented
IPv4 datagram is reassembled and counts at the fragment that completes it (as Wireshark shows
it).  Which host is the client is decided later (:mod:`ndcheck.traces.sides`); here a packet has
addresses.

Library: **dpkt** (pure Python, no dependencies, imports in about 60 ms) reads the pcap and
pcapng headers and blocks and decodes the link layers (Ethernet with VLAN tags, Linux cooked v1
and v2, BSD loopback, raw IP), IPv4, IPv6 with extension headers, UDP, TCP and the ESP header.
It has no ISAKMP dissector, but the model needs only the 28-byte ISAKMP header and the first
payload types, read in :mod:`ndcheck.traces.isakmp`.  scapy dissects ISAKMP too, but costs about
1.7 s to import and brings much that is not needed; both are maintained.  The block walk is
ndcheck's own (with dpkt's block classes) because dpkt's readers keep one interface's link type
and time resolution per file and pass a cut final record silently; a truncated or corrupt file
is an error here (:class:`CaptureError`, one line).

A capture of one MM #1 (raw IP, written with dpkt) and a file that is not a capture:

>>> import io
>>> from ndcheck.traces.isakmp import header
>>> udp = dpkt.udp.UDP(sport=500, dport=500, data=header(b"I" * 8, bytes(8), 2))
>>> udp.ulen = len(udp)
>>> ip = dpkt.ip.IP(src=bytes([192, 0, 2, 1]), dst=bytes([192, 0, 2, 2]), p=17, data=udp)
>>> out = io.BytesIO()
>>> dpkt.pcap.Writer(out, linktype=101).writepkt(bytes(ip), 1767225600.0)
>>> cap = decode_capture(out.getvalue(), "mm1.pcap")
>>> [(o.number, o.src, o.dst, o.message, o.layer) for o in cap.observed]
[(1, '192.0.2.1', '192.0.2.2', 'MM1', 'IKE')]
>>> sniff(out.getvalue()), sniff(b"client>server SYN clear")
('pcap', None)
"""

from __future__ import annotations

import ipaddress
import struct
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import dpkt

from .isakmp import Exchanges, IsakmpError
from .wire import WireError

__all__ = ["Capture", "CaptureError", "Observed", "decode_capture", "looks_like_capture", "read_capture", "sniff"]


class CaptureError(WireError):
    """An unreadable or unsupported capture; one line naming the file (and packet), what is
    wrong and what is supported.  A :class:`~ndcheck.traces.wire.WireError`, so the command
    line answers it with exit status 2."""


@dataclass(frozen=True, slots=True)
class Observed:
    """One packet of a capture, named in the wire vocabulary.

    ``src``/``dst`` are the addresses that decide the sides (for ``ICMP``, the quoted
    datagram's receiver and sender); ``message`` a wire name (``MM1``, ``SYN``, ``*``, ...);
    ``protection`` ``clear``/``esp`` for TCP, None for IKE; ``layer`` is ``IKE``, ``ESP``,
    ``AH``, ``TCP`` or ``ICMP``; ``flow`` the TCP ports ``(src port, dst port)``.
    """

    number: int
    time: float | None
    src: str
    dst: str
    message: str
    protection: str | None
    layer: str
    retransmission: bool = False
    detail: str = ""
    flow: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Capture:
    """A decoded capture: the packets of the model's kinds, and counts of the others by kind."""

    source: str
    format: str                           # "pcap" or "pcapng"
    frames: int                           # packets in the file
    observed: tuple[Observed, ...]
    ignored: tuple[tuple[str, int], ...]  # (kind, count), most frequent first
    start: float | None = None            # the time of packet 1

    def ignored_text(self) -> str:
        """``12 ARP, 3 DNS, 1 UDP 137`` (empty when nothing was ignored)."""
        return ", ".join(f"{n} {kind}" for kind, n in self.ignored)


PCAP_MAGICS = {b"\xa1\xb2\xc3\xd4", b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\x3c\x4d", b"\x4d\x3c\xb2\xa1"}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
_OTHER_MAGICS = {b"\xa1\xb2\xcd\x34": "Kuznetzov's modified pcap", b"\x34\xcd\xb2\xa1": "Kuznetzov's modified pcap"}


def sniff(data: bytes) -> str | None:
    """``"pcap"``, ``"pcapng"`` or None (not a capture), from the first four bytes."""
    head = data[:4]
    if head in PCAP_MAGICS:
        return "pcap"
    if head == PCAPNG_MAGIC:
        return "pcapng"
    return None


def looks_like_capture(data: bytes) -> bool:
    """Whether the first bytes are those of a capture, supported (:func:`sniff`) or not."""
    return sniff(data) is not None or data[:4] in _OTHER_MAGICS


def read_capture(path: str | Path) -> Capture:
    """Read and decode a pcap or pcapng file."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except IsADirectoryError:
        raise CaptureError(f"{p}: is a directory; expected a capture (pcap, pcapng) or a wire trace") from None
    except OSError as e:
        raise CaptureError(f"{p}: cannot read capture: {e.strerror or e}") from None
    return decode_capture(data, str(p))


# --------------------------------------------------------------------------------------------
# Frames: (packet number, timestamp, link type, bytes) from the file formats
# --------------------------------------------------------------------------------------------

#: Link types read (LINKTYPE_* values of pcap and pcapng).
LINK_TYPES = {0: "BSD loopback", 1: "Ethernet", 12: "raw IP", 14: "raw IP", 101: "raw IP", 108: "OpenBSD loopback",
              113: "Linux cooked", 228: "raw IPv4", 229: "raw IPv6", 276: "Linux cooked v2"}
_SUPPORTED_LINKS = "Ethernet (1), raw IP (101, 228, 229), Linux cooked (113, 276), loopback (0, 108)"
_LINK_NAMES = {6: "Token Ring", 9: "PPP", 105: "IEEE 802.11", 119: "802.11 Prism", 127: "802.11 radiotap",
               147: "user 0", 192: "PPI", 220: "USB Linux mmapped", 249: "USBPcap"}
_MAX_RECORD = 1 << 24


def _pcap_frames(data: bytes, source: str):
    magic = data[:4]
    le = magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
    nano = magic in (b"\xa1\xb2\x3c\x4d", b"\x4d\x3c\xb2\xa1")
    if len(data) < 24:
        raise CaptureError(f"{source}: truncated pcap: {len(data)} bytes, shorter than the 24-byte file header")
    fh = (dpkt.pcap.LEFileHdr if le else dpkt.pcap.FileHdr)(data[:24])
    linktype = fh.linktype & 0xFFFF
    ph = dpkt.pcap.LEPktHdr if le else dpkt.pcap.PktHdr
    div = 1e9 if nano else 1e6
    off, n = 24, 0
    while off < len(data):
        n += 1
        if off + 16 > len(data):
            raise CaptureError(f"{source}: truncated pcap: packet {n}'s record header is cut after "
                               f"{len(data) - off} of 16 bytes (the capture was interrupted?)")
        h = ph(data[off:off + 16])
        if h.caplen > _MAX_RECORD:
            raise CaptureError(f"{source}: corrupt pcap: packet {n} claims {h.caplen} bytes")
        end = off + 16 + h.caplen
        if end > len(data):
            raise CaptureError(f"{source}: truncated pcap: packet {n} needs {h.caplen} bytes, "
                               f"{len(data) - off - 16} left (the capture was interrupted?)")
        yield n, h.tv_sec + h.tv_usec / div, linktype, data[off + 16:end]
        off = end


def _pcapng_frames(data: bytes, source: str):
    from dpkt import pcapng as ng

    off, n, block = 0, 0, 0
    order = "<"
    ifaces: list[tuple[int, float, float]] = []    # (link type, divisor, offset) per interface
    while off < len(data):
        block += 1
        if off + 12 > len(data):
            raise CaptureError(f"{source}: truncated pcapng: block {block} is cut after {len(data) - off} bytes "
                               "(the capture was interrupted?)")
        if data[off:off + 4] == PCAPNG_MAGIC:          # a Section Header Block: byte order, new interfaces
            bom = data[off + 8:off + 12]
            if bom == b"\x4d\x3c\x2b\x1a":
                order = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                order = ">"
            else:
                raise CaptureError(f"{source}: corrupt pcapng: section header block {block} has no byte-order mark")
            ifaces = []
        elif block == 1:
            raise CaptureError(f"{source}: corrupt pcapng: the file does not start with a section header block")
        kind, length = struct.unpack_from(order + "II", data, off)
        if length < 12 or length % 4 or length > _MAX_RECORD:
            raise CaptureError(f"{source}: corrupt pcapng: block {block} has length {length}")
        if off + length > len(data):
            raise CaptureError(f"{source}: truncated pcapng: block {block} needs {length} bytes, "
                               f"{len(data) - off} left (the capture was interrupted?)")
        raw = data[off:off + length]
        off += length
        le = order == "<"
        try:
            if kind == ng.PCAPNG_BT_IDB:
                idb = (ng.InterfaceDescriptionBlockLE if le else ng.InterfaceDescriptionBlock)(raw)
                div, tsoff = 1e6, 0.0
                for opt in idb.opts:
                    if opt.code == ng.PCAPNG_OPT_IF_TSRESOL and opt.data:
                        v = opt.data[0]
                        div = float(2 ** (v & 0x7F)) if v & 0x80 else float(10 ** (v & 0x7F))
                    elif opt.code == ng.PCAPNG_OPT_IF_TSOFFSET and len(opt.data) >= 8:
                        tsoff = float(struct.unpack(order + "q", opt.data[:8])[0])
                ifaces.append((idb.linktype, div, tsoff))
            elif kind in (ng.PCAPNG_BT_EPB, ng.PCAPNG_BT_PB):
                n += 1
                if kind == ng.PCAPNG_BT_EPB:
                    b = (ng.EnhancedPacketBlockLE if le else ng.EnhancedPacketBlock)(raw)
                    iface = b.iface_id
                else:
                    b = (ng.PacketBlockLE if le else ng.PacketBlock)(raw)
                    iface = b.iface_id
                if iface >= len(ifaces):
                    raise CaptureError(f"{source}: corrupt pcapng: packet {n} names interface {iface}, "
                                       f"{len(ifaces)} described")
                link, div, tsoff = ifaces[iface]
                yield n, tsoff + ((b.ts_high << 32) | b.ts_low) / div, link, bytes(b.pkt_data)
            elif kind == ng.PCAPNG_BT_SPB:
                n += 1
                if not ifaces:
                    raise CaptureError(f"{source}: corrupt pcapng: packet {n} before any interface description")
                (orig,) = struct.unpack_from(order + "I", raw, 8)
                yield n, None, ifaces[0][0], raw[12:12 + min(orig, length - 16)]
        except (dpkt.UnpackError, struct.error) as e:
            raise CaptureError(f"{source}: corrupt pcapng: block {block}: {e or type(e).__name__}") from None


# --------------------------------------------------------------------------------------------
# Packets: link layer, IP, transport
# --------------------------------------------------------------------------------------------

_ETHERTYPES = {0x0806: "ARP", 0x8035: "RARP", 0x88CC: "LLDP", 0x888E: "EAPOL", 0x8809: "LACP",
               0x88E1: "HomePlug", 0x893A: "IEEE 1905", 0x8899: "Realtek"}
_UDP_NAMES = {53: "DNS", 67: "DHCP", 68: "DHCP", 123: "NTP", 546: "DHCPv6", 547: "DHCPv6", 1900: "SSDP",
              3702: "WS-Discovery", 5353: "mDNS", 5355: "LLMNR"}
_IP_NAMES = {2: "IGMP", 47: "GRE", 89: "OSPF", 103: "PIM", 112: "VRRP"}
_ICMP_NAMES = {0: "ICMP echo reply", 8: "ICMP echo", 11: "ICMP time exceeded", 5: "ICMP redirect"}
_ND = range(133, 138)
IKE_PORTS = (500, 4500)


def _addr(raw: bytes) -> str:
    return str(ipaddress.ip_address(raw))


class _Decoder:
    """The decoding state across packets: IKE exchanges, TCP segments seen, IPv4 fragments."""

    def __init__(self, source: str):
        self.source = source
        self.ike = Exchanges()
        self.segments: set[tuple] = set()
        self.fragments: dict[tuple, list] = {}
        self.observed: list[Observed] = []
        self.ignored: Counter[str] = Counter()

    def error(self, n: int, message: str) -> CaptureError:
        return CaptureError(f"{self.source}: packet {n}: {message}")

    # link layer -> raw IP bytes
    def frame(self, n: int, t: float | None, link: int, buf: bytes) -> None:
        if link not in LINK_TYPES:
            name = _LINK_NAMES.get(link, "unknown")
            raise self.error(n, f"link type {link} ({name}) is not supported; supported: {_SUPPORTED_LINKS}")
        try:
            if link == 1:
                eth = dpkt.ethernet.Ethernet(buf)
                kind, start = eth.type, 14 + 4 * len(getattr(eth, "vlan_tags", ()) or ()) \
                    + 4 * len(getattr(eth, "mpls_labels", ()) or ())
                inner = eth.data
            elif link in (0, 108):
                lo = dpkt.loopback.Loopback(buf)
                kind, start, inner = None, 4, lo.data
            elif link == 113:
                sll = dpkt.sll.SLL(buf)
                kind, start, inner = sll.ethtype, 16, sll.data
            elif link == 276:
                sll2 = dpkt.sll2.SLL2(buf)
                kind, start, inner = sll2.ethtype, 20, sll2.data
            else:
                kind, start, inner = None, 0, None
        except (dpkt.UnpackError, struct.error):
            self.ignored["undecodable frame"] += 1
            return
        if start and not isinstance(inner, (dpkt.ip.IP, dpkt.ip6.IP6)):
            if kind is None:
                self.ignored["loopback, not IP"] += 1
            elif kind <= 1500:
                self.ignored["802.3 LLC (STP, CDP, ...)"] += 1
            else:
                self.ignored[_ETHERTYPES.get(kind, f"ethertype 0x{kind:04x}")] += 1
            return
        self.ip(n, t, buf[start:])

    def ip(self, n: int, t: float | None, raw: bytes, protected: bool = False) -> None:
        """An IPv4 or IPv6 packet from its first byte (``protected``: inside AH)."""
        version = raw[0] >> 4 if raw else 0
        try:
            if version == 4:
                ip = dpkt.ip.IP(raw)
                src, dst, proto = _addr(ip.src), _addr(ip.dst), ip.p
                hl = ip.hl * 4
                payload = raw[hl:ip.len] if ip.len else raw[hl:]
                size = ip.len - hl if ip.len else len(payload)
                if ip.mf or ip.offset:
                    payload = self.reassemble(ip, payload)
                    if payload is None:
                        return
                    size = len(payload)
            elif version == 6:
                ip6 = dpkt.ip6.IP6(raw)
                src, dst = _addr(ip6.src), _addr(ip6.dst)
                proto, off, end = raw[6], 40, 40 + ip6.plen
                while proto in (0, 43, 60):          # hop-by-hop, routing, destination options
                    proto, off = raw[off], off + (raw[off + 1] + 1) * 8
                if proto == 44:
                    self.ignored["IPv6 fragment"] += 1
                    return
                payload, size = raw[off:end], end - off
            else:
                self.ignored["not IP"] += 1
                return
        except (dpkt.UnpackError, struct.error, IndexError, ValueError):
            self.ignored["undecodable IP packet"] += 1
            return
        self.transport(n, t, src, dst, proto, payload, size, protected)

    def reassemble(self, ip, payload: bytes) -> bytes | None:
        """The whole datagram once its last missing fragment is here, else None."""
        key = (ip.src, ip.dst, ip.id, ip.p)
        parts = self.fragments.setdefault(key, [])
        parts.append((ip.offset * 8, payload, bool(ip.mf)))
        parts.sort(key=lambda x: x[0])
        have, out = 0, []
        for off, data, more in parts:
            if off > have:
                return None                          # a hole
            if off + len(data) > have:
                out.append(data[have - off:])
                have = off + len(data)
            if not more:
                del self.fragments[key]
                self.ignored["IP fragment (reassembled)"] += len(parts) - 1
                return b"".join(out)
        return None

    def transport(self, n: int, t: float | None, src: str, dst: str, proto: int, payload: bytes,
                  size: int, protected: bool) -> None:
        try:
            if proto == 17 and not protected:
                udp = dpkt.udp.UDP(payload)
                end = udp.ulen if 8 <= udp.ulen <= len(payload) else len(payload)
                self.udp(n, t, src, dst, udp.sport, udp.dport, payload[8:end])
            elif proto == 6:
                self.tcp(n, t, src, dst, payload, size, protected)
            elif proto == 50 and not protected:
                spi, seq = struct.unpack_from("!II", payload)
                self.add(n, t, src, dst, "*", "esp", "ESP", detail=f"ESP spi {spi:#010x} seq {seq}")
            elif proto == 51 and not protected:
                self.ah(n, t, src, dst, payload)
            elif proto in (1, 58) and not protected:
                self.icmp(n, t, src, dst, proto, payload)
            elif protected:
                self.ignored[f"AH-protected IP protocol {proto}"] += 1
            else:
                self.ignored[_IP_NAMES.get(proto, f"IP protocol {proto}")] += 1
        except (dpkt.UnpackError, struct.error, IndexError):
            self.ignored["undecodable transport header"] += 1

    def udp(self, n: int, t: float | None, src: str, dst: str, sport: int, dport: int, data: bytes) -> None:
        if 4500 in (sport, dport):
            if len(data) == 1 and data == b"\xff":
                self.ignored["NAT-T keepalive"] += 1
                return
            if len(data) >= 4 and data[:4] == b"\0\0\0\0":
                self.isakmp(n, t, src, dst, data[4:], "UDP 4500, non-ESP marker")
                return
            if len(data) < 8:
                self.ignored["UDP 4500 (too short for ESP)"] += 1
                return
            spi, seq = struct.unpack_from("!II", data)
            self.add(n, t, src, dst, "*", "esp", "ESP", detail=f"ESP in UDP 4500, spi {spi:#010x} seq {seq}")
            return
        if 500 in (sport, dport):
            self.isakmp(n, t, src, dst, data, "UDP 500")
            return
        port = dport if dport in _UDP_NAMES else sport if sport in _UDP_NAMES else min(sport, dport)
        self.ignored[_UDP_NAMES.get(port, f"UDP {port}")] += 1

    def isakmp(self, n: int, t: float | None, src: str, dst: str, data: bytes, where: str) -> None:
        try:
            named = self.ike.classify(src, dst, data)
        except IsakmpError as e:
            raise self.error(n, f"{e} ({where}, {src} > {dst})") from None
        if named is None:
            self.ignored["IKE fragment (not the first)"] += 1
            return
        message, retx, detail = named
        self.add(n, t, src, dst, message, None, "IKE", retx, f"{detail}, {where}")

    def tcp(self, n: int, t: float | None, src: str, dst: str, payload: bytes, size: int,
            protected: bool) -> None:
        seg = dpkt.tcp.TCP(payload)
        f = seg.flags
        size = max(size - seg.off * 4, 0)          # from the IP length: the capture may cut the payload
        if f & dpkt.tcp.TH_RST:
            message = "RST"
        elif f & dpkt.tcp.TH_SYN:
            message = "SYN-ACK" if f & dpkt.tcp.TH_ACK else "SYN"
        elif f & dpkt.tcp.TH_FIN:
            message = "FIN"
        elif size:
            message = "DATA"
        else:
            message = "ACK"
        # a segment that takes sequence space (SYN, FIN, data) sent again; pure ACKs and RSTs repeat
        # their sequence number without being retransmissions
        retx = False
        if message in ("SYN", "SYN-ACK", "FIN", "DATA"):
            key = (src, seg.sport, dst, seg.dport, seg.seq, f & 3, payload[seg.off * 4:])
            retx = key in self.segments
            self.segments.add(key)
        names = "".join(c for c, bit in zip("FSRPAU", (1, 2, 4, 8, 16, 32)) if f & bit)
        detail = f"TCP {seg.sport} > {seg.dport} [{names}] seq {seg.seq} ack {seg.ack} len {size}"
        self.add(n, t, src, dst, message, "esp" if protected else "clear", "AH" if protected else "TCP", retx,
                 detail + (", AH-protected" if protected else ""), (seg.sport, seg.dport))

    def ah(self, n: int, t: float | None, src: str, dst: str, payload: bytes) -> None:
        nxt, length = payload[0], payload[1]
        inner = payload[(length + 2) * 4:]
        if nxt == 6:
            self.tcp(n, t, src, dst, inner, len(inner), True)
        elif nxt in (4, 41):
            self.ip(n, t, inner, True)
        else:
            self.ignored[f"AH-protected IP protocol {nxt}"] += 1

    def icmp(self, n: int, t: float | None, src: str, dst: str, proto: int, payload: bytes) -> None:
        kind = payload[0]
        unreachable = 3 if proto == 1 else 1
        if kind == unreachable:
            quoted = payload[8:]
            hit = _quoted_ike(quoted)
            if hit is not None:
                q_src, q_dst, port = hit
                code = payload[1]
                self.add(n, t, q_dst, q_src, "ICMP", None, "ICMP",
                         detail=f"ICMP{'v6' if proto == 58 else ''} destination unreachable (code {code}) "
                                f"from {src}, quoting UDP {port} {q_src} > {q_dst}")
                return
            self.ignored["ICMP unreachable (not IKE)" if proto == 1 else "ICMPv6 unreachable (not IKE)"] += 1
            return
        if proto == 58:
            self.ignored["ICMPv6 neighbour discovery" if kind in _ND else f"ICMPv6 type {kind}"] += 1
        else:
            self.ignored[_ICMP_NAMES.get(kind, f"ICMP type {kind}")] += 1

    def add(self, n: int, t: float | None, src: str, dst: str, message: str, protection: str | None,
            layer: str, retx: bool = False, detail: str = "", flow: tuple[int, int] | None = None) -> None:
        self.observed.append(Observed(n, t, src, dst, message, protection, layer, retx, detail, flow))


def _quoted_ike(quoted: bytes) -> tuple[str, str, int] | None:
    """(source, destination, port) of a UDP 500/4500 datagram quoted by an ICMP error, or None."""
    if len(quoted) < 20:
        return None
    if quoted[0] >> 4 == 4:
        hl = (quoted[0] & 0xF) * 4
        if quoted[9] != 17 or len(quoted) < hl + 4:
            return None
        src, dst, udp = quoted[12:16], quoted[16:20], quoted[hl:]
    elif quoted[0] >> 4 == 6 and len(quoted) >= 44:
        if quoted[6] != 17:
            return None
        src, dst, udp = quoted[8:24], quoted[24:40], quoted[40:]
    else:
        return None
    dport = struct.unpack_from("!H", udp, 2)[0]
    if dport not in IKE_PORTS:
        return None
    return _addr(src), _addr(dst), dport


def decode_capture(data: bytes, source: str = "<capture>") -> Capture:
    """Decode the bytes of a pcap or pcapng file (:func:`sniff` must recognise them)."""
    fmt = sniff(data)
    if fmt is None:
        other = _OTHER_MAGICS.get(data[:4])
        what = f"a {other} file" if other else "not a pcap or pcapng file"
        raise CaptureError(f"{source}: {what}; supported: pcap (magic a1b2c3d4, a1b23c4d) and pcapng")
    frames = _pcap_frames(data, source) if fmt == "pcap" else _pcapng_frames(data, source)
    dec = _Decoder(source)
    count, start = 0, None
    for n, t, link, buf in frames:
        if n == 1:
            start = t
        count = n
        dec.frame(n, t, link, buf)
    if dec.fragments:
        dec.ignored["IP fragment (incomplete datagram)"] += sum(len(p) for p in dec.fragments.values())
    ignored = tuple(sorted(dec.ignored.items(), key=lambda kv: (-kv[1], kv[0])))
    return Capture(source, fmt, count, tuple(dec.observed), ignored, start)
