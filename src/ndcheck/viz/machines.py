"""A machine class drawn and tabulated from python-statemachine class introspection.

Nothing here instantiates a machine: the states, events and conditions are read from the class
(``cls.states``, each state's ``transitions``, each transition's ``events``/``cond``), the same
introspection :mod:`ndcheck.model.compose` turns into IR.  :func:`diagram` uses
python-statemachine's own Graphviz rendering when the ``dot`` binary is installed and falls back
to :func:`draw_machine` (networkx + matplotlib) otherwise.

>>> from ndcheck import TcpClient
>>> rows = transitions(TcpClient)
>>> rows[0]
('CLOSED', 'send_syn', 'SYN-SENT', '')
>>> len(transition_table(TcpClient)) == len(rows)
True
"""

from __future__ import annotations

import shutil
from collections import defaultdict

from .tables import Table

__all__ = ["diagram", "draw_machine", "has_graphviz", "transition_table", "transitions"]


def transitions(cls) -> list[tuple[str, str, str, str]]:
    """Every transition of a machine class: (source, event, target, condition), class order.

    Names are the spec's display names (``SYN-SENT``); the condition lists the ``cond`` names
    (``!name`` for ``unless``) joined by `` & ``.  A transition declared for several events gives
    one row per event.
    """
    out = []
    for st in cls.states:
        for t in st.transitions:
            if getattr(t, "initial", False) and not t.events:
                continue
            cond = " & ".join(str(c) for c in t.cond)
            for ev in t.events:
                out.append((st.name, str(ev), t.target.name, cond))
    return out


def transition_table(cls) -> Table:
    """The transitions of ``cls`` as a :class:`~ndcheck.viz.tables.Table` (one row each)."""
    initial = cls.initial_state.name
    finals = {s.name for s in cls.final_states}

    def mark(name: str) -> str:
        return name + (" (initial)" if name == initial else "") + (" (final)" if name in finals else "")

    rows = tuple((mark(s), e, mark(t), c) for s, e, t, c in transitions(cls))
    return Table(("source", "event", "target", "condition"), rows,
                 f"{cls.__name__}: {len(rows)} transitions")


def has_graphviz() -> bool:
    """True when the Graphviz ``dot`` binary (needed for SVG diagrams) is on the PATH."""
    return shutil.which("dot") is not None


def _layers(cls) -> dict[str, int]:
    """Breadth-first depth of each state from the initial state (unreached states last)."""
    succ = defaultdict(list)
    for s, _, t, _ in transitions(cls):
        if t != s:
            succ[s].append(t)
    depth = {cls.initial_state.name: 0}
    queue = [cls.initial_state.name]
    for s in queue:
        for t in succ[s]:
            if t not in depth:
                depth[t] = depth[s] + 1
                queue.append(t)
    last = max(depth.values(), default=0) + 1
    for st in cls.states:
        depth.setdefault(st.name, last)
    return depth


