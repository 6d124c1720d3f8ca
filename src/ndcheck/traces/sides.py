"""Who is who in a capture: the client's and the server's addresses, and the wire trace they give.

A capture has addresses; the model has a ``client`` (it opens the TCP connection and starts IKE)
and a ``server``.  A host may use one address for IKE and ESP and another for TCP (tunnel-mode
test beds), so each side is a set of addresses:

1. the addresses given (``--client``, ``--server``); one given to both sides is an error;
2. the first TCP SYN (without ACK; among those from a client address or to a server address
   when some are given): its sender is the client, its receiver the server, and its ports are
   *the* connection -- TCP segments of other connections between the hosts are ignored
   (``TCP 3389 (another connection)``), as the model has one flow;
3. the first MM1: its addresses join the side that sent or received it -- when one of them is
   known the other joins the other side; when neither is, the sender is the client (the
   client's first packet starts IKE, ND-8/ND-1) and the receiver the server;
4. when one side is still empty, the first IKE, ESP, ICMP or TCP packet exchanged with the
   known side names the other.

With no side known after that the capture cannot be read (:class:`CaptureError`, naming
``--client``/``--server``).  A packet between two addresses of one side is an error; a packet
with an address of neither side is ignored and counted (``ESP with other hosts``).

>>> from ndcheck.traces.capture import Observed
>>> obs = (Observed(1, 0.0, "10.1.0.1", "10.1.0.2", "MM1", None, "IKE"),
...        Observed(2, 0.5, "10.0.0.1", "10.0.0.2", "SYN", "clear", "TCP", flow=(49152, 445)))
>>> sides = assign_sides(obs)
>>> sides.client, sides.server
(('10.0.0.1', '10.1.0.1'), ('10.0.0.2', '10.1.0.2'))
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..model.ir import Packet
from .capture import Capture, CaptureError, Observed, looks_like_capture, read_capture
from .wire import WireTrace, read_wire

__all__ = ["CaptureTrace", "Sides", "assign_sides", "capture_trace", "parse_addresses", "read_observed"]


@dataclass(frozen=True, slots=True)
class Sides:
    """The addresses of each side and, for each address, how it was assigned."""

    client: tuple[str, ...]
    server: tuple[str, ...]
    how: tuple[tuple[str, str, str], ...]   # (address, side, reason)

    def side(self, addr: str) -> str | None:
        if addr in self.client:
            return "client"
        if addr in self.server:
            return "server"
        return None

    def text(self) -> str:
        """``client 192.0.2.1 (sender of the first SYN, packet 2); server ...``"""
        parts = []
        for side in ("client", "server"):
            items = [f"{a} ({why})" for a, s, why in self.how if s == side]
            parts.append(f"{side} {', '.join(items)}")
        return "; ".join(parts)


def parse_addresses(text: str, option: str) -> tuple[str, ...]:
    """``ADDR[,ADDR...]`` as normalised addresses; a bad one raises :class:`CaptureError`."""
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(str(ipaddress.ip_address(part)))
        except ValueError:
            raise CaptureError(f"{option}: {part!r} is not an IP address; give ADDR[,ADDR...] "
                               "(IPv4 or IPv6)") from None
    if not out:
        raise CaptureError(f"{option}: no address given; give ADDR[,ADDR...]")
    return tuple(out)


class _Assign:
    def __init__(self, client: Iterable[str], server: Iterable[str]):
        self.sides: dict[str, str] = {}
        self.how: list[tuple[str, str, str]] = []
        for side, addrs, option in (("client", client, "--client"), ("server", server, "--server")):
            for a in addrs:
                if self.sides.get(a, side) != side:
                    raise CaptureError(f"address {a} is given as both client (--client) and server (--server); "
                                       "a host is one side")
                if a not in self.sides:
                    self.put(a, side, option)

    def put(self, addr: str, side: str, why: str) -> None:
        self.sides[addr] = side
        self.how.append((addr, side, why))

    def has(self, side: str) -> bool:
        return side in self.sides.values()

    def join(self, o: Observed, why: str) -> None:
        """``o``'s sender and receiver join opposite sides (sender: the client if neither is known)."""
        s, d = self.sides.get(o.src), self.sides.get(o.dst)
        if s is None and d is None:
            self.put(o.src, "client", f"sender of {why}")
            self.put(o.dst, "server", f"receiver of {why}")
        elif s is None:
            self.put(o.src, _other(d), f"sender of {why}")
        elif d is None:
            self.put(o.dst, _other(s), f"receiver of {why}")


def _other(side: str) -> str:
    return "server" if side == "client" else "client"


def _first_syn(observed: Sequence[Observed], a: _Assign) -> Observed | None:
    given = bool(a.sides)
    for o in observed:
        if o.message != "SYN" or o.flow is None:
            continue
        if a.sides.get(o.src) == "server" or a.sides.get(o.dst) == "client":
            continue
        if given and a.sides.get(o.src) != "client" and a.sides.get(o.dst) != "server":
            continue
        return o
    return None


