"""Pinned verdicts of every catalog scenario, the [expect] tables, and exact shortest counterexamples."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

import ndcheck
from ndcheck import CATALOG
from ndcheck.checking.check import shortest_trace
from tests import catalog_cache as _catalog_cache

# scenario: (number of applicable properties, properties that do not hold, vacuous properties)
# Vacuous: H-1, L-1 and L-6 where IKE cannot fail (a capable peer, no IKE loss, no premature
# timeouts); S-1 and S-2 where no flow can become Secure (a peer without IPsec); L-6 in
# sa-expiry-peer-gone (the client's IKE fails only re-keying a flow that is already Secure).
# ND-27 (a refusing NOTIFY ends the negotiation) applies against the peers that send one
# (no-proposal, no-credential, qm-refused); W-7 also where only a premature IKE timer
# (fig7-premature-timeouts) or the failed re-keying (sa-expiry-peer-gone) makes IKE fail.
# A capable-no-nd peer completes IKE: H-1, L-1, L-6 vacuous; S-11, S-13 claim the absence of
# NDSupported / SA.Boundary at the client (ND-4, ND-23); L-4 violated as in nd-client-transport-server;
# ND-28 (an MS-IKEE rule for the Windows responder) applies to it only through the client's
# responder, which answers the peer's own negotiation.
# Both hosts negotiate: L-7 (concurrent acquires converge) applies wherever both have an
# outbound ND rule toward a capable peer and no IKE message is lost; it is vacuous in
# fig19-require-inbound (the ND_SECURE server's first reply leaves over the client's SA).
# The server's own GE Quick Mode makes W-9 hold in ge-server-only and ge-marking-after and
# breaks L-3 there (ND-20 + ND-12/A-8, and D10 replacing a GE SA by a non-GE one); its queued
# acquire taken after the expiry makes L-6 hold (not vacuous) in sa-expiry-peer-gone;
# crossing-ike-loss shows L-1 and L-6 violated when one of two negotiations fails.
# A DELETE (qm-delete-rekey) and the MM SA's own expiry (mm-expiry-rekey) lose SAs as the QM
# lifetime does: the same three violations as sa-expiry-rekey; W-12 (a re-key over a new Main
# Mode) applies only where the MM SA can expire.
_NO_IKE_FAILURE = {"H-1", "L-1", "L-6"}
_NEVER_SECURE = {"S-1", "S-2"}
PINNED = {
    "allow-clear-grace": (24, {"S-2"}, _NO_IKE_FAILURE),
    "crossing-ike-loss": (23, {"L-1", "L-6"}, set()),
    "fig18-boundary-server": (24, set(), _NO_IKE_FAILURE),
    "fig19-lossy": (24, {"H-1", "L-1", "L-4", "W-8"}, set()),
    "fig19-require-inbound": (23, set(), _NO_IKE_FAILURE | {"L-7"}),
    "fig7-both-capable": (24, set(), _NO_IKE_FAILURE),
    "fig7-duplicates": (23, set(), _NO_IKE_FAILURE),
    "fig7-fifo": (24, set(), _NO_IKE_FAILURE),
    "fig7-lossy": (21, {"L-6"}, set()),
    "fig7-premature-timeouts": (20, {"L-6"}, set()),
    "fig8-icmp-peer": (16, set(), _NEVER_SECURE),
    "fig8-no-credential": (18, set(), _NEVER_SECURE),
    "fig8-no-credential-lossy": (14, set(), _NEVER_SECURE),
    "fig8-silent-lossy": (11, set(), _NEVER_SECURE),
    "fig8-silent-peer": (15, set(), _NEVER_SECURE),
    "ge-marking-after": (25, {"L-3", "S-6", "S-7"}, _NO_IKE_FAILURE),
    "ge-server-only": (25, {"L-3", "S-7"}, _NO_IKE_FAILURE),
    "guaranteed-encryption": (25, {"S-7"}, _NO_IKE_FAILURE),
    "guaranteed-encryption-ale": (25, {"L-3", "W-5"}, _NO_IKE_FAILURE | {"L-7"}),
    "nat-boundary": (24, {"S-1", "T-1", "T-2"}, _NO_IKE_FAILURE),
    "nd-client-transport-server": (22, {"S-14"}, _NO_IKE_FAILURE),
    "no-proposal-peer": (17, set(), _NEVER_SECURE),
    "non-nd-peer": (22, set(), _NO_IKE_FAILURE),
    "qm-refused-peer": (19, set(), _NEVER_SECURE),
    "qm3-race": (24, {"S-14"}, _NO_IKE_FAILURE),
    "require-inbound-auth-failure": (16, {"H-1", "L-1", "W-1", "W-2", "W-8"}, _NEVER_SECURE),
    "sa-expiry-peer-gone": (24, {"L-3", "L-5", "S-14", "W-11"}, set()),
    "sa-expiry-rekey": (23, {"L-3", "L-5", "S-14"}, _NO_IKE_FAILURE),
    "qm-delete-rekey": (24, {"L-3", "L-5", "S-14"}, _NO_IKE_FAILURE),
    "mm-expiry-rekey": (24, {"L-3", "L-5", "S-14"}, _NO_IKE_FAILURE),
    "transport-mode": (13, set(), set()),
    # Timed: the figures keep their untimed verdicts and add H-3 and T-3 (within); the pre-ND
    # policy violates H-3 by configuration (3 s soft SA, digest §6.4); no-ipsec has no SA.
    # W-13 (time passes with a timer running) fails only in the lossless baseline without IPsec.
    "no-ipsec": (10, {"W-13"}, {"S-13"}),
    "legacy-fallback-silent-peer": (5, {"H-3"}, set()),
    "fig7-timed": (27, set(), _NO_IKE_FAILURE),
    "fig8-timed": (18, set(), _NEVER_SECURE),
    "fig18-timed": (27, set(), _NO_IKE_FAILURE),
    "fig19-timed": (25, set(), _NO_IKE_FAILURE | {"L-7"}),
    # Flows (issue 16): the figure-7 hosts with two small connections; every per-flow property
    # for each client-opened flow, F-1 and W-14 across flows.
    "two-flows": (26, set(), _NO_IKE_FAILURE),
    "crossing-flows": (26, set(), _NO_IKE_FAILURE),
    # A GE flow beside a non-GE flow over host-to-host SAs: S-7 as in guaranteed-encryption,
    # F-2 the ND-12 renegotiations taking the SA from under a secured flow; no data, so no T-*.
    "ge-beside-clear-flow": (24, {"S-7", "F-2"}, _NO_IKE_FAILURE),
    # Per-flow Quick Mode SAs (A-16, ike.qm_sa = "flow"): F-3 and W-15 besides; F-2 holds.
    "two-flows-per-flow-sa": (27, set(), _NO_IKE_FAILURE),
    "ge-beside-clear-flow-per-flow-sa": (26, {"S-7"}, _NO_IKE_FAILURE),
}


@pytest.fixture(scope="module")
def results():
    return {name: _catalog_cache.result(name) for name in sorted(CATALOG)}


def test_pinned_covers_the_catalog():
    assert set(PINNED) == set(CATALOG)


@pytest.mark.parametrize("name", sorted(PINNED))
def test_verdicts_pinned(results, name):
    r = results[name]
    n, bad, vacuous = PINNED[name]
    assert not r.truncated
    assert len(r.verdicts) == n
    assert {v.property.id for v in r.verdicts if v.verdict == "violated"} == bad
    assert {v.property.id for v in r.verdicts if v.verdict == "vacuous"} == vacuous
    assert all(v.verdict in ("holds", "violated", "vacuous") for v in r.verdicts)
    assert r.as_expected, [(v.property.id, v.verdict, v.expected) for v in r.verdicts
                           if not v.as_expected]


@pytest.mark.parametrize("name", sorted(PINNED))
def test_expect_table_lists_every_applicable_property(results, name):
    """The TOML states every expectation explicitly (no silent 'holds' default in the catalog)."""
    folder = resources.files("ndcheck.model") / "catalog"
    raw = next(tomllib.loads(f.read_text(encoding="utf-8")) for f in folder.iterdir()
               if f.name.endswith(".toml") and f'name = "{name}"' in f.read_text(encoding="utf-8"))
    assert set(raw["expect"]) == {v.property.id for v in results[name].verdicts}


def _actions(t):
    return [s.action for s in t.steps]


def test_h1_require_inbound_auth_failure_trace():
    t = shortest_trace("require-inbound-auth-failure", "H-1")
    assert t.kind == "counterexample" and t.property == "H-1"
    assert _actions(t) == [
        "client.tcp.send_syn [SYN ND-8/clear+acquire +client.acquire +client.ike_i.acquire_mm@idle]",
        "server.ike_r.recv_mm1@idle",
        "client.ike_i.recv_mm2",
        "server.ike_r.recv_mm3@mm2_sent",
        "client.ike_i.recv_mm4",
        "server.ike_r.fail_auth@mm4_sent",
        "server.nd.drop[SYN clear: ND-17/drop-new]",
    ]
    assert t.steps[5].wire == ("server>client NOTIFY",)


def test_s14_qm3_race_trace():
    t = shortest_trace("qm3-race", "S-14")
    assert _actions(t) == [
        "client.tcp.send_syn [SYN ND-8/clear+acquire +client.acquire +client.ike_i.acquire_mm@idle]",
        # the SYN-ACK starts the server's own Main Mode at once (A-13, Q3): MM #1 leaves with it
        ("server.tcp.recv_syn@listen <SYN clear ND-17/accept-new> [SYN-ACK ND-8/clear+acquire "
         "+server.acquire +server.ike_i.acquire_mm@idle]"),
        "server.ike_r.recv_mm1@idle",
        "client.ike_i.recv_mm2",
        "server.ike_r.recv_mm3@mm2_sent",
        "client.ike_i.recv_mm4",
        "server.ike_r.recv_mm5@mm4_sent",
        "client.ike_i.recv_mm6[QM1/B]",
        "server.ike_r.recv_qm1@mm_done[QM1/B]",
        "client.ike_i.recv_qm2",
        "client.tcp.recv_syn_ack@syn_sent <SYN-ACK clear ND-18/accept> [ACK ND-14/esp]",
        "server.nd.drop[ACK esp: ND-19/drop-no-sa]",
    ]
    # QM #7 is still in flight when the ESP ACK is dropped: the A-2 race.
    assert t.states[-1][_index("qm3-race", "net.c2s.QM3")] == 1


def _index(name, field):
    return ndcheck.build_system(CATALOG[name]).index[field]


def test_s1_nat_boundary_trace():
    t = shortest_trace("nat-boundary", "S-1")
    assert _actions(t) == [
        "client.tcp.send_syn [SYN ND-8/clear+acquire +client.acquire +client.ike_i.acquire_mm@idle]",
        "server.ike_r.recv_mm1@idle",
        "client.ike_i.recv_mm2",
        "server.ike_r.recv_mm3@mm2_sent",
        "client.ike_i.recv_mm4",
        "server.ike_r.recv_mm5@mm4_sent",
        "client.ike_i.recv_mm6[QM1]",
        "server.ike_r.recv_qm1@mm_done[QM1]",
        "client.ike_i.recv_qm2",
        "server.ike_r.recv_qm3@qm2_sent",
        "server.tcp.recv_syn@listen <SYN clear ND-17/accept-new> [SYN-ACK ND-14/esp]",
        "client.ike_i.recv_connected@qm3_sent",
        "client.tcp.recv_syn_ack@syn_sent <SYN-ACK esp ND-19/accept> [ACK ND-13/clear]",
    ]
    assert t.steps[-1].wire == ("client>server ACK clear",)
    assert t.steps[-1].changes["client.secure"] == "1"


def test_s7_guaranteed_encryption_trace():
    t = shortest_trace("guaranteed-encryption", "S-7")
    assert _actions(t) == ["client.tcp.send_syn [SYN ND-8/clear+acquire +client.acquire +client.ike_i.acquire_mm@idle]"]
    assert t.steps[0].wire == ("client>server SYN clear", "client>server MM1")
    assert t.steps[0].changes["client.flow_ge"] == "1"


def test_s7_holds_with_the_ale_layer_and_the_syn_leaves_over_esp():
    """WFP-GE: with ale_require_encryption on both hosts the GE flow's SYN is held (not sent clear)
    while IKE runs, and its retransmission leaves over ESP once the client has CONNECTED."""
    r = _catalog_cache.result("guaranteed-encryption-ale")
    assert r.verdict("S-7").verdict == "holds" and r.verdict("S-6").verdict == "holds"
    assert shortest_trace("guaranteed-encryption-ale", "S-7") is None
    w = shortest_trace("guaranteed-encryption-ale", "W-2")
    # the SYN is held, not on the wire; the acquire is queued and the IKE service sends MM #1
    assert _actions(w)[:2] == ["client.tcp.send_syn [SYN ND-8/ale-held+acquire +client.acquire]",
                               "client.ike_i.acquire_mm@idle"]
    assert [s.wire for s in w.steps[:2]] == [(), ("client>server MM1",)]
    assert [s.action for s in w.steps if s.action.startswith("client.tcp.retransmit_syn")] == [
        "client.tcp.retransmit_syn [SYN ND-14/esp]"]
    assert not any(p.endswith(" clear") for s in w.steps for p in s.wire)
    # without the layer the same policy sends the SYN in the clear (the spec finding)
    assert shortest_trace("guaranteed-encryption", "S-7").steps[0].wire[0] == "client>server SYN clear"


def test_s6_ge_marking_after_trace():
    """A-7: the server's first reply leaves over a non-GE SA and only then marks the flow GE."""
    t = shortest_trace("ge-marking-after", "S-6")
    assert len(t.steps) == 11
    assert t.steps[-1].action == ("server.tcp.recv_syn@listen <SYN clear ND-17/accept-new> "
                                  "[SYN-ACK ND-14/esp]")
    assert t.steps[-1].changes == {**t.steps[-1].changes, "server.flow_ge": "1", "server.secure": "1"}


