"""The Kafka controller (geosim.kafka.controller), decision by decision, on a SimPy clock
against a recording stand-in for the cluster: heartbeats at their phases through the
network seam, the session timed from the last heartbeat to arrive, fencing and
unfencing as quorum commits, elections from the ISR, then the ELR, then unclean, and
what an election does to a partition (epoch, offline time, truncation, HW, waiting
produces). One test runs the real stretch cluster for the fencing ticks.

The stand-in's numbers: the quorum's leader (the active controller) is in zone ``a``;
one-way delays are 0.0625 s within a zone, 0.125 s between ``a`` and ``b``, 0.25 s
between ``c`` and the others; a controller commit takes 0.25 s; heartbeats every 2 s,
a session of 9 s, controller checks every 0.5 s (``CONTROLLER_CHECK``)."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

import simpy
from test_kafka_cluster import cluster_of
from test_kafka_failover import at, of

from geosim.core.events import BrokerFenced, Row
from geosim.kafka.broker import Broker
from geosim.kafka.controller import Controller
from geosim.kafka.partition import PartitionState
from geosim.kafka.placement import BrokerInfo
from geosim.kafka.produce import NOT_LEADER
from geosim.kafka.wire import CONTROLLER_RECORD_BYTES, HEARTBEAT_BYTES

ONE_WAY = {("a", "a"): 0.0625, ("b", "b"): 0.0625, ("c", "c"): 0.0625,
           ("a", "b"): 0.125, ("b", "a"): 0.125,
           ("a", "c"): 0.25, ("c", "a"): 0.25, ("b", "c"): 0.25, ("c", "b"): 0.25}
#: broker 0 in a at phase 0, broker 1 in b at 0.75 s (heard at 0.875 + 2k), broker 2 in
#: c at 1.0 s (heard at 1.25 + 2k)
BROKERS = [("a", 0.0), ("b", 0.75), ("c", 1.0)]


class Network:
    """The network seam: delays from ``ONE_WAY`` (None on a ``lost`` direction); records
    every message as (t, src, dst, bytes, purpose, stream, queued)."""

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.sent: list = []
        self.lost: set = set()

    def delay(self, src, dst, size, purpose, *, stream=None, queued=True):
        self.sent.append((self.env.now, src, dst, size, purpose, stream, queued))
        return None if (src, dst) in self.lost else ONE_WAY[(src, dst)]


class Quorum:
    """The metadata store: its leader's zone and term; commits answer ``ok`` after
    ``latency``; records each as (t, zone, bytes)."""

    def __init__(self, env: simpy.Environment, latency: float):
        self.env, self.latency = env, latency
        self.leader_zone = "a"
        self.term = 0
        self.up = True
        self.ok = True
        self.commits: list = []

    def available(self) -> bool:
        return self.up

    def commit(self, zone, size, done) -> None:
        self.commits.append((self.env.now, zone, size))
        ok = self.ok
        self.env.timeout(self.latency).callbacks.append(lambda _e: done(ok))


class Cluster:
    """What the controller uses of a cluster, recording the calls it makes as
    ("state", t, partition, leader, sorted ISR, reason), ("advance_hw", t, partition),
    ("rewire", t), ("truncate", t, partition, offset, cause), ("fail", rows, code,
    written_maybe), ("orphan", pending)."""

    def __init__(self, brokers=BROKERS, parts=(), *, elr=False, commit=0.25,
                 unclean_interval=300.0, balance: float | None = None):
        self.env = simpy.Environment()
        self.net = Network(self.env)
        self.metadata = Quorum(self.env, commit)
        self.config = SimpleNamespace(
            broker_heartbeat_interval=2.0, broker_session_timeout=9.0,
            eligible_leader_replicas=elr, unclean_election_interval=unclean_interval,
            auto_leader_rebalance_enable=balance is not None,
            leader_imbalance_check_interval=balance)
        self.brokers = [Broker(BrokerInfo(i, z, z, z), ph) for i, (z, ph) in enumerate(brokers)]
        self.parts = list(parts)
        self.counters_: defaultdict[str, int] = defaultdict(int)
        # no consumers read here (a follower leaving an ISR redirects none)
        self.reads = SimpleNamespace(left_isr=lambda p, gone: None)
        self.events: list = []
        self.ctx = SimpleNamespace(recorder=SimpleNamespace(emit=self.events.append))
        self.calls: list = []
        self.replication = SimpleNamespace(
            disturb=lambda: None,
            advance_hw=lambda p: self.calls.append(("advance_hw", self.env.now, p.id)))
        self.produce = SimpleNamespace(
            fail=lambda rows, code, *, written_maybe: self.calls.append(
                ("fail", rows, code, written_maybe)),
            orphan=lambda pending, zone=None: self.calls.append(("orphan", list(pending))))
        # the group coordinators (no groups here): tests/test_kafka_coordinator.py
        self.coordinators = SimpleNamespace(fencing_committed=lambda: None,
                                            imbalanced=lambda but=None: False,
                                            preferred_electable=lambda: [])
        self.controller = Controller(self)

    def emit_state(self, p, reason) -> None:
        self.calls.append(("state", self.env.now, p.id, p.leader, sorted(p.isr), reason))

    def rewire(self) -> None:
        self.calls.append(("rewire", self.env.now))

    def truncate(self, p, offset, cause) -> None:
        self.calls.append(("truncate", self.env.now, p.id, offset, cause))
        p.truncate(offset)

    def start(self) -> Cluster:
        self.env.process(self.controller.run())
        self.env.process(self.controller.run_heartbeats())
        return self

    def down(self, t: float, *ids: int, destroyed: bool = False) -> None:
        """Brokers ``ids`` stop at ``t`` (at 0: before anything runs)."""
        def stop():
            for i in ids:
                self.brokers[i].alive = False
                self.brokers[i].destroyed = destroyed
        if t == 0:
            stop()
        else:
            at(self, t, stop)


def part(pid, replicas, isr=None, *, leader=-1, elr=(), observers=(), min_isr=1):
    p = PartitionState(pid, replicas, list(observers), min_isr)
    if isr is not None:
        p.isr = set(isr)
    if leader != -1:
        p.leader = leader
        if leader is None:
            p.offline_since = 0.0
    p.elr = set(elr)
    return p


def with_rows(p: PartitionState, *sizes: int) -> list[Row]:
    """Appends rows of ``sizes`` records to ``p``'s log; returns them."""
    rows = []
    offset = 0
    for k, n in enumerate(sizes):
        row = Row(0, p.id, k, n, n, n, 0.0, 0.0, offset=offset)
        p.append(row, 0.0)
        rows.append(row)
        offset += n
    return rows


