from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ndcheck.viz.proofs import Conjunct, conjuncts, cti_table, invariant_table, proof_table

INV = """And(Not(client.ike_i == 4),
    Not(net.c2s.MM1 <= -1),
    Or(Not(client.ike_i == 5), Not(server.sa_in <= 0)),
    server.sa_ge == 0,
    Not(server.ike_r >= 6),
    Not(client.sa_in >= 2))"""


@dataclass
class Result:
    scenario: str = "transport-mode"
    property: str = "S-14"
    engine: str = "spacer"
    unbounded: bool = True
    verdict: str = "holds"
    invariant: str | None = INV
    cti: list | None = None
    seconds: float = 1.0
    note: str = ""
    params: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def system():
    from ndcheck import CATALOG, build_system

    return build_system(CATALOG["transport-mode"])


def test_split_and_render(system):
    cs = conjuncts(Result(), system)
    assert [c.source.split("(")[0] for c in cs][:3] == ["Not", "Not", "Or"]
    labels = system.field("client.ike_i").labels
    assert cs[0].text == f"client.ike_i ≠ {labels[4]}"
    assert cs[1].text == "net.c2s.MM1 ≥ 0" and cs[1].kind == "domain"
    assert cs[2].text == f"client.ike_i ≠ {labels[5]} ∨ server.sa_in = 1" and cs[2].kind == "protocol"
    assert cs[3].text == "server.sa_ge = 0"
    # an upper bound on a control state names the states it allows or excludes
    assert cs[4].text.startswith("server.ike_r ")
    assert cs[5].kind == "domain"  # a bool is at most 1


def test_evaluation_on_states(system):
    c = Conjunct.parse("Or(Not(client.ike_i == 5), Not(server.sa_in <= 0))", system)
    qm3 = system.field("client.ike_i").labels[5]
    assert c.holds({"client.ike_i": qm3, "server.sa_in": "0"}) is False
    assert c.holds({"client.ike_i": qm3, "server.sa_in": "1"}) is True
    assert c.holds({"client.ike_i": qm3}) is None  # a field the state does not give
    assert c.holds(system.init) is True  # a state tuple works too


def test_unparsable_and_parameters(system):
    assert Conjunct.parse("Not(client.ike_i ==", system).kind == "unparsed"
    p = Conjunct.parse("client.syn_retx <= tcp.syn_retries", system)
    assert p.text == "client.syn_retx ≤ tcp.syn_retries"
    assert p.holds({"client.syn_retx": "0"}) is None


def test_tables(system):
    r = Result(cti=[{"client.ike_i": "QM3-SENT", "server.sa_in": "0", "client.tcp": "CLOSED"}])
    t = invariant_table(r, system, state=r.cti[0])
    assert t.columns[-1] == "holds in the given state"
    assert "NO: excludes this state" in t.column("holds in the given state")
    assert all(c.kind == "protocol" for c in conjuncts(r, system) if c.text in t.column("conjunct"))
    ct = cti_table(r, system)
    assert ct.column("field") == ["client.ike_i", "server.sa_in"] or "client.ike_i" in ct.column("field")
    assert "client.tcp" not in ct.column("field")  # still at its initial value
    assert len(proof_table([r, Result(verdict="violated", invariant=None)])) == 2
    assert conjuncts(Result(invariant=None), system) == []


def test_houdini_lemmas_become_conjuncts_that_evaluate_on_states():
    from ndcheck import CATALOG, build_system
    from ndcheck.viz.proofs import Conjunct

    system = build_system(CATALOG["transport-mode"])
    c = Conjunct.from_lemma("client.ike_i = QM3-SENT ∧ server.ike_r = IDLE → server.sa_in ∈ {0}", system)
    assert c.kind == "protocol" and c.fields == ("client.ike_i", "server.ike_r", "server.sa_in")
    assert c.holds({"client.ike_i": "QM3-SENT", "server.ike_r": "IDLE", "server.sa_in": "1"}) is False
    assert c.holds({"client.ike_i": "IDLE", "server.ike_r": "IDLE", "server.sa_in": "1"}) is True
    assert c.holds({"client.ike_i": "IDLE"}) is None
    assert Conjunct.from_lemma("server.sa_in ∈ {0, 1}", system).kind == "domain"
    assert Conjunct.from_lemma("server.sa_in = 0", system).kind == "protocol"


def test_a_lemma_proof_lists_the_lemmas_it_used():
    from ndcheck import prove
    from ndcheck.viz.proofs import conjuncts

    r = prove("fig8-silent-peer", "S-1", engine="spacer", unbounded=True)
    cs = conjuncts(r)
    assert cs and [c.text for c in cs] == [ln.strip() for ln in r.invariant.splitlines()[1:]]
    init = build_system_init("fig8-silent-peer")
    assert all(c.holds(init) for c in cs)      # lemmas hold in the initial state


def build_system_init(name):
    from ndcheck import CATALOG, build_system

    system = build_system(CATALOG[name])
    return system.describe(tuple(f.init for f in system.fields))