def draw_machine(cls, ax=None):
    """Draw a machine class with networkx and matplotlib; returns the matplotlib Figure.

    States are laid out left to right by distance from the initial state; the initial state has
    a thick outline, final states a double (grey-filled) look.  Each arrow is labelled with its
    events; self-loop events are listed above their state (``↻ event``).
    """
    import networkx as nx

    from ._figure import new_axes

    rows = transitions(cls)
    g = nx.DiGraph()
    names = [s.name for s in cls.states]
    g.add_nodes_from(names)
    labels: dict[tuple[str, str], list[str]] = defaultdict(list)
    loops: dict[str, list[str]] = defaultdict(list)
    for s, e, t, c in rows:
        ev = e + ("*" if c else "")
        if s == t:
            if ev not in loops[s]:
                loops[s].append(ev)
        else:
            g.add_edge(s, t)
            if ev not in labels[(s, t)]:
                labels[(s, t)].append(ev)
    depth = _layers(cls)
    # States entered from three or more other states and left to fewer (FAILED, typically) go
    # on a row of their own below the others, under the mean of their predecessors, so their arrows do not cross
    # the main flow.
    preds: dict[str, set[str]] = defaultdict(set)
    for s, t in g.edges:
        preds[t].add(s)
    sinks = [n for n in names if len(preds[n]) >= 3 and len(preds[n]) > g.out_degree(n) + 1
             and n != cls.initial_state.name]
    by_layer: dict[int, list[str]] = defaultdict(list)
    for n in names:
        if n not in sinks:
            by_layer[depth[n]].append(n)
    pos = {}
    for d, ns in by_layer.items():
        for i, n in enumerate(ns):
            pos[n] = (d * 3.2, -(i - (len(ns) - 1) / 2) * 2.4)
    bottom = min([p[1] for p in pos.values()] + [0]) - 2.6
    for j, n in enumerate(sinks):
        xs = [pos[p][0] for p in preds[n] if p in pos] or [0.0]
        pos[n] = (sum(xs) / len(xs) + 1.6 * j, bottom)
        by_layer.setdefault(depth[n], [])
    width = max(by_layer) + 1
    height = max(len(v) for v in by_layer.values()) + (1 if sinks else 0)
    if ax is None:
        fig, ax = new_axes((max(7, 2.6 * width), max(3.5, 2.0 * height + 1)))
    else:
        fig = ax.figure
    finals = {s.name for s in cls.final_states}
    initial = cls.initial_state.name
    colors = ["#d9d9d9" if n in finals else "#e8f1fb" for n in g.nodes]
    edgecolors = ["#08306b" if n == initial else "#555555" for n in g.nodes]
    lw = [3.0 if n == initial else 1.2 for n in g.nodes]
    nx.draw_networkx_nodes(g, pos, ax=ax, node_size=3400, node_color=colors,
                           edgecolors=edgecolors, linewidths=lw, node_shape="o")
    nx.draw_networkx_labels(g, pos, ax=ax, font_size=7, font_weight="bold")
    # Arrows between neighbouring columns bend a little; longer ones bend more, so that they
    # (and their labels) pass beside the states in between rather than under them.
    for rad in (0.12, 0.4):
        edges = [(u, v) for u, v in g.edges
                 if (abs(pos[u][0] - pos[v][0]) > 3.3 and abs(pos[u][1] - pos[v][1]) < 1.0) == (rad > 0.2)]
        if not edges:
            continue
        style = f"arc3,rad={rad}"
        nx.draw_networkx_edges(g, pos, ax=ax, edgelist=edges, node_size=3400, arrowsize=14,
                               edge_color="#444444", connectionstyle=style, arrows=True)
        nx.draw_networkx_edge_labels(g, pos, ax=ax, font_size=7, connectionstyle=style,
                                     edge_labels={k: "\n".join(labels[k]) for k in edges},
                                     bbox={"boxstyle": "round", "fc": "white", "ec": "none",
                                           "alpha": 0.85})
    for n, evs in loops.items():
        x, y = pos[n]
        ax.text(x, y + 0.62, "\n".join("↻ " + e for e in evs), ha="center", va="bottom", fontsize=7,
                color="#08519c")
    ax.set_title(f"{cls.__name__}  (initial: {initial}; final: {', '.join(sorted(finals)) or 'none'};"
                 f" * = guarded)", fontsize=10)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 1.6, max(xs) + 1.6)
    ax.set_ylim(min(ys) - 1.0, max(ys) + 1.0 + 0.32 * max([len(v) for v in loops.values()] + [0]))
    ax.axis("off")
    fig.tight_layout()
    return fig


def diagram(cls, prefer_graphviz: bool = True):
    """The best available picture of a machine class.

    With the Graphviz ``dot`` binary: python-statemachine's own diagram as an
    ``IPython.display.SVG``; otherwise the matplotlib Figure of :func:`draw_machine`.
    """
    if prefer_graphviz and has_graphviz():
        from statemachine.exceptions import StateMachineError

        try:
            from IPython.display import SVG

            return SVG(format(cls, "svg"))
        except (ImportError, OSError, StateMachineError):
            # pydot missing (the [diagrams] extra) or a Graphviz failure: draw with matplotlib
            return draw_machine(cls)
    return draw_machine(cls)
