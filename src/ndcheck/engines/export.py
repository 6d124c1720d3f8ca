"""Export the product graph for other tools: GraphML and Graphviz DOT (no pydot needed).

Every node carries the whole state: one attribute per field of the system, named after the field
(``client.tcp``, ``net.c2s.SYN.clear``, ...), whose value is the state label for control and enum
fields (``client.tcp = ESTABLISHED``), a boolean for flags and an integer for counters — typed
GraphML attributes, so ``networkx.read_graphml`` gives them back as ``str``/``bool``/``int``.  A
node also keeps ``label`` (the control states, space-separated) and ``initial``.  Every edge
carries ``action`` (the command name), ``rules`` (its rule ids, comma-joined), ``wire`` (the
packets it puts on the wire, ``;``-joined, empty when none) and ``kind`` (send, deliver, ...).
An empty value is written as an empty ``<data>`` element, which ``networkx.read_graphml`` leaves
out of the attribute dict (read it with ``d.get("wire", "")``).

:func:`write_graphml` and :func:`write_dot` stream from the explored graph (no intermediate
networkx graph) and report progress through an optional ``progress(done, total)`` callback, in
elements written (nodes, then edges).  :func:`labelled_graph` builds the same attributes as a
networkx graph for analyses in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from ..model.ir import Command, Field, System

if TYPE_CHECKING:       # networkx is imported when a graph is built (0.2 s of every CLI start)
    import networkx as nx

Progress = Callable[[int, int], None] | None

#: node attributes written before the state fields
NODE_EXTRA = ("label", "initial")
#: edge attributes, in order
EDGE_ATTRS = ("action", "rules", "wire", "kind")

_REPORT_EVERY = 2000


def field_type(f: Field) -> str:
    """The GraphML type of a field's node attribute: ``string``, ``boolean`` or ``int``."""
    if f.labels:
        return "string"
    if f.kind == "bool":
        return "boolean"
    return "int"


def field_value(f: Field, v: int) -> str | bool | int:
    """A field's value as a node attribute: its label, a bool or an int (see :func:`field_type`)."""
    t = field_type(f)
    if t == "string":
        return f.label(v)
    if t == "boolean":
        return bool(v)
    return int(v)


def state_attributes(system: System, state) -> dict[str, str | bool | int]:
    """Field name → typed value, for every field of ``state``."""
    return {f.name: field_value(f, state[i]) for i, f in enumerate(system.fields)}


def edge_attributes(cmd: Command) -> dict[str, str]:
    """A command as edge attributes: name, rule ids (comma-joined), wire packets (``;``-joined)."""
    return {"action": cmd.name, "rules": ",".join(cmd.rules),
            "wire": ";".join(p.wire() for p in cmd.wire), "kind": cmd.kind}


def _controls(system: System) -> list[tuple[int, Field]]:
    return [(i, f) for i, f in enumerate(system.fields) if f.kind == "control"]


def node_label(system: System, state, controls: list[tuple[int, Field]] | None = None) -> str:
    """The control states of ``state``, space-separated (the node's ``label``)."""
    ctl = _controls(system) if controls is None else controls
    return " ".join(f.label(state[i]) for i, f in ctl)


def _check_names(system: System) -> None:
    clash = sorted({f.name for f in system.fields} & set(NODE_EXTRA))
    if clash:
        raise ValueError(f"field names {clash} clash with the node attributes {list(NODE_EXTRA)}")


def labelled_graph(g, progress: Progress = None) -> nx.MultiDiGraph:
    """The product graph as a ``networkx.MultiDiGraph``: every node with ``label``, ``initial``
    and one attribute per state field; every edge (keyed by its command name) with
    ``action``, ``rules``, ``wire`` and ``kind``."""
    import networkx as nx

    system = g.system
    _check_names(system)
    ctl = _controls(system)
    out = nx.MultiDiGraph(name=system.name)
    total = g.n_states + g.n_edges
    for sid, s in enumerate(g.states):
        out.add_node(sid, label=node_label(system, s, ctl), initial=(sid == 0),
                     **state_attributes(system, s))
        if progress and sid % _REPORT_EVERY == 0:
            progress(sid, total)
    attrs = [edge_attributes(c) for c in system.commands]
    out.add_edges_from((u, v, attrs[a]["action"], dict(attrs[a])) for u, v, a in zip(g.src, g.dst, g.act))
    if progress:
        progress(total, total)
    return out


# --------------------------------------------------------------------------------------------
# GraphML
# --------------------------------------------------------------------------------------------