def test_l4_fig19_lossy_lasso_is_the_race_of_the_syn_budget_against_ike_loss():
    """Digest L-4: connects iff IKE beats the SYN timeout.  With back-off timers the second SYN
    expiry waits for IKE, so the race needs IKE loss: MM #1 lost twice, the SYN budget spent."""
    t = shortest_trace("fig19-lossy", "L-4")
    assert t.kind == "lasso" and t.loop_start == len(t.steps) == 11
    assert _actions(t) == [
        "client.tcp.send_syn [SYN ND-8/clear+acquire +client.acquire +client.ike_i.acquire_mm@idle]",
        "server.nd.drop[SYN clear: ND-17/drop-new]",
        "client.tcp.retransmit_syn [SYN ND-8/clear]",
        "server.nd.drop[SYN clear: ND-17/drop-new]",
        "net.lose[client>server MM1]",
        "client.tcp.retransmit_syn [SYN ND-8/clear]",
        "server.nd.drop[SYN clear: ND-17/drop-new]",
        "client.tcp.give_up",
        "client.ike_i.retransmit@mm1_sent",
        "net.lose[client>server MM1]",
        "client.ike_i.give_up@mm1_sent",
    ]


def _with_tcp(name, **knobs):
    import dataclasses

    sc = CATALOG[name]
    return dataclasses.replace(sc, tcp=dataclasses.replace(sc.tcp, **knobs))


