"""Flows (``[[flows]]``, issue 16): each flow its own TCP ends, flags and segments; shared SAs."""

from __future__ import annotations

import dataclasses

import pytest

from ndcheck import CATALOG, build_system
from ndcheck.model.ir import C, flow_swap
from ndcheck.model.messages import flow_of, in_flow, unflowed, wire_name
from ndcheck.model.scenario import Flow, ScenarioError, scenario_from_dict


@pytest.fixture(scope="module")
def two():
    return build_system(CATALOG["two-flows"])


@pytest.fixture(scope="module")
def crossing():
    return build_system(CATALOG["crossing-flows"])


def test_flow_names():
    assert in_flow("SYN", 1) == "SYN" and in_flow("SYN", 2) == "SYN#2"
    assert flow_of("client.snd_nxt#3") == 3 and flow_of("client.snd_nxt") == 1
    assert unflowed("DATA1#2") == "DATA1" and wire_name("DATA1#2") == "DATA" and wire_name("ACKF#2") == "ACK"


def test_one_flow_has_no_flow_table(two):
    assert build_system(CATALOG["fig7-both-capable"]).flows == ()
    assert CATALOG["fig7-both-capable"].flows == (Flow("client"),)


def test_each_flow_has_its_own_tcp_ends_flags_and_segments(two):
    assert [m for m in two.machines if "tcp" in m] == ["client.tcp", "client.tcp#2", "server.tcp", "server.tcp#2"]
    for h in ("client", "server"):
        for f in ("secure", "acquire", "flow_ge"):
            assert f"{h}.{f}" in two.index and f"{h}.{f}#2" in two.index
        # the SADs and the MMSAD are the host's, for every flow (A-16 host-to-host)
        assert f"{h}.sa_out" in two.index and f"{h}.sa_out#2" not in two.index
    assert two.machines["client.tcp#2"] is two.machines["client.tcp"]
    sends = {p.internal for c in two.commands for p in c.wire if p.sender == "client"}
    assert {"SYN", "SYN#2", "DATA1", "DATA1#2"} <= sends


def test_flow_names_correspond(two):
    a, b = two.flows
    assert (a.number, b.number, a.opener, b.opener) == (1, 2, "client", "client")
    swap = flow_swap(a, b)
    assert swap["client.tcp"] == "client.tcp#2" and swap["server.secure#2"] == "server.secure"
    assert swap["net.c2s.SYN.clear"] == "net.c2s.SYN_f2.clear" and swap["SYN-ACK#2"] == "SYN-ACK"
    # every name is a field of the system or a message id, each field of the same domain
    for x, y in zip(a.names, b.names):
        if x in two.index:
            fx, fy = two.field(x), two.field(y)
            assert (fx.lo, fx.hi, fx.init) == (fy.lo, fy.hi, fy.init), (x, y)


def test_swapping_two_flows_maps_the_commands_onto_themselves(two):
    """The automorphism behind lifting and symmetry: each command renamed is a command."""
    from ndcheck.properties.flows import orbit, rename_command

    (r,) = orbit(two)[1:]
    mine = {_norm(c) for c in two.commands}
    for c in two.commands:
        assert _norm(rename_command(two, c, r)) in mine, c.name


def _norm(c):
    """A command's guard and updates up to the order of the arguments of the commutative
    ``and``, ``or`` and ``max`` (the settled condition lists the flows' channels in alphabet
    order; the IKE service reads the flows' GE flags as max(flow 1, flow 2))."""
    def e(x):
        if x.op in ("field", "const"):
            return (x.op, x.args)
        args = tuple(e(a) for a in x.args)
        return (x.op, tuple(sorted(args, key=repr)) if x.op in ("max", "and", "or") else args)
    return e(c.guard), tuple(sorted((n, e(v)) for n, v in c.updates))


def test_a_server_opened_flow_runs_the_client_end_on_the_server(crossing):
    assert crossing.machines["server.tcp#2"] is crossing.machines["client.tcp"]
    assert crossing.machines["client.tcp#2"] is crossing.machines["server.tcp"]
    a, b = crossing.flows
    with pytest.raises(ValueError, match="not interchangeable"):
        flow_swap(a, b)
    # ND-17 at the client: the server-opened flow's SYN is a new flow there
    rows = {r for c in crossing.commands if c.name.startswith("client.tcp#2.recv_syn") for r in c.rules}
    assert "ND-17/accept-new" in rows


@pytest.mark.parametrize("raw, msg", [
    ({"flows": [{"opener": "server"}]}, "the first flow is the client's connection"),
    ({"flows": [{"opener": "client"}] * 5}, "at most 4"),
    ({"flows": [{"opener": "client"}] * 2, "network": {"reorder": False}}, "multiset channels"),
])
def test_flows_validation(raw, msg):
    with pytest.raises(ScenarioError, match=msg):
        scenario_from_dict({"name": "x", **raw})