# ==================================================================== heartbeats
def test_heartbeats_start_at_the_first_phase_after_the_start_and_repeat_each_interval():
    # phases 0, 1.5, 1.0, 1.0 s; started at 5 s, inside the cycle that began at 4 s:
    # the tick at 4.0 is before the start, the two at 5.0 (phase order, then id) are due
    # at once, then 5.5, 6.0, 7.0, 7.5. Broker 3 stops at 5.0, after its tick was handled
    # (a process started after the heartbeats'), so it sent that one and not the next.
    c = Cluster([("b", 0.0), ("c", 1.5), ("a", 1.0), ("b", 1.0)])
    c.env.run(until=5.0)
    c.env.process(c.controller.run_heartbeats())
    at(c, 0.0, lambda: setattr(c.brokers[3], "alive", False))
    c.env.run(until=7.9)
    hb = ("metadata", False)   # not queued behind data
    # each request to a, answered from a when it arrives (one-way delay later)
    assert [(t, src, dst) for t, src, dst, *_ in c.net.sent] == [
        (5.0, "a", "a"), (5.0, "b", "a"), (5.0625, "a", "a"), (5.125, "a", "b"),
        (5.5, "c", "a"), (5.75, "a", "c"), (6.0, "b", "a"), (6.125, "a", "b"),
        (7.0, "a", "a"), (7.0625, "a", "a"), (7.5, "c", "a"), (7.75, "a", "c")]
    assert {(size, purpose, queued) for _t, _s, _d, size, purpose, _stream, queued
            in c.net.sent} == {(HEARTBEAT_BYTES, *hb)}
    # each broker's heartbeats and their answers are a message family of their own
    assert {stream for *_, stream, _queued in c.net.sent} == {
        f"cluster.heartbeat{i}" for i in range(4)}
    assert [b.last_heartbeat for b in c.brokers] == [6.125, 7.75, 7.0625, 5.125]
    assert all(b.heard for b in c.brokers)


