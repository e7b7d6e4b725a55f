"""Broker faults of a Kafka cluster (geosim.kafka.faults), state by state: what a clean
shutdown and a crash leave of a broker's replicas."""

from __future__ import annotations

from pathlib import Path

from geosim.kafka.faults import crash_brokers
from geosim.runner import build
from geosim.scenario.loader import load_scenario

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "stretch-3-regions.yaml"
ZONE = "us-west2-a"


def crashed_at_5s(clean: bool):
    """The stretch cluster after 5 s, its scenario declaring a broker-crash of ``ZONE``
    (``clean`` as given) after two decoys (another fault of ``ZONE``, a broker-crash of
    another zone with the other ``clean``), the first broker of ``ZONE`` then stopped by
    hand (the faults' schedule is not started). Returns (cluster, broker, LEOs before,
    LEOs after)."""
    faults = [f"{{kind: zone-outage, zone: {ZONE}, at: 15s, duration: 1s}}",
              f"{{kind: broker-crash, zone: us-west1-a, at: 15s, clean: {not clean}}}",
              f"{{kind: broker-crash, zone: {ZONE}, at: 15s, clean: {clean}}}"]
    sc = load_scenario(SCENARIO, overrides=["simulation.duration=20s", "simulation.warmup=1s",
                                            f"faults=[{', '.join(faults)}]"])
    ctx, _world, strategy = build(sc, sc.simulation.seed)
    strategy.start()
    ctx.env.run(until=5.0)
    cluster = strategy.engine
    broker = next(b for b in cluster.brokers if b.zone == ZONE)
    before = {p.id: p.leo[broker.id] for p in cluster.parts if broker.id in p.leo}
    crash_brokers(cluster, ZONE, 1, up=False)
    after = {p.id: p.leo[broker.id] for p in cluster.parts if broker.id in p.leo}
    return cluster, broker, before, after


def test_a_clean_shutdown_keeps_every_replica_whole_and_restarts_clean():
    cluster, broker, before, after = crashed_at_5s(clean=True)
    assert not broker.alive
    assert after == before and all(leo > 0 for leo in before.values())
    assert cluster.counters_["unflushed_suffixes_lost"] == 0
    crash_brokers(cluster, ZONE, 1, up=True)
    assert broker.alive and not broker.unclean_restart


def test_a_crash_keeps_only_what_was_flushed_before_the_page_cache_age():
    cluster, broker, before, after = crashed_at_5s(clean=False)
    flushed_before = 5.0 - cluster.spec.page_cache_flush_age
    parts = {p.id: p for p in cluster.parts}
    assert after == {pid: min(leo, parts[pid].offset_flushed_before(flushed_before))
                     for pid, leo in before.items()}
    shortened = sum(1 for pid in before if after[pid] < before[pid])
    assert shortened > 0
    assert cluster.counters_["unflushed_suffixes_lost"] == shortened
    crash_brokers(cluster, ZONE, 1, up=True)
    assert broker.alive and broker.unclean_restart
