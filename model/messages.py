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


#: Separator of a flow's number in its message ids, fields and machine keys (DESIGN.md "Flows"):
#: the first flow keeps the plain names (``SYN``, ``client.snd_nxt``, ``client.tcp``); flow ``i``
#: from 2 on appends ``#i`` (``SYN#2``, ``client.snd_nxt#2``, ``client.tcp#2``).
FLOW_SEP = "#"


def in_flow(name: str, flow: int) -> str:
    """``name`` as flow ``flow`` names it (flow 1: unchanged)."""
    return name if flow == 1 else f"{name}{FLOW_SEP}{flow}"


def flow_of(name: str) -> int:
    """The flow a message id, field or machine key belongs to (1 without a flow number)."""
    _, sep, n = name.rpartition(FLOW_SEP)
    return int(n) if sep and n.isdigit() else 1


def unflowed(name: str) -> str:
    """``name`` without its flow number (``SYN#2`` -> ``SYN``)."""
    base, sep, n = name.rpartition(FLOW_SEP)
    return base if sep and n.isdigit() else name


def flow_label(msg: str) -> str:
    """A message id for people: ``SYN-ACK#2`` -> ``SYN-ACK (flow 2)``."""
    n = flow_of(msg)
    return unflowed(msg) + (f" (flow {n})" if n > 1 else "")


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


def numbered(msg: str) -> tuple[str, int] | None:
    """The inverse of :func:`data` and :func:`ack`: ``("DATA", i)`` for ``DATAi``, ``("ACK", k)``
    for ``ACKk``; None for any other id (``ACKF``, ``SYN``, a flow's ``DATA1#2``, an IKE message).

    >>> numbered("DATA3"), numbered("ACK0"), numbered("ACKF"), numbered("DATA1#2")
    (('DATA', 3), ('ACK', 0), None, None)
    """
    m = _WIRE.match(msg)
    return None if m is None else (m.group(1), int(msg[len(m.group(1)):]))


def wire_name(msg: str) -> str:
    """Map an internal message id to its wire-trace name (the flow number is not on the wire)."""
    msg = unflowed(msg)
    if msg in ("ACKF",):
        return "ACK"
    m = _WIRE.match(msg)
    if m:
        return m.group(1)
    return msg.partition("/")[0]


def is_ike(msg: str) -> bool:
    """An IKE message id (a flow's Quick Mode messages too, ``QM2#2``: ``ike.qm_sa = "flow"``)."""
    return unflowed(msg).partition("/")[0] in IKE_MESSAGES


#: The messages of a Quick Mode: with per-flow Quick Mode SAs (A-16) each flow has its own
#: (``QM1#2``, ``CONNECTED#2``), flowed like its TCP segments.
QM_MESSAGES = ("QM1", "QM2", "QM3", "CONNECTED")


def is_qm(msg: str) -> bool:
    return unflowed(msg).partition("/")[0] in QM_MESSAGES


def short(msg: str) -> str:
    """Field-name-safe form of a message id."""
    return msg.replace("/", "_").replace("-", "_").replace(FLOW_SEP, "_f")
