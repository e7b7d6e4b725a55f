"""Group coordinators of a Kafka cluster (geosim.kafka.coordinator): a group commits to
the leader of its ``__consumer_offsets`` partition, loses it with its broker, and gets
a new one once the controller fences that broker; the new coordinator restarts the
group's sessions (``GroupMetadataManager.onLoaded``).

The cluster: stretch-3-regions (9 zones, one broker each, racks by zone), run without
faults to 5 s; its one consumer group is subscription 0, so its offsets partition is
partition 0 of 50, placed rack-aware as a data topic's partition 0."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_kafka_faults import steady_at_5s

from geosim.core.events import BrokerFenced, Rebalanced
from geosim.kafka.faults import zone_state
from geosim.kafka.placement import BrokerInfo, rack_aware
from geosim.runner import build
from geosim.scenario.loader import load_scenario
from geosim.world.faults import FaultInjector


def _commits(cluster, monkeypatch) -> list[tuple[float, str, str]]:
    """(time, from zone, to zone) of each offset commit's round trip."""
    seen: list[tuple[float, str, str]] = []
    round_trip = cluster.net.round_trip

    def spy(src, dst, size, back, purpose, *, stream=None):
        if stream == f"{cluster.name}.commit":
            seen.append((cluster.env.now, src, dst))
        return round_trip(src, dst, size, back, purpose, stream=stream)

    monkeypatch.setattr(cluster.net, "round_trip", spy)
    return seen


def _at_5s(scenario):
    """``scenario`` built and run to 5 s: (its context, its cluster, the cluster's one
    group, that group's offsets partition)."""
    ctx, _world, strategy = build(scenario, scenario.simulation.seed)
    strategy.start()
    ctx.env.run(until=5.0)
    cluster = strategy.engine
    [group] = cluster.groups
    return ctx, cluster, group, cluster.coordinators.slot(group)


def test_a_group_commits_to_the_leader_of_its_offsets_partition(monkeypatch):
    """The offsets partition of subscription 0 is partition 0 of 50, its three replicas
    rack-aware over the brokers (three racks); every commit goes to its leader's zone."""
    cluster = steady_at_5s()
    [group] = cluster.groups
    coordinators = cluster.coordinators
    slot = coordinators.slot(group)
    infos = [BrokerInfo(b.id, b.zone, b.region, b.rack) for b in cluster.brokers]
    assert slot.index == 0
    assert slot.replicas == rack_aware(infos, 50, 3)[0]
    assert len({cluster.brokers[r].rack for r in slot.replicas}) == 3
    assert slot.leader == slot.replicas[0] and slot.serving
    zone = cluster.brokers[slot.leader].zone
    assert coordinators.coordinator_zone(group) == zone
    seen = _commits(cluster, monkeypatch)
    cluster.env.run(until=16.0)
    assert len(seen) >= len(group.members)   # auto commits at 10 s and 15 s
    assert {dst for _t, _src, dst in seen} == {zone}
    assert {src for _t, src, _dst in seen} == {m.zone for m in group.members}


def test_commits_fail_from_the_coordinator_s_loss_to_its_successor_s_election(monkeypatch):
    """The coordinator's zone goes down at 5 s: the group has no coordinator and every
    commit fails at once, until the controller's commit fences the broker
    (``broker.session.timeout.ms`` after its last heartbeat) and elects the next ISR
    replica, in another rack, which loads the group; commits go there from then on."""
    cluster = steady_at_5s()
    [group] = cluster.groups
    slot = cluster.coordinators.slot(group)
    old = slot.leader
    zone = cluster.brokers[old].zone
    fenced: list[float] = []
    cluster.ctx.recorder.subscribe(
        BrokerFenced, lambda ev: fenced.append(ev.t) if ev.broker == old and ev.fenced
        else None)
    answers: list[tuple[float, bool]] = []

    def commit_now():
        cluster.coordinators.commit(group, "us-west1-a", 64,
                                    lambda ok: answers.append((cluster.env.now, ok)))

    zone_state(cluster, zone, up=False, destroyed=False)
    assert not slot.serving and not group._coordinating
    commit_now()
    assert answers == [(5.0, False)]
    cluster.env.run(until=30.0)
    [at] = fenced
    # the session from its last heartbeat (at most 2 s before), the 0.5 s check, the
    # controller's commit
    assert 9.0 - 2.0 <= at - 5.0 <= 9.0 + 0.5 + 1.0
    assert slot.serving and slot.leader == slot.replicas[1]
    assert cluster.brokers[slot.leader].rack != cluster.brokers[old].rack
    assert group._coordinating and group._loaded_at == at
    answers.clear()
    commit_now()
    cluster.env.run(until=31.0)
    assert answers and answers[0][1]


