"""The shared-storage strategy (AutoMQ-style): a broker crash loses nothing; a zone loss
with a zonal WAL loses exactly the acknowledged rows not yet uploaded (an exact oracle
from the run's own upload and ack events); a regional object WAL survives a zone loss."""

from __future__ import annotations

from pathlib import Path

import pytest
from oracles import unuploaded_acked

from geosim.core.events import PartitionChanged, ProduceAcked, RowsTruncated, WalUploaded
from geosim.runner import build, run
from geosim.scenario.errors import ScenarioError
from geosim.scenario.loader import load_scenario
from geosim.scenario.seed import settle_seed
from geosim.world.faults import FaultInjector

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

#: A short timeline of scenarios/shared-storage.yaml: a crash at 15 s, zone b destroyed
#: at 35 s, its partitions reopened 10 s later; 20 ms appends keep the runs short.
SHORT = ["simulation.duration=60s", "simulation.warmup=3s", "simulation.drain=10s",
         "strategy.append_interval=20ms",
         "faults[0].at=15s", "faults[0].duration=40s", "faults[1].at=35s",
         "strategy.storage.wal_lost_decision=10s"]
CRASH_ONLY = ["faults=[{kind: broker-crash, zone: us-east-1-a, count: 1, at: 15s, "
              "duration: 40s}]"]
DESTRUCTION_ONLY = ["faults=[{kind: zone-destruction, zone: us-east-1-b, at: 35s}]"]


def scenario(*overrides: str):
    return load_scenario(SCENARIOS / "shared-storage.yaml", overrides=[*SHORT, *overrides])


def trace(sc, kinds):
    ctx, world, strategy = build(sc, settle_seed(sc))
    events = []
    for kind in kinds:
        ctx.recorder.subscribe(kind, events.append)
    strategy.start()
    FaultInjector(world, strategy).start()
    ctx.env.run(until=sc.simulation.end)
    return events, strategy


def lost_rows(events) -> set[tuple[int, int]]:
    return {(ev.partition, row.offset) for ev in events if isinstance(ev, RowsTruncated)
            for row in ev.rows if row.acked_at >= 0}


def test_broker_crash_loses_nothing_and_moves_partitions_without_copy():
    sc = scenario(*CRASH_ONLY)
    events, strategy = trace(sc, (RowsTruncated, PartitionChanged))
    assert not lost_rows(events)
    assert strategy.counters()["partitions_moved"] == 2  # 12 partitions over 6 brokers
    # offline from the crash until the WAL failover: fenced after
    # broker.session.timeout.ms (9 s, less one heartbeat interval at most), the next
    # failover tick (1 s), the volume attached (10 s) and read, one controller commit
    offline = [ev for ev in events if isinstance(ev, PartitionChanged)
               and ev.leader_region is None]
    back = [ev for ev in events if isinstance(ev, PartitionChanged)
            and ev.reason.startswith("shared storage: reopened")]
    assert len(back) == 2 and offline
    for ev in back:
        assert 15 + 9 - 2 + 10 <= ev.t <= 15 + 9 + 0.5 + 1 + 10 + 1
    summary = run(sc).summary
    assert summary["loss"]["lost_records"] == 0
    assert summary["checks"]["duplicates"] == 0


