"""GraphML / DOT export: every state field a typed node attribute, every edge its command.

The exported GraphML is read back with ``networkx.read_graphml`` and compared with the explored
:class:`~ndcheck.engines.explicit.Graph` itself (states decoded by the layout, edges from the
``src``/``dst``/``act`` arrays), so a field written under the wrong name, type or value, or an
edge attached to the wrong command, fails here.
"""

from __future__ import annotations

import re
from collections import Counter

import networkx as nx
import pytest

from ndcheck.engines.explicit import explore
from ndcheck.engines.export import labelled_graph, write_dot, write_graphml
from ndcheck.model.compose import build_system
from ndcheck.model.ir import C, Command, F, Field, Packet, System, add, eq, lt
from ndcheck.model.scenario import CATALOG

NAME = "fig8-silent-peer"


@pytest.fixture(scope="module")
def graph():
    return explore(build_system(CATALOG[NAME]))


@pytest.fixture(scope="module")
def graphml(graph, tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / f"{NAME}.graphml"
    write_graphml(graph, str(path))
    return nx.read_graphml(str(path))


def _count(graph, field: str, label: str) -> int:
    i = graph.system.index[field]
    f = graph.system.fields[i]
    return sum(1 for s in graph.states if f.labels[s[i]] == label)


def test_filtering_nodes_on_a_field_counts_the_same_states(graph, graphml):
    assert graph.n_states == 1185 and graph.n_edges == 3958  # the catalog pin of fig8-silent-peer
    est = [n for n, d in graphml.nodes(data=True) if d["client.tcp"] == "ESTABLISHED"]
    assert 0 < len(est) == _count(graph, "client.tcp", "ESTABLISHED") < graph.n_states
    # a second field, and a conjunction over a control field and a flag
    i_ike, i_sec = graph.system.index["client.ike_i"], graph.system.index["client.secure"]
    for label in graph.system.fields[i_ike].labels:
        got = sum(1 for _, d in graphml.nodes(data=True) if d["client.ike_i"] == label)
        assert got == _count(graph, "client.ike_i", label)
    both = sum(1 for _, d in graphml.nodes(data=True)
               if d["client.tcp"] == "ESTABLISHED" and d["client.secure"] is True)
    i_tcp = graph.system.index["client.tcp"]
    est_id = graph.system.fields[i_tcp].labels.index("ESTABLISHED")
    assert both == sum(1 for s in graph.states if s[i_tcp] == est_id and s[i_sec] == 1)


def test_every_node_carries_every_field_typed(graph, graphml):
    system = graph.system
    assert graphml.graph["name"] == NAME
    assert graphml.number_of_nodes() == graph.n_states
    for sid, s in enumerate(graph.states):
        d = graphml.nodes[str(sid)]
        for i, f in enumerate(system.fields):
            v = d[f.name]
            if f.labels:
                assert v == f.labels[s[i]]
            elif f.kind == "bool":
                assert v is bool(s[i])
            else:
                assert type(v) is int and v == s[i]
        ctl = " ".join(f.label(s[i]) for i, f in enumerate(system.fields) if f.kind == "control")
        assert d["label"] == ctl
        assert d["initial"] is (sid == 0)
    assert graphml.nodes["0"]["label"] == "CLOSED IDLE LISTEN IDLE"
    assert graphml.nodes["0"]["client.tcp"] == "CLOSED"
    assert graphml.nodes["0"]["net.c2s.MM1"] == 0


def test_every_edge_carries_its_command(graph, graphml):
    system = graph.system
    assert graphml.number_of_edges() == graph.n_edges
    want = Counter()
    for u, v, a in zip(graph.src, graph.dst, graph.act):
        c = system.commands[a]
        want[(str(u), str(v), c.name, ",".join(c.rules), ";".join(p.wire() for p in c.wire), c.kind)] += 1
    got = Counter((u, v, d["action"], d.get("rules", ""), d.get("wire", ""), d["kind"])
                  for u, v, d in graphml.edges(data=True))
    assert got == want
    # the first step of figure 8: a clear SYN and MM #1 from one command, two ND rules
    first = [d for u, _, d in graphml.edges("0", data=True)]
    syn = [d for d in first if d["wire"] == "client>server SYN clear;client>server MM1"]
    assert syn and syn[0]["rules"] == "ND-8/clear+acquire,ND-1" and syn[0]["kind"] == "send"
    # commands without packets (a loss, a timer) export an empty wire
    assert any(d.get("wire", "") == "" for _, _, d in graphml.edges(data=True))


def test_labelled_graph_has_the_same_attributes(graph, graphml):
    lg = labelled_graph(graph)
    assert lg.number_of_nodes() == graph.n_states and lg.number_of_edges() == graph.n_edges
    for sid in (0, 1, graph.n_states - 1):
        assert lg.nodes[sid] == graphml.nodes[str(sid)]
    lg_edges = Counter((str(u), str(v), d["action"], d["rules"], d["wire"]) for u, v, d in lg.edges(data=True))
    ml_edges = Counter((u, v, d["action"], d.get("rules", ""), d.get("wire", ""))
                       for u, v, d in graphml.edges(data=True))
    assert lg_edges == ml_edges


def test_dot_has_the_state_on_every_node(graph, tmp_path):
    path = tmp_path / "g.dot"
    write_dot(graph, str(path))
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f'digraph "{NAME}" {{') and text.endswith("}\n")
    nodes = re.findall(r"^  (\d+) \[label=(.*)\];$", text, re.MULTILINE)
    edges = re.findall(r"^  (\d+) -> (\d+) \[label=\"(.*?)\", rules=\"(.*?)\", wire=\"(.*?)\"", text,
                       re.MULTILINE)
    assert len(nodes) == graph.n_states and len(edges) == graph.n_edges
    est = sum(1 for _, attrs in nodes if '"client.tcp"="ESTABLISHED"' in attrs)
    assert est == _count(graph, "client.tcp", "ESTABLISHED")
    assert nodes[0][1].startswith('"0: CLOSED IDLE LISTEN IDLE", style=bold, "client.tcp"="CLOSED"')
    assert '"client.secure"=false' in nodes[0][1] and '"net.c2s.MM1"=0' in nodes[0][1]
    names = [graph.system.commands[a].name.replace('"', '\\"') for a in graph.act]
    assert [e[2] for e in edges] == names