def test_no_heartbeat_from_a_stopped_broker_or_without_a_quorum_and_late_ones_ignored():
    # broker 1 is down; broker 3 (b, phase 0.5) is alive but its heartbeats are lost;
    # the quorum is unavailable over 1.9-2.1 s (broker 0's tick at 2.0 sends nothing);
    # at 3.1 s the controller moves to b: broker 2's heartbeat of 3.0 s, arriving at a
    # at 3.25 s, is not counted and not answered
    c = Cluster([*BROKERS, ("b", 0.5)])
    c.down(0, 1)
    c.net.lost.add(("b", "a"))
    at(c, 1.9, lambda: setattr(c.metadata, "up", False))
    at(c, 2.1, lambda: setattr(c.metadata, "up", True))
    at(c, 3.1, lambda: setattr(c.metadata, "leader_zone", "b"))
    c.env.process(c.controller.run_heartbeats())
    c.env.run(until=4.0)
    assert [(t, src, dst) for t, src, dst, *_ in c.net.sent] == [
        (0.0, "a", "a"), (0.0625, "a", "a"), (0.5, "b", "a"), (1.0, "c", "a"),
        (1.25, "a", "c"), (2.5, "b", "a"), (3.0, "c", "a")]
    assert [b.last_heartbeat for b in c.brokers] == [0.0625, 0.0, 1.25, 0.0]
    assert [b.heard for b in c.brokers] == [True, False, True, False]


# ===================================================================== fencing
def test_a_broker_unheard_for_the_session_is_fenced_by_a_commit_and_loses_its_leadership():
    # broker 1's last heartbeat arrived at 0.875 s (it stops at 1.5): the first check at
    # or after 0.875 + 9 is 10.0 s; one record (128 bytes) from the controller's zone,
    # committed at 10.25 s: fenced, and partition 0 (replicas 1, 0, 2) elects 0, the
    # first live ISR member
    c = Cluster(parts=[part(0, [1, 0, 2])]).start()
    c.down(1.5, 1)
    c.env.run(until=12.0)
    assert c.metadata.commits == [(10.0, "a", CONTROLLER_RECORD_BYTES)]
    assert of(c, BrokerFenced) == [BrokerFenced(10.25, 1, "b", True)]
    assert [b.fenced for b in c.brokers] == [False, True, False]
    assert c.calls == [("state", 10.25, 0, 0, [0, 2], "leader fenced"),
                       ("advance_hw", 10.25, 0), ("rewire", 10.25)]
    assert c.counters_ == {"brokers_fenced": 1, "leader_changes": 1}
    assert c.parts[0].epoch == 1
    # back at 12 s: its heartbeat of 12.75 s arrives at 12.875, the check at 13.0 s
    # unfences it (committed at 13.25 s); its partition keeps its new leader
    c.brokers[1].alive = True
    c.env.run(until=16.0)
    assert c.metadata.commits[1:] == [(13.0, "a", CONTROLLER_RECORD_BYTES)]
    assert of(c, BrokerFenced)[1:] == [BrokerFenced(13.25, 1, "b", False)]
    assert not c.brokers[1].fenced and len(c.calls) == 3


def test_a_new_controller_term_restarts_every_session_at_its_first_check():
    # broker 1 never heartbeats (it would be fenced at 0 + 9 = 9.0 s); at 3.2 s the
    # quorum elects a leader in c (term 1): the check at 3.5 s gives every broker a
    # fresh session, so broker 1 is fenced at exactly 3.5 + 9 = 12.5 s, committed from c
    c = Cluster().start()
    c.down(0, 1)

    def new_term():
        c.metadata.leader_zone, c.metadata.term = "c", 1
    at(c, 3.2, new_term)
    c.env.run(until=13.9)
    assert c.metadata.commits == [(12.5, "c", CONTROLLER_RECORD_BYTES)]
    assert of(c, BrokerFenced) == [BrokerFenced(12.75, 1, "b", True)]
    # broker 2's heartbeat of 3.0 s reached a at 3.25, after the move: not counted
    # (3.5 from the new session instead); its next (5.0 s) goes to c, 0.0625 s away
    assert [b.last_heartbeat for b in c.brokers] == [12.25, 3.5, 13.0625]


