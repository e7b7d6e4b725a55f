"""Message families in a Kafka cluster (Network.delay's ``stream``): each family draws
its own delays, so a change to one kind of traffic leaves the others' draws, and the
figures that depend only on them, exactly as they were (common random numbers between
the variants a user compares)."""

from __future__ import annotations

from pathlib import Path

from geosim.runner import run
from geosim.scenario.loader import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
STEADY = ["faults=[]", "simulation.duration=20s", "simulation.warmup=5s",
          "simulation.drain=0s"]


def _summary(*overrides: str) -> dict:
    scenario = load_scenario(SCENARIOS / "stretch-3-regions.yaml", [*STEADY, *overrides],
                             seed=3)
    return run(scenario, 3).summary


def test_another_consumer_group_leaves_the_producers_latencies_as_they_were():
    """A second subscription adds a delivery per partition and zone to every link the
    producers and the replicas use; with families of their own, the produce requests,
    replica fetches and acknowledgements draw exactly what they drew before."""
    one, two = _summary(), _summary("workload.omb.subscriptionsPerTopic=2")
    assert one["latency"]["publish"] == two["latency"]["publish"]
    before_one = one["latency"]["e2e"]["all"]["before"]
    before_two = two["latency"]["e2e"]["all"]["before"]
    # the second group's members read alongside the first's: twice the deliveries
    assert before_two["records"] == 2 * before_one["records"] > 0
    assert one["bytes"] != two["bytes"]  # the second group's reads were carried


def test_a_producer_s_requests_draw_the_same_delays_at_any_consumer_count():
    """The same holds for consumer-side settings that change how many deliveries cross
    each link: the members per group (the deliveries' bytes differ, the draws do not)."""
    base = _summary()
    more = _summary("workload.omb.consumerPerSubscription=6")
    assert base["latency"]["publish"] == more["latency"]["publish"]
