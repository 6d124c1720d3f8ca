"""Bounds stop exploration cleanly: partial statistics, TRUNCATED, exit 3 -- and never ``holds``.

``--max-states``, ``--timeout`` and the memory guard (``--max-memory MB``, ``[bounds]
max_memory``, ``NDCHECK_MAX_MEMORY``; :mod:`ndcheck.engines.memguard`) end the search the same
way (DESIGN.md: "Truncation is never a pass"): the explorer returns the graph it has with
``truncated`` and a reason, the CLI prints the partial sizes and exits 3 (undetermined), and
``check`` reports every unrefuted property as ``undetermined``.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys

import pytest

from ndcheck.cli import main
from ndcheck.engines import explicit, memguard
from ndcheck.engines.explicit import explore
from ndcheck.model.compose import build_system
from ndcheck.model.scenario import CATALOG, load_scenario_text

#: A scenario whose state space is far larger than any test explores (over 300,000 states).
BIG = """\
name = "big"
description = "lossy, duplicating network and four data segments: a state space no test finishes"

[tcp]
data_segments = 4
window = 3
data_retries = 2

[ike]
retransmissions = 2

[network]
capacity = 4
loss = ["ike", "tcp"]
duplicate = 2
"""

SIZES = re.compile(r"^(?P<name>\S+): (?P<states>\d+) states, (?P<edges>\d+) edges, "
                   r".*TRUNCATED \((?P<reason>[^)]*)\)", re.MULTILINE)

HAS_MEMORY_HOOK = "MemoryGuard" in inspect.getsource(explicit)
needs_memory_hook = pytest.mark.skipif(
    not HAS_MEMORY_HOOK,
    reason="engines/explicit.explore does not call engines/memguard.MemoryGuard yet (hook pending)")
needs_check = pytest.mark.skipif(importlib.util.find_spec("ndcheck.cli.check") is None,
                                 reason="`ndcheck check` is not available yet")


@pytest.fixture
def big(tmp_path):
    p = tmp_path / "big.toml"
    p.write_text(BIG, encoding="utf-8")
    return str(p)


def _truncated(capsys, code: int) -> re.Match:
    out, err = capsys.readouterr()
    assert code == 3, (out, err)
    assert "Traceback" not in err
    m = SIZES.search(out)
    assert m, out
    return m


# --------------------------------------------------------------------------------------------
# explore
# --------------------------------------------------------------------------------------------


def test_max_states_stops_explore_with_partial_sizes(capsys):
    m = _truncated(capsys, main(["explore", "fig7-both-capable", "--max-states", "50"]))
    assert m["name"] == "fig7-both-capable"
    assert int(m["states"]) == 50
    assert int(m["edges"]) > 0
    assert m["reason"] == "max-states 50 reached"


def test_timeout_stops_explore(capsys, big):
    m = _truncated(capsys, main(["explore", "--file", big, "--timeout", "0.001"]))
    assert m["reason"].startswith("timeout 0.001s reached")
    assert 0 < int(m["states"]) < 300_000


def test_bounds_in_the_scenario_file_are_honoured(capsys, tmp_path):
    p = tmp_path / "bounded.toml"
    p.write_text(BIG + "\n[bounds]\nmax_states = 123\n", encoding="utf-8")
    m = _truncated(capsys, main(["explore", "--file", str(p)]))
    assert int(m["states"]) == 123


def test_command_line_bounds_override_the_file(capsys, tmp_path):
    p = tmp_path / "bounded.toml"
    p.write_text(BIG + "\n[bounds]\nmax_states = 123\n", encoding="utf-8")
    m = _truncated(capsys, main(["explore", "--file", str(p), "--max-states", "77"]))
    assert int(m["states"]) == 77


def test_an_untruncated_exploration_exits_0(capsys):
    assert main(["explore", "fig8-icmp-peer", "--max-states", "100000"]) == 0
    assert "TRUNCATED" not in capsys.readouterr().out


def test_the_partial_graph_is_consistent():
    """A truncated graph is a proper prefix of the BFS: ids in range, parents explored first."""
    full = explore(build_system(CATALOG["fig7-both-capable"]))
    part = explore(build_system(CATALOG["fig7-both-capable"]), max_states=200)
    assert part.truncated and part.reason == "max-states 200 reached"
    assert part.n_states == 200
    assert all(0 <= v < 200 for v in part.dst)
    assert all(part.parent[i] < i for i in range(1, part.n_states))
    # BFS order is deterministic: the partial graph's states are the first 200 of the full one
    assert [part.state(i) for i in range(200)] == [full.state(i) for i in range(200)]


# --------------------------------------------------------------------------------------------
# memory guard
# --------------------------------------------------------------------------------------------


def test_rss_is_measured():
    assert 1 < memguard.rss_mb() < 1_000_000


def test_memory_guard_without_a_limit_never_trips():
    g = memguard.MemoryGuard(0)
    assert not g
    assert not g.exceeded()
    assert g.reason == ""


def test_memory_guard_trips_past_its_limit_and_says_why():
    g = memguard.MemoryGuard(1)
    assert g.exceeded()
    assert re.fullmatch(r"memory limit 1 MB reached \(\d+ MB resident\)", g.reason)
    assert memguard.MemoryGuard(10**7).exceeded() is False


def test_memory_limit_comes_from_the_scenario_then_the_environment(monkeypatch):
    monkeypatch.delenv(memguard.ENV, raising=False)
    plain = build_system(CATALOG["fig8-icmp-peer"])
    assert memguard.MemoryGuard.for_system(plain).limit_mb == 0
    monkeypatch.setenv(memguard.ENV, "512")
    assert memguard.MemoryGuard.for_system(plain).limit_mb == 512
    bounded = build_system(CATALOG["fig8-icmp-peer"].with_bounds(max_memory=64))
    assert memguard.MemoryGuard.for_system(bounded).limit_mb == 64
    for junk in ("", "lots", "-5"):
        monkeypatch.setenv(memguard.ENV, junk)
        assert memguard.limit_from_env() == 0


def test_max_memory_is_a_scenario_bound():
    sc = load_scenario_text('name = "m"\n[bounds]\nmax_memory = 2048\n', "<test>")
    assert sc.bounds.max_memory == 2048
    assert sc.with_bounds(max_states=5).bounds.max_memory == 2048


@needs_memory_hook
def test_max_memory_stops_explore(capsys, big):
    m = _truncated(capsys, main(["explore", "--file", big, "--max-memory", "1"]))
    assert m["reason"].startswith("memory limit 1 MB reached")


@needs_memory_hook
def test_the_environment_limit_stops_explore_in_a_fresh_process(big):
    env = {**os.environ, memguard.ENV: "1"}
    r = subprocess.run([sys.executable, "-m", "ndcheck.cli", "explore", "--file", big], env=env,
                       capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, check=False)
    assert r.returncode == 3, r.stderr
    assert "TRUNCATED (memory limit 1 MB reached" in r.stdout
    assert "Traceback" not in r.stderr


# --------------------------------------------------------------------------------------------
# check, trace, conform under bounds: truncation is never a pass
# --------------------------------------------------------------------------------------------


def _check_json(capsys, argv: list[str]) -> tuple[int, list[dict]]:
    code = main(["check", *argv, "--json", "-"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    doc = json.loads(out)
    return code, doc if isinstance(doc, list) else [doc]


def _assert_never_a_pass(doc: dict) -> None:
    """On a truncated graph only what a found path proves is conclusive: a violation (with its
    counterexample) or a ``sometimes`` witness; everything else is ``undetermined``."""
    assert doc["truncated"] is True
    assert doc["properties"], doc
    for p in doc["properties"]:
        if p["verdict"] == "holds":
            assert p["kind"] == "sometimes", f"{p['id']} ({p['kind']}) holds on a truncated graph"
            assert p["trace"], f"{p['id']}: a witness verdict without its witness"
        elif p["verdict"] == "violated":
            assert p["kind"] != "sometimes" and p["trace"], p["id"]
        else:
            assert p["verdict"] == "undetermined", p


@needs_check
@pytest.mark.parametrize("name", ["fig7-both-capable", "qm3-race", "fig8-silent-peer"])
def test_a_truncated_check_never_says_holds(capsys, name):
    code, docs = _check_json(capsys, [name, "--max-states", "50"])
    (doc,) = docs
    assert doc["states"] == 50
    _assert_never_a_pass(doc)
    safety = [p for p in doc["properties"] if p["kind"] in ("always", "never_action")]
    assert safety and all(p["verdict"] != "holds" for p in safety)
    assert code in (1, 3)


@needs_check
def test_a_timed_out_check_is_undetermined(capsys, big):
    code, (doc,) = _check_json(capsys, ["--file", big, "--timeout", "0.001"])
    _assert_never_a_pass(doc)
    assert code == 3


@needs_check
@needs_memory_hook
def test_a_memory_bounded_check_is_undetermined(capsys, big):
    code, (doc,) = _check_json(capsys, ["--file", big, "--max-memory", "1"])
    _assert_never_a_pass(doc)
    assert code == 3


@pytest.mark.skipif(importlib.util.find_spec("ndcheck.cli.trace") is None,
                    reason="`ndcheck trace` is not available yet")
def test_trace_on_a_truncated_graph_is_undetermined(capsys):
    code = main(["trace", "fig7-both-capable", "S-1", "--max-states", "50"])
    out, err = capsys.readouterr()
    assert code == 3, (out, err)
    assert "undetermined" in out + err
    assert "holds" not in out + err.replace("undetermined", "")


def test_memguard_examples_run():
    """The Examples of the memguard docstring run (STYLE.md: doctested examples)."""
    import doctest

    result = doctest.testmod(memguard)
    assert result.attempted > 0 and result.failed == 0
