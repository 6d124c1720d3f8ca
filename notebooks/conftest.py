"""Notebook execution under pytest: every notebook item carries the ``notebook`` marker.

nbmake (``--nbmake`` in pyproject.toml) runs each ``*.ipynb`` here top to bottom in a fresh
``python3`` kernel of the interpreter running pytest, with this directory as working directory;
a cell that raises fails the item.  The notebooks that sweep the catalog are also marked ``slow``
(deselected by default, run with ``-m slow``): ``03_safety`` and ``04_liveness`` (a verdict
matrix over every small scenario, about a minute each on 2 cores), ``05_proofs`` (z3 Spacer
proofs, about two minutes) and ``06_time`` (latency tables and a delay/loss sweep, about a
minute) and ``02_interleavings`` (the interleaving enumeration, 21 s of the suite's CPU);
``01_machines`` runs with every test run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent
SLOW = {"02_interleavings.ipynb", "03_safety.ipynb", "04_liveness.ipynb", "05_proofs.ipynb", "06_time.ipynb"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(getattr(item, "path", getattr(item, "fspath", ""))))
        if path.suffix == ".ipynb" and HERE in path.parents:
            item.add_marker(pytest.mark.notebook)
            if path.name in SLOW:
                item.add_marker(pytest.mark.slow)