def test_a_commit_in_flight_when_the_coordinator_stops_fails():
    """A commit from another region is on its way when the coordinator's zone goes
    down: its answer does not count (the coordinator that took it is gone)."""
    cluster = steady_at_5s()
    [group] = cluster.groups
    slot = cluster.coordinators.slot(group)
    zone = cluster.brokers[slot.leader].zone
    home = cluster.brokers[slot.leader].region
    far = next(b.zone for b in cluster.brokers if b.region != home)
    answers: list[bool] = []
    cluster.coordinators.commit(group, far, 64, answers.append)
    cluster.env.run(until=5.001)           # well within a cross-region round trip
    assert not answers
    zone_state(cluster, zone, up=False, destroyed=False)
    cluster.env.run(until=6.0)
    assert answers == [False]


def test_the_offsets_partition_elects_from_its_isr_only():
    """The controller's fencing commits, by hand: each fenced leader gives way to the
    next ISR replica; with every replica fenced the last stays in the ISR and the
    partition has no leader, and a replica unfenced then does not lead (it is not in
    the ISR) until the last ISR member is back; then the others rejoin the ISR."""
    cluster = steady_at_5s()
    [group] = cluster.groups
    coordinators = cluster.coordinators
    slot = coordinators.slot(group)
    a, b, c = slot.replicas
    brokers = cluster.brokers

    def fence(r: int, fenced: bool) -> None:
        brokers[r].fenced = fenced
        coordinators.fencing_committed()

    fence(a, True)
    assert (slot.leader, slot.isr) == (b, {b, c}) and group._coordinating
    fence(b, True)
    assert (slot.leader, slot.isr) == (c, {c})
    fence(c, True)
    assert (slot.leader, slot.isr) == (None, {c}) and not group._coordinating
    assert coordinators.coordinator_zone(group) is None
    fence(a, False)
    assert (slot.leader, slot.isr) == (None, {c}) and not group._coordinating
    fence(c, False)
    assert (slot.leader, slot.isr) == (c, {a, c}) and group._coordinating
    assert group._loaded_at == cluster.env.now


def test_a_controlled_shutdown_of_the_coordinator_moves_it_before_it_stops():
    """A clean broker-crash of the coordinator's zone is a controlled shutdown: the
    controller's commit fences the broker while it still answers, which moves the
    coordinator to the next ISR replica (the old one unloads the group and the new one
    loads it at the same instant), then the broker stops; the group is never without
    a coordinator."""
    from geosim.kafka.faults import crash_brokers
    zone = steady_at_5s().coordinators.coordinator_zone(steady_at_5s().groups[0])
    sc = load_scenario("scenarios/stretch-3-regions.yaml", [
        "simulation.duration=20s", "simulation.warmup=1s",
        f"faults=[{{kind: broker-crash, zone: {zone}, at: 15s, clean: true}}]"])
    ctx, cluster, group, slot = _at_5s(sc)
    old = slot.leader
    changes: list[tuple[float, str]] = []
    for name in ("coordinator_lost", "coordinator_loaded"):
        method = getattr(group, name)
        setattr(group, name, lambda m=method, n=name: (changes.append((ctx.env.now, n)), m()))
    crash_brokers(cluster, zone, 1, up=False)
    assert cluster.brokers[old].alive and slot.leader == old   # the commit comes first
    ctx.env.run(until=6.0)
    assert not cluster.brokers[old].alive
    assert slot.leader == slot.replicas[1] and slot.serving and group._coordinating
    [(lost, first), (loaded, second)] = changes
    assert (first, second) == ("coordinator_lost", "coordinator_loaded") and lost == loaded


