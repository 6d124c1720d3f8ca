"""The committed notebooks: outputs stripped, kernel "python3", and no logic of their own.

Executing them is nbmake's job (``--nbmake`` in pyproject.toml collects ``notebooks/*.ipynb``);
these checks keep the files clean: stale outputs would show results the code no longer gives, and
a notebook that defines functions or branches would hide logic outside the tested API (STYLE.md).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))
NOT_ALLOWED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.For, ast.While, ast.If,
               ast.Try, ast.With, ast.Lambda)


def test_the_six_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == [
        "01_machines.ipynb", "02_interleavings.ipynb", "03_safety.ipynb", "04_liveness.ipynb",
        "05_proofs.ipynb", "06_time.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_stripped_and_kernel(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, cell["source"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_logic_in_code_cells(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        code = "\n".join(line for line in src.splitlines() if not line.startswith("%"))
        for node in ast.walk(ast.parse(code)):
            assert not isinstance(node, NOT_ALLOWED), f"{path.name}: logic in a cell:\n{src}"
        imports = [n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.ImportFrom)]
        assert all(n.module == "ndcheck" or n.module.startswith("ndcheck.") for n in imports), src
