"""Promela export of the System IR, for cross-checking state-space sizes with SPIN.

Two styles (:data:`STYLES`).  ``processes`` (the default, :mod:`.promela_processes`): one
process per machine, its control state as the process's location, so that pan evaluates only
the options of each process's current location.  ``flat``: one ``active proctype`` whose body
is ``do :: d_step { guard -> updates } ... od``.  Both have one global variable per field (``bit``/``byte``/``short``/``int`` as the domain needs), one
deterministic step per guarded command.  A ``d_step`` is executable exactly when its first
statement (the guard) is, and runs to completion as one transition without intermediate
states, so pan's state graph is the explorer's: same states, one transition per (state,
enabled command).  Two details keep the correspondence exact:

* **Simultaneous assignment.** The IR assigns every updated field from the *pre*-state.  An
  update whose right-hand side reads another updated field is first computed into a ``hidden``
  temporary (not part of the state vector); the plain updates follow, then the temporaries are
  copied in.
* **Overflow.** The explorer treats a step that pushes a ``counter`` past its ``hi`` as a bound
  overflow (no successor, search truncated).  Here the same bound is part of the guard, so such
  a step is disabled.  On models that never overflow (every built-in scenario) the state spaces
  are identical; on others SPIN explores the model with the overflowing steps removed.

Running SPIN (:func:`run_spin`): ``spin -o2 -a`` (``-o2``: keep write-only variables; by default
SPIN hides a variable that no statement reads, merging states that differ only in it, while our
properties read such fields), ``gcc -DNOREDUCE -DNOCLAIM -DSAFETY``, ``pan -E -m<depth>``.  Then
pan's ``states, stored`` equals ``Graph.n_states`` and ``transitions (= stored+matched)`` equals
``Graph.n_edges + 1``: every transition pan executes ends in a stored or a matched state, and the
initial state is stored without a transition.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

from ..model.ir import Expr, System, and_, conjuncts
from .decision_tree import never_enabled
from .promela_processes import processes_body
from .promela_render import KEYWORDS, PromelaError, Render, command_body, comment, ctype, promela_names

__all__ = ["KEYWORDS", "STYLES", "PromelaError", "PromelaModel", "SpinResult", "promela_model",
           "promela_names", "run_spin", "spin_available", "to_promela"]

#: The export styles: ``processes`` (one process per machine, its control state as the process's
#: location: :mod:`.promela_processes`) and ``flat`` (one loop over every guarded command).
STYLES = ("processes", "flat")


@dataclass(frozen=True)
class PromelaModel:
    """An exported model: its text, and for each line holding a ``d_step`` the index of the IR
    command it runs (pan names a step ``D_STEP<line>`` when it replays a trail)."""

    text: str
    steps: dict[int, int]
    style: str


class _Lines:
    """The text being written, with the line number of each ``d_step`` of a command."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.steps: dict[int, int] = {}

    def add(self, text: str, command: int | None = None) -> None:
        if command is not None:
            self.steps[len(self.lines) + 1] = command
        self.lines.append(text)


def to_promela(system: System, style: str = "processes") -> str:
    """The Promela model of ``system`` (deterministic text); ``style``: see :data:`STYLES`."""
    return promela_model(system, style).text


