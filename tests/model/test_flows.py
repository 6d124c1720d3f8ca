"""Flows (``[[flows]]``, issue 16): each flow its own TCP ends, flags and segments; shared SAs."""

from __future__ import annotations

import pytest

from ndcheck import CATALOG, build_system
from ndcheck.model.ir import flow_swap
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
