"""One exploration per catalog scenario for the whole test session (shared by the property tests)."""

from __future__ import annotations

from functools import cache

from ndcheck import CATALOG, build_system, explore
from ndcheck.checking.check import CheckResult, check_graph
from ndcheck.engines.explicit import Graph


@cache
def graph(name: str) -> Graph:
    return explore(build_system(CATALOG[name]))


@cache
def result(name: str) -> CheckResult:
    return check_graph(graph(name), traces=False)
