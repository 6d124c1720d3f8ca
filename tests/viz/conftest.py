from __future__ import annotations

import pytest

from tests.catalog_cache import graph as _graph


@pytest.fixture
def graph_of():
    """Explored graph of a built-in scenario (cached across the viz tests)."""
    return _graph
