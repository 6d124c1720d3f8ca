"""``ndcheck check``: table, exit codes, JSON and JUnit reports, engine selection."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from ndcheck.cli import main

GE = """
name = "ge-wrong"
peer = "capable"
[client]
guaranteed_encryption = true
[tcp]
data_segments = 1
syn_retries = 0
data_retries = 0
[expect]
S-7 = "holds"
"""


def test_check_named_scenarios_as_expected(capsys):
    assert main(["check", "qm3-race", "guaranteed-encryption"]) == 0
    out = capsys.readouterr().out
    assert "qm3-race:" in out and "S-14" in out and "verdicts on 2 scenario(s) as expected" in out


def test_unexpected_violation_exits_1(tmp_path, capsys):
    f = tmp_path / "ge.toml"
    f.write_text(GE)
    assert main(["check", "--file", str(f)]) == 1
    assert "S-7 (explicit) is violated, expected holds" in capsys.readouterr().out


def test_bad_input_exits_2(tmp_path, capsys):
    assert main(["check", "no-such-scenario"]) == 2
    assert "unknown scenario" in capsys.readouterr().err
    assert main(["check", "qm3-race", "--property", "S-99"]) == 2
    f = tmp_path / "x.toml"
    f.write_text('name = "x"\n[expect]\nS-7 = "violated"\n')
    assert main(["check", "--file", str(f)]) == 2
    assert "does not apply" in capsys.readouterr().err


def test_truncated_exits_3():
    assert main(["check", "fig7-both-capable", "--max-states", "40", "--no-traces"]) == 3


def test_json_report(tmp_path):
    out = tmp_path / "r.json"
    assert main(["check", "require-inbound-auth-failure", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["scenario"] == "require-inbound-auth-failure" and not doc["truncated"]
    h1 = next(p for p in doc["properties"] if p["id"] == "H-1")
    assert h1["verdict"] == h1["expected"] == "violated"
    assert h1["trace"][-1]["action"] == "server.nd.drop[SYN clear: ND-17/drop-new]"
    assert h1["trace"][-1]["wire"] is None
    out2 = tmp_path / "r2.json"
    assert main(["check", "fig8-silent-peer", "transport-mode", "--json", str(out2), "--coverage"]) == 0
    docs = json.loads(out2.read_text())
    assert [d["scenario"] for d in docs] == ["fig8-silent-peer", "transport-mode"]
    assert "ND-15/held" in docs[1]["coverage"]["rules_exercised"]


def test_json_to_stdout(capsys):
    assert main(["check", "fig8-icmp-peer", "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["scenario"] == "fig8-icmp-peer"


def test_junit_report(tmp_path):
    f = tmp_path / "ge.toml"
    f.write_text(GE)
    out = tmp_path / "j.xml"
    assert main(["check", "--file", str(f), "fig8-icmp-peer", "--junit", str(out)]) == 1
    root = ET.parse(out).getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"ge-wrong", "fig8-icmp-peer"}
    assert suites["ge-wrong"].get("failures") == "1" and suites["fig8-icmp-peer"].get("failures") == "0"
    failing = [c for c in suites["ge-wrong"].iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failing] == ["S-7 ge_flow_never_sent_clear"]
    assert "client.tcp.send_syn" in failing[0].find("failure").text


def test_engine_z3_without_the_engine_exits_2(monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "ndcheck.engines.symbolic", None)   # z3 not installed
    assert main(["check", "qm3-race", "--engine", "z3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "z3 engine" in err[0]


def test_engine_both_runs_z3_and_the_engines_agree(tmp_path):
    """The real z3 engine (no fake): every safety property gets a z3 verdict equal to the
    explicit one; the violated S-14 comes with a z3 counterexample of the same length."""
    out = tmp_path / "r.json"
    assert main(["check", "qm3-race", "--engine", "both", "--json", str(out)]) == 0
    props = json.loads(out.read_text())["properties"]   # one scenario: one object
    by = {}
    for p in props:
        by.setdefault(p["id"], {})[p["engine"]] = p
    z3_ids = {i for i, d in by.items() if "z3" in d}
    assert len(z3_ids) == 13
    assert all(by[i]["z3"]["verdict"] == by[i]["explicit"]["verdict"] for i in z3_ids)
    s14 = by["S-14"]
    assert s14["z3"]["verdict"] == "violated"
    assert len(s14["z3"]["trace"]) == len(s14["explicit"]["trace"]) == 12
