"""The ``ndcheck`` command line: one module per subcommand, registered here.

Every subcommand module defines ``register(subparsers)`` (adding its parser, with
``set_defaults(run=...)``).  Bad input raises :class:`UsageError` (or a ScenarioError/WireError),
which becomes one line on stderr and exit status 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = ("scenarios", "explore", "check", "trace", "conform", "prove", "mutants",
               "export_promela")


class UsageError(ValueError):
    """Bad command-line input: one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of usage + message
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ndcheck", description="Model checker for IKE negotiation discovery (MS-IKEE §3.7)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        try:
            mod = importlib.import_module(f"ndcheck.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"ndcheck.cli.{name}":
                continue  # not built yet
            raise
        mod.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    from ..model.scenario import ScenarioError
    from ..model.compose import ModelError

    known = (UsageError, ScenarioError, ModelError)
    try:
        from ..properties.wire import WireError  # noqa: F401
        known = known + (WireError,)
    except ImportError:
        pass
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "run", None):
            parser.print_help()
            return 2
        return int(args.run(args) or 0)
    except known as e:
        print(f"ndcheck: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ndcheck: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
