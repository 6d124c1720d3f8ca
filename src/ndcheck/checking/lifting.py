"""Bounds from the capture: the scenario's exploration bounds raised to what an observed trace needs.

A catalog scenario bounds what exists only to keep an exhaustive exploration finite: the
retransmission budgets (``ike.retransmissions``, ``tcp.syn_retries``, ``tcp.synack_retries``,
``tcp.data_retries``), the number of data segments each end sends (``tcp.data_segments``,
``tcp.server_segments``) and the channel capacity (``network.capacity``).  A capture is not
bound by them: a real stack may retransmit more, a real connection carries thousands of
segments.  Conformance without ``--strict`` (:func:`lift`) counts what the trace needs and
raises each bound the trace exceeds to the count plus :data:`MARGIN`; it never lowers one.

* IKE: the most copies one host sends of one IKE message (``MM1``, ..., ``QM3``) less one is a
  retransmission count for ``ike.retransmissions`` (a re-keying scenario counts its second
  negotiation's messages too: the budget only grows).
* TCP: the client's ``SYN`` copies less one (``tcp.syn_retries``), the server's ``SYN-ACK``
  copies less one (``tcp.synack_retries``); a capture marks data and FIN retransmissions (same
  sequence number and payload), and the longest run of them from one host is a count for
  ``tcp.data_retries`` (under ESP a retransmission cannot be told apart: the scenario's
  budget stays for those).
* Capacity: one more than the largest retransmission count (the copies one packet may have in
  flight), plus the margin.
* Data segments: each host's ``DATA`` (clear, not a retransmission, or a wire trace's ``DATA
  esp``) is a lower bound ``lo``.  Under ESP the kind is hidden: the client's protected packets
  may all be data, so its count lies in ``lo .. lo + protected``; the server answers the client
  (each client segment draws an acknowledgement), so only its protected packets beyond the
  client's count are taken as evidence of more server data.  A count above the scenario's is
  not built with one message id per segment (:mod:`.segments`): the stream gets a sliding
  window of ``window + 3`` ids, and the counts between the scenario's and the window's are
  built as they are (:class:`Plan.variants`).

With ``--strict`` nothing is raised; :func:`exceeded` names the bound a rejected packet goes
beyond (the rejection's reason).

>>> from ndcheck import CATALOG
>>> w = ["client>server MM1", "client>server SYN clear"] + ["client>server MM1"] * 3
>>> p = plan(CATALOG["fig8-silent-peer"], w)
>>> p.changes
(('ike.retransmissions', 2, 4, 'the capture retransmits one IKE message 3 times'), ('network.capacity', 3, 5, 'up to 4 copies of one packet in flight'))
>>> exceeded(CATALOG["fig8-silent-peer"], w, 4)
'packet 5 goes beyond ike.retransmissions = 2: it is the 3rd retransmission of client>server MM1'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..model.scenario import Scenario
from .segments import window_segments

__all__ = ["MARGIN", "Plan", "exceeded", "needs", "plan"]

#: How far above the capture's count a raised bound goes.
MARGIN = 1
_IKE = ("MM1", "MM2", "MM3", "MM4", "MM5", "MM6", "QM1", "QM2", "QM3", "CONNECTED")


def _parts(p: str) -> tuple[str, str, str]:
    head, _, rest = p.partition(" ")
    msg, _, prot = rest.partition(" ")
    return head.partition(">")[0], msg, prot


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


@dataclass(frozen=True, slots=True)
class Needs:
    """What a trace needs: retransmission counts, data segment bounds per host."""

    ike_retx: int
    syn_retx: int
    synack_retx: int
    data_retx: int
    data_lo: dict
    data_hi: dict

    @property
    def copies(self) -> int:
        return 1 + max(self.ike_retx, self.syn_retx, self.synack_retx, self.data_retx)


def needs(packets: Sequence[str], retransmissions: Sequence[bool] | None = None) -> Needs:
    """Count what ``packets`` (wire strings) need; ``retransmissions`` marks captured ones."""
    flags = list(retransmissions) if retransmissions is not None else [False] * len(packets)
    ike: Counter = Counter()
    syn: Counter = Counter()
    lo: Counter = Counter()
    star: Counter = Counter()
    run: Counter = Counter()
    data_retx = 0
    for p, retx in zip(packets, flags):
        sender, msg, prot = _parts(p)
        if msg in _IKE:
            ike[(sender, msg)] += 1
        elif msg in ("SYN", "SYN-ACK"):
            syn[(sender, msg)] += 1
        elif msg in ("DATA", "FIN"):
            if retx:
                run[sender] += 1
                data_retx = max(data_retx, run[sender])
            else:
                run[sender] = 0
                lo[sender] += msg == "DATA"
        elif msg == "*" and prot == "esp":
            star[sender] += 1
    hi = {"client": lo["client"] + star["client"],
          "server": lo["server"] + max(0, star["server"] - star["client"])}
    return Needs(max((n - 1 for n in ike.values()), default=0), syn[("client", "SYN")] - 1 if syn[("client", "SYN")] else 0,
                 syn[("server", "SYN-ACK")] - 1 if syn[("server", "SYN-ACK")] else 0, data_retx,
                 {"client": lo["client"], "server": lo["server"]}, hi)


@dataclass(frozen=True, slots=True)
class Plan:
    """The lifted scenario: ``base`` with the raised budgets and capacity; ``changes`` as
    (knob, old, new, why); ``variants`` the (client segments, server segments, sliding senders)
    to build, the first one the scenario's own counts when they suffice."""

    base: Scenario
    changes: tuple[tuple[str, int, int, str], ...]
    variants: tuple[tuple[int, int, tuple[str, ...]], ...]

    def scenario(self, variant: tuple[int, int, tuple[str, ...]]) -> Scenario:
        n, m, _ = variant
        return replace(self.base, tcp=replace(self.base.tcp, data_segments=n, server_segments=m))

    def lines(self, knobs: Sequence[str] | None = None) -> list[str]:
        """One line per raised bound (``ike.retransmissions 2 -> 4: ...``), only ``knobs`` if given."""
        return [f"{k} {old} -> {new}: {why}" for k, old, new, why in self.changes if knobs is None or k in knobs]

    def used(self, sc: Scenario, variant: tuple[int, int, tuple[str, ...]], states) -> list[str]:
        """The raised knobs a path needs: its variant's segment counts, or a counter of its
        ``states`` (``(system, state)`` pairs) beyond ``sc``'s bound."""
        out = []
        n, m, slide = variant
        if n != sc.tcp.data_segments or "client" in slide:
            out.append("tcp.data_segments")
        if m != sc.tcp.server_segments or "server" in slide:
            out.append("tcp.server_segments")
        limits = {"ike.retransmissions": (sc.ike.retransmissions, (".ike_retx",)),
                  "tcp.syn_retries": (sc.tcp.syn_retries, (".syn_retx",)),
                  "tcp.synack_retries": (sc.tcp.synack_retries, (".synack_retx",)),
                  "tcp.data_retries": (sc.tcp.data_retries, (".data_retx",)),
                  "network.capacity": (sc.network.capacity, ("net.",))}
        raised = {k for k, *_ in self.changes}
        for knob, (old, marks) in limits.items():
            if knob not in raised:
                continue
            hit = False
            for system, state in states:
                idx = [i for f, i in system.index.items()
                       if any((f.endswith(mk) if mk.startswith(".") else f.startswith(mk)) for mk in marks)]
                if any(state[i] > old for i in idx):
                    hit = True
                    break
            if hit:
                out.append(knob)
        return out