def assign_sides(observed: Sequence[Observed], client: Iterable[str] = (), server: Iterable[str] = ()) -> Sides:
    """The client's and the server's addresses (see the module documentation)."""
    a = _Assign(client, server)
    syn = _first_syn(observed, a)
    if syn is not None:
        a.join(syn, f"the first SYN, packet {syn.number}")
    mm1 = next((o for o in observed if o.message == "MM1" and o.layer == "IKE"), None)
    if mm1 is not None and not (mm1.src in a.sides and mm1.dst in a.sides):
        a.join(mm1, f"the first MM1, packet {mm1.number}")
    for side in ("client", "server"):
        if a.has(_other(side)) and not a.has(side):
            for o in observed:
                if (a.sides.get(o.src) == _other(side)) != (a.sides.get(o.dst) == _other(side)):
                    a.join(o, f"packet {o.number} ({o.layer} with the {_other(side)})")
                    break
    if not a.has("client") or not a.has("server"):
        missing = [s for s in ("client", "server") if not a.has(s)]
        what = "the client from the server" if len(missing) == 2 else f"which address is the {missing[0]}"
        raise CaptureError(f"cannot tell {what}: the capture has no TCP SYN and no MM1 that says; give "
                           "--client ADDR[,ADDR...] and --server ADDR[,ADDR...]")
    c = tuple(sorted((x for x, s in a.sides.items() if s == "client"), key=_sort_key))
    s = tuple(sorted((x for x, s in a.sides.items() if s == "server"), key=_sort_key))
    return Sides(c, s, tuple(a.how))


def _sort_key(addr: str):
    ip = ipaddress.ip_address(addr)
    return (ip.version, ip)


@dataclass(frozen=True, slots=True)
class CaptureTrace:
    """A capture read as a wire trace: the packets between the sides, with their capture records.

    ``packets[i]`` comes from ``observed[i]``; ``ignored`` counts what was left out by kind (the
    capture's own and the packets of other hosts or connections); ``connection`` is the TCP
    connection followed, ``(client address, client port, server address, server port)``.
    """

    source: str
    capture: Capture
    sides: Sides
    packets: tuple[Packet, ...]
    observed: tuple[Observed, ...]
    ignored: tuple[tuple[str, int], ...]
    connection: tuple[str, int, str, int] | None

    def __len__(self) -> int:
        return len(self.packets)

    def wire(self) -> list[str]:
        return [p.wire() for p in self.packets]

    def ignored_text(self) -> str:
        return ", ".join(f"{n} {kind}" for kind, n in self.ignored)

    def relative(self, o: Observed) -> float | None:
        start = self.capture.start
        if o.time is None or start is None:
            return None
        return o.time - start

    def locations(self) -> list[str]:
        """``capture packet 44, +3.201568 s`` per packet (``, retransmission`` when it is one)."""
        out = []
        for o in self.observed:
            rel = self.relative(o)
            when = f", +{rel:.6f} s" if rel is not None else ""
            out.append(f"capture packet {o.number}{when}{', retransmission' if o.retransmission else ''}")
        return out


def capture_trace(capture: Capture, client: Iterable[str] = (), server: Iterable[str] = ()) -> CaptureTrace:
    """The wire trace of ``capture`` with the sides assigned (see the module documentation)."""
    if not capture.observed:
        what = f" (ignored: {capture.ignored_text()})" if capture.ignored else ""
        raise CaptureError(f"{capture.source}: no IKE, ESP, TCP or ICMP packet in {capture.frames} "
                           f"packet{'s' if capture.frames != 1 else ''}{what}")
    try:
        sides = assign_sides(capture.observed, client, server)
    except CaptureError as e:
        raise CaptureError(f"{capture.source}: {e}") from None
    ignored: Counter[str] = Counter(dict(capture.ignored))
    syn = _first_syn(capture.observed, _Assign(sides.client, sides.server))
    connection = None
    if syn is not None:
        connection = (syn.src, syn.flow[0], syn.dst, syn.flow[1])
    packets: list[Packet] = []
    kept: list[Observed] = []
    for o in capture.observed:
        s, d = sides.side(o.src), sides.side(o.dst)
        if s is None or d is None:
            ignored[f"{o.layer} with other hosts"] += 1
            continue
        if s == d:
            raise CaptureError(f"{capture.source}: packet {o.number}: {o.src} > {o.dst} goes between two {s} "
                               f"addresses ({sides.text()}); a packet goes between the client and the server: "
                               "check --client and --server")
        if o.flow is not None:
            if connection is None:
                c_port, s_port = (o.flow if s == "client" else o.flow[::-1])
                connection = (o.src if s == "client" else o.dst, c_port, o.dst if s == "client" else o.src, s_port)
            ends = {(o.src, o.flow[0]), (o.dst, o.flow[1])}
            if ends != {(connection[0], connection[1]), (connection[2], connection[3])}:
                ignored[f"TCP {min(o.flow)} (another connection)"] += 1
                continue
        packets.append(Packet(s, d, o.message, o.protection))
        kept.append(o)
    order = tuple(sorted(ignored.items(), key=lambda kv: (-kv[1], kv[0])))
    if not packets:
        what = f" (ignored: {', '.join(f'{n} {k}' for k, n in order)})" if order else ""
        raise CaptureError(f"{capture.source}: no IKE, ESP or TCP packet between the client and the server "
                           f"in {capture.frames} packet{'s' if capture.frames != 1 else ''}{what}")
    return CaptureTrace(capture.source, capture, sides, tuple(packets), tuple(kept), order, connection)


def read_observed(path: str | Path, client: Iterable[str] = (), server: Iterable[str] = ()
                  ) -> WireTrace | CaptureTrace:
    """A wire trace or a capture, told apart by the file's first bytes (pcap and pcapng magic
    numbers); ``client``/``server`` apply to captures."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            head = fh.read(4)
    except IsADirectoryError:
        raise CaptureError(f"{p}: is a directory; expected a wire trace, pcap or pcapng file") from None
    except OSError:
        return read_wire(p)          # read_wire names the problem
    if looks_like_capture(head):
        return capture_trace(read_capture(p), client, server)
    return read_wire(p)
