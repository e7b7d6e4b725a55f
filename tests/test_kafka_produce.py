"""The produce path of a Kafka cluster (geosim.kafka.produce), request by request, on a
SimPy clock against a recording stand-in for the cluster: routing, the send clock,
requests through the network seam (in order per connection, timed out when lost or
slower than ``request.timeout.ms``), the leaders' append (NotLeaderOrFollower,
NotEnoughReplicas, out-of-order and duplicate rows, acks), the mirror path, answers
and the timeouts of waiting requests.

The stand-in's numbers: zones ``a``, ``b``, ``c`` (zone index 0, 1, 2); brokers 0 and 1
in ``a``, 2 in ``b``, 3 in ``c``; one-way delays 0.25 s within a zone, 1.0 s between
``a`` and ``b``, 2.0 s to or from ``c`` (a test may plan the next delays of a
direction, ``None`` for a loss); ``request.timeout.ms`` 30 s; a send tick of 0.5 s.
The real :class:`PartitionState`, :class:`Broker` and :class:`PartitionLog` (offsets,
idempotence) are used; replication, shared storage, consumer groups, fleets and a
mirror flow's sink record what they are told.
"""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

import pytest
import simpy

from geosim.clients.producer import OUT_OF_ORDER
from geosim.core.events import Row
from geosim.kafka.broker import Broker
from geosim.kafka.idempotence import PartitionLog
from geosim.kafka.partition import PartitionState
from geosim.kafka.placement import BrokerInfo
from geosim.kafka.produce import (
    DISCONNECTED,
    NEVER_ARRIVED,
    NOT_ENOUGH,
    NOT_LEADER,
    ProducePath,
)
from geosim.kafka.wire import ACK_BYTES

TICK = 0.5
TIMEOUT = 30.0
ONE_WAY = {("a", "a"): 0.25, ("b", "b"): 0.25, ("c", "c"): 0.25,
           ("a", "b"): 1.0, ("b", "a"): 1.0,
           ("a", "c"): 2.0, ("c", "a"): 2.0, ("b", "c"): 2.0, ("c", "b"): 2.0}


class Network:
    """The network seam: records every message as (t, src, dst, bytes, purpose)."""

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.sent: list = []
        self.planned: defaultdict[tuple[str, str], list] = defaultdict(list)
        self.cut: set[tuple[str, str]] = set()
        self.down: set[str] = set()

    def delay(self, src, dst, size, purpose, *, stream=None, queued=True):
        self.sent.append((self.env.now, src, dst, size, purpose))
        planned = self.planned[(src, dst)]
        return planned.pop(0) if planned else ONE_WAY[(src, dst)]

    def reachable(self, src, dst) -> bool:
        return (src, dst) not in self.cut

    def is_down(self, zone) -> bool:
        return zone in self.down


class Fleet:
    """A producer fleet: ``plan[(now, target)]`` is what its drain returns (a list of
    requests); every call is recorded in the cluster's ``answers`` with the fleet's id."""

    def __init__(self, c: Cluster, zone: str, acks: str = "1", plan=None, retries: int = 0):
        self.env, self.log = c.env, c.answers
        self.id = len(c.fleets)
        self.zone = zone
        self.alive = True
        self.settings = SimpleNamespace(acks=acks)
        self.plan = plan or {}
        self.pending_retries = retries
        self.done = False  # what finished() answers
        c.fleets.append(self)

    def finished(self):
        return self.done

    def route(self, table, *, connections):
        self.log.append(("route", self.id, table, connections))

    def drain(self, target, now, *, report=True):
        self.log.append(("drain", self.id, now, target, report))
        return self.plan.get((now, target), [])

    def report(self):
        self.log.append(("report", self.id, self.env.now))

    def acked(self, rows, at):
        self.log.append(("acked", self.id, self.env.now, rows, at))

    def failed(self, rows, reason, *, written_maybe):
        self.log.append(("failed", self.id, self.env.now, rows, reason, written_maybe))

    def silent(self, target):
        self.log.append(("silent", self.id, self.env.now, target))
        return 7

    def heard_from(self, target, token=None):
        self.log.append(("heard", self.id, self.env.now, target, token))

    def expire_retries(self):
        self.log.append(("expire_retries", self.id, self.env.now))


