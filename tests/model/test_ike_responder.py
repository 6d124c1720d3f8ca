"""IkeResponder: Main Mode and Quick Mode as the responder, which never retransmits (ND-28)."""

from __future__ import annotations

from ndcheck.model.ir import TRUE
from ndcheck.model.machines import IkeResponder, ike_responder
from ndcheck.model.machines.base import Ctx
from ndcheck.model.scenario import CATALOG


def test_states():
    assert [s.name for s in IkeResponder.states] == [
        "IDLE", "MM2-SENT", "MM4-SENT", "MM-DONE", "QM2-SENT", "QM-DONE", "FAILED"]


def test_never_retransmits_on_its_own():
    """ND-28: every responder step that sends is a reaction to a received message."""
    b = ike_responder.bind(Ctx("server", CATALOG["fig7-both-capable"], lambda h, msgs: TRUE))
    for key, variants in b.effects.items():
        for v in variants:
            if v.send:
                assert v.recv, key
