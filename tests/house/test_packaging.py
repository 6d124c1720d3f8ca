"""The package installs as the project's card lays it out: model/ and properties/ at the top level
(pyproject ``package-dir``) become ``ndcheck.model`` and ``ndcheck.properties``.

The editable install is what every other test runs on.  Here a wheel is built from the source
tree, installed into a new virtual environment, and ``ndcheck check fig7-both-capable`` runs from
it.  The new environment borrows the third-party dependencies of the running one through a
``.pth`` path line (that directory's own ``.pth`` files, among them the editable install's
finder, are not executed for a path line), so no download is needed and ``ndcheck`` itself can
only come from the wheel — which the test checks.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from .test_layers import modules

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(ROOT)], check=True, capture_output=True, text=True)
    (whl,) = out.glob("ndcheck-*.whl")
    return whl


def test_the_wheel_holds_every_module_and_the_catalog(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = set()
    for name, path in modules().items():
        rel = name.replace(".", "/")
        expected.add(f"{rel}/__init__.py" if path.name == "__init__.py" else f"{rel}.py")
    assert expected - names == set()
    tomls = {n for n in names if n.startswith("ndcheck/model/catalog/") and n.endswith(".toml")}
    assert len(tomls) == len(list((ROOT / "model" / "catalog").glob("*.toml"))) > 0


def test_the_wheel_runs_in_a_fresh_environment(wheel, tmp_path):
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps",
                    "--no-index", "-q", str(wheel)], check=True, capture_output=True, text=True)
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (Path(site) / "_ndcheck_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = subprocess.run(
        [str(py), "-c", ("import ndcheck, ndcheck.model, ndcheck.properties as p; "
                         "print(ndcheck.__file__); print(ndcheck.model.__file__); print(p.__file__)")],
        check=True, capture_output=True, text=True, cwd=tmp_path).stdout.split()
    assert len(where) == 3 and all(w.startswith(site) for w in where), where
    run = subprocess.run([str(env_dir / "bin" / "ndcheck"), "check", "fig7-both-capable"],
                         check=False, capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "fig7-both-capable" in run.stdout and "Traceback" not in run.stderr