def test_two_flows_unreduced_and_reduced_counts(two):
    from ndcheck.engines.explicit import explore

    full = explore(two, symmetry=False)
    reduced = explore(two)
    assert (full.n_states, full.n_edges) == (160692, 582778) and full.symmetry is None
    assert (reduced.n_states, reduced.n_edges) == (81508, 296142) and reduced.symmetry is not None


# -- a GE flow beside a non-GE flow (ND-7 per flow, ND-12 over host-to-host SAs, A-16) -----------


def _mixed(**knobs):
    """ge-beside-clear-flow with TOML sections changed (``ike={"server_initiator": True}``)."""
    raw = {"name": "mixed", "flows": [{"opener": "client", "guaranteed_encryption": True},
                                      {"opener": "client", "guaranteed_encryption": False}],
           "tcp": {"data_segments": 0, "server_segments": 0, "window": 1, "close": "none"},
           "ike": {"retransmissions": 1}}
    for k, v in knobs.items():
        raw[k] = {**raw.get(k, {}), **v} if isinstance(v, dict) else v
    return scenario_from_dict(raw)


def test_a_flow_has_its_own_ge_rule():
    sc = CATALOG["ge-beside-clear-flow"]
    assert [f.guaranteed_encryption for f in sc.flows] == [True, False]
    assert [sc.ge_rule(h, i) for h in ("client", "server") for i in (1, 2)] == [True, False, True, False]
    assert sc.mixed_ge("client") and sc.mixed_ge("server") and sc.any_ge
    # without the key, the hosts' policy flag (two-flows: none)
    two = CATALOG["two-flows"]
    assert two.flows[0].guaranteed_encryption is None and not two.mixed_ge("client") and not two.any_ge


def test_mixed_ge_queues_acquires_per_flag_and_builds_qm1_from_the_trigger(two):
    s = build_system(CATALOG["ge-beside-clear-flow"])
    assert "client.acq_pending_ge" in s.index and "client.acq_pending_ge" not in two.index
    # the GE flow's SYN asks for a GE Quick Mode, the other flow's for a non-GE one (ND-9)
    syn1 = next(c for c in s.commands if c.name == "client.tcp.send_syn [SYN ND-8/clear+acquire +client.acquire]")
    ups = dict(syn1.updates)
    assert "client.acq_pending_ge" in ups and "client.acq_pending" in ups
    qm = {c.name for c in s.commands if c.name.startswith("client.ike_i.acquire_qm")}
    assert {"client.ike_i.acquire_qm@established[QM1/B]", "client.ike_i.acquire_qm@established[QM1/BG]"} <= qm
    mm6 = {c.name for c in s.commands if c.name.startswith("client.ike_i.recv_mm6")}
    assert mm6 == {"client.ike_i.recv_mm6[QM1/B]", "client.ike_i.recv_mm6[QM1/BG]"}
    # the server's responder takes every QM #5 in QM-DONE as a new Quick Mode (no copies here)
    assert not any(c.name.startswith("server.ike_r.recv_qm1@established") for c in s.commands)


def test_a_ge_flow_and_a_non_ge_flow_are_not_interchangeable():
    from ndcheck.engines.symmetry import interchangeable

    s = build_system(CATALOG["ge-beside-clear-flow"])
    a, b = s.flows
    assert a.kind != b.kind and interchangeable(s) == []
    assert flow_swap(a, b)["client.secure"] == "client.secure#2"   # names still correspond


@pytest.mark.parametrize("raw, msg", [
    ({"flows": [{"opener": "client", "guaranteed_encryption": "yes"}]}, "expected a boolean"),
    ({"flows": [{"opener": "client", "guaranteed_encryption": True}, {"opener": "client"}],
      "client": {"guaranteed_encryption": True, "ale_require_encryption": True}},
     "the ALE layer applies to every flow"),
    ({"flows": [{"opener": "client", "guaranteed_encryption": True}, {"opener": "client"}],
      "network": {"loss": ["ike"]}}, "a copy of QM #5 would look like a new Quick Mode"),
])
def test_flow_ge_validation(raw, msg):
    with pytest.raises(ScenarioError, match=msg):
        scenario_from_dict({"name": "x", **raw})


