"""The conformance report: what ``ndcheck conform`` prints about the input, and its JSON document.

:func:`input_summary` adds, for a capture, the lines a reader needs beside the verdict: the
file's format and size, the sides and how each address was assigned, where the capture was read
from, the packets ignored by kind, and the rejected packet's capture number, absolute time and
decoded header.  :func:`conform_document` is the ``--json`` report; its keys:

``scenario``, ``file``, ``input`` (``wire``, ``pcap`` or ``pcapng``), ``at``, ``verdict``
(``accepted``, ``rejected``, ``undetermined``), ``accepted``, ``length`` (packets checked),
``prefix_len``, ``prefix``, ``rejected_packet`` (its wire text, or null), ``line`` (wire traces:
the rejected packet's line), ``packet_number`` and ``timestamp`` (captures: the rejected packet's
number in the capture and its time in seconds since the epoch; null when accepted),
``allowed_next``, ``truncated``, ``reason``, ``packets`` (one object per checked packet:
``index``, ``wire``, and ``line`` or ``packet_number``/``timestamp``/``retransmission``/``layer``/
``detail``), ``frames`` (packets in the capture file), ``ignored`` (kind -> count), ``sides``
(``client``, ``server``: addresses; ``how``: address, side, reason), ``connection`` and
``witness`` (the replayed path showing the accepted prefix, as ``ndcheck trace --format json``
writes a trace).  Keys that do not apply are null (or empty).  Present only when they say
something: ``lifted`` (the scenario bounds raised to the trace that the shown path needs),
``bound`` (with ``--strict``: the scenario bound the rejected packet goes beyond) and
``witness_note`` (why a long stream's witness was not replayed).
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..checking.conform import ConformResult
from ..traces.sides import CaptureTrace
from ..traces.wire import WireTrace
from .render import trace_document

__all__ = ["conform_document", "input_summary", "utc"]


def utc(t: float | None) -> str:
    """``2026-01-01T00:00:03.201568Z`` (``-`` when the capture has no time for the packet)."""
    if t is None:
        return "-"
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_AT = {"wire": "at the wire: packets in send order",
       "client": "at the client: its sends, and the server's packets as they reach it",
       "server": "at the server: its sends, and the client's packets as they reach it"}


def input_summary(result: ConformResult, trace: WireTrace | CaptureTrace) -> list[str]:
    """Lines about a capture (none for a wire trace, whose lines the verdict already names)."""
    if not isinstance(trace, CaptureTrace):
        return []
    cap = trace.capture
    lines = [(f"capture: {cap.source} ({cap.format}, {cap.frames} packet{'s' if cap.frames != 1 else ''}, "
             f"{len(trace)} checked)"),
             f"sides: {trace.sides.text()}",
             f"read {_AT[result.at]}"]
    if trace.connection:
        c, cp, s, sp = trace.connection
        lines.append(f"connection: {c} port {cp} > {s} port {sp}")
    lines.append(f"ignored: {trace.ignored_text() or 'nothing'}")
    if not result.accepted:
        o = trace.observed[result.prefix_len]
        lines.append(f"packet {result.prefix_len + 1} is capture packet {o.number} at {utc(o.time)}: "
                     f"{o.src} > {o.dst}, {o.detail}")
    return lines


def conform_document(result: ConformResult, trace: WireTrace | CaptureTrace, scenario: str, file: str) -> dict:
    """The JSON-ready report of one conformance check (keys in the module documentation)."""
    capture = trace if isinstance(trace, CaptureTrace) else None
    bad = None if result.accepted else result.prefix_len
    packets = []
    for i, p in enumerate(trace.packets):
        item: dict = {"index": i + 1, "wire": p.wire()}
        if capture is not None:
            o = capture.observed[i]
            item.update(packet_number=o.number, timestamp=o.time, retransmission=o.retransmission,
                        layer=o.layer, detail=o.detail)
        else:
            item["line"] = trace.lines[i]
        packets.append(item)
    doc = {
        "scenario": scenario,
        "file": file,
        "input": capture.capture.format if capture else "wire",
        "at": result.at,
        "verdict": result.verdict,
        "accepted": result.accepted,
        "length": result.length,
        "prefix_len": result.prefix_len,
        "prefix": list(result.prefix),
        "rejected_packet": result.rejected_packet,
        "line": None if (capture or bad is None) else trace.lines[bad],
        "packet_number": capture.observed[bad].number if (capture and bad is not None) else None,
        "timestamp": capture.observed[bad].time if (capture and bad is not None) else None,
        "allowed_next": list(result.allowed_next),
        "truncated": result.truncated,
        "reason": result.reason,
        "packets": packets,
        "frames": capture.capture.frames if capture else None,
        "ignored": dict(capture.ignored) if capture else {},
        "sides": None,
        "connection": None,
        "witness": trace_document(result.prefix_witness) if result.prefix_witness else None,
    }
    if result.lifted:
        doc["lifted"] = list(result.lifted)
    if result.bound:
        doc["bound"] = result.bound
    if result.witness_note:
        doc["witness_note"] = result.witness_note
    if capture is not None:
        doc["sides"] = {"client": list(capture.sides.client), "server": list(capture.sides.server),
                        "how": [{"address": a, "side": s, "reason": why} for a, s, why in capture.sides.how]}
        if capture.connection:
            c, cp, s, sp = capture.connection
            doc["connection"] = {"client": c, "client_port": cp, "server": s, "server_port": sp}
    return doc
