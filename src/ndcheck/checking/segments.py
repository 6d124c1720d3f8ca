"""Sliding segment numbers: a long TCP stream followed in a model that names only a few segments.

The TCP model gives every data segment and every cumulative acknowledgement its own message id
(``DATA1``..``DATAn``, ``ACK0``..``ACKn``, :mod:`ndcheck.model.machines.tcp_segments`), and the
receiver's tables grow as ``n * (n + window)``: 1159 commands at ``n = 3``, 6955 at ``n = 24``
(0.2 s and 1.4 s to compile), so a system with one id per segment of a 5,000-segment capture
cannot be built.  The wire does not show the ids either (``DATA``, ``ACK``, ``*`` under ESP).

**The abstraction.**  One stream (the client's data, read by the server, and the server's
acknowledgements; or the other way round) in a system built with ``K`` segments is *shifted*
by one: every index of that stream drops by one -- the sender's ``snd_nxt`` and ``snd_una``, the
receiver's ``rcv_nxt`` and out-of-order flags ``oooJ``, the copies of ``DATAi`` and ``ACKk`` in
flight -- so the segment numbered ``K`` becomes free for one more segment.  The conformance
search offers the shift as an extra internal step wherever it applies; a path with ``d`` shifts
of a system with ``K`` segments is, index for index, a path of the system with ``K + d``
segments (the window of ``K`` ids slides along the stream), and a path without a further
shift ends the stream there.

**Why it is sound (and complete).**  Every guard and update of the TCP tables compares indices
with each other (``snd_nxt == i`` sends ``DATA(i+1)``; a receipt of ``DATAi`` at ``rcv_nxt = r``
holds, delivers or re-acknowledges by ``i - r``; an ``ACKk`` advances ``snd_una`` iff
``k > snd_una``; a retransmission timer waits for ``DATA(snd_una+1)`` and for ``ACKk`` with
``k > snd_una``), except at the two ends of the numbering:

* the top (``snd_nxt < n`` opens the window; the receiver's ``rcv_nxt == n`` lets it close or
  answer): that is the end of the stream, which the shift moves on by one -- as long as
  nothing has happened that only the end allows: both ends are still ESTABLISHED (no FIN) and,
  for the client's stream of a request/response (``tcp.server_sends = "after-request"``), the
  server has not answered yet;
* the bottom (``rcv_nxt = 0`` in SYN-RECEIVED, ``ACK0``): the shift applies only when both ends
  are ESTABLISHED and ``snd_una >= 3``, so the receiver has taken at least three segments
  (``rcv_nxt >= snd_una``), no out-of-order flag below ``rcv_nxt + 2`` is set, and the copies of
  ``DATA1``/``DATA2`` and of the two lowest acknowledgements still in flight are *old*: at or
  below ``snd_una - 1`` after the shift.  Old copies behave alike whatever their number (a
  receipt re-acknowledges ``rcv_nxt``, an old ACK changes nothing, no timer waits for them), so
  the lowest two ids of each kind are merged into the lowest one.

No other field of the system names a segment (the ND filters, IKE and the flow flags see "a TCP
segment of the flow"); :class:`SegmentWindow` checks that by the field names and refuses a
system where that is not so (FIFO channels, a field it does not know).  A shift that would put
more copies of one id in flight than the channel capacity is not offered.  The shift needs a
window of ids to slide in: ``K >= window + 3`` (the sender at ``snd_nxt = K`` with an open
window has ``snd_una >= K - window + 1 >= 4``), see :func:`window_segments`.

A shifted path is replayed in the system with ``K + d`` segments when that is small enough to
build (:func:`project` reads its states back); a longer one is reported as such, not replayed.

>>> from dataclasses import replace
>>> from ndcheck import CATALOG, build_system
>>> sc = CATALOG["fig7-both-capable"]
>>> system = build_system(replace(sc, tcp=replace(sc.tcp, data_segments=window_segments(sc))))
>>> w = SegmentWindow(system, "client")
>>> s = list(system.init)
>>> for name, v in (("client.tcp", 2), ("server.tcp", 2), ("client.snd_nxt", 5), ("client.snd_una", 3),
...                 ("server.rcv_nxt", 4), ("net.c2s.DATA5.esp", 1), ("net.s2c.ACK4.esp", 1)):
...     s[system.index[name]] = v
>>> t = w.shift(tuple(s))
>>> [(system.fields[i].name, t[i]) for i in range(len(t)) if t[i]]
[('client.tcp', 2), ('server.tcp', 2), ('client.snd_nxt', 4), ('client.snd_una', 2), ('server.rcv_nxt', 3), ('net.c2s.DATA4.esp', 1), ('net.s2c.ACK3.esp', 1)]
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..model.ir import System
from ..model.messages import HOSTS, other
from ..model.network import Key

__all__ = ["SegmentWindow", "WindowError", "project", "window_segments"]

#: Fields that name a segment, by pattern; anything else mentioning DATAi/ACKk/oooJ is unknown.
_INDEXED = re.compile(r"(DATA|ACK)\d+|\.ooo\d+$|\.(snd_nxt|snd_una|rcv_nxt)$")
_DIR = {"client": "c2s", "server": "s2c"}
ESTABLISHED = "ESTABLISHED"


class WindowError(ValueError):
    """The system has a field naming a segment that the window does not know how to shift."""


def window_segments(sc) -> int:
    """The fewest segments a sliding window of ``sc``'s TCP needs: ``window + 3``."""
    return sc.tcp.window + 3