def _rebalance_after_outage(region: str) -> tuple[float, float | None]:
    """stretch-3-regions with ``region`` out from 10 s to 80 s: (the session-timeout
    rebalance's time, when the controller fenced the coordinator's broker, None if it
    was not in ``region``)."""
    scenario = load_scenario("scenarios/stretch-3-regions.yaml", [
        "simulation.duration=90s", "simulation.warmup=5s", "simulation.drain=0s",
        f"faults=[{{kind: region-outage, region: {region}, at: 10s, duration: 70s}}]"])
    ctx, world, strategy = build(scenario, scenario.simulation.seed)
    cluster = strategy.engine
    [group] = cluster.groups
    coordinator = cluster.coordinators.slot(group).leader
    rebalances: list[tuple[float, str]] = []
    fenced: list[float] = []
    ctx.recorder.subscribe(Rebalanced, lambda ev: rebalances.append((ev.t, ev.reason)))
    ctx.recorder.subscribe(BrokerFenced, lambda ev: fenced.append(ev.t)
                           if ev.broker == coordinator and ev.fenced else None)
    strategy.start()
    FaultInjector(world, strategy).start()
    ctx.env.run(until=90.0)
    [expired] = [t for t, reason in rebalances if reason == "session timeout"]
    return expired, (fenced[0] if fenced else None)


@pytest.mark.parametrize("hosts_coordinator", [True, False])
def test_a_region_outage_that_takes_the_coordinator_delays_the_rebalance(hosts_coordinator):
    """End to end. The region of the group's coordinator goes out at 10 s: its
    consumers' sessions restart when the successor loads the group (the fencing of the
    coordinator's broker), so the rebalance that removes them comes 45 s after that
    fencing, not 45 s after each member's last heartbeat before the outage. Another
    region's outage leaves the coordinator where it was: the rebalance follows the
    sessions' expiry, 45 s after each silent member's last heartbeat (between 52 and 55
    s), and the members' heartbeats."""
    cluster = steady_at_5s()
    [group] = cluster.groups
    home = cluster.brokers[cluster.coordinators.slot(group).leader].region
    region = home if hosts_coordinator else next(
        r for r in sorted({b.region for b in cluster.brokers}) if r != home)
    expired, fenced = _rebalance_after_outage(region)
    if hosts_coordinator:
        assert fenced is not None and fenced > 10.0
        assert fenced + 45.0 <= expired <= fenced + 45.0 + 3.0 + 1.0
    else:
        assert fenced is None
        assert 52.0 < expired <= 55.0 + 3.0 + 1.0


def test_an_offsets_topic_key_out_of_range_is_one_line_naming_it():
    """``offsets.topic.num.partitions`` below 1 is refused with the key and the value."""
    from geosim.scenario.loader import ScenarioError
    with pytest.raises(ScenarioError) as info:
        load_scenario("scenarios/stretch-3-regions.yaml",
                      ["strategy.config={offsets.topic.num.partitions: 0}"])
    message = str(info.value)
    assert "offsets.topic.num.partitions" in message and "\n" not in message


def test_a_shared_storage_coordinator_comes_back_with_its_broker_s_partitions():
    """Shared storage (AutoMQ): ``__consumer_offsets`` has one replica per partition.
    The coordinator's broker crashes at 5 s: the group has no coordinator until the
    WAL recovery reopens the broker's partitions on other brokers, and the offsets
    partition reopens with them, on the live broker leading the fewest, which loads
    the group."""
    from geosim.kafka.faults import crash_brokers
    sc = load_scenario("scenarios/shared-storage.yaml", [
        "simulation.duration=60s", "simulation.warmup=1s", "faults=[]"])
    ctx, cluster, group, slot = _at_5s(sc)
    [old] = slot.replicas
    assert slot.leader == old and slot.serving
    zone = cluster.brokers[old].zone
    # the zone's first brokers up to the coordinator's crash
    crash_brokers(cluster, zone, [b.id for b in cluster.brokers if b.zone == zone].index(old)
                  + 1, up=False)
    assert not cluster.brokers[old].alive and not group._coordinating
    moved = [p for p in cluster.parts if p.replicas == [old]]
    ctx.env.run(until=60.0)
    assert moved and all(p.replicas != [old] and p.leader is not None for p in moved)
    [new] = slot.replicas
    assert new != old and slot.leader == new and slot.serving and group._coordinating
    assert cluster.brokers[new].alive and group._loaded_at > 5.0


