"""IkeInitiator: Main Mode and Quick Mode as the initiator; acquires come from the ND rules."""

from __future__ import annotations

from ndcheck.model.machines import IkeInitiator


def test_states():
    assert [s.name for s in IkeInitiator.states] == [
        "IDLE", "MM1-SENT", "MM3-SENT", "MM5-SENT", "QM1-SENT", "QM3-SENT", "QM-DONE", "FAILED",
        "SA-EXPIRED"]


def test_acquire_is_driven_only():
    assert IkeInitiator.DRIVEN_EVENTS == ("acquire", "sa_expire")
