"""``ndcheck check``: explore scenarios, check every applicable property, compare with [expect].

Exit status: 0 every verdict as expected; 1 a property violated unexpectedly, or an expected
violation (or witness) not found; 2 bad input; 3 some verdict undetermined (a bound stopped the
search) and nothing unexpected otherwise.

A scenario with no ``[expect]`` entries has no expectation (verdicts reported, none a mismatch)
unless ``--strict`` (a missing entry means ``holds``, as in a scenario with some entries).

Output: one table per scenario (``-q``: one line per scenario), rows coloured by outcome
against the expectation (a terminal only), then a summary line: scenarios, verdicts, total
time, states, states/s and the largest BFS depth.  The table's ``cause`` column says why an
expected ``violated`` is expected: ``spec ND-8 ND-12`` (a finding about MS-IKEE and the rules it
rests on) or ``policy`` (the configuration makes it so); the JSON report adds ``cause``,
``rules`` and ``note``.  A scenario expecting ``violated`` without a cause is checked all the
same, with one warning line on stderr (the catalog gives every cause; a test enforces it).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from ..checking.check import ENGINES, CheckResult, EngineUnavailable, check_graph
from ..checking.results import VERDICTS, Verdict
from ..checking.symbolic import z3_engine
from ..engines.explicit import explore
from ..model.compose import build_system
from . import UsageError
from .common import (
    add_bounds,
    add_native,
    add_symmetry,
    add_workers,
    counted_task,
    lookup_property,
    output_path,
    positive_int,
    print_table,
    progress_bar,
    select,
    stdout_is_terminal,
    with_bounds,
)

EPILOG = """\
examples:
  ndcheck check fig7-both-capable -q      one line: size, depth, time, verdict counts
  ndcheck check all -q                    every catalog scenario, then the summary line
  ndcheck check --file my.toml --strict   a scenario file; a missing [expect] entry means holds
