"""``ndcheck check``: table, quiet lines and summary, exit codes, JSON and JUnit reports,
engine selection, scenarios without expectations, colours by outcome, progress."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from contextlib import contextmanager

import pytest

from ndcheck import CATALOG, build_system, explore
from ndcheck.cli import check as check_cli
from ndcheck.cli import main
from ndcheck.engines import promela
from ndcheck.engines.promela import spin_available

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
H-1 = "vacuous"   # capable peer, no IKE loss: IKE cannot fail
L-1 = "vacuous"
L-6 = "vacuous"
L-3 = { verdict = "violated", cause = "spec", rules = ["ND-12", "A-8", "A-13"], note = "The server's own non-GE SA meets the client's GE flow (ND-12) with Acquire = 1: it stays clear (A-8)." }
"""


def test_check_named_scenarios_as_expected(capsys):
    assert main(["check", "nd-client-transport-server", "guaranteed-encryption-ale"]) == 0
    out = capsys.readouterr().out
    assert "nd-client-transport-server:" in out and "S-14" in out
    assert out.splitlines()[-1].startswith("2 scenario(s), all 47 verdicts as expected; ")


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


def test_junit_vacuous_is_skipped_with_the_reason(tmp_path):
    out = tmp_path / "j.xml"
    assert main(["check", "fig7-both-capable", "--junit", str(out), "--no-traces"]) == 0
    suite = next(ET.parse(out).getroot().iter("testsuite"))
    assert (suite.get("failures"), suite.get("skipped")) == ("0", "3")
    skipped = {c.get("name").split()[0]: c.find("skipped").get("message")
               for c in suite.iter("testcase") if c.find("skipped") is not None}
    assert set(skipped) == {"H-1", "L-1", "L-6"}
    assert skipped["H-1"] == ("vacuous: no reachable state where IKE has failed for the flow and "
                              "neither end has secured it")
    # an expected 'holds' met by 'vacuous' is a failure, with the reason
    f = tmp_path / "holds.toml"
    f.write_text(GE.replace('H-1 = "vacuous"', 'H-1 = "holds"').replace('S-7 = "holds"', 'S-7 = "violated"'))
    assert main(["check", "--file", str(f), "--junit", str(out), "--no-traces"]) == 1
    suite = next(ET.parse(out).getroot().iter("testsuite"))
    assert (suite.get("failures"), suite.get("skipped")) == ("1", "2")
    failure = next(c for c in suite.iter("testcase") if c.find("failure") is not None).find("failure")
    assert failure.get("message") == "H-1 is vacuous, expected holds" and failure.get("type") == "vacuous"
    assert failure.text.startswith("vacuous: no reachable state where IKE has failed")


def test_vacuous_verdict_in_the_table_and_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["check", "fig8-silent-peer", "--json", str(out), "--no-traces"]) == 0
    rows = {r.split("\t")[0]: r.split("\t") for r in capsys.readouterr().out.splitlines()[2:17]}
    assert rows["S-1"][4:7] == ["vacuous", "vacuous", "vacuous"]      # expected, verdict, outcome
    props = {p["id"]: p for p in json.loads(out.read_text())["properties"]}
    assert (props["S-1"]["verdict"], props["S-1"]["expected"]) == ("vacuous", "vacuous")
    assert props["H-1"]["verdict"] == "holds"                          # IKE fails against a silent peer


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
    # (nd-client-transport-server: 140 states; the z3 certificate of qm3-race's 81k states takes
    # minutes since both hosts run IKE)
    assert main(["check", "nd-client-transport-server", "--engine", "both", "--json", str(out)]) == 0
    props = json.loads(out.read_text())["properties"]   # one scenario: one object
    by = {}
    for p in props:
        by.setdefault(p["id"], {})[p["engine"]] = p
    z3_ids = {i for i, d in by.items() if "z3" in d}
    assert len(z3_ids) == 15
    assert all(by[i]["z3"]["verdict"] == by[i]["explicit"]["verdict"] for i in z3_ids)
    s14 = by["S-14"]
    assert s14["z3"]["verdict"] == "violated"
    assert len(s14["z3"]["trace"]) == len(s14["explicit"]["trace"]) == 12


