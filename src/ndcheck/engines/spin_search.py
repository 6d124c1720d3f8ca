"""SPIN as a safety engine: bad-state predicates checked by pan, trails read back as command paths.

:func:`search` exports the system (:func:`~.promela.promela_model`) with its checks — bad-state
predicates asserted by a monitor process, firing conditions asserted at the start of the
commands they select — compiles pan once, and runs it as often as needed: every run checks the
still-open checks (selected at run time, ``NDCHECK_CHECK``); a run that stops at an assertion
leaves a trail, which ``pan -r`` replays as a list of ``D_STEP<line>`` steps, mapped back to IR
command indices and re-executed in the IR; every open check that the trail violates is decided
by that path, and the next run checks the others.  A run without error decides the rest: ``holds`` after an exhaustive search,
``undetermined`` after a bitstate search (with pan's hash factor and an estimate of the
probability that a state was missed) or a search cut short (depth, timeout).

Search modes: one core, breadth-first (``-DBFS``: every trail is a shortest path to the first
bad state pan meets, as in the explicit engine); ``cores > 1``: pan's multi-core depth-first
search (``-DNCORE=N``; trails are valid, not shortest); ``bitstate``: ``-DBITSTATE`` depth-first
with a ``2^hash_bits``-bit table, for state spaces that do not fit in memory (SPIN's swarm
verification, ``spin -search -swarmN,M``, spreads such runs over machines).
"""

from __future__ import annotations

import glob
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..model.ir import Expr, System
from .promela import PromelaError, parse_pan, promela_model, spin_available


class SpinUnavailable(PromelaError):
    """spin or gcc is not installed."""


@dataclass(frozen=True)
class SlotAnswer:
    """The answer for one bad-state predicate: ``violated`` with the path (command indices from
    the initial state to a bad state, re-executed in the IR), ``holds`` or ``undetermined``."""

    verdict: str
    commands: tuple[int, ...] | None = None
    note: str = ""


@dataclass(frozen=True)
class SpinSearch:
    """What the pan runs found: one answer per predicate, and the last run's size."""

    answers: tuple[SlotAnswer, ...]
    states: int              # pan's "states, stored" of the last run
    transitions: int         # pan's "transitions" of the last run
    depth: int
    complete: bool           # the last run searched everything (no bitstate, no cut)
    runs: int                # pan runs (1 + one per violation met)
    cpu: dict = field(default_factory=dict)    # CPU seconds per phase: spin, gcc, pan
    wall: dict = field(default_factory=dict)
    note: str = ""


def bitstate_omission(states: int, hash_bits: int, k: int = 3) -> float:
    """Estimated probability that a bitstate search with ``k`` hash functions over ``2^hash_bits``
    bits took a new state for a visited one (a false hit), after ``states`` insertions."""
    return (1.0 - math.exp(-k * states / float(2 ** hash_bits))) ** k