def promela_model(system: System, style: str = "processes", bad: tuple[Expr, ...] = (),
                  firing: tuple[tuple[tuple[int, Expr], ...], ...] = ()) -> PromelaModel:
    """The Promela model of ``system`` in ``style``, with checks when ``bad`` or ``firing`` is given.

    Checks are numbered slots: ``bad[k]`` is slot ``k``, a set of bad states (an IR expression),
    asserted by a monitor process never to hold; ``firing[j]`` is slot ``len(bad) + j``, a list
    of ``(command index, condition)``, asserted at the start of that command's ``d_step`` (on the
    pre-state) never to hold when the command fires.  Which slots are checked is read at run
    time from the environment variable ``NDCHECK_CHECK`` (``"0110"``: slots 1 and 2; unset: all),
    so that one compiled pan answers every property.  The monitor has a single step, enabled only in a
    selected bad state, and an assertion adds no step, so without a violation pan's counts are
    those of the model without checks.  With checks the simultaneous-assignment temporaries are
    state variables reset to 0 after each step (pan's breadth-first search rejects ``hidden``
    variables; the counts do not change).
    """
    if style not in STYLES:
        raise PromelaError(f"unknown Promela style {style!r}; allowed: {', '.join(STYLES)}")
    names = promela_names(system)
    checked = bool(bad or firing)
    prefix = _assertions(system, names, len(bad), firing)
    temps: list[str] = []
    out = _Lines()
    body = _Lines()
    if style == "flat":
        _flat_body(system, names, temps, body, checked, prefix)
        n_steps = len(body.steps)
    else:
        n_steps = processes_body(system, names, temps, body, checked, prefix)
    head = _head(system, style, n_steps)
    if checked:
        head[-1:-1] = [f"/* {len(bad) + len(firing)} checks (assertions NDCHECK_ON_0..): all checked unless the",
                       " * environment variable NDCHECK_CHECK selects some ('0101': checks 1 and 3). */"]
    for line in head + _declarations(system, names, temps, hidden=not checked):
        out.add(line)
    if checked:
        for line in _check_code(len(bad) + len(firing)):
            out.add(line)
    offset = len(out.lines)
    out.lines.extend(body.lines)
    out.steps.update({k + offset: v for k, v in body.steps.items()})
    if bad:
        for line in _monitor(names, bad):
            out.add(line)
    return PromelaModel("\n".join(out.lines) + "\n", out.steps, style)


def _assertions(system: System, names: dict[str, str], first: int,
                firing: tuple[tuple[tuple[int, Expr], ...], ...]) -> dict[int, str]:
    """Command index -> the assertions its ``d_step`` starts with (slots from ``first``); the
    guard's own conjuncts are left out of a condition (the guard holds inside the step)."""
    r = Render(names)
    out: dict[int, list[str]] = {}
    for j, conds in enumerate(firing):
        for i, cond in conds:
            known = set(conjuncts(system.commands[i].guard))
            rest = and_(*[c for c in conjuncts(cond) if c not in known])
            out.setdefault(i, []).append(f"assert(!(c_expr {{ NDCHECK_ON_{first + j} }} && {r.cond(rest)}))")
    return {i: "; ".join(a) for i, a in out.items()}


def _head(system: System, style: str, n_steps: int) -> list[str]:
    shape = ("one process per machine, its control state as the process's location"
             if style == "processes" else "one loop over every guarded command")
    head = [
        f"/* ndcheck export-promela: scenario {comment(system.name)}",
        f" * {len(system.fields)} fields, {n_steps} guarded commands (one d_step each); {shape}.",
        " * Generated from the System IR; do not edit.  Check the full state space with:",
        " *   spin -o2 -a FILE.pml && gcc -O2 -DNOREDUCE -DNOCLAIM -DSAFETY -o pan pan.c && ./pan -E -m1000000",
        " * -o2 keeps write-only variables in the state vector (SPIN hides them by default, which",
        " * merges states that differ only in a field no guard reads; ndcheck's properties read them).",
        " * pan's 'states, stored' then equals ndcheck's states and 'transitions' equals ndcheck's",
        " * edges + 1: pan computes transitions as stored + matched, and the stored initial state",
        " * was reached by no transition. */",
        "",
    ]
    if system.description:
        head.insert(1, f" * {comment(system.description.splitlines()[0])}")
    return head


def _declarations(system: System, names: dict[str, str], temps: list[str], hidden: bool) -> list[str]:
    decls = []
    for f in system.fields:
        lo = min(f.lo, f.init)
        decls.append(f"{ctype(lo, f.hi)} {names[f.name]} = {f.init};\t/* {comment(f.name)} {f.lo}..{f.hi}"
                     + (f": {' '.join(f.labels)}" if f.labels else "") + " */")
    if temps and hidden:
        decls.append("hidden int " + ", ".join(temps) + ";\t/* simultaneous-assignment temporaries */")
    elif temps:
        decls.append("int " + ", ".join(temps) + ";\t/* simultaneous-assignment temporaries, 0 between steps */")
    return decls


