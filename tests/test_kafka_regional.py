"""Which clusters replicate to which, and which cluster a region's clients use
(geosim.kafka.regional), for every pattern: exact tables."""

from __future__ import annotations

import pytest

from geosim.kafka.regional import home_cluster, pattern_flows

REGIONS = ["a", "b", "c"]


@pytest.mark.parametrize(("pattern", "flows"), [
    ("active-active", [("a", "b"), ("a", "c"), ("b", "a"), ("b", "c"), ("c", "a"),
                       ("c", "b")]),
    ("hub-and-spoke", [("a", "b"), ("c", "b")]),       # every spoke into the hub b
    ("active-passive", [("b", "a"), ("b", "c")]),      # the primary b into every other
])
def test_each_pattern_has_its_flows(pattern, flows):
    assert pattern_flows(pattern, "b", REGIONS) == flows


@pytest.mark.parametrize(("pattern", "homes"), [
    ("active-passive", {"a": "b", "b": "b", "c": "b", "z": "b"}),   # all on the primary
    ("active-active", {"a": "a", "b": "b", "c": "c", "z": "b"}),    # each its own
    ("hub-and-spoke", {"a": "a", "b": "b", "c": "c", "z": "b"}),
])
def test_without_listed_flows_clients_follow_the_pattern(pattern, homes):
    flows = pattern_flows(pattern, "b", REGIONS)
    assert {r: home_cluster(r, REGIONS, flows, primary="b", pattern=pattern,
                            explicit_flows=False) for r in homes} == homes
