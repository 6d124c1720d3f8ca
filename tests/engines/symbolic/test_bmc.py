"""BMC finds the known violations (shortest, replayed); k-induction proves or reports a CTI."""

from __future__ import annotations

import pytest

from ndcheck import CATALOG, build_system, explore
from ndcheck.checking.check import shortest_trace
from ndcheck.checking.symbolic import prove
from ndcheck.traces.trace import Trace

KNOWN = [("qm3-race", "S-14"), ("require-inbound-auth-failure", "H-1"), ("nat-boundary", "S-1"),
         ("guaranteed-encryption", "S-7")]


@pytest.mark.parametrize("name,pid", KNOWN)
def test_bmc_finds_known_violation_with_a_shortest_replayed_trace(name, pid):
    system = build_system(CATALOG[name])
    r = prove(system, pid, engine="bmc", depth=20)
    assert r.verdict == "violated", r.note
    assert isinstance(r.trace, Trace) and r.trace.property == pid
    # replayed by trace_from_commands; as short as the explicit engine's BFS counterexample
    assert len(r.trace.steps) == len(shortest_trace(explore(system), pid).steps)


def test_bmc_without_counterexample_is_undetermined():
    r = prove("require-inbound-auth-failure", "S-3", engine="bmc", depth=3)
    assert r.verdict == "undetermined" and "3 steps" in r.note


def test_kinduction_reports_a_decoded_cti_or_proves():
    system = build_system(CATALOG["require-inbound-auth-failure"])
    graph = explore(system)
    r = prove(system, "S-3", engine="kind", depth=2, graph=graph)
    assert r.verdict in ("holds", "undetermined")
    if r.verdict == "undetermined":
        assert r.cti and "client.tcp" in r.cti[0]
        assert "spurious" in r.note or "unknown" in r.note


def test_kinduction_base_case_finds_violation():
    r = prove("guaranteed-encryption", "S-7", engine="kind", depth=2)
    assert r.verdict == "violated" and len(r.trace.steps) == 1


def test_non_safety_property_is_rejected():
    with pytest.raises(ValueError, match="safety"):
        prove("fig8-silent-peer", "L-2")


def test_lifted_budgets_counterexample_replays_in_the_rebuilt_system():
    """With --lift-budgets the retransmission budgets are symbolic; the counterexample names
    the values it needs and is replayed in the system rebuilt with them."""
    r = prove("require-inbound-auth-failure", "H-1", engine="bmc", depth=10, lift_budgets=True)
    assert r.verdict == "violated" and r.unbounded
    assert set(r.params) == {"ike.retransmissions", "tcp.data_retries", "tcp.syn_retries",
                             "tcp.synack_retries"}
    assert all(v >= 0 for v in r.params.values())
