"""Declared topics with their own policy (``workload.topics``): the split a synchronous
and an asynchronous topic show through the same fault, per-topic figures that add up to
the run's, the layouts each topic's partitions get, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from geosim.clients.workload import resolve_workload
from geosim.kafka.placement import topic_layouts
from geosim.runner import run
from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import load_scenario
from geosim.testing import LOSS_TICK
from geosim.world.topology import Topology

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SHORT = ["simulation.duration=70s", "simulation.drain=15s",
         "faults[0].at=25s", "faults[0].duration=30s",
         "faults[1].at=25s", "faults[1].duration=30s"]


@pytest.fixture(scope="module")
def two_topics():
    return run(load_scenario(SCENARIOS / "stretch-topics.yaml", overrides=SHORT)).summary


def test_payments_lose_nothing_and_logs_lose_what_the_cut_off_leaders_acked(two_topics):
    payments, logs = two_topics["topics"]["payments"], two_topics["topics"]["logs"]
    assert payments["loss"]["lost_records"] == 0
    # logs: us-west2's leaders acknowledged its own producers' writes alone until they
    # were fenced; those are cut when the partition heals. At most a third of the logs
    # rate (us-west2's producers) over the 30 s cut.
    assert 0 < logs["loss"]["lost_records"] <= 8000 / 3 * 30
    assert two_topics["loss"]["lost_records"] == logs["loss"]["lost_records"]


def test_acks_all_pays_a_cross_region_round_trip_that_acks_1_does_not(two_topics):
    publish = {name: t["latency"]["publish"]["before"]["p50"]
               for name, t in two_topics["topics"].items()}
    # min.insync.replicas 2 over one replica per region: the ack waits for a follower in
    # another region (us-west1 <-> us-west2/3: tens of ms); acks=1 answers from the leader.
    assert publish["payments"] > publish["logs"] + 0.02


def test_per_topic_figures_add_up_to_the_run(two_topics):
    topics = two_topics["topics"].values()
    for key in ("acked", "failed", "info", "delivered"):
        assert sum(t["records"][key] for t in topics) == two_topics["records"][key], key
    replicated = [t["bytes"]["replication_cross_region"] for t in topics]
    assert all(b > 0 for b in replicated)
    assert sum(replicated) <= two_topics["bytes"]["cross_region"]["by_purpose"]["replicate"]
    # logs carries 4 x the records of payments at 2 x their size
    ratio = two_topics["topics"]["logs"]["bytes"]["replication_cross_region"] \
        / two_topics["topics"]["payments"]["bytes"]["replication_cross_region"]
    assert 6 < ratio < 10


def test_each_topic_gets_its_own_partitions_layout_and_producers():
    sc = load_scenario(SCENARIOS / "stretch-topics.yaml", overrides=[
        "workload.topics[0].config={min.insync.replicas: 2, replication.factor: 3}",
        "workload.topics[1].config={min.insync.replicas: 1, replication.factor: 2}"])
    wl = resolve_workload(sc, Topology(sc.topology))
    assert [(t.name, t.first, t.partitions) for t in wl.topics] == [
        ("payments", 0, 6), ("logs", 6, 6)]
    assert wl.topic_of() == [0] * 6 + [1] * 6
    layouts = topic_layouts(wl.topics, 12, 3, 2, {}, {})
    assert [(x.first, x.count, x.rf, x.min_isr) for x in layouts] == [(0, 6, 3, 2),
                                                                      (6, 6, 2, 1)]
    # a cross-cluster target holds a second block of copies, laid out alike
    assert [x.first for x in topic_layouts(wl.topics, 24, 3, 2, {}, {})] == [0, 6, 12, 18]
    assert [t.producer.acks for t in wl.topics] == ["all", "1"]


@pytest.mark.parametrize("override, message", [
    ("workload.topics[1].producer_config={acks: 2}",
     "workload.topics[1].producer_config.acks: must be one of"),
    ("workload.topics[1].producer_config={fetch.min.bytes: 2}",
     "workload.topics[1].producer_config.fetch.min.bytes: is not a Kafka producer config"),
    ("workload.topics[0].config={segment.ms: 5}",
     "workload.topics[0].config.segment.ms: is not a modelled topic config"),
    ("workload.topics[0].config={min.insync.replicas: 4}",
     "workload.topics[0].config.min.insync.replicas: must be <= the topic's replication"),
    ("workload.topics[1].observer_placement={us-west1: 1}",
     "workload.topics[1].observer_placement: is for the observers strategy"),
    ("workload.topics[0].mirror=false",
     "workload.topics[0].mirror: is for strategies that replicate between clusters"),
    ("workload.topics[0].name=pay/ments", "is not a legal Kafka topic name"),
    ("workload.topics[1].name=payments", "topic 'payments' is declared twice"),
    ("workload.max_rate=true", "workload.max_rate: a max-rate run probes one aggregate"),
    ("workload.topics[0].replica_placement={us-east9: 1}",
     "workload.topics[0].replica_placement.us-east9"),
])
def test_bad_topics_are_one_line_errors(override, message):
    with pytest.raises(ScenarioError) as err:
        load_scenario(SCENARIOS / "stretch-topics.yaml", overrides=[override])
    text = str(err.value)
    assert "\n" not in text and message in text and "stretch-topics.yaml" in text


def test_diskless_topics_have_their_own_rates_but_no_policy():
    base = ["strategy={name: diskless, brokers: {us-west1: 1, us-west2: 1, us-west3: 1}}",
            "workload.topics[0].producer_config={}", "workload.topics[1].producer_config={}",
            "workload.topics[0].config={}", "workload.topics[1].config={}",
            "faults=[]", "simulation.duration=20s", "simulation.drain=10s",
            "simulation.warmup=5s"]
    summary = run(load_scenario(SCENARIOS / "stretch-topics.yaml", overrides=base)).summary
    topics = summary["topics"]
    assert topics["logs"]["records"]["acked"] == pytest.approx(
        4 * topics["payments"]["records"]["acked"], rel=0.01)
    # a diskless object mixes topics: its loss is not attributed to one
    assert topics["payments"]["loss"]["lost_records"] is None
    with pytest.raises(ScenarioError, match="has no meaning for the diskless strategy"):
        load_scenario(SCENARIOS / "stretch-topics.yaml", overrides=[
            *base, "workload.topics[0].config={min.insync.replicas: 2}"])


def test_an_unmirrored_topic_is_lost_with_its_cluster_and_a_mirrored_one_is_not():
    summary = run(load_scenario(SCENARIOS / "mm2-active-passive.yaml", overrides=[
        "workload.topics=[{name: orders, partitions: 6, producerRate: 2500}, "
        "{name: logs, partitions: 6, producerRate: 2500, mirror: false}]",
        "faults=[{kind: region-destruction, region: us-west1, at: 30s}]",
        "simulation.duration=60s", "simulation.drain=15s",
        f"strategy.append_interval={LOSS_TICK}"])).summary  # a question of loss
    orders, logs = summary["topics"]["orders"], summary["topics"]["logs"]
    # orders loses the mirror's lag; logs everything us-west1's cluster acknowledged
    assert orders["loss"]["lost_records"] < logs["loss"]["lost_records"] / 100
    assert logs["loss"]["lost_records"] >= 2500 * 20


@pytest.mark.parametrize("path, overrides, message", [
    ("stretch-topics.yaml",
     ["strategy={name: shared-storage, brokers: {us-west1: 2, us-west2: 2, us-west3: 2}}"],
     "workload.topics[0].config.min.insync.replicas: must be 1 or unset: a shared-storage"),
    ("edge-fleet.yaml", ["workload.topics=[{name: a, producerRate: 5}]"],
     "workload.topics: is not used by the edge strategy"),
])
def test_strategies_without_topic_policies_refuse_them(path, overrides, message):
    with pytest.raises(ScenarioError) as err:
        load_scenario(SCENARIOS / path, overrides=overrides)
    assert "\n" not in str(err.value) and message in str(err.value)