class Sink:
    """A mirror flow's sink: (answer, t, offset[, reason])."""

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.answers: list = []

    def acked(self, row: Row) -> None:
        self.answers.append(("acked", self.env.now, row.offset))

    def failed(self, row: Row, reason: str) -> None:
        self.answers.append(("failed", self.env.now, row.offset, reason))


class Cluster:
    """What the produce path uses of a cluster. ``calls`` records ("touch", t, pid),
    ("advance_hw", t, pid), ("group", pid, offset, object id) and ("stored", t, rows)."""

    def __init__(self, parts, *, storage: bool = False, local: int | None = None):
        self.env = simpy.Environment()
        self.net = Network(self.env)
        self.name = "cluster"
        self.zones = ["a", "b", "c"]
        self.zone_index = {"a": 0, "b": 1, "c": 2}
        self.send_tick, self.request_timeout = TICK, TIMEOUT
        self.brokers = [Broker(BrokerInfo(i, z, z, z), 0.0) for i, z in enumerate("aabc")]
        self.parts = list(parts)
        self.local_partitions = len(self.parts) if local is None else local
        self.fleets: list[Fleet] = []
        self.producing = self.fleets
        self.answers: list = []
        self.counters_: defaultdict[str, int] = defaultdict(int)
        self.log = PartitionLog(len(self.parts))
        self.calls: list = []
        # appends as the replica fetches' long polls hear of them: (t, partition);
        # an append also turns the partition's fetch items hot (a "touch" call)
        self.appends: list = []

        def appended(p) -> None:
            self.calls.append(("touch", self.env.now, p.id))
            self.appends.append((self.env.now, p.id))
        self.replication = SimpleNamespace(
            advance_hw=lambda p: self.calls.append(("advance_hw", self.env.now, p.id)),
            touch=lambda p: self.calls.append(("touch", self.env.now, p.id)),
            appended=appended)
        self.storage = SimpleNamespace(
            appended=lambda rows: self.calls.append(("stored", self.env.now, list(rows)))
        ) if storage else None
        self.groups = [SimpleNamespace(appended=lambda row, object_id: self.calls.append(
            ("group", row.partition, row.offset, object_id)))]
        self.mirror_sinks = [Sink(self.env)]
        self.produce = ProducePath(self)

    def wire(self) -> None:
        """Each zone's live leaders, as the cluster's rewiring lists them."""
        self.produce.leaders_by_zone = {
            z: [p for p in self.parts if p.leader is not None
                and self.brokers[p.leader].alive and self.brokers[p.leader].zone == z]
            for z in self.zones}

    def start(self) -> Cluster:
        self.wire()
        self.produce.start()
        return self


def part(pid: int, replicas: list[int], isr=None, *, min_isr: int = 1) -> PartitionState:
    p = PartitionState(pid, replicas, None, min_isr)
    if isr is not None:
        p.isr = set(isr)
    return p


def row(pid: int, seq: int = 0, records: int = 10, nbytes: int = 100, *, fleet: int = 0,
        mirror: int = -1, offset: int = -1) -> Row:
    return Row(fleet, pid, seq, records, nbytes, nbytes, 0.0, 0.0, offset=offset,
               mirror=mirror)


def sent_once(c: Cluster, fleet_zone: str, requests, *, acks: str = "1",
              until: float = 3.0) -> Fleet:
    """A fleet in ``fleet_zone`` whose first tick (0.5 s) sends ``requests`` to the
    leaders in zone a (target 0); the clock runs to ``until``."""
    fleet = Fleet(c, fleet_zone, acks, {(TICK, 0): requests})
    c.start()
    c.env.run(until=until)
    return fleet


def answers(c: Cluster, *kinds: str) -> list:
    return [a for a in c.answers if a[0] in kinds]


# ============================================================================ routing