@pytest.mark.parametrize("writer", [write_graphml, write_dot])
def test_progress_is_reported_up_to_the_total(graph, tmp_path, writer):
    calls = []
    writer(graph, str(tmp_path / "out"), progress=lambda done, total: calls.append((done, total)))
    total = graph.n_states + graph.n_edges
    assert calls and calls[-1] == (total, total)
    assert all(t == total for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def _awkward() -> System:
    """Labels, names and packets that need XML / DOT escaping."""
    fields = [
        Field("pc", 0, 2, 0, "control", ("A<B", 'say "hi"', "x & y")),
        Field("n", 0, 2, 0, "counter"),
        Field("flag", 0, 1, 0, "bool"),
    ]
    cmds = [
        Command('go <"now"> & then', eq(F("pc"), 0), (("pc", C(1)), ("flag", C(1))),
                wire=(Packet("client", "server", "SYN", "clear"),), rules=("ND-1", "A-4"), kind="send"),
        Command("count", lt(F("n"), 2), (("n", add(F("n"), 1)),)),
        Command("on", eq(F("pc"), 1), (("pc", C(2)),)),
    ]
    return System("awk & <ward>", fields, cmds)


def test_special_characters_survive_both_formats(tmp_path):
    g = explore(_awkward())
    path = tmp_path / "a.graphml"
    write_graphml(g, str(path))
    back = nx.read_graphml(str(path))
    assert back.graph["name"] == "awk & <ward>"
    assert back.number_of_nodes() == g.n_states == 9 and back.number_of_edges() == g.n_edges
    assert {d["pc"] for _, d in back.nodes(data=True)} == {"A<B", 'say "hi"', "x & y"}
    assert {d["n"] for _, d in back.nodes(data=True)} == {0, 1, 2}
    go = [d for _, _, d in back.edges(data=True) if d["action"] == 'go <"now"> & then']
    assert len(go) == 3 and all(d["rules"] == "ND-1,A-4" and d["wire"] == "client>server SYN clear"
                                for d in go)
    dot = tmp_path / "a.dot"
    write_dot(g, str(dot))
    text = dot.read_text(encoding="utf-8")
    assert '"pc"="say \\"hi\\""' in text and 'label="go <\\"now\\"> & then"' in text
