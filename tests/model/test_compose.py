"""Composition: build-time checks, command structure, rule traceability."""

from __future__ import annotations

import pytest

from ndcheck.model import compose
from ndcheck.model.compose import ModelError, build_system
from ndcheck.model.ir import C, F, eq, ite, or_
from ndcheck.model.machines import tcp_server
from ndcheck.model.machines.base import V
from ndcheck.model.nd_rules import ALL_ROWS
from ndcheck.model.scenario import CATALOG


@pytest.fixture
def fresh_builds(monkeypatch):
    """The test patches the model's code and builds: no build is taken from, or left in, the
    process's cache of composed systems (compose._BUILT)."""
    monkeypatch.setattr(compose, "BUILT_SIZE", 0)
    monkeypatch.setattr(compose, "_BUILT", type(compose._BUILT)())


def test_unmatched_send_is_rejected_with_a_clear_message(monkeypatch, fresh_builds):
    original = tcp_server.bind

    def bad_bind(ctx):
        b = original(ctx)
        b.effects["recv_ack@syn_received"] = b.effects["recv_ack@syn_received"] + [V(recv="ACK", send=["URG"])]
        return b

    monkeypatch.setattr(tcp_server, "bind", bad_bind)
    with pytest.raises(ModelError, match="server sends URG but no client machine event receives it"):
        build_system(CATALOG["fig7-both-capable"])


def test_unmatched_receive_is_rejected_with_a_clear_message(monkeypatch, fresh_builds):
    original = tcp_server.bind

    def bad_bind(ctx):
        b = original(ctx)
        b.effects["recv_ack@syn_received"] = b.effects["recv_ack@syn_received"] + [V(recv="PING")]
        return b

    monkeypatch.setattr(tcp_server, "bind", bad_bind)
    with pytest.raises(ModelError, match="server receives PING but no client machine event sends it"):
        build_system(CATALOG["fig7-both-capable"])


def test_a_scenario_is_composed_once_and_each_caller_gets_its_own_copy(monkeypatch):
    monkeypatch.setattr(compose, "_BUILT", type(compose._BUILT)())
    calls = []
    real = compose._compose
    monkeypatch.setattr(compose, "_compose", lambda sc: calls.append(sc.name) or real(sc))
    sc = CATALOG["fig8-silent-peer"]
    a, b = build_system(sc), build_system(sc)
    assert calls == ["fig8-silent-peer"]
    assert a is not b and a.commands == b.commands and a.fields == b.fields
    a.commands.pop()
    a.cache["x"] = 1
    a.mutant = "changed"
    a.conds[next(iter(a.conds))]["extra"] = C(1)
    c = build_system(sc)
    assert len(c.commands) == len(b.commands) and c.cache == {} and c.mutant is None
    assert all("extra" not in conds for conds in c.conds.values())
    assert c.index == b.index
    # another scenario is composed on its own
    build_system(CATALOG["fig8-no-credential"])
    assert calls == ["fig8-silent-peer", "fig8-no-credential"]


@pytest.mark.parametrize("scenario", sorted(CATALOG))
def test_commands_are_named_uniquely_and_cite_known_rules(scenario):
    system = build_system(CATALOG[scenario])
    names = [c.name for c in system.commands]
    assert len(names) == len(set(names))
    row_ids = {r.id for r in ALL_ROWS}
    for c in system.commands:
        for r in c.rules:
            assert r in row_ids or r in {f"ND-{i}" for i in range(1, 31)} | {f"A-{i}" for i in range(1, 24)}, r
        # Every TCP segment a host emits went through its outbound decision table.
        if c.kind in ("send", "deliver") and any(p.protection for p in c.wire):
            assert any(r in row_ids for r in c.rules), c.name


def test_sequential_composition_sees_earlier_updates():
    """A server that accepts an ESP SYN (ND-19: Secure := 1) decides its SYN-ACK on Secure = 1."""
    system = build_system(CATALOG["fig7-both-capable"])
    cmd = next(c for c in system.commands
               if c.name.startswith("server.tcp.recv_syn@listen <SYN esp ND-19/accept> [SYN-ACK ND-10/held"))
    # Held needs Secure=1 and no outbound SA: it is enabled although Secure was 0 before the step.
    assert "server.secure" not in {f for f in _read_fields(cmd.guard)} or True
    s = list(system.init)
    ix = system.index
    s[ix["client.tcp"]] = 1
    s[ix["server.sa_in"]] = 1
    s[ix["net.c2s.SYN.esp"]] = 1
    nxt = system.step(cmd, s)
    assert nxt is not None
    assert nxt[ix["server.secure"]] == 1 and nxt[ix["net.s2c.SYN_ACK.clear"]] == 0