class SegmentWindow:
    """Shifts one stream of a system (the data ``sender``'s) down by one segment id."""

    def __init__(self, system: System, sender: str):
        if sender not in HOSTS:
            raise ValueError(sender)
        if not getattr(getattr(system, "scenario", None), "network", None) or not system.scenario.network.reorder:
            raise WindowError("a sliding segment window needs multiset channels (network.reorder = true)")
        self.system = system
        self.sender = sender
        recv = other(sender)
        idx = system.index
        self.n = system.field(f"{sender}.snd_nxt").hi
        self.ctl = (idx[f"{sender}.tcp"], idx[f"{recv}.tcp"])
        self.est = tuple(system.fields[i].labels.index(ESTABLISHED) for i in self.ctl)
        self.nxt, self.una = idx[f"{sender}.snd_nxt"], idx[f"{sender}.snd_una"]
        self.rcv = idx[f"{recv}.rcv_nxt"]
        self.ooo = {int(m.group(1)): i for name, i in idx.items()
                    if (m := re.fullmatch(rf"{recv}\.ooo(\d+)", name))}
        self.cap = system.scenario.network.capacity
        # the server answers a request once it has all of it (tcp.server_sends = "after-request",
        # ``may_answer``): once it has answered, the client's stream has ended
        self.answered = (idx["server.snd_nxt"] if sender == "client"
                         and system.scenario.tcp.server_sends == "after-request" else None)
        data_dir, ack_dir = _DIR[sender], _DIR[recv]
        # per protection: {index: field index}
        self.data: dict[str, dict[int, int]] = {}
        self.acks: dict[str, dict[int, int]] = {}
        for name, i in idx.items():
            m = re.fullmatch(r"net\.(c2s|s2c)\.(DATA|ACK)(\d+)\.(clear|esp)", name)
            if not m:
                continue
            d, kind, k, prot = m.group(1), m.group(2), int(m.group(3)), m.group(4)
            if kind == "DATA" and d == data_dir:
                self.data.setdefault(prot, {})[k] = i
            elif kind == "ACK" and d == ack_dir:
                self.acks.setdefault(prot, {})[k] = i
        mine = {self.nxt, self.una, self.rcv, *self.ooo.values(),
                *(i for t in (*self.data.values(), *self.acks.values()) for i in t.values())}
        for name, i in idx.items():
            if i in mine or not _INDEXED.search(name):
                continue
            # the other stream's fields are fine; anything else naming a segment is not
            if not self._other_stream(name):
                raise WindowError(f"field {name} names a segment and is not one the window shifts")
        self.ack_lo = min((k for t in self.acks.values() for k in t), default=0)

    def _other_stream(self, name: str) -> bool:
        s, r = self.sender, other(self.sender)
        if name in (f"{r}.snd_nxt", f"{r}.snd_una", f"{s}.rcv_nxt") or re.fullmatch(rf"{s}\.ooo\d+", name):
            return True
        m = re.fullmatch(r"net\.(c2s|s2c)\.(DATA|ACK)\d+\.(clear|esp)", name)
        return bool(m) and ((m.group(2) == "DATA") == (m.group(1) == _DIR[r]))

    def shift(self, state: Sequence[int]) -> tuple[int, ...] | None:
        """The state with this stream's indices one lower, or None where the shift does not apply."""
        if state[self.ctl[0]] != self.est[0] or state[self.ctl[1]] != self.est[1]:
            return None
        una = state[self.una]
        if una < 3 or (self.answered is not None and state[self.answered]):
            return None
        s = list(state)
        s[self.nxt] -= 1
        s[self.una] -= 1
        s[self.rcv] -= 1
        js = sorted(self.ooo)
        for j in js:
            if j <= state[self.rcv] and state[self.ooo[j]]:
                return None  # not a reachable combination; refuse rather than guess
        for j in js:
            nxt = self.ooo.get(j + 1)
            s[self.ooo[j]] = state[nxt] if nxt is not None else 0
        for table, lo in ((self.data, 1), (self.acks, self.ack_lo)):
            for fields in table.values():
                ks = sorted(fields)
                for k in ks:
                    if k == lo:
                        v = state[fields[k]] + (state[fields[k + 1]] if k + 1 in fields else 0)
                        if v > self.cap:
                            return None
                    else:
                        v = state[fields[k + 1]] if k + 1 in fields else 0
                    s[fields[k]] = v
        return tuple(s)

    def shift_key(self, key: Key) -> Key:
        """A channel entry after the shift (an arrived packet waiting at a host)."""
        m = re.fullmatch(r"(DATA|ACK)(\d+)", key.msg)
        if not m:
            return key
        kind, k = m.group(1), int(m.group(2))
        if (kind == "DATA") != (key.src == self.sender):
            return key
        lo = 1 if kind == "DATA" else self.ack_lo
        return Key(key.src, f"{kind}{max(lo, k - 1)}", key.prot)