def test_zone_loss_loses_exactly_the_acknowledged_unuploaded_wal():
    """Oracle: the rows acknowledged on partitions led in the destroyed zone at offsets
    at or above the last upload that committed before the destruction instant."""
    sc = scenario(*DESTRUCTION_ONLY)
    t_loss = 35.0
    reopen = t_loss + sc.strategy.storage.wal_lost_decision
    events, strategy = trace(sc, (RowsTruncated, ProduceAcked, WalUploaded))
    uploads = [(ev.t, ev.partition, ev.end, ev.zone) for ev in events
               if isinstance(ev, WalUploaded)]
    acks = [(ev.t, row.partition, row.offset) for ev in events
            if isinstance(ev, ProduceAcked) for row in ev.rows]
    expected = unuploaded_acked(uploads, acks, "us-east-1-b", t_loss, reopen)
    assert len({p for p, _ in expected}) == 4  # 2 brokers of 6 lead 4 of 12 partitions
    assert expected  # 10 s uploads at 5,000 msg/s: seconds of acknowledged data
    assert lost_rows(events) == expected
    records = sum(row.records for ev in events
                  if isinstance(ev, ProduceAcked) and ev.t < reopen
                  for row in ev.rows if (row.partition, row.offset) in expected)
    summary = run(sc).summary
    assert summary["loss"]["lost_records"] == records
    # RPO: the oldest lost row was acknowledged just after the last upload started
    assert 0 < summary["loss"]["rpo_seconds"] <= 10.0 + 1.0


def test_regional_object_wal_survives_a_zone_loss():
    sc = scenario(*DESTRUCTION_ONLY, "strategy.storage.wal=object")
    summary = run(sc).summary
    assert summary["loss"]["lost_records"] == 0
    assert summary["counters"]["partitions_moved"] == 4
    assert summary["counters"]["wal_objects"] > 0


def test_object_wal_acks_wait_for_the_put():
    """An acknowledgement waits for the WAL object's PUT: publish latency is at least the
    S3 Standard PUT's median service time at the median."""
    summary = run(scenario("faults=[]", "strategy.storage.wal=object")).summary
    before = summary["latency"]["publish"]["all"]["before"]
    assert before["p50"] >= 0.035


def test_same_seed_same_summary():
    sc = scenario()
    assert run(sc, 3).summary == run(sc, 3).summary


@pytest.mark.parametrize("override, message", [
    ("strategy.replication_factor=3", "strategy.replication_factor: must be 1 or unset"),
    ("strategy.storage.config={s3.wal.upload.threshold: -1}",
     "strategy.storage.config.s3.wal.upload.threshold"),
    ("strategy.storage.config={s3.wal.cache.sizes: 1}",
     "strategy.storage.config.s3.wal.cache.sizes: is not a modelled"),
    ("object_store={kind: regional, regions: [us-east-1], service: s3-express-one-zone, "
     "zones: [us-east-1-a, us-east-1-b, us-east-1-c]}",
     "object_store.service: must be a regional service"),
])
def test_bad_blocks_are_one_line_errors(override, message):
    with pytest.raises(ScenarioError) as err:
        load_scenario(SCENARIOS / "shared-storage.yaml", overrides=[override])
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def with_a_second_region(brokers: int) -> list[str]:
    return ["topology.regions.us-east-2.zones=[a]",
            f"strategy.brokers={{us-east-1: 6, us-east-2: {brokers}}}"]


def test_every_region_with_a_broker_needs_a_bucket():
    with pytest.raises(ScenarioError) as err:
        load_scenario(SCENARIOS / "shared-storage.yaml", overrides=with_a_second_region(1))
    assert "object_store.regions: must include us-east-2: a shared-storage cluster " \
        "uploads to a bucket of its own region, got ['us-east-1']" in str(err.value)
    # a region without brokers runs no cluster, so it needs no bucket
    load_scenario(SCENARIOS / "shared-storage.yaml", overrides=with_a_second_region(0))