"""


def register(sub) -> None:
    p = sub.add_parser("check", help="check every property of scenarios against their expected verdicts",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", metavar="NAME",
                   help="scenario names, or 'all' (default: all; see `ndcheck scenarios`)")
    p.add_argument("--file", metavar="F.toml", help="check a scenario file instead of (or besides) names")
    p.add_argument("--property", action="append", metavar="ID", dest="props",
                   help="check only this property (id or name; repeatable)")
    p.add_argument("--engine", choices=(*ENGINES, "spin"), default="explicit",
                   help="explicit (default), z3 (safety properties), both (and compare), or spin "
                        "(safety properties with SPIN's pan on the Promela export, for state "
                        "spaces beyond this engine; other properties are reported not checked)")
    p.add_argument("--cores", type=positive_int, default=1, metavar="N",
                   help="--engine spin: pan's multi-core search on N cores (default 1: "
                        "breadth-first, shortest counterexamples)")
    p.add_argument("--bitstate", action="store_true",
                   help="--engine spin: bitstate search (states as bits of a hash table, for "
                        "spaces that do not fit in memory); no violation found is 'undetermined', "
                        "with pan's coverage estimate")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="one line per scenario (states, edges, depth, seconds, verdict counts, "
                        "mismatches) and the summary line; no tables, no coverage text")
    p.add_argument("--strict", action="store_true",
                   help="a scenario without [expect] entries expects every property to hold "
                        "(default: no expectation, verdicts only reported)")
    p.add_argument("--json", metavar="OUT", type=output_path,
                   help="write the JSON report ('-' for standard output)")
    p.add_argument("--junit", metavar="OUT", type=output_path, help="write a JUnit XML report")
    p.add_argument("--coverage", action="store_true",
                   help="also report machine transitions and ND rule branches exercised")
    p.add_argument("--no-traces", action="store_true", help="skip building counterexample traces")
    add_bounds(p)
    add_workers(p)
    add_native(p)
    add_symmetry(p)
    p.set_defaults(run=run)


def _compile_ahead(scenarios, args):
    """With ``--native``, compile the C libraries of the next scenarios on other threads (one per
    core, at most two) while this one checks: gcc runs in its own process, and the first native
    ``check all`` compiles about 50 libraries (four scenarios on a fresh cache: 171 s without,
    107 s with two such threads, BENCHMARKS.md).  Returns the event that stops them, or None.
    The threads are daemons: an interrupted check does not wait for them."""
    import os
    import queue
    import threading

    from ..engines import native

    if args.engine == "spin" or not scenarios or not native.wanted(args.native) or native.compiler() is None:
        return None
    from ..engines.explicit import prepare_native

    stop = threading.Event()
    todo: queue.Queue = queue.Queue()
    for sc in scenarios:
        todo.put(sc)

    def work() -> None:
        while not stop.is_set():
            try:
                sc = todo.get_nowait()
            except queue.Empty:
                return
            prepare_native(build_system(with_bounds(sc, args)))

    # a compiler per core: the main thread mostly waits for the next library
    for k in range(max(1, min(2, os.cpu_count() or 1))):
        threading.Thread(target=work, name=f"ndcheck-compile-ahead-{k}", daemon=True).start()
    return stop


def run(args) -> int:
    t0 = time.perf_counter()
    props = None
    if args.props:
        props = [lookup_property(k) for k in args.props]
    if args.engine == "spin":
        _spin_usage(args)
    elif args.cores != 1 or args.bitstate:
        raise UsageError("--cores and --bitstate go with --engine spin (allowed engines for them: spin)")
    elif args.engine != "explicit":
        try:
            z3_engine()
        except EngineUnavailable as e:
            raise UsageError(str(e)) from None
    scenarios = select(args.names, args.file)
    for sc in scenarios:
        if sc.uncaused():
            print(uncaused_warning(sc), file=sys.stderr)
    quiet_stdout = args.json == "-"
    ahead = _compile_ahead(scenarios[1:], args)
    results: list[CheckResult] = []
    depths: list[int] = []
    coverages = []
    for sc in scenarios:
        sc = with_bounds(sc, args)
        system = build_system(sc)
        if args.engine == "spin":
            res, depth = _check_spin(system, props, args)
            results.append(res)
            depths.append(depth)
            if quiet_stdout:
                continue
            if args.quiet:
                _say(quiet_line(res, depth), _worst_style(res))
            else:
                _print_result(res, depth)
            continue
        with progress_bar(f"exploring {sc.name}") as update:
            try:
                graph = explore(system, progress=update, workers=args.workers,
                                symmetry=False if args.no_symmetry else None, native=args.native)
            except ValueError as e:
                raise UsageError(f"--workers {args.workers}: {e} (add --no-symmetry)") from None
        with counted_task(f"{sc.name}: checking") as step:
            def progress(done: int, total: int, p, _name=sc.name, _step=step) -> None:
                _step(done, total, f"{_name}: checking {p.id} ({done + 1}/{total})")

            try:
                res = check_graph(graph, props, engine=args.engine, traces=not args.no_traces,
                                  timeout=args.timeout, strict=args.strict, progress=progress)
            except EngineUnavailable as e:
                raise UsageError(str(e)) from None
        results.append(res)
        depths.append(graph.depth)
        if args.coverage:
            from ..checking.coverage import coverage
            coverages.append(coverage(graph))
        if quiet_stdout:
            continue
        if args.quiet:
            _say(quiet_line(res, depths[-1]), _worst_style(res))
        else:
            _print_result(res, depths[-1])
            if args.coverage:
                _print_coverage(coverages[-1])
    if ahead is not None:
        ahead.set()
    if args.json:
        doc = results[0].to_json() if len(results) == 1 else [r.to_json() for r in results]
        if args.coverage:
            docs = [doc] if len(results) == 1 else doc
            for d, c in zip(docs, coverages):
                d["coverage"] = c.to_json()
        text = json.dumps(doc, indent=2)
        if args.json == "-":
            sys.stdout.write(text + "\n")
        else:
            with open(args.json, "w", encoding="utf-8") as f:
                f.write(text + "\n")
    if args.junit:
        from ..reports.junit import write_junit
        write_junit(results, args.junit)
    code = exit_code(results)
    if not quiet_stdout:
        if not args.quiet:
            _print_mismatches(results)
        _say(summary_line(results, depths, time.perf_counter() - t0, code),
             _STYLE[{0: "expected", 1: "unexpected", 3: "undetermined"}[code]])
    return code


def _spin_usage(args) -> None:
    from ..engines.promela import spin_available

    if not spin_available():
        raise UsageError("--engine spin needs the programs spin and gcc on PATH "
                         "(Debian: apt-get install -y spin gcc); allowed engines without them: "
                         + ", ".join(ENGINES))
    for flag, given in (("--max-states", args.max_states), ("--max-memory", args.max_memory),
                        ("--coverage", args.coverage)):
        if given:
            raise UsageError(f"{flag} is for the explicit engine; with --engine spin use "
                             "--bitstate (memory) or --timeout")


def _check_spin(system, props, args) -> tuple[CheckResult, int]:
    from ..checking.spin import spin_check

    with counted_task(f"{system.name}: spin") as step:
        def progress(msg: str, _name=system.name, _step=step) -> None:
            _step(0, 1, f"{_name}: {msg}")

        res, run = spin_check(system, props, cores=args.cores, bitstate=args.bitstate,
                              timeout=args.timeout, traces=not args.no_traces, strict=args.strict,
                              progress=progress)
    return res, run.depth


def exit_code(results: list[CheckResult]) -> int:
    """0 as expected, 1 unexpected verdict, 3 undetermined (and nothing unexpected)."""
    if any(r.unexpected for r in results):
        return 1
    if any(r.undetermined for r in results):
        return 3
    return 0


# Row colours by outcome against the expectation (rich styles; a terminal only).
_STYLE = {"expected": "green", "unexpected": "bold red", "undetermined": "yellow", "vacuous": "blue"}
_OUTCOME_TEXT = {"expected": "ok", "unexpected": "UNEXPECTED", "undetermined": "undetermined",
                 "vacuous": "vacuous"}
_COLUMNS = ["property", "name", "kind", "engine", "expected", "verdict", "outcome", "trace", "cause"]


def uncaused_warning(sc) -> str:
    """One line: the scenario's ``violated`` expectations that give no cause."""
    keys = ", ".join(f"expect.{k}" for k in sc.uncaused())
    return (f"ndcheck: warning: {sc.source}: {keys} = \"violated\" gives no cause: add "
            f"cause = \"spec\" (with rules and note) or \"policy\" (with note), README \"Expectations\"")