def test_attached_fleets_route_each_zones_local_partitions_over_one_connection_a_leader():
    # Partitions 0-2 are local (3-5 hold mirrored copies). Zone a: p0, p1 led by broker
    # 0 and p3 by broker 1: target 0 takes [0, 1] over 1 connection (broker 1 leads only
    # a copy). Zone b: p2, p4 led by broker 2: target 1 takes [2] over 1. Zone c leads
    # only p5, a copy: no entry.
    c = Cluster([part(0, [0]), part(1, [0]), part(2, [2]), part(3, [1]), part(4, [2]),
                 part(5, [3])], local=3)
    c.wire()
    fleet = Fleet(c, "a")
    c.producing = []
    c.produce.attach_fleets([fleet])
    assert c.producing == [fleet]
    assert c.answers == [("route", 0, {0: [0, 1], 1: [2]}, {0: 1, 1: 1})]


def test_detaching_removes_the_fleets_that_write_here_and_ignores_the_others():
    c = Cluster([part(0, [0])])
    f0, f1, f2 = Fleet(c, "a"), Fleet(c, "b"), Fleet(c, "c")
    c.producing = [f0, f1]
    c.produce.detach_fleets([f1, f2])
    assert c.producing == [f0]


# ========================================================================= send clock

def test_each_tick_drains_zone_after_zone_the_live_fleets_that_reach_it_then_reports():
    # Leaders: p0 in a (target 0), p1 in b (target 1), none in c. Fleet 0 (in a)
    # drains a then b; fleet 1 (in b) is cut off from a, so drains only b; fleet 2 is
    # down. Drains do not report; each fleet drained reports once after the tick's
    # sends, at 0.5 and 1.0 s.
    c = Cluster([part(0, [0]), part(1, [2])])
    Fleet(c, "a")
    Fleet(c, "b")
    Fleet(c, "a").alive = False
    c.net.cut.add(("b", "a"))
    c.start()
    c.env.run(until=1.2)
    tick = [("drain", 0, TICK, 0, False), ("drain", 0, TICK, 1, False),
            ("drain", 1, TICK, 1, False), ("report", 0, TICK), ("report", 1, TICK)]
    second = [(a[0], a[1], 1.0, *a[3:]) if a[0] == "drain" else (a[0], a[1], 1.0)
              for a in tick]
    assert c.answers == tick + second


def test_a_fleet_done_producing_is_neither_cut_nor_reported_until_it_has_more():
    # Fleet 1 has nothing left to cut (production over, everything handed out, no
    # retry): the clock skips it, without a report (its counts no longer move), until
    # a retry makes it cut again.
    c = Cluster([part(0, [0])])
    Fleet(c, "a")
    done = Fleet(c, "a")
    done.done = True
    c.start()
    c.env.run(until=0.7)
    assert [a[:2] for a in c.answers] == [("drain", 0), ("report", 0)]
    done.done = False
    c.env.run(until=1.2)
    assert [a[:2] for a in c.answers[2:]] == [("drain", 0), ("drain", 1), ("report", 0),
                                              ("report", 1)]


def test_a_request_crosses_the_network_is_appended_on_arrival_and_acked_a_hop_later():
    # Fleet 0 in b sends p0 (4 records, 100 bytes) and p1 (6, 200) to a at 0.5 s: 300
    # bytes, one way 1.0 s, appended at 1.5 (offsets 0, each leader's LEO its end),
    # acks=1: the 128-byte ack reaches b at 2.5.
    c = Cluster([part(0, [0]), part(1, [0])])
    r0, r1 = row(0, records=4, nbytes=100), row(1, records=6, nbytes=200)
    sent_once(c, "b", [[r0, r1]])
    assert c.net.sent == [(0.5, "b", "a", 300, "produce"), (1.5, "a", "b", ACK_BYTES, "produce")]
    assert (r0.offset, r1.offset) == (0, 0)
    assert [(p.rows, p.times, p.leo[0], p.pending) for p in c.parts] == [
        ([r0], [1.5], 4, []), ([r1], [1.5], 6, [])]
    assert c.calls == [("touch", 1.5, 0), ("group", 0, 0, -1),
                       ("touch", 1.5, 1), ("group", 1, 0, -1)]
    assert answers(c, "acked", "failed") == [("acked", 0, 1.5, [r0, r1], 2.5)]


