"""The network: one channel per direction, as a multiset (reordering) or a FIFO queue.

A multiset channel keeps one bounded counter per (direction, message, protection); a FIFO
channel (``reorder = false``) keeps ``capacity`` slots holding message codes plus a length.
Both offer the same expression-level interface to the composition: ``has`` (deliverable now),
``consume``/``produce`` update maps, ``none_in_flight`` (used by timeout guards) and the fault
commands (loss per protocol, duplication within a budget).  Sending into a full channel is a
bound overflow: the explorer marks the search truncated rather than silently dropping.
The field names are made here only: :func:`channel_reader` reads a state's channel contents
back as channel entries (:class:`Key`; :meth:`Key.of` is the entry a packet occupies).

**Delay** (timed scenarios, ``time.delay_min_ms`` / ``time.delay_max_ms``): a multiset channel
keeps one counter per entry *and age* -- the units since the copies were sent, ``k`` at age 0
(the untimed name), ``k~1`` .. ``k~D`` -- so the digitized delay of every copy is exact.  A copy
may be taken once its age reaches ``delay_min`` (rounded down) and must be taken (or lost)
before it would pass ``delay_max`` (rounded up): the tick ages every copy (:meth:`Network.aging`)
and waits while a copy the receiver can take is at the maximum age (:meth:`Network.none_due`).
Taking a copy chooses its age (:meth:`Network.takes`).  Without delay (the default, and every
untimed scenario) there is one counter per entry, as before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .ir import FALSE, C, Command, Expr, F, Field, Packet, System, add, and_, eq, ite, lt, ne, or_, sub
from .messages import HOSTS, is_ike, other, short, wire_name
from .scenario import Scenario


@dataclass(frozen=True, slots=True, order=True)
class Key:
    """A channel entry: message ``msg`` with ``prot`` ('clear'/'esp'; '' for IKE) toward ``dst``."""

    src: str
    msg: str
    prot: str

    @property
    def dst(self) -> str:
        return other(self.src)

    def packet(self, rule: str = "") -> Packet:
        """The packet this entry holds, as the wire shows it, with its message id (and ``rule``)."""
        return Packet(self.src, self.dst, wire_name(self.msg), self.prot or None, internal=self.msg,
                      rule=rule)

    @classmethod
    def of(cls, p: Packet) -> Key:
        """The channel entry a packet the model made occupies (its ``internal`` message id)."""
        return cls(p.sender, p.internal or p.message, p.protection or "")

    def label(self) -> str:
        return f"{self.msg}" + (f" {self.prot}" if self.prot else "")


def direction(src: str) -> str:
    return "c2s" if src == "client" else "s2c"


class Network:
    """Channel state for a scenario over a fixed alphabet of keys per direction."""

    def __init__(self, sc: Scenario, alphabet: dict[str, list[Key]]):
        self.sc = sc
        self.cap = sc.network.capacity
        self.fifo = not sc.network.reorder
        self.alphabet = alphabet  # src host -> keys, in a fixed order
        tm = sc.time
        #: per sending host: the oldest a copy may get, the age from which it may be taken
        self.max_ages = {h: tm.units(tm.delay(h)[1]) if tm.timed else 0 for h in HOSTS}
        self.min_ages = {h: tm.delay(h)[0] // tm.unit_ms if tm.timed else 0 for h in HOSTS}
        self.max_age = max(self.max_ages.values())   # some direction has a delay
        self.fields: list[Field] = []
        if self.fifo:
            for src in HOSTS:
                d = direction(src)
                labels = ("-",) + tuple(k.label() for k in alphabet[src])
                for i in range(self.cap):
                    self.fields.append(Field(self.slot(src, i), 0, len(labels) - 1, 0, "enum", labels,
                                             doc=f"slot {i} of the {d} FIFO"))
                self.fields.append(Field(self._len(src), 0, self.cap, 0, "counter",
                                         unbounded_ok=False, doc=f"{d} queue length"))
        else:
            for src in HOSTS:
                for k in alphabet[src]:
                    for a in range(self.max_ages[src] + 1):
                        self.fields.append(Field(self.aged(k, a), 0, self.cap, 0, "counter",
                                                 unbounded_ok=True,
                                                 doc=f"copies of {k.label()} in flight {src}>{k.dst}"
                                                     + (f", sent {a} units ago" if a else "")))
        if sc.network.duplicate:
            self.fields.append(Field("net.dup_budget", 0, sc.network.duplicate,
                                     sc.network.duplicate, "counter",
                                     doc="duplications the network may still perform"))

    # -- naming ---------------------------------------------------------------------------
    @staticmethod
    def counter(k: Key) -> str:
        """The field counting the copies of ``k`` in flight (multiset channels)."""
        return f"net.{direction(k.src)}.{short(k.msg)}" + (f".{k.prot}" if k.prot else "")

    @classmethod
    def aged(cls, k: Key, age: int) -> str:
        """The field counting the copies of ``k`` sent ``age`` units ago (delay; age 0 is
        :meth:`counter`)."""
        return cls.counter(k) + (f"~{age}" if age else "")

    def _ages(self, k: Key, lo: int = 0) -> list[str]:
        return [self.aged(k, a) for a in range(lo, self.max_ages[k.src] + 1)]

    def code(self, k: Key) -> int:
        return self.alphabet[k.src].index(k) + 1

    @staticmethod
    def slot(src: str, i: int) -> str:
        """The field of slot ``i`` of the FIFO channel from ``src``: 0 empty, else a key's code."""
        return f"net.{direction(src)}[{i}]"

    def _len(self, src: str) -> str:
        return f"net.{direction(src)}.len"

    # -- expressions ------------------------------------------------------------------------
    def has(self, k: Key) -> Expr:
        """A copy of ``k`` can be taken now (FIFO: at the head; delay: old enough)."""
        if self.fifo:
            return eq(F(self.slot(k.src, 0)), self.code(k))
        return or_(*[lt(0, F(n)) for n in self._ages(k, self.min_ages[k.src])])

    def count(self, k: Key) -> Expr:
        if self.fifo:
            acc: Expr = FALSE
            for i in range(self.cap):
                acc = add(acc, ite(eq(F(self.slot(k.src, i)), self.code(k)), 1, 0))
            return acc
        acc = F(self.counter(k))
        for n in self._ages(k, 1):
            acc = add(acc, F(n))
        return acc

    def none_of(self, msgs) -> Expr:
        """No copy of any of the messages ``msgs`` (any protection, either direction) in flight."""
        return self.none_in_flight([k for src in HOSTS for k in self.alphabet[src] if k.msg in msgs])

    def none_from(self, src: str, msgs) -> Expr:
        """No copy of any of ``msgs`` (any protection) sent by ``src`` is in flight."""
        return self.none_in_flight([k for k in self.alphabet[src] if k.msg in msgs])

    def none_deliverable(self, src: str, msgs) -> Expr:
        """No copy of any of ``msgs`` sent by ``src`` can be delivered next: none in flight
        (multiset), or none at the head of the queue (FIFO: the rest waits behind it)."""
        keys = [k for k in self.alphabet[src] if k.msg in msgs]
        if not self.fifo:
            return self.none_in_flight(keys)
        return and_(*[ne(F(self.slot(src, 0)), self.code(k)) for k in keys])

    def none_in_flight(self, keys: list[Key]) -> Expr:
        if self.fifo:
            return and_(*[eq(self.count(k), 0) for k in keys])
        return and_(*[eq(F(n), 0) for k in keys for n in self._ages(k)])

    def none_due(self, src: str, msgs) -> Expr:
        """No copy of ``msgs`` sent by ``src`` has reached the maximum delay (the tick waits for
        those to be taken; without delay: none in flight at all)."""
        keys = [k for k in self.alphabet[src] if k.msg in msgs]
        if self.fifo or not self.max_age:
            return self.none_deliverable(src, msgs)
        return and_(*[eq(F(self.aged(k, self.max_ages[k.src])), 0) for k in keys])

    def aging(self) -> tuple[dict[str, Expr], Expr]:
        """The tick's channel updates (every copy one unit older; copies at the maximum age stay
        there: only a receiver that cannot take them leaves them) and whether any copy is still
        younger than the maximum (time then passes for it)."""
        ups: dict[str, Expr] = {}
        young = []
        if self.fifo or not self.max_age:
            return ups, FALSE
        for src in HOSTS:
            for k in self.alphabet[src]:
                names = self._ages(k)
                if len(names) == 1:     # this direction delivers within a unit
                    continue
                ups[names[0]] = C(0)
                for a in range(1, self.max_ages[src]):
                    ups[names[a]] = F(names[a - 1])
                ups[names[-1]] = add(F(names[-1]), F(names[-2]))
                young.extend(lt(0, F(n)) for n in names[:-1])
        return ups, or_(*young)

    def takes(self, k: Key, lo: int | None = None) -> list[tuple[Expr, dict[str, Expr]]]:
        """The ways to take one copy of ``k`` off the channel, as (guard, updates): the head for
        FIFO; with delay, one per age from ``lo`` (default: the minimum delay) up."""
        if self.fifo or not self.max_age:
            return [(self.has(k), self.consume(k))]
        lo = self.min_ages[k.src] if lo is None else lo
        return [(lt(0, F(n)), {n: sub(F(n), 1)}) for n in self._ages(k, lo)]

    def consume(self, k: Key) -> dict[str, Expr]:
        """Remove one copy of ``k`` (the head, for FIFO); guard with :meth:`has`.  With delay a
        copy has an age to choose: use :meth:`takes`."""
        if self.fifo:
            return self._remove_at(k.src, 0)
        if self.max_age:
            raise ValueError("a delayed channel is taken from by age: Network.takes")
        return {self.counter(k): sub(F(self.counter(k)), 1)}

    def _remove_at(self, src: str, j: int) -> dict[str, Expr]:
        up: dict[str, Expr] = {}
        for i in range(j, self.cap):
            up[self.slot(src, i)] = F(self.slot(src, i + 1)) if i + 1 < self.cap else FALSE
        up[self._len(src)] = sub(F(self._len(src)), 1)
        return up

    def produce(self, k: Key) -> dict[str, Expr]:
        """Add one copy of ``k``; exceeding the capacity is detected as an overflow."""
        if self.fifo:
            n = F(self._len(k.src))
            up = {self.slot(k.src, i): ite(eq(n, i), self.code(k), F(self.slot(k.src, i)))
                  for i in range(self.cap)}
            up[self._len(k.src)] = add(n, 1)
            return up
        return {self.counter(k): add(F(self.counter(k)), 1)}

    # -- faults -----------------------------------------------------------------------------
    def fault_commands(self) -> list[Command]:
        cmds: list[Command] = []
        loss = set(self.sc.network.loss)
        for src in HOSTS:
            keys = self.alphabet[src]
            lossy = [k for k in keys if ("ike" if is_ike(k.msg) else "tcp") in loss]
            if self.fifo:
                for j in range(self.cap):
                    for k in lossy:
                        cmds.append(Command(
                            f"net.lose[{src}>{k.dst} {k.label()} @{j}]",
                            eq(F(self.slot(src, j)), self.code(k)),
                            tuple(self._remove_at(src, j).items()), kind="lose",
                            tags=("fault", k.msg)))
            else:
                for k in lossy:
                    for i, (g, ups) in enumerate(self.takes(k, lo=0)):
                        age = f" ~{i}" if self.max_age else ""
                        cmds.append(Command(f"net.lose[{src}>{k.dst} {k.label()}{age}]", g,
                                            tuple(ups.items()), kind="lose", tags=("fault", k.msg)))
            if self.sc.network.duplicate:
                for k in keys:
                    up = self.produce(k)
                    up["net.dup_budget"] = sub(F("net.dup_budget"), 1)
                    cmds.append(Command(f"net.dup[{src}>{k.dst} {k.label()}]",
                                        and_(self.has(k), lt(0, F("net.dup_budget"))),
                                        tuple(up.items()), kind="dup", tags=("fault", k.msg)))
        return cmds


def channel_reader(system: System) -> Callable[[Sequence[int]], Counter[Key]]:
    """A function from a state of ``system`` to the copies in flight per channel entry.

    It reads either channel layout (multiset counters or FIFO slots holding codes) of the
    system's ``alphabet``; the field names are the ones :class:`Network` makes.
    """
    counters: list[tuple[int, Key]] = []
    slots: list[tuple[int, dict[int, Key]]] = []
    for src, keys in system.alphabet.items():
        for k in keys:
            if Network.counter(k) in system.index:
                counters.append((system.index[Network.counter(k)], k))
            a = 1
            while Network.aged(k, a) in system.index:   # a delayed channel's older copies
                counters.append((system.index[Network.aged(k, a)], k))
                a += 1
        codes = {i + 1: k for i, k in enumerate(keys)}   # Network.code
        i = 0
        while Network.slot(src, i) in system.index:
            slots.append((system.index[Network.slot(src, i)], codes))
            i += 1

    def read(state: Sequence[int]) -> Counter[Key]:
        out: Counter[Key] = Counter()
        for idx, key in counters:
            if state[idx]:
                out[key] += state[idx]
        for idx, codes in slots:
            v = state[idx]
            if v in codes:
                out[codes[v]] += 1
        return out

    return read
