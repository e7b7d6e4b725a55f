"""The read path of a Kafka cluster (geosim.kafka.reads): what a consumer group sees
when it is attached to a cluster, exactly."""

from __future__ import annotations

import pytest
from test_kafka_faults import steady_at_5s

from geosim.kafka.faults import crash_brokers
from geosim.kafka.reads import ReadPath


def test_a_group_attached_while_a_leader_is_down_sees_only_what_live_leaders_committed():
    """A group attached to a cluster (as at a failover) can read at once what each live
    leader has committed (its high watermark); a partition whose leader died and is not
    yet fenced (within broker.session.timeout.ms) serves nothing, so that partition's
    view stays where it was (0 after the zone's consumers lost what they fetched)."""
    cluster = steady_at_5s()
    reads = cluster.reads
    assert isinstance(reads, ReadPath)
    crash_brokers(cluster, "us-west2-a", 1, up=False)  # the first broker of us-west2
    dead = {b.id for b in cluster.brokers if not b.alive}
    assert len(dead) == 1
    orphaned = [p for p in cluster.parts if p.leader in dead]
    assert orphaned and all(p.hw > 0 for p in orphaned)  # else the test tells nothing
    group = cluster.groups[0]
    reads.detach_group(group)
    for zone in {m.zone for m in group.members}:
        reads.zone_down(zone)
    reads.attach_group(group)
    for zone in sorted({m.zone for m in group.members}):
        assert reads.visible[zone] == [0 if p.leader in dead else p.hw
                                       for p in cluster.parts]


@pytest.mark.parametrize("case", ["stretch-last-replica", "observers-2dc",
                                  "mm2-active-passive", "shared-storage"])
def test_the_read_paths_caches_hold_what_they_would_compute(case, monkeypatch):
    """The read path keeps the zones each (partition, replica) serves while the
    replication's generation and the consumer zones stand, and each partition's owners
    while the groups' assignments stand.
    Through outages, unclean elections, observer promotion, a failover that moves
    groups and shared storage's catch-up reads, every cached entry a readable change
    is about to use equals what it would compute afresh."""
    from golden_cases import scenario_of

    from geosim.runner import run

    checked = {"served": 0, "owners": 0}
    original = ReadPath.readable_changed

    def readable_changed(self, p, replica, only=None):
        if self._serving_generation == self.cluster.replication.generation:
            served = self._served.get((p.id, replica))
            if served is not None:
                assert served == [z for z in self.consumer_zones
                                  if self._serving_replica(p, z) == replica]
                checked["served"] += 1
        if self._owners_valid and p.id in self._owners:
            fresh: dict = {}
            for group in self.cluster.groups:
                zone = group.owner_zone(p.id)
                if zone is not None:
                    fresh.setdefault(zone, []).append(group)
            assert self._owners[p.id] == fresh
            checked["owners"] += 1
        return original(self, p, replica, only)

    monkeypatch.setattr(ReadPath, "readable_changed", readable_changed)
    run(scenario_of(case), 7)
    assert min(checked.values()) > 1000, checked


@pytest.mark.parametrize(("start", "budget", "offsets"), [
    (0, 200, [0, 1]),      # two 100-byte rows fill the budget exactly: both are served
    (0, 199, [0]),         # the second would pass it
    (0, 50, [0]),          # at least one row, whatever the budget
    (1, 10_000, [1, 2]),   # from the asked offset up to the high watermark
    (3, 10_000, []),       # nothing at or past the high watermark
])
def test_a_mirror_fetch_is_served_committed_rows_within_its_byte_budget(start, budget, offsets):
    """Three one-record rows of 100 compressed bytes, committed on every replica (a
    constant-RTT cluster run a second past the appends): ``committed_rows`` serves rows
    while the bytes stay at or under the budget, as a fetch response is filled."""
    from test_kafka_replication import small, write

    c, _sink = small()
    c.replication.start()
    for _ in range(3):
        write(c, 0, 1, 100)
    c.env.run(until=1.0)
    assert c.parts[0].hw == 3
    assert [r.offset for r in c.reads.committed_rows(0, start, budget)] == offsets




def _fetch_from_follower(faults: str = "[]", until: float = 5.0):
    """stretch-3-regions with fetch-from-follower and a consumer in us-west1 and us-west2, run to
    ``until``; returns (env, cluster, the partition led outside us-west2-a that the
    group's member there owns first, its follower there)."""
    from golden_cases import SCENARIOS

    from geosim.runner import build
    from geosim.scenario.loader import load_scenario
    from geosim.world.faults import FaultInjector

    sc = load_scenario(SCENARIOS / "stretch-3-regions.yaml", [
        "strategy.fetch_from_follower=true", f"faults={faults}", "simulation.warmup=1s",
        "simulation.duration=120s", "workload.omb.consumerPerSubscription=2",
        "workload.consumers={us-west1: 1, us-west2: 1}"])
    ctx, world, strategy = build(sc, 3)
    strategy.start()
    FaultInjector(world, strategy).start()
    ctx.env.run(until=until)
    c = strategy.engine
    group = c.groups[0]
    p = next(p for p in c.parts if c.brokers[p.leader].zone != "us-west2-a"
             and group.owner_zone(p.id) == "us-west2-a")
    follower = next(r for r in p.replicas if c.brokers[r].zone == "us-west2-a")
    return ctx.env, c, p, follower


