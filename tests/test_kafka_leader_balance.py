"""Preferred-leader balancing (geosim.kafka.leader_balance, ``auto.leader.rebalance.enable``)
on the controller's stand-in cluster (tests/test_kafka_controller.py: the quorum in zone
``a``, commits of 0.25 s, controller checks every 0.5 s, sessions of 9 s), then end to end
on the stretch cluster.

The stand-in's fencing: broker 1 (zone b) stops at 1.5 s, its last heartbeat having
arrived at 0.875 s, so the 10.0 s check fences it, committed at 10.25 s, when partition
0 (replicas 1, 0, 2) elects broker 0. That election is the controller write after which
a partition is off its preferred leader: the pass is scheduled then, one interval later.
"""

from __future__ import annotations

import pytest
from test_kafka_controller import Cluster, part
from test_kafka_failover import at

from geosim.kafka.config import resolve_broker_config
from geosim.kafka.leader_balance import IMMEDIATE, MAX_ELECTIONS_PER_PASS
from geosim.kafka.wire import CONTROLLER_RECORD_BYTES
from geosim.scenario.kafka_keys import BadKafkaValue

BALANCE = 30.0  # leader.imbalance.check.interval.seconds in these tests


def _fenced_and_back(balance: float | None, rejoin: float | None) -> Cluster:
    """Broker 1 fenced at 10.25 s (partition 0 led by 0 from then), up again at 12 s
    (unfenced at 13.25 s) and back in the ISR at ``rejoin`` (as its leader's
    AlterPartition would take it back once it caught up)."""
    c = Cluster(parts=[part(0, [1, 0, 2])], balance=balance).start()
    c.down(1.5, 1)

    def up():
        c.brokers[1].alive = True
    at(c, 12.0, up)
    if rejoin is not None:
        at(c, rejoin, lambda: c.parts[0].isr.add(1))
    return c


def _elections(c: Cluster) -> list:
    return [call for call in c.calls
            if call[0] == "state" and call[5] == "preferred leader election"]


def test_a_pass_one_interval_after_the_fencing_moves_the_leadership_back():
    # fenced (and partition 0 moved to broker 0) at 10.25 s: the pass runs at 40.25 s,
    # broker 1 being in the ISR since 20 s; one record, committed at 40.5 s
    c = _fenced_and_back(BALANCE, rejoin=20.0)
    c.env.run(until=40.0)
    assert c.parts[0].leader == 0 and not _elections(c)
    c.env.run(until=200.0)
    assert c.metadata.commits == [(10.0, "a", CONTROLLER_RECORD_BYTES),
                                  (13.0, "a", CONTROLLER_RECORD_BYTES),
                                  (40.25, "a", CONTROLLER_RECORD_BYTES)]
    assert _elections(c) == [("state", 40.5, 0, 1, [0, 1, 2], "preferred leader election")]
    assert ("rewire", 40.5) in c.calls
    assert c.parts[0].leader == 1 and c.parts[0].epoch == 2
    assert c.counters_["preferred_leader_elections"] == 1
    # balanced: no later pass
    assert c.controller.balancer.passes == 1
    assert c.controller.balancer.state == "deferred"


def test_a_preferred_replica_out_of_the_isr_waits_for_the_next_pass():
    # at 40.25 s broker 1 is not in the ISR yet: nothing is written, and as partition 0
    # is still off its preferred leader the next pass follows at 70.25 s
    c = _fenced_and_back(BALANCE, rejoin=50.0)
    c.env.run(until=200.0)
    assert [t for t, _zone, _size in c.metadata.commits] == [10.0, 13.0, 70.25]
    assert _elections(c) == [("state", 70.5, 0, 1, [0, 1, 2], "preferred leader election")]
    assert c.controller.balancer.passes == 2


def test_without_auto_leader_rebalance_the_leadership_stays():
    c = _fenced_and_back(None, rejoin=20.0)
    c.env.run(until=1000.0)
    assert c.parts[0].leader == 0 and not _elections(c)
    assert c.controller.balancer.passes == 0
    assert len(c.metadata.commits) == 2


def test_a_fenced_or_unregistered_preferred_replica_is_not_elected():
    # broker 1 in the ISR but fenced (never back up): the pass elects nothing
    c = Cluster(parts=[part(0, [1, 0, 2])], balance=BALANCE).start()
    c.down(1.5, 1)
    at(c, 20.0, lambda: c.parts[0].isr.add(1))
    c.env.run(until=100.0)
    assert c.parts[0].leader == 0 and not _elections(c)
    assert c.controller.balancer.passes == 2   # at 40.25 and 70.25 s (the next at 100.25)