def test_requests_on_one_connection_arrive_in_the_order_they_were_sent():
    # Two requests to a at 0.5 s: the first takes 3.0 s, the second 1.0 s but waits
    # behind it (TCP keeps the order): both arrive at 3.5, the first's rows first.
    c = Cluster([part(0, [0])])
    first, second = row(0, 0, records=4), row(0, 1, records=6)
    c.net.planned[("b", "a")] = [3.0, 1.0]
    sent_once(c, "b", [[first], [second]], until=4.0)
    p = c.parts[0]
    assert (p.rows, p.times, first.offset, second.offset) == ([first, second], [3.5, 3.5], 0, 4)


@pytest.mark.parametrize("delay, appended", [(30.0, True), (30.25, False), (None, False)])
def test_a_request_arriving_after_the_timeout_or_lost_fails_at_the_timeout(delay, appended):
    # Sent at 0.5 s with request.timeout.ms 30 s: one taking exactly 30 s arrives at
    # 30.5 and is appended (acked at 31.5); one taking longer, or lost, fails at 30.5,
    # never written.
    c = Cluster([part(0, [0])])
    r = row(0)
    c.net.planned[("b", "a")] = [delay]
    sent_once(c, "b", [[r]], until=32.0)
    if appended:
        assert c.parts[0].times == [30.5]
        assert answers(c, "acked", "failed") == [("acked", 0, 30.5, [r], 31.5)]
    else:
        assert c.parts[0].rows == []
        assert answers(c, "acked", "failed") == [
            ("failed", 0, 30.5, [r], NEVER_ARRIVED, False)]


def test_a_request_reaching_a_zone_that_went_down_fails_at_its_timeout():
    # Sent at 0.5 s, it reaches a (down) at 30.0: nothing is appended; the producer
    # still learns only at 0.5 + 30 = 30.5, half a second later.
    c = Cluster([part(0, [0])])
    r = row(0)
    c.net.planned[("b", "a")] = [29.5]
    c.net.down.add("a")
    sent_once(c, "b", [[r]], until=32.0)
    assert c.parts[0].rows == []
    assert answers(c, "acked", "failed") == [("failed", 0, 30.5, [r], NEVER_ARRIVED, False)]


# ============================================================ append events (long polls)

def test_an_append_signal_before_the_start_does_nothing():
    c = Cluster([part(0, [0])])
    c.produce.signal_appended("a")
    assert c.produce.appended_event("a") is None


def test_an_append_wakes_the_waiting_fetches_and_arms_a_new_event_only_if_one_waits():
    c = Cluster([part(0, [0])]).start()
    event = c.produce.appended_event("a")
    c.produce.signal_appended("a")     # nobody waiting: it stays the next one
    assert c.produce.appended_event("a") is event and not event.triggered
    event.callbacks.append(lambda _e: None)
    c.produce.signal_appended("a")
    assert event.triggered and c.produce.appended_event("a") is not event


@pytest.mark.parametrize("leader_alive, woken", [(True, True), (False, False)])
def test_a_request_wakes_the_fetches_only_if_it_appended(leader_alive, woken):
    # Fleet 0 in a sends p0 at 0.5 s; it arrives at 0.75. A dead leader refuses it.
    c = Cluster([part(0, [0])])
    c.brokers[0].alive = leader_alive
    c.start()
    event = c.produce.appended_event("a")
    event.callbacks.append(lambda _e: None)
    Fleet(c, "a", "1", {(TICK, 0): [[row(0)]]})
    c.produce.leaders_by_zone["a"] = c.parts     # as wired before the leader died
    c.env.run(until=1.0)
    assert event.triggered is woken   # the mirror fetches waiting on the zone
    # the replica fetches of the partition: woken per partition appended
    assert c.appends == ([(0.75, 0)] if woken else [])


# ======================================================================= the append

