"""Scenario files for the ``--file`` tests: a catalog scenario copied under another name."""

from __future__ import annotations

import re
from pathlib import Path

CATALOG_DIR = Path(__file__).resolve().parents[2] / "model" / "catalog"


def scenario_file(tmp_path: Path, catalog_name: str, new_name: str) -> Path:
    """A copy of a catalog scenario under another name, written in ``tmp_path``."""
    text = (CATALOG_DIR / f"{catalog_name}.toml").read_text(encoding="utf-8")
    text, n = re.subn(r'^name = ".*"$', f'name = "{new_name}"', text, count=1, flags=re.MULTILINE)
    assert n == 1
    f = tmp_path / f"{new_name}.toml"
    f.write_text(text, encoding="utf-8")
    return f
