"""``ndcheck conform NAME CAPTURE`` end to end, on captures built from the figures' wire traces.

Each figure's wire trace (tests/wire, scenarios of figures 7, 8, 18 and 19) written as a capture
(ESP hides the segment's kind: ``* esp``) gets the verdict its text gets, rejected at the same
packet; the wrong-but-plausible captures (clear data after ESP, ESP before any Quick Mode) are
rejected at the packet where they leave the model.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from ndcheck.cli import main
from tests.captures.build import (
    BAD_DIR,
    BAD_INPUTS,
    EXAMPLES,
    HERE,
    WIRE_DIR,
    Host,
    capture_bytes,
    read_wire_lines,
    wire_capture,
    wire_frames,
)

FIGURE_SCENARIOS = ("fig7-both-capable", "fig8-silent-peer", "fig8-no-credential", "fig18-boundary-server",
                    "fig19-require-inbound")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@cache
def declared() -> list[tuple[str, str, str, int | None]]:
    """The ``# conform:`` lines of tests/wire for the figure scenarios."""
    out = []
    for f in sorted(WIRE_DIR.glob("*.txt")):
        for line in f.read_text(encoding="utf-8").splitlines():
            m = re.match(r"# conform: (\S+) (accepted|rejected after (\d+))$", line)
            if m and m.group(1) in FIGURE_SCENARIOS:
                out.append((f.stem, m.group(1), m.group(2).split()[0], int(m.group(3)) if m.group(3) else None))
    return out


def test_the_figures_are_covered():
    cases = declared()
    assert {s for _, s, _, _ in cases} == set(FIGURE_SCENARIOS)
    assert {"reject-clear-after-esp", "reject-esp-before-qm"} <= {w for w, *_ in cases}
    assert len(cases) >= 14


@pytest.mark.parametrize("wire, scenario, verdict, prefix", declared())
def test_a_capture_of_a_wire_trace_gets_the_same_verdict(capsys, tmp_path, wire, scenario, verdict, prefix):
    lines = read_wire_lines(wire)
    fmt = "pcapng" if len(wire) % 2 else "pcap"
    f = tmp_path / f"{wire}.{fmt}"
    f.write_bytes(wire_capture(lines, fmt))
    code, out, err = run(capsys, "conform", scenario, str(f))
    assert err == ""
    if verdict == "accepted":
        assert code == 0, out
        assert out.startswith(f"accepted: {scenario} can send all {len(lines)} packets in this order")
    else:
        assert code == 1, out
        n = prefix + 1
        assert out.startswith(f"rejected: packet {n} (capture packet {n}, +{prefix / 100:.6f} s")
        assert f"after the accepted prefix of {prefix} packet" in out
        assert f"packet {n} is capture packet {n} at 2026-01-01T00:00:00.{prefix * 10000:06d}Z" in out


def test_clear_data_after_esp_is_rejected_at_that_packet(capsys):
    code, out, _ = run(capsys, "conform", "fig7-both-capable", str(HERE / "reject-clear-after-esp.pcapng"))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == ("rejected: packet 19 (capture packet 19, +0.180000 s) 'client>server DATA clear' is not a "
                        "behaviour of fig7-both-capable after the accepted prefix of 18 packets")
    assert "   18  client>server * esp          capture packet 18, +0.170000 s" in lines
    assert lines[lines.index("the model allows next:") + 1:][:2] == ["       client>server DATA esp",
                                                                     "       server>client ACK esp"]
    assert lines[-1] == ("packet 19 is capture packet 19 at 2026-01-01T00:00:00.180000Z: 192.0.2.1 > 192.0.2.2, "
                         "TCP 49152 > 445 [PA] seq 1201 ack 5001 len 100")


def test_esp_before_any_quick_mode_is_rejected_at_that_packet(capsys, tmp_path):
    """ESP right after the first clear segments: no SA exists yet (S-3, H-2)."""
    c, s = Host("192.0.2.1", b"\x02\0\0\0\0\x01"), Host("192.0.2.2", b"\x02\0\0\0\0\x02")
    frames = wire_frames(["client>server SYN clear", "client>server MM1"]) + [c.esp(s, 0x1000, 1)]
    f = tmp_path / "early-esp.pcap"
    f.write_bytes(capture_bytes([c.arp()] + frames, "pcap"))
    code, out, _ = run(capsys, "conform", "fig7-both-capable", str(f))
    assert code == 1
    assert out.startswith("rejected: packet 3 (capture packet 4, +0.030000 s) 'client>server * esp' is not a "
                          "behaviour of fig7-both-capable after the accepted prefix of 2 packets")
    assert "ignored: 1 ARP" in out
    assert "packet 3 is capture packet 4 at 2026-01-01T00:00:00.030000Z: 192.0.2.1 > 192.0.2.2, ESP spi " in out


@pytest.mark.parametrize("at", ["client", "server"])
@pytest.mark.parametrize("wire, scenario", [("fig7", "fig7-both-capable"), ("fig19", "fig19-require-inbound"),
                                            ("fig8-silent", "fig8-silent-peer"), ("fig18", "fig18-boundary-server")])
