from __future__ import annotations

import functools

import pytest

from ndcheck import CATALOG, build_system, explore


@functools.cache
def _graph(name: str):
    return explore(build_system(CATALOG[name]))


@pytest.fixture
def graph_of():
    """Explored graph of a built-in scenario (cached across the viz tests)."""
    return _graph