# ============================================= any sequence of broker stops and fences
class _Group:
    """A group as the coordinators see it: it records losses and loads."""

    def __init__(self, subscription: int):
        self.subscription = subscription
        self.coordinating = True
        self.changes: list[str] = []

    def route_commits(self, commit, one_way=None) -> None:
        self.commit = commit
        self.one_way = one_way

    def coordinator_lost(self) -> None:
        assert self.coordinating, "lost twice"
        self.coordinating = False
        self.changes.append("lost")

    def coordinator_loaded(self) -> None:
        self.coordinating = True
        self.changes.append("loaded")


def _stand_in(brokers: int):
    """Six brokers in three racks, one data partition on each, two groups."""
    from types import SimpleNamespace

    import simpy

    from geosim.kafka.broker import Broker
    from geosim.kafka.controller import Controller
    from geosim.kafka.coordinator import GroupCoordinators
    from geosim.kafka.partition import PartitionState
    infos = [BrokerInfo(i, f"z{i % 3}", "r", f"z{i % 3}") for i in range(brokers)]
    env = simpy.Environment()
    cluster = SimpleNamespace(
        env=env, net=None, name="c", storage=None,
        config=SimpleNamespace(offsets_topic_num_partitions=50,
                               offsets_topic_replication_factor=3,
                               auto_leader_rebalance_enable=False,
                               leader_imbalance_check_interval=300.0),
        brokers=[Broker(b, 0.0) for b in infos],
        parts=[PartitionState(i, [i]) for i in range(brokers)], groups=[],
        metadata=SimpleNamespace(leader_zone="z0", term=0))
    cluster.controller = Controller(cluster)   # its rule for an acceptable leader
    coordinators = GroupCoordinators(cluster, infos)
    cluster.groups = [_Group(0), _Group(1)]
    for group in cluster.groups:
        coordinators.attach(group)
    return cluster, coordinators


_STEPS = st.lists(st.tuples(st.sampled_from(["stop", "start", "fence", "unfence",
                                             "balance"]),
                            st.integers(0, 5)), max_size=25)


@settings(max_examples=150, deadline=None)
@given(steps=_STEPS)
def test_any_sequence_of_broker_stops_and_fences_keeps_the_coordinators_consistent(steps):
    """Brokers stop and start (``brokers_changed``) and the controller fences and
    unfences them (``fencing_committed``) and passes move leaderships back to their
    preferred replicas, in any order. After each step: the ISR is a
    non-empty set of the partition's replicas, the leader (if any) is in it and not
    fenced after a fencing commit, which leaves the partition offline only when every
    ISR member is fenced; the partition serves exactly when its leader is up,
    and each group has a coordinator exactly then, having heard losses and loads in
    turn."""
    cluster, coordinators = _stand_in(6)
    brokers = cluster.brokers
    for action, b in steps:
        broker = brokers[b]
        if action == "stop":
            broker.alive = False
            coordinators.brokers_changed()
        elif action == "start":
            broker.alive = True
            coordinators.brokers_changed()
        elif action == "balance":
            # a preferred-leader pass (geosim.kafka.leader_balance): every partition
            # whose preferred replica is in the ISR and accepted leads from it
            for slot in coordinators.preferred_electable():
                coordinators.elect_preferred(slot)
            for group in cluster.groups:
                slot = coordinators.slot(group)
                first = slot.replicas[0]
                if (slot.leader is not None and first in slot.isr
                        and cluster.controller.accepts(first)):
                    assert slot.leader == first
            assert not coordinators.preferred_electable()
        else:
            broker.fenced = action == "fence"
            coordinators.fencing_committed()
        for group in cluster.groups:
            slot = coordinators.slot(group)
            assert slot.isr and slot.isr <= set(slot.replicas)
            if slot.leader is not None:
                assert slot.leader in slot.isr
                if action in ("fence", "unfence"):
                    assert not brokers[slot.leader].fenced
            elif action in ("fence", "unfence"):
                # offline only while every ISR member is fenced
                assert all(brokers[r].fenced for r in slot.isr)
            assert slot.serving == (slot.leader is not None and brokers[slot.leader].alive)
            assert group.coordinating == slot.serving
            assert group.changes[::2] == ["lost"] * len(group.changes[::2])
            assert group.changes[1::2] == ["loaded"] * len(group.changes[1::2])
