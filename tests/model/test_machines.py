"""What the four machine classes share: strict python-statemachine classes with control states
and events only, every event and condition bound to IR data (one module per machine beside
this one: test_tcp_client, test_tcp_server, test_ike_initiator, test_ike_responder)."""

from __future__ import annotations

import pytest
from statemachine import StateMachine

from ndcheck.model.compose import MACHINES, machine_class
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


@pytest.mark.parametrize("scenario", sorted(CATALOG))
def test_every_transition_and_condition_has_a_binding(scenario):
    sc = CATALOG[scenario]
    for host, machines in MACHINES.items():
        ctx = Ctx(host, sc, lambda h, msgs: TRUE)
        for mod in machines.values():
            cls = machine_class(mod)
            b = mod.bind(ctx)
            for st in cls.states:
                for t in st.transitions:
                    for c in t.cond:
                        assert str(c).lstrip("!") in b.conds, (cls.__name__, str(c))
                    for ev in t.events:
                        assert b.variants(str(ev), st.id), (cls.__name__, str(ev), st.id)