def test_no_check_while_the_quorum_is_unavailable():
    # broker 1 is down from the start (last heard 0): due at 9.0 s, but the quorum is
    # unavailable over 8.9-9.6 s, so the check at 10.0 s fences it
    c = Cluster().start()
    c.down(0, 1)
    at(c, 8.9, lambda: setattr(c.metadata, "up", False))
    at(c, 9.6, lambda: setattr(c.metadata, "up", True))
    c.env.run(until=11.0)
    assert c.metadata.commits == [(10.0, "a", CONTROLLER_RECORD_BYTES)]


def test_a_failed_commit_is_counted_and_fences_nothing_and_the_next_check_retries():
    # due at 10.0 s (last heard 0.875 s); each commit fails 0.25 s later
    c = Cluster(parts=[part(0, [1, 0])]).start()
    c.down(1.5, 1)
    c.metadata.ok = False
    c.env.run(until=10.6)
    assert c.metadata.commits == [(10.0, "a", 128), (10.5, "a", 128)]
    assert c.counters_ == {"controller_commit_failures": 1}   # 10.75's not yet
    assert not c.brokers[1].fenced and c.events == [] and c.calls == []


def test_a_broker_fenced_by_two_commits_in_flight_is_fenced_and_counted_once():
    # commits take 0.75 s: the checks at 10.0 and 10.5 s both find broker 1 unfenced;
    # the first answer (10.75 s) fences it and elects 0; the second changes nothing
    c = Cluster(parts=[part(0, [1, 0, 2])], commit=0.75).start()
    c.down(1.5, 1)
    c.env.run(until=12.0)
    assert c.metadata.commits == [(10.0, "a", 128), (10.5, "a", 128)]
    assert of(c, BrokerFenced) == [BrokerFenced(10.75, 1, "b", True)]
    assert c.counters_["brokers_fenced"] == 1
    assert c.calls == [("state", 10.75, 0, 0, [0, 2], "leader fenced"),
                       ("advance_hw", 10.75, 0), ("rewire", 10.75)]


def test_who_is_unfenced_and_a_destroyed_broker_fenced_when_its_session_expires():
    # 0 (a, 0.0) runs on. 1 (b, 0.75) fenced, heard at 0.875: unfenced by the commit of
    # the 1.0 s check. 2 (c, 1.0) fenced, heard at 1.25, stops at 1.6 s, after the 1.5 s
    # check and before its commit lands (1.75): stays fenced. 3 (b, 0.25) back from an
    # unclean restart, heard at 0.375: re-registered by the 0.5 s check, no fencing
    # event. 4 (c, 0.5) fenced, its heartbeat of 0.5 s arrives at 0.75 but it stopped
    # at 0.6: not unfenced. 5 (a, 1.5) destroyed at 0.7, before its first heartbeat:
    # the controller knows brokers by their heartbeats only, so it is fenced when its
    # session (from the start) expires, by the 9.0 s check, like any silent broker.
    c = Cluster([*BROKERS, ("b", 0.25), ("c", 0.5), ("a", 1.5)]).start()
    for i in (1, 2, 4):
        c.brokers[i].fenced = True
    c.brokers[3].unclean_restart = True
    c.down(0.6, 4)
    c.down(0.7, 5, destroyed=True)
    c.down(1.6, 2)
    c.env.run(until=8.9)
    assert c.metadata.commits == [(0.5, "a", 128), (1.0, "a", 128), (1.5, "a", 128)]
    assert not c.brokers[5].fenced
    c.env.run(until=9.9)
    assert c.metadata.commits[3:] == [(9.0, "a", 128)]
    assert of(c, BrokerFenced) == [BrokerFenced(1.25, 1, "b", False),
                                   BrokerFenced(9.25, 5, "a", True)]
    assert [b.fenced for b in c.brokers] == [False, False, True, False, True, True]
    assert not c.brokers[3].unclean_restart
    assert c.counters_ == {"brokers_fenced": 1}


