"""The Examples in the viz modules' docstrings run (STYLE.md: doctested examples)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["tables", "machines", "interleavings", "projection", "stepper", "heatmap", "proofs"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    mod = importlib.import_module(f"ndcheck.viz.{name}")
    failed, tried = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failed == 0
