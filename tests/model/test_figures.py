"""The specification's figures are behaviours of the model.

Each wire trace in ``tests/wire`` writes down, packet by packet in send order, one of the figures
described in the fact digest: figure 7 (two capable peers, §3.1), figure 8 with a silent peer
(N1, ND-26) and with a peer that fails authentication (N3, ND-27), and the two §4.1 examples,
figure 18 (boundary server) and figure 19 (require-inbound server).  For each, some path of the
figure's scenario sends exactly these packets in this order (``conform``), and the witness path
replays through the IR and the python-statemachine instances.  Where a figure elides messages
("...") the file fills them in; the comments in each file map lines to the figure's arrows.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ndcheck import CATALOG, build_system, explore
from ndcheck.checking.conform import conform
from ndcheck.traces.trace import replay_instances, trace_from_commands
from ndcheck.traces.wire import read_wire

WIRE_DIR = Path(__file__).resolve().parents[1] / "wire"


def _accepts(scenario: str, wire_file: str):
    system = build_system(CATALOG[scenario])
    graph = explore(system)
    assert not graph.truncated
    trace = read_wire(WIRE_DIR / wire_file)
    result = conform(graph, trace.packets)
    assert result.accepted, (f"{wire_file} rejected by {scenario} at packet {result.prefix_len + 1} "
                             f"{result.rejected_packet!r}; allowed next: {result.allowed_next}")
    witness = result.witness
    # The witness sends the figure's packets (a two-packet step may show them in either order).
    assert Counter(witness.wire) == Counter(trace.wire())
    # Replay it again independently: through the IR (step by step) and the machine instances.
    again = trace_from_commands(system, [s.command for s in witness.steps])
    assert again.states == witness.states
    replay_instances(system, witness)
    return system, witness


def _final(system, witness, name: str) -> str:
    return system.field(name).label(witness.states[-1][system.index[name]])


def test_figure_7_two_capable_peers():
    system, w = _accepts("fig7-both-capable", "fig7.txt")
    assert _final(system, w, "client.ike_i") == "QM-DONE"    # IPsec Successful Negotiation
    assert _final(system, w, "server.ike_r") == "QM-DONE"
    assert _final(system, w, "client.secure") == "1"         # secure DATA n (ND-14)
    assert _final(system, w, "server.secure") == "1"         # secure DATA ACK n
    assert [p for p in w.wire if p.endswith(" esp")] == ["client>server DATA esp", "server>client ACK esp"]


def test_figure_8_silent_peer():
    system, w = _accepts("fig8-silent-peer", "fig8-silent.txt")
    assert w.wire.count("client>server MM1") == 3            # #1 and its retransmissions
    assert not any(p.startswith("server>client MM") for p in w.wire)
    assert not any(p.endswith(" esp") for p in w.wire)       # the whole connection in clear (ND-26)
    assert _final(system, w, "client.tcp") == "ESTABLISHED"


def test_figure_8_no_credential_peer():
    system, w = _accepts("fig8-no-credential", "fig8-no-credential.txt")
    assert "server>client NOTIFY" in w.wire
    assert _final(system, w, "server.ike_r") == "FAILED"     # authentication failed (N3)
    assert any(s.action.startswith("server.ike_r.fail_auth") for s in w.steps)
    assert _final(system, w, "client.secure") == "0"
    assert w.wire[-2:] == ["client>server DATA clear", "server>client ACK clear"]  # TCP unaffected (ND-27)


def _no_more(scenario: str, wire_file: str, packet: str) -> None:
    """``packet`` cannot follow the wire trace in ``scenario``."""
    graph = explore(build_system(CATALOG[scenario]))
    packets = read_wire(WIRE_DIR / wire_file).wire()
    assert not conform(graph, [*packets, packet]).accepted


def test_no_proposal_peer_refuses_mm1():
    """N1/N2, ND-29: a plaintext NOTIFY answers MM #1; the negotiation ends, TCP stays clear."""
    system, w = _accepts("no-proposal-peer", "no-proposal.txt")
    assert w.wire.count("client>server MM1") == 1            # no retransmission after the NOTIFY
    assert not any(p.startswith("server>client MM") for p in w.wire)
    assert any(s.action.startswith("server.ike_r.refuse_mm1") for s in w.steps)
    assert _final(system, w, "server.ike_r") == "IDLE"       # the responder keeps no state
    assert _final(system, w, "client.secure") == "0"
    # The NOTIFY ended the negotiation: no MM #1 can follow it (ike.notify_at_mm1 = "fail").
    _no_more("no-proposal-peer", "no-proposal.txt", "client>server MM1")


def test_qm_refused_peer_refuses_qm1():
    """N3: Main Mode completes, QM #5 is answered by a NOTIFY; no SA, TCP stays clear (ND-27)."""
    system, w = _accepts("qm-refused-peer", "qm-refused.txt")
    assert w.wire.index("server>client MM6") < w.wire.index("server>client NOTIFY")
    assert _final(system, w, "server.ike_r") == "MM-DONE"    # MM SA kept, no QM SA
    _no_more("qm-refused-peer", "qm-refused.txt", "client>server QM1")   # the QM ended
    assert all(_final(system, w, f"{h}.sa_{d}") == "0" for h in ("client", "server") for d in ("in", "out"))
    assert w.wire[-2:] == ["client>server DATA clear", "server>client ACK clear"]