def test_a_broker_restarted_within_its_session_registers_only_once_it_expired():
    # Broker 1 (b, phase 0.75: heard at 0.875, 2.875, ...) restarts at 3.0 s, its old
    # session (from 2.875) valid until 11.875: Kafka's controller refuses the new
    # incarnation's registration until then (DuplicateBrokerRegistrationException), so
    # its heartbeats do not count, it is not electable, and the session's expiry fences
    # it (the 12.0 s check, committed at 12.25); its next heartbeat (12.875) registers
    # it again: unfenced by the 13.0 s check's commit (13.25).
    p = part(0, [1, 0], [1], leader=None)
    c = Cluster(parts=[p]).start()
    c.env.run(until=3.0)
    c.brokers[1].refused_until = c.brokers[1].last_heartbeat + 9.0
    assert c.brokers[1].refused_until == 11.875
    assert not c.controller.elect(p, "offline partition")   # 0 is not in the ISR
    c.env.run(until=11.9)
    assert not c.brokers[1].fenced and c.brokers[1].last_heartbeat == 2.875
    c.env.run(until=14.0)
    assert of(c, BrokerFenced) == [BrokerFenced(12.25, 1, "b", True),
                                   BrokerFenced(13.25, 1, "b", False)]
    assert p.leader == 1   # elected once registered (the 13.25 commit's elections)


def test_a_replica_back_from_an_unclean_restart_leaves_the_isr_and_elr_with_elr_on():
    # KIP-966: broker 3 re-registers at the 0.5 s check (heard at 0.375), committed at
    # 0.75 s: out of partition 0's ISR, out of 2's ELR; still in 1's ISR, which it leads;
    # partition 3 never had it in its ISR or ELR
    def parts():
        return [part(0, [0, 3, 2]), part(1, [3, 0, 2], [3, 0], leader=3),
                part(2, [2, 3, 0], [2], leader=2, elr=[3]), part(3, [0, 2, 3], [0, 2])]

    c = Cluster([*BROKERS, ("b", 0.25)], parts(), elr=True).start()
    c.brokers[3].unclean_restart = True
    c.env.run(until=1.9)
    assert [(sorted(p.isr), sorted(p.elr)) for p in c.parts] == [
        ([0, 2], []), ([0, 3], []), ([2], []), ([0, 2], [])]
    assert c.calls == [("state", 0.75, 0, 0, [0, 2], "unclean restart")]
    assert not c.brokers[3].unclean_restart
    # without ELR it only re-registers
    c = Cluster([*BROKERS, ("b", 0.25)], parts()).start()
    c.brokers[3].unclean_restart = True
    c.env.run(until=1.9)
    assert [(sorted(p.isr), sorted(p.elr)) for p in c.parts] == [
        ([0, 2, 3], []), ([0, 3], []), ([2], [3]), ([0, 2], [])]
    assert c.calls == [] and not c.brokers[3].unclean_restart


# =================================================================== elections
def test_fencing_shrinks_isrs_and_elects_from_them_and_offline_partitions_wait():
    # broker 1 is down from the start: fenced by the 9.0 s check (0 + 9), committed at
    # 9.25. Broker 2 is back from an unclean restart: not eligible until re-registered
    # by the 1.5 s check (heard at 1.25), committed at 1.75, when partition 4 (offline,
    # ISR {2}) elects it. At 9.25: 0 (ISR 0, 1) drops 1; 1 (led by 1) drops 1 and elects
    # 2, its first live ISR member; 2 (ISR {1} alone) keeps 1 (KRaft never empties an
    # ISR without ELR) and goes offline; 3 has nothing fenced.
    parts = [part(0, [0, 1]), part(1, [1, 2, 0]), part(2, [1, 0], [1]), part(3, [0, 2]),
             part(4, [2, 0], [2], leader=None)]
    c = Cluster(parts=parts).start()
    c.down(0, 1)
    c.brokers[2].unclean_restart = True
    c.env.run(until=11.0)
    assert c.metadata.commits == [(1.5, "a", 128), (9.0, "a", 128)]
    assert c.calls == [
        ("state", 1.75, 4, 2, [2], "offline partition"), ("advance_hw", 1.75, 4),
        ("rewire", 1.75),
        ("state", 9.25, 0, 0, [0], "fenced replica left the ISR"), ("advance_hw", 9.25, 0),
        ("state", 9.25, 1, 2, [0, 2], "leader fenced"), ("advance_hw", 9.25, 1),
        ("state", 9.25, 2, None, [1], "leader fenced"),
        ("rewire", 9.25)]
    assert [p.epoch for p in parts] == [0, 1, 1, 0, 1]
    assert [p.offline_since for p in parts] == [None, None, 9.25, None, None]
    assert c.counters_["leader_changes"] == 3 and c.counters_["unclean_elections"] == 0


