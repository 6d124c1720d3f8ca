"""Suite-wide settings.

The suite runs on both cores already (pytest-xdist, two workers): ``ndcheck prove`` started by
a test keeps to one process instead of forking a Houdini partner (the CLI's default is two).

The test files that read the explored catalog through :mod:`tests.catalog_cache` (directly or
through their directory's ``conftest.py``) run on one worker, so each catalog scenario is
explored once per run instead of once per worker (``--dist loadfile`` otherwise: one file, one
worker).
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

os.environ.setdefault("NDCHECK_PROVE_WORKERS", "1")

ROOT = Path(__file__).resolve().parent.parent
CATALOG_GROUP = "catalog-cache"


_IMPORT = re.compile(r"^\s*(from tests\.catalog_cache import|from tests import catalog_cache|"
                     r"import tests\.catalog_cache)", re.MULTILINE)


@cache
def _mentions_cache(path: Path) -> bool:
    try:
        return _IMPORT.search(path.read_text(encoding="utf-8")) is not None
    except OSError:
        return False


def uses_catalog_cache(file: str) -> bool:
    """Whether a test file (a path relative to the repository) reads the shared catalog graphs:
    it imports :mod:`tests.catalog_cache`, or a ``conftest.py`` of its directories does."""
    path = ROOT / file
    if path.suffix != ".py" or not path.is_relative_to(ROOT / "tests"):
        return False
    if _mentions_cache(path):
        return True
    d = path.parent
    while d.is_relative_to(ROOT / "tests"):
        if _mentions_cache(d / "conftest.py"):
            return True
        d = d.parent
    return False


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` with the catalog-cache files as one unit (see the module docstring)."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class _CatalogOnOneWorker(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = nodeid.split("::", 1)[0]
            return CATALOG_GROUP if uses_catalog_cache(file) else file

    return _CatalogOnOneWorker(config, log)