def _flat_body(system: System, names: dict[str, str], temps: list[str], out: _Lines,
               reset: bool, prefix: dict[int, str]) -> None:
    out.add("")
    out.add("active proctype system()")
    out.add("{")
    out.add("end:\tdo\t/* 'end' labels: a state without successors is a final state, not a deadlock */")
    for i, c in enumerate(system.commands):
        if never_enabled(system, c.guard):
            out.add(f"\t/* {i}: {comment(c.name)}: never enabled (contradictory guard), omitted */")
            continue
        guard, body = command_body(system, c, names, temps, reset)
        if i in prefix:
            body = f"{prefix[i]}; {body}"
        out.add(f"\t/* {i}: {comment(c.name)} */")
        out.add(f"\t:: d_step {{ {guard} -> {body} }}", i)
    out.add("\tod")
    out.add("}")


def _check_code(n: int) -> list[str]:
    """C support of the checks: ``NDCHECK_ON_k`` is 1 when slot ``k`` is selected (a macro:
    SPIN rejects a function call inside ``c_expr`` as a possible side effect)."""
    lines = ["", "c_code {"]
    lines += [f"\\#define NDCHECK_ON_{k} ndcheck_on({k})" for k in range(n)]
    lines += [
        "int ndcheck_on(int k) {",
        f"\tstatic int ready = 0; static char on[{n}];",
        "\tif (!ready) {",
        "\t\tconst char *m = getenv(\"NDCHECK_CHECK\"); int i;",
        f"\t\tfor (i = 0; i < {n}; i++) on[i] = !m || ((int) strlen(m) > i && m[i] == '1');",
        "\t\tready = 1;",
        "\t}",
        "\treturn on[k];",
        "}",
        "}",
    ]
    return lines


def _monitor(names: dict[str, str], bad: tuple[Expr, ...]) -> list[str]:
    r = Render(names)
    alts = [f"(c_expr {{ NDCHECK_ON_{k} }} && {r.cond(b)})" for k, b in enumerate(bad)]
    return ["", "/* the selected properties: no state satisfies a selected bad-state predicate */",
            "active proctype monitor()", "{",
            "end:\tatomic { (" + "\n\t\t|| ".join(alts) + ") -> assert(false) }", "}"]


# --------------------------------------------------------------------------------------------
# Running SPIN
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpinResult:
    """What pan reported for one full search."""

    states: int            # "states, stored"
    matched: int           # "states, matched"
    transitions: int       # "transitions (= stored+matched)"
    depth: int             # "depth reached"
    vector_bytes: int      # "State-vector N byte"
    memory_mb: float       # "total actual memory usage"
    states_mb: float       # "memory used for states" (0 when pan does not print it)
    errors: int
    pan_seconds: float     # pan's own "elapsed time" (search only)
    wall: dict             # wall-clock seconds per phase: spin, gcc, pan
    output: str
    cpu: dict = None       # CPU seconds (user + system) per phase, from the children's rusage
    hash_bits: int = 0     # pan -w (0: pan's default)

    @property
    def stored_bytes(self) -> int:
        """Bytes pan keeps per stored state: the (compressed) vector plus its hash-chain overhead."""
        return parse_pan(self.output)["stored_bytes"]

    @property
    def edges(self) -> int:
        """ndcheck's edge count: pan's transitions minus the initial-state step."""
        return self.transitions - 1


def spin_available() -> bool:
    return shutil.which("spin") is not None and shutil.which("gcc") is not None


_NUM = {
    "states": r"(\d+) states, stored",
    "matched": r"(\d+) states, matched",
    "transitions": r"(\d+) transitions \(= stored\+matched\)",
    "depth": r"depth reached (\d+)",
    "vector_bytes": r"State-vector (\d+) byte",
    "errors": r"errors: (\d+)",
}


