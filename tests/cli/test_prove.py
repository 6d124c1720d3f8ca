"""``ndcheck prove``: exit codes 0 proved, 1 refuted (trace printed), 3 unknown, 2 bad input."""

from __future__ import annotations

import json

from ndcheck.cli import main


def test_refuted_prints_trace_and_exits_1(capsys):
    assert main(["prove", "guaranteed-encryption", "S-7", "--engine", "bmc"]) == 1
    out = capsys.readouterr().out
    assert "VIOLATED" in out and "client>server SYN clear" in out


def test_unknown_exits_3_and_json(capsys):
    rc = main(["prove", "require-inbound-auth-failure", "S-3", "--engine", "bmc", "--depth", "2",
               "--format", "json"])
    assert rc == 3
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "undetermined" and doc["engine"] == "bmc"


def test_bad_input_exits_2_with_one_line(capsys):
    assert main(["prove", "no-such", "S-1"]) == 2
    err = capsys.readouterr().err
    assert "available:" in err and err.count("\n") == 1
    assert main(["prove", "fig8-silent-peer", "X-99"]) == 2
    assert "available:" in capsys.readouterr().err
    assert main(["prove", "fig8-silent-peer", "L-2"]) == 2
    assert "safety" in capsys.readouterr().err


def test_proved_exits_0(capsys):
    assert main(["prove", "guaranteed-encryption", "S-3", "--engine", "kind", "--depth", "3"]) in (0, 3)


def test_lemmas_flag_prints_the_houdini_invariant(capsys):
    assert main(["prove", "fig8-silent-peer", "S-1", "--unbounded", "--lemmas"]) == 0
    out = capsys.readouterr().out
    head, _, lemmas = out.partition("Houdini lemmas (")
    assert "HOLDS" in head and "implied by" in head
    n = int(lemmas.split(",", 1)[0])
    assert n > 10 and len([ln for ln in lemmas.splitlines()[1:] if ln.startswith("  ")]) == n
    assert "→" in lemmas and "client." in lemmas
