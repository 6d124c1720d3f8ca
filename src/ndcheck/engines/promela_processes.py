"""Promela export with one process per machine, its control state as the process's location.

The flat export (:mod:`.promela`) offers every guarded command in one loop, so pan tests every
guard in every state.  Here each machine with a control field (:meth:`System.control_field`) is
a process, and each of its control states (or group of them, below) is a label::

    end_CLOSED:
        if
        :: d_step { guard -> updates }; goto end_SYN_SENT
        ...
        fi;

A command belongs to the machine of its first event (the machine taking the step; a delivery
belongs to its receiver), at the location of that machine's source state (the guard's
``control == value`` conjunct); commands with no machine event (losses, drops, duplicates, the
clock's tick) form one ``env`` process.  pan then evaluates only the options at each process's
current location.

**Same state space as the explorer.**  The control fields stay global variables, assigned by the
``d_step`` as before; each process's location is a *function* of its machine's control field,
so the location adds no states, and every command is still one ``d_step``: one transition (the
``goto`` after it is folded into the transition by SPIN).  Labels start with ``end``: a state
where no process can move is a final state of the model, not an invalid end state, so pan
needs no ``-E`` (nor does ``spin -search -swarm``).  A command that changes *another*
machine's control state (a TCP send that queues IKE's acquire: ``idle -> acquired``) cannot
move that process; so those two states of the other machine share one location (a union-find
over the machine's states), and its options there keep their control-state test in the guard.
A command whose source or target control state is not a constant is offered at every location
of its machine (or merges them all).  pan's ``states, stored`` and ``transitions`` are therefore
those of the flat export (tests check it on catalog scenarios).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model.ir import Command, Expr, Field, System, conjuncts
from .decision_tree import never_enabled
from .promela_render import command_body, comment


@dataclass(frozen=True)
class Location:
    """One label of a process: the control values it stands for and its options,
    ``(command index, target location index)``."""

    label: str
    values: tuple[int, ...]
    options: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Process:
    """One process: a machine (``field`` its control field) or the environment (``field`` None)."""

    name: str
    machine: str
    field: str | None
    locations: tuple[Location, ...]


def _source(c: Command, f: str) -> int | None:
    """The value the guard pins ``f`` to (``f == k`` among its conjuncts), if any."""
    for cj in conjuncts(c.guard):
        if cj.op == "eq":
            a, b = cj.args
            if b.op == "field":
                a, b = b, a
            if a.op == "field" and a.args[0] == f and b.op == "const":
                return b.args[0]
    return None


def _target(c: Command, f: str) -> Expr | None:
    """The expression assigned to ``f`` (None: ``f`` is not assigned)."""
    for name, e in c.updates:
        if name == f and not (e.op == "field" and e.args[0] == f):
            return e
    return None


class _Groups:
    """Union-find over the values of one control field."""

    def __init__(self, field: Field):
        self.parent = list(range(field.hi - field.lo + 1))
        self.lo = field.lo

    def find(self, v: int) -> int:
        i = v - self.lo
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i + self.lo

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb) - self.lo] = min(ra, rb) - self.lo

    def union_all(self) -> None:
        for v in range(self.lo + 1, self.lo + len(self.parent)):
            self.union(self.lo, v)

    def classes(self) -> dict[int, tuple[int, ...]]:
        out: dict[int, list[int]] = {}
        for v in range(self.lo, self.lo + len(self.parent)):
            out.setdefault(self.find(v), []).append(v)
        return {k: tuple(vs) for k, vs in out.items()}


def _ident(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text).strip("_") or "s"


def layout(system: System) -> list[Process]:
    """The processes of the export: machines in the system's order, then ``env``."""
    controls = {m: f for m in system.machines if (f := system.control_field(m)) is not None}
    groups = {m: _Groups(f) for m, f in controls.items()}
    by_field = {f.name: m for m, f in controls.items()}
    owner: list[str | None] = []
    live = [i for i, c in enumerate(system.commands) if not never_enabled(system, c.guard)]
    for i in live:
        c = system.commands[i]
        m = c.events[0][0] if c.events and c.events[0][0] in controls else None
        owner.append(m)
        for name, _ in c.updates:
            other = by_field.get(name)
            if other is None or other == m:
                continue
            # another machine's control state changes under this step: its process cannot move,
            # so source and target must be one location of that process
            t, s = _target(c, name), _source(c, name)
            if t is None:
                continue
            if t.op == "const" and s is not None:
                groups[other].union(s, t.args[0])
            else:
                groups[other].union_all()
        if m is not None:
            t = _target(c, controls[m].name)
            if t is not None and t.op != "const":
                groups[m].union_all()   # the target is not known statically
    procs = []
    for m, f in controls.items():
        g = groups[m]
        classes = g.classes()
        order = sorted(classes, key=lambda r: (g.find(f.init) != r, r))   # the initial location first
        index = {r: k for k, r in enumerate(order)}
        opts: list[list[tuple[int, int]]] = [[] for _ in order]
        for i, o in zip(live, owner):
            if o != m:
                continue
            c = system.commands[i]
            s, t = _source(c, f.name), _target(c, f.name)
            here = [index[g.find(s)]] if s is not None else list(range(len(order)))
            for k in here:
                dest = index[g.find(t.args[0])] if t is not None else k
                opts[k].append((i, dest))
        locs = tuple(Location("end_" + "__".join(_ident(f.label(v)) for v in classes[r]), classes[r],
                              tuple(opts[k])) for k, r in enumerate(order))
        procs.append(Process("machine_" + _ident(m), m, f.name, locs))
    env = tuple((i, 0) for i, o in zip(live, owner) if o is None)
    if env:
        procs.append(Process("env", "env", None, (Location("end_env", (), env),)))
    return procs


def processes_body(system: System, names: dict[str, str], temps: list[str], out,
                   reset: bool = False, prefix: dict[int, str] | None = None) -> int:
    """Write the processes into ``out`` (``add(text, command=None)``); the number of ``d_step``s.
    ``prefix``: statements a command's ``d_step`` starts with (assertions), by command index."""
    n = 0
    for p in layout(system):
        out.add("")
        what = f"machine {p.machine}, location = control state of {p.field}" if p.field \
            else "steps of no machine (network faults, the clock)"
        out.add(f"active proctype {p.name}()\t/* {comment(what)} */")
        out.add("{")
        for loc in p.locations:
            out.add(f"{loc.label}:")
            if not loc.options:
                out.add("\tfalse;\t/* no step leaves this location */")
                continue
            out.add("\tif")
            for i, dest in loc.options:
                c = system.commands[i]
                guard, body = command_body(system, c, names, temps, reset)
                if prefix and i in prefix:
                    body = f"{prefix[i]}; {body}"
                out.add(f"\t/* {i}: {comment(c.name)} */")
                out.add(f"\t:: d_step {{ {guard} -> {body} }}; goto {p.locations[dest].label}", i)
                n += 1
            out.add("\tfi;")
        out.add("}")
    return n
