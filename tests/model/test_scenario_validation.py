"""Scenario files: every catalog entry loads and round-trips; every bad file is refused in one line.

The TOML schema (``model/scenario.py``) validates keys, types, enum values and bounds and raises
:class:`ScenarioError`.  Here: the catalog files load from disk exactly as the built-in catalog
does; a scenario written back to TOML loads to the same value and gives the same state space
and verdicts through ``ndcheck explore --file`` / ``ndcheck check --file`` as by name; each
scenario file of the bad-input corpus is refused at the library level with a one-line
ScenarioError; and a sample of valid policy combinations builds and explores without error.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import itertools
import json
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ndcheck.cli import main
from ndcheck.engines.explicit import explore
from ndcheck.model.compose import build_system
from ndcheck.model.scenario import (
    CATALOG,
    INBOUND,
    OUTBOUND,
    PEER_KINDS,
    Cause,
    Scenario,
    ScenarioError,
    get_scenario,
    load_scenario_file,
    load_scenario_text,
    scenario_from_dict,
)

CATALOG_DIR = Path(str(resources.files("ndcheck.model") / "catalog"))
CORPUS = Path(__file__).resolve().parents[1] / "bad_inputs"
MANIFEST = tomllib.loads((CORPUS / "manifest.toml").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------
# Writing a scenario back to TOML
# --------------------------------------------------------------------------------------------


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(type(v))


def to_toml(sc: Scenario) -> str:
    """Every field of the scenario, defaults included, as a TOML document."""
    lines = [f"name = {_toml_value(sc.name)}", f"description = {_toml_value(sc.description)}",
             f"figure = {_toml_value(sc.figure)}", f"peer = {_toml_value(sc.peer)}"]
    for section in ("client", "server", "ike", "tcp", "network", "time", "bounds"):
        lines += ["", f"[{section}]"]
        value = getattr(sc, section)
        for f in dataclasses.fields(value):
            lines.append(f"{f.name} = {_toml_value(getattr(value, f.name))}")
    for fl in sc.flows:
        lines += ["", "[[flows]]", f"opener = {_toml_value(fl.opener)}"]
        if fl.guaranteed_encryption is not None:   # absent: the hosts' policy flag
            lines.append(f"guaranteed_encryption = {_toml_value(fl.guaranteed_encryption)}")
    lines += ["", "[expect]"]
    for k, v in sorted(sc.expect.items()):
        c = sc.causes.get(k)
        if c is None:
            lines.append(f"{_toml_value(k)} = {_toml_value(v)}")
        else:
            lines.append(f"{_toml_value(k)} = {{ verdict = {_toml_value(v)}, cause = {_toml_value(c.kind)}, "
                         f"rules = {_toml_value(c.rules)}, note = {_toml_value(c.note)} }}")
    return "\n".join(lines) + "\n"


def _same(a: Scenario, b: Scenario) -> bool:
    return dataclasses.replace(a, source="") == dataclasses.replace(b, source="")


# --------------------------------------------------------------------------------------------
# The catalog
# --------------------------------------------------------------------------------------------

CATALOG_FILES = sorted(CATALOG_DIR.glob("*.toml"))


def test_the_catalog_is_every_file_of_the_catalog_folder():
    assert len(CATALOG_FILES) == len(CATALOG) >= 16
    assert {load_scenario_file(p).name for p in CATALOG_FILES} == set(CATALOG)


@pytest.mark.parametrize("path", CATALOG_FILES, ids=lambda p: p.stem)
def test_every_catalog_file_loads_from_disk_as_in_the_catalog(path):
    sc = load_scenario_file(path)
    assert sc.name == path.stem, "a catalog file is named after its scenario"
    assert _same(sc, get_scenario(sc.name))
    assert sc.description, "every catalog scenario says what it shows"


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_every_catalog_scenario_round_trips_through_toml(name):
    sc = CATALOG[name]
    back = load_scenario_text(to_toml(sc), f"<{name} written back>")
    assert _same(back, sc)


ROUND_TRIP = ("fig8-icmp-peer", "fig19-require-inbound", "transport-mode", "fig7-fifo")


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_a_user_file_explores_like_the_catalog_entry(name, tmp_path, capsys):
    p = tmp_path / f"{name}-copy.toml"
    p.write_text(to_toml(CATALOG[name]), encoding="utf-8")
    assert main(["explore", name]) == 0
    by_name = capsys.readouterr().out.split(",")[:4]
    assert main(["explore", "--file", str(p)]) == 0
    by_file = capsys.readouterr().out.split(",")[:4]
    assert by_file == by_name  # name, states, edges, fields, commands


@pytest.mark.skipif(importlib.util.find_spec("ndcheck.cli.check") is None,
                    reason="`ndcheck check` is not available yet")
@pytest.mark.parametrize("name", ["fig8-silent-peer", "qm3-race"])
def test_a_user_file_checks_like_the_catalog_entry(name, tmp_path, capsys):
    p = tmp_path / f"{name}-copy.toml"
    p.write_text(to_toml(CATALOG[name]), encoding="utf-8")

    def report(argv):
        code = main(["check", *argv, "--json", "-"])
        doc = json.loads(capsys.readouterr().out)
        doc.pop("seconds", None)
        return code, doc

    code_name, by_name = report([name])
    code_file, by_file = report(["--file", str(p)])
    assert (code_file, by_file) == (code_name, by_name)
    assert code_name == 0, "the catalog entry's [expect] verdicts are met"
    assert any(v["verdict"] == "violated" for v in by_file["properties"]) or name != "qm3-race"


def test_a_byte_order_mark_is_accepted(tmp_path):
    p = tmp_path / "bom.toml"
    p.write_bytes(b"\xef\xbb\xbf" + to_toml(CATALOG["fig8-icmp-peer"]).encode("utf-8"))
    assert _same(load_scenario_file(p), CATALOG["fig8-icmp-peer"])


def test_a_minimal_scenario_takes_every_default():
    sc = load_scenario_text('name = "minimal"\n', "<minimal>")
    assert sc == Scenario(name="minimal", source="<minimal>")
    assert explore(build_system(sc), max_states=50_000).n_states > 1


# --------------------------------------------------------------------------------------------
# [expect]: a verdict, or a table that says why a violation is expected
# --------------------------------------------------------------------------------------------

def _expect(body: str) -> Scenario:
    return load_scenario_text(f'name = "x"\n[expect]\n{body}\n', "<x>")


def test_an_expected_violation_says_its_cause():
    sc = _expect('S-1 = "holds"\n'
                 'S-7 = { verdict = "violated", cause = "spec", rules = ["ND-8", "ND-12", "A-8"], '
                 'note = "ND-8 sends the GE flow clear." }\n'
                 'S-2 = { verdict = "violated", cause = "policy", note = " A-14 grace, by design. " }\n'
                 'S-6 = "violated"\n'
                 'S-3 = { verdict = "holds" }')
    assert sc.expect == {"S-1": "holds", "S-7": "violated", "S-2": "violated", "S-6": "violated",
                         "S-3": "holds"}
    assert sc.causes == {"S-7": Cause("spec", "ND-8 sends the GE flow clear.", ("ND-8", "ND-12", "A-8")),
                         "S-2": Cause("policy", "A-14 grace, by design.")}
    assert sc.uncaused() == ["S-6"]          # allowed in a file; the catalog test refuses it
    # the same table written as a TOML section
    sc2 = _expect('[expect.S-7]\nverdict = "violated"\ncause = "policy"\nrules = ["A-14"]\nnote = "grace"')
    assert sc2.causes["S-7"] == Cause("policy", "grace", ("A-14",)) and sc2.uncaused() == []


@pytest.mark.parametrize("body, message", [
    ('S-7 = { verdict = "violated", cause = "spec", note = "n" }', 'cause = "spec" needs rules'),
    ('S-7 = { verdict = "violated", cause = "spec", rules = ["A-8"], note = "n" }', 'needs rules'),
    ('S-7 = { verdict = "violated", cause = "spec", rules = ["ND-8"] }', 'cause = "spec" needs note'),
    ('S-7 = { verdict = "violated", cause = "policy" }', 'cause = "policy" needs note'),
    ('S-7 = { verdict = "violated", cause = "policy", note = "n", rules = ["ND-8", "ND-8"] }', 'repeat'),
    ('S-7 = { verdict = "violated", cause = "policy", note = 7 }', "expected one line of text"),
    ('S-7 = { verdict = "violated", cause = "spec ", rules = ["ND-8"], note = "n" }', "unknown cause"),
    ('S-7 = { verdict = "holds", rules = ["ND-8"] }', 'rules only goes with verdict = "violated"'),
    ('S-7 = { verdict = "vacuous", cause = "policy", note = "n" }', "only go with"),
    ('S-7 = { verdict = "violated", rules = ["ND-8"] }', "rules needs cause"),
    ('S-7 = ["violated"]', "expected a verdict"),
    ('S-7 = { verdict = ["violated"] }', "unknown verdict"),
    ('S-7 = { verdict = "violated", cause = "spec", rules = [8], note = "n" }', "expected a list of rule ids"),
    ('S-7 = "violted"', "did you mean 'violated'?"),
])
def test_a_bad_expectation_is_one_line_naming_the_key(body, message):
    with pytest.raises(ScenarioError) as info:
        _expect(body)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("<x>: expect.S-7") and message in msg, msg


# --------------------------------------------------------------------------------------------
# Bad files, at the library level
# --------------------------------------------------------------------------------------------

BAD_FILES = [c["file"] for c in MANIFEST["scenario"]]


@pytest.mark.parametrize("rel", BAD_FILES, ids=lambda r: Path(r).stem)
def test_every_bad_scenario_file_raises_one_line_naming_the_file(rel):
    path = CORPUS / rel
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path}: "), msg
    expect = next(c["expect"] for c in MANIFEST["scenario"] if c["file"] == rel)
    for s in expect:
        assert s in msg


def test_scenario_errors_are_value_errors():
    assert issubclass(ScenarioError, ValueError)


def test_an_unknown_catalog_name_lists_the_catalog():
    with pytest.raises(ScenarioError, match=r"unknown scenario 'fig7'; available: .*fig7-both-capable"):
        get_scenario("fig7")


def test_a_scenario_must_be_a_table():
    for raw in ({}, [], "name"):
        with pytest.raises(ScenarioError, match="empty scenario"):
            scenario_from_dict(raw)


# --------------------------------------------------------------------------------------------
# Every valid policy combination composes (a fixed, spread sample)
# --------------------------------------------------------------------------------------------

KNOBS = (OUTBOUND, INBOUND, OUTBOUND, INBOUND, PEER_KINDS, (False, True), (True, False))


def _pair(i: int, a, j: int, b) -> tuple:
    """Knob ``i`` at ``a`` with knob ``j`` at ``b``, the lower knob first."""
    return (i, a, j, b) if i < j else (j, b, i, a)


def _pairs(row) -> set[tuple]:
    return {_pair(i, row[i], j, row[j]) for i, j in itertools.combinations(range(len(row)), 2)}


def pairwise(domains) -> list[tuple]:
    """Rows in which every pair of values of every two knobs appears (a covering array of
    strength 2), built greedily and deterministically: each row starts from the first pair not
    yet covered and fills the other knobs with the value covering most new pairs."""
    todo = [(i, a, j, b) for i, j in itertools.combinations(range(len(domains)), 2)
            for a in domains[i] for b in domains[j]]
    left = set(todo)
    rows = []
    for i, a, j, b in todo:
        if (i, a, j, b) not in left:
            continue
        row: list = [None] * len(domains)
        row[i], row[j] = a, b
        for x in range(len(domains)):
            if row[x] is None:
                row[x] = max(domains[x], key=lambda v, x=x: sum(
                    _pair(x, v, y, row[y]) in left for y in range(len(domains)) if row[y] is not None))
        rows.append(tuple(row))
        left -= _pairs(row)
    return rows


# 7,168 combinations; every pair of knob values in 28 of them
SAMPLE = pairwise(KNOBS)


def test_the_sample_covers_every_pair_of_knob_values():
    every = set().union(*(_pairs(c) for c in itertools.product(*KNOBS)))
    assert set().union(*(_pairs(c) for c in SAMPLE)) == every
    assert len(SAMPLE) == 28   # the least possible: 4 client outbound rules x 7 peer kinds


@pytest.mark.parametrize("combo", SAMPLE, ids=lambda c: "-".join(str(x) for x in c))
def test_valid_policy_combinations_build_and_explore(combo):
    co, ci, so, si, peer, ge, reorder = combo
    raw = {"name": "combo", "peer": peer,
           "client": {"outbound": co, "inbound": ci, "guaranteed_encryption": ge},
           "server": {"outbound": so, "inbound": si},
           "network": {"reorder": reorder, "capacity": 2},
           "tcp": {"data_segments": 1, "syn_retries": 1}, "ike": {"retransmissions": 1}}
    try:
        sc = scenario_from_dict(raw)
    except ScenarioError as e:
        # only the documented inconsistencies may refuse a combination
        assert "cannot run IKE" in str(e) or "does no negotiation discovery" in str(e), e
        return
    g = explore(build_system(sc), max_states=5_000)
    assert g.n_states > 1


# --------------------------------------------------------------------------------------------
# Fuzzing: any TOML document is either a scenario or one ScenarioError line
# --------------------------------------------------------------------------------------------

_KEYS = st.sampled_from(["name", "description", "figure", "peer", "expect", "client", "server", "ike",
                         "tcp", "network", "bounds", "outbound", "inbound", "guaranteed_encryption", "ale_require_encryption",
                         "commit_bit", "responder_install", "retransmissions", "ge_marking",
                         "data_segments", "window", "capacity", "loss", "duplicate", "reorder", "nat",
                         "max_states", "timeout", "max_memory", "S-1", "H-1", "colour"])
_SCALARS = st.one_of(
    st.booleans(), st.integers(-(2**70), 2**70), st.integers(-2, 20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["request", "require", "none", "boundary", "secure", "capable", "silent",
                     "icmp", "qm2", "qm3", "before", "after", "ike", "tcp", "holds", "violated"]),
    st.dates(), st.datetimes(), st.times(),
)
_VALUES = st.recursive(_SCALARS, lambda s: st.one_of(st.lists(s, max_size=3),
                                                     st.dictionaries(_KEYS, s, max_size=4)),
                       max_leaves=8)
_DOCS = st.dictionaries(_KEYS, _VALUES, max_size=6).map(lambda d: {"name": "fuzz", **d}
                                                          if len(d) % 2 else d)


@settings(max_examples=300, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_DOCS)
def test_any_document_is_a_scenario_or_one_scenario_error(raw):
    try:
        sc = scenario_from_dict(raw, "<fuzz>")
    except ScenarioError as e:
        msg = str(e)
        assert msg.startswith("<fuzz>: ") and "\n" not in msg, msg
        return
    assert isinstance(sc, Scenario)
    assert isinstance(sc.name, str) and sc.name.strip()
    # every accepted value has its field's type (TOML dates, floats for ints... were refused)
    for section in ("client", "server", "ike", "tcp", "network", "bounds"):
        value, default = getattr(sc, section), type(getattr(sc, section))()
        for f in dataclasses.fields(value):
            assert type(getattr(value, f.name)) is type(getattr(default, f.name)), (section, f.name)
