"""Failover between Kafka clusters (geosim.kafka.failover) on a SimPy clock, against a
recording stand-in for the cross-cluster model: when the monitor decides (every 0.5 s,
``failover.detection`` after the cluster became unreachable, then ``failover.decision``),
what a switch moves (flows stopped, new producer instances, groups with their start
offsets) and how start offsets are chosen (translated forward or back, else
``auto.offset.reset``, never past the log end)."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

import simpy

from geosim.core.events import ClientsAttached, ClusterReachability, FailedOver, GroupMoved, Row
from geosim.kafka.failover import MONITOR, Failover
from geosim.kafka.partition import PartitionState


class Fleet:
    def __init__(self, fid: int, region: str, zone: str):
        self.id, self.region, self.zone, self.alive, self.crashed = fid, region, zone, True, False

    def crash(self) -> None:  # as ProducerFleet.crash: the producers die
        self.crashed = True
        self.alive = False

    def successor(self, fid: int, start: float) -> Fleet:
        clone = Fleet(fid, self.region, self.zone)
        clone.start = start
        return clone


class Cluster:
    """A cluster of ``logs`` (per partition, its row sizes), recording what attaches."""

    def __init__(self, region: str, base: int, *logs: list[int]):
        self.region, self.partition_base = region, base
        self.partitions_n = len(logs)
        self.parts = []
        for pid, sizes in enumerate(logs):
            p = PartitionState(pid, [0])
            offset = 0
            for k, n in enumerate(sizes):
                p.append(Row(0, pid, k, n, n, n, 0.0, 0.0, offset=offset), 0.0)
                offset += n
            self.parts.append(p)
        self.attached: list = []
        self.detached: list = []
        self.produce = SimpleNamespace(attach_fleets=lambda fl: self.attached.append(list(fl)),
                                       detach_fleets=lambda fl: self.detached.append(list(fl)))
        self.reads = SimpleNamespace(attach_group=self.attached.append,
                                     detach_group=self.detached.append)


def group_state(committed: int = 0):
    return SimpleNamespace(committed=committed, position=7, log=[("stale", 0)])


class Model:
    """Clusters w (west) and c (central); a flow w -> c (its copies at c's partitions 2
    and 3) and c -> w, after flows between c and x; clients of w and of e (east, no
    cluster) use w."""

    def __init__(self, *, detection=10.0, decision=20.0, enabled=True, mode="failover",
                 offset_preserving=False, reset="earliest", marks=None, upstream=None):
        self.env = simpy.Environment()
        self.events: list = []
        self.spec = SimpleNamespace(failover=SimpleNamespace(
            enabled=enabled, detection=detection, decision=decision, mode=mode,
            auto_offset_reset=reset))
        self.cfg = SimpleNamespace(offset_preserving=offset_preserving)
        self.ctx = SimpleNamespace(recorder=SimpleNamespace(emit=self.events.append))
        self.partitions = 2
        w = Cluster("w", 0, [5, 5], [4], [3], [3])
        c = Cluster("c", 4, [2], [2, 2], [10, 5], [6, 6])
        self.clusters = {"w": w, "c": c}
        self.primary = "w"
        self.home_of = {"w": "w", "e": "w"}
        self.caught_up = True
        # Decoys first: flows between c and x, a cluster no client uses.
        x = Cluster("x", 8, [1])
        decoy = SimpleNamespace(start_marks=lambda sub: [(1, 1), (1, 1)],
                                upstream_of=lambda i, d: 1)
        self.flows = [
            SimpleNamespace(source=x, target=c, stopped=False, base=0, offsets=decoy),
            SimpleNamespace(source=c, target=x, stopped=False, base=0, offsets=decoy),
            SimpleNamespace(source=w, target=c, stopped=False, base=2,
                            caught_up=lambda: self.caught_up,
                            offsets=SimpleNamespace(
                                start_marks=lambda sub: (marks or {}).get(sub))),
            SimpleNamespace(source=c, target=w, stopped=False, base=2, caught_up=lambda: True,
                            offsets=SimpleNamespace(
                                upstream_of=lambda i, d: (upstream or {}).get((i, d)))),
        ]
        self.fleets = [Fleet(0, "w", "w-a"), Fleet(1, "e", "e-a"), Fleet(2, "c", "c-a")]
        self.active_fleets = list(self.fleets)
        self.zone_down = {"e-a"}
        member = SimpleNamespace(alive=True)
        self.group = SimpleNamespace(id=0, subscription=1, members=[member],
                                     partitions=[group_state(c) for c in (3, 4, 1, 2)],
                                     retire=lambda: setattr(member, "alive", False))
        self.groups = {"w": [self.group], "c": []}
        self.group_cluster = {0: "w"}
        self.counters_ = defaultdict(int)
        self.moved = []

    def current_home(self, region):
        return self.clusters[self.home_of.get(region, region)]

    def groups_on(self, cluster):
        return self.groups[cluster.region]

    def new_group(self, subscription, cluster, members):
        g = SimpleNamespace(id=10 + len(self.moved), subscription=subscription, members=members,
                            partitions=[group_state() for _ in range(cluster.partitions_n)])
        self.moved.append(g)
        return g


def started(model: Model) -> Failover:
    f = Failover(model)
    model.env.process(f.run_monitor())
    return f


def at(model: Model, t: float, action) -> None:
    def proc():
        yield model.env.timeout(t)
        action()
    model.env.process(proc())


def of(model: Model, kind) -> list:
    return [e for e in model.events if isinstance(e, kind)]


def test_failover_follows_detection_at_the_monitors_ticks_then_the_decision():
    m = Model()
    f = started(m)
    at(m, 3.5, lambda: f.reachability("w", True))
    m.env.run(until=33.4)
    assert of(m, FailedOver) == [] and f.failover_pending(m.clusters["w"])
    m.env.run(until=40.0)
    # 13.5 - 3.5 = detection exactly: the decision starts at that tick, 20 s on
    assert of(m, FailedOver) == [FailedOver(33.5, "w", "c", "region unreachable", 3.5)]
    assert not f.failover_pending(m.clusters["w"])
    assert m.counters_["failovers"] == 1
    m.env.run(until=100.0)
    assert len(of(m, FailedOver)) == 1          # once


def test_detection_counts_from_when_the_region_went_down_not_from_a_tick():
    m = Model(detection=10.0, decision=1.0)
    f = started(m)
    at(m, 3.6, lambda: f.reachability("w", True))
    m.env.run(until=40.0)
    # 13.5 - 3.6 < 10: the tick at 14.0 decides
    assert [e.t for e in of(m, FailedOver)] == [15.0]


def test_a_region_back_before_the_decision_does_not_fail_over_and_can_later():
    m = Model(detection=1.0, decision=5.0)
    f = started(m)
    at(m, 1.0, lambda: f.reachability("w", True))
    at(m, 4.0, lambda: f.reachability("w", False))     # back before 2.0 + 5.0
    m.env.run(until=20.0)
    assert of(m, FailedOver) == []
    assert of(m, ClusterReachability) == [ClusterReachability(4.0, "w", True)]
    at(m, 0.0, lambda: f.reachability("w", True))      # 20.0: down again
    m.env.run(until=40.0)
    assert [(e.t, e.unreachable_since) for e in of(m, FailedOver)] == [(26.0, 20.0)]


def test_a_zone_down_in_a_region_already_down_keeps_the_first_time():
    m = Model(detection=1.0, decision=1.0)
    f = started(m)
    at(m, 1.0, lambda: f.reachability("w", True))
    at(m, 1.7, lambda: f.reachability("w", True))
    m.env.run(until=10.0)
    assert [(e.t, e.unreachable_since) for e in of(m, FailedOver)] == [(3.0, 1.0)]


def test_no_failover_when_disabled_or_when_no_client_uses_the_cluster():
    m = Model(enabled=False, detection=1.0, decision=1.0)
    f = started(m)
    at(m, 1.0, lambda: f.reachability("w", True))
    m.env.run(until=30.0)
    assert of(m, FailedOver) == []
    m = Model(detection=1.0, decision=1.0)
    f = started(m)
    at(m, 1.0, lambda: f.reachability("c", True))      # c is nobody's home
    m.env.run(until=30.0)
    assert of(m, FailedOver) == []


def test_a_region_lost_is_announced_once_until_it_is_counted_down():
    m = Model()
    f = Failover(m)
    f.region_lost("w")
    assert of(m, ClusterReachability) == [ClusterReachability(0.0, "w", False)]
    f.reachability("w", True)
    f.region_lost("w")
    assert len(of(m, ClusterReachability)) == 1
    f.reachability("w", False)
    f.reachability("w", False)                          # up twice: announced once
    assert of(m, ClusterReachability)[1:] == [ClusterReachability(0.0, "w", True)]


def test_promote_waits_for_the_source_back_and_the_mirror_caught_up():
    m = Model(detection=1.0, decision=1.0, offset_preserving=True, mode="promote")
    m.caught_up = False
    f = started(m)
    at(m, 1.0, lambda: f.reachability("w", True))
    at(m, 5.2, lambda: f.reachability("w", False))
    at(m, 7.2, lambda: setattr(m, "caught_up", True))
    m.env.run(until=20.0)
    # decided at 3.0; waits in 0.5 s steps while w is down or the mirror lags
    assert [e.t for e in of(m, FailedOver)] == [7.5]
    m = Model(detection=1.0, decision=1.0, offset_preserving=False, mode="promote")
    m.caught_up = False
    f = started(m)
    at(m, 1.0, lambda: f.reachability("w", True))
    m.env.run(until=20.0)
    assert [e.t for e in of(m, FailedOver)] == [3.0]   # promote needs mirror topics


def test_a_switch_stops_the_flows_out_and_moves_producers_to_new_instances():
    m = Model()
    f = Failover(m)
    m.env.run(until=2.0)
    f._failover("w", "test")
    assert [fl.stopped for fl in m.flows] == [False, False, True, False]
    w, c = m.clusters["w"], m.clusters["c"]
    old = m.fleets[:2]
    assert all(fl.crashed for fl in old) and not m.fleets[2].crashed
    assert w.detached[0] == [old[0]] and w.detached[1] == [old[1]]
    clones = m.fleets[3:]
    assert [(cl.id, cl.region, cl.start) for cl in clones] == [(3, "w", 2.0), (4, "e", 2.0)]
    # e-a is down: its new instances start crashed, to restart with the zone
    assert [cl.alive for cl in clones] == [True, False]
    assert [cl.crashed for cl in clones] == [False, True]
    assert m.active_fleets == [m.fleets[2], *clones]
    assert m.home_of == {"w": "c", "e": "c"}
    assert c.attached[0] == clones
    assert of(m, ClientsAttached) == [ClientsAttached(2.0, "c", (3, 4), (), 4, 4)]
    assert of(m, FailedOver) == [FailedOver(2.0, "w", "c", "test", 2.0)]
    # the group moved: detached, members stopped, a new group attached at c
    assert w.detached[2] is m.group and m.group_cluster == {0: None}
    assert not m.group.members[0].alive
    assert c.attached[1] is m.moved[0] and m.moved[0].subscription == 1
    [moved] = of(m, GroupMoved)
    assert (moved.t, moved.group, moved.new_group, moved.source, moved.target) == (
        2.0, 0, 10, "w", "c")


def test_start_offsets_translated_else_earliest_never_past_the_log_end():
    # c's partitions: 0 (end 2) and 1 (end 4) its own topic, 2 (end 15) and 3 (end 12)
    # copies of w's. Forward marks: partition 0 of w -> c's 2 at 10; partition 1 of w
    # none. Backward: the old group had read c's own partition 0 as a remote topic up to
    # 1 (its state 2 + 0), translated back to 1; partition 1 (committed 2) maps to 9,
    # past c's end of 4.
    m = Model(marks={1: [(8, 10), None]}, upstream={(0, 1): 1, (1, 2): 9})
    Failover(m)._failover("w", "test")
    [moved] = of(m, GroupMoved)
    assert moved.starts == ((0, 1, 2, True), (1, 4, 4, True), (2, 10, 15, True),
                            (3, 0, 12, False))
    g = m.moved[0]
    assert [s.committed for s in g.partitions] == [1, 4, 10, 0]
    m = Model(marks={1: [None, (3, 6)]})             # w's partition 1 is c's 3
    Failover(m)._failover("w", "test")
    assert [s[1:] for s in of(m, GroupMoved)[0].starts] == [
        (0, 2, False), (0, 4, False), (0, 15, False), (6, 12, True)]
    m = Model(marks={1: [(8, 10), None]}, upstream={(0, 1): 1, (1, 2): 9})
    Failover(m)._failover("w", "test")
    g = m.moved[0]
    assert all(s.position == 0 for s in g.partitions)
    # each partition's log: the rows from the one holding the start on, as (row, -1)
    c = m.clusters["c"]
    assert [[r.offset for r, x in s.log] for s in g.partitions] == [[0], [], [10], [0, 6]]
    assert all(x == -1 for s in g.partitions for _r, x in s.log)
    assert g.partitions[3].log[0][0] is c.parts[3].rows[0]


def test_start_offsets_without_translation_follow_auto_offset_reset():
    m = Model(reset="latest")
    Failover(m)._failover("w", "test")
    [moved] = of(m, GroupMoved)
    assert moved.starts == ((0, 2, 2, False), (1, 4, 4, False), (2, 15, 15, False),
                            (3, 12, 12, False))
    m = Model(marks={1: None})
    Failover(m)._failover("w", "test")
    assert [s[1] for s in of(m, GroupMoved)[0].starts] == [0, 0, 0, 0]


def test_no_target_left_counts_a_failover_without_target():
    m = Model(detection=1.0, decision=1.0)
    m.flows = [f for f in m.flows if f.source is not m.clusters["w"]]  # none out of w
    f = started(m)
    at(m, 1.0, lambda: f.reachability("w", True))
    m.env.run(until=10.0)
    # decided at 3 s, and again as soon as each decision ends (the region is still
    # down and still some clients' home): 3, 4, ..., 9 s
    assert of(m, FailedOver) == [] and m.counters_["failovers_without_target"] == 7
    assert m.counters_["failovers"] == 0


def test_a_planned_cut_over_moves_the_primary_once():
    m = Model()
    f = Failover(m)
    m.env.process(f.run_migration(12.0))
    m.env.run(until=20.0)
    assert of(m, FailedOver) == [FailedOver(12.0, "w", "c", "planned cut-over", 12.0)]
    m.env.process(f.run_migration(5.0))
    m.env.run(until=30.0)
    assert len(of(m, FailedOver)) == 1


def test_the_monitor_ticks_every_half_second():
    assert MONITOR == 0.5
