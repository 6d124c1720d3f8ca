"""T-1 (delivery) and T-2 (no silent death): where they apply, what they accept as a normal end."""

from __future__ import annotations

import dataclasses

import pytest

from ndcheck import CATALOG, build_system, check
from ndcheck.properties.catalog import get_property


def _with(name, section="tcp", **knobs):
    sc = CATALOG[name]
    return dataclasses.replace(sc, **{section: dataclasses.replace(getattr(sc, section), **knobs)})


@pytest.mark.parametrize("knobs", [
    {"close": "none"}, {"close": "server"}, {"close": "client"},
    {"close": "server", "server_sends": "established", "server_segments": 2},
])
def test_t1_accepts_every_normal_end_of_a_lossless_clear_connection(knobs):
    """Without IPsec and loss: closed after the FIN exchange (TIME-WAIT for the first closer,
    CLOSED for the other) or, without a close, both ESTABLISHED and idle; data both ways."""
    r = check(dataclasses.replace(_with("fig8-silent-peer", **knobs), expect={}))
    assert r.verdict("T-1").verdict == "holds" and r.verdict("T-2").verdict == "holds"


def test_t1_needs_all_data_of_both_directions():
    system = build_system(CATALOG["fig8-silent-peer"])
    goal = repr(get_property("T-1").state(system))
    for part in ("client.snd_una == 2", "server.rcv_nxt == 2", "server.snd_una == 1",
                 "client.rcv_nxt == 1"):
        assert part in goal


@pytest.mark.parametrize("name, t1, t2", [
    ("fig7-both-capable", True, True),
    ("fig7-lossy", False, False),                 # TCP and IKE loss explain deaths
    ("fig7-premature-timeouts", False, False),    # so do premature timers
    ("fig19-require-inbound", False, False),      # ND_SECURE server: policy can block
    ("transport-mode", False, False),             # ND-15 holds until an SA exists
    ("guaranteed-encryption", False, False),      # ND-12 holds a GE flow
    ("sa-expiry-rekey", False, True),             # T-2: deaths before the SAs expired
    ("fig7-duplicates", True, True),              # duplication is no loss
])
def test_where_t1_and_t2_apply(name, t1, t2):
    system = build_system(CATALOG[name])
    assert get_property("T-1").applies(system) is t1
    assert get_property("T-2").applies(system) is t2


def test_t2_counts_deaths_only_before_sa_expiry():
    system = build_system(CATALOG["sa-expiry-rekey"])
    firings = get_property("T-2").firings(system)
    assert firings and all(repr(cond).endswith("!(sad.expired == 1))") for _, cond in firings)
    names = {system.commands[i].name.split(" ")[0] for i, _ in firings}
    assert {"client.tcp.abort@established", "server.tcp.drop_half_open",
            "client.tcp.recv_rst@established"} <= names