def test_rows_without_a_live_leader_in_the_zone_are_refused_not_leader():
    # The request reaches a: p0 has no leader, p1's leader (broker 2) is in b, p2's
    # (broker 1) is down: refused together, not written; p3's (broker 0) appends.
    parts = [part(0, [0]), part(1, [2]), part(2, [1]), part(3, [0])]
    parts[0].leader = None
    c = Cluster(parts)
    c.brokers[1].alive = False
    rows = [row(pid) for pid in range(4)]
    c.start()
    c.produce.leaders_by_zone["a"] = parts       # as wired before these changes
    Fleet(c, "b", "1", {(TICK, 0): [rows]})
    c.env.run(until=3.0)
    assert answers(c, "acked", "failed") == [
        ("failed", 0, 1.5, rows[:3], NOT_LEADER, False), ("acked", 0, 1.5, [rows[3]], 2.5)]
    assert [len(p.rows) for p in parts] == [0, 0, 0, 1]


@pytest.mark.parametrize("acks, isr, refused", [
    ("all", [0], True),          # ISR 1 < min.insync.replicas 2
    ("all", [0, 1], False),      # ISR 2 = min.insync.replicas: enough
    ("1", [0], False),           # acks=1 does not ask for the ISR
])
def test_acks_all_rows_fail_not_enough_replicas_below_min_insync(acks, isr, refused):
    # Two rows (p0, p1), both led by broker 0 with the same ISR, min.insync.replicas 2:
    # refused one by one, each counted, never written.
    parts = [part(0, [0, 1], isr, min_isr=2), part(1, [0, 1], isr, min_isr=2)]
    c = Cluster(parts)
    rows = [row(0), row(1)]
    sent_once(c, "a", [rows], acks=acks)
    if refused:
        assert answers(c, "acked", "failed") == [("failed", 0, 0.75, [rows[0]], NOT_ENOUGH, False),
                                                ("failed", 0, 0.75, [rows[1]], NOT_ENOUGH, False)]
        assert c.counters_["not_enough_replicas"] == 2
        assert [p.rows for p in parts] == [[], []]
    else:
        assert c.counters_["not_enough_replicas"] == 0
        assert [p.rows for p in parts] == [[rows[0]], [rows[1]]]


@pytest.mark.parametrize("acks, storage, waits", [
    ("all", False, True), ("1", False, False), ("0", False, False),
    ("all", True, True), ("1", True, True), ("0", True, False),
])
def test_acks_all_and_acks_1_on_shared_storage_wait_for_the_commit(acks, storage, waits):
    # p0's ISR is {0, 1}: nothing commits at once. A row that waits is pending from its
    # arrival (0.75 s), unanswered; any other is acked at once (at 0.75 + 0.25).
    c = Cluster([part(0, [0, 1])], storage=storage)
    r = row(0)
    sent_once(c, "a", [[r]], acks=acks)
    p = c.parts[0]
    if waits:
        assert p.pending == [(r, 0.75)] and answers(c, "acked", "failed") == []
    else:
        assert p.pending == [] and answers(c, "acked", "failed") == [("acked", 0, 0.75, [r], 1.0)]


@pytest.mark.parametrize("acks, isr, committed", [
    ("all", [0], True), ("all", [0, 1], False), ("1", [0], False)])
def test_an_acks_all_append_commits_at_once_only_on_a_leader_alone_in_its_isr(
        acks, isr, committed):
    # A row of p0 and one of p1 (same ISR) arrive at 0.75 s: one HW advance each.
    c = Cluster([part(0, [0, 1], isr), part(1, [0, 1], isr)])
    sent_once(c, "a", [[row(0), row(1)]], acks=acks)
    advances = [call for call in c.calls if call[0] == "advance_hw"]
    assert advances == ([("advance_hw", 0.75, 0), ("advance_hw", 0.75, 1)] if committed else [])


