"""The code passes the project's linter (ruff, configured in pyproject.toml), so a lint slip
cannot land unnoticed: CI runs the test suite, not the linter."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _ruff() -> list[str] | None:
    exe = shutil.which("ruff")
    if exe:
        return [exe]
    try:
        import ruff  # noqa: F401 - installed with the test extra; its module runs the binary
    except ImportError:
        return None
    return [sys.executable, "-m", "ruff"]


def test_ruff_finds_nothing():
    ruff = _ruff()
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    done = subprocess.run([*ruff, "check", "--no-cache", "--output-format", "concise", "."], check=False,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