def _gml_text(value: str | bool | int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def write_graphml(g, path: str, progress: Progress = None) -> None:
    """Write the product graph as GraphML (typed attributes, see the module docstring)."""
    system = g.system
    _check_names(system)
    fields = system.fields
    ctl = _controls(system)
    n_fields = len(fields)
    # key ids: d0 graph name, d1 label, d2 initial, d3.. fields, then the edge attributes
    keys = [("d0", "graph", "name", "string"), ("d1", "node", "label", "string"),
            ("d2", "node", "initial", "boolean")]
    keys += [(f"d{3 + i}", "node", f.name, field_type(f)) for i, f in enumerate(fields)]
    edge_key = {name: f"d{3 + n_fields + j}" for j, name in enumerate(EDGE_ATTRS)}
    keys += [(edge_key[name], "edge", name, "string") for name in EDGE_ATTRS]
    # each field value's <data> element, built once per value of the field's domain
    cells: list[dict[int, str]] = []
    for i, f in enumerate(fields):
        k = f"d{3 + i}"
        cells.append({v: f'<data key="{k}">{_gml_text(field_value(f, v))}</data>'
                      for v in range(f.lo, f.hi + 1)})
    edge_data = []
    for c in system.commands:
        attrs = edge_attributes(c)
        edge_data.append("".join(f'<data key="{edge_key[name]}">{escape(attrs[name])}</data>'
                                 for name in EDGE_ATTRS))

    def cell(i: int, v: int) -> str:
        got = cells[i].get(v)
        if got is None:  # outside the declared domain (should not happen): still write it
            got = f'<data key="d{3 + i}">{_gml_text(field_value(fields[i], v))}</data>'
        return got

    with open(path, "w", encoding="utf-8") as fh:
        w = fh.write
        w('<?xml version="1.0" encoding="utf-8"?>\n'
          '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
          'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
          'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
          'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n')
        for kid, scope, name, typ in keys:
            w(f'  <key id="{kid}" for="{scope}" attr.name={quoteattr(name)} attr.type="{typ}" />\n')
        w('  <graph edgedefault="directed">\n')
        w(f'    <data key="d0">{escape(system.name)}</data>\n')
        _write_rows(w, g, progress,
                    lambda sid, s: (f'    <node id="{sid}"><data key="d1">'
                                    f'{escape(node_label(system, s, ctl))}</data>'
                                    f'<data key="d2">{"true" if sid == 0 else "false"}</data>'
                                    + "".join([cell(i, v) for i, v in enumerate(s)]) + "</node>\n"),
                    lambda e, u, v, a: f'    <edge id="e{e}" source="{u}" target="{v}">{edge_data[a]}</edge>\n')
        w("  </graph>\n</graphml>\n")


# --------------------------------------------------------------------------------------------
# DOT
# --------------------------------------------------------------------------------------------


def _write_rows(w: Callable[[str], object], g, progress: Progress,
                node_line: Callable[[int, tuple[int, ...]], str],
                edge_line: Callable[[int, int, int, int], str]) -> None:
    """One line per state, then one per edge (both formats), reporting progress as it goes."""
    total = g.n_states + g.n_edges
    for sid, s in enumerate(g.states):
        w(node_line(sid, s))
        if progress and sid % _REPORT_EVERY == 0:
            progress(sid, total)
    n = g.n_states
    for e, (u, v, a) in enumerate(zip(g.src, g.dst, g.act)):
        w(edge_line(e, u, v, a))
        if progress and e % (4 * _REPORT_EVERY) == 0:
            progress(n + e, total)
    if progress:
        progress(total, total)


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_value(value: str | bool | int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _q(value)


def write_dot(g, path: str, progress: Progress = None) -> None:
    """Write the product graph as Graphviz DOT: each node's label is ``id: control states`` and
    its other attributes are the state fields (quoted names, e.g. ``"client.tcp"="ESTABLISHED"``);
    each edge's label is its command name, with ``rules``, ``wire`` and ``kind`` attributes."""
    system = g.system
    fields = system.fields
    ctl = _controls(system)
    cells = [{v: f"{_q(f.name)}={_dot_value(field_value(f, v))}" for v in range(f.lo, f.hi + 1)}
             for f in fields]

    def cell(i: int, v: int) -> str:
        got = cells[i].get(v)
        return got if got is not None else f"{_q(fields[i].name)}={_dot_value(field_value(fields[i], v))}"

    edge_data = []
    for c in system.commands:
        attrs = edge_attributes(c)
        edge_data.append(f"label={_q(attrs['action'])}, rules={_q(attrs['rules'])}, "
                         f"wire={_q(attrs['wire'])}, kind={_q(attrs['kind'])}")
    with open(path, "w", encoding="utf-8") as fh:
        w = fh.write
        w(f"digraph {_q(system.name)} {{\n  node [shape=box, fontsize=9];\n")
        _write_rows(w, g, progress,
                    lambda sid, s: (f"  {sid} [label={_q(f'{sid}: ' + node_label(system, s, ctl))}"
                                    + (", style=bold" if sid == 0 else "") + ", "
                                    + ", ".join([cell(i, v) for i, v in enumerate(s)]) + "];\n"),
                    lambda e, u, v, a: f"  {u} -> {v} [{edge_data[a]}];\n")
        w("}\n")