@pytest.mark.parametrize("override, message", [
    ("object_store.regions=[us-east-1]", "object_store.regions: must include us-west-2"),
    ("strategy.shared_storage.clusters=[eu-west-1]",
     "strategy.shared_storage.clusters[0]: must be one of the clusters"),
])
def test_bad_cross_cluster_blocks_are_one_line_errors(override, message):
    with pytest.raises(ScenarioError) as err:
        load_scenario(SCENARIOS / "shared-storage-dr.yaml", overrides=[override])
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["shared-storage.yaml", "shared-storage-dr.yaml"])
def test_the_scenarios_are_billed_with_brokers_wal_volumes_and_object_storage(name):
    scenario = load_scenario(SCENARIOS / name, [
        "simulation.duration=14s", "simulation.warmup=3s", "simulation.drain=2s",
        "faults=[]"])
    cost = run(scenario, 0).summary["cost"]
    assert cost["provider"] == "aws" and cost["unpriced"] == []
    keys = {line["price_key"] for line in cost["lines"]}
    assert {"instance.m7g.xlarge.on_demand", "disk.gp3",
            "object_storage.regional.standard", "object_requests.regional.class_a"} <= keys
    instances = sum(line["quantity"] for line in cost["lines"]
                    if line["category"] == "instances")
    assert instances == pytest.approx((6 if name == "shared-storage.yaml" else 12) * 720)


def test_a_shared_storage_source_keeps_its_unmirrored_rows_through_an_outage():
    """MirrorMaker 2 from a cluster whose region goes out for 20 s, clients failing over:
    a Kafka source's brokers come back without what their page cache held (an unclean
    stop), so the rows acknowledged but not yet mirrored are lost; a shared-storage
    source's WAL volumes survive the outage, so the same rows come back with it."""
    overrides = ["simulation.duration=45s", "simulation.warmup=3s", "simulation.drain=10s",
                 "faults[0].at=15s", "faults[0].duration=20s",
                 "strategy.failover.detection=2s", "strategy.failover.decision=2s",
                 "strategy.append_interval=20ms",
                 "object_store.regions=[us-west1, us-central1]"]
    kafka = run(load_scenario(SCENARIOS / "mm2-active-passive.yaml", overrides=overrides),
                0).summary
    shared = run(load_scenario(SCENARIOS / "mm2-active-passive.yaml", overrides=[
        *overrides, "strategy.shared_storage={clusters: [us-west1]}"]), 0).summary
    [kafka_failover], [shared_failover] = (kafka["mirror"]["failovers"],
                                           shared["mirror"]["failovers"])
    # Both flows had rows not yet copied when the clients failed over: exactly those
    # are lost with the Kafka source (the docstring's unclean stop), and none with the
    # shared-storage source, whose WAL kept them for the flow to copy once it was back.
    assert kafka["loss"]["lost_records"] == kafka_failover["unreplicated_records"] > 0
    assert kafka["loss"]["rpo_seconds"] == pytest.approx(kafka_failover["rpo_seconds"])
    assert shared_failover["unreplicated_records"] > 0
    assert shared["loss"]["lost_records"] == 0 and shared["loss"]["rpo_seconds"] == 0


def test_a_brokers_upload_backlog_is_its_durable_bytes_above_the_uploaded_offsets():
    """Mutation round six: the WAL's count of durable, not uploaded bytes (what
    ``s3.wal.upload.threshold`` is compared with) was never checked. With a 1 MiB
    threshold and no timer upload (10 min interval), each of the 6 brokers takes about
    853 kB/s (5,000 records/s of 1 KiB over 12 partitions, 2 led by each), so it
    uploads every 1.2 s or so while appends keep arriving during each PUT. Every 0.25 s,
    each broker's count must equal the bytes its WAL made durable above the uploaded
    offsets of the partitions it leads (bytes appended during a PUT stay counted)."""
    sc = load_scenario(SCENARIOS / "shared-storage.yaml", overrides=[
        "simulation.duration=8s", "simulation.warmup=0s", "simulation.drain=0s",
        "faults=[]", "strategy.append_interval=20ms",
        "strategy.storage.config={s3.wal.upload.interval.ms: 600000, "
        "s3.wal.upload.threshold: 1048576}"])
    ctx, _world, strategy = build(sc, settle_seed(sc))
    strategy.start()
    cluster = strategy.engine
    storage = cluster.storage
    checked = 0
    for step in range(1, 33):
        ctx.env.run(until=0.25 * step)
        for b in cluster.brokers:
            durable = sum(p.bytes_at(p.leo[b.id]) - p.bytes_at(storage.uploaded[p.id])
                          for p in cluster.parts if p.leader == b.id)
            assert storage._waiting[b.id] == durable, (ctx.env.now, b.id)
            checked += durable > 0
    assert checked > 100
    # 8 s x 853 kB/s = 6.8 MB a broker: at least five 1 MiB uploads each
    assert storage.counters["wal_uploads"] >= 6 * 5


