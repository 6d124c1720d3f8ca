"""IKEv1 messages in a capture: the ISAKMP header (RFC 2408 §3.1) read as the wire vocabulary.

The payloads of Main Mode #5/#6, Quick Mode and most Informational exchanges are encrypted, so a
message is named by what the header shows, the order of the messages and their direction
(digest §3.1 numbering, timers-failures C3):

* exchange type 2 (Identity Protection, Main Mode), per initiator cookie: the initiator is the
  sender of the first message (responder cookie zero); its first, second and third messages are
  ``MM1``, ``MM3``, ``MM5``, the responder's ``MM2``, ``MM4``, ``MM6``;
* exchange type 32 (Quick Mode), per message id: the sender of the first message is the Quick
  Mode initiator; its messages are ``QM1`` and ``QM3``, the responder's ``QM2`` and then
  ``CONNECTED`` -- the fourth Quick Mode message a Windows responder sends with the commit bit
  (HASH(4) + N(CONNECTED), same message id; timers-failures C3, C6);
* exchange type 5 (Informational): unencrypted, by its first Notification (11) or Delete (12)
  payload: ``NOTIFY`` or ``DELETE`` (a notification of type CONNECTED, 16384, is ``CONNECTED``);
  encrypted, ``CONNECTED`` when it carries the message id of a Quick Mode whose ``QM3`` was seen
  and comes from its responder (the RFC 2408 §3.1 form of the commit-bit acknowledgement, C1),
  otherwise ``INFO``: a ``NOTIFY`` or a ``DELETE`` (:func:`ndcheck.traces.wire.matches`).

A byte-identical repeat of a message in the same direction is a retransmission: it gets the same
name again and is marked.  IKE fragments (payload 132, the FRAGMENTATION vendor ID of digest §2)
count once, at fragment 1; the other fragments are ignored.  IKEv2 (version 2.0), AuthIP
(exchange types 243-246, MS-AIPS), Aggressive Mode (4) and other exchange types raise
:class:`IsakmpError`: the model knows IKEv1 Main Mode and Quick Mode only.

>>> ex = Exchanges()
>>> mm1 = header(b"I" * 8, b"\\0" * 8, 2) + b"sa"
>>> mm2 = header(b"I" * 8, b"R" * 8, 2) + b"sa"
>>> ex.classify("10.0.0.1", "10.0.0.2", mm1)[:2], ex.classify("10.0.0.1", "10.0.0.2", mm1)[:2]
(('MM1', False), ('MM1', True))
>>> ex.classify("10.0.0.2", "10.0.0.1", mm2)[:2]
('MM2', False)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["SUPPORTED", "Exchanges", "Header", "IsakmpError", "header"]

_HEADER = struct.Struct("!8s8sBBBBII")

MAIN_MODE, AGGRESSIVE, INFORMATIONAL, QUICK_MODE = 2, 4, 5, 32
NOTIFICATION, DELETE, FRAGMENT = 11, 12, 132
CONNECTED = 16384
_AUTHIP = {243: "AuthIP Main Mode", 244: "AuthIP Quick Mode", 245: "AuthIP Extended Mode", 246: "AuthIP Notify"}
_OTHER = {1: "Base", 3: "Authentication Only", 4: "Aggressive Mode", 6: "Transaction (mode config/XAUTH)",
          33: "New Group"}

#: What the decoder reads, for error messages.
SUPPORTED = "IKEv1 (ISAKMP version 1.0) Main Mode (exchange type 2), Quick Mode (32) and Informational (5)"


class IsakmpError(ValueError):
    """An ISAKMP message the model has no name for (one line: what it is, what is supported)."""


@dataclass(frozen=True, slots=True)
class Header:
    """The fixed ISAKMP header."""

    icookie: bytes
    rcookie: bytes
    next_payload: int
    major: int
    minor: int
    exchange: int
    flags: int
    msgid: int
    length: int

    @classmethod
    def parse(cls, data: bytes) -> Header:
        if len(data) < _HEADER.size:
            raise IsakmpError(f"ISAKMP message of {len(data)} bytes, shorter than its 28-byte header "
                              "(cut by the capture's snapshot length?)")
        ic, rc, nxt, version, exchange, flags, msgid, length = _HEADER.unpack_from(data)
        return cls(ic, rc, nxt, version >> 4, version & 0xF, exchange, flags, msgid, length)

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & 0x01)

    @property
    def commit(self) -> bool:
        return bool(self.flags & 0x02)


def header(icookie: bytes, rcookie: bytes, exchange: int, *, next_payload: int = 1, version: int = 0x10,
           flags: int = 0, msgid: int = 0, body: bytes = b"") -> bytes:
    """An ISAKMP header (and ``body``) as bytes: for tests and examples."""
    return _HEADER.pack(icookie, rcookie, next_payload, version, exchange, flags, msgid,
                        _HEADER.size + len(body)) + body


def _payloads(data: bytes, first: int):
    """(type, offset) of each payload of an unencrypted message, while the chain is well formed."""
    kind, off = first, _HEADER.size
    while kind and off + 4 <= len(data):
        nxt, _, length = struct.unpack_from("!BBH", data, off)
        yield kind, off
        if length < 4:
            return
        kind, off = nxt, off + length


@dataclass(slots=True)
class _Exchange:
    initiator: str
    sent: dict   # direction ("i" / "r") -> distinct messages seen
    done: bool = False   # Quick Mode: QM3 seen


class Exchanges:
    """Names IKEv1 messages as a capture shows them, one after the other (the decoder's memory).

    ``classify(src, dst, data)`` returns ``(message, retransmission, detail)``, or None for a
    fragment after the first; hosts are compared by address only (NAT-T moves IKE from port 500
    to 4500 in the middle of Main Mode).
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, bytes], str] = {}
        self._mm: dict[bytes, _Exchange] = {}
        self._qm: dict[tuple[bytes, bytes, int], _Exchange] = {}

    def classify(self, src: str, dst: str, data: bytes) -> tuple[str, bool, str] | None:
        h = Header.parse(data)
        if h.major != 1:
            raise IsakmpError(f"IKEv{h.major} (ISAKMP version {h.major}.{h.minor}) is not supported; "
                              f"ndcheck reads {SUPPORTED}")
        if h.exchange in _AUTHIP:
            raise IsakmpError(f"AuthIP ({_AUTHIP[h.exchange]}, exchange type {h.exchange}, MS-AIPS) is not "
                              f"supported; ndcheck reads {SUPPORTED}")
        if h.exchange not in (MAIN_MODE, QUICK_MODE, INFORMATIONAL):
            name = _OTHER.get(h.exchange, "unknown")
            raise IsakmpError(f"IKEv1 exchange type {h.exchange} ({name}) is not supported; ndcheck "
                              f"reads {SUPPORTED}")
        detail = (f"ISAKMP {_exchange_name(h.exchange)}, icookie {h.icookie.hex()}, rcookie "
                  f"{h.rcookie.hex()}, msgid {h.msgid:#010x}{', encrypted' if h.encrypted else ''}"
                  f"{', commit' if h.commit else ''}")
        if h.next_payload == FRAGMENT and not h.encrypted and len(data) >= _HEADER.size + 8:
            number = data[_HEADER.size + 6]
            detail += f", IKE fragment {number}"
            if number != 1:
                return None
        key = (src, dst, data)
        if key in self._seen:
            return self._seen[key], True, detail
        message = self._name(h, src, data)
        self._seen[key] = message
        return message, False, detail

    def _name(self, h: Header, src: str, data: bytes) -> str:
        if h.exchange == MAIN_MODE:
            ex = self._mm.get(h.icookie)
            if ex is None:
                if any(h.rcookie):
                    raise IsakmpError(f"Main Mode message of an exchange whose MM1 is not in the capture "
                                      f"(initiator cookie {h.icookie.hex()}); start the capture before "
                                      "the negotiation")
                ex = self._mm[h.icookie] = _Exchange(src, {"i": 0, "r": 0})
            return self._count(ex, src, ("MM1", "MM3", "MM5"), ("MM2", "MM4", "MM6"), "Main Mode")
        if h.exchange == QUICK_MODE:
            key = (h.icookie, h.rcookie, h.msgid)
            ex = self._qm.get(key)
            if ex is None:
                ex = self._qm[key] = _Exchange(src, {"i": 0, "r": 0})
            name = self._count(ex, src, ("QM1", "QM3"), ("QM2", "CONNECTED"), "Quick Mode")
            ex.done = ex.done or name == "QM3"
            return name
        # Informational
        if h.encrypted:
            ex = self._qm.get((h.icookie, h.rcookie, h.msgid))
            if ex is not None and ex.done and src != ex.initiator:
                return "CONNECTED"   # RFC 2408 §3.1: the Informational exchange with the QM's message id
            return "INFO"
        for kind, off in _payloads(data, h.next_payload):
            if kind == DELETE:
                return "DELETE"
            if kind == NOTIFICATION:
                if off + 12 <= len(data) and struct.unpack_from("!H", data, off + 10)[0] == CONNECTED:
                    return "CONNECTED"
                return "NOTIFY"
        return "INFO"

    @staticmethod
    def _count(ex: _Exchange, src: str, initiator: tuple[str, ...], responder: tuple[str, ...],
               what: str) -> str:
        side, names = ("i", initiator) if src == ex.initiator else ("r", responder)
        n = ex.sent[side]
        if n >= len(names):
            role = "initiator" if side == "i" else "responder"
            raise IsakmpError(f"message {n + 1} from the {what} {role} ({src}), which sends {len(names)} "
                              f"({', '.join(names)}); a repeat that is not byte-identical cannot be named")
        ex.sent[side] = n + 1
        return names[n]


def _exchange_name(exchange: int) -> str:
    return {MAIN_MODE: "Main Mode", QUICK_MODE: "Quick Mode", INFORMATIONAL: "Informational"}[exchange]
