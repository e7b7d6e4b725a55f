"""The Kafka cluster's own work (geosim.kafka.cluster), state by state: brokers and
placement as built, the wiring of leaders and fetchers, which log rows are forgotten,
and its queries."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from geosim.core.events import TOPIC_REPLICATION_COUNTER, PartitionChanged
from geosim.kafka.cluster import HOUSEKEEPING
from geosim.runner import build
from geosim.scenario.loader import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def cluster_of(name: str, *overrides: str, until: float | None = None, events=None):
    """The scenario's cluster, built (and run to ``until`` if given; the faults'
    schedule is not started)."""
    sc = load_scenario(SCENARIOS / f"{name}.yaml", overrides=["faults=[]", *overrides])
    ctx, _world, strategy = build(sc, sc.simulation.seed)
    if events is not None:
        ctx.recorder.subscribe(PartitionChanged, events.append)
    if until is not None:
        strategy.start()
        if until > 0:
            ctx.env.run(until=until)
    return strategy.engine


def test_brokers_are_numbered_zone_by_zone_with_the_rack_the_strategy_names():
    c = cluster_of("stretch-3-regions", "strategy.brokers={us-west1: 2, us-west2: 3, "
                   "us-west3: 1}")
    assert [(b.id, b.zone, b.region, b.rack) for b in c.brokers] == [
        (0, "us-west1-a", "us-west1", "us-west1"), (1, "us-west1-a", "us-west1", "us-west1"),
        (2, "us-west2-a", "us-west2", "us-west2"), (3, "us-west2-a", "us-west2", "us-west2"),
        (4, "us-west2-a", "us-west2", "us-west2"), (5, "us-west3-a", "us-west3", "us-west3")]
    assert c.zones == ["us-west1-a", "us-west2-a", "us-west3-a"]
    z = cluster_of("stretch-3-regions", "strategy.rack=zone")
    assert {b.rack for b in z.brokers} == {"us-west1-a", "us-west2-a", "us-west3-a"}


def test_heartbeat_phases_spread_over_one_interval_by_the_golden_ratio():
    c = cluster_of("kafka-stretch-seed000")
    interval = c.config.broker_heartbeat_interval
    phases = [b.phase for b in c.brokers]
    assert phases[0] == 0.0 and all(0.0 <= ph < interval for ph in phases)
    assert len(set(phases)) == len(phases) == 171
    # broker k's phase is frac(k x 0.618034) of the interval: 1 -> 0.618, 2 -> 0.236
    assert phases[1] == pytest.approx(0.618034 * interval)
    assert phases[2] == pytest.approx(0.236068 * interval)


def test_partitions_take_the_strategys_replication_factor_else_the_drivers():
    c = cluster_of("stretch-3-regions")
    assert c.partitions_n == c.local_partitions == 6 and [p.id for p in c.parts] == list(range(6))
    assert {len(p.replicas) for p in c.parts} == {3} and c.min_isr == 2
    assert all(p.min_isr == 2 and p.observer_replicas == [] for p in c.parts)
    assert c.promotion_policy is None and c.topic_counter is None
    one = cluster_of("stretch-3-regions", "strategy.replication_factor=null")
    # the latency driver's replicationFactor
    assert {len(p.replicas) for p in one.parts} == {one.world.workload.driver.replicationFactor}


def test_observers_are_placed_outside_the_sync_replicas_with_their_promotion_policy():
    c = cluster_of("observers-2dc")
    assert c.promotion_policy == "under-min-isr"
    for p in c.parts:
        assert len(p.observer_replicas) == 2 and not set(p.observer_replicas) & set(p.replicas)
        assert [c.brokers[r].region for r in p.observer_replicas] == ["us-west1", "us-west2"]
    none = cluster_of("observers-2dc", "strategy.observer_placement={}")
    assert none.promotion_policy is None and all(p.observer_replicas == [] for p in none.parts)


def test_declared_topics_have_their_own_min_isr_and_replication_counters():
    c = cluster_of("stretch-topics")
    assert [p.min_isr for p in c.parts] == [2] * 6 + [1] * 6
    assert c.topic_counter == [TOPIC_REPLICATION_COUNTER + t
                               for t in ("payments",) * 6 + ("logs",) * 6]


def test_rewiring_lists_each_zones_live_leaders_and_every_fetcher_of_them():
    c = cluster_of("stretch-3-regions", until=2.0)
    brokers = c.brokers
    leaders = c.produce.leaders_by_zone
    assert {z: [p.id for p in ps] for z, ps in leaders.items()} == {
        z: [p.id for p in c.parts if brokers[p.leader].zone == z] for z in c.zones}
    items = {key: [(p.id, r) for p, r in pair.items]
             for key, pair in c.replication.pairs.items()}
    expected = defaultdict(list)
    conns = defaultdict(set)
    for p in c.parts:
        for r in p.replicas:
            if r != p.leader:
                key = (brokers[p.leader].zone, brokers[r].zone)
                expected[key].append((p.id, r))
                conns[key].add((p.leader, r))
    assert items == dict(expected)
    assert {k: pair.connections for k, pair in c.replication.pairs.items()} == {
        k: len(v) for k, v in conns.items()}
    # a dead leader leads nothing; a destroyed follower fetches nothing
    zone = "us-west2-a"
    c.zone_state(zone, up=False)
    assert c.produce.leaders_by_zone[zone] == []
    # the strategy's client faults: the zone's producers stop with it
    assert [f.alive for f in c.fleets] == [f.zone != zone for f in c.fleets]
    assert all(c.leader_zone(p.id) is None for p in c.parts
               if p.leader is not None and brokers[p.leader].zone == zone)
    assert c.live_brokers_in(zone) == 0 and c.live_brokers_in("us-west1-a") == 2
    assert all(c.leader_zone(p.id) == brokers[p.leader].zone for p in c.parts
               if brokers[p.leader].alive)
    assert all(pair.items for (lz, fz), pair in c.replication.pairs.items() if fz == zone)
    c.zone_state(zone, up=False, destroyed=True)
    assert all(not pair.items for (lz, fz), pair in c.replication.pairs.items() if fz == zone)


def test_start_announces_every_partition_and_housekeeping_runs_each_second():
    events: list = []
    c = cluster_of("stretch-3-regions", until=0.0, events=events)
    assert [(e.t, e.partition, e.reason) for e in events] == [
        (0.0, p.id, "initial") for p in c.parts]
    assert all(e.leader_region == c.brokers[c.parts[e.partition].leader].region
               and e.isr_size == 3 and not e.under_min_isr for e in events)
    events.clear()
    cluster_of("stretch-3-regions", "strategy.config={min.insync.replicas: 3}", until=0.0,
               events=events)
    assert len(events) == 6 and not any(e.under_min_isr for e in events)  # 3 of 3: not under
    assert HOUSEKEEPING == 1.0


def test_pruning_forgets_only_rows_every_replica_group_and_reader_has_passed():
    c = cluster_of("stretch-3-regions", until=7.0)
    p = c.parts[0]
    committed = [g.partitions[0].committed for g in c.groups]
    bound = min([p.leo[r] for r in p.replicas] + [p.hw] + committed)
    ends = list(p.ends)
    assert len(ends) >= 64 and ends[9] < bound < ends[-1]
    assert p.log_end - sum(r.records for r in p.rows) > 0   # housekeeping pruned already
    hold = ends[9]
    c.holds.append(lambda pid: hold if pid == 0 else float("inf"))
    c.prune()
    # every row ending at or below the lowest of the replicas' LEOs, the HW, the
    # groups' commits and the holds is forgotten, and no other
    assert p.ends == ends[10:] and p.log_end == ends[-1]
    assert p.offset_flushed_before(-1.0) == hold
    # without the hold, the rest up to the bound goes
    c.holds.clear()
    c.prune()
    assert p.ends == [e for e in ends if e > bound] and p.offset_flushed_before(-1.0) == max(
        e for e in ends if e <= bound)


def test_pruning_leaves_short_logs_and_counts_a_down_replica_but_not_a_destroyed_one():
    c = cluster_of("stretch-3-regions", until=7.0)
    p = c.parts[1]
    follower = next(r for r in p.replicas if r != p.leader)
    zone = c.brokers[follower].zone
    c.crash_brokers(zone, 2, up=False)
    others = [r for r in p.replicas if c.brokers[r].zone != zone]
    ends = list(p.ends)
    # the crashed follower kept less than the others and the groups' commits: it bounds
    low = p.leo[follower]
    committed = min(g.partitions[1].committed for g in c.groups)
    assert low < min(p.hw, committed, *(p.leo[r] for r in others))
    c.prune()
    assert p.ends == [e for e in ends if e > low]
    c.zone_state(zone, up=False, destroyed=True)
    ends = list(p.ends)
    c.prune()
    bound = min(p.hw, committed, *(p.leo[r] for r in others))
    assert p.ends == [e for e in ends if e > bound] != ends


def test_a_log_of_fewer_than_64_rows_is_left_whole_and_one_of_64_is_pruned():
    c = cluster_of("stretch-3-regions", until=7.5)
    q, r = c.parts[2], c.parts[3]
    for part in (q, r):
        committed = min(g.partitions[part.id].committed for g in c.groups)
        assert len(part.rows) > 64 and part.ends[0] < min(part.hw, committed)
    del q.rows[63:], q.ends[63:], q.cum[63:], q.times[63:]
    del r.rows[64:], r.ends[64:], r.cum[64:], r.times[64:]
    before = list(q.ends), list(r.ends)
    c.prune()
    assert q.ends == before[0] and r.ends != before[1]


def test_shared_storage_keeps_one_replica_per_partition_and_min_isr_one():
    c = cluster_of("shared-storage")
    assert c.min_isr == 1 and c.storage is not None
    assert all(len(p.replicas) == 1 and p.min_isr == 1 for p in c.parts)


def test_every_fetch_pair_runs_one_loop_from_the_start_and_new_ones_at_once(monkeypatch):
    from geosim.kafka.replication import Replication

    started: list = []
    original = Replication._fetch_loop

    def counting(self, pair):
        started.append((pair.leader_zone, pair.follower_zone))
        return original(self, pair)

    monkeypatch.setattr(Replication, "_fetch_loop", counting)
    # RF 2: each zone's leaders have followers in one other zone only
    c = cluster_of("stretch-3-regions", "strategy.replication_factor=2",
                   "strategy.config={min.insync.replicas: 1}")
    assert started == [] and not c.started
    c.start()
    assert c.started and sorted(started) == sorted(c.replication.pairs)
    # us-west1-a's brokers crash: its partitions' new leaders in us-west2-a pair with
    # their followers back in us-west1-a, a pair that did not exist
    before = set(c.replication.pairs)
    c.crash_brokers("us-west1-a", 2, up=False)
    c.env.run(until=20.0)
    new = set(c.replication.pairs) - before
    assert new and sorted(started) == sorted(list(before) + list(new))


def test_erasing_a_partition_names_it_run_wide_and_only_with_a_forgotten_prefix():
    from geosim.core.events import PartitionErased, Row, RowsTruncated
    from geosim.kafka.partition import PartitionState

    engine = cluster_of("mm2-active-passive")
    seen: list = []
    for kind in (PartitionErased, RowsTruncated):
        engine.ctx.recorder.subscribe(kind, seen.append)

    def partition(pid: int, *sizes: int, forgotten: int = 0) -> PartitionState:
        p = PartitionState(pid, [0])
        offset = 0
        for k, n in enumerate(sizes):
            p.append(Row(0, pid, k, n, n, n, 0.0, 0.0, offset=offset), 0.0)
            offset += n
        p.prune(forgotten)
        return p

    # the target cluster: no flow out of it, so a forgotten prefix is lost
    [target] = [c for c in engine.clusters.values()
                if not any(f.source is c for f in engine.flows)]
    target.erase(partition(1, 1, 2, forgotten=1), "test")   # a one-record prefix
    assert [(type(e), e.partition) for e in seen] == [
        (RowsTruncated, target.partition_base + 1), (PartitionErased, target.partition_base + 1)]
    seen.clear()
    target.erase(partition(2, 1, 2), "test")         # nothing forgotten
    assert [(type(e), len(e.rows)) for e in seen] == [(RowsTruncated, 2)]
    assert target.counters_["rows_truncated"] == 1 + 2
    seen.clear()
    target.erase(partition(3), "test")               # nothing ever written
    assert seen == []
    # the source: its prefix was copied by the flow, lost only once the target is gone
    [source] = [f.source for f in engine.flows]
    source.erase(partition(1, 5, 5, forgotten=5), "test")
    assert [type(e) for e in seen] == [RowsTruncated]
    seen.clear()
    engine._destroyed.add(target.region)
    source.erase(partition(2, 5, 5, forgotten=5), "test")
    assert [(type(e), e.partition) for e in seen] == [
        (RowsTruncated, source.partition_base + 2), (PartitionErased, source.partition_base + 2)]