def _read_fields(e):
    from ndcheck.model.ir import fields_of
    return fields_of(e)


def test_both_hosts_have_an_initiator_and_a_responder():
    """DESIGN: both hosts run IKE in both roles; the server's outbound ND rule starts its own
    negotiation (ND-8, A-13) through its IKE service, never inside the TCP step."""
    system = build_system(CATALOG["fig7-both-capable"])
    assert [k for k in system.machines] == ["client.tcp", "client.ike_i", "client.ike_r",
                                            "server.tcp", "server.ike_i", "server.ike_r"]
    assert system.machines["server.ike_i"] is compose.MACHINES["server"]["ike_i"].IkeInitiator
    assert system.machines["client.ike_r"] is compose.MACHINES["client"]["ike_r"].IkeResponder
    # The server's MM #1 leaves from its initiator's own step (the queued acquire), not with the
    # SYN-ACK that triggered it; only the client's very first trigger may take MM #1 at once (Q3).
    mm1 = [c for c in system.commands if any(p.wire() == "server>client MM1" for p in c.wire)]
    assert {c.name for c in mm1} >= {"server.ike_i.acquire_mm@idle", "server.ike_i.acquire_mm@failed"}
    assert all(c.name.startswith(("server.ike_i.", "server.tcp.")) for c in mm1)
    # Host-shared IKE state: the MMSAD and the acquire queue are host fields, one per host.
    for h in ("client", "server"):
        for f in ("mm_sa", "mm_nd", "acq_pending"):
            assert f"{h}.{f}" in system.index


@pytest.mark.parametrize("scenario, server_roles", [
    ("fig8-silent-peer", ["server.tcp", "server.ike_r"]),          # no IKE stack: no initiator
    ("fig8-icmp-peer", ["server.tcp", "server.ike_r"]),
    ("no-proposal-peer", ["server.tcp", "server.ike_r"]),          # outbound none: no trigger
    ("require-inbound-auth-failure", ["server.tcp", "server.ike_i", "server.ike_r"]),
    ("non-nd-peer", ["server.tcp", "server.ike_i", "server.ike_r"]),  # ND-15 require triggers
    ("fig7-lossy", ["server.tcp", "server.ike_r"]),                # ike.server_initiator = false
])
def test_the_server_initiates_where_its_rule_triggers_ike_and_it_runs_ike(scenario, server_roles):
    system = build_system(CATALOG[scenario])
    assert [k for k in system.machines if k.startswith("server.")] == server_roles
    # The client answers as responder exactly where the server initiates.
    assert ("client.ike_r" in system.machines) == ("server.ike_i" in system.machines)


# ---- the pipeline: forks and stages ------------------------------------------------------------


def test_a_fork_composes_stages_sequentially():
    """``cond`` and ``set`` read the state after the fork's updates; ``add`` only collects."""
    from ndcheck.model.compose import Fork
    from ndcheck.model.ir import C, F, add, eq, show

    f = Fork().cond(eq(F("x"), 0)).set({"x": C(1)}).cond(eq(F("x"), 1)).set({"y": add(F("x"), 1)})
    assert show(f.guard) == "(x == 0)"              # x == 1 after x := 1 folds to true
    assert f.updates == {"x": C(1), "y": C(2)}
    g = f.add(name=" a", rules=("ND-8/clear",)).add(name=" b", rules=("ND-8/clear", "A-4"))
    cmd = g.command("step", "send", ("client",))
    assert cmd.name == "step a b" and cmd.rules == ("ND-8/clear", "A-4")
    assert cmd.updates == (("x", C(1)), ("y", C(2))) and f.name == ""   # forks are values


def test_the_stages_are_functions_citing_their_rules():
    from ndcheck.model.compose import Composer

    for stage, ids in {"receive": ("ND-16", "ND-20"), "send": ("ND-6", "ND-7", "ND-15"),
                       "acquire": ("ND-8", "ND-10", "A-4"), "drops": ("ND-17",),
                       "expiry": ("A-5", "L-5"), "grace": ("A-14",)}.items():
        doc = getattr(Composer, stage).__doc__
        assert all(i in doc for i in ids), (stage, ids)
    assert Composer.enable.__doc__ and Composer.step.__doc__