def test_non_nd_peer_ignores_nd_and_the_commit_bit():
    """A capable-no-nd peer: IKE completes without the ND vendor ID, EXCHANGE_INFO or CONNECTED
    (ND-4, ND-23, timers-failures C9); the client sends ESP right after QM #7 (choice X-1, README)."""
    system, w = _accepts("non-nd-peer", "non-nd-peer.txt")
    assert "server>client CONNECTED" not in w.wire
    assert w.wire.index("client>server QM3") < w.wire.index("client>server SYN esp")
    assert _final(system, w, "client.mm_nd") == "0"          # no ND vendor ID in MM #2 (ND-4)
    assert _final(system, w, "server.mm_nd") == "0"          # the peer keeps no NDSupported
    assert _final(system, w, "client.sa_boundary") == "0"    # no EXCHANGE_INFO in QM #6 (ND-23)
    assert _final(system, w, "server.sa_boundary") == "0"    # QM #5's EXCHANGE_INFO ignored
    assert _final(system, w, "client.ike_i") == "QM-DONE"
    assert _final(system, w, "server.ike_r") == "QM-DONE"
    assert _final(system, w, "client.tcp") == "ESTABLISHED"


def test_figure_18_boundary_server():
    _system, w = _accepts("fig18-boundary-server", "fig18.txt")
    esp = [p for p in w.wire if p.endswith(" esp")]
    assert esp == ["server>client ACK esp", "client>server DATA esp"]  # server first, as drawn
    assert w.wire.index("server>client CONNECTED") < w.wire.index(esp[0])
    # The figure's order forces A-19: once the server has sent ESP (Secure := 1), a clear data
    # segment still in flight is dropped by ND-18 and TCP retransmits it protected.
    assert any("ND-18/drop" in s.action for s in w.steps)
    assert any(s.action.startswith("client.tcp.retransmit_data") for s in w.steps)


def test_figure_19_require_inbound_server():
    system, w = _accepts("fig19-require-inbound", "fig19.txt")
    drops = [s.action for s in w.steps if s.action.startswith("server.nd.drop")]
    assert drops == ["server.nd.drop[SYN clear: ND-17/drop-new]"] * 2
    assert w.wire.index("server>client CONNECTED") < w.wire.index("client>server SYN esp")
    assert _final(system, w, "client.tcp") == "ESTABLISHED"


@pytest.mark.parametrize("scenario, wire_file", [
    ("fig19-require-inbound", "fig18.txt"),   # a secure server never answers the clear SYN
    ("fig8-silent-peer", "fig7.txt"),         # a silent peer never sends MM #2
    ("fig7-both-capable", "fig8-no-credential.txt"),  # a capable peer never fails authentication
    ("fig7-both-capable", "no-proposal.txt"),  # a capable peer accepts a proposal of MM #1
    ("fig7-both-capable", "qm-refused.txt"),   # ... and QM #5's IDs
    ("no-proposal-peer", "qm-refused.txt"),    # a no-proposal peer never sends MM #2
    ("fig19-require-inbound", "non-nd-peer.txt"),  # a Windows peer sends CONNECTED first
    ("non-nd-peer", "fig19.txt"),               # a non-ND peer never sends CONNECTED
])
def test_figures_do_not_fit_the_other_scenarios(scenario, wire_file):
    graph = explore(build_system(CATALOG[scenario]))
    assert not conform(graph, read_wire(WIRE_DIR / wire_file).packets).accepted


def test_crossing_negotiations_both_hosts_initiate():
    """A-13: the SYN-ACK leaves between the SYN and the client's MM #1 (the acquire is queued to
    the IKE service, Q1-Q3) and triggers the server's own Main Mode; both Main Modes and both
    Quick Modes complete and each host sends ESP over the newest outbound SA (D4/D10)."""
    system, w = _accepts("fig7-both-capable", "crossing.txt")
    assert w.wire[:4] == ["client>server SYN clear", "server>client SYN-ACK clear",
                          "client>server MM1", "server>client MM1"]
    for key in ("client.ike_r", "server.ike_r"):
        assert _final(system, w, key) == "QM-DONE"            # QM #7 received: both SAs
    for key in ("client.ike_i", "server.ike_i"):               # CONNECTED sent, maybe not read
        assert _final(system, w, key) in ("QM3-SENT", "QM-DONE")
    assert all(_final(system, w, f"{h}.sa_{d}") == "1" for h in ("client", "server") for d in ("in", "out"))
    # Where the server does not negotiate, its MM #1 is not a behaviour.
    _no_more("fig7-lossy", "fig7.txt", "server>client MM1")
    assert not conform(explore(build_system(CATALOG["fig8-silent-peer"])),
                       ["client>server SYN clear", "server>client SYN-ACK clear",
                        "server>client MM1"]).accepted