def test_out_of_order_rows_are_rejected_and_counted():
    # Fleet 0's first rows of p0 and p1 carry sequence 1: a gap (the first must be 0).
    c = Cluster([part(0, [0]), part(1, [0])])
    rows = [row(0, 1), row(1, 1)]
    sent_once(c, "a", [rows])
    assert answers(c, "acked", "failed") == [("failed", 0, 0.75, rows, OUT_OF_ORDER, False)]
    assert c.counters_["rows_rejected_out_of_order"] == 2


def test_an_acks_all_duplicate_is_acked_once_its_first_copy_is_committed():
    # p0 and p1 each get a 10-record row at 0.75 s (offsets 0-9); by the next tick the
    # HW of p0 is 10 (the row's end: committed) and of p1 9. Both rows are sent again
    # (same sequence, a retry): p0's is acked at once, p1's waits with the first copy.
    parts = [part(0, [0, 1]), part(1, [0, 1])]
    c = Cluster(parts)
    r0, r1 = row(0), row(1)
    fleet = Fleet(c, "a", "all", {(TICK, 0): [[r0, r1]], (1.0, 0): [[r0, r1]]})
    c.start()
    c.env.run(until=0.9)
    parts[0].hw, parts[1].hw = 10, 9
    c.env.run(until=1.5)
    assert answers(c, "acked", "failed") == [("acked", fleet.id, 1.25, [r0], 1.5)]
    assert parts[0].pending == [(r0, 0.75)]
    assert parts[1].pending == [(r1, 0.75), (r1, 1.25)]
    assert [len(p.rows) for p in parts] == [1, 1]


def test_an_acks_1_duplicate_is_acked_with_the_new_rows():
    # p0's row is sent again with a new row of p1: one ack for both, one copy of each.
    c = Cluster([part(0, [0]), part(1, [0])])
    r0, r1 = row(0), row(1)
    Fleet(c, "a", "1", {(TICK, 0): [[r0]], (1.0, 0): [[r1, r0]]})
    c.start()
    c.env.run(until=1.5)
    assert answers(c, "acked")[1] == ("acked", 0, 1.25, [r1, r0], 1.5)
    assert [len(p.rows) for p in c.parts] == [1, 1]


@pytest.mark.parametrize("acks", ["all", "1"])
def test_on_shared_storage_the_leo_waits_for_the_wal_and_nothing_commits_here(acks):
    # p0, alone in its ISR, gets a row at 0.75 s: the log holds it, the leader's LEO
    # stays 0 until the WAL makes it durable (storage.appended); no HW advance, no
    # replication touch; the group sees it.
    c = Cluster([part(0, [0])], storage=True)
    r = row(0)
    sent_once(c, "a", [[r]], acks=acks)
    p = c.parts[0]
    assert (p.rows, p.log_end, p.leo) == ([r], 10, {0: 0})
    assert c.calls == [("group", 0, 0, -1), ("stored", 0.75, [r])]


# ==================================================================== the mirror path

def test_a_copy_is_refused_at_once_without_a_live_leader_or_min_insync_or_past_the_end():
    # p0 has no leader, p1's leader (broker 1) is down, p2's ISR 1 < min ISR 2, p3's
    # copy asks for offset 5 of an empty log; p4's ISR 2 = min ISR 2: appended.
    parts = [part(0, [0]), part(1, [1]), part(2, [0, 1], [0], min_isr=2), part(3, [0]),
             part(4, [0, 1], min_isr=2)]
    parts[0].leader = None
    c = Cluster(parts)
    c.brokers[1].alive = False
    rows = [row(0, mirror=0), row(1, mirror=0), row(2, mirror=0), row(3, mirror=0, offset=5),
            row(4, mirror=0)]
    assert c.produce.append_mirrored(rows) == rows[:4]
    assert c.counters_["not_enough_replicas"] == 1
    assert [len(p.rows) for p in parts] == [0, 0, 0, 0, 1]


