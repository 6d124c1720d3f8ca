"""Helpers shared by subcommands: scenario and property selection, bounds options, progress bars."""

from __future__ import annotations

import argparse
from contextlib import contextmanager

from ..model.scenario import CATALOG, Scenario, get_scenario, load_scenario_file


def add_bounds(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-states", type=positive_int, default=None, metavar="N",
                   help="stop exploring after N states (result: truncated, undetermined)")
    p.add_argument("--timeout", type=positive_float, default=None, metavar="SECONDS",
                   help="stop exploring after this many seconds (result: truncated)")
    p.add_argument("--max-memory", type=positive_int, default=None, metavar="MB",
                   help="stop exploring once the process uses more than MB megabytes of memory "
                        "(result: truncated; also NDCHECK_MAX_MEMORY)")


def add_workers(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=positive_int, default=1, metavar="N",
                   help="explore with N processes (states partitioned by hash), or with --native "
                        "N threads; the same graph, state ids and traces as one; default 1")


def add_native(p: argparse.ArgumentParser) -> None:
    p.add_argument("--native", action="store_true", default=None,
                   help="explore with the successor function and the search loop in C "
                        "(compiled once per model with the system's C compiler and cached, 30-50 s "
                        "for fig7-both-capable; then about ten times the states per second, with "
                        "--workers N on N threads; also NDCHECK_NATIVE=1)")


def add_symmetry(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-symmetry", action="store_true",
                   help="explore every state, not one per orbit of interchangeable flows "
                        "(flows with the same opener; default: reduce by symmetry)")


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return v


def select(names: list[str], file: str | None = None) -> list[Scenario]:
    """Scenarios named on the command line (``all`` = the catalog), or from ``--file``."""
    out: list[Scenario] = []
    if file:
        out.append(load_scenario_file(file))
    if not names and not file:
        names = ["all"]
    for n in names:
        if n == "all":
            out.extend(CATALOG[k] for k in sorted(CATALOG))
        else:
            out.append(get_scenario(n))
    return out


def add_scenario(p: argparse.ArgumentParser) -> None:
    """A command's one scenario: a catalog NAME, or ``--file F.toml`` (then NAME is left out)."""
    p.add_argument("name", nargs="?", metavar="NAME",
                   help="scenario name (see `ndcheck scenarios`); leave it out with --file")
    p.add_argument("--file", metavar="F.toml", help="a scenario file instead of a catalog name")


def one_scenario(args) -> Scenario:
    """The scenario of a command registered with :func:`add_scenario`; a usage error names the
    command (``explore: give one scenario: ...``)."""
    from . import UsageError

    where = f"{args.command}: " if getattr(args, "command", None) else ""
    if args.file and args.name:
        raise UsageError(f"{where}give one scenario: a NAME or --file, not both (got {args.name!r} "
                         f"and --file {args.file})")
    if args.file:
        return load_scenario_file(args.file)
    if not args.name:
        raise UsageError(f"{where}give one scenario: a NAME (see `ndcheck scenarios`) or --file F.toml")
    return get_scenario(args.name)


def lookup_property(key: str):
    """A catalog property by id or name; an unknown one is a UsageError listing the catalog."""
    from ..properties.catalog import UnknownProperty, get_property
    from . import UsageError

    try:
        return get_property(key)
    except UnknownProperty as e:
        raise UsageError(str(e)) from None


def with_bounds(sc: Scenario, args) -> Scenario:
    return sc.with_bounds(getattr(args, "max_states", None), getattr(args, "timeout", None),
                          getattr(args, "max_memory", None))