def parse_pan(text: str) -> dict:
    out: dict = {}
    for k, pat in _NUM.items():
        m = re.search(pat, text)
        if not m:
            raise PromelaError(f"pan output has no {k!r} line:\n{text}")
        out[k] = int(m.group(1))
    m = re.search(r"([\d.]+)\s+total actual memory usage", text)
    out["memory_mb"] = float(m.group(1)) if m else 0.0
    m = re.search(r"([\d.]+)\s+actual memory usage for states", text)
    out["states_mb"] = float(m.group(1)) if m else 0.0
    m = re.search(r"pan: elapsed time ([\d.e+-]+) seconds", text)
    out["pan_seconds"] = float(m.group(1)) if m else 0.0
    m = re.search(r"state-vector as stored = (\d+) byte \+ (\d+) byte overhead", text)
    out["stored_bytes"] = int(m.group(1)) + int(m.group(2)) if m else 0
    return out


def run_spin(system: System | str, reduce: bool = False, workdir: str | None = None,
             depth: int = 1_000_000, hash_bits: int | None = None, extra_cflags: tuple[str, ...] = (),
             timeout: float = 600.0, optimize: str = "-O2") -> SpinResult:
    """Export (or take the Promela text), run ``spin -o2 -a``, compile pan, search everything.

    ``reduce=False`` compiles with ``-DNOREDUCE`` (no partial-order reduction: the full state
    space, comparable with ndcheck); ``reduce=True`` keeps pan's default reduction.  Always
    ``-DNOCLAIM -DSAFETY`` (no never claim, safety search) and ``-E`` (a state without
    successors is not an error: our models have final states).  ``optimize`` is gcc's level:
    ``-O2`` for speed measurements, ``-O0`` when only the counts matter (it compiles much faster:
    BENCHMARKS.md).
    """
    if not spin_available():
        raise PromelaError("spin and gcc are needed (Debian: apt-get install -y spin gcc)")
    text = system if isinstance(system, str) else to_promela(system)
    own = workdir is None
    wd = workdir or tempfile.mkdtemp(prefix="ndcheck-spin-")
    wall: dict = {}
    cpu: dict = {}
    try:
        pml = os.path.join(wd, "model.pml")
        with open(pml, "w", encoding="utf-8") as fh:
            fh.write(text)
        t, c = time.perf_counter(), _child_cpu()
        _run(["spin", "-o2", "-a", "model.pml"], wd, timeout)
        wall["spin"], cpu["spin"] = time.perf_counter() - t, _child_cpu() - c
        flags = [optimize, "-w", "-DNOCLAIM", "-DSAFETY"] + ([] if reduce else ["-DNOREDUCE"]) + list(extra_cflags)
        t, c = time.perf_counter(), _child_cpu()
        _run(["gcc", *flags, "-o", "pan", "pan.c"], wd, timeout)
        wall["gcc"], cpu["gcc"] = time.perf_counter() - t, _child_cpu() - c
        args = ["./pan", "-E", f"-m{depth}"]
        if hash_bits:
            args.append(f"-w{hash_bits}")
        t, c = time.perf_counter(), _child_cpu()
        out = _run(args, wd, timeout)
        wall["pan"], cpu["pan"] = time.perf_counter() - t, _child_cpu() - c
        if "max search depth too small" in out:
            raise PromelaError(f"pan: max search depth {depth} too small; pass a larger depth")
        p = parse_pan(out)
        return SpinResult(p["states"], p["matched"], p["transitions"], p["depth"], p["vector_bytes"],
                          p["memory_mb"], p["states_mb"], p["errors"], p["pan_seconds"], wall, out,
                          cpu, hash_bits or 0)
    finally:
        if own:
            shutil.rmtree(wd, ignore_errors=True)


def _child_cpu() -> float:
    """CPU seconds used so far by finished child processes (meaningful when run sequentially)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(cmd: list[str], cwd: str, timeout: float) -> str:
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    if r.returncode != 0:
        raise PromelaError(f"{' '.join(cmd)} failed (exit {r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return r.stdout + r.stderr
