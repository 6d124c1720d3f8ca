"""A bounded response as a safety property, for z3: the observer clock of a ``within`` property.

``P leads to Q within T`` (:mod:`ndcheck.properties.base`, kind ``within``) has a safety part:
no run lets more than ``T`` of model time pass between a ``P`` state and the next ``Q`` state.
The classical reduction adds an observer to the system -- a flag ``obs.on`` (some obligation is
pending: a ``P`` state has been seen and no ``Q`` state since) and a clock ``obs.clk`` counting
the ticks since the *earliest* pending obligation (a ``Q`` discharges every pending one, and the
earliest has the least time left) -- and asks for the invariant ``obs.clk <= T / unit``.  The
observer only reads the system: every command keeps its guard, index and effects, so a z3
counterexample of the observed system is a run of the original one and replays as such.  The
clock is ``unbounded_ok``: with ``--unbounded`` z3 treats it as an unbounded integer (the
timers' own clocks never exceed their deadlines, which the tick's guard enforces, so their
bounds are exact and stay).  Measured: Spacer proves H-3 on fig8-timed with the clock unbounded
in 3.2 s; BMC refutes H-3 on legacy-fallback-silent-peer at depth 4; T-3 on fig19-timed (a
bound of 70 ticks over the SYN schedule) is undetermined after 60 s: the invariant it needs
relates the observer clock to the retransmission counter and the TCP clock linearly, which the
mined lemmas (pairs of values) cannot express.

The other part of ``within`` -- a run that can no longer reach ``Q`` at all -- is not safety;
the explicit engine decides it (:func:`ndcheck.checking.latency.within`).
"""

from __future__ import annotations

from dataclasses import replace

from ..model.ir import C, F, Field, System, add, and_, evaluate, ite, le, lt, not_, or_, substitute
from ..model.timing import TICK
from ..properties.base import Property

ON, CLK = "obs.on", "obs.clk"


def observed(system: System, p: Property) -> tuple[System, Property]:
    """``system`` with the observer of ``p`` (a ``within`` property), and the safety property
    ``obs.clk <= bound`` over it (same id and trigger as ``p``)."""
    if p.kind != "within":
        raise ValueError(f"{p.id} is a {p.kind} property, not a within property")
    sc = system.scenario
    if sc is None or not sc.time.timed:
        raise ValueError(f"{p.id}: a within property needs a timed scenario (time.mode = \"timed\")")
    limit = p.bound(system) // sc.time.unit_ms          # ticks allowed
    trig, goal = p.trigger(system), p.state(system)
    init = system.init
    get = lambda n: init[system.index[n]]
    on0 = int(bool(evaluate(trig, get)) and not evaluate(goal, get))
    cmds = []
    for c in system.commands:
        ups = dict(c.updates)
        on_after = and_(not_(substitute(goal, ups)), or_(substitute(trig, ups), F(ON)))
        grown = add(F(CLK), 1) if c.name == TICK else F(CLK)
        clk_after = ite(on_after, ite(F(ON), ite(lt(F(CLK), limit + 1), grown, C(limit + 1)), C(0)), C(0))
        cmds.append(replace(c, updates=tuple(sorted({**ups, ON: on_after, CLK: clk_after}.items()))))
    fields = [*system.fields,
              Field(ON, 0, 1, on0, "bool", doc=f"{p.id} observer: an obligation is pending"),
              Field(CLK, 0, limit + 1, 0, "counter", unbounded_ok=True,
                    doc=f"{p.id} observer: ticks since the earliest pending obligation")]
    obs = System(system.name, fields, cmds, system.machines, system.description, system.limits,
                 system.conds, system.alphabet, system.scenario, system.mutant, None,
                 flows=system.flows)
    safety = replace(p, kind="always", state=lambda s: le(F(CLK), limit), bound=None,
                     note=f"the safety part of {p.id}: at most {limit} ticks of {sc.time.unit_ms} ms "
                          f"between the trigger and the goal (observer clock)")
    return obs, safety