def test_an_offline_partition_elects_an_unfenced_replica_of_its_isr_even_if_down():
    # broker 2, the ISR of the offline partition, is down over 0.2-2.2 s (not long
    # enough to be fenced). Kafka's controller knows brokers by heartbeats only
    # (``isAcceptableLeader``: unfenced), so the first check, at 0.5 s, elects it while
    # it is down; nothing else to commit. A fenced broker is never elected.
    c = Cluster(parts=[part(0, [2, 0], [2], leader=None)]).start()
    c.down(0.2, 2)
    at(c, 2.2, lambda: setattr(c.brokers[2], "alive", True))
    c.env.run(until=4.0)
    assert c.metadata.commits == []
    assert c.calls == [("state", 0.5, 0, 2, [2], "offline partition"),
                       ("advance_hw", 0.5, 0), ("rewire", 0.5)]
    fenced = Cluster(parts=[part(0, [2, 0], [2], leader=None)]).start()
    fenced.brokers[2].fenced = True
    fenced.down(0, 2)
    fenced.env.run(until=4.0)
    assert fenced.calls == [] and fenced.parts[0].leader is None


def test_a_leader_elected_while_down_truncates_nothing_until_it_is_back():
    # partition 0 (replicas 1, 2, 0), offline, ISR {1, 2}; broker 1, down but not yet
    # fenced, holds 20 of 30 records, broker 2 all 30. The controller elects 1 (the
    # first unfenced ISR member): nothing is truncated, since followers truncate to a
    # leader's log only when it answers them. If 2 is elected next (1 fenced), the log
    # stays whole; if 1 comes back still leading, the log is cut at its 20.
    for back in (False, True):
        p = part(0, [1, 2, 0], [1, 2], leader=None)
        with_rows(p, 10, 10, 10)
        p.leo, p.hw = {1: 20, 2: 30, 0: 10}, 20
        c = Cluster(parts=[p])
        c.down(0, 1)
        assert c.controller.elect(p, "offline partition")
        assert p.leader == 1 and p.log_end == 30
        if back:
            c.brokers[1].alive = True
            c.controller.leader_back(p)
            assert (p.log_end, p.leo[2]) == (20, 20)
            assert ("truncate", 0.0, 0, 20, "election onto a shorter log") in c.calls
        else:
            c.brokers[1].fenced = True
            assert c.controller.elect(p, "leader fenced")
            assert (p.leader, p.log_end, p.leo[2]) == (2, 30, 30)
            assert not [call for call in c.calls if call[0] == "truncate"]


def test_with_elr_fenced_replicas_below_min_isr_become_eligible_and_can_lead():
    # min ISR 2 except partition 4 (1). Broker 2 destroyed at 0.2 and broker 1 down
    # from the start, neither ever heard: both fenced by the 9.0 s check (one commit of
    # two records, landing at 9.25). A fenced replica leaves the ISR even when it is
    # the last member. Kafka's ``PartitionChangeBuilder.maybePopulateTargetElr``: when
    # a change leaves the ISR below min ISR, the old ISR and ELR less the new ISR are
    # eligible, all the replicas one change removes (observers never), destroyed ones
    # too (the controller cannot know; a fenced replica is never elected).
    parts = [part(0, [0, 1, 2], min_isr=2), part(1, [0, 2], min_isr=2),
             part(2, [1, 0, 2], [1], elr=[0], min_isr=2),
             part(3, [0], [0, 1], observers=[1], min_isr=2), part(4, [0, 1], min_isr=1)]
    c = Cluster(parts=parts, elr=True).start()
    c.down(0, 1)
    c.down(0.2, 2, destroyed=True)
    c.env.run(until=11.0)
    assert c.metadata.commits == [(9.0, "a", 256)]
    fenced_left = "fenced replica left the ISR"
    assert c.calls == [
        ("state", 9.25, 0, 0, [0], fenced_left), ("advance_hw", 9.25, 0),
        ("state", 9.25, 1, 0, [0], fenced_left), ("advance_hw", 9.25, 1),
        # the ISR empties and 1 joins the ELR; 0, eligible, leads (a clean election)
        # as the ISR's only member and leaves the ELR, where 1 stays (KIP-966)
        ("state", 9.25, 2, 0, [0], "leader fenced"), ("advance_hw", 9.25, 2),
        ("state", 9.25, 3, 0, [0], fenced_left), ("advance_hw", 9.25, 3),
        ("state", 9.25, 4, 0, [0], fenced_left), ("advance_hw", 9.25, 4),
        ("rewire", 9.25)]
    assert [sorted(p.elr) for p in parts] == [[1, 2], [2], [1], [], []]
    assert c.counters_["unclean_elections"] == 0