def plan(sc: Scenario, packets: Sequence[str], retransmissions: Sequence[bool] | None = None) -> Plan:
    """The bounds ``packets`` need, raised above ``sc``'s where they exceed them."""
    nd = needs(packets, retransmissions)
    changes: list[tuple[str, int, int, str]] = []
    ike, tcp, net = sc.ike, sc.tcp, sc.network

    def raise_(knob: str, old: int, need: int, why: str) -> int:
        if need <= old:
            return old
        changes.append((knob, old, need + MARGIN, why))
        return need + MARGIN

    ike = replace(ike, retransmissions=raise_("ike.retransmissions", ike.retransmissions, nd.ike_retx,
                                              f"the capture retransmits one IKE message {nd.ike_retx} times"))
    tcp = replace(tcp, syn_retries=raise_("tcp.syn_retries", tcp.syn_retries, nd.syn_retx,
                                          f"the client sends its SYN {nd.syn_retx + 1} times"),
                  synack_retries=raise_("tcp.synack_retries", tcp.synack_retries, nd.synack_retx,
                                        f"the server sends its SYN-ACK {nd.synack_retx + 1} times"),
                  data_retries=raise_("tcp.data_retries", tcp.data_retries, nd.data_retx,
                                      f"a host retransmits one segment {nd.data_retx} times"))
    net = replace(net, capacity=raise_("network.capacity", net.capacity, nd.copies,
                                       f"up to {nd.copies + MARGIN} copies of one packet in flight")
                  if nd.copies > net.capacity else net.capacity)
    if changes and changes[-1][0] == "network.capacity":
        k, old, new, _ = changes[-1]
        changes[-1] = (k, old, new, f"up to {new - MARGIN} copies of one packet in flight")
    base = replace(sc, ike=ike, tcp=tcp, network=net)
    k = window_segments(sc)
    per: dict[str, list[tuple[int, bool]]] = {}
    for host, have in (("client", sc.tcp.data_segments), ("server", sc.tcp.server_segments)):
        lo, hi = nd.data_lo[host], nd.data_hi[host]
        if hi <= have:
            per[host] = [(have, False)]
            continue
        knob = "tcp.data_segments" if host == "client" else "tcp.server_segments"
        start = have  # a text trace does not mark retransmissions: lo may count some
        counts = [(n, False) for n in range(start, min(hi, k - 1) + 1)]
        if hi >= k:
            counts.append((k, True))
        shown = f"{lo}" if lo == hi else f"{lo} to {hi}"
        slide = f"; {k} ids sliding along the stream for {k} or more" if hi >= k else ""
        plain = f"{start}..{min(hi, k - 1)} built as they are" if start <= min(hi, k - 1) else ""
        changes.append((knob, have, min(k, hi),
                        f"the capture's {host} sends {shown} data segments ({plain}{slide.lstrip('; ') if not plain else slide})"))
        per[host] = counts
    variants = []
    for n, slide_c in per["client"]:
        for m, slide_s in per["server"]:
            variants.append((n, m, tuple(h for h, s in (("client", slide_c), ("server", slide_s)) if s)))
    return Plan(base, tuple(changes), tuple(variants))