def project(abstract: System, concrete: System, state: Sequence[int], offsets: dict[str, int]) -> tuple[int, ...]:
    """A state of ``concrete`` (a system with more segments) read in ``abstract`` with each
    sender's stream shifted down by ``offsets[sender]``: the inverse of a run of shifts, used to
    replay a shifted path in the concrete system (:func:`ndcheck.checking.conform.conform`)."""
    get = concrete.index
    out = []
    stream = {}
    for s, o in offsets.items():
        r = other(s)
        stream[f"{s}.snd_nxt"] = stream[f"{s}.snd_una"] = stream[f"{r}.rcv_nxt"] = ("count", o)
        stream[("ooo", r)] = o
        stream[("DATA", _DIR[s])] = o
        stream[("ACK", _DIR[r])] = o
    ack_lo: dict[str, int] = {}
    for f in abstract.fields:
        m = re.fullmatch(r"net\.(c2s|s2c)\.ACK(\d+)\.(clear|esp)", f.name)
        if m:
            ack_lo[m.group(1)] = min(ack_lo.get(m.group(1), 1 << 30), int(m.group(2)))
    for f in abstract.fields:
        name = f.name
        if name in stream:
            out.append(state[get[name]] - stream[name][1])
            continue
        m = re.fullmatch(r"(client|server)\.ooo(\d+)", name)
        if m and ("ooo", m.group(1)) in stream:
            j = int(m.group(2)) + stream[("ooo", m.group(1))]
            out.append(state[get[f"{m.group(1)}.ooo{j}"]] if f"{m.group(1)}.ooo{j}" in get else 0)
            continue
        m = re.fullmatch(r"net\.(c2s|s2c)\.(DATA|ACK)(\d+)\.(clear|esp)", name)
        if m and (m.group(2), m.group(1)) in stream:
            d, kind, k, prot = m.group(1), m.group(2), int(m.group(3)), m.group(4)
            o = stream[(kind, d)]
            lo = 1 if kind == "DATA" else ack_lo[d]
            ks = range(lo, lo + o + 1) if k == lo else (k + o,)
            out.append(sum(state[get[n]] for n in (f"net.{d}.{kind}{i}.{prot}" for i in ks) if n in get))
            continue
        out.append(state[get[name]])
    return tuple(out)
