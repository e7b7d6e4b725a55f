"""Scenario checks whose refusal no other test reached (benchmarks/mutate.py
--unexecuted, docs/mutation.md "Sites no test executes"): each row is a bundled scenario,
the ``--set`` overrides that break it and the whole one-line error, or None where the
overrides sit just inside the bound and must be accepted.

The check modules are imported by name so that ``benchmarks/mutate.py`` (which selects
a mutant's tests by their imports) runs this file against their mutants."""

from __future__ import annotations

from pathlib import Path

import pytest

import geosim.kafka.checks  # noqa: F401 - for benchmarks/mutate.py
import geosim.strategies.diskless.checks  # noqa: F401 - for benchmarks/mutate.py
import geosim.strategies.shared_storage.checks  # noqa: F401 - for benchmarks/mutate.py
from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

CASES = [
    ("mm2-active-passive.yaml", ["strategy.flows=[{source: us-west1, target: us-west1}]"],
     "strategy.flows[0].target: must differ from the source, got 'us-west1'"),
    ("mm2-active-passive.yaml", ["strategy.flows=[{source: us-west1, target: us-central1},"
                                 " {source: us-west1, target: us-central1}]"],
     "strategy.flows[1]: is listed twice, got 'us-west1->us-central1'"),
    ("mm2-active-passive.yaml", ["strategy.flows=[{source: us-west1, target: us-central1},"
                                 " {source: us-central1, target: us-west1}]"], None),
    ("shared-storage.yaml", ["strategy.fetch_from_follower=true"],
     "strategy.fetch_from_follower: must be false: there are no followers to fetch from, "
     "got true"),
    ("shared-storage.yaml", ["workload.topics=[{name: a, partitions: 6, producerRate: 1000, "
                             "messageSize: 512, mirror: false}]"],
     "workload.topics[0].mirror: is for strategies that replicate between clusters; "
     "shared-storage runs one cluster, got false"),
    ("shared-storage.yaml", ["workload.topics=[{name: a, partitions: 6, producerRate: 1000, "
                             "messageSize: 512}]"], None),
    # without strategy.brokers, diskless places 3 brokers in every zone
    ("s3-standard-diskless.yaml", ["strategy.brokers={}", "strategy.brokers_per_writer=2"],
     "strategy.brokers_per_writer: must divide the broker count of every zone (every zone "
     "has 3), got 2"),
    ("s3-standard-diskless.yaml", ["strategy.brokers={}", "strategy.brokers_per_writer=3"],
     None),
]


@pytest.mark.parametrize("name, overrides, error", CASES)
def test_each_unreached_check_refuses_exactly_what_it_states(name, overrides, error):
    path = SCENARIOS / name
    if error is None:
        load_scenario(path, overrides=overrides)
        return
    with pytest.raises(ScenarioError) as refused:
        load_scenario(path, overrides=overrides)
    assert str(refused.value) == f"{path}: {error}"