def test_acquire_forks_name_the_branch_they_compose():
    """ND-8 with Acquire = 0 queues an acquire to the client's IKE service (coalesced while one is
    pending or a negotiation runs, A-4); as the flow's first trigger it may also be taken at once,
    MM #1 leaving in the same step (either order on the wire, timers-failures Q3)."""
    system = build_system(CATALOG["fig7-both-capable"])
    names = [c.name for c in system.commands if c.name.startswith("client.tcp.send_syn [SYN ND-8/")]
    assert names == ["client.tcp.send_syn [SYN ND-8/clear+acquire +client.acquire]",
                     "client.tcp.send_syn [SYN ND-8/clear+acquire +client.acquire +client.ike_i.acquire_mm@idle]",
                     "client.tcp.send_syn [SYN ND-8/clear]"]
    queued, at_once = (next(c for c in system.commands if c.name == n) for n in names[:2])
    assert [p.wire() for p in queued.wire] == ["client>server SYN clear"]
    assert dict(queued.updates)["client.acq_pending"] == ite(
        or_(*[eq(F("client.ike_i"), i) for i in (1, 2, 3, 4, 5)], eq(F("client.acq_pending"), 1)),
        F("client.acq_pending"), C(1))
    assert queued.rules == ("ND-8/clear+acquire", "A-4")
    assert [p.wire() for p in at_once.wire] == ["client>server SYN clear", "client>server MM1"]
    assert at_once.events == (("client.tcp", "send_syn", "closed"), ("client.ike_i", "acquire_mm", "idle"))
    assert at_once.rules == ("ND-8/clear+acquire", "ND-1")
    assert dict(at_once.updates)["client.acq_pending"] == C(0)


def test_a_queued_acquire_is_taken_later_or_dropped_when_stale():
    """Q1-Q3: the IKE service takes the acquire in a step of its own -- MM #1 with no MM SA
    (ND-1/ND-11), QM #5 over an MM SA either role negotiated (D3) -- or drops it when the flow
    has found a usable outbound SA by then (choice X-3, README)."""
    system = build_system(CATALOG["fig7-both-capable"])
    ix = system.index
    s = list(system.init)
    s[ix["server.acq_pending"]] = 1
    take = {c.name: c for c in system.commands if c.name.startswith("server.ike_i.")}
    assert system.step(take["server.ike_i.acquire_mm@idle"], s)[ix["server.ike_i"]] == 1   # MM1-SENT
    assert system.step(take["server.ike_i.acquire_qm@idle[QM1/B]"], s) is None
    s[ix["server.mm_sa"]] = 1            # e.g. its responder completed the client's Main Mode
    assert system.step(take["server.ike_i.acquire_mm@idle"], s) is None
    nxt = system.step(take["server.ike_i.acquire_qm@idle[QM1/B]"], s)
    assert nxt[ix["server.ike_i"]] == 4 and nxt[ix["server.acq_pending"]] == 0   # QM1-SENT
    s[ix["server.sa_out"]] = 1           # its responder installed an outbound SA meanwhile
    assert system.step(take["server.ike_i.acquire_qm@idle[QM1/B]"], s) is None
    nxt = system.step(take["server.ike_i.drop_stale_acquire@idle[stale]"], s)
    assert nxt[ix["server.ike_i"]] == 0 and nxt[ix["server.acq_pending"]] == 0


# ---- each transition declared once: bindings are held to their class ------------------------------


def _patched_server_binding(monkeypatch, change):
    original = tcp_server.bind

    def bad_bind(ctx):
        b = original(ctx)
        change(b)
        return b

    monkeypatch.setattr(tcp_server, "bind", bad_bind)


def test_a_misspelt_effects_key_is_a_model_error_listing_the_valid_keys(monkeypatch, fresh_builds):
    _patched_server_binding(monkeypatch, lambda b: b.effects.update(send_dada=b.effects["send_data"]))
    with pytest.raises(ModelError) as e:
        build_system(CATALOG["fig7-both-capable"])
    msg = str(e.value)
    assert "TcpServer binding: effects key 'send_dada'" in msg and "did you mean 'send_data'" in msg
    assert "valid keys: recv_syn, recv_syn@listen, recv_syn@syn_received," in msg


