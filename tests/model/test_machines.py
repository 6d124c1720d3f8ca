"""The four machine classes: control states and events only, every event bound to IR data."""

from __future__ import annotations

import pytest
from statemachine import StateMachine

from ndcheck.model.compose import MACHINES, _machine_class
from ndcheck.model.ir import TRUE
from ndcheck.model.machines import IkeInitiator, IkeResponder, TcpClient, TcpServer
from ndcheck.model.machines.base import Ctx
from ndcheck.model.scenario import CATALOG

CLASSES = [TcpClient, TcpServer, IkeInitiator, IkeResponder]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_machine_is_a_strict_statemachine_with_spec_state_names(cls):
    assert issubclass(cls, StateMachine)
    names = [s.name for s in cls.states]
    assert len(set(names)) == len(names)
    assert sum(1 for s in cls.states if s.initial) == 1
    # Instantiating checks that every cond name resolves to a method.
    inst = cls()
    assert inst.current_state_value == next(s.id for s in cls.states if s.initial)


def test_expected_states_of_each_machine():
    assert [s.name for s in TcpClient.states] == [
        "CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "TIME-WAIT", "CLOSED-DONE", "FAILED"]
    assert [s.name for s in TcpServer.states] == [
        "LISTEN", "SYN-RECEIVED", "ESTABLISHED", "LAST-ACK", "CLOSED"]
    assert [s.name for s in IkeInitiator.states] == [
        "IDLE", "MM1-SENT", "MM3-SENT", "MM5-SENT", "QM1-SENT", "QM3-SENT", "QM-DONE", "FAILED",
        "SA-EXPIRED"]
    assert [s.name for s in IkeResponder.states] == [
        "IDLE", "MM2-SENT", "MM4-SENT", "MM-DONE", "QM2-SENT", "QM-DONE", "FAILED"]


@pytest.mark.parametrize("scenario", sorted(CATALOG))
def test_every_transition_and_condition_has_a_binding(scenario):
    sc = CATALOG[scenario]
    for host, machines in MACHINES.items():
        ctx = Ctx(host, sc, lambda h, msgs: TRUE)
        for mod in machines.values():
            cls = _machine_class(mod)
            b = mod.bind(ctx)
            for st in cls.states:
                for t in st.transitions:
                    for c in t.cond:
                        assert str(c).lstrip("!") in b.conds, (cls.__name__, str(c))
                    for ev in t.events:
                        assert b.variants(str(ev), st.id), (cls.__name__, str(ev), st.id)


def test_responder_never_retransmits_on_its_own():
    """ND-28: every responder step that sends is a reaction to a received message."""
    sc = CATALOG["fig7-both-capable"]
    from ndcheck.model.machines import ike_responder

    b = ike_responder.bind(Ctx("server", sc, lambda h, msgs: TRUE))
    for key, variants in b.effects.items():
        for v in variants:
            if v.send:
                assert v.recv, key


def test_initiator_acquire_is_driven_only():
    assert IkeInitiator.DRIVEN_EVENTS == ("acquire", "sa_expire")
