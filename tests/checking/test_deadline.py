"""The safety part of a within property for z3 (checking/deadline.py): an observer clock."""

from __future__ import annotations

from ndcheck import CATALOG, build_system, explore
from ndcheck.checking.deadline import CLK, observed
from ndcheck.checking.symbolic import prove
from ndcheck.cli import main
from ndcheck.properties.catalog import get_property


def test_the_observer_keeps_the_state_space_of_the_original():
    """The observer reads the system only: the same runs, each state split by the observer."""
    base = build_system(CATALOG["fig19-timed"])
    obs, safety = observed(base, get_property("T-3"))
    assert [c.name for c in obs.commands] == [c.name for c in base.commands]
    assert safety.kind == "always" and safety.id == "T-3"
    g0, g1 = explore(base), explore(obs)
    assert g1.n_states >= g0.n_states and not g1.truncated
    ix = obs.index[CLK]
    assert max(g1.state(i)[ix] for i in range(g1.n_states)) <= 70    # T-3: 7 s in 100 ms units


def test_bmc_finds_the_legacy_deadline_violation_and_it_replays():
    r = prove("legacy-fallback-silent-peer", "H-3", engine="bmc")
    assert r.verdict == "violated"
    acts = [s.action for s in r.trace.steps]
    assert acts[0] == "client.tcp.send_syn [SYN ND-15/legacy-held +client.acquire]"
    assert acts[-1] == "time.tick"          # the first unit without a SYN on the wire


def test_spacer_proves_h3_with_unbounded_clocks():
    r = prove("fig8-timed", "H-3", engine="spacer", unbounded=True)
    assert r.verdict == "holds" and r.unbounded


def test_prove_cli_takes_a_within_property(capsys):
    assert main(["prove", "legacy-fallback-silent-peer", "H-3", "--engine", "bmc"]) == 1
    assert "violates H-3" in capsys.readouterr().out
    assert main(["prove", "fig8-timed", "T-1"]) == 2       # eventually: not for z3
    assert "is eventually; `ndcheck prove` decides safety properties" in capsys.readouterr().err


def test_z3_checks_a_deep_timed_graph_with_the_explicit_verdicts():
    """fig8-timed is 625 steps deep (IKE gives up at 60 s): the z3 vacuity question of H-1's
    trigger is answered from the certificate without a trace, so both engines agree quickly."""
    from ndcheck.checking.check import check

    r = check("fig8-timed", engine="both", traces=False)
    assert r.as_expected and not r.truncated
    z3 = {v.property.id: v.verdict for v in r.verdicts if v.engine == "z3"}
    assert z3 and all(z3[k] == v.verdict for v in r.verdicts if v.engine == "explicit"
                      for k in [v.property.id] if k in z3)