def test_host_captures_of_the_figures_are_accepted(capsys, tmp_path, wire, scenario, at):
    f = tmp_path / "c.pcapng"
    f.write_bytes(wire_capture(read_wire_lines(wire), "pcapng"))
    code, out, _ = run(capsys, "conform", scenario, str(f), "--at", at)
    assert code == 0, out
    assert f"in this order at the {at}" in out.splitlines()[0]
    assert f"read at the {at}: its sends" in out


def test_a_late_ack_at_the_client_is_accepted_there_but_not_as_a_send_order(capsys, tmp_path):
    w = read_wire_lines("fig7")
    i = w.index("server>client ACK clear", 12)
    late = w[:i] + w[i + 1:] + [w[i]]
    f = tmp_path / "late.pcap"
    f.write_bytes(wire_capture(late, "pcap"))
    assert run(capsys, "conform", "fig7-both-capable", str(f), "--at", "client")[0] == 0
    code, out, _ = run(capsys, "conform", "fig7-both-capable", str(f))
    assert code == 1 and "'server>client ACK clear'" in out.splitlines()[0]


def test_split_addresses_and_nat_t(capsys, tmp_path):
    c_ike, s_ike = Host("198.51.100.1", b"\x02\0\0\0\0\x01"), Host("198.51.100.2", b"\x02\0\0\0\0\x02")
    f = tmp_path / "tunnel.pcapng"
    f.write_bytes(wire_capture(read_wire_lines("fig7"), "pcapng", ike_client=c_ike, ike_server=s_ike, nat_t=True))
    code, out, _ = run(capsys, "conform", "fig7-both-capable", str(f))
    assert code == 0, out
    assert "sides: client 192.0.2.1 (sender of the first SYN, packet 2), 198.51.100.1 (sender of the first MM1, " \
           "packet 1); server 192.0.2.2 (receiver of the first SYN, packet 2), 198.51.100.2 (receiver of the " \
           "first MM1, packet 1)" in out
    # the same with the sides given; swapped sides reject at once
    code, out, _ = run(capsys, "conform", "fig7-both-capable", str(f), "--client", "192.0.2.1,198.51.100.1",
                       "--server", "192.0.2.2,198.51.100.2")
    assert code == 0 and "(--client)" in out
    code, out, _ = run(capsys, "conform", "fig7-both-capable", str(f), "--client", "192.0.2.2,198.51.100.2",
                       "--server", "192.0.2.1,198.51.100.1")
    assert code == 1 and out.startswith("rejected: packet 1 (capture packet 1, +0.000000 s) 'server>client MM1'")


def test_an_encrypted_notify_is_an_info_that_stands_for_the_notify(capsys, tmp_path):
    """Figure 8's authentication failure at MM #5 comes encrypted (timers-failures N1): INFO."""
    f = tmp_path / "noc.pcap"
    f.write_bytes(wire_capture(read_wire_lines("fig8-no-credential"), "pcap", encrypted_info=True))
    code, out, _ = run(capsys, "conform", "fig8-no-credential", str(f), "--json", "-")
    doc = json.loads(out)
    assert code == 0 and doc["verdict"] == "accepted"
    info = [p for p in doc["packets"] if p["wire"] == "server>client INFO"]
    assert len(info) == 1 and "Informational" in info[0]["detail"] and "encrypted" in info[0]["detail"]
    assert "server>client NOTIFY" in doc["witness"]["wire"]


def test_a_delete_the_model_does_not_send_is_rejected_with_a_note(capsys, tmp_path):
    f = tmp_path / "delete.pcapng"
    f.write_bytes(wire_capture(read_wire_lines("fig7") + ["server>client DELETE"], "pcapng"))
    code, out, _ = run(capsys, "conform", "fig7-both-capable", str(f))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("rejected: packet 20 (capture packet 20, +0.190000 s) 'server>client DELETE'")
    assert lines[1] == "  (no step of fig7-both-capable sends a packet like 'server>client DELETE')"


@pytest.mark.parametrize("encrypted", [False, True])
def test_a_delete_of_a_scenario_that_deletes_is_accepted(capsys, tmp_path, encrypted):
    """qm-delete-rekey (ike.delete): the client's DELETE, readable or encrypted (an INFO that
    stands for it), then the Quick Mode that re-keys over the MM SA (ND-11)."""
    f = tmp_path / "qm-delete.pcapng"
    f.write_bytes(wire_capture(read_wire_lines("qm-delete"), "pcapng", encrypted_info=encrypted))
    code, out, _ = run(capsys, "conform", "qm-delete-rekey", str(f), "--json", "-")
    doc = json.loads(out)
    assert code == 0 and doc["verdict"] == "accepted"
    seen = [p["wire"] for p in doc["packets"] if "DELETE" in p["wire"] or "INFO" in p["wire"]]
    assert seen == ["client>server INFO" if encrypted else "client>server DELETE"]
    assert "client>server DELETE" in doc["witness"]["wire"]