def test_a_misspelt_source_state_is_a_model_error(monkeypatch, fresh_builds):
    _patched_server_binding(monkeypatch, lambda b: b.effects.update(
        {"recv_fin@last_akc": b.effects.pop("recv_fin@last_ack")}))
    with pytest.raises(ModelError, match="effects key 'recv_fin@last_akc' .*did you mean 'recv_fin@last_ack'"):
        build_system(CATALOG["fig7-both-capable"])


def test_a_missing_effects_key_is_a_model_error_not_a_key_error(monkeypatch, fresh_builds):
    _patched_server_binding(monkeypatch, lambda b: b.effects.pop("recv_ack@syn_received"))
    with pytest.raises(ModelError) as e:
        build_system(CATALOG["fig7-both-capable"])
    assert "TcpServer binding: no effects for recv_ack@syn_received (key 'recv_ack' or " \
           "'recv_ack@syn_received'); valid keys: " in str(e.value)


def test_a_shadowed_event_key_is_a_model_error(monkeypatch, fresh_builds):
    def shadow(b):
        b.effects["recv_fin"] = b.effects["recv_fin@established"]
    _patched_server_binding(monkeypatch, shadow)
    with pytest.raises(ModelError, match="effects key 'recv_fin' is never used"):
        build_system(CATALOG["fig7-both-capable"])


def test_condition_names_must_match_the_class(monkeypatch, fresh_builds):
    _patched_server_binding(monkeypatch, lambda b: b.conds.update(all_recieved=b.conds.pop("all_received")))
    with pytest.raises(ModelError, match="condition 'all_recieved' is used by no transition of TcpServer"
                                         "; did you mean 'all_received'"):
        build_system(CATALOG["fig7-both-capable"])


# ---- packets carry their facts ----------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["fig7-both-capable", "guaranteed-encryption", "transport-mode",
                                      "fig7-fifo"])
def test_packets_carry_their_message_id_and_outbound_row(scenario):
    from ndcheck.model.messages import wire_name
    from ndcheck.model.nd_rules import OUTBOUND_ND, OUTBOUND_NONE, OUTBOUND_REQUIRE

    rows = {r.id: r for r in OUTBOUND_ND + OUTBOUND_REQUIRE + OUTBOUND_NONE}
    system = build_system(CATALOG[scenario])
    for c in system.commands:
        for p in c.wire:
            assert p.internal and wire_name(p.internal) == p.message, c.name
            if p.protection:   # a TCP segment: the row that chose its protection
                assert rows[p.rule].action == p.protection and p.rule in c.rules
                assert f"[{p.internal} {p.rule}" in c.name, c.name
            else:
                assert p.rule == ""
        for p in c.held:
            assert rows[p.rule].action == "held" and p.protection is None and p.sender == c.tags[0]
            assert f"[{p.internal} {p.rule}" in c.name
        held_rows = [r for r in c.rules if r in rows and rows[r].action == "held"]
        assert [p.rule for p in c.held] == held_rows, c.name


def test_packet_equality_is_what_the_wire_shows():
    from ndcheck.model.ir import Packet

    made = Packet("client", "server", "DATA", "clear", internal="DATA2", rule="ND-8/clear")
    assert made == Packet("client", "server", "DATA", "clear") and made.wire() == "client>server DATA clear"
    assert hash(made) == hash(Packet("client", "server", "DATA", "clear"))


# ---- static pruning ---------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["fig7-both-capable", "fig7-fifo", "fig7-lossy", "ge-server-only"])
def test_leaving_out_variants_that_cannot_fire_changes_no_behaviour(scenario, monkeypatch, fresh_builds):
    """Composer.live leaves out the variants a scenario's constants make impossible (the close
    with tcp.close = "none", SA-EXPIRED without ike.sa_expiry ...): the explored graph is the
    same with every variant composed."""
    from ndcheck.engines.explicit import explore

    pruned = build_system(CATALOG[scenario])
    a = explore(pruned)
    monkeypatch.setattr(compose.Composer, "variants",
                        lambda self, key, ev, st: self.bindings[key].variants(ev, st))
    full = build_system(CATALOG[scenario])
    b = explore(full)
    assert len(full.commands) > len(pruned.commands)
    assert (a.n_states, a.n_edges) == (b.n_states, b.n_edges)
    assert sorted(a.states) == sorted(b.states)
