"""Bad input is always answered: exit 2, one line "ndcheck: error: ..." naming the problem, no traceback.

Table-driven from ``tests/bad_inputs/manifest.toml`` (DESIGN.md "Quality bars": bad input gives one
clear message naming what is wrong and what is allowed, exit 2, no traceback).  Every case runs
in-process through :func:`ndcheck.cli.main`; cases marked ``subprocess = true`` also run as a
separate process, so that an exception escaping ``main`` (or raised at import time) would show
as a traceback on stderr: alternately through the console script and through ``python -m
ndcheck.cli`` (the two launchers run the same ``main``; each case once, 25 processes instead of
50, about 23 s of the suite's CPU), and the first case through both.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ndcheck.cli import main

CORPUS = Path(__file__).resolve().parents[1] / "bad_inputs"
MANIFEST = tomllib.loads((CORPUS / "manifest.toml").read_text(encoding="utf-8"))
CONSOLE = shutil.which("ndcheck", path=os.path.dirname(sys.executable)) or shutil.which("ndcheck")


def _has_command(module: str) -> bool:
    return importlib.util.find_spec(f"ndcheck.cli.{module}") is not None


def _cases() -> list:
    """(id, argv, expected substrings, needed subcommand module, run as a subprocess too)."""
    out = []
    for c in MANIFEST["scenario"]:
        f = str(CORPUS / c["file"])
        name = Path(c["file"]).stem
        sp = c.get("subprocess", False)
        out.append((f"scenario:{name}:explore", ["explore", "--file", f], c["expect"], None, sp))
        out.append((f"scenario:{name}:check", ["check", "--file", f], c["expect"], "check", False))
    for c in MANIFEST["wire"]:
        f = str(CORPUS / c["file"])
        out.append((f"wire:{Path(c['file']).stem}", ["conform", "fig7-both-capable", f], c["expect"],
                    "conform", c.get("subprocess", False)))
    for c in MANIFEST["cli"]:
        argv = [a.replace("{corpus}", str(CORPUS)) for a in c["args"]]
        out.append((f"cli:{' '.join(c['args']) or '(none)'}", argv, c["expect"], c.get("needs"),
                    c.get("subprocess", False)))
    return out


CASES = _cases()


def _param(case) -> pytest.param:
    cid, argv, expect, needs, _ = case
    return pytest.param(argv, expect, needs, id=cid)


def _require(needs: str | None) -> None:
    if needs and not _has_command(needs):
        pytest.skip(f"`ndcheck {needs.replace('_', '-')}` is not available yet")


def _assert_answered(code: int, err: str, expect: list[str]) -> None:
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert code == 2, f"exit {code}, stderr: {err!r}"
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {err!r}"
    assert lines[0].startswith("ndcheck: error: "), lines[0]
    for s in expect:
        assert s in lines[0], f"{s!r} not in {lines[0]!r}"


@pytest.mark.parametrize(("argv", "expect", "needs"), [_param(c) for c in CASES])
def test_bad_input_in_process(argv, expect, needs, capsys):
    _require(needs)
    code = main(argv)
    _assert_answered(code, capsys.readouterr().err, expect)


SUBPROCESS_CASES = [c for c in CASES if c[4]]


LAUNCHERS = ("console-script", "python-m")


def _launched() -> list:
    """(launcher, argv, expect, needs) per subprocess case: the launchers alternate, and the
    first case runs through both."""
    out = []
    for k, case in enumerate(SUBPROCESS_CASES):
        cid, argv, expect, needs, _ = case
        for launcher in (LAUNCHERS if k == 0 else (LAUNCHERS[k % 2],)):
            out.append(pytest.param(launcher, argv, expect, needs, id=f"{launcher}-{cid}"))
    return out


def test_both_launchers_run_subprocess_cases():
    launchers = [p.values[0] for p in _launched()]
    assert set(launchers) == set(LAUNCHERS) and len(launchers) == len(SUBPROCESS_CASES) + 1


@pytest.mark.parametrize(("launcher", "argv", "expect", "needs"), _launched())
def test_bad_input_in_a_separate_process(launcher, argv, expect, needs):
    _require(needs)
    if launcher == "console-script":
        if CONSOLE is None:
            pytest.skip("the ndcheck console script is not installed")
        cmd = [CONSOLE, *argv]
    else:
        cmd = [sys.executable, "-m", "ndcheck.cli", *argv]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                       check=False, env=env)
    _assert_answered(r.returncode, r.stderr, expect)


def test_the_corpus_is_large_and_every_file_is_used():
    used = {c["file"] for kind in ("scenario", "wire") for c in MANIFEST[kind]}
    used |= {a.replace("{corpus}/", "") for c in MANIFEST["cli"] for a in c["args"]}
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*")
             if p.is_file() and p.name != "manifest.toml"}
    assert files <= used, f"corpus files no case uses: {sorted(files - used)}"
    assert len(files) >= 30
    assert len(CASES) >= 60


def test_python_dash_m_runs_the_cli():
    r = subprocess.run([sys.executable, "-m", "ndcheck.cli", "scenarios"], capture_output=True,
                       text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)
    assert r.returncode == 0, r.stderr
    assert "fig7-both-capable" in r.stdout


def test_a_message_with_several_lines_is_printed_as_one(capsys, monkeypatch):
    """An error message that happens to contain newlines still gives one stderr line."""
    from ndcheck.cli import explore as explore_cli
    from ndcheck.model.scenario import ScenarioError

    def boom(args):
        raise ScenarioError("first part\n\n  second part\n")

    monkeypatch.setattr(explore_cli, "run", boom)
    code = main(["explore", "fig7-both-capable"])
    _assert_answered(code, capsys.readouterr().err, ["first part; second part"])


# --------------------------------------------------------------------------------------------
# Fuzzing the wire-trace reader: any bytes are a trace or one WireError line
# --------------------------------------------------------------------------------------------

_WORDS = st.sampled_from(["client>server", "server>client", "client>client", "alice>server", ">",
                          "client", "SYN", "SYN-ACK", "ACK", "DATA", "FIN", "RST", "MM1", "QM1",
                          "CONNECTED", "NOTIFY", "ICMP", "clear", "esp", "ESP", "#", "# note", "\t",
                          "\x00", "\x07", "é", "\r"])
_LINES = st.lists(st.lists(_WORDS, max_size=5).map(" ".join), max_size=6).map("\n".join)


@settings(max_examples=300, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.one_of(_LINES.map(lambda t: t.encode("utf-8")), st.binary(max_size=64)))
def test_any_bytes_are_a_wire_trace_or_one_wire_error(tmp_path, data):
    from ndcheck.traces import wire
    p = tmp_path / "fuzz.wire"
    p.write_bytes(data)
    try:
        trace = wire.read_wire(p)
    except wire.WireError as e:
        msg = str(e)
        assert msg.startswith(str(p)) and "\n" not in msg and "\r" not in msg, msg
        return
    assert len(trace) >= 1
    # what was accepted prints back as the same packets
    assert wire.parse_wire(wire.format_wire(trace.packets)).wire() == trace.wire()