def test_a_copy_asking_for_an_offset_is_answered_if_held_appended_at_the_end():
    # p0 holds two 10-record copies (offsets 0-19), HW 10. A copy asking for offset 0
    # (ends at 10 <= HW) is acked at once; for 10 (ends at 20, the log end) it waits for
    # the commit; for 20 (the end) 5 records are appended, the next offset now 25.
    c = Cluster([part(0, [0, 2])])
    c.produce.append_mirrored([row(0, mirror=0), row(0, mirror=0)])
    p = c.parts[0]
    p.hw, p.pending = 10, []
    c.env.run(until=1.0)
    at0, at10, at20 = (row(0, mirror=0, offset=o, records=r) for o, r in
                       ((0, 10), (10, 10), (20, 5)))
    assert c.produce.append_mirrored([at0, at10, at20]) == []
    assert c.mirror_sinks[0].answers == [("acked", 1.0, 0)]
    assert p.pending == [(at10, 1.0), (at20, 1.0)]
    assert (p.rows[2:], p.log_end, c.log.next_offset[0]) == ([at20], 25, 25)


def test_copies_appended_at_the_end_wait_for_the_hw_and_wake_their_zones_fetches():
    # At 2.0 s a copy of p0 (led in a) and one of p1 (led in b), no offset asked: each
    # at its log end (0), pending, one HW advance per partition, both zones' waiting
    # fetches woken.
    c = Cluster([part(0, [0, 2]), part(1, [2, 0])]).start()
    events = [c.produce.appended_event(z) for z in ("a", "b", "c")]
    for event in events:
        event.callbacks.append(lambda _e: None)
    c.env.run(until=2.0)
    r0, r1 = row(0, mirror=0), row(1, mirror=0)
    assert c.produce.append_mirrored([r0, r1]) == []
    assert (r0.offset, r1.offset, c.log.next_offset) == (0, 0, [10, 10])
    assert [p.pending for p in c.parts] == [[(r0, 2.0)], [(r1, 2.0)]]
    assert c.calls == [("touch", 2.0, 0), ("group", 0, 0, -1), ("touch", 2.0, 1),
                       ("group", 1, 0, -1), ("advance_hw", 2.0, 0), ("advance_hw", 2.0, 1)]
    assert [e.triggered for e in events] == [True, True, False]


def test_a_copy_on_shared_storage_goes_to_the_wal():
    c = Cluster([part(0, [0])], storage=True)
    r = row(0, mirror=0)
    c.produce.append_mirrored([r])
    assert c.parts[0].leo == {0: 0}
    assert c.calls == [("group", 0, 0, -1), ("stored", 0.0, [r]), ("advance_hw", 0.0, 0)]


# ========================================================================== answers

@pytest.mark.parametrize("delay, answer", [
    (1.0, ("acked", 0, 2.0, "rows", 3.0)),
    (30.0, ("acked", 0, 2.0, "rows", 32.0)),        # exactly the timeout: in time
    (30.25, ("failed", 0, 32.0, "rows", "request timed out", True)),
    (None, ("failed", 0, 2.0, "rows", "ack lost", True)),
])
def test_an_ack_reaches_its_fleet_a_hop_later_unless_lost_or_slower_than_the_timeout(
        delay, answer):
    # The leaders in a answer fleet 0 (in b) at 2.0 s; a lost or late ack leaves the
    # outcome unknown (maybe written).
    c = Cluster([part(0, [0])])
    Fleet(c, "b")
    rows = [row(0)]
    c.net.planned[("a", "b")] = [delay]
    c.env.run(until=2.0)
    c.produce.ack("a", rows)
    c.env.run(until=40.0)
    assert c.net.sent == [(2.0, "a", "b", ACK_BYTES, "produce")]
    assert c.answers == [tuple(rows if x == "rows" else x for x in answer)]


def test_answers_go_to_each_writing_fleet_and_copies_to_their_flows_sink():
    # Rows of fleets 0 (in a) and 1 (in b) and a copy of flow 0: acked, each fleet hears
    # a hop later (0.25 and 1.0 s), the sink at once; failed, every one at once.
    c = Cluster([part(0, [0])])
    Fleet(c, "a")
    Fleet(c, "b")
    mine, theirs, copy = row(0, fleet=0), row(0, fleet=1), row(0, mirror=0, offset=7)
    c.produce.ack("a", [mine, copy, theirs])
    c.produce.fail([theirs, copy, mine], "boom", written_maybe=False)
    assert c.answers == [("acked", 0, 0.0, [mine], 0.25), ("acked", 1, 0.0, [theirs], 1.0),
                         ("failed", 1, 0.0, [theirs], "boom", False),
                         ("failed", 0, 0.0, [mine], "boom", False)]
    assert c.mirror_sinks[0].answers == [("acked", 0.0, 7), ("failed", 0.0, 7, "boom")]


