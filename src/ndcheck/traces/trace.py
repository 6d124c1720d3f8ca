"""Traces: a path of the product graph as named steps, replayed before it is shown.

A :class:`Trace` is built from a path of command indices; :func:`replay` re-executes it by
interpreting the IR (the reference semantics, independent of the generated successor code) and
through python-statemachine instances of the four machines (each step's machine events are
sent to reused instances whose condition methods read the state vector).  Any disagreement
raises :class:`ReplayError`; no trace is shown without passing both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..model.ir import System
from ..model.machines.base import state_ids


class ReplayError(AssertionError):
    """A trace did not replay through the model or the machine instances."""


@dataclass(frozen=True, slots=True)
class Step:
    index: int                       # 1-based
    action: str                      # command name
    wire: tuple[str, ...]            # packets put on the wire, in order ("client>server SYN clear")
    changes: dict[str, str]          # changed fields -> new value label
    command: int                     # command index in system.commands


@dataclass(frozen=True, slots=True)
class Trace:
    scenario: str
    property: str | None
    kind: str                        # counterexample / witness / lasso
    steps: tuple[Step, ...]
    states: tuple[tuple[int, ...], ...]   # states[0] initial, states[i] after step i
    loop_start: int | None = None    # for eventually: index in states where the bottom SCC is entered

    @property
    def wire(self) -> list[str]:
        return [w for s in self.steps for w in s.wire]

    def to_json(self) -> list[dict]:
        return [{"step": s.index, "action": s.action,
                 "wire": "; ".join(s.wire) if s.wire else None, "changes": s.changes}
                for s in self.steps]


def trace_from_commands(system: System, commands: Sequence[int], property: str | None = None,
                        kind: str = "counterexample", loop_start: int | None = None) -> Trace:
    """Build and replay a trace from the initial state along ``commands``."""
    state = system.init
    states = [state]
    steps = []
    for i, ci in enumerate(commands, 1):
        cmd = system.commands[ci]
        nxt = system.step(cmd, state)
        if nxt is None:
            raise ReplayError(f"step {i}: {cmd.name} is not enabled in the model")
        steps.append(Step(i, cmd.name, tuple(p.wire() for p in cmd.wire), system.diff(state, nxt), ci))
        states.append(nxt)
        state = nxt
    trace = Trace(system.name, property, kind, tuple(steps), tuple(states), loop_start)
    replay_instances(system, trace)
    return trace


def machine_instances(system: System) -> dict[str, object]:
    """One python-statemachine instance per machine of the system, bound to its conditions."""
    return {key: machine_instances_for(system, key) for key in system.machines}


def machine_instances_for(system: System, key: str):
    inst = system.machines[key]()
    inst.attach(system.conds[key])
    return inst


def replay_step(system: System, instances: dict[str, object], pre: Sequence[int], command: int,
                post: Sequence[int], where: str = "", force: bool = False) -> None:
    """Check one step through the instances: each machine event is accepted and lands where the
    model says.  With ``force`` the instances are first put into the pre-state's control states
    (used to check single edges of a graph independently of any path)."""
    cmd = system.commands[command]
    ids = {key: state_ids(cls) for key, cls in system.machines.items()}
    if force:
        for key in list(instances):
            if getattr(instances[key], "is_terminated", False):
                # An instance that reached a final state refuses every event: start afresh.
                instances[key] = machine_instances_for(system, key)
            instances[key].current_state_value = ids[key][pre[system.index[key]]]
    get = system.getter(pre)
    for key, event, source in cmd.events:
        inst = instances[key]
        cur = inst.current_state_value
        if cur != source:
            raise ReplayError(f"{where}{key} instance is in {cur}, the step expects {source}")
        inst.set_vector(get)
        try:
            inst.send(event)
        except Exception as e:  # noqa: BLE001 -- TransitionNotAllowed or a failing condition: report it
            raise ReplayError(f"{where}{key}.{event} refused by the machine: {e}") from None
    for key, inst in instances.items():
        want = ids[key][post[system.index[key]]]
        if inst.current_state_value != want:
            raise ReplayError(f"{where}({cmd.name}) {key} instance is in "
                              f"{inst.current_state_value}, the model says {want}")


def replay_instances(system: System, trace: Trace) -> None:
    """Replay every step's machine events through python-statemachine instances."""
    instances = machine_instances(system)
    for step, pre, post in zip(trace.steps, trace.states, trace.states[1:]):
        replay_step(system, instances, pre, step.command, post, where=f"step {step.index}: ")


def trace_to_state(graph, sid: int, property: str | None = None, kind: str = "counterexample") -> Trace:
    """The BFS-shortest trace from the initial state to state ``sid`` of an explored graph."""
    sym = getattr(graph, "symmetry", None)   # a reduced graph: re-execute its path as a run
    commands = sym.commands_to(graph, sid) if sym else [a for a, _ in graph.path_to(sid)]
    return trace_from_commands(graph.system, commands, property, kind)
