"""Wire traces: the packet sequence a capture shows, parsed from the DESIGN.md text format.

One packet per line, in send order; ``#`` starts a comment; blank lines are ignored::

    # figure 19: the server drops the clear SYN
    client>server MM1
    client>server SYN clear
    server>client MM2

A line is ``SENDER>RECEIVER MESSAGE [PROTECTION]``.  Hosts are ``client`` and ``server``.  IKE
messages (``MM1``..``MM6``, ``QM1``..``QM3``, ``CONNECTED``, ``NOTIFY``, ``ICMP``; digest §3.1
numbering) carry no protection; TCP segments (``SYN``, ``SYN-ACK``, ``ACK``, ``DATA``, ``FIN``,
``RST``) must say ``clear`` or ``esp``.  Any problem raises :class:`WireError` with one line
naming the file and line, what is wrong and what is allowed.  A file without packets is an
error: an empty capture says nothing about the model.

>>> trace = parse_wire("client>server SYN clear  # first packet\\nclient>server MM1\\n")
>>> [p.wire() for p in trace.packets]
['client>server SYN clear', 'client>server MM1']
>>> trace.lines
(1, 2)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..model.ir import Packet
from ..model.messages import HOSTS, IKE_MESSAGES, PROTECTIONS, TCP_WIRE

__all__ = ["CAPTURE_IKE", "INFO_MATCHES", "WILDCARD", "WireError", "WireTrace", "format_wire",
           "matches", "parse_packet", "parse_wire", "read_wire"]


class WireError(ValueError):
    """A malformed wire trace; the message is one line: where, what is wrong, what is allowed."""


@dataclass(frozen=True, slots=True)
class WireTrace:
    """Parsed packets with the line each came from (for messages that point back into the file)."""

    source: str
    packets: tuple[Packet, ...]
    lines: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.packets)

    def wire(self) -> list[str]:
        return [p.wire() for p in self.packets]


#: IKE messages a capture can show beyond the model's alphabet: ``DELETE`` (an Informational
#: exchange with a Delete payload) and ``INFO`` (an encrypted one: a NOTIFY or a DELETE).
CAPTURE_IKE = tuple(m for m in ("DELETE", "INFO") if m not in IKE_MESSAGES)
#: What ``INFO`` stands for.
INFO_MATCHES = ("NOTIFY", "DELETE")
#: A TCP segment of unknown kind (``client>server * esp``: what a capture shows of ESP).
WILDCARD = "*"
_IKE_WORDS = IKE_MESSAGES + CAPTURE_IKE
_ALLOWED_MESSAGES = ", ".join(_IKE_WORDS + TCP_WIRE) + f", {WILDCARD} (a TCP segment of unknown kind)"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _suggest(word: str, allowed: tuple[str, ...]) -> str:
    for a in allowed:
        if a.lower() == word.lower():
            return f" (did you mean {a!r}?)"
    return ""


def parse_packet(text: str, where: str = "<packet>") -> Packet:
    """Parse one ``SENDER>RECEIVER MESSAGE [PROTECTION]`` line (comment already removed)."""
    # Tolerate spaces around '>' ("client > server SYN clear").
    parts = re.sub(r"\s*>\s*", ">", text.strip(), count=1).split()
    if not parts:
        raise WireError(f"{where}: empty packet; expected SENDER>RECEIVER MESSAGE [clear|esp]")
    head = parts[0]
    if ">" not in head:
        raise WireError(f"{where}: expected SENDER>RECEIVER MESSAGE [clear|esp] "
                        f"(e.g. 'client>server SYN clear'), got {text.strip()!r}")
    sender, _, receiver = head.partition(">")
    for role, host in (("sender", sender), ("receiver", receiver)):
        if host not in HOSTS:
            raise WireError(f"{where}: unknown {role} {host!r}{_suggest(host, HOSTS)}; "
                            f"hosts are {', '.join(HOSTS)}")
    if sender == receiver:
        raise WireError(f"{where}: {sender} sends to itself; a packet goes client>server or server>client")
    if len(parts) < 2:
        raise WireError(f"{where}: missing message after {head!r}; messages are {_ALLOWED_MESSAGES}")
    message = parts[1]
    protection = parts[2] if len(parts) > 2 else None
    if len(parts) > 3:
        raise WireError(f"{where}: unexpected text {' '.join(parts[3:])!r} after the protection; "
                        f"one packet per line: SENDER>RECEIVER MESSAGE [clear|esp]")
    if message in _IKE_WORDS:
        if protection is not None:
            raise WireError(f"{where}: IKE message {message} takes no protection (got {protection!r}); "
                            f"only TCP segments ({', '.join(TCP_WIRE)}) say clear or esp")
        return Packet(sender, receiver, message, None)
    if message in TCP_WIRE or message == WILDCARD:
        if protection is None:
            what = "'*' (a TCP segment of unknown kind)" if message == WILDCARD else f"TCP segment {message}"
            raise WireError(f"{where}: {what} needs a protection: {' or '.join(PROTECTIONS)}")
        if protection not in PROTECTIONS:
            raise WireError(f"{where}: unknown protection {protection!r}{_suggest(protection, PROTECTIONS)} "
                            f"for {message}; allowed: {', '.join(PROTECTIONS)}")
        return Packet(sender, receiver, message, protection)
    raise WireError(f"{where}: unknown message {message!r}{_suggest(message, _IKE_WORDS + TCP_WIRE)}; "
                    f"messages are {_ALLOWED_MESSAGES}")


def parse_wire(text: str, source: str = "<string>") -> WireTrace:
    """Parse a whole wire trace; ``source`` names the file in error messages."""
    if "\x00" in text:
        raise WireError(f"{source}: binary data (NUL byte); expected a text wire trace, "
                        f"one 'SENDER>RECEIVER MESSAGE [clear|esp]' per line")
    packets: list[Packet] = []
    lines: list[int] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.partition("#")[0].strip()
        if not line:
            continue
        where = f"{source}:{n}"
        bad = _CONTROL.search(line)
        if bad:
            raise WireError(f"{where}: control character {bad.group()!r} in the line; expected "
                            f"plain text 'SENDER>RECEIVER MESSAGE [clear|esp]'")
        packets.append(parse_packet(line, where))
        lines.append(n)
    if not packets:
        raise WireError(f"{source}: no packets (only blank lines or comments); a wire trace lists "
                        f"one 'SENDER>RECEIVER MESSAGE [clear|esp]' per line")
    return WireTrace(source, tuple(packets), tuple(lines))


def read_wire(path: str | Path) -> WireTrace:
    """Read and parse a wire-trace file (UTF-8 text)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except IsADirectoryError:
        raise WireError(f"{p}: is a directory; expected a wire-trace text file") from None
    except OSError as e:
        raise WireError(f"{p}: cannot read wire trace: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        kind = "binary data" if b"\x00" in data else "not UTF-8 text"
        raise WireError(f"{p}: {kind} (byte 0x{data[e.start]:02x} at offset {e.start}); expected a "
                        f"text wire trace, one 'SENDER>RECEIVER MESSAGE [clear|esp]' per line") from None
    text = text.removeprefix("\ufeff")  # a UTF-8 byte-order mark is harmless
    return parse_wire(text, str(p))


def format_wire(packets) -> str:
    """The text form of packets (``Packet`` objects or wire strings), one per line."""
    return "".join((p if isinstance(p, str) else p.wire()) + "\n" for p in packets)


def _split(packet: str) -> tuple[str, str, str]:
    head, _, rest = packet.partition(" ")
    message, _, protection = rest.partition(" ")
    return head, message, protection


def matches(observed: str, sent: str) -> bool:
    """Whether the model's packet ``sent`` is one that the ``observed`` packet may stand for.

    Both are wire strings.  A packet stands for itself; ``*`` for any TCP segment of the same
    direction and protection; ``INFO`` for a ``NOTIFY`` or a ``DELETE`` of the same direction.
    """
    if observed == sent:
        return True
    if WILDCARD not in observed and "INFO" not in observed:
        return False
    head, message, protection = _split(observed)
    s_head, s_message, s_protection = _split(sent)
    if head != s_head:
        return False
    if message == WILDCARD:
        return s_message in TCP_WIRE and s_protection == protection
    if message == "INFO":
        return s_message in INFO_MATCHES and not s_protection
    return False
