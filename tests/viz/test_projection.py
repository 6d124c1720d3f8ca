from __future__ import annotations

import pytest

from ndcheck.viz.projection import draw_projection, project

FIELDS = [("client.tcp", "client.ike_i"), ("server.tcp",), ("client.tcp", "server.tcp", "client.secure")]


@pytest.mark.parametrize("name", ["fig7-both-capable", "fig8-silent-peer", "fig19-require-inbound"])
@pytest.mark.parametrize("fields", FIELDS)
def test_sizes_sum_to_product(graph_of, name, fields):
    g = graph_of(name)
    p = project(g, fields)
    assert sum(d["size"] for _, d in p.nodes(data=True)) == g.n_states
    # every product edge is either merged into a projected edge or internal to a node
    merged = sum(d["count"] for _, _, d in p.edges(data=True))
    internal = sum(d["internal_edges"] for _, d in p.nodes(data=True))
    assert merged + internal == g.n_edges
    assert [n for n, d in p.nodes(data=True) if d["initial"]] == [
        tuple(g.system.describe(g.states[0])[f] for f in fields)]


def test_edge_kinds_are_command_kinds(graph_of):
    g = graph_of("fig8-silent-peer")
    kinds = {c.kind for c in g.system.commands}
    p = project(g)
    assert all(set(d["kinds"]) <= kinds for _, _, d in p.edges(data=True))


def test_deterministic(graph_of):
    g = graph_of("fig19-require-inbound")
    assert list(project(g).edges(data=True)) == list(project(g).edges(data=True))


def test_unknown_field(graph_of):
    with pytest.raises(KeyError, match="unknown field"):
        project(graph_of("fig8-silent-peer"), ("client.nope",))


def test_draw_labels_axes(graph_of):
    g = graph_of("fig19-require-inbound")
    fig = draw_projection(project(g), g.system)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "client.tcp" and ax.get_ylabel() == "client.ike_i"
    assert {t.get_text() for t in ax.get_xticklabels()} >= {"CLOSED", "SYN-SENT"}
