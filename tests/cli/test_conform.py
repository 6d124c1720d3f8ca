"""``ndcheck conform NAME FILE``: exit 0 accepted, 1 rejected, 2 bad input, 3 undetermined."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ndcheck.cli import main
from ndcheck.traces.wire import read_wire
from tests.cli.scenario_files import scenario_file

WIRE_DIR = Path(__file__).resolve().parents[1] / "wire"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_accepted_exits_0(capsys):
    code, out, _err = run(capsys, "conform", "fig19-require-inbound", str(WIRE_DIR / "fig19.txt"))
    assert code == 0
    assert out.startswith("accepted: fig19-require-inbound can send all 16 packets in this order")


def test_rejected_exits_1_with_prefix_and_allowed_next(capsys):
    code, out, _err = run(capsys, "conform", "fig19-require-inbound", str(WIRE_DIR / "fig18.txt"))
    assert code == 1
    lines = out.splitlines()
    line = read_wire(WIRE_DIR / "fig18.txt").lines[2]
    assert lines[0] == (f"rejected: packet 3 (line {line}) 'server>client SYN-ACK clear' is not a behaviour of "
                        "fig19-require-inbound after the accepted prefix of 2 packets")
    assert lines[1:4] == ["longest accepted prefix:", "    1  client>server MM1", "    2  client>server SYN clear"]
    assert lines[4:] == ["the model allows next:", "       client>server SYN clear", "       server>client MM2"]


def test_bad_wire_file_exits_2_with_one_line(capsys, tmp_path):
    f = tmp_path / "bad.txt"
    f.write_text("client>server SYN clear\nclient>server MM1 esp\n")
    code, out, err = run(capsys, "conform", "fig7-both-capable", str(f))
    assert code == 2 and out == ""
    assert err == (f"ndcheck: error: {f}:2: IKE message MM1 takes no protection (got 'esp'); only TCP "
                   "segments (SYN, SYN-ACK, ACK, DATA, FIN, RST) say clear or esp\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    code, out, err = run(capsys, "conform", "fig7-both-capable", str(empty))
    assert code == 2 and err.startswith(f"ndcheck: error: {empty}: no packets")
    assert err.count("\n") == 1


def test_unknown_scenario_exits_2_listing_the_catalog(capsys):
    code, _out, err = run(capsys, "conform", "fig99", str(WIRE_DIR / "fig7.txt"))
    assert code == 2
    assert err.startswith("ndcheck: error: unknown scenario 'fig99'; available: ")
    assert "fig7-both-capable" in err and err.count("\n") == 1


def test_missing_arguments_exit_2(capsys):
    code, _out, err = run(capsys, "conform", "fig7-both-capable")
    assert code == 2 and "FILE" in err


def test_truncated_rejection_exits_3(capsys):
    code, out, _err = run(capsys, "conform", "fig7-both-capable", str(WIRE_DIR / "fig7.txt"),
                         "--max-states", "20")
    assert code == 3
    assert out.startswith("undetermined: packet ")
    assert "the exploration was truncated" in out


def test_witness_can_be_printed_or_written(capsys, tmp_path):
    code, out, _err = run(capsys, "conform", "fig8-silent-peer", str(WIRE_DIR / "fig8-silent.txt"),
                         "--witness", "text")
    assert code == 0
    assert "fig8-silent-peer: witness, 11 steps" in out
    svg = tmp_path / "w.svg"
    code, out, _err = run(capsys, "conform", "fig8-silent-peer", str(WIRE_DIR / "fig8-silent.txt"),
                         "--witness", "svg", "-o", str(svg))
    assert code == 0 and ET.parse(svg).getroot().tag.endswith("svg")


@pytest.mark.parametrize(("wire", "code"), [("fig19.txt", 0), ("fig18.txt", 1)])
def test_a_scenario_file_gives_the_same_answer_as_the_catalog_name(capsys, tmp_path, wire, code):
    f = scenario_file(tmp_path, "fig19-require-inbound", "my-fig19")
    by_name = run(capsys, "conform", "fig19-require-inbound", str(WIRE_DIR / wire))
    by_file = run(capsys, "conform", "--file", str(f), str(WIRE_DIR / wire))
    assert by_file[0] == by_name[0] == code
    assert by_file[1] == by_name[1].replace("fig19-require-inbound", "my-fig19")
    assert by_file[1].startswith("accepted: my-fig19 " if code == 0 else "rejected: ")
    assert by_file[2] == by_name[2] == ""


def test_name_and_file_together_or_neither_exit_2(capsys, tmp_path):
    f = scenario_file(tmp_path, "fig19-require-inbound", "my-fig19")
    wire = str(WIRE_DIR / "fig19.txt")
    code, out, err = run(capsys, "conform", "fig19-require-inbound", wire, "--file", str(f))
    assert code == 2 and out == "" and err.count("\n") == 1 and "not both" in err
    for argv in (["conform", wire], ["conform", "--file", str(f)]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and err.count("\n") == 1, argv
        assert "required" in err and "FILE" in err, argv