# The README's own scenario example: no [expect] table.
README_EXAMPLE = """
name = "my-boundary-server"
peer = "capable"                 # capable | silent | no-credential | icmp | no-proposal | qm-refused | capable-no-nd
[client]
outbound = "request"             # request (ND) | require (transport mode) | none
inbound = "boundary"             # boundary | secure | require | none
[server]
outbound = "request"
inbound = "boundary"
guaranteed_encryption = false    # the GE rule flag (ND-7)
ale_require_encryption = false   # Windows' ALE layer for GE traffic (WFP-GE), needs the GE flag
[ike]
commit_bit = true
retransmissions = 0              # per IKE message; with loss, one lost message fails IKE
mm_in_progress = "ignored"       # A-6: an MM this host answers does not count for ND-1 | counts
[tcp]
data_segments = 1                # the client's; server_segments = 1 answers them
close = "client"                 # client | server | none: who sends the first FIN
[network]
loss = ["ike"]                   # per protocol: ike, tcp
"""

SECONDS = r"\d+\.\d\ds"


def test_quiet_line_and_summary_of_fig8_silent_peer(capsys):
    g = explore(build_system(CATALOG["fig8-silent-peer"]))
    assert (g.n_states, g.n_edges) == (1185, 3958)
    assert main(["check", "fig8-silent-peer", "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(rf"fig8-silent-peer: 1185 states, 3958 edges, depth 25, {SECONDS}; "
                        r"13 holds, 0 violated, 2 vacuous, 0 undetermined", lines[0]), lines[0]
    assert re.fullmatch(rf"1 scenario\(s\), all 15 verdicts as expected; {SECONDS}, 1185 states, "
                        r"\d+ states/s, max depth 25", lines[1]), lines[1]


def test_quiet_spells_out_each_mismatch(tmp_path, capsys):
    f = tmp_path / "ge.toml"
    f.write_text(GE)
    assert main(["check", "--file", str(f), "nd-client-transport-server", "-q"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert re.fullmatch(rf"ge-wrong: 26159 states, 83943 edges, depth 39, {SECONDS}; "
                        r"20 holds, 2 violated, 3 vacuous, 0 undetermined; S-7 violated, expected holds",
                        lines[0]), lines[0]
    assert lines[1].startswith("nd-client-transport-server: 140 states, 248 edges, depth 29, ")
    assert lines[1].endswith("; 18 holds, 1 violated, 3 vacuous, 0 undetermined")   # all expected
    assert re.fullmatch(rf"2 scenario\(s\), 47 verdicts, 1 unexpected, 0 undetermined \(exit 1\); "
                        rf"{SECONDS}, 26299 states, \d+ states/s, max depth 39", lines[2]), lines[2]


def test_quiet_truncated_counts_undetermined_and_exits_3(capsys):
    assert main(["check", "fig7-both-capable", "--max-states", "40", "--no-traces", "-q"]) == 3
    first, last = capsys.readouterr().out.splitlines()
    assert first.startswith("fig7-both-capable: 40 states, 60 edges, depth 5, ")
    assert first.endswith(", TRUNCATED (max-states 40 reached); 1 holds, 0 violated, 0 vacuous, "
                          "23 undetermined")
    assert last.startswith("1 scenario(s), 24 verdicts, 0 unexpected, 23 undetermined (exit 3); ")


def test_default_view_is_plain_off_a_terminal_and_ends_with_the_summary(capsys):
    assert main(["check", "fig8-silent-peer"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(rf"# fig8-silent-peer: 1185 states, 3958 edges, depth 25, {SECONDS}", lines[0])
    assert lines[1] == "property\tname\tkind\tengine\texpected\tverdict\toutcome\ttrace\tcause"
    assert lines[2] == "H-1\tike_failure_never_blocks_tcp\tnever_action\texplicit\tholds\tholds\tok\t\t"
    assert len(lines) == 2 + 15 + 1 and lines[-1].startswith("1 scenario(s), all 15 verdicts as expected; ")
    assert not any("\x1b" in line or line != line.rstrip(" ") for line in lines)


def test_rows_are_coloured_by_outcome_not_by_verdict(monkeypatch, tmp_path):
    tables = {}

    def fake_table(title, columns, rows, styles=None):
        tables[title.split(":")[0]] = {r[0]: (r[5], r[6], s[0]) for r, s in zip(rows, styles)}

    monkeypatch.setattr(check_cli, "print_table", fake_table)
    f = tmp_path / "ge.toml"
    f.write_text(GE)
    assert main(["check", "--file", str(f), "nd-client-transport-server"]) == 1
    table = tables["nd-client-transport-server"]
    assert table["S-14"] == ("violated", "ok", "green")        # violated as expected
    assert table["H-2"] == ("holds", "ok", "green")
    assert table["H-1"] == ("vacuous", "vacuous", "blue")      # vacuous as expected
    assert tables["ge-wrong"]["S-7"] == ("violated", "UNEXPECTED", "bold red")
    assert main(["check", "fig7-both-capable", "--max-states", "40", "--no-traces"]) == 3
    assert tables["fig7-both-capable"]["S-1"] == ("undetermined", "undetermined", "yellow")
    assert tables["fig7-both-capable"]["W-1"] == ("holds", "ok", "green")
    # one style per outcome; a vacuous verdict has its own
    assert set(check_cli._STYLE) == {"expected", "unexpected", "undetermined", "vacuous"}
    assert len(set(check_cli._STYLE.values())) == 4


@pytest.fixture
def no_expect(tmp_path):
    f = tmp_path / "readme.toml"
    f.write_text(README_EXAMPLE)
    return str(f)


def test_scenario_without_expect_reports_verdicts_and_exits_0(no_expect, tmp_path, capsys):
    out = tmp_path / "r.json"
    junit = tmp_path / "j.xml"
    assert main(["check", "--file", no_expect, "-q", "--no-traces", "--json", str(out), "--junit", str(junit)]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("my-boundary-server: 183146 states, 608067 edges, depth 53, ")
    assert line.endswith("; 21 holds, 2 violated, 0 vacuous, 0 undetermined")   # no mismatch spelled out
    props = json.loads(out.read_text())["properties"]
    assert len(props) == 23 and all(p["expected"] is None for p in props)
    assert sorted(p["id"] for p in props if p["verdict"] == "violated") == ["L-1", "L-6"]
    suite = next(ET.parse(junit).getroot().iter("testsuite"))
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("23", "0", "0")
    l1 = next(c for c in suite.iter("testcase") if c.get("name").startswith("L-1 "))
    assert l1.find("system-out").text == "L-1 is violated, no expectation"
    # the table shows '-' as the expectation
    assert main(["check", "--file", no_expect, "--no-traces"]) == 0
    rows = [r.split("\t") for r in capsys.readouterr().out.splitlines()[2:25]]
    assert {r[4] for r in rows} == {"-"} and {r[6] for r in rows} == {"ok"}


def test_scenario_without_expect_strict_means_holds(no_expect, capsys):
    assert main(["check", "--file", no_expect, "-q", "--strict", "--no-traces"]) == 1
    first, last = capsys.readouterr().out.splitlines()
    assert first.endswith("; 21 holds, 2 violated, 0 vacuous, 0 undetermined; "
                          "L-1 violated, expected holds; L-6 violated, expected holds")
    assert last.startswith("1 scenario(s), 23 verdicts, 2 unexpected, 0 undetermined (exit 1); ")


def test_scenario_without_expect_undetermined_exits_3(no_expect, tmp_path, capsys):
    junit = tmp_path / "j.xml"
    assert main(["check", "--file", no_expect, "-q", "--max-states", "40", "--junit", str(junit)]) == 3
    assert "(exit 3)" in capsys.readouterr().out.splitlines()[-1]
    suite = next(ET.parse(junit).getroot().iter("testsuite"))
    assert suite.get("failures") == "0" and int(suite.get("skipped")) > 0
    skipped = [c.find("skipped").get("message") for c in suite.iter("testcase")
               if c.find("skipped") is not None]
    assert "S-1 is undetermined, no expectation (max-states 40 reached)" in skipped


def test_progress_names_each_property(monkeypatch):
    texts = []

    @contextmanager
    def fake(description, enabled=True):
        texts.append(description)
        yield lambda done, total, text=None: texts.append((done, total, text))

    monkeypatch.setattr(check_cli, "counted_task", fake)
    assert main(["check", "fig8-silent-peer", "-q"]) == 0
    assert texts[0] == "fig8-silent-peer: checking"
    assert texts[1] == (0, 15, "fig8-silent-peer: checking H-1 (1/15)")
    assert len(texts) == 16 and texts[-1][0] == 14 and texts[-1][2].endswith("(15/15)")


def test_help_has_an_example(capsys):
    with pytest.raises(SystemExit) as e:
        main(["check", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "examples:\n  ndcheck check fig7-both-capable -q" in out
    assert "-q, --quiet" in out and "--strict" in out


# --------------------------------------------------------------------------------------------
# The cause of an expected violation: table column, JSON, JUnit, mismatch lines, warning
# --------------------------------------------------------------------------------------------

CAUSED = GE.replace('S-7 = "holds"', 'S-7 = { verdict = "violated", cause = "spec", rules = ["ND-7", '
                    '"ND-8"], note = "ND-8 sends the GE SYN in the clear." }')


def test_the_cause_column_json_and_junit(tmp_path, capsys):
    out, junit = tmp_path / "r.json", tmp_path / "j.xml"
    assert main(["check", "guaranteed-encryption", "require-inbound-auth-failure", "--no-traces",
                 "--json", str(out), "--junit", str(junit)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""                              # the catalog gives these causes
    rows = {(r[0], r[1]): r for r in (line.split("\t") for line in captured.out.splitlines())
            if len(r) == 9 and r[0] != "property"}
    assert rows[("S-7", "ge_flow_never_sent_clear")][8] == "spec ND-7 ND-8"
    assert rows[("W-8", "clear_fallback_completes")][8] == "policy ND-17 A-10"
    assert rows[("S-1", "secure_flow_never_sends_clear")][8] == ""
    docs = {d["scenario"]: {p["id"]: p for p in d["properties"]} for d in json.loads(out.read_text())}
    s7 = docs["guaranteed-encryption"]["S-7"]
    assert (s7["cause"], s7["rules"]) == ("spec", ["ND-7", "ND-8"])
    assert s7["note"].startswith("ND-8 sends the first packet of a flow without an SA in the clear")
    assert docs["require-inbound-auth-failure"]["W-1"]["cause"] == "policy"
    # only added keys: a property not expected violated has exactly the keys it always had
    assert set(docs["guaranteed-encryption"]["S-1"]) == {"id", "name", "kind", "verdict", "expected",
                                                        "engine", "trace"}
    cases = {c.get("name").split()[0]: c for c in ET.parse(junit).getroot().iter("testcase")}
    assert cases["S-7"].find("system-out").text.startswith(
        "expected violated: spec (ND-7, ND-8): ND-8 sends the first packet")
    assert cases["S-1"].find("system-out") is None


def test_a_missed_expected_violation_says_its_cause(tmp_path, capsys):
    f = tmp_path / "ge.toml"
    f.write_text(CAUSED + 'S-1 = { verdict = "violated", cause = "policy", rules = ["ND-13"], '
                          'note = "There is no NAT here." }\n')
    junit = tmp_path / "j.xml"
    assert main(["check", "--file", str(f), "--no-traces", "--junit", str(junit)]) == 1
    out = capsys.readouterr().out
    assert ("ge-wrong: S-1 (explicit) is holds, expected violated (policy ND-13: There is no NAT "
            "here.)") in out
    assert main(["check", "--file", str(f), "--no-traces", "-q"]) == 1
    assert "; S-1 holds, expected violated (policy ND-13)" in capsys.readouterr().out
    case = next(c for c in ET.parse(junit).getroot().iter("testcase") if c.get("name").startswith("S-1"))
    assert [el.tag for el in case] == ["failure", "system-out"]          # schema order
    assert case.find("system-out").text == "expected violated: policy (ND-13): There is no NAT here."


def test_a_user_file_without_a_cause_is_checked_with_a_warning(tmp_path, capsys):
    f = tmp_path / "ge.toml"
    f.write_text(GE.replace('S-7 = "holds"', 'S-7 = "violated"'))
    out = tmp_path / "r.json"
    assert main(["check", "--file", str(f), "-q", "--no-traces", "--json", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [(f'ndcheck: warning: {f}: expect.S-7 = "violated" gives no cause: add cause = "spec" '
                    '(with rules and note) or "policy" (with note), README "Expectations"')]
    s7 = next(p for p in json.loads(out.read_text())["properties"] if p["id"] == "S-7")
    assert (s7["cause"], s7["rules"], s7["note"]) == (None, [], "")
    f.write_text(CAUSED)
    assert main(["check", "--file", str(f), "-q", "--no-traces"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.skipif(not spin_available(), reason="spin/gcc not installed")
def test_engine_spin_one_line(capsys):
    code = main(["check", "nd-client-transport-server", "--engine", "spin", "-q",
                 "--property", "S-14", "--property", "S-3"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "nd-client-transport-server: 140 states, 248 edges" in out and "1 holds, 1 violated" in out


def test_engine_spin_without_spin_exits_2(monkeypatch, capsys):
    monkeypatch.setattr(promela.shutil, "which", lambda _name: None)
    assert main(["check", "fig8-icmp-peer", "--engine", "spin"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--engine spin needs the programs spin and gcc" in err