def explore_scenario(sc: Scenario, args):
    """The product graph of ``sc`` under the command line's bounds, explored behind a progress bar."""
    from ..engines.explicit import explore
    from ..model.compose import build_system

    sc = with_bounds(sc, args)
    system = build_system(sc)
    with progress_bar(f"exploring {sc.name}") as update:
        try:
            return explore(system, progress=update, workers=getattr(args, "workers", 1),
                           symmetry=False if getattr(args, "no_symmetry", False) else None,
                           native=getattr(args, "native", None))
        except ValueError as e:
            from . import UsageError

            raise UsageError(f"--workers {args.workers}: {e} (add --no-symmetry)") from None


def output_path(text: str) -> str:
    """An argparse type for output files: the folder must exist (checked before any work)."""
    import os

    folder = os.path.dirname(os.path.abspath(text))
    if not text or os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a file name")
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: folder {folder!r} does not exist")
    return text


def write_text(path: str, text: str) -> None:
    """Write an output file; an OS error becomes one line and exit 2 (UsageError)."""
    from . import UsageError

    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None


@contextmanager
def progress_bar(description: str, enabled: bool = True):
    """A rich progress bar on stderr; yields ``update(done, discovered)``."""
    if not enabled:
        yield lambda done, found: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.fields[found]} states"), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as prog:
        task = prog.add_task(description, total=None, found=0)

        def update(done: int, found: int) -> None:
            prog.update(task, completed=done, total=found, found=found)

        yield update


def stdout_is_terminal() -> bool:
    """Whether standard output is a terminal (rich tables) or a pipe/file (plain full lines)."""
    import sys

    return sys.stdout.isatty()


def print_table(title: str, columns: list[str], rows: list[list[str]],
                styles: list[list[str | None]] | None = None) -> None:
    """A table on standard output: rich on a terminal; otherwise a title line, a header and
    one tab-separated line per row, never wrapped, cut or padded (``grep``/``cut -f`` friendly).
    ``styles`` (same shape as ``rows``) colours cells on a terminal only."""
    import sys

    if not stdout_is_terminal():
        def line(cells) -> str:  # a tab or line break inside a cell would split it: a space
            return "\t".join(" ".join(str(c).replace("\t", " ").splitlines()) for c in cells) + "\n"

        out = sys.stdout
        if title:
            out.write("# " + " ".join(title.splitlines()) + "\n")
        out.write(line(columns))
        for row in rows:
            out.write(line(row))
        out.flush()
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title or None, title_justify="left")
    for c in columns:
        table.add_column(c, overflow="fold")
    for i, row in enumerate(rows):
        cells = []
        for j, c in enumerate(row):
            style = styles[i][j] if styles is not None else None
            cells.append(f"[{style}]{escape(str(c))}[/]" if style else escape(str(c)))
        table.add_row(*cells)
    Console().print(table)


@contextmanager
def counted_task(description: str, enabled: bool = True):
    """A rich progress bar on stderr for a task of known size (quiet when stderr is not a
    terminal); yields ``update(done, total, text=None)``, ``text`` replacing the description."""
    if not enabled:
        yield lambda done, total, text=None: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as prog:
        task = prog.add_task(description, total=None)

        def update(done: int, total: int, text: str | None = None) -> None:
            prog.update(task, completed=done, total=total, **({"description": text} if text else {}))

        yield update


@contextmanager
def status_line(description: str, enabled: bool = True):
    """A one-line rich status on stderr — spinner, elapsed time, ``description`` and the latest
    phase text — quiet when stderr is not a terminal; yields ``update(text)``.  Standard
    output is not redirected (nothing should be printed while it is shown)."""
    import sys

    if not enabled or not sys.stderr.isatty():
        yield lambda text: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    # elapsed time first: a narrow terminal cuts the end of the line
    with Progress(SpinnerColumn(), TimeElapsedColumn(), TextColumn("{task.description}", markup=False),
                  TextColumn("{task.fields[phase]}", markup=False), console=console, transient=True,
                  redirect_stdout=False, redirect_stderr=False, disable=not console.is_terminal) as prog:
        task = prog.add_task(description, total=None, phase="")

        def update(text: str) -> None:
            prog.update(task, phase=text)

        yield update