def test_without_back_off_the_syn_budget_races_lossless_ike():
    """``tcp.timers = "quiet"`` (every expiry once its segment and answers are out of the
    network): the SYN budget can run out while IKE is on its way, as the first model said."""
    r = ndcheck.check(_with_tcp("fig19-require-inbound", timers="quiet"))
    assert r.verdict("L-4").verdict == "violated"
    assert "client.tcp.give_up" in [s.action for s in r.verdict("L-4").trace.steps]


def test_t2_nat_boundary_trace():
    """ND-13 against ND-18 (A-9): the client is Secure from the server's ESP, its UDP-ESP SA
    toward a boundary peer sends clear, the Secure server drops it; the client aborts."""
    t = shortest_trace("nat-boundary", "T-2")
    assert t.kind == "counterexample" and len(t.steps) == 19
    assert _actions(t)[10:] == [
        "server.tcp.recv_syn@listen <SYN clear ND-17/accept-new> [SYN-ACK ND-14/esp]",
        "client.tcp.recv_syn_ack@syn_sent <SYN-ACK esp ND-19/accept> [ACK ND-10/held +client.acquire]",
        "client.tcp.send_data[DATA1] [DATA1 ND-10/held +client.acquire]",
        "client.tcp.send_data[DATA2] [DATA2 ND-10/held +client.acquire]",
        "client.tcp.retransmit_data@established[DATA1] [DATA1 ND-10/held +client.acquire]",
        "client.ike_i.recv_connected@qm3_sent",
        "client.tcp.retransmit_data@established[DATA1] [DATA1 ND-13/clear]",
        "server.nd.drop[DATA1 clear: ND-18/drop]",
        "client.tcp.abort@established [RST ND-13/clear]",
    ]
    assert t.steps[-1].wire == ("client>server RST clear",)


