"""Test distribution over the two xdist workers (``--dist loadgroup`` in pyproject.toml).

Each test module is one group, as ``--dist loadfile`` would make it (module fixtures are built
once), except the modules that read the session's catalog explorations
(:mod:`tests.catalog_cache`): they form one group, so the 2 million states of the catalog are
explored and checked once per test run instead of once in each worker.
"""

from __future__ import annotations

import pytest

#: the modules whose tests read the whole catalog (or most of it) through tests/catalog_cache.py
CATALOG_GROUP = frozenset({
    "tests/properties/test_verdicts.py",
    "tests/model/test_catalog.py",
    "tests/checking/test_coverage.py",
    "tests/model/test_mutants.py",
    "tests/checking/test_check.py",
    "tests/properties/test_flows.py",
    "tests/engines/test_store.py",
    "tests/engines/test_parallel.py",
    "tests/reports/test_marks.py",
    "tests/reports/test_svg_layout.py",
})


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        if module.startswith("tests/viz/"):
            group = "catalog"          # tests/viz/conftest.py explores catalog graphs too
        else:
            group = "catalog" if module in CATALOG_GROUP else module
        item.add_marker(pytest.mark.xdist_group(group))
