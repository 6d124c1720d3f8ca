"""Promela export of the System IR, for cross-checking state-space sizes with SPIN.

The model is one ``active proctype`` whose body is ``do :: d_step { guard -> updates } ... od``:
one global variable per field (``bit``/``byte``/``short``/``int`` as the domain needs), one
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

from ..model.ir import ARITH_SYMBOLS, BOOL_OPS, CMP_SYMBOLS, Command, Expr, System, fields_of
from .decision_tree import never_enabled
from .ranges import can_grow

KEYWORDS = frozenset((
    "active", "assert", "atomic", "bit", "bool", "break", "byte", "chan", "d_step", "D_proctype",
    "do", "else", "empty", "enabled", "eval", "fi", "for", "full", "get_priority", "goto",
    "hidden", "if", "in", "init", "inline", "int", "len", "local", "ltl", "mtype", "nempty",
    "never", "nfull", "np_", "od", "of", "pc_value", "print", "printf", "printm", "priority",
    "proctype", "provided", "run", "select", "set_priority", "short", "skip", "timeout", "true",
    "false", "typedef", "unless", "unsigned", "xr", "xs", "c_code", "c_decl", "c_expr", "c_state",
    "c_track",
    # C keywords: pan.c declares every variable as a member of its state struct
    "auto", "case", "char", "const", "continue", "default", "double", "enum", "extern", "float",
    "long", "register", "return", "signed", "sizeof", "static", "struct", "switch", "union", "void",
    "volatile", "while", "now",
))

class PromelaError(ValueError):
    """The system cannot be exported (e.g. a domain SPIN cannot represent)."""


def promela_names(system: System) -> dict[str, str]:
    """Field name -> Promela identifier (``client.tcp`` -> ``client_tcp``), unique."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for f in system.fields:
        base = re.sub(r"[^A-Za-z0-9_]", "_", f.name).strip("_") or "f"
        if base[0].isdigit():
            base = "f_" + base
        if base in KEYWORDS:
            base = "f_" + base
        name, k = base, 1
        while name in used:
            k += 1
            name = f"{base}_{k}"
        used.add(name)
        out[f.name] = name
    return out


def _type(lo: int, hi: int) -> str:
    if lo >= 0 and hi <= 1:
        return "bit"
    if lo >= 0 and hi <= 255:
        return "byte"
    if lo >= -32768 and hi <= 32767:
        return "short"
    if lo >= -(2 ** 31) and hi < 2 ** 31:
        return "int"
    raise PromelaError(f"domain {lo}..{hi} does not fit a Promela int")


class _Render:
    def __init__(self, names: dict[str, str]):
        self.names = names

    def val(self, e: Expr) -> str:
        op, a = e.op, e.args
        if op == "const":
            return str(a[0])
        if op == "field":
            return self.names[a[0]]
        if op in BOOL_OPS:
            return f"({self.cond(e)} -> 1 : 0)"
        if op in ARITH_SYMBOLS:
            return f"({self.val(a[0])} {ARITH_SYMBOLS[op]} {self.val(a[1])})"
        if op == "max":
            x, y = self.val(a[0]), self.val(a[1])
            return f"({x} > {y} -> {x} : {y})"
        if op == "min":
            x, y = self.val(a[0]), self.val(a[1])
            return f"({x} < {y} -> {x} : {y})"
        if op == "ite":
            return f"({self.cond(a[0])} -> {self.val(a[1])} : {self.val(a[2])})"
        raise PromelaError(f"unknown expression operator {op!r}")

    def cond(self, e: Expr) -> str:
        op, a = e.op, e.args
        if op == "const":
            return "true" if a[0] else "false"
        if op in CMP_SYMBOLS:
            return f"({self.val(a[0])} {CMP_SYMBOLS[op]} {self.val(a[1])})"
        if op == "and":
            return "(" + " && ".join(self.cond(x) for x in a) + ")"
        if op == "or":
            return "(" + " || ".join(self.cond(x) for x in a) + ")"
        if op == "not":
            return f"!{self.cond(a[0])}"
        return f"({self.val(e)} != 0)"


def _comment(text: str) -> str:
    return text.replace("*/", "* /").replace("/*", "/ *")


def command_body(system: System, c: Command, names: dict[str, str], temps: list[str]) -> tuple[str, str]:
    """(guard, statements) of one command's ``d_step``; ``temps`` collects hidden temporaries."""
    r = _Render(names)
    guard_parts = [] if (c.guard.op == "const" and c.guard.args[0]) else [r.cond(c.guard)]
    assigned = {name for name, _ in c.updates}
    staged: list[tuple[str, str]] = []   # (temp, field)
    direct: list[str] = []
    tcount = 0
    for name, e in c.updates:
        f = system.field(name)
        if e.op == "field" and e.args[0] == name:
            continue
        if e.op != "const" and f.kind == "counter" and can_grow(e):
            # the explorer's overflow rule, as part of the guard (see module docstring)
            guard_parts.append(f"({r.val(e)} <= {f.hi})")
        rhs = r.val(e)
        if fields_of(e) & (assigned - {name}):
            t = f"_t{tcount}"
            tcount += 1
            staged.append((t, names[name]))
            direct.insert(0, f"{t} = {rhs}")  # computed first, from the pre-state
        else:
            direct.append(f"{names[name]} = {rhs}")
    stmts = [s for s in direct]
    # temporaries were computed at the front (in reverse insertion order: order is irrelevant,
    # they only read the pre-state); copy them in last
    stmts += [f"{fld} = {t}" for t, fld in staged]
    while len(temps) < tcount:
        temps.append(f"_t{len(temps)}")
    guard = " && ".join(guard_parts) if guard_parts else "true"
    return guard, "; ".join(stmts) if stmts else "skip"


def to_promela(system: System) -> str:
    """The Promela model of ``system`` (deterministic text)."""
    names = promela_names(system)
    temps: list[str] = []
    steps = []
    for i, c in enumerate(system.commands):
        if never_enabled(system, c.guard):
            steps.append(f"\t/* {i}: {_comment(c.name)}: never enabled (contradictory guard), omitted */")
            continue
        guard, body = command_body(system, c, names, temps)
        steps.append(f"\t/* {i}: {_comment(c.name)} */\n\t:: d_step {{ {guard} -> {body} }}")
    n_steps = sum(1 for x in steps if ":: d_step" in x)
    head = [
        f"/* ndcheck export-promela: scenario {_comment(system.name)}",
        f" * {len(system.fields)} fields, {n_steps} guarded commands (one d_step each).",
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
        head.insert(1, f" * {_comment(system.description.splitlines()[0])}")
    decls = []
    for f in system.fields:
        lo = min(f.lo, f.init)
        decls.append(f"{_type(lo, f.hi)} {names[f.name]} = {f.init};\t/* {_comment(f.name)} {f.lo}..{f.hi}"
                     + (f": {' '.join(f.labels)}" if f.labels else "") + " */")
    if temps:
        decls.append("hidden int " + ", ".join(temps) + ";\t/* simultaneous-assignment temporaries */")
    body = ["", "active proctype system()", "{", "\tdo"] + steps + ["\tod", "}", ""]
    return "\n".join(head + decls + body)


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