@pytest.mark.slow  # a variant of fig7 explored twice: 13-26 s
def test_t1_fig7_needs_back_off_timers():
    """Without back-off a timer may expire again and again while CONNECTED is on its way: the
    client's ACK, held by ND-10 (A-1: Secure from the server's ESP, no outbound SA yet), never
    leaves before the server's SYN-ACK budget is spent -- an artefact of the untimed model that
    ``tcp.timers = "backoff"`` removes (figure 7 holds: T-1, T-2, L-3)."""
    r = ndcheck.check(_with_tcp("fig7-both-capable", timers="quiet"))
    assert {v.property.id for v in r.verdicts if v.verdict == "violated"} >= {"T-1", "T-2"}
    assert ndcheck.check("fig7-both-capable").as_expected


def test_witness_and_holding_property():
    g = _catalog_cache.graph("fig7-both-capable")
    assert shortest_trace(g, "S-1") is None
    w = shortest_trace(g, "W-4")
    assert w.kind == "witness"
    last = w.states[-1]
    system = g.system
    assert last[system.index["client.secure"]] == last[system.index["server.secure"]] == 1
    assert all(w.states[-2][system.index[f"{h}.secure"]] == 1 for h in ("client", "server")) is False


def test_public_api_names():
    r = ndcheck.check("fig8-silent-peer")
    assert r.as_expected and r.verdict("H-1").verdict == "holds"
    assert ndcheck.shortest_trace("guaranteed-encryption", "S-7").steps[0].index == 1


@pytest.mark.parametrize("name", sorted(n for n, (_, bad, _) in PINNED.items() if bad))
def test_every_counterexample_replays(name):
    """Each violation comes with a trace that replayed (IR + machine instances) and ends where it should."""
    from ndcheck.checking.check import check_graph

    r = check_graph(_catalog_cache.graph(name), [v.property for v in _catalog_cache.result(name).verdicts
                                                 if v.verdict == "violated"])
    for v in r.verdicts:
        if v.property.kind == "sometimes":
            assert v.trace is None
            continue
        t = v.trace
        assert t is not None and t.property == v.property.id and t.steps
        assert t.kind == ("lasso" if v.property.kind == "eventually" else "counterexample")
        assert len(t.states) == len(t.steps) + 1
