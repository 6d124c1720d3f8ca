"""BMC's depths split by parity between two forked processes: the same shortest length as one
core, a replayed trace, none and unknown answered, and a child that dies costs a serial run."""

from __future__ import annotations

import os
import re

import pytest

from ndcheck import CATALOG, build_system
from ndcheck.checking.symbolic import prove
from ndcheck.engines.symbolic import bmc as bmc_module
from ndcheck.engines.symbolic.bad import bad_formula
from ndcheck.engines.symbolic.encode import Encoding
from ndcheck.engines.symbolic.layers import bfs_layers, constrain
from ndcheck.engines.symbolic.parity import Halves
from ndcheck.engines.symbolic.portfolio import available
from ndcheck.properties.catalog import get_property

pytestmark = pytest.mark.skipif(not available(), reason="needs fork and a second core")


@pytest.fixture(scope="module")
def premature():
    """fig7-premature-timeouts L-6: a 13-step shortest counterexample (depth 12)."""
    system = build_system(CATALOG["fig7-premature-timeouts"])
    twin = Encoding(system).bitvector_twin(20)
    return system, twin, bad_formula(twin, get_property("L-6")), constrain(twin, bfs_layers(system))


def test_two_processes_find_the_shortest_depth_and_a_replayed_trace():
    seen: list[str] = []
    one = prove("fig7-premature-timeouts", "L-6", engine="bmc")
    two = prove("fig7-premature-timeouts", "L-6", engine="bmc", workers=2, progress=seen.append)
    assert one.verdict == two.verdict == "violated"
    assert len(one.trace.steps) == len(two.trace.steps) == 13     # replayed through the machines
    # each depth told once, in order, before it is checked; two at a time, so at most one past
    depths = [int(m.removeprefix("bmc depth ")) for m in seen if re.fullmatch(r"bmc depth \d+", m)]
    assert depths == list(range(len(depths))) and depths[-1] in (12, 13)


def test_the_split_finds_the_depth_one_core_finds(premature):
    """(The same trace from process to process: tests/engines/test_determinism.py; within one
    process z3's answers already vary with the terms earlier calls created, on one core too.)"""
    _, twin, bad, hint = premature
    got = bmc_module.bmc(twin, bad, 20, hint=hint, workers=2)
    assert got.status == "found" and got.depth == 12 and len(got.commands) == 12
    assert bmc_module.bmc(twin, bad, 11, hint=hint).status == "none"    # nothing shorter


def test_no_bad_state_up_to_the_maximum_is_none_and_a_passed_deadline_unknown(premature):
    _, twin, bad, hint = premature
    got = bmc_module.bmc(twin, bad, 9, hint=hint, workers=2)
    assert got.status == "none" and got.depth == 9
    u = bmc_module.Unrolling(twin, hint=hint)
    halves = Halves(u, lambda uu, k: bmc_module.check_depth(uu, k, bad), 0, 12)
    try:
        got = halves.answer(deadline=0.0)     # already past: the first unanswered depth
    finally:
        halves.close()
    assert got is not None and got[1] == "unknown" and "time limit" in got[2]
    assert all(kid[0] == 0 and kid[1] == -1 for kid in halves.kids)    # reaped, pipes closed


def test_a_child_that_dies_costs_a_serial_run(premature, monkeypatch):
    _, twin, bad, hint = premature
    parent = os.getpid()
    real = bmc_module.check_depth

    def dies_in_a_child(u, k, b):
        if os.getpid() != parent:
            os._exit(9)
        return real(u, k, b)

    monkeypatch.setattr(bmc_module, "check_depth", dies_in_a_child)
    got = bmc_module.bmc(twin, bad, 20, hint=hint, workers=2)
    assert got.status == "found" and got.depth == 12