def test_unclean_elections_take_the_first_live_replica_after_each_interval():
    # every 5 s. Broker 1 is down and fenced from the start; partitions 0 (replicas 1,
    # 2, 0) and 1 (1, 0) are offline with ISR {1}: no clean candidate. At 5.0 s one
    # commit of two records fails (counted at 5.25); at 10.0 s it succeeds at 10.25: 0
    # elects 2, whose log ends at 20 of 30 (truncated there), 1 elects 0; each ISR
    # becomes the new leader alone. At 15 s nothing is offline.
    p0 = part(0, [1, 2, 0], [1], leader=None)
    with_rows(p0, 10, 10, 10)
    p0.leo, p0.hw = {1: 30, 2: 20, 0: 10}, 20
    p1 = part(1, [1, 0], [1], leader=None)
    c = Cluster(parts=[p0, p1, part(2, [0, 2])], unclean_interval=5.0)
    c.start()
    c.env.process(c.controller.run_unclean_elections())
    c.down(0, 1)
    c.brokers[1].fenced = True
    c.metadata.ok = False
    at(c, 5.1, lambda: setattr(c.metadata, "ok", True))
    c.env.run(until=16.0)
    assert c.metadata.commits == [(5.0, "a", 256), (10.0, "a", 256)]
    assert c.counters_["controller_commit_failures"] == 1
    assert c.counters_["unclean_elections"] == 2
    assert c.calls == [
        ("truncate", 10.25, 0, 20, "election onto a shorter log"),
        ("state", 10.25, 0, 2, [2], "unclean election"), ("advance_hw", 10.25, 0),
        ("state", 10.25, 1, 0, [0], "unclean election"), ("advance_hw", 10.25, 1),
        ("rewire", 10.25)]
    assert (p0.log_end, p0.hw, p0.leo) == (20, 20, {1: 20, 2: 20, 0: 10})


def test_an_unclean_pass_elects_an_eligible_replica_cleanly():
    # ELR on, min ISR 2: partition 0 is offline with an empty ISR and ELR {0, 1};
    # broker 1 is down and fenced. An election that may be unclean still takes 0 from
    # the ELR first, and that election is clean: not counted, ISR {0}, 1 stays eligible.
    p = part(0, [1, 0], [], leader=None, elr=[0, 1], min_isr=2)
    c = Cluster(parts=[p], elr=True)
    c.down(0, 1)
    c.brokers[1].fenced = True
    assert c.controller.elect(p, "offline partition", unclean=True)
    assert c.calls == [("state", 0.0, 0, 0, [0], "offline partition"), ("advance_hw", 0.0, 0)]
    assert (p.elr, p.epoch, c.counters_["unclean_elections"]) == ({1}, 1, 0)


def test_no_unclean_election_while_the_quorum_is_unavailable():
    # the same offline partition; the quorum is unavailable at 5.0 s (4.9-5.1)
    c = Cluster(parts=[part(0, [1, 0], [1], leader=None)], unclean_interval=5.0)
    c.env.process(c.controller.run_unclean_elections())
    c.down(0, 1)
    at(c, 4.9, lambda: setattr(c.metadata, "up", False))
    at(c, 5.1, lambda: setattr(c.metadata, "up", True))
    c.env.run(until=9.0)
    assert c.metadata.commits == []
    c.env.run(until=11.0)
    assert c.metadata.commits == [(10.0, "a", 128)]


