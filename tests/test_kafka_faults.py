"""Broker faults of a Kafka cluster (geosim.kafka.faults), state by state: what a clean
shutdown and a crash leave of a broker's replicas."""

from __future__ import annotations

from pathlib import Path

from test_kafka_cluster import cluster_of

from geosim.core.events import PartitionErased
from geosim.kafka.faults import crash_brokers
from geosim.runner import build
from geosim.scenario.loader import load_scenario

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "stretch-3-regions.yaml"
ZONE = "us-west2-a"


def steady_at_5s():
    """The stretch cluster without faults, run to 5 s (its engine)."""
    sc = load_scenario(SCENARIO, overrides=["simulation.duration=20s", "simulation.warmup=1s",
                                            "faults=[]"])
    ctx, _world, strategy = build(sc, sc.simulation.seed)
    strategy.start()
    ctx.env.run(until=5.0)
    return strategy.engine


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
    if clean:   # a controlled shutdown: the controller's commit first, then the stop
        assert broker.alive and broker.stopping
        ctx.env.run(until=5.5)
    after = {p.id: p.leo[broker.id] for p in cluster.parts if broker.id in p.leo}
    return cluster, broker, before, after


def test_a_clean_shutdown_keeps_every_replica_whole_and_restarts_clean():
    """A controlled shutdown: the controller fences the broker, moves its leaderships
    and takes it out of the ISRs before it stops, with every replica whole."""
    cluster, broker, before, after = crashed_at_5s(clean=True)
    assert not broker.alive and broker.fenced
    assert all(p.leader != broker.id and broker.id not in p.isr for p in cluster.parts
               if broker.id in p.all_replicas)
    # it replicated until it stopped, and lost nothing then (no page-cache loss)
    assert after.keys() == before.keys() and all(leo > 0 for leo in before.values())
    assert all(after[p] >= before[p] for p in before)
    assert cluster.counters_["unflushed_suffixes_lost"] == 0
    crash_brokers(cluster, ZONE, 1, up=True)
    assert broker.alive and not broker.unclean_restart
    # fenced by its controlled shutdown: it registers again at its next heartbeat
    assert broker.fenced and broker.refused_until == 0.0


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
    # back before its session expired: registered again only once it has
    assert not broker.fenced and broker.refused_until == \
        broker.last_heartbeat + cluster.config.broker_session_timeout > 5.0


def running_at_5s(until: float = 5.0):
    """The stretch cluster after 5 s, or ``until`` (no faults scheduled)."""
    return cluster_of("stretch-3-regions", until=until)


def test_a_crash_of_a_zone_without_a_declared_crash_fault_is_unclean():
    cluster = running_at_5s()
    broker = next(b for b in cluster.brokers if b.zone == ZONE)
    before = {p.id: p.leo[broker.id] for p in cluster.parts if broker.id in p.leo}
    crash_brokers(cluster, ZONE, 1, up=False)
    assert sum(p.leo[broker.id] < before[p.id] for p in cluster.parts if p.id in before) > 0
    crash_brokers(cluster, ZONE, 1, up=True)
    assert broker.unclean_restart


def test_a_crash_clamps_each_followers_high_watermark_to_what_it_kept():
    cluster = running_at_5s()
    broker = next(b for b in cluster.brokers if b.zone == ZONE)
    held = [p for p in cluster.parts if broker.id in p.leo]
    hw_before = {p.id: p.follower_hw.get(broker.id, 0) for p in held}
    crash_brokers(cluster, ZONE, 1, up=False)
    for p in held:
        assert p.follower_hw[broker.id] == min(hw_before[p.id], p.leo[broker.id])
    assert any(p.follower_hw[broker.id] < hw_before[p.id] for p in held)


def test_a_zone_outage_over_a_crashed_broker_loses_and_counts_nothing_more():
    cluster = running_at_5s()
    broker = next(b for b in cluster.brokers if b.zone == ZONE)
    crash_brokers(cluster, ZONE, 1, up=False)
    counted = cluster.counters_["unflushed_suffixes_lost"]
    kept = {p.id: p.leo[broker.id] for p in cluster.parts if broker.id in p.leo}
    others = [b.id for b in cluster.brokers if b.zone == ZONE and b is not broker]
    leos = {(r, p.id): p.leo[r] for r in others for p in cluster.parts if r in p.leo}
    cluster.zone_state(ZONE, up=False)
    assert {p.id: p.leo[broker.id] for p in cluster.parts if p.id in kept} == kept
    # Only the zone's other brokers lost unflushed suffixes, each counted once.
    shortened = sum(cluster.parts[pid].leo[r] < leo for (r, pid), leo in leos.items())
    assert shortened > 0
    assert cluster.counters_["unflushed_suffixes_lost"] - counted == shortened


def test_a_zone_outage_stops_exactly_the_zones_brokers_and_their_consumers_views():
    cluster = running_at_5s()
    in_zone = [b for b in cluster.brokers if b.zone == ZONE]
    assert in_zone and any(cluster.reads.visible[ZONE])
    other_views = {z: list(v) for z, v in cluster.reads.visible.items() if z != ZONE}
    leos = {b.id: {p.id: p.leo[b.id] for p in cluster.parts if b.id in p.leo}
            for b in in_zone}
    cluster.zone_state(ZONE, up=False)
    assert all(not b.alive and not b.destroyed for b in in_zone)
    assert all(b.alive for b in cluster.brokers if b.zone != ZONE)
    assert cluster.reads.visible[ZONE] == [0] * cluster.partitions_n
    assert {z: v for z, v in cluster.reads.visible.items() if z != ZONE} == other_views
    # An outage is an unclean stop: each replica keeps what was flushed.
    flushed_before = 5.0 - cluster.spec.page_cache_flush_age
    for b in in_zone:
        for p in cluster.parts:
            if b.id in p.leo:
                assert p.leo[b.id] == min(leos[b.id][p.id],
                                          p.offset_flushed_before(flushed_before))
    cluster.zone_state(ZONE, up=True)
    assert all(b.alive and b.unclean_restart for b in in_zone)


