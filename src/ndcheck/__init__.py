"""ndcheck: a model checker for Microsoft IKE negotiation discovery (MS-IKEE §3.7).

This module is the public facade, above every layer: it may import any package, and no package
of ndcheck imports it.  The layers below it (README "Layout"; ``tests/house/test_layers.py``):
model ← {properties, engines, traces} ← checking ← reports ← {cli, viz}.

The public Python API (DESIGN.md):

>>> from ndcheck import CATALOG, build_system, explore
>>> g = explore(build_system(CATALOG["fig8-silent-peer"]))
>>> g.n_states > 0 and not g.truncated
True
"""

from __future__ import annotations

from .engines.explicit import Graph, explore
from .model.compose import build_system
from .model.machines import IkeInitiator, IkeResponder, TcpClient, TcpServer
from .model.scenario import CATALOG, Policy, Scenario, load_scenario_file

__all__ = [
    "CATALOG", "Graph", "IkeInitiator", "IkeResponder", "Policy", "Scenario", "TcpClient",
    "TcpServer", "build_system", "check", "explore", "load_scenario_file", "prove",
    "shortest_trace",
]


def __getattr__(name: str):
    # check / shortest_trace / prove live in checking/ (loaded on first use: z3 only when asked).
    if name in ("check", "shortest_trace"):
        from .checking import check as _check
        return getattr(_check, name)
    if name == "prove":
        from .checking.symbolic import prove
        return prove
    raise AttributeError(name)
