"""The ``ndcheck`` command line: one module per subcommand, registered here.

Every subcommand module defines ``register(subparsers)`` (adding its parser, with
``set_defaults(run=...)``).  Bad input raises :class:`UsageError` (or a ScenarioError/WireError),
which becomes one line on stderr and exit status 2 — never a traceback.

May import every layer below it (model, properties, engines, traces, checking, reports); not
:mod:`ndcheck.viz`, and nothing imports the command line.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

SUBCOMMANDS = ("scenarios", "explore", "check", "trace", "conform", "prove", "mutants",
               "export_promela", "findings", "latency")


class UsageError(ValueError):
    """Bad command-line input: one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of usage + message
        from ..model.suggest import did_you_mean

        bad = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if bad:
            choices = [c.strip().strip("'") for c in bad.group(2).split(",")]
            message += did_you_mean(bad.group(1), choices)
        # "ndcheck: error: ..." is printed once by main(); name the subcommand, if any
        where = self.prog.removeprefix("ndcheck").strip()
        raise UsageError(f"{where}: {message}" if where else message)


def version() -> str:
    """The installed distribution's version."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("ndcheck")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ndcheck", description="Model checker for IKE negotiation discovery (MS-IKEE §3.7)",
                epilog="example: ndcheck check all -q    (ndcheck COMMAND -h for each command's options)")
    p.add_argument("--version", action="version", version=f"ndcheck {version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        importlib.import_module(f"ndcheck.cli.{name}").register(sub)
    p.set_defaults(commands=tuple(sub.choices))
    return p


def _error(message: str) -> None:
    """One line on stderr, whatever the message contains (exit statuses are the caller's)."""
    text = "; ".join(part.strip() for part in message.splitlines() if part.strip())
    print(f"ndcheck: error: {text}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    from ..model.compose import ModelError
    from ..model.scenario import ScenarioError
    from ..traces.wire import WireError

    known = (UsageError, ScenarioError, ModelError, WireError)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "run", None):
            raise UsageError(f"missing COMMAND; choose one of: {', '.join(args.commands)} "
                             "(ndcheck -h for help)")
        return int(args.run(args) or 0)
    except known as e:
        _error(str(e))
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as e:  # an unreadable input or unwritable output path
        where = f"{e.filename}: " if e.filename else ""
        _error(f"{where}{e.strerror or e}")
        return 2
    except MemoryError:
        _error("out of memory; bound the search with --max-states, --timeout or --max-memory")
        return 3
    except KeyboardInterrupt:
        print("ndcheck: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
