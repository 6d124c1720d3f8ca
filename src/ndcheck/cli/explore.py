"""``ndcheck explore NAME``: sizes of the product graph, optional GraphML / DOT export."""

from __future__ import annotations

from .common import add_bounds, explore_scenario, output_path, select


def register(sub) -> None:
    p = sub.add_parser("explore", help="explore a scenario's product graph and report its size")
    p.add_argument("name", nargs="?", help="scenario name (see `ndcheck scenarios`)")
    p.add_argument("--file", metavar="F.toml", help="explore a scenario file instead of a catalog name")
    p.add_argument("--graphml", metavar="OUT", type=output_path, help="write the product graph as GraphML")
    p.add_argument("--dot", metavar="OUT", type=output_path, help="write the product graph as Graphviz DOT")
    add_bounds(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from . import UsageError

    if bool(args.name) == bool(args.file):
        raise UsageError("ndcheck explore: give one scenario: a NAME from `ndcheck scenarios` "
                         "or --file F.toml")
    sc = select([args.name] if args.name else [], args.file)[0]
    g = explore_scenario(sc, args)
    system = g.system
    print(f"{sc.name}: {g.n_states} states, {g.n_edges} edges, {len(system.fields)} fields, "
          f"{len(system.commands)} commands, {g.seconds:.2f}s"
          + (f", TRUNCATED ({g.reason})" if g.truncated else ""))
    if args.graphml or args.dot:
        import networkx as nx

        from ..engines.export import labelled_graph

        lg = labelled_graph(g)
        if args.graphml:
            nx.write_graphml(lg, args.graphml)
            print(f"wrote {args.graphml}")
        if args.dot:
            from ..engines.export import write_dot
            write_dot(lg, args.dot)
            print(f"wrote {args.dot}")
    return 3 if g.truncated else 0
