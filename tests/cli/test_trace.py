"""``ndcheck trace NAME PROPERTY``: exit 0 found, 1 none, 2 bad input; every format."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from ndcheck.cli import main
from tests.cli.scenario_files import scenario_file


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_counterexample_as_text(capsys):
    """S-7 (GE flows never sent clear) fails on the very first SYN (ND-8 before any SA)."""
    code, out, _err = run(capsys, "trace", "guaranteed-encryption", "S-7")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "guaranteed-encryption: counterexample of S-7, 1 step"
    assert "client>server SYN clear" in lines[2] and "client.flow_ge=1" in lines[2]


@pytest.mark.parametrize("fmt", ["json", "mermaid", "svg"])
def test_every_format_to_a_file(capsys, tmp_path, fmt):
    out_file = tmp_path / f"t.{fmt}"
    code, out, err = run(capsys, "trace", "guaranteed-encryption", "S-7", "--format", fmt, "-o", str(out_file))
    assert code == 0 and out == ""
    assert err == f"wrote {out_file}: counterexample of S-7 in guaranteed-encryption, 1 step ({fmt})\n"
    text = out_file.read_text(encoding="utf-8")
    if fmt == "json":
        doc = json.loads(text)
        assert doc["property"] == "S-7" and doc["steps"][0]["wire"].startswith("client>server SYN clear")
    elif fmt == "mermaid":
        assert "sequenceDiagram" in text and "cT-->>sT: 1 SYN clear" in text
    else:
        assert ET.fromstring(text).tag == "{http://www.w3.org/2000/svg}svg"


def test_property_name_is_accepted_like_its_id(capsys):
    from ndcheck.properties.catalog import get_property

    name = get_property("S-7").name
    code, out, _err = run(capsys, "trace", "guaranteed-encryption", name, "--format", "json")
    assert code == 0 and json.loads(out)["property"] == "S-7"


def test_no_counterexample_exits_1(capsys):
    code, out, err = run(capsys, "trace", "fig7-both-capable", "S-1")
    assert code == 1 and out == ""
    assert err.startswith("fig7-both-capable: S-1 (")
    assert "no counterexample: the property holds" in err


def test_unknown_property_exits_2_listing_the_ids(capsys):
    code, _out, err = run(capsys, "trace", "fig7-both-capable", "X-9")
    assert code == 2
    assert err.startswith("ndcheck: error: unknown property 'X-9'; available: H-1, H-2, H-3, S-1")
    assert err.count("\n") == 1


def test_unknown_scenario_and_format_exit_2(capsys):
    code, _out, err = run(capsys, "trace", "nope", "S-1")
    assert code == 2 and err.startswith("ndcheck: error: unknown scenario 'nope'; available: ")
    code, _out, err = run(capsys, "trace", "fig7-both-capable", "S-1", "--format", "png")
    assert code == 2 and "invalid choice: 'png'" in err and err.count("\n") == 1


def test_unwritable_output_exits_2(capsys, tmp_path):
    code, _out, err = run(capsys, "trace", "guaranteed-encryption", "S-7", "-o", str(tmp_path / "no" / "x.txt"))
    assert code == 2 and err.startswith("ndcheck: error: cannot write ")


@pytest.mark.parametrize("prop", ["S-7", "S-1"])
def test_a_scenario_file_gives_the_same_trace_as_the_catalog_name(capsys, tmp_path, prop):
    f = scenario_file(tmp_path, "guaranteed-encryption", "my-ge")
    by_name = run(capsys, "trace", "guaranteed-encryption", prop)
    by_file = run(capsys, "trace", "--file", str(f), prop)
    assert by_file[0] == by_name[0] == {"S-7": 0, "S-1": 1}[prop]
    assert by_file[1:] == tuple(t.replace("guaranteed-encryption", "my-ge") for t in by_name[1:])
    assert (by_file[1] != "") == (prop == "S-7")


def test_name_and_file_together_or_neither_exit_2(capsys, tmp_path):
    f = scenario_file(tmp_path, "guaranteed-encryption", "my-ge")
    code, out, err = run(capsys, "trace", "guaranteed-encryption", "S-7", "--file", str(f))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("ndcheck: error: ") and "not both" in err
    for argv in (["trace", "S-7"], ["trace", "--file", str(f)], ["trace"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and err.count("\n") == 1, argv
        assert err.startswith("ndcheck: error: ") and "required" in err, argv


@pytest.mark.parametrize("command", ["trace", "prove", "conform", "mutants"])
def test_help_shows_an_example(capsys, command):
    with pytest.raises(SystemExit) as e:
        main([command, "-h"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    example = next(ln for ln in out.splitlines() if ln.startswith("example: "))
    assert example.startswith(f"example: ndcheck {command} ")
    if command != "mutants":
        assert "--file F.toml" in out