def test_nd12_renegotiations_with_both_initiators_are_bounded():
    """ND-12 over one host-to-host SA (A-16): with the server's own negotiations too, QM #5s with
    alternating GE flags follow each other, but the product graph has no cycle at all -- each
    renegotiation needs a packet of a mismatching flow, a flow's packets are finite, and ND-20
    marks every flow GE once a packet arrives under a GE SA (flags only rise, A-5) -- and a run
    holds at most 7 fresh QM #5s (both hosts together)."""
    from ndcheck.engines.explicit import explore

    s = build_system(_mixed())
    g = explore(s)
    assert (g.n_states, g.n_edges) == (89220, 246411) and g.symmetry is None
    fresh = {i for i, c in enumerate(s.commands) if any(p.message == "QM1" for p in c.wire)
             and not any(e == "retransmit" for _, e, _ in c.events)}
    succ: list[list[tuple[int, int]]] = [[] for _ in range(g.n_states)]
    indeg = [0] * g.n_states
    for a, b, c in zip(g.src, g.dst, g.act):
        succ[a].append((b, int(c in fresh)))
        indeg[b] += 1
    most = [0] * g.n_states          # most fresh QM #5s on a path from the initial state
    order = [v for v in range(g.n_states) if indeg[v] == 0]
    for v in order:                  # Kahn: every state is ordered iff there is no cycle
        for b, w in succ[v]:
            most[b] = max(most[b], most[v] + w)
            indeg[b] -= 1
            if indeg[b] == 0:
                order.append(b)
    assert len(order) == g.n_states
    assert max(most) == 7


# -- per-flow Quick Mode SAs (A-16 as a knob: ike.qm_sa = "flow") ------------------------------


@pytest.fixture(scope="module")
def per_flow():
    return build_system(CATALOG["two-flows-per-flow-sa"])


def test_host_to_host_is_the_default_and_composes_todays_machines(two):
    """``qm_sa = "host"`` (the default) builds exactly the system without the knob: the split
    machines and the per-flow SAD exist only with ``"flow"`` (the pinned counts of every
    scenario, tests/model/test_catalog.py, stay)."""
    assert CATALOG["two-flows"].ike.qm_sa == "host"
    sc = dataclasses.replace(CATALOG["two-flows"],
                             ike=dataclasses.replace(CATALOG["two-flows"].ike, qm_sa="host"))
    s = build_system(sc)
    assert [f.name for f in s.fields] == [f.name for f in two.fields]
    assert [(c.name, c.guard, c.updates) for c in s.commands] == [(c.name, c.guard, c.updates) for c in two.commands]
    assert not any(k.endswith((".ike_mi", ".ike_mr", "ike_i#2")) for k in two.machines)


def test_per_flow_splits_main_mode_per_host_and_quick_mode_per_flow(per_flow):
    s = per_flow
    assert list(s.machines) == [
        "client.tcp", "client.ike_mi", "client.ike_i", "client.tcp#2", "client.ike_i#2",
        "server.tcp", "server.ike_mr", "server.ike_r", "server.tcp#2", "server.ike_r#2"]
    for h in ("client", "server"):
        for f in ("sa_in", "sa_out", "sa_ge", "sa_in_ge", "sa_boundary", "acq_pending"):
            assert f"{h}.{f}" in s.index and f"{h}.{f}#2" in s.index
        assert f"{h}.mm_sa" in s.index and f"{h}.mm_sa#2" not in s.index   # F-1: one MMSAD
    sends = {p.internal for c in s.commands for p in c.wire if p.sender == "client"}
    assert {"MM1", "QM1/B", "QM1/B#2", "QM3#2"} <= sends and "MM1#2" not in sends
    assert {p.internal for c in s.commands for p in c.wire if p.sender == "server"} >= {"QM2#2", "CONNECTED#2"}
    # the flow's names include its Quick Mode machines, SAD and messages (symmetry, lifting)
    swap = flow_swap(*s.flows)
    assert swap["client.ike_i"] == "client.ike_i#2" and swap["server.sa_out#2"] == "server.sa_out"
    assert swap["QM2#2"] == "QM2" and "MM1" not in swap and "client.ike_mi" not in swap


def test_per_flow_swap_maps_the_commands_onto_themselves(per_flow):
    from ndcheck.properties.flows import orbit, rename_command

    (r,) = orbit(per_flow)[1:]
    mine = {_norm(c) for c in per_flow.commands}
    for c in per_flow.commands:
        assert _norm(rename_command(per_flow, c, r)) in mine, c.name


def test_a_flows_nd_rows_read_its_own_sad():
    """ND-8..ND-19 for flow 2 read flow 2's SAD entries (A-16 per flow), never the host's."""
    from ndcheck.model.ir import fields_of
    from ndcheck.model.nd_rules import inbound_branches, outbound_branches

    sc = CATALOG["two-flows-per-flow-sa"]
    read = set()
    for h in ("client", "server"):
        for br in outbound_branches(h, sc, 2) + inbound_branches(h, sc, True, C(0), 2):
            read |= fields_of(br.guard)
    assert {"client.sa_out#2", "client.sa_ge#2", "server.sa_in#2"} <= read
    assert not read & {"client.sa_out", "client.sa_ge", "server.sa_in"}


