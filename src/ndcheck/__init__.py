"""ndcheck: a model checker for Microsoft IKE negotiation discovery (MS-IKEE §3.7).

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
    # check / prove / shortest_trace live in properties/ and engines/ (loaded on first use).
    if name == "check":
        from .properties.check import check
        return check
    if name == "shortest_trace":
        from .properties.check import shortest_trace
        return shortest_trace
    if name == "prove":
        from .engines.symbolic import prove
        return prove
    raise AttributeError(name)
