"""The Examples in the checking modules' docstrings run (STYLE.md: doctested examples)."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["check", "symbolic"])
def test_doctests(name):
    mod = importlib.import_module(f"ndcheck.checking.{name}")
    result = doctest.testmod(mod)
    assert result.attempted > 0 and result.failed == 0
