"""z3 never says ``holds`` where the explicit engine says ``undetermined`` (issue: model v2,
"must stay true"): a scenario truncated by channel capacity has a closed certificate that covers
only the runs within the capacity."""

from __future__ import annotations

import dataclasses

from ndcheck import CATALOG, build_system, explore
from ndcheck.checking.check import check_graph
from ndcheck.checking.symbolic import check_safeties


def test_capacity_overflow_is_undetermined_in_both_engines():
    sc = CATALOG["qm3-race"]
    sc = dataclasses.replace(sc, name="qm3-race-capacity-1",
                             network=dataclasses.replace(sc.network, capacity=1))
    graph = explore(build_system(sc))
    assert graph.truncated and graph.overflow_states == 16
    explicit = {v.property.id: v.verdict for v in check_graph(graph, traces=False).verdicts
                if v.property.safety}
    z3 = {r.property: r.verdict for r in check_safeties(graph.system)}
    assert set(z3) == set(explicit)
    assert "holds" not in z3.values() and "holds" not in explicit.values()
    # what is refuted within the capacity stays refuted (S-14: the QM3 race of the catalog)
    assert z3["S-14"] == explicit["S-14"] == "violated"
    assert {k for k, v in z3.items() if v == "undetermined"} == \
        {k for k, v in explicit.items() if v == "undetermined"}
