"""``ndcheck mutants``: run every seeded fault and say which property caught it.

Each mutant (:mod:`ndcheck.model.mutants`) is composed for the catalog scenarios that can show
it, explored and checked; a property *catches* it when its verdict differs from the scenario's
expectation.  The first catch with a trace is printed with its replayed counterexample (the
trace was built by ``trace_from_commands`` on the mutated system: replayed through the mutated
IR and the python-statemachine instances).  Exit status: 0 when every mutant is caught, 1
otherwise, 2 bad input.

JSON (``--json OUT``, ``-`` for standard output): a list of
``{"mutant": NAME, "description": TEXT, "caught_by": [PROPERTY IDS]}``, ``caught_by`` empty when
nothing caught the mutant.

While it runs, a progress bar on stderr (a terminal only) counts the mutants and names the one
being checked, and on which scenario.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from .common import output_path


@dataclass(frozen=True, slots=True)
class Catch:
    """One property that caught a mutant on one scenario."""

    scenario: str
    property: str
    verdict: str
    expected: str
    trace: object | None  # traces.trace.Trace


@dataclass(frozen=True, slots=True)
class MutantResult:
    name: str
    description: str
    catches: tuple[Catch, ...]
    truncated: tuple[str, ...] = ()   # scenarios whose exploration hit a bound

    @property
    def caught_by(self) -> list[str]:
        return list(dict.fromkeys(c.property for c in self.catches))

    @property
    def caught(self) -> bool:
        return bool(self.catches)

    def to_json(self) -> dict:
        return {"mutant": self.name, "description": self.description, "caught_by": self.caught_by}


def run_mutant(mutant, max_states: int | None = None, timeout: float | None = None,
               progress: Callable[[str], None] | None = None) -> MutantResult:
    """Explore and check ``mutant`` on each of its scenarios (``progress`` is told each one)."""
    from ..checking.check import check_graph
    from ..engines.explicit import explore
    from ..model.scenario import get_scenario

    catches: list[Catch] = []
    truncated: list[str] = []
    for name in mutant.scenarios:
        if progress is not None:
            progress(name)
        sc = get_scenario(name).with_bounds(max_states, timeout)
        system = mutant.system(sc)
        graph = explore(system)
        if graph.truncated:
            truncated.append(name)
        # traces only for the catches (most violations of a mutant's scenario are expected)
        odd = [v for v in check_graph(graph, traces=False).verdicts
               if v.expected is not None and v.verdict not in ("undetermined", v.expected)]
        shown = [v.property.id for v in odd if v.verdict == "violated"]
        traces = {v.property.id: v.trace for v in check_graph(graph, shown).verdicts} if shown else {}
        for v in odd:
            catches.append(Catch(name, v.property.id, v.verdict, v.expected, traces.get(v.property.id)))
    # catches with a trace first (they show the fault), then in catalog order
    catches.sort(key=lambda c: c.trace is None)
    return MutantResult(mutant.name, mutant.description, tuple(catches), tuple(truncated))


def register(sub) -> None:
    p = sub.add_parser("mutants", help="run the seeded faults; which property caught each",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example: ndcheck mutants --json mutants.json\n"
                              "         ndcheck mutants --list")
    p.add_argument("names", nargs="*", metavar="MUTANT", help="mutant names (default: all)")
    p.add_argument("--json", metavar="OUT", type=output_path,
                   help="write [{mutant, description, caught_by}] as JSON ('-' for standard output)")
    p.add_argument("--list", action="store_true", help="list the mutants and exit")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..model.mutants import MUTANTS, UnknownMutant, get_mutant
    from . import UsageError

    try:
        chosen = [get_mutant(n) for n in args.names] if args.names else list(MUTANTS)
    except UnknownMutant as e:
        raise UsageError(str(e)) from None
    if args.list:
        for m in chosen:
            print(f"{m.name}: {m.description} [{', '.join(m.rules)}] on {', '.join(m.scenarios)}")
        return 0
    quiet = args.json == "-"
    results = []
    with _Bar(len(chosen)).shown() as bar:
        for i, m in enumerate(chosen):
            bar.update(i, m.name)
            r = run_mutant(m, progress=lambda sc, i=i, m=m: bar.update(i, m.name, sc))
            results.append(r)
            bar.update(i + 1, m.name)
            if not quiet:
                with bar.paused():
                    _print(r)
    if args.json:
        text = json.dumps([r.to_json() for r in results], indent=2) + "\n"
        if args.json == "-":
            sys.stdout.write(text)
        else:
            with open(args.json, "w", encoding="utf-8") as f:
                f.write(text)
    missed = [r.name for r in results if not r.caught]
    if not quiet:
        print(f"{len(results) - len(missed)} of {len(results)} mutants caught"
              + (f"; missed: {', '.join(missed)}" if missed else ""))
    return 1 if missed else 0


def _print(r: MutantResult) -> None:
    if not r.caught:
        print(f"{r.name}: NOT CAUGHT ({r.description})")
        return
    first = r.catches[0]
    print(f"{r.name}: caught by {', '.join(r.caught_by)}")
    how = (f"  {first.scenario}: {first.property} is {first.verdict}, expected {first.expected}")
    if first.trace is not None:
        steps = first.trace.steps
        print(f"{how}; {first.trace.kind} of {len(steps)} steps (replayed):")
        for s in steps[-6:]:
            wire = f"   {'; '.join(s.wire)}" if s.wire else ""
            print(f"    {s.index:3d}. {s.action}{wire}")
    else:
        print(how)


class _Bar:
    """A progress bar on stderr counting the mutants (quiet when stderr is not a terminal).

    ``update(done, mutant, scenario)`` moves it; ``with bar.paused():`` takes it off the screen
    while results are printed, so that standard output is written as it would be without it
    (nothing is routed through the bar's console)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.prog = None
        self.task = None

    @contextmanager
    def shown(self):
        if not sys.stderr.isatty():
            yield self
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(stderr=True)
        with Progress(TextColumn("mutants"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.fields[now]}", markup=False), console=console, transient=True,
                      redirect_stdout=False, redirect_stderr=False,
                      disable=not console.is_terminal) as prog:
            self.prog, self.task = prog, prog.add_task("mutants", total=self.total, now="")
            try:
                yield self
            finally:
                self.prog = None

    def update(self, done: int, mutant: str, scenario: str = "") -> None:
        if self.prog is not None:
            now = f"{mutant} on {scenario}" if mutant and scenario else mutant
            self.prog.update(self.task, completed=done, now=now)

    @contextmanager
    def paused(self):
        prog = self.prog if self.prog is not None and sys.stdout.isatty() else None
        if prog is not None:
            prog.stop()
        try:
            yield
        finally:
            if prog is not None:
                sys.stdout.flush()
                prog.start()
