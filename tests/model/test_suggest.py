"""Close matches for misspelt names (the "did you mean" of bad-input messages)."""

from __future__ import annotations

import doctest

import pytest

from ndcheck.model import suggest
from ndcheck.model.scenario import CATALOG, ScenarioError, get_scenario, scenario_from_dict
from ndcheck.model.suggest import close_matches, did_you_mean
from ndcheck.properties.catalog import UnknownProperty, get_property


def test_module_examples():
    result = doctest.testmod(suggest)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(("word", "choices", "want"), [
    ("L3", ["L-1", "L-3", "S-3"], ["L-3"]),                 # punctuation and case only
    ("s-14", ["S-1", "S-14", "S-4"], ["S-14"]),
    ("fig7-both-capabel", sorted(CATALOG), ["fig7-both-capable"]),
    ("outbund", ["outbound", "inbound"], ["outbound"]),
    ("zzz", ["L-1", "L-3"], []),
])
def test_close_matches(word, choices, want):
    assert close_matches(word, choices)[:len(want) or None] == want if want else \
        close_matches(word, choices) == []


def test_nothing_to_suggest_adds_nothing():
    assert did_you_mean("qqqqqq", ["alpha", "beta"]) == ""


def test_scenario_property_and_key_messages_suggest():
    with pytest.raises(ScenarioError, match=r"did you mean 'fig7-both-capable'\?$"):
        get_scenario("fig7-both-capabel")
    with pytest.raises(UnknownProperty, match=r"did you mean 'L-3'\?$"):
        get_property("L3")
    with pytest.raises(ScenarioError, match=r"\[tcp\]: unknown key 'data_segment'.*did you mean 'data_segments'\?$"):
        scenario_from_dict({"name": "x", "tcp": {"data_segment": 2}})
    with pytest.raises(ScenarioError, match=r"peer: unknown value 'silnet'.*did you mean 'silent'\?$"):
        scenario_from_dict({"name": "x", "peer": "silnet"})
