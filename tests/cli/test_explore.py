"""``ndcheck explore`` (sizes, ``--json``, GraphML/DOT export) and ``export-promela``'s scenario
argument: NAME or ``--file``."""

from __future__ import annotations

import json
from collections import deque
from importlib import resources

import networkx as nx
import pytest

from ndcheck.cli import main
from ndcheck.engines.explicit import explore
from ndcheck.model.compose import build_system
from ndcheck.model.scenario import CATALOG

NAME = "fig8-silent-peer"
KEYS = {"scenario", "states", "edges", "depth", "seconds", "truncated", "reason"}


def catalog_file(name: str) -> str:
    return str(resources.files("ndcheck.model") / "catalog" / f"{name}.toml")


def bfs_depth(g) -> int:
    """The BFS depth by an independent search over the edge arrays (not the parent pointers)."""
    succ: dict[int, list[int]] = {}
    for u, v in zip(g.src, g.dst):
        succ.setdefault(u, []).append(v)
    dist = {0: 0}
    queue = deque([0])
    while queue:
        u = queue.popleft()
        for v in succ.get(u, ()):
            if v not in dist:
                dist[v] = dist[u] + 1
                queue.append(v)
    assert len(dist) == g.n_states
    return max(dist.values())


@pytest.fixture(scope="module")
def graph():
    return explore(build_system(CATALOG[NAME]))


@pytest.mark.parametrize("argv", [[NAME, "--json"], [NAME, "--json", "-"], ["--file", catalog_file(NAME), "--json"]])
def test_json_on_standard_output(capsys, graph, argv):
    assert main(["explore", *argv]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)  # standard output is the document only
    assert set(doc) == KEYS
    assert doc["scenario"] == NAME
    assert (doc["states"], doc["edges"]) == (graph.n_states, graph.n_edges) == (1185, 3958)
    assert doc["depth"] == bfs_depth(graph) == graph.depth == 25
    assert doc["truncated"] is False and doc["reason"] == ""
    assert isinstance(doc["seconds"], float) and doc["seconds"] >= 0
    assert err.startswith(f"{NAME}: 1185 states, 3958 edges")


def test_json_to_a_file_keeps_the_summary_line(capsys, tmp_path, graph):
    path = tmp_path / "x.json"
    assert main(["explore", NAME, "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{NAME}: 1185 states, 3958 edges, ") and f"wrote {path}" in out
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["states"] == 1185 and doc["depth"] == bfs_depth(graph)


def test_json_of_a_truncated_exploration(capsys):
    assert main(["explore", "fig7-both-capable", "--max-states", "50", "--json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert doc["states"] == 50 and doc["truncated"] is True
    assert doc["reason"] == "max-states 50 reached"
    g = explore(build_system(CATALOG["fig7-both-capable"]), max_states=50)
    assert doc["edges"] == g.n_edges and doc["depth"] == bfs_depth(g) == g.depth


@pytest.mark.parametrize("name", ["transport-mode", "fig8-icmp-peer", "require-inbound-auth-failure",
                                  "fig19-require-inbound", "fig7-fifo"])
def test_depth_is_the_longest_shortest_path(name):
    g = explore(build_system(CATALOG[name]))
    assert g.depth == bfs_depth(g) == max(len(g.path_to(i)) for i in range(g.n_states))


def test_graphml_export_from_the_command_line(capsys, tmp_path, graph):
    gml, dot = tmp_path / "g.graphml", tmp_path / "g.dot"
    assert main(["explore", NAME, "--graphml", str(gml), "--dot", str(dot)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {gml}" in out and f"wrote {dot}" in out
    back = nx.read_graphml(str(gml))
    assert back.number_of_nodes() == 1185 and back.number_of_edges() == 3958
    i = graph.system.index["server.tcp"]
    est = graph.system.fields[i].labels.index("ESTABLISHED")
    assert (sum(1 for _, d in back.nodes(data=True) if d["server.tcp"] == "ESTABLISHED")
            == sum(1 for s in graph.states if s[i] == est))
    assert dot.read_text(encoding="utf-8").count(" -> ") == 3958


@pytest.mark.parametrize("command", ["explore", "export-promela"])
def test_one_scenario_name_or_file(capsys, command):
    assert main([command]) == 2
    assert "give one scenario" in capsys.readouterr().err
    assert main([command, NAME, "--file", catalog_file(NAME)]) == 2
    err = capsys.readouterr().err
    assert "give one scenario" in err and "not both" in err


def test_export_promela_from_a_file_equals_by_name(capsys, tmp_path):
    by_name, by_file = tmp_path / "n.pml", tmp_path / "f.pml"
    assert main(["export-promela", "fig8-icmp-peer", "-o", str(by_name)]) == 0
    assert main(["export-promela", "--file", catalog_file("fig8-icmp-peer"), "-o", str(by_file)]) == 0
    assert by_file.read_text() == by_name.read_text()
    assert "fig8-icmp-peer" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["explore", "export-promela"])
def test_help_has_an_example(capsys, command):
    with pytest.raises(SystemExit):
        main([command, "-h"])
    out = capsys.readouterr().out
    assert f"ndcheck {command} fig" in out and "--file" in out
