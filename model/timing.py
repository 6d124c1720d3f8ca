"""Discrete time: integer clocks, deadlines and the ``tick`` step (``time.mode = "timed"``).

The model's timers are closed timed automata (a timeout fires when its clock *reaches* an integer
deadline), so their digitization -- clocks that count whole units and a step that advances them
all -- has the same reachable behaviours at integer times (Henzinger, Manna, Pnueli, "What good
are digital clocks?", ICALP 1992).  This module turns an untimed composition into a timed one,
for every engine at once, since clocks are plain fields and ``tick`` is a plain command:

* **Clocks.**  Each machine with a retransmission timer (a class's ``TIMER_CONDS``: each TCP end,
  each IKE initiator) and each host's A-14 grace timer has a clock field ``{host}.{role}_clk``
  (``client.tcp_clk``, ``server.ike_i_clk``, ``client.grace_clk``), capped at the largest
  deadline it is compared with.  A timer *runs* while one of its timeout transitions would be
  enabled but for the clock (its control state, its other conditions, a live variant); a clock
  that does not run is 0, so equal situations are equal states.
* **Deadlines.**  A timer condition (``syn_timer``, ``mm1_quiet`` ...) no longer waits for the
  network to settle: it is ``clock >= deadline``, where the deadline is a function of the
  retransmission counter (:func:`schedule`; the values are :class:`~ndcheck.model.scenario.TimeKnobs`,
  each with its source).  A machine's ``deadlines(ctx, time)`` gives them.
* **Restart.**  A step that changes a timer's control state or one of its ``watched`` fields
  (the retransmission counters, ``snd_una``: RFC 6298 §5.3 restarts the timer when new data is
  acknowledged, §5.6 on a retransmission) sets its clock to 0, and so does a step after which
  the timer no longer runs.
* **Urgency.**  ``tick`` advances every running clock by one unit.  It is enabled only when
  some clock runs (time passes for something; with nothing running, waiting changes nothing),
  no running timer has reached its deadline (it must fire first), nothing that either host could
  take has been on its way for the maximum delay (without ``time.delay_max_ms``, a LAN: for
  any time at all; :meth:`~ndcheck.model.network.Network.none_due`), and no urgent step
  is enabled (an application write or close, the IKE service taking an acquire: the class's
  ``URGENT_EVENTS``).  Everything else happens between ticks, in any order.

The untimed semantics (``time.mode = "untimed"``, the default) never reaches this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from .ir import C, Command, Expr, F, Field, add, and_, eq, fields_of, ite, le, lt, ne, not_, or_, substitute
from .machines.base import Binding, ModelError, state_index, transitions
from .messages import HOSTS
from .scenario import Scenario
from .timers import units

#: The name of the time step; latency queries count its edges.
TICK = "time.tick"


@dataclass(frozen=True, slots=True)
class Timer:
    """One clock: its field, the machine key it belongs to (or ``""``), the deadline per timer
    condition, the fields whose change restarts it, and when it runs."""

    clock: str
    key: str
    deadlines: Mapping[str, Expr]
    watched: tuple[str, ...]
    pending: tuple[tuple[Expr, Expr], ...]   # (a timeout would be enabled but for the clock, deadline)
    cap: int
    doc: str

    @property
    def running(self) -> Expr:
        return or_(*[p for p, _ in self.pending])


class Timing:
    """The clocks of one scenario's composition and what they change in it."""

    def __init__(self, sc: Scenario, bindings: dict[str, Binding], machines: dict[str, type],
                 modules: Mapping[str, object], variants):
        self.sc = sc
        self.tm = sc.time
        self.timers: list[Timer] = []
        for key, cls in machines.items():
            conds = getattr(cls, "TIMER_CONDS", ())
            if not conds:
                continue
            deadlines = modules[key].deadlines(bindings[key], key.split(".")[0], sc)
            missing = [c for c in conds if c not in deadlines]
            if missing:
                raise ModelError(f"{key}: no deadline for timer condition(s) {', '.join(missing)}")
            pending = self._pending(key, cls, bindings[key], deadlines, variants)
            cap = max(_max_const(d) for d in deadlines.values())
            h = key.split(".")[0]
            watched = (key, *[f"{h}.{w}" for w in cls.TIMER_WATCH])
            self.timers.append(Timer(f"{key}_clk", key, dict(deadlines), watched, tuple(pending), cap,
                                     f"{cls.__name__}'s retransmission clock (units of "
                                     f"{self.tm.unit_ms} ms)"))
        for h in HOSTS:
            key = f"{h}.ike_i"
            if getattr(sc, h).outbound == "legacy" and key in machines:
                (d,) = units(self.tm, [self.tm.legacy_fallback_ms])
                running = and_(eq(F(key), state_index(machines[key], "mm1_sent")),
                               eq(F(f"{h}.soft_sa"), 0))
                self.timers.append(Timer(f"{h}.soft_clk", "", {"soft": C(d)}, (key,),
                                         ((running, C(d)),), d,
                                         "legacy soft-SA fallback clock (SOFTSA: 3 s without an IKE reply)"))
            if getattr(sc, h).allow_clear_timeout:
                (d,) = units(self.tm, [self.tm.allow_clear_ms])
                running = and_(eq(F(f"{h}.sa_in"), 1), eq(F(f"{h}.grace_over"), 0))
                self.timers.append(Timer(f"{h}.grace_clk", "", {"grace": C(d)}, (f"{h}.sa_in",),
                                         ((running, C(d)),), d, "A-14 allow-clear grace clock (G2: 10 s)"))

    @staticmethod
    def _pending(key: str, cls, b: Binding, deadlines: Mapping[str, Expr], variants) -> list[tuple[Expr, Expr]]:
        """Per timeout transition of ``key``: (it would be enabled but for its clock, its deadline)."""
        out = []
        for st, t, ev in transitions(cls):
            names = [str(c) for c in t.cond]
            mine = [n for n in names if n in deadlines]
            if not mine:
                continue
            parts = [eq(F(key), state_index(cls, st.id))]
            for n in names:
                neg, bare = n.startswith("!"), n.lstrip("!")
                if bare in deadlines:
                    continue
                parts.append(not_(b.conds[bare]) if neg else b.conds[bare])
            vs = variants(key, ev, st.id)
            parts.append(or_(*[v.guard for v in vs]) if vs else C(0))
            out.append((and_(*parts), deadlines[mine[0]]))
        return out

    # -- what the composition uses ------------------------------------------------------------
    def timed_conds(self) -> dict[str, dict[str, Expr]]:
        """Machine key -> timer condition -> ``clock >= deadline``: replaces the untimed
        conditions in the bindings (python-statemachine replays read the same expressions)."""
        out: dict[str, dict[str, Expr]] = {}
        for t in self.timers:
            if t.key:
                out[t.key] = {c: _reached(t.clock, d) for c, d in t.deadlines.items()}
        return out

    def expired(self, clock: str) -> Expr:
        """A clock that is not a machine's (``client.grace_clk``, ``client.soft_clk``) has
        reached its deadline."""
        t = next(t for t in self.timers if t.clock == clock)
        (d,) = t.deadlines.values()
        return _reached(t.clock, d)

    def fields(self) -> list[Field]:
        return [Field(t.clock, 0, t.cap, 0, "counter", doc=t.doc) for t in self.timers]

    def restart(self, c: Command) -> Command:
        """``c`` with its clocks restarted where it changes a watched field, and zeroed where the
        timer stops running after it."""
        ups = dict(c.updates)
        extra = {}
        for t in self.timers:
            deps = set(t.watched) | fields_of(t.running)
            if not deps & ups.keys():
                continue
            changed = or_(*[ne(ups[w], F(w)) for w in t.watched if w in ups])
            after = substitute(t.running, ups)
            extra[t.clock] = ite(or_(changed, not_(after)), 0, F(t.clock))
        if not extra:
            return c
        return replace(c, updates=tuple(sorted({**ups, **extra}.items())))

    def tick(self, quiet: Expr, aging: Mapping[str, Expr], young: Expr) -> Command:
        """Time passes one unit: every running clock advances and every packet in flight ages
        (``aging``, the network's updates; ``young``: some copy can still age).  ``quiet``:
        nothing due must be taken first and no urgent step is enabled."""
        parts = [quiet]
        ups: dict[str, Expr] = dict(aging)
        anything = [young]
        for t in self.timers:
            parts.extend(or_(not_(p), lt(F(t.clock), d)) for p, d in t.pending)
            ups[t.clock] = ite(t.running, add(F(t.clock), 1), 0)
            anything.append(t.running)
        g = and_(*parts, or_(*anything))
        return Command(TICK, g, tuple(sorted(ups.items())), kind="tick", tags=("time",))


def _reached(clock: str, deadline: Expr) -> Expr:
    """``clock >= deadline``."""
    return le(deadline, F(clock))


def _max_const(e: Expr) -> int:
    if e.op == "const":
        return int(e.args[0])
    vals = [_max_const(a) for a in e.args if isinstance(a, Expr)]
    return max(vals) if vals else 0


__all__ = ["TICK", "Timer", "Timing"]
