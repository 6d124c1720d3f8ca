"""The command line's front door: --version, one ``ndcheck:`` prefix, "did you mean"."""

from __future__ import annotations

import re
from importlib.metadata import version

import pytest

from ndcheck.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"ndcheck {version('ndcheck')}"


@pytest.mark.parametrize(("argv", "want"), [
    (["check", "--engine", "z4"], "ndcheck: error: check: argument --engine: invalid choice: 'z4'"),
    (["explore", "fig7-both-capable", "--max-states", "abc"],
     "ndcheck: error: explore: argument --max-states: expected a positive integer"),
    (["chek"], "ndcheck: error: argument COMMAND: invalid choice: 'chek'"),
])
def test_one_prefix_naming_the_subcommand(capsys, argv, want):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(want) and err.count("ndcheck:") == 1 and len(err.splitlines()) == 1


def test_misspelt_subcommand_gets_a_suggestion(capsys):
    assert main(["chek"]) == 2
    assert capsys.readouterr().err.rstrip().endswith("did you mean 'check'?")


def test_help_has_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["-h"])
    assert "example: ndcheck check all -q" in capsys.readouterr().out


def test_every_subcommand_help_has_an_example(capsys):
    from ndcheck.cli import SUBCOMMANDS

    for name in SUBCOMMANDS:
        command = name.replace("_", "-")
        with pytest.raises(SystemExit):
            main([command, "-h"])
        out = capsys.readouterr().out
        assert re.search(rf"examples?:\s+ndcheck {command}\b", out), command
