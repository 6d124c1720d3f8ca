"""``ndcheck conform`` on long generated captures (issue 15, "Long captures").

The captures are made here (tests/captures/build.py, :func:`long_capture`), never committed:
figure 7's negotiation and then a long ESP stream, figure 8's silent peer and a long clear
stream.  Without ``--strict`` the bounds are raised to the capture and the stream is followed
through a sliding window of segment ids; with ``--strict`` the scenario's bounds reject it and
the first line's note names the bound.
"""

from __future__ import annotations

import json

from ndcheck.cli import main
from tests.captures.build import capture_bytes, long_capture, long_wire, wire_frames


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_long_esp_capture_is_accepted(capsys, tmp_path):
    f = tmp_path / "fig7-long.pcapng"
    f.write_bytes(long_capture("fig7", 150))
    n = len(long_wire("fig7", 150))
    code, out, err = run(capsys, "conform", "fig7-both-capable", str(f))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith(f"accepted: fig7-both-capable can send all {n} packets in this order (witness not "
                               "replayed: the path uses ")
    assert lines[1].startswith("  (raised to the trace: tcp.data_segments 3 -> 5: the capture's client sends 2 to ")
    assert f"capture: {f} (pcapng, {n} packets, {n} checked)" in lines


def test_a_long_clear_capture_is_accepted_and_strict_rejects_it(capsys, tmp_path):
    f = tmp_path / "fig8-long.pcap"
    f.write_bytes(long_capture("fig8-silent", 100, "pcap"))
    code, out, _ = run(capsys, "conform", "fig8-silent-peer", str(f), "--json", "-")
    doc = json.loads(out)
    assert code == 0 and doc["verdict"] == "accepted" and doc["length"] == len(long_wire("fig8-silent", 100))
    assert doc["lifted"][0].startswith("tcp.data_segments 2 -> 5: the capture's client sends 100 data segments")
    assert doc["witness"] is None and doc["witness_note"].startswith("witness not replayed")
    # the scenario's own two data segments: the third is beyond them
    code, out, _ = run(capsys, "conform", "fig8-silent-peer", str(f), "--strict")
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == ("rejected: packet 11 (capture packet 11, +0.010000 s) 'client>server DATA clear' is not a "
                        "behaviour of fig8-silent-peer after the accepted prefix of 10 packets")
    assert lines[1] == ("  (packet 11 goes beyond tcp.data_segments = 2: it is the client's data segment 3; "
                        "without --strict it is raised to what the trace needs)")


def test_clear_data_after_esp_in_a_long_capture_is_rejected_at_that_packet(capsys, tmp_path):
    w = long_wire("fig7", 150)
    k = next(i for i in range(200, len(w)) if w[i - 1] == "client>server DATA esp")   # 1-based packet k
    f = tmp_path / "downgrade.pcapng"
    f.write_bytes(long_capture("fig7", 150, clear_at=k - 1))
    code, out, _ = run(capsys, "conform", "fig7-both-capable", str(f))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (f"rejected: packet {k} (capture packet {k}, +{(k - 1) / 1000:.6f} s) 'client>server DATA "
                        "clear' is not a behaviour of fig7-both-capable after the accepted prefix of "
                        f"{k - 1} packets")
    allowed = lines[lines.index("the model allows next:") + 1:]
    assert allowed[:2] == ["       client>server DATA esp", "       server>client DATA esp"]  # more, or the end
    assert not [p for p in allowed if p.startswith("       client>") and p.endswith(" clear")]
    assert lines[-1].startswith(f"packet {k} is capture packet {k} at ")


def test_strict_rejects_a_retransmission_beyond_the_budget(capsys, tmp_path):
    """A third MM #1 retransmission: beyond fig8-silent-peer's ike.retransmissions = 2."""
    w = long_wire("fig8-silent", 2)[:10]
    w = w[:8] + ["client>server MM1"] + w[8:]
    f = tmp_path / "mm1.pcapng"
    f.write_bytes(capture_bytes(wire_frames(w), "pcapng"))
    code, out, _ = run(capsys, "conform", "fig8-silent-peer", str(f), "--strict")
    lines = out.splitlines()
    assert code == 1 and lines[0].startswith("rejected: packet 9 (capture packet 9, +0.080000 s, retransmission) "
                                               "'client>server MM1'")
    assert lines[1] == ("  (packet 9 goes beyond ike.retransmissions = 2: it is the 3rd retransmission of "
                        "client>server MM1; without --strict it is raised to what the trace needs)")
    code, out, _ = run(capsys, "conform", "fig8-silent-peer", str(f), "--witness", "text")
    lines = out.splitlines()
    assert code == 0 and lines[0].endswith("(witness: 13 steps, replayed)")
    assert lines[1] == "  (raised to the trace: ike.retransmissions 2 -> 4: the capture retransmits one IKE message 3 times)"
    assert "fig8-silent-peer: witness, 13 steps" in out