def cause_text(v: Verdict) -> str:
    """The ``cause`` cell: ``spec ND-8 ND-12``, ``policy`` (``policy A-14`` with rules), or ``""``."""
    if v.expected != "violated":
        return ""
    if v.cause is None:
        return "none given"
    return " ".join((v.cause.kind, *v.cause.rules))


def _head(r: CheckResult, depth: int) -> str:
    return (f"{r.scenario}: {r.states} states, {r.edges} edges, depth {depth}, {r.seconds:.2f}s"
            + (f", {r.symmetry}" if r.symmetry else "")
            + (f", TRUNCATED ({r.reason})" if r.truncated else ""))


def _mismatch(v: Verdict) -> str:
    engine = "" if v.engine == "explicit" else f" [{v.engine}]"
    why = f" ({cause_text(v)})" if v.cause is not None else ""
    return f"{v.property.id}{engine} {v.verdict}, expected {v.expected or '-'}{why}"


def quiet_line(r: CheckResult, depth: int) -> str:
    """``-q``: ``name: N states, E edges, depth D, S.SSs; 12 holds, 2 violated, 0 undetermined``
    and every unexpected verdict (``; L-3 violated, expected holds``; undetermined ones are counted)."""
    counts = {k: 0 for k in VERDICTS}
    for v in r.verdicts:
        counts[v.verdict] = counts.get(v.verdict, 0) + 1
    parts = [_head(r, depth), ", ".join(f"{n} {k}" for k, n in counts.items())]
    parts += [_mismatch(v) for v in r.verdicts if v.outcome == "unexpected"]
    return "; ".join(parts)


def summary_line(results: list[CheckResult], depths: list[int], seconds: float, code: int) -> str:
    """The last line: verdicts against expectations, then total time, states, states/s, depth."""
    n = sum(len(r.verdicts) for r in results)
    bad = sum(len(r.unexpected) for r in results)
    undet = sum(len(r.undetermined) for r in results)
    states = sum(r.states for r in results)
    verdicts = (f"all {n} verdicts as expected" if not bad and not undet
                else f"{n} verdicts, {bad} unexpected, {undet} undetermined (exit {code})")
    return (f"{len(results)} scenario(s), {verdicts}; {seconds:.2f}s, {states} states, "
            f"{states / seconds if seconds > 0 else 0:.0f} states/s, max depth {max(depths, default=0)}")


def _worst_style(r: CheckResult) -> str:
    outcomes = {v.outcome for v in r.verdicts}
    for o in ("unexpected", "undetermined", "vacuous"):
        if o in outcomes:
            return _STYLE[o]
    return _STYLE["expected"]


def _say(text: str, style: str) -> None:
    """One line on standard output: coloured on a terminal, plain otherwise."""
    if not stdout_is_terminal():
        print(text)
        return
    from rich.console import Console
    from rich.markup import escape

    Console(soft_wrap=True, highlight=False).print(f"[{style}]{escape(text)}[/]")


def _print_result(r: CheckResult, depth: int) -> None:
    rows, styles = [], []
    for v in r.verdicts:
        steps = len(v.trace.steps) if v.trace is not None and hasattr(v.trace, "steps") else None
        trace = "" if steps is None else f"{getattr(v.trace, 'kind', '')} {steps} steps"
        rows.append([v.property.id, v.property.name, v.property.kind, v.engine, v.expected or "-",
                     v.verdict, _OUTCOME_TEXT[v.outcome], trace, cause_text(v)])
        styles.append([_STYLE[v.outcome]] * len(_COLUMNS))
    print_table(_head(r, depth), _COLUMNS, rows, styles)


def _print_coverage(c) -> None:
    print(c.summary())


def _print_mismatches(results: list[CheckResult]) -> None:
    for r in results:
        for v in r.verdicts:
            if not v.as_expected:
                print(f"{r.scenario}: {v.property.id} ({v.engine}) is {v.verdict}, expected {v.expected}"
                      + (f" ({cause_text(v)}: {v.cause.note})" if v.cause is not None else "")
                      + (f" — {v.note}" if v.note.startswith("engines disagree") else ""))
