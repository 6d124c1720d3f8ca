"""Fixtures of the engine tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def native_cache(tmp_path_factory):
    """A cache folder for the C libraries that the native tests compile, fresh for this run and
    shared by its workers (pytest-xdist: the parent of the workers' temporary folders), so a
    model used by two test files is compiled once; the libraries the user has cached are not
    used."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / "native-cache"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def cache_folder(native_cache):
    """``XDG_CACHE_HOME`` set to :func:`native_cache` for the module."""
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_CACHE_HOME", str(native_cache))
    yield native_cache
    mp.undo()