def test_a_restarted_leader_hands_its_partitions_over_and_no_other_partition_moves():
    cluster = running_at_5s()
    broker = next(b for b in cluster.brokers if b.zone == ZONE)
    led = {p.id for p in cluster.parts if p.leader == broker.id}
    leaders = {p.id: p.leader for p in cluster.parts}
    assert led
    crash_brokers(cluster, ZONE, 1, up=False)   # no time passes: no election yet
    assert {p.id: p.leader for p in cluster.parts} == leaders
    crash_brokers(cluster, ZONE, 1, up=True)    # unclean restart: not eligible to lead
    for p in cluster.parts:
        if p.id in led:
            assert p.leader not in (None, broker.id) and p.leader in p.isr
        else:
            assert p.leader == leaders[p.id]


def test_a_destroyed_zone_keeps_nothing_and_cuts_each_log_at_its_best_survivor(monkeypatch):
    cluster = running_at_5s()
    in_zone = {b.id for b in cluster.brokers if b.zone == ZONE}
    survivors_best = {}
    for p in cluster.parts:
        rest = [p.leo[r] for r in p.all_replicas if r not in in_zone]
        survivors_best[p.id] = (max(rest) if rest else 0, p.log_end)
    cuts = []
    original = type(cluster).truncate

    def recording(self, p, offset, cause):
        cuts.append((p.id, offset, cause))
        original(self, p, offset, cause)

    monkeypatch.setattr(type(cluster), "truncate", recording)
    cluster.zone_state(ZONE, up=False, destroyed=True)
    assert all(cluster.brokers[b].destroyed and not cluster.brokers[b].alive for b in in_zone)
    for p in cluster.parts:
        for r in in_zone & set(p.leo):
            assert p.leo[r] == 0
    expected = sorted((pid, best, "every replica holding the rows was destroyed")
                      for pid, (best, end) in survivors_best.items() if best < end)
    assert expected and sorted(set(cuts)) == expected
    assert all(p.log_end == survivors_best[p.id][0] for p in cluster.parts
               if survivors_best[p.id][0] < survivors_best[p.id][1])
    cluster.zone_state(ZONE, up=True)           # a destroyed broker never comes back
    assert all(not cluster.brokers[b].alive for b in in_zone)


def test_destroying_every_zone_cuts_every_log_and_erases_its_forgotten_prefix(monkeypatch):
    cluster = running_at_5s()
    erased = []
    cluster.ctx.recorder.subscribe(PartitionErased, erased.append)
    cluster.prune()
    pruned = {p.id: p.log_end - sum(r.records for r in p.rows) for p in cluster.parts}
    assert all(pruned.values())
    for zone in sorted({b.zone for b in cluster.brokers}):
        cluster.zone_state(zone, up=False, destroyed=True)
    assert all(not p.rows and p.log_end == pruned[p.id] for p in cluster.parts)
    assert sorted(e.partition - cluster.partition_base for e in erased) == sorted(
        pid for pid, end in pruned.items() if end > 0)
    assert all(e.t == 5.0 and e.cause == "every replica was destroyed" for e in erased)


def test_destroying_every_zone_before_anything_was_forgotten_erases_nothing():
    cluster = running_at_5s(until=1.0)
    erased = []
    cluster.ctx.recorder.subscribe(PartitionErased, erased.append)
    assert all(p.rows and p.log_end == sum(r.records for r in p.rows) for p in cluster.parts)
    for zone in sorted({b.zone for b in cluster.brokers}):
        cluster.zone_state(zone, up=False, destroyed=True)
    assert erased == [] and all(p.log_end == 0 for p in cluster.parts)


def test_a_crashed_brokers_waiting_produce_requests_fail_at_once_an_outages_time_out(
        monkeypatch):
    """At 5 s the stretch cluster's leaders hold acks=all rows waiting for the high
    watermark. A crashed broker's host closes its connections: the rows waiting at
    the brokers that crashed fail at once at their producers (a disconnect, maybe
    written), none elsewhere. A zone's outage closes nothing: its rows stay to time
    out (request.timeout.ms) when the partitions get new leaders."""
    from geosim.kafka.faults import zone_state
    from geosim.kafka.produce import DISCONNECTED

    for crash in (True, False):
        cluster = steady_at_5s()
        failed: list = []
        monkeypatch.setattr(cluster.produce, "fail",
                            lambda rows, reason, *, written_maybe, failed=failed:
                            failed.append((len(rows), reason, written_maybe)))
        zone_brokers = {b.id for b in cluster.brokers if b.zone == ZONE}
        waiting = {p.id: len(p.pending) for p in cluster.parts
                   if p.pending and p.leader in zone_brokers}
        assert waiting, "some rows must be waiting at the zone's leaders"
        if crash:
            crash_brokers(cluster, ZONE, len(zone_brokers), up=False)
            assert sorted(failed) == sorted((n, DISCONNECTED, True) for n in waiting.values())
        else:
            zone_state(cluster, ZONE, up=False, destroyed=False)
            assert failed == []
            assert all(len(cluster.parts[pid].pending) == n for pid, n in waiting.items())
        monkeypatch.undo()