def test_a_partition_its_returned_broker_leads_again_is_not_reopened_elsewhere():
    """Mutation round seven (round six's open #13): the reopen's controller commit
    moves only the partitions still offline on the failed broker when it lands. The
    broker of us-east-1-a crashes at 15 s; its WAL failover reaches the reopen (one
    commit for its 2 partitions). While that commit is in flight the broker comes back,
    and the controller unfences it and elects it again for both (its own code, run by
    hand in the window: up, heard, the unfence commit's effect, then
    ``elect_offline``). When the reopen commit lands, nothing moves: both partitions
    stay on the broker, at the epoch of that re-election, and ``partitions_moved`` stays
    0. A control run without the return reopens both on the least-loaded brokers."""

    def reopen_run(returns: bool):
        sc = scenario("faults=[{kind: broker-crash, zone: us-east-1-a, count: 1, "
                      "at: 15s, duration: 100s}]")
        ctx, world, strategy = build(sc, settle_seed(sc))
        cluster = strategy.engine
        storage = cluster.storage
        metadata = cluster.metadata
        failed = next(b for b in cluster.brokers if b.zone == "us-east-1-a")
        seen: dict[str, object] = {}
        commit = metadata.commit

        def spying_commit(zone, size, done, **kw):
            if done.__qualname__ != "SharedStorage._reopen.<locals>.done":
                return commit(zone, size, done, **kw)

            def landed(ok: bool) -> None:
                seen["landed"] = (ctx.env.now, ok)
                done(ok)

            commit(zone, size, landed, **kw)
            seen["sent"] = ctx.env.now
            seen["offline"] = sorted(p.id for p in cluster.parts
                                     if p.replicas == [failed.id] and p.leader is None)
            if returns:
                # the broker returns and is re-elected before the commit lands
                failed.alive = True
                failed.last_heartbeat = ctx.env.now  # heard by the controller
                failed.unclean_restart = False
                failed.fenced = False
                cluster.controller.elect_offline()
                seen["epochs"] = {p.id: p.epoch for p in cluster.parts
                                  if p.leader == failed.id}

        metadata.commit = spying_commit  # type: ignore[method-assign]
        strategy.start()
        FaultInjector(world, strategy).start()
        ctx.env.run(until=40.0)
        return cluster, storage, failed, seen

    cluster, storage, failed, seen = reopen_run(returns=True)
    led = seen["offline"]
    assert len(led) == 2  # 12 partitions over 6 brokers
    # fenced by 15 + 9 s (less a heartbeat interval), a failover tick, the 10 s attach
    assert 15 + 9 - 2 + 10 <= seen["sent"] <= 15 + 9 + 0.5 + 1 + 10 + 1
    assert seen["landed"][1] is True and seen["landed"][0] > seen["sent"]
    assert storage._recovering is None
    assert seen["epochs"] == {pid: cluster.parts[pid].epoch for pid in led}
    for pid in led:
        p = cluster.parts[pid]
        assert (p.replicas, p.leader) == ([failed.id], failed.id)
    assert storage.counters["partitions_moved"] == 0

    cluster, storage, failed, seen = reopen_run(returns=False)
    assert seen["landed"][1] is True
    assert storage.counters["partitions_moved"] == 2
    # every live broker led 2 partitions: the first two by id take one each
    live = sorted(b.id for b in cluster.brokers if b.id != failed.id)
    assert [cluster.parts[pid].replicas for pid in seen["offline"]] == [[live[0]], [live[1]]]
    assert [cluster.parts[pid].leader for pid in seen["offline"]] == live[:2]
