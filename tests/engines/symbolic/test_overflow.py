"""z3 never says ``holds`` where the explicit engine says ``undetermined`` (issue: model v2,
"must stay true"): a scenario truncated by channel capacity has a closed certificate that covers
only the runs within the capacity."""

from __future__ import annotations

import dataclasses

from ndcheck import CATALOG, build_system, explore
from ndcheck.checking.check import check_graph
from ndcheck.checking.symbolic import check_safeties


def test_capacity_overflow_is_undetermined_in_both_engines():
    # nd-client-transport-server (commit bit off: the A-2 race of S-14) with a network that
    # duplicates a packet into channels of capacity 1: the copy overflows (z3 certifies this
    # 140-state graph in seconds; qm3-race's takes minutes since both hosts run IKE)
    sc = CATALOG["nd-client-transport-server"]
    sc = dataclasses.replace(sc, name="nd-client-transport-server-capacity-1",
                             network=dataclasses.replace(sc.network, capacity=1, duplicate=1))
    graph = explore(build_system(sc))
    assert graph.truncated and graph.overflow_states == 124
    explicit = {v.property.id: v.verdict for v in check_graph(graph, traces=False).verdicts
                if v.property.safety}
    z3 = {r.property: r.verdict for r in check_safeties(graph.system)}
    assert set(z3) == set(explicit)
    assert "holds" not in z3.values() and "holds" not in explicit.values()
    # what is refuted within the capacity stays refuted (S-14: the QM #7 race, A-2)
    assert z3["S-14"] == explicit["S-14"] == "violated"
    assert {k for k, v in z3.items() if v == "undetermined"} == \
        {k for k, v in explicit.items() if v == "undetermined"}