def _child_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(cmd: list[str], cwd: str, timeout: float, env: dict | None = None) -> str:
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False,
                       env=env)
    if r.returncode != 0 and not cmd[0].endswith("pan"):
        raise PromelaError(f"{' '.join(cmd)} failed (exit {r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return r.stdout + r.stderr


def _trail_commands(system: System, steps: dict[int, int], replay: str) -> list[int]:
    """The IR commands of a ``pan -r`` replay, re-executed from the initial state."""
    out: list[int] = []
    state = system.init
    for m in re.finditer(r"^\s*\d+:\s+proc\s+\d+ \(.*?\[D_STEP(\d+)\]", replay, re.MULTILINE):
        line = int(m.group(1))
        if line not in steps:
            raise PromelaError(f"pan's trail runs a d_step at line {line} that is no command")
        ci = steps[line]
        nxt = system.step(system.commands[ci], state)
        if nxt is None:
            raise PromelaError(f"pan's trail step {len(out) + 1} ({system.commands[ci].name}) "
                               "is not enabled in the IR")
        out.append(ci)
        state = nxt
    return out


def _violations(system: System, path: list[int], bad: Sequence[Expr],
                firing: tuple[tuple[tuple[int, Expr], ...], ...], todo: list[int]) -> dict[int, tuple[int, ...]]:
    """The selected checks that the trail violates, each with its counterexample.  A failed
    assertion inside a ``d_step`` may end the trail before or after that step: both are read."""
    states = [system.init]
    for ci in path:
        states.append(system.step(system.commands[ci], states[-1]))
    out: dict[int, tuple[int, ...]] = {}
    nb = len(bad)
    for k in todo:
        if k < nb:
            if system.eval(bad[k], states[-1]):
                out[k] = tuple(path)
            continue
        conds = firing[k - nb]
        if path:
            last = path[-1]
            if any(i == last and system.eval(c, states[-2]) for i, c in conds):
                out[k] = tuple(path)
                continue
        fire = next((i for i, c in conds if system.eval(c, states[-1])), None)
        if fire is not None:
            out[k] = (*path, fire)
    return out


def search(system: System, bad: Sequence[Expr], firing: Sequence[Sequence[tuple[int, Expr]]] = (), *,
           cores: int = 1, bitstate: bool = False,
           style: str = "processes", hash_bits: int | None = None, depth: int | None = None,
           timeout: float = 3600.0, optimize: str = "-O0",
           progress: Callable[[str], None] | None = None) -> SpinSearch:
    """Check that no reachable state satisfies any of ``bad``, and that no command of ``firing[j]``
    fires from a state satisfying its condition (module doc).  The answers come in that order:
    ``bad`` then ``firing``; a ``firing`` counterexample ends with the firing command."""
    if not spin_available():
        raise SpinUnavailable("the spin engine needs spin and gcc (Debian: apt-get install -y spin gcc)")
    if cores < 1:
        raise ValueError(f"cores must be at least 1, not {cores}")
    say = progress or (lambda _msg: None)
    nb = len(bad)
    firing = tuple(tuple(f) for f in firing)
    model = promela_model(system, style, tuple(bad), firing)
    wd = tempfile.mkdtemp(prefix="ndcheck-spin-")
    cpu: dict = {"spin": 0.0, "gcc": 0.0, "pan": 0.0}
    wall: dict = {"spin": 0.0, "gcc": 0.0, "pan": 0.0}
    t_end = time.monotonic() + timeout

    def timed(phase: str, cmd: list[str], env: dict | None = None) -> str:
        t, c = time.perf_counter(), _child_cpu()
        try:
            return _run(cmd, wd, max(1.0, t_end - time.monotonic()), env)
        finally:
            wall[phase] += time.perf_counter() - t
            cpu[phase] += _child_cpu() - c

    answers: list[SlotAnswer | None] = [None] * (nb + len(firing))
    bfs = cores == 1 and not bitstate and bool(answers)   # pan's BFS rejects hidden variables
    depth = depth or (10_000_000 if bfs else 1_000_000)
    bits = hash_bits or (30 if bitstate else 24)
    runs, p, out, note, complete = 0, {}, "", "", False
    try:
        with open(os.path.join(wd, "model.pml"), "w", encoding="utf-8") as fh:
            fh.write(model.text)
        say("spin -o2 -a")
        timed("spin", ["spin", "-o2", "-a", "model.pml"])
        flags = [optimize, "-w", "-DSAFETY", "-DNOCLAIM", "-DNOREDUCE"]
        if bitstate:
            flags.append("-DBITSTATE")
        if cores > 1:
            flags.append(f"-DNCORE={cores}")
        if bfs:
            flags.append("-DBFS")
        say(f"gcc {' '.join(flags)} pan.c")
        timed("gcc", ["gcc", *flags, "-o", "pan", "pan.c"])
        args = ["./pan", "-E", f"-m{depth}", f"-w{bits}"]
        while True:
            todo = [k for k, a in enumerate(answers) if a is None]
            if not todo and runs:
                note = (f"every check was violated: pan stopped at the last violation "
                        f"({p['states']:,} states searched)")
                break
            env = {**os.environ, "NDCHECK_CHECK": "".join("1" if a is None else "0" for a in answers)}
            for f in glob.glob(os.path.join(wd, "*.trail")):
                os.remove(f)
            runs += 1
            say(f"pan run {runs}: {len(todo)} checks open")
            out = timed("pan", args, env)
            p = parse_pan(out)
            if p["errors"] == 0:
                if "max search depth too small" in out:
                    verdict = "undetermined"
                    note = f"pan: search depth {depth:,} too small"
                elif bitstate:
                    verdict = "undetermined"
                    note = _bitstate_note(out, p["states"], bits)
                else:
                    verdict, complete = "holds", True
                for k in todo:
                    answers[k] = SlotAnswer(verdict, note=note)
                break
            trails = sorted(glob.glob(os.path.join(wd, "*.trail")))
            if not trails:
                raise PromelaError(f"pan reported an error but wrote no trail:\n{out[-2000:]}")
            replay = timed("pan", ["./pan", "-r", os.path.basename(trails[0]), "-E"], env)
            path = _trail_commands(system, model.steps, replay)
            hits = _violations(system, path, bad, firing, todo)
            if not hits:
                raise PromelaError("pan's trail ends where no selected check fails")
            for k, cx in hits.items():
                answers[k] = SlotAnswer("violated", cx)
    except subprocess.TimeoutExpired:
        note = f"pan: timeout after {timeout:g} s"
        answers = [a or SlotAnswer("undetermined", note=note) for a in answers]
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return SpinSearch(tuple(a for a in answers if a is not None), p.get("states", 0),
                      p.get("transitions", 0), p.get("depth", 0), complete, runs, cpu, wall, note)


def _bitstate_note(out: str, states: int, bits: int) -> str:
    m = re.search(r"hash factor: ([\d.e+]+)", out)
    factor = m.group(1) if m else "?"
    return (f"bitstate search: {states:,} states in 2^{bits} bits, hash factor {factor} "
            f"(pan: best if > 100), estimated probability that a state was missed "
            f"{bitstate_omission(states, bits):.1e}; not exhaustive, so never 'holds'")
