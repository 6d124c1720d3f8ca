"""``ndcheck prove``: exit codes 0 proved, 1 refuted (trace printed), 3 unknown, 2 bad input."""

from __future__ import annotations

import io
import json
import re
import sys

import pytest

from ndcheck.cli import main
from tests.cli.scenario_files import scenario_file


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
    # H-1, not S-1: on a silent peer no flow is ever Secure, so S-1 is vacuous (next test)
    assert main(["prove", "fig8-silent-peer", "H-1", "--unbounded", "--lemmas"]) == 0
    out = capsys.readouterr().out
    head, _, lemmas = out.partition("Houdini lemmas (")
    assert "HOLDS" in head and "implied by" in head
    n = int(lemmas.split(",", 1)[0])
    assert n > 10 and len([ln for ln in lemmas.splitlines()[1:] if ln.startswith("  ")]) == n
    # the cone of H-1 (engines/symbolic/cone.py): the client's initiator never gets past MM #1
    # against a silent peer, so no QM SA and no ESP exist
    assert "client.ike_i ∈ {IDLE, MM1-SENT, FAILED}" in lemmas and "client.sa_out = 0" in lemmas


def test_a_property_whose_trigger_is_unreachable_is_vacuous(capsys):
    """S-1's trigger (a Secure flow) is unreachable against a silent peer: z3 proves that too,
    so the verdict is vacuous, exit 0; the invariant shows why (server.secure = 0)."""
    assert main(["prove", "fig8-silent-peer", "S-1", "--unbounded"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("fig8-silent-peer: S-1 (secure_flow_never_sends_clear): VACUOUS [z3 spacer")
    assert "no reachable state where a host's flow is Secure" in out
    # H-1 has a trigger too (IKE failed, flow clear), and a silent peer reaches it: holds
    assert main(["prove", "fig8-silent-peer", "H-1", "--unbounded", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "holds"


@pytest.mark.parametrize(("prop", "extra", "code", "verdict"), [
    ("S-7", [], 1, "violated"),
    # the undetermined exit (10 s of the suite's CPU) runs with -m slow; exit 3 of prove is also
    # tested by test_unknown_exits_3_and_json
    pytest.param("S-3", ["--depth", "3"], 3, "undetermined", marks=pytest.mark.slow),
])
def test_a_scenario_file_gives_the_same_verdict_as_the_catalog_name(capsys, tmp_path, prop, extra,
                                                                     code, verdict):
    f = scenario_file(tmp_path, "guaranteed-encryption", "my-ge")
    docs = []
    for where in (["guaranteed-encryption"], ["--file", str(f)]):
        assert main(["prove", *where, prop, "--engine", "bmc", "--format", "json", *extra]) == code
        out, err = capsys.readouterr()
        assert err == ""   # no progress when stderr is not a terminal
        docs.append(json.loads(out))
    assert [d["verdict"] for d in docs] == [verdict, verdict]
    assert [d["scenario"] for d in docs] == ["guaranteed-encryption", "my-ge"]
    assert main(["prove", "--file", str(f), prop, "--engine", "bmc", *extra]) == code
    assert capsys.readouterr().out.startswith(f"my-ge: {prop} (")


def test_name_and_file_together_or_neither_exit_2(capsys, tmp_path):
    f = scenario_file(tmp_path, "guaranteed-encryption", "my-ge")
    assert main(["prove", "guaranteed-encryption", "S-7", "--file", str(f), "--engine", "bmc"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "not both" in err
    for argv in (["prove", "S-7"], ["prove", "--file", str(f)], ["prove", "S-7", "--engine", "bmc"]):
        assert main(argv) == 2, argv
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and "required" in err, argv


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_status_line_on_a_terminal_stderr_only(capsys, monkeypatch):
    argv = ["prove", "guaranteed-encryption", "S-7", "--engine", "bmc"]
    assert main(argv) == 1
    plain = capsys.readouterr()
    assert plain.err == ""
    tty = _Terminal()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(argv) == 1
    out = capsys.readouterr().out
    # the same output (but the measured seconds), and the status line went to the terminal
    assert re.sub(r"\d+\.\d+s", "", out) == re.sub(r"\d+\.\d+s", "", plain.out)
    assert "S-7 on guaranteed-encryption:" in tty.getvalue()


def test_lemmas_flag_prints_the_cubes_of_a_blocking_proof(capsys):
    """T-2 on no-ipsec is proved by blocking (engines/symbolic/blocking.py): the invariant shows
    the first cubes, --lemmas every lemma and cube."""
    assert main(["prove", "no-ipsec", "T-2", "--unbounded", "--lemmas"]) == 0
    out = capsys.readouterr().out
    head, _, lemmas = out.partition("Houdini lemmas and excluded cubes (")
    assert "HOLDS" in head and "(blocking: " in head and "more (all of them with --lemmas" in head
    n = int(lemmas.split(",", 1)[0])
    listed = [ln for ln in lemmas.splitlines()[1:] if ln.startswith("  ")]
    assert len(listed) == n and sum(ln.startswith("  ¬(") for ln in listed) > 100


def test_a_default_time_limit_ends_a_proof_that_does_not_converge(capsys, monkeypatch):
    """Without --timeout, prove stops at DEFAULT_TIMEOUT (undetermined, exit 3) and says that the
    default was the limit and how to change it; ``--timeout none`` is no limit.  T-2 on
    fig7-fifo: no stage decides it within seconds (BENCHMARKS.md, blocking)."""
    from ndcheck.cli import prove as cli_prove

    assert cli_prove.time_limit("none") is None and cli_prove.time_limit("2.5") == 2.5
    monkeypatch.setattr(cli_prove, "DEFAULT_TIMEOUT", 3.0)
    assert main(["prove", "fig7-fifo", "T-2", "--unbounded", "--workers", "1"]) == 3
    out = capsys.readouterr().out
    assert "UNDETERMINED" in out
    assert "(the default time limit, 3 s, was reached: --timeout SECONDS for another, " \
           "--timeout none for none)" in out