def exceeded(sc: Scenario, packets: Sequence[str], k: int, retransmissions: Sequence[bool] | None = None) -> str:
    """Which of ``sc``'s bounds packet ``k`` (0-based) goes beyond, in one line ('' for none)."""
    if k >= len(packets):
        return ""
    sender, msg, _ = _parts(packets[k])
    before = packets[:k + 1]
    n = sum(1 for p in before if _parts(p)[:2] == (sender, msg))
    where = f"packet {k + 1} goes beyond"
    if msg in _IKE and n - 1 > sc.ike.retransmissions:
        return (f"{where} ike.retransmissions = {sc.ike.retransmissions}: it is the {_ordinal(n - 1)} "
                f"retransmission of {sender}>{packets[k].split('>', 1)[1]}")
    if msg == "SYN" and sender == "client" and n - 1 > sc.tcp.syn_retries:
        return f"{where} tcp.syn_retries = {sc.tcp.syn_retries}: it is the {_ordinal(n - 1)} SYN retransmission"
    if msg == "SYN-ACK" and sender == "server" and n - 1 > sc.tcp.synack_retries:
        return (f"{where} tcp.synack_retries = {sc.tcp.synack_retries}: it is the {_ordinal(n - 1)} "
                "SYN-ACK retransmission")
    nd = needs(before, None if retransmissions is None else list(retransmissions)[:k + 1])
    if msg in ("DATA", "FIN") and nd.data_retx > sc.tcp.data_retries:
        return f"{where} tcp.data_retries = {sc.tcp.data_retries}: {nd.data_retx} retransmissions of one segment"
    if msg in ("DATA", "*"):
        host_n = sc.tcp.data_segments if sender == "client" else sc.tcp.server_segments
        knob = "tcp.data_segments" if sender == "client" else "tcp.server_segments"
        if nd.data_lo[sender] > host_n:
            return f"{where} {knob} = {host_n}: it is the {sender}'s data segment {nd.data_lo[sender]}"
        if msg == "*" and nd.data_hi[sender] > host_n:
            return (f"packet {k + 1} may go beyond {knob} = {host_n}: with its protected packets the "
                    f"{sender} may have sent up to {nd.data_hi[sender]} data segments (ESP hides which)")
    if nd.copies > sc.network.capacity:
        return f"{where} network.capacity = {sc.network.capacity}: {nd.copies} copies of one packet"
    return ""
