"""``ndcheck check``: explore scenarios, check every applicable property, compare with [expect].

Exit status: 0 every verdict as expected; 1 a property violated unexpectedly, or an expected
violation (or witness) not found; 2 bad input; 3 some verdict undetermined (a bound stopped the
search) and nothing unexpected otherwise.
"""

from __future__ import annotations

import json
import sys

from ..checking.check import ENGINES, CheckResult, EngineUnavailable, check_graph
from ..checking.symbolic import z3_engine
from ..engines.explicit import explore
from ..model.compose import build_system
from . import UsageError
from .common import add_bounds, lookup_property, output_path, progress_bar, select, with_bounds


def register(sub) -> None:
    p = sub.add_parser("check", help="check every property of scenarios against their expected verdicts")
    p.add_argument("names", nargs="*", metavar="NAME",
                   help="scenario names, or 'all' (default: all; see `ndcheck scenarios`)")
    p.add_argument("--file", metavar="F.toml", help="check a scenario file instead of (or besides) names")
    p.add_argument("--property", action="append", metavar="ID", dest="props",
                   help="check only this property (id or name; repeatable)")
    p.add_argument("--engine", choices=ENGINES, default="explicit",
                   help="explicit (default), z3 (safety properties), or both (and compare)")
    p.add_argument("--json", metavar="OUT", type=output_path,
                   help="write the JSON report ('-' for standard output)")
    p.add_argument("--junit", metavar="OUT", type=output_path, help="write a JUnit XML report")
    p.add_argument("--coverage", action="store_true",
                   help="also report machine transitions and ND rule branches exercised")
    p.add_argument("--no-traces", action="store_true", help="skip building counterexample traces")
    add_bounds(p)
    p.set_defaults(run=run)


def run(args) -> int:
    props = None
    if args.props:
        props = [lookup_property(k) for k in args.props]
    if args.engine != "explicit":
        try:
            z3_engine()
        except EngineUnavailable as e:
            raise UsageError(str(e)) from None
    scenarios = select(args.names, args.file)
    quiet_stdout = args.json == "-"
    results: list[CheckResult] = []
    coverages = []
    for sc in scenarios:
        sc = with_bounds(sc, args)
        system = build_system(sc)
        with progress_bar(f"checking {sc.name}") as update:
            graph = explore(system, progress=update)
            try:
                res = check_graph(graph, props, engine=args.engine, traces=not args.no_traces,
                                  timeout=args.timeout)
            except EngineUnavailable as e:
                raise UsageError(str(e)) from None
        results.append(res)
        if args.coverage:
            from ..checking.coverage import coverage
            coverages.append(coverage(graph))
        if not quiet_stdout:
            _print_result(res)
            if args.coverage:
                _print_coverage(coverages[-1])
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
        _print_summary(results, code)
    return code


def exit_code(results: list[CheckResult]) -> int:
    """0 as expected, 1 unexpected verdict, 3 undetermined (and nothing unexpected)."""
    if any(r.unexpected for r in results):
        return 1
    if any(r.undetermined for r in results):
        return 3
    return 0


_STYLE = {"holds": "green", "violated": "red", "undetermined": "yellow"}


def _print_result(r: CheckResult) -> None:
    from rich.console import Console
    from rich.table import Table

    head = (f"{r.scenario}: {r.states} states, {r.edges} edges, {r.seconds:.2f}s"
            + (f", TRUNCATED ({r.reason})" if r.truncated else ""))
    t = Table(title=head, title_justify="left")
    for col in ("property", "name", "kind", "engine", "expected", "verdict", "", "trace"):
        t.add_column(col)
    for v in r.verdicts:
        ok = "ok" if v.as_expected else ("??" if v.verdict == "undetermined" else "UNEXPECTED")
        steps = len(v.trace.steps) if v.trace is not None and hasattr(v.trace, "steps") else None
        trace = "" if steps is None else f"{getattr(v.trace, 'kind', '')} {steps} steps"
        t.add_row(v.property.id, v.property.name, v.property.kind, v.engine, v.expected or "",
                  f"[{_STYLE[v.verdict]}]{v.verdict}[/]" if v.verdict in _STYLE else v.verdict,
                  ok if v.as_expected else f"[bold red]{ok}[/]", trace)
    Console(width=160).print(t)


def _print_coverage(c) -> None:
    print(c.summary())


def _print_summary(results: list[CheckResult], code: int) -> None:
    bad = [(r.scenario, v) for r in results for v in r.verdicts if not v.as_expected]
    n = sum(len(r.verdicts) for r in results)
    if not bad:
        print(f"all {n} verdicts on {len(results)} scenario(s) as expected")
        return
    for name, v in bad:
        print(f"{name}: {v.property.id} ({v.engine}) is {v.verdict}, expected {v.expected}"
              + (f" — {v.note}" if v.note.startswith("engines disagree") else ""))
    print(f"{len(bad)} of {n} verdicts not as expected (exit {code})")
