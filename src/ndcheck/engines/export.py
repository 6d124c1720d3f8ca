"""Export the product graph for other tools: GraphML (networkx) and Graphviz DOT (no pydot needed)."""

from __future__ import annotations

import networkx as nx


def labelled_graph(g) -> nx.MultiDiGraph:
    """The product graph with string attributes: each node's control states, each edge's action."""
    system = g.system
    ctl = [(i, f) for i, f in enumerate(system.fields) if f.kind == "control"]
    out = nx.MultiDiGraph(name=system.name)
    for sid, s in enumerate(g.states):
        out.add_node(sid, label=" ".join(f.label(s[i]) for i, f in ctl), initial=(sid == 0))
    names = [c.name for c in system.commands]
    for u, v, a in zip(g.src, g.dst, g.act):
        out.add_edge(u, v, key=names[a], action=names[a])
    return out


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_dot(lg: nx.MultiDiGraph, path: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f"digraph {_q(lg.graph.get('name', 'ndcheck'))} {{\n  node [shape=box, fontsize=9];\n")
        fh.writelines(f"  {n} [label={_q(str(n) + ': ' + d.get('label', ''))}"
                     + (", style=bold" if d.get("initial") else "") + "];\n" for n, d in lg.nodes(data=True))
        fh.writelines(f"  {u} -> {v} [label={_q(d['action'])}];\n" for u, v, d in lg.edges(data=True))
        fh.write("}\n")