# ========================================================================== timeouts

def test_a_zone_back_from_an_outage_resets_what_waited_on_it():
    """Zone a goes down at 1 s: its fleets are told nothing (``silent``; the fleet
    hears at request.timeout.ms, 31 s, unless sooner). A request sent at 0.5 s reaches
    it down at 2 s (lost), and rows orphaned by its dead leaders wait; orphans of
    another zone too. When a comes back at 10 s, before either timeout, its hosts reset
    the connections: the lost request fails as never written, its orphans as maybe
    written, the fleets hear from it; the other zone's orphan still waits; the lost
    request's own timer (30.5 s) then finds nothing to do."""
    c = Cluster([part(0, [0])])
    lost, mine, other = row(0, 0), row(0, 1), row(0, 2)
    c.net.planned[("b", "a")] = [1.5]
    sent_once(c, "b", [[lost]], until=1.0)
    c.net.down.add("a")
    c.produce.zone_silent("a")
    c.produce.orphan([(mine, 0.8)], "a")
    c.produce.orphan([(other, 0.9)], "c")
    c.env.run(until=10.0)
    c.net.down.discard("a")
    c.produce.zone_back("a")
    c.env.run(until=31.5)
    c.produce.time_out()
    assert answers(c, "failed", "silent", "heard") == [
        ("silent", 0, 1.0, 0),
        ("failed", 0, 10.0, [lost], DISCONNECTED, False),
        ("failed", 0, 10.0, [mine], DISCONNECTED, True),
        ("heard", 0, 10.0, 0, None),
        ("heard", 0, 31.0, 0, 7),
        ("failed", 0, 31.5, [other], "request timed out", True)]


def test_orphaned_requests_time_out_request_timeout_after_they_were_sent():
    # Orphaned requests of 1.0 and 2.0 s: at 31.0 the first has waited 30 s, exactly
    # request.timeout.ms (expired), the second 29 s (kept until 32.0).
    c = Cluster([part(0, [0])])
    Fleet(c, "a")
    first, second = row(0, 0), row(0, 1)
    c.produce.orphan([(first, 1.0), (second, 2.0)])
    for t in (30.5, 31.0, 31.5, 32.0, 32.5):
        c.env.run(until=t)
        c.produce.time_out()
    assert c.answers == [("failed", 0, 31.0, [first], "request timed out", True),
                         ("failed", 0, 32.0, [second], "request timed out", True)]


def test_requests_waiting_for_the_hw_time_out_request_timeout_after_they_arrived():
    # p1 waits for rows that arrived at 1.0 and 2.0 s (p0 waits for none): the first
    # expires at 31.0, the second at 32.0; each fails, maybe written.
    c = Cluster([part(0, [0]), part(1, [0])])
    Fleet(c, "a")
    first, second = row(1, 0), row(1, 1)
    c.parts[1].pending = [(first, 1.0), (second, 2.0)]
    for t in (30.5, 31.0, 31.5, 32.0, 32.5):
        c.env.run(until=t)
        c.produce.time_out()
        if t == 31.0:
            assert c.parts[1].pending == [(second, 2.0)]
    assert c.answers == [("failed", 0, 31.0, [first], "request timed out", True),
                         ("failed", 0, 32.0, [second], "request timed out", True)]
    assert c.parts[1].pending == []


def test_the_timeout_sweep_expires_retries_of_fleets_holding_some():
    c = Cluster([part(0, [0])])
    Fleet(c, "a", retries=2)
    Fleet(c, "b", retries=0)
    c.env.run(until=5.0)
    c.produce.time_out()
    assert c.answers == [("expire_retries", 0, 5.0)]