def test_per_flow_counts_and_symmetry_keeps_the_verdicts(per_flow):
    from ndcheck.checking.check import check_graph
    from ndcheck.engines.explicit import explore

    full = explore(per_flow, symmetry=False)
    reduced = explore(per_flow)
    assert (full.n_states, full.n_edges) == (24576, 81574) and full.symmetry is None
    assert (reduced.n_states, reduced.n_edges) == (12392, 41145) and reduced.symmetry is not None
    a, b = (check_graph(g, traces=False) for g in (full, reduced))
    assert [(v.property.id, v.verdict) for v in a.verdicts] == [(v.property.id, v.verdict) for v in b.verdicts]
    assert {v.property.id for v in a.verdicts if v.verdict != "holds"} == {"H-1", "L-1", "L-6"}


def test_flow_1s_sa_never_upgrades_flow_2_but_does_host_to_host():
    """F-3 (an SA upgrades only its own flow) holds with per-flow SAs and fails when the same
    scenario has host-to-host SAs: the Quick Mode one flow triggers upgrades both clear flows in
    one step (ND-14 on their next packets, A-16)."""
    from ndcheck.engines.explicit import explore
    from ndcheck.properties.catalog import get_property
    from tests import catalog_cache

    f3 = get_property("F-3")
    sc = CATALOG["two-flows-per-flow-sa"]
    host = build_system(dataclasses.replace(sc, name="two-flows-host-sa", expect={}, causes={},
                                            ike=dataclasses.replace(sc.ike, qm_sa="host")))
    assert not f3.applies(host)   # the catalog checks it where qm_sa = "flow"
    r = catalog_cache.result("two-flows-per-flow-sa")
    assert next(v.verdict for v in r.verdicts if v.property.id == "F-3") == "holds"
    v = check_graph_with(explore(host), dataclasses.replace(f3, applies=lambda s: True))
    assert v.verdict == "violated"


def check_graph_with(graph, prop):
    from ndcheck.checking.check import check_graph

    (v,) = check_graph(graph, [prop], traces=False).verdicts
    return v


def test_per_flow_ge_flows_negotiate_once_each():
    """ge-beside-clear-flow with per-flow SAs: no ND-12 ping-pong (F-2 holds) -- a run holds at
    most one fresh QM #5 per flow, where host-to-host SAs renegotiate in turn."""
    from ndcheck.engines.explicit import explore

    s = build_system(CATALOG["ge-beside-clear-flow-per-flow-sa"])
    g = explore(s)
    assert (g.n_states, g.n_edges) == (1928, 4978)
    fresh = {i: flow_of(p.internal) for i, c in enumerate(s.commands) for p in c.wire
             if p.message == "QM1" and not any(e == "retransmit" for _, e, _ in c.events)}
    most = {1: [0] * g.n_states, 2: [0] * g.n_states}
    succ: list[list[tuple[int, int]]] = [[] for _ in range(g.n_states)]
    indeg = [0] * g.n_states
    for a, b, c in zip(g.src, g.dst, g.act):
        succ[a].append((b, fresh.get(c, 0)))
        indeg[b] += 1
    order = [v for v in range(g.n_states) if indeg[v] == 0]
    for v in order:
        for b, fl in succ[v]:
            for k in (1, 2):
                most[k][b] = max(most[k][b], most[k][v] + (fl == k))
            indeg[b] -= 1
            if indeg[b] == 0:
                order.append(b)
    assert len(order) == g.n_states          # acyclic
    assert max(most[1]) == max(most[2]) == 1


@pytest.mark.parametrize("knobs, msg", [
    ({"ike": {"qm_sa": "port"}}, "allowed: host, flow"),
    ({"ike": {"qm_sa": "flow", "delete": "client"}}, "ike.delete = 'client'"),
    ({"ike": {"qm_sa": "flow", "mm_expiry": True}}, "allowed: mm_expiry = false"),
    ({"ike": {"qm_sa": "flow"}, "peer": "qm-refused"}, "any peer but qm-refused"),
    ({"ike": {"qm_sa": "flow"}, "time": {"mode": "timed"}, "flows": [{"opener": "client"}]}, "allowed: untimed"),
])
def test_per_flow_validation(knobs, msg):
    raw = {"name": "x", "flows": [{"opener": "client"}] * 2, **knobs}
    with pytest.raises(ScenarioError, match=msg):
        scenario_from_dict(raw)
