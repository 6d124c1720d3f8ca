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
segment of the flow").  The window finds the fields it shifts by the model's own names for them
(the channel counter of each numbered message of the alphabet, :func:`~ndcheck.model.messages.
numbered`; the receiver's held flags, :func:`~ndcheck.model.machines.tcp_segments.held_flags`),
not by parsing field names, and refuses a system whose segments it cannot follow: FIFO
channels, delayed channels (a copy's age in its own field), several flows.  A shift that would put
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

from collections.abc import Sequence
from dataclasses import dataclass

from ..model.ir import System
from ..model.machines.tcp_segments import held_flags
from ..model.messages import HOSTS, ack, data, numbered, other
from ..model.network import Key, Network

__all__ = ["SegmentWindow", "WindowError", "project", "window_segments"]

ESTABLISHED = "ESTABLISHED"


class WindowError(ValueError):
    """The window cannot follow the system's segments (FIFO or delayed channels, several flows, a
    field of the stream missing)."""


def window_segments(sc) -> int:
    """The fewest segments a sliding window of ``sc``'s TCP needs: ``window + 3``."""
    return sc.tcp.window + 3


@dataclass(frozen=True)
class _Stream:
    """The fields of one stream of a system: the sender's data, the receiver's acknowledgements."""

    seq: tuple[str, str, str]           # the sender's snd_nxt and snd_una, the receiver's rcv_nxt
    held: dict[int, str]                # the receiver's out-of-order flags by segment
    data: dict[str, dict[int, str]]     # protection -> i -> the counter of DATAi in flight
    acks: dict[str, dict[int, str]]     # protection -> k -> the counter of ACKk in flight

    @property
    def ack_lo(self) -> int:
        """The lowest acknowledgement id of the stream (old copies are merged into it)."""
        return min((k for t in self.acks.values() for k in t), default=0)


def _stream(system: System, sender: str) -> _Stream:
    """The fields of ``sender``'s stream in ``system``, by the model's names for them."""
    recv = other(sender)
    tables: dict[str, dict[str, dict[int, str]]] = {"DATA": {}, "ACK": {}}
    for src, kind in ((sender, "DATA"), (recv, "ACK")):
        for k in system.alphabet.get(src, ()):
            seg = numbered(k.msg)
            if seg is not None and seg[0] == kind:
                tables[kind].setdefault(k.prot, {})[seg[1]] = Network.counter(k)
    return _Stream((f"{sender}.snd_nxt", f"{sender}.snd_una", f"{recv}.rcv_nxt"),
                   held_flags(system.scenario, recv), tables["DATA"], tables["ACK"])


class SegmentWindow:
    """Shifts one stream of a system (the data ``sender``'s) down by one segment id."""

    def __init__(self, system: System, sender: str):
        if sender not in HOSTS:
            raise ValueError(sender)
        if not getattr(getattr(system, "scenario", None), "network", None) or not system.scenario.network.reorder:
            raise WindowError("a sliding segment window needs multiset channels (network.reorder = true)")
        if len(system.flows) > 1:
            raise WindowError(f"a sliding segment window follows one TCP connection; this system has "
                              f"{len(system.flows)}")
        idx = system.index
        for h in HOSTS:
            for k in system.alphabet.get(h, ()):
                if numbered(k.msg) is not None and Network.aged(k, 1) in idx:
                    raise WindowError("a sliding segment window needs channels without delay (each "
                                      f"copy's age has a field: {Network.aged(k, 1)})")
        self.system = system
        self.sender = sender
        recv = other(sender)
        st = _stream(system, sender)
        missing = [n for n in (*st.seq, *st.held.values(),
                               *(n for t in (*st.data.values(), *st.acks.values()) for n in t.values()))
                   if n not in idx]
        if missing:
            raise WindowError(f"the system has no field {missing[0]} of the {sender}'s stream")
        self.n = system.field(st.seq[0]).hi
        self.ctl = (idx[f"{sender}.tcp"], idx[f"{recv}.tcp"])
        self.est = tuple(system.fields[i].labels.index(ESTABLISHED) for i in self.ctl)
        self.nxt, self.una, self.rcv = (idx[n] for n in st.seq)
        self.ooo = {j: idx[n] for j, n in st.held.items()}
        self.cap = system.scenario.network.capacity
        # the server answers a request once it has all of it (tcp.server_sends = "after-request",
        # ``may_answer``): once it has answered, the client's stream has ended
        self.answered = (idx["server.snd_nxt"] if sender == "client"
                         and system.scenario.tcp.server_sends == "after-request" else None)
        # per protection: {index: field index}
        self.data = {p: {i: idx[n] for i, n in t.items()} for p, t in st.data.items()}
        self.acks = {p: {k: idx[n] for k, n in t.items()} for p, t in st.acks.items()}
        self.ack_lo = st.ack_lo

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
        seg = numbered(key.msg)
        if seg is None:
            return key
        kind, k = seg
        if (kind == "DATA") != (key.src == self.sender):
            return key
        if kind == "DATA":
            return Key(key.src, data(max(1, k - 1)), key.prot)
        return Key(key.src, ack(max(self.ack_lo, k - 1)), key.prot)


def project(abstract: System, concrete: System, state: Sequence[int], offsets: dict[str, int]) -> tuple[int, ...]:
    """A state of ``concrete`` (a system with more segments) read in ``abstract`` with each
    sender's stream shifted down by ``offsets[sender]``: the inverse of a run of shifts, used to
    replay a shifted path in the concrete system (:func:`ndcheck.checking.conform.conform`)."""
    get = concrete.index
    # each abstract field: the concrete fields it sums, less an offset
    plan: dict[str, tuple[list[int], int]] = {}
    for s, o in offsets.items():
        a, c = _stream(abstract, s), _stream(concrete, s)
        for name in a.seq:
            plan[name] = ([get[name]], o)
        for j, name in a.held.items():
            plan[name] = ([get[c.held[j + o]]] if j + o in c.held else [], 0)
        for table, ctable, lo in ((a.data, c.data, 1), (a.acks, c.acks, a.ack_lo)):
            for prot, ids in table.items():
                have = ctable.get(prot, {})
                for k, name in ids.items():
                    ks = range(lo, lo + o + 1) if k == lo else (k + o,)
                    plan[name] = ([get[have[i]] for i in ks if i in have], 0)
    out = []
    for f in abstract.fields:
        src, minus = plan.get(f.name, ([get[f.name]], 0))
        out.append(sum(state[i] for i in src) - minus)
    return tuple(out)
