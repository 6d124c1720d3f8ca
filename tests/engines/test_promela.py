"""Promela export: the text, the CLI, and SPIN's state-space size equal to the explorer's.

pan (``spin -o2 -a``; ``gcc -DNOREDUCE -DNOCLAIM -DSAFETY``; ``pan -E``) must report
``states, stored`` = ``Graph.n_states`` and ``transitions`` = ``Graph.n_edges + 1`` (pan counts
the stored initial state, which no transition reached; see ``engines/promela.py``) for one
built-in scenario of each policy pair and peer kind (the whole catalog, about 2 million states
since both hosts run IKE, is ``python bench/benchmark.py``'s SPIN column).  The SPIN tests are skipped only when ``spin`` or ``gcc`` is missing (CI
installs the Debian package ``spin``).
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from ndcheck.cli import main
from ndcheck.engines.decision_tree import never_enabled
from ndcheck.engines.explicit import explore
from ndcheck.engines.promela import KEYWORDS, promela_names, run_spin, spin_available, to_promela
from ndcheck.model.compose import build_system
from ndcheck.model.ir import C, Command, F, Field, System, add, and_, eq, ite, lt, sub
from ndcheck.model.scenario import CATALOG

needs_spin = pytest.mark.skipif(not spin_available(), reason="spin/gcc not installed (apt-get install -y spin)")


def toy() -> System:
    """A swap (simultaneous assignment), a field named like a keyword, colliding names, lo != 0."""
    fields = [
        Field("pc", 0, 2, 0, "control", ("A", "B", "C")),
        Field("x", 3, 5, 3, "counter"),
        Field("timeout", 3, 5, 4, "enum"),
        Field("a.b", 0, 1, 0, "bool"),
        Field("a_b", 0, 300, 0, "counter"),
    ]
    cmds = [
        Command("swap", eq(F("pc"), 0), (("x", F("timeout")), ("timeout", F("x")), ("pc", C(1)))),
        Command("inc", and_(eq(F("pc"), 1), lt(F("x"), 5)), (("x", add(F("x"), 1)),)),
        Command("flip", eq(F("pc"), 1), (("a.b", ite(eq(F("a.b"), 0), 1, 0)), ("pc", C(2)))),
        Command("count", and_(eq(F("pc"), 2), lt(F("a_b"), 299)), (("a_b", add(F("a_b"), 2)),)),
        Command("down", and_(eq(F("pc"), 2), lt(0, F("a_b"))), (("a_b", sub(F("a_b"), 1)),)),
        Command("back", eq(F("pc"), 2), (("pc", C(0)),)),
    ]
    return System("toy", fields, cmds)


def test_promela_text():
    s = toy()
    text = to_promela(s)
    assert text == to_promela(toy())
    names = promela_names(s)
    assert len(set(names.values())) == len(names)
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n) and n not in KEYWORDS for n in names.values())
    assert names["timeout"] != "timeout" and names["a.b"] != names["a_b"]
    assert text.count(":: d_step") == len(s.commands)
    assert f"short {names['a_b']} = 0;" in text and f"bit {names['a.b']} = 0;" in text
    # the swap reads the pre-state through a hidden temporary
    assert "hidden int _t0" in text
    # a counter that can grow carries the explorer's bound in its guard
    assert "<= 300" in text


def test_catalog_export_has_one_d_step_per_enabled_command():
    s = build_system(CATALOG["fig7-fifo"])
    text = to_promela(s)
    enabled = sum(1 for c in s.commands if not never_enabled(s, c.guard))
    assert text.count(":: d_step") == enabled


@needs_spin
def test_spin_agrees_on_a_toy_with_simultaneous_assignment():
    s = toy()
    g = explore(s)
    r = run_spin(s, optimize="-O0", depth=10_000, hash_bits=16)
    assert (r.states, r.transitions) == (g.n_states, g.n_edges + 1)
    assert r.edges == g.n_edges and r.errors == 0


def _spin_counts(name: str):
    s = build_system(CATALOG[name])
    g = explore(s)
    # an overflowing step is "no successor" here and a disabled d_step there: still comparable;
    # a search stopped by max-states or a timeout is not
    assert not g.truncated or g.overflow_states, f"{name}: {g.reason}"
    r = run_spin(s, optimize="-O0", depth=g.n_states + 10,
                 hash_bits=max(12, g.n_states.bit_length() + 2))
    return name, (g.n_states, g.n_edges), (r.states, r.transitions - 1)


# One scenario per policy pair and peer kind, and the DELETE (qm-delete-rekey: 32,307 states,
# SPIN's counts equal), the others each under 10,000 states (gcc on the generated
# pan.c, not pan, is what costs: about 10 s per scenario at -O0 on this machine).
SPIN_SCENARIOS = ("fig19-require-inbound", "fig8-icmp-peer", "fig8-no-credential", "fig7-fifo",
                  "guaranteed-encryption-ale", "nd-client-transport-server", "no-proposal-peer",
                  "non-nd-peer", "qm-refused-peer", "require-inbound-auth-failure", "transport-mode",
                  "qm-delete-rekey",
                  # timed (clocks and the tick are plain fields and a plain command)
                  "fig19-timed", "fig8-timed", "legacy-fallback-silent-peer", "no-ipsec")


@needs_spin
@pytest.mark.slow
def test_spin_reports_the_same_state_space_for_every_policy_pair_and_peer_kind():
    assert set(SPIN_SCENARIOS) <= set(CATALOG)
    with ThreadPoolExecutor(max(1, os.cpu_count() or 1)) as ex:
        results = list(ex.map(_spin_counts, SPIN_SCENARIOS))
    wrong = [(n, ours, spins) for n, ours, spins in results if ours != spins]
    assert not wrong, "(scenario, ndcheck (states, edges), SPIN (stored, transitions - 1)): " + repr(wrong)


def test_cli_export_promela(tmp_path, capsys):
    out = tmp_path / "m.pml"
    assert main(["export-promela", "fig8-icmp-peer", "-o", str(out)]) == 0
    assert out.read_text().startswith("/* ndcheck export-promela: scenario fig8-icmp-peer")
    assert main(["export-promela", "no-such-scenario", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "unknown scenario 'no-such-scenario'" in err and "fig8-icmp-peer" in err
    assert main(["export-promela", "fig8-icmp-peer", "-o", str(tmp_path / "missing" / "m.pml")]) == 2
    assert main(["export-promela"]) == 2
    assert main(["export-promela", "fig8-icmp-peer"]) == 0
    assert capsys.readouterr().out.count(":: d_step") > 0