def test_a_pass_elects_at_most_a_thousand_and_the_next_follows_ten_ms_later():
    # 1,001 partitions led by broker 0, preferring broker 1 (in their ISR): a write at
    # 1 s schedules the pass at 31 s; it writes 1,000 elections (committed at 31.25 s),
    # and the next pass, 10 ms later, the last one, not those in flight
    n = MAX_ELECTIONS_PER_PASS + 1
    c = Cluster(parts=[part(i, [1, 0, 2], leader=0) for i in range(n)],
                balance=BALANCE).start()
    at(c, 1.0, c.controller.balancer.written)
    c.env.run(until=40.0)
    assert c.metadata.commits == [
        (31.0, "a", CONTROLLER_RECORD_BYTES * MAX_ELECTIONS_PER_PASS),
        (pytest.approx(31.0 + IMMEDIATE), "a", CONTROLLER_RECORD_BYTES)]
    assert all(p.leader == 1 for p in c.parts)
    assert c.counters_["preferred_leader_elections"] == n
    assert c.controller.balancer.passes == 2


def test_a_new_controller_drops_the_pending_pass_and_schedules_its_own():
    # the pass scheduled at 10.25 s (for 40.25) is dropped when the quorum moves to c at
    # 20.2 s; the new controller's first check (20.5 s) schedules one for 50.5 s, which
    # writes from c
    c = _fenced_and_back(BALANCE, rejoin=15.0)

    def new_term():
        c.metadata.leader_zone, c.metadata.term = "c", 1
    at(c, 20.2, new_term)
    c.env.run(until=100.0)
    assert c.metadata.commits[-1] == (50.5, "c", CONTROLLER_RECORD_BYTES)
    assert _elections(c) == [("state", 50.75, 0, 1, [0, 1, 2], "preferred leader election")]


def test_an_election_made_moot_before_its_commit_is_skipped():
    # the pass writes at 40.25 s; the partition changes (a new epoch) before the commit
    # at 40.5 s, so the commit elects nothing
    c = _fenced_and_back(BALANCE, rejoin=20.0)

    def bump():
        c.parts[0].epoch += 1
    at(c, 40.3, bump)
    c.env.run(until=45.0)
    assert c.parts[0].leader == 0 and not _elections(c)


def test_the_keys_take_kafkas_defaults_and_refuse_an_interval_under_a_second():
    cfg = resolve_broker_config({})
    assert cfg.auto_leader_rebalance_enable is True
    assert cfg.leader_imbalance_check_interval == 300.0
    cfg = resolve_broker_config({"auto.leader.rebalance.enable": False,
                                 "leader.imbalance.check.interval.seconds": 60})
    assert not cfg.auto_leader_rebalance_enable
    assert cfg.leader_imbalance_check_interval == 60.0
    with pytest.raises(BadKafkaValue, match="must be >= 1"):
        resolve_broker_config({"leader.imbalance.check.interval.seconds": 0})


def test_after_a_region_outage_the_stretch_cluster_gets_its_preferred_leaders_back():
    """stretch-3-regions, us-west2 out from 10 s to 30 s: its partitions' leaderships move
    to the other regions when its brokers are fenced (two commits, 1.5 s apart), and
    come back in one pass, one interval (60 s) after the first of them; the default
    interval (300 s) leaves them where they moved within the run."""
    from test_kafka import scenario

    from geosim.core.events import PartitionChanged
    from geosim.runner import run

    def leaders_of(interval: str):
        changes: list[PartitionChanged] = []
        sc = scenario("stretch-3-regions",
                      "faults=[{kind: region-outage, region: us-west2, at: 10s, "
                      "duration: 20s}]",
                      "simulation.duration=100s",
                      "strategy.config={min.insync.replicas: 2, "
                      f"leader.imbalance.check.interval.seconds: {interval}}}")
        result = run(sc, subscribe=lambda r: r.subscribe(PartitionChanged, changes.append))
        return changes, result.summary

    changes, summary = leaders_of("60")
    initial = {e.partition: e.leader_region for e in changes if e.reason == "initial"}
    moved = [e for e in changes if e.reason == "leader fenced"]
    back = [e for e in changes if e.reason == "preferred leader election"]
    west2 = {p for p, region in initial.items() if region == "us-west2"}
    assert west2 and {e.partition for e in moved} == west2
    first = min(e.t for e in moved)   # the first write leaving a partition off its preferred
    assert {e.partition for e in back} == west2
    assert all(e.leader_region == "us-west2" for e in back)
    assert all(first + 60.0 < e.t < first + 61.0 for e in back)   # one pass for both
    assert summary["counters"]["preferred_leader_elections"] == len(west2)
    changes, summary = leaders_of("300")
    assert not [e for e in changes if e.reason == "preferred leader election"]
    assert "preferred_leader_elections" not in summary["counters"]


def test_a_pass_due_without_a_quorum_is_scheduled_again_under_the_same_term():
    # the quorum is unavailable from 39 s to 45 s (the same term after): the pass due
    # at 40.25 s writes nothing and schedules the next, at 70.25 s
    c = _fenced_and_back(BALANCE, rejoin=20.0)

    def quorum(up: bool):
        c.metadata.up = up
    at(c, 39.0, lambda: quorum(False))
    at(c, 45.0, lambda: quorum(True))
    c.env.run(until=100.0)
    assert _elections(c) == [("state", 70.5, 0, 1, [0, 1, 2], "preferred leader election")]