def test_fetch_from_follower_reads_only_from_isr_members():
    """With fetch-from-follower, a follower that leaves the ISR serves its rack no more
    (KAFKA-14372: the rack-aware selector offers only ISR members): the rack's consumers
    read from the leader. Here the follower's zone stops hearing from the rest (a
    one-way partition from 5 s to 50 s), so it falls behind and leaves the ISR after
    replica.lag.time.max.ms; once the partition heals the zone reads past what the
    follower held."""
    cut = ("[{kind: partition, between: [us-west1, us-west2], one_way: true, at: 5s,"
           " duration: 45s}, {kind: partition, between: [us-west3, us-west2],"
           " one_way: true, at: 5s, duration: 45s}]")
    env, c, p, follower = _fetch_from_follower(cut, until=4.0)
    reads, zone = c.reads, "us-west2-a"
    assert reads.serving_replica(p, zone) == follower
    env.run(until=48.0)
    assert follower not in p.isr
    assert reads.serving_replica(p, zone) == p.leader
    held = p.readable(follower)
    env.run(until=51.0)
    assert reads.visible[zone][p.id] > held
    # its fetches back after replica.socket.timeout.ms, its backlog (more than a
    # response's budget) comes in parts and it rejoins; it serves the zone again
    env.run(until=80.0)
    assert follower in p.isr
    assert reads.serving_replica(p, zone) == follower


def test_a_follower_leaving_the_isr_hands_its_racks_readers_the_leaders_high_watermark():
    """``ReadPath.left_isr``: the zones a follower served are sent the leader's high
    watermark at the ISR change, not at the leader's next advance (a partition no one
    writes to any more would otherwise never reach them)."""
    env, c, p, follower = _fetch_from_follower()
    reads, zone = c.reads, "us-west2-a"
    assert p.hw > 0
    # the zone's view held back as if the follower lagged
    reads.visible[zone][p.id] = reads.sent[zone][p.id] = 0
    p.isr.discard(follower)
    c.replication.disturb()
    reads.left_isr(p, {follower})
    assert reads.sent[zone][p.id] == p.hw
    env.run(until=env.now + 0.5)
    assert reads.visible[zone][p.id] >= reads.sent[zone][p.id] > 0


def test_a_fenced_follower_hands_its_racks_readers_the_leaders_high_watermark():
    """A follower the controller fences leaves the ISRs (``_reassign_after_fencing``):
    the zones it served under fetch-from-follower read from the leader from then on,
    and are sent its high watermark at that commit, as at an ISR shrink by
    AlterPartition (before: at the leader's next advance)."""
    env, c, p, follower = _fetch_from_follower()
    reads, zone = c.reads, "us-west2-a"
    assert p.hw > 0 and reads.serving_replica(p, zone) == follower
    reads.visible[zone][p.id] = reads.sent[zone][p.id] = 0  # as if the follower lagged
    c.brokers[follower].fenced = True
    c.replication.disturb()
    c.controller._reassign_after_fencing()
    assert follower not in p.isr
    assert reads.serving_replica(p, zone) == p.leader
    assert reads.sent[zone][p.id] == p.hw
    env.run(until=env.now + 0.5)
    assert reads.visible[zone][p.id] >= reads.sent[zone][p.id] > 0


def test_a_fenced_observer_hands_its_racks_readers_the_leaders_high_watermark():
    """An observer serves its rack though never in the ISR; fenced, it serves it no more,
    and the fencing commit sends the rack's readers the leader's high watermark."""
    env, c, p, follower = _fetch_from_follower()
    reads, zone = c.reads, "us-west2-a"
    p.isr.discard(follower)  # the replica turned into an asynchronous observer
    p.replicas.remove(follower)
    p.observer_replicas.append(follower)
    c.replication.disturb()
    assert reads.serving_replica(p, zone) == follower
    reads.visible[zone][p.id] = reads.sent[zone][p.id] = 0  # as if it lagged
    c.brokers[follower].fenced = True
    c.replication.disturb()
    c.controller._reassign_after_fencing({follower})
    assert reads.serving_replica(p, zone) == p.leader
    assert reads.sent[zone][p.id] == p.hw > 0


def test_the_rack_aware_selector_keeps_the_leader_when_it_is_in_the_rack():
    """RackAwareReplicaSelector: the leader if it is in the consumer's rack, whatever
    the order of the rack's replicas; else an ISR member of the rack."""
    _env, c, p, follower = _fetch_from_follower()
    reads, zone = c.reads, "us-west2-a"
    reads._rack_replicas[(p.id, zone)] = [follower, p.leader]  # both in its rack
    assert reads.serving_replica(p, zone) == p.leader
    reads._rack_replicas[(p.id, zone)] = [follower]
    assert reads.serving_replica(p, zone) == follower
