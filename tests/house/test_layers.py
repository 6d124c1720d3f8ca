"""The layers of the house point one way (DESIGN.md "Layout"; STYLE.md "Conventions").

model ← engines ← checking/reports ← cli/viz, with properties beside the engines (it imports
only the model) and traces between the model and checking.  Every ``import`` of every module is
read with :mod:`ast`, function-level imports included, relative imports resolved, and
``importlib.import_module("...")`` calls with a constant name counted as imports.  Two rules:

* each package imports only the packages its layer allows (:data:`ALLOWED`);
* neither the package graph nor the module graph has a cycle (no package imports another
  that imports it back).

z3 is imported only by the symbolic engine; nothing inside ndcheck imports the package root
(``ndcheck/__init__.py`` is the public facade, above everything).
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]

# where each top-level part of the ``ndcheck`` package lives (pyproject.toml package-dir)
SOURCES = {"ndcheck": ROOT / "src" / "ndcheck", "ndcheck.model": ROOT / "model",
           "ndcheck.properties": ROOT / "properties"}

# layer -> the layers it may import (itself always); a module belongs to the longest prefix
ALLOWED: dict[str, set[str]] = {
    "ndcheck.model": set(),
    "ndcheck.properties": {"ndcheck.model"},
    "ndcheck.engines": {"ndcheck.model.ir"},
    "ndcheck.traces": {"ndcheck.model"},
    "ndcheck.checking": {"ndcheck.model", "ndcheck.properties", "ndcheck.engines", "ndcheck.traces"},
    "ndcheck.reports": {"ndcheck.model", "ndcheck.properties", "ndcheck.traces", "ndcheck.checking"},
    "ndcheck.cli": {"ndcheck.model", "ndcheck.properties", "ndcheck.engines", "ndcheck.traces",
                    "ndcheck.checking", "ndcheck.reports"},
    "ndcheck.viz": {"ndcheck.model", "ndcheck.properties", "ndcheck.engines", "ndcheck.traces",
                    "ndcheck.checking", "ndcheck.reports"},
}
Z3_ONLY_IN = "ndcheck.engines.symbolic"


def modules() -> dict[str, Path]:
    """Every module of the installed package, by dotted name, from the source trees."""
    out: dict[str, Path] = {}
    for base, root in SOURCES.items():
        for f in sorted(root.rglob("*.py")):
            rel = f.relative_to(root).with_suffix("").parts
            if rel[-1] == "__init__":
                rel = rel[:-1]
            name = ".".join((base, *rel))
            if base == "ndcheck" and len(rel) >= 1 and f"ndcheck.{rel[0]}" in SOURCES:
                continue  # a stray copy under src/ndcheck would shadow nothing: ignore
            out[name] = f
    return out


def imports_of(name: str, source: str, is_package: bool) -> set[str]:
    """Dotted names a module imports (``from a import b`` gives ``a.b`` and ``a``)."""
    package = name if is_package else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            out.add(target)
            out.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module" \
                and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            out.add(node.args[0].value)
    return out


def layer_of(name: str) -> str | None:
    best = None
    for layer in ALLOWED:
        if (name == layer or name.startswith(layer + ".")) and (best is None or len(layer) > len(best)):
            best = layer
    return best


def violations(graph: dict[str, set[str]], known: set[str]) -> list[str]:
    """Every import that breaks a rule, as ``importer -> imported: why``."""
    out = []
    for mod, targets in sorted(graph.items()):
        mine = layer_of(mod)
        for t in sorted(targets):
            if t == "z3" or t.startswith("z3."):
                if not mod.startswith(Z3_ONLY_IN):
                    out.append(f"{mod} -> z3: z3 is imported only by {Z3_ONLY_IN}")
                continue
            if not (t == "ndcheck" or t.startswith("ndcheck.")):
                continue
            target = _resolve(t, known)
            if target == "ndcheck":
                if mod != "ndcheck":
                    out.append(f"{mod} -> ndcheck: nothing imports the public facade")
                continue
            if mine is None:
                continue  # the facade (ndcheck/__init__.py) may import anything below it
            theirs = layer_of(target)
            if theirs == mine:
                continue
            ok = any(target == a or target.startswith(a + ".") for a in ALLOWED[mine])
            if not ok:
                out.append(f"{mod} -> {target}: {mine} may import only "
                           f"{', '.join(sorted(ALLOWED[mine])) or 'itself'}")
    return sorted(set(out))


def _resolve(t: str, known: set[str]) -> str:
    while t not in known and "." in t:   # ``from a import name`` -> module a
        t = t.rpartition(".")[0]
    return t


def module_cycles(graph: dict[str, set[str]], known: set[str]) -> list[list[str]]:
    """Cycles of the module graph (function-level imports included)."""
    g = nx.DiGraph()
    for mod, targets in graph.items():
        for t in targets:
            t = _resolve(t, known)
            if t in known and t != mod:
                g.add_edge(mod, t)
    return sorted(sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1)


def package_cycles(graph: dict[str, set[str]], known: set[str], packages: set[str]) -> list[list[str]]:
    """Cycles of the package graph (a module's package: itself if it is one, else its parent).

    A subpackage using a module of its parent package (``model.machines`` → ``model.ir``) is
    not a loop between two packages, so edges between a package and its ancestors are left out.
    """
    def package(m: str) -> str:
        return m if m in packages else m.rpartition(".")[0]

    g = nx.DiGraph()
    for mod, targets in graph.items():
        for t in targets:
            t = _resolve(t, known)
            a, b = package(mod), package(t)
            if t in known and a != b and not a.startswith(b + ".") and not b.startswith(a + "."):
                g.add_edge(a, b)
    return sorted(sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1)


@pytest.fixture(scope="module")
def import_graph() -> tuple[dict[str, set[str]], set[str], set[str]]:
    mods = modules()
    packages = {n for n, f in mods.items() if f.name == "__init__.py"}
    graph = {n: imports_of(n, f.read_text(encoding="utf-8"), n in packages) for n, f in mods.items()}
    return graph, set(mods), packages


def test_the_walk_sees_the_whole_house(import_graph):
    graph, known, _ = import_graph
    assert {"ndcheck.model.ir", "ndcheck.properties.catalog", "ndcheck.engines.explicit",
            "ndcheck.engines.symbolic.prove", "ndcheck.checking.check", "ndcheck.cli.check",
            "ndcheck.viz.sequence", "ndcheck.traces.trace", "ndcheck.reports.render"} <= known
    # function-level imports are seen (cli.check imports coverage inside run())
    assert "ndcheck.checking.coverage" in graph["ndcheck.cli.check"]
    # relative imports resolve (engines.explicit: ``from ..model.ir import System``)
    assert "ndcheck.model.ir" in graph["ndcheck.engines.explicit"]
    assert all(layer_of(m) is not None for m in known if m != "ndcheck"), \
        [m for m in known if m != "ndcheck" and layer_of(m) is None]


def test_each_layer_imports_only_the_layers_below(import_graph):
    graph, known, _ = import_graph
    assert violations(graph, known) == []


def test_no_package_imports_one_that_imports_it_back(import_graph):
    graph, known, packages = import_graph
    assert package_cycles(graph, known, packages) == []
    assert module_cycles(graph, known) == []


def test_the_rules_catch_what_they_forbid():
    """The checks are not vacuous: each kind of breach in a made-up module is reported."""
    known = {"ndcheck", "ndcheck.model", "ndcheck.model.ir", "ndcheck.model.compose",
             "ndcheck.engines", "ndcheck.engines.explicit", "ndcheck.properties",
             "ndcheck.properties.catalog", "ndcheck.checking", "ndcheck.checking.check"}
    engine = imports_of("ndcheck.engines.explicit", "def f():\n    from ..model.compose import build_system\n"
                        "    from ..properties.catalog import PROPERTIES\n    import z3\n", False)
    model = imports_of("ndcheck.model.compose", "from ..checking.check import check\n"
                       "import importlib\nimportlib.import_module('ndcheck.engines.explicit')\n", False)
    facade = imports_of("ndcheck.checking.check", "from .. import check\n", False)
    found = violations({"ndcheck.engines.explicit": engine, "ndcheck.model.compose": model,
                        "ndcheck.checking.check": facade}, known)
    assert found == [
        "ndcheck.checking.check -> ndcheck: nothing imports the public facade",
        "ndcheck.engines.explicit -> ndcheck.model.compose: ndcheck.engines may import only ndcheck.model.ir",
        "ndcheck.engines.explicit -> ndcheck.properties.catalog: ndcheck.engines may import only ndcheck.model.ir",
        "ndcheck.engines.explicit -> z3: z3 is imported only by ndcheck.engines.symbolic",
        "ndcheck.model.compose -> ndcheck.checking.check: ndcheck.model may import only itself",
        "ndcheck.model.compose -> ndcheck.engines.explicit: ndcheck.model may import only itself",
    ]
    loop = {"ndcheck.checking.check": {"ndcheck.engines.explicit"},
            "ndcheck.engines.explicit": {"ndcheck.checking.check"}}
    assert package_cycles(loop, known, {"ndcheck.checking", "ndcheck.engines"}) == [
        ["ndcheck.checking", "ndcheck.engines"]]
    assert module_cycles(loop, known) == [["ndcheck.checking.check", "ndcheck.engines.explicit"]]
