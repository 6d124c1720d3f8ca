"""Projection of the product graph onto a few fields: a picture of the interleavings.

:func:`project` maps each product state to the labels of the chosen fields (for example the
client's TCP and IKE control states) and keeps, per projected node, how many product states it
stands for, and per projected edge how many product edges it merges and which kinds of actions
(``send``, ``deliver``, ``drop``, ``lose``, ``dup``, ``local``) they are.  It is the quotient of
the product graph by "same values of these fields" (what ``networkx.quotient_graph`` computes),
built directly from the explorer's edge arrays.  Edges that stay inside one projected node are
counted on the node (``internal_edges``), not drawn.

>>> from ndcheck import CATALOG, build_system, explore
>>> g = explore(build_system(CATALOG["fig8-silent-peer"]))
>>> p = project(g, ("client.tcp", "client.ike_i"))
>>> sum(d["size"] for _, d in p.nodes(data=True)) == g.n_states
True
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

__all__ = ["KIND_COLORS", "draw_projection", "project"]

KIND_COLORS = {"send": "#2b59a8", "deliver": "#1a9641", "local": "#555555", "drop": "#cb181d",
               "lose": "#e6550d", "dup": "#8856a7"}


def project(graph, fields: Sequence[str] = ("client.tcp", "client.ike_i")):
    """The quotient of ``graph`` (an explored :class:`~ndcheck.Graph`) onto ``fields``.

    Returns a ``networkx.DiGraph`` whose nodes are tuples of field labels, with node attributes
    ``size`` (product states), ``internal_edges`` (product edges inside the node), ``initial``
    (the initial state projects here), and edge attributes ``count`` (product edges merged) and
    ``kinds`` (sorted action kinds).  Node sizes sum to ``graph.n_states``.
    """
    import networkx as nx

    system = graph.system
    missing = [f for f in fields if f not in system.index]
    if missing:
        raise KeyError(f"unknown field(s) {', '.join(missing)}; fields are e.g. "
                       f"{', '.join(f.name for f in system.fields[:8])}, ...")
    idx = [system.index[f] for f in fields]
    fs = [system.fields[i] for i in idx]
    keys = [tuple(f.label(s[i]) for f, i in zip(fs, idx)) for s in graph.states]
    size = Counter(keys)
    kinds = [c.kind for c in system.commands]
    ecount: Counter = Counter()
    ekinds: dict[tuple, set] = defaultdict(set)
    internal: Counter = Counter()
    for u, v, a in zip(graph.src, graph.dst, graph.act):
        ku, kv = keys[u], keys[v]
        if ku == kv:
            internal[ku] += 1
        else:
            ecount[(ku, kv)] += 1
            ekinds[(ku, kv)].add(kinds[a])
    p = nx.DiGraph(fields=tuple(fields), scenario=system.name)
    # deterministic order: by the fields' value order, not by discovery
    order = sorted(size, key=lambda k: [f.labels.index(x) if x in f.labels else int(x)
                                        for f, x in zip(fs, k)])
    for k in order:
        p.add_node(k, size=size[k], internal_edges=internal[k], initial=(k == keys[0]))
    for (ku, kv) in sorted(ecount, key=lambda e: (order.index(e[0]), order.index(e[1]))):
        p.add_edge(ku, kv, count=ecount[(ku, kv)], kinds=tuple(sorted(ekinds[(ku, kv)])))
    return p


def _grid(p, system) -> dict:
    """Positions: first field's values left to right, the others' values top to bottom."""
    fields = p.graph["fields"]
    fs = [system.field(f) for f in fields]

    def rank(f, x):
        return f.labels.index(x) if x in f.labels else int(x)

    xs = sorted({k[0] for k in p}, key=lambda x: rank(fs[0], x))
    rest = sorted({k[1:] for k in p}, key=lambda r: [rank(f, x) for f, x in zip(fs[1:], r)])
    return {k: (xs.index(k[0]) * 2.2, -rest.index(k[1:]) * 1.2) for k in p}


def draw_projection(p, system=None, ax=None, title: str | None = None):
    """Draw a projection from :func:`project` with matplotlib; returns the Figure.

    Grid layout: the first field's values on the x axis, the others on the y axis; node area
    proportional to the number of product states (labelled); edges coloured by action kind and
    labelled with the kinds and the number of product edges they merge.
    """
    import networkx as nx
    from matplotlib.lines import Line2D

    from ._figure import new_axes

    fields = p.graph["fields"]
    if system is not None and len(fields) >= 2:
        pos = _grid(p, system)
    else:
        pos = nx.spring_layout(p, seed=1)
    xs = sorted({x for x, _ in pos.values()})
    ys = sorted({y for _, y in pos.values()})
    if ax is None:
        fig, ax = new_axes((max(7, 2.0 * len(xs) + 2), max(4, 1.1 * len(ys) + 1.6)))
    else:
        fig = ax.figure
    total = sum(d["size"] for _, d in p.nodes(data=True)) or 1
    sizes = [300 + 5000 * d["size"] / total for _, d in p.nodes(data=True)]
    colors = ["#fdd0a2" if d["initial"] else "#c6dbef" for _, d in p.nodes(data=True)]
    nx.draw_networkx_nodes(p, pos, ax=ax, node_size=sizes, node_color=colors, edgecolors="#333333",
                           linewidths=1.0)
    nx.draw_networkx_labels(p, pos, ax=ax, font_size=7,
                            labels={k: str(d["size"]) for k, d in p.nodes(data=True)})
    for (u, v, d) in p.edges(data=True):
        kind = d["kinds"][0] if len(d["kinds"]) == 1 else None
        color = KIND_COLORS.get(kind, "#333333") if kind else "#333333"
        nx.draw_networkx_edges(p, pos, ax=ax, edgelist=[(u, v)], edge_color=color,
                               width=0.8 + min(d["count"], 200) ** 0.5 / 4, arrowsize=10,
                               connectionstyle="arc3,rad=0.15", node_size=sizes[list(p).index(v)],
                               alpha=0.8)
    nx.draw_networkx_edge_labels(
        p, pos, ax=ax, font_size=6, connectionstyle="arc3,rad=0.15",
        edge_labels={(u, v): f"{'/'.join(d['kinds'])} ×{d['count']}" for u, v, d in p.edges(data=True)},
        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})
    if system is not None and len(fields) >= 2:
        xl = sorted({k[0] for k in p}, key=lambda x: pos[next(n for n in p if n[0] == x)][0])
        yl = sorted({k[1:] for k in p}, key=lambda r: -pos[next(n for n in p if n[1:] == r)][1])
        ax.set_xticks([pos[next(n for n in p if n[0] == x)][0] for x in xl])
        ax.set_xticklabels(xl, fontsize=8)
        ax.set_yticks([pos[next(n for n in p if n[1:] == r)][1] for r in yl])
        ax.set_yticklabels([" / ".join(r) for r in yl], fontsize=8)
        ax.set_xlabel(fields[0])
        ax.set_ylabel(" / ".join(fields[1:]))
        ax.tick_params(left=True, bottom=True, labelleft=True, labelbottom=True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    else:
        ax.axis("off")
    ax.margins(0.12)
    handles = [Line2D([], [], color=c, lw=2, label=k) for k, c in KIND_COLORS.items()]
    handles.append(Line2D([], [], color="#333333", lw=2, label="several kinds"))
    ax.legend(handles=handles, title="action kind", fontsize=7, title_fontsize=7,
              loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    n_states = total
    ax.set_title(title or f"{p.graph['scenario']}: {n_states} product states projected onto "
                 f"({', '.join(fields)}): {p.number_of_nodes()} nodes, {p.number_of_edges()} edges"
                 "\n(node label and area = number of product states)", fontsize=9)
    fig.tight_layout()
    return fig