def test_the_json_report(capsys, tmp_path):
    f = tmp_path / "c.pcapng"
    lines = read_wire_lines("reject-esp-before-qm")
    c = Host("192.0.2.1", b"\x02\0\0\0\0\x01")
    f.write_bytes(capture_bytes([c.arp()] + wire_frames(lines), "pcapng"))
    out_file = tmp_path / "r.json"
    code, out, _ = run(capsys, "conform", "fig7-both-capable", str(f), "--json", str(out_file))
    assert code == 1 and out.startswith("rejected: packet 8 (capture packet 9")
    doc = json.loads(out_file.read_text())
    assert {"scenario", "file", "input", "at", "verdict", "accepted", "length", "prefix_len", "prefix",
            "rejected_packet", "line", "packet_number", "timestamp", "allowed_next", "truncated", "reason",
            "packets", "frames", "ignored", "sides", "connection", "witness"} == set(doc)
    assert doc["input"] == "pcapng" and doc["at"] == "wire" and doc["verdict"] == "rejected"
    assert doc["prefix_len"] == 7 and doc["rejected_packet"] == "client>server * esp"
    assert doc["packet_number"] == 9 and doc["timestamp"] == pytest.approx(1_767_225_600.08)
    assert doc["line"] is None and doc["frames"] == 9 and doc["ignored"] == {"ARP": 1}
    assert doc["sides"]["client"] == ["192.0.2.1"] and doc["sides"]["how"][0]["reason"].startswith("sender of")
    assert doc["connection"] == {"client": "192.0.2.1", "client_port": 49152, "server": "192.0.2.2",
                                 "server_port": 445}
    assert doc["packets"][0] == {"index": 1, "wire": "client>server MM1", "packet_number": 2,
                                 "timestamp": pytest.approx(1_767_225_600.01), "retransmission": False,
                                 "layer": "IKE", "detail": doc["packets"][0]["detail"]}
    assert "client>server DATA clear" in doc["allowed_next"]
    assert doc["witness"]["kind"] == "witness" and doc["witness"]["replayed"] is True


def test_the_json_report_of_a_wire_trace(capsys):
    code, out, _ = run(capsys, "conform", "fig19-require-inbound", str(WIRE_DIR / "fig18.txt"), "--json", "-")
    doc = json.loads(out)
    assert code == 1 and doc["input"] == "wire" and doc["line"] == 9 and doc["packet_number"] is None
    assert doc["packets"][0] == {"index": 1, "wire": "client>server MM1", "line": 7}
    assert doc["sides"] is None and doc["ignored"] == {}


def test_the_accepted_prefix_as_a_sequence_chart(capsys):
    code, out, _ = run(capsys, "conform", "fig7-both-capable", str(HERE / "reject-clear-after-esp.pcapng"),
                       "--witness", "text")
    assert code == 1
    chart = out[out.index("fig7-both-capable: witness"):]
    assert "client>server DATA esp" in chart and "client>server MM1" in chart
    code, out, _ = run(capsys, "conform", "fig7-both-capable", str(HERE / "reject-clear-after-esp.pcapng"),
                       "--witness", "mermaid")
    assert "sequenceDiagram" in out


def test_the_example_captures_are_what_the_builder_makes():
    """tests/captures/*.pcap* are written by ``python -m tests.captures.build``."""
    for name, make in EXAMPLES.items():
        assert (HERE / name).read_bytes() == make(), f"rerun python -m tests.captures.build ({name})"
    assert {p.name for p in HERE.iterdir() if p.suffix in (".pcap", ".pcapng")} == set(EXAMPLES)
    for name, make in BAD_INPUTS.items():
        assert (BAD_DIR / name).read_bytes() == make(), f"rerun python -m tests.captures.build ({name})"
    assert {p.name for p in BAD_DIR.iterdir()} == set(BAD_INPUTS)


def test_client_option_on_a_wire_trace_is_bad_input(capsys):
    code, out, err = run(capsys, "conform", "fig7-both-capable", str(WIRE_DIR / "fig7.txt"), "--client", "10.0.0.1")
    assert code == 2 and out == ""
    assert err == (f"ndcheck: error: conform: --client names addresses in a capture; {WIRE_DIR / 'fig7.txt'} is a "
                   "wire trace, which names client and server itself\n")


def test_at_a_host_on_a_fifo_scenario_is_bad_input(capsys):
    code, _, err = run(capsys, "conform", "fig7-fifo", str(HERE / "fig7.pcapng"), "--at", "client")
    assert code == 2 and err.startswith("ndcheck: error: conform: a capture at the client (--at client) needs "
                                        "multiset channels; scenario fig7-fifo has FIFO channels")


def test_a_wire_trace_can_be_read_at_a_host_too(capsys):
    code, out, _ = run(capsys, "conform", "fig19-require-inbound", str(WIRE_DIR / "fig19.txt"), "--at", "server")
    assert code == 0 and "at the server" in out


def test_readme_examples_exist():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name in EXAMPLES:
        assert f"tests/captures/{name}" in readme
