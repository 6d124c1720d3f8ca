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
    """Every transition has a binding; a scenario's knobs may leave it without variants (no
    server data with ``tcp.server_segments = 0``), the catalog as a whole may not (below)."""
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
                        assert isinstance(b.variants(str(ev), st.id), list), (cls.__name__, str(ev), st.id)


def test_every_transition_has_variants_in_some_catalog_scenario():
    missing = {(machine_class(mod).__name__, str(ev), st.id)
               for machines in MACHINES.values() for mod in machines.values()
               for st in machine_class(mod).states for t in st.transitions for ev in t.events}
    for sc in CATALOG.values():
        for host, machines in MACHINES.items():
            ctx = Ctx(host, sc, lambda h, msgs: TRUE)
            for mod in machines.values():
                cls, b = machine_class(mod), mod.bind(ctx)
                missing -= {(cls.__name__, str(ev), st.id) for st in cls.states
                            for t in st.transitions for ev in t.events if b.variants(str(ev), st.id)}
    assert missing == set()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_condition_methods_are_derived_from_cond_and_unless_names(cls):
    """Each ``cond``/``unless`` name is a method made from the name (declared once, in the
    transition), never written by the class; the binding's ``conds`` are exactly those names."""
    from ndcheck.model.machines.base import condition_names

    names = condition_names(cls)
    assert names
    for n in names:
        assert getattr(cls, n).__wrapped_condition__ == n
    sc = CATALOG["fig7-both-capable"]
    host = next(h for h, ms in MACHINES.items() for mod in ms.values() if machine_class(mod) is cls)
    mod = next(mod for mod in MACHINES[host].values() if machine_class(mod) is cls)
    assert sorted(mod.bind(Ctx(host, sc, lambda h, msgs: TRUE)).conds) == sorted(names)


def test_a_machine_writing_its_own_condition_method_is_a_model_error():
    from statemachine import State

    from ndcheck.model.machines.base import BoundMachine, ModelError

    with pytest.raises(ModelError, match="Selfish defines 'ready' itself"):
        class Selfish(BoundMachine):
            idle = State("IDLE", initial=True)
            done = State("DONE", final=True)
            go = idle.to(done, cond="ready")

            def ready(self) -> bool:
                return True


def test_variants_of_an_unbound_pair_is_a_model_error():
    from ndcheck.model.machines.base import Binding, ModelError

    with pytest.raises(ModelError, match="no effects for recv_ack@syn_received"):
        Binding().variants("recv_ack", "syn_received")
