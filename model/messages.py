"""The message alphabet: IKE messages (§3.1 numbering of the digest) and TCP segments.

Internal message ids distinguish what the wire format does not (data segment and
acknowledgement numbers, EXCHANGE_INFO bits); :func:`wire_name` maps them to the wire-trace
vocabulary of DESIGN.md.
"""

from __future__ import annotations

import re

IKE_MESSAGES = ("MM1", "MM2", "MM3", "MM4", "MM5", "MM6", "QM1", "QM2", "QM3", "CONNECTED",
                "NOTIFY", "ICMP", "DELETE")
TCP_WIRE = ("SYN", "SYN-ACK", "ACK", "DATA", "FIN", "RST")
PROTECTIONS = ("clear", "esp")
HOSTS = ("client", "server")


def other(host: str) -> str:
    return "server" if host == "client" else "client"


def qm1(boundary: int, ge: int) -> str:
    """QM #5 with its EXCHANGE_INFO flags (ND-9): bit 0x1 ND_BOUNDARY, bit 0x2 GE."""
    if not boundary and not ge:
        return "QM1"
    return f"QM1/{'B' if boundary else ''}{'G' if ge else ''}"


def plain(msg: str) -> str:
    """A message id without its EXCHANGE_INFO flags (``QM1/BG`` -> ``QM1``)."""
    return msg.partition("/")[0]


def qm1_bits(msg: str) -> tuple[int, int]:
    flags = msg.partition("/")[2]
    return int("B" in flags), int("G" in flags)


def data(i: int) -> str:
    return f"DATA{i}"


def ack(k: int) -> str:
    """Cumulative acknowledgement of data segments 1..k (k = 0: nothing yet)."""
    return f"ACK{k}"


_WIRE = re.compile(r"^(DATA|ACK)\d+$")


def wire_name(msg: str) -> str:
    """Map an internal message id to its wire-trace name."""
    if msg in ("ACKF",):
        return "ACK"
    m = _WIRE.match(msg)
    if m:
        return m.group(1)
    return msg.partition("/")[0]


def is_ike(msg: str) -> bool:
    return msg.partition("/")[0] in IKE_MESSAGES


def short(msg: str) -> str:
    """Field-name-safe form of a message id."""
    return msg.replace("/", "_").replace("-", "_")