def test_an_election_answers_or_orphans_waiting_produces_and_keeps_the_hw_within_the_log():
    # brokers 1 (alive, its heartbeats lost) and 2 (down) are both last heard at 0:
    # fenced together at 9.0 s (256 bytes), committed at 9.25. Partition 0's old leader
    # 1 is alive: it answers its waiting produce NOT_LEADER (maybe written); partition
    # 1's old leader 2 is down: its waiting produce is orphaned. Both elect 0: on 0 the
    # new leader holds the whole log (20 of 20, the HW stays 10); on 1 it holds 10 of 20,
    # so the log is cut at 10.
    p0, p1 = part(0, [1, 0]), part(1, [2, 0])
    rows0, rows1 = with_rows(p0, 10, 10), with_rows(p1, 10, 10)
    p0.leo, p0.hw = {1: 20, 0: 20}, 10
    p1.leo, p1.hw = {2: 20, 0: 10}, 10
    p0.pending, p1.pending = [(rows0[1], 8.0)], [(rows1[1], 8.5)]
    c = Cluster(parts=[p0, p1]).start()
    c.net.lost.add(("b", "a"))
    c.down(0, 2)
    c.env.run(until=10.0)
    assert c.metadata.commits == [(9.0, "a", 256)]
    assert c.calls == [
        ("fail", [rows0[1]], NOT_LEADER, True),
        ("state", 9.25, 0, 0, [0], "leader fenced"), ("advance_hw", 9.25, 0),
        ("orphan", [(rows1[1], 8.5)]),
        ("truncate", 9.25, 1, 10, "election onto a shorter log"),
        ("state", 9.25, 1, 0, [0], "leader fenced"), ("advance_hw", 9.25, 1),
        ("rewire", 9.25)]
    assert (p0.hw, p0.log_end, p1.hw, p1.log_end) == (10, 20, 10, 10)
    assert p0.pending == [] and p1.pending == []
    assert p0.caught_up[0] == p1.caught_up[0] == 9.25


def test_electing_a_leader_that_is_still_the_first_candidate_changes_nothing():
    # a leader restarted cleanly (geosim.kafka.faults) is asked to elect again: it is
    # still the first live ISR member, so nothing moves and the answer is False
    p = part(0, [0, 1, 2])
    c = Cluster(parts=[p])
    assert c.controller.elect(p, "leader restarted") is False
    assert (p.leader, p.epoch, c.calls) == (0, 0, [])
    c.brokers[0].unclean_restart = True     # an unclean restart is not eligible
    assert c.controller.elect(p, "leader restarted") is True
    assert (p.leader, p.epoch) == (1, 1)


# ====================================================== the real stretch cluster
def test_a_zone_down_is_fenced_broker_by_broker_at_the_checks_after_the_session():
    # stretch-3-regions: brokers 2 and 3 in us-west2-a, phases 2 s x frac(k x 0.618034):
    # 0.472 and 1.708 s; the zone stops at 5 s. Broker 3's last heartbeat left at
    # 3.708 s, broker 2's at 4.472 s, each arriving at the controller (us-west1-a, the
    # quorum's preferred region) half a us-west2/us-west1 round trip later (a few ms):
    # their sessions end just after 12.708 and 13.472 s, so the checks at 13.0 and
    # 13.5 s fence them, one record each from the controller's zone, each committed
    # within a round trip to us-west3 (the majority without us-west2)
    c = cluster_of("stretch-3-regions", until=5.0)
    commits: list = []
    commit = c.metadata.commit

    def recording(zone, size, done, **kw):
        commits.append((c.env.now, zone, size))
        commit(zone, size, done, **kw)

    c.metadata.commit = recording
    c.zone_state("us-west2-a", up=False)
    c.env.run(until=13.4)
    assert commits == [(13.0, "us-west1-a", 128)]
    assert [b.fenced for b in c.brokers] == [False, False, False, True, False, False]
    c.env.run(until=14.0)
    assert commits[1:] == [(13.5, "us-west1-a", 128)]
    assert [b.fenced for b in c.brokers] == [False, False, True, True, False, False]
