"""``ndcheck scenarios``: full lines on a pipe or a file, a rich table on a terminal, ``--json``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ndcheck.cli import common, main
from ndcheck.model.scenario import CATALOG

HEADER = "scenario\tfigure\tdescription\texpected verdicts"


def test_plain_output_is_one_full_tab_separated_line_per_scenario(capsys):
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["# ndcheck scenario catalog", HEADER]
    rows = [line.split("\t") for line in lines[2:]]
    assert [r[0] for r in rows] == sorted(CATALOG)
    assert all(len(r) == 4 for r in rows)
    by_name = {r[0]: r for r in rows}
    for name, sc in CATALOG.items():
        assert by_name[name][1:3] == [sc.figure, sc.description]  # never cut or padded
    assert by_name["fig19-require-inbound"][1] == "19"
    assert by_name["fig19-require-inbound"][2].startswith("§4.1 example 2: server ND_SECURE drops clear SYNs")
    assert by_name["fig19-require-inbound"][3] == "H-1=vacuous, L-1=vacuous, L-6=vacuous, L-7=vacuous"
    assert by_name["fig19-lossy"][3] == ("H-1=violated (policy), L-1=violated (policy), "
                                         "L-4=violated (policy), W-8=violated (policy)")
    assert by_name["guaranteed-encryption"][3].endswith("S-7=violated (spec)")
    assert "violated" not in by_name["fig7-both-capable"][3]    # the headline scenario: no violation
    assert "…" not in "".join(lines)


def test_a_pipe_gets_full_lines():
    """The command as a user runs it, `ndcheck scenarios | grep fig19`."""
    r = subprocess.run([sys.executable, "-m", "ndcheck.cli", "scenarios"], capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL, check=False)
    assert r.returncode == 0, r.stderr
    fig19 = [line for line in r.stdout.splitlines() if "fig19" in line]
    assert [line.split("\t")[0] for line in fig19] == ["fig19-lossy", "fig19-require-inbound",
                                                          "fig19-timed"]
    assert fig19[1].endswith("then connects over ESP\tH-1=vacuous, L-1=vacuous, L-6=vacuous, L-7=vacuous")
    assert max(len(line) for line in r.stdout.splitlines()) > 80  # not wrapped at 80 columns
    assert all(line == line.rstrip() for line in r.stdout.splitlines())  # not padded


def test_a_terminal_gets_a_rich_table(capsys, monkeypatch):
    monkeypatch.setattr(common, "stdout_is_terminal", lambda: True)
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert "ndcheck scenario catalog" in out
    assert "┃" in out or "│" in out
    assert "\t" not in out


def test_print_table_keeps_a_cell_on_its_line(capsys):
    common.print_table("t", ["a", "b"], [["x\ty", "two\nlines"], [1, None]])
    assert capsys.readouterr().out == "# t\na\tb\nx y\ttwo lines\n1\tNone\n"


@pytest.mark.parametrize("argv", [["scenarios", "--json"], ["scenarios", "--json", "-"]])
def test_json_lists_every_scenario_with_its_full_expect_table(capsys, argv):
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in doc] == sorted(CATALOG)
    assert all(set(d) == {"name", "figure", "description", "expect", "causes"} for d in doc)
    fig19 = next(d for d in doc if d["name"] == "fig19-require-inbound")
    assert fig19["figure"] == "19"
    assert fig19["expect"]["L-4"] == "holds" and fig19["expect"]["S-1"] == "holds"
    assert fig19["expect"] == CATALOG["fig19-require-inbound"].expect
    lossy = next(d for d in doc if d["name"] == "fig19-lossy")
    assert {k for k, v in lossy["expect"].items() if v == "violated"} == {"H-1", "L-1", "L-4", "W-8"}
    assert set(lossy["causes"]) == {"H-1", "L-1", "L-4", "W-8"}
    assert lossy["causes"]["W-8"] == {"cause": "policy", "rules": ["ND-17", "A-10"],
                                      "note": CATALOG["fig19-lossy"].causes["W-8"].note}
    ge = next(d for d in doc if d["name"] == "guaranteed-encryption")
    assert ge["causes"]["S-7"]["cause"] == "spec" and ge["causes"]["S-7"]["rules"] == ["ND-7", "ND-8"]


def test_json_to_a_file(tmp_path, capsys):
    out = tmp_path / "catalog.json"
    assert main(["scenarios", "--json", str(out)]) == 0
    assert capsys.readouterr().out == ""
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert len(doc) == len(CATALOG)
    assert main(["scenarios", "--json", str(tmp_path / "missing" / "c.json")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_help_has_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["scenarios", "-h"])
    assert "example" in capsys.readouterr().out
