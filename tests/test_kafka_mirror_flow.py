"""A replication flow's fetch loop, copies, acknowledgements and task restarts
(geosim.kafka.mirror_flow), exact, on a SimPy clock against recording stand-ins.

The flow copies the source cluster's region ``src`` into ``dst``; it runs in ``dst``'s
first zone, ``t-a``. Every message's one-way delay is set by the zone at the far end
from ``t-a``: 10 ms to ``s-a``, 30 ms to ``s-b`` (source leader zones), 1 ms within
``t-a`` and 2 ms to ``t-b`` (target leader zones), whatever its size; the source's
partitions are led in ``s-a`` unless a test says otherwise. The target's copies of
source partitions 0 and 1 are its partitions 2 and 3 (``target_base`` 2), led in
``t-a`` and ``t-b``. So an unloaded cycle from ``s-a`` is a 10 ms request, 10 ms
response, then 1 ms for the copies to reach the target: a row committed at the source
at 0 reaches the target at 0.021. The target assigns MirrorMaker 2's copies (offset -1)
the log end, keeps a Cluster Linking copy's offset, and acknowledges at once unless a
test says otherwise.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace
from types import SimpleNamespace

import pytest
import simpy

from geosim.core.events import MirrorCopied, Row
from geosim.kafka.mirror_config import MirrorConfig
from geosim.kafka.mirror_flow import MirrorFlow
from geosim.kafka.wire import FETCH_PARTITION_BYTES, FETCH_REQUEST_BYTES, OFFSET_SYNC_BYTES

HOME = "t-a"
ONE_WAY = {"s-a": 0.010, "s-b": 0.030, "t-a": 0.001, "t-b": 0.002}
BASE = 2
MM2 = MirrorConfig()
LINK = MirrorConfig(offset_preserving=True)


def at(t: float) -> float:
    return round(t, 9)


def row(offset: int, records: int, nbytes: int, partition: int = 0) -> Row:
    return Row(0, partition, 0, records, nbytes, nbytes, 0.0, 0.0, offset=offset)


def rows(*sizes: tuple[int, int]) -> list[Row]:
    """Consecutive rows of (records, bytes) from offset 0."""
    out, offset = [], 0
    for records, nbytes in sizes:
        out.append(row(offset, records, nbytes))
        offset += records
    return out


class Net:
    """Records every message as (time, from, to, bytes); a message from or to a zone in
    ``down``, or over a pair in ``cut``, is lost. Round trips are 20 ms."""

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.down: set[str] = set()
        self.cut: set[tuple[str, str]] = set()
        self.sent: list[tuple] = []

    def delay(self, a: str, z: str, size: int, purpose: str, *,
              stream: str | None = None) -> float | None:
        assert purpose == "mirror"
        self.sent.append((at(self.env.now), a, z, size))
        if a in self.down or z in self.down or (a, z) in self.cut:
            return None
        return ONE_WAY[a if z == HOME else z]

    def is_down(self, zone: str) -> bool:
        return zone in self.down

    def rtt_estimate(self, _a: str, _z: str) -> float:
        return 0.020

    def link_bandwidth(self, _a: str, _z: str) -> None:
        return None


class Source:
    """The source cluster: per partition, its committed rows and leader zone; records
    each read as (time, partition, start, budget)."""

    region = "src"

    def __init__(self, env, logs, leaders, live_brokers):
        self.env = env
        self.logs = logs
        self.leaders = leaders
        self.live_brokers = live_brokers
        self.holds: list = []
        self.appended: dict[str, simpy.Event] = {}
        self.asks: list[tuple] = []
        self.parts = [SimpleNamespace(hw=0) for _ in logs]
        self.produce = SimpleNamespace(appended_event=self.appended.get)
        self.reads = SimpleNamespace(committed_rows=self.committed_rows)

    def leader_zone(self, i: int) -> str | None:
        return self.leaders.get(i, "s-a")

    def live_brokers_in(self, _zone: str) -> int:
        return self.live_brokers

    def committed_rows(self, i: int, start: int, budget: int) -> list[Row]:
        # as a leader serves them: from the row holding ``start``, at least one row,
        # at most ``budget`` bytes
        self.asks.append((at(self.env.now), i, start, budget))
        out, size = [], 0
        for r in self.logs[i]:
            if r.offset + r.records <= start:
                continue
            if out and size + r.bytes_compressed > budget:
                break
            out.append(r)
            size += r.bytes_compressed
        return out


class Target:
    """The target cluster: records each copy's arrival as (time, partition, offset as
    sent, records, attempts); refuses the first ``refuse`` arrivals."""

    region = "dst"

    def __init__(self, env, leaders, log_end, refuse, ack):
        self.env = env
        self.leaders = leaders
        self.ends: defaultdict[int, int] = defaultdict(lambda: log_end)
        self.refuse = refuse
        self.ack = ack
        self.holds: list = []
        self.arrivals: list[tuple] = []
        self.copies: list[Row] = []
        self.flow: MirrorFlow | None = None
        self.produce = SimpleNamespace(append_mirrored=self.append_mirrored)

    def leader_zone(self, p: int) -> str | None:
        return self.leaders.get(p)

    def append_mirrored(self, copies: list[Row]) -> list[Row]:
        refused = []
        for copy in copies:
            self.arrivals.append((at(self.env.now), copy.partition, copy.offset,
                                  copy.records, copy.attempts))
            if self.refuse:
                self.refuse -= 1
                refused.append(copy)
                continue
            if copy.offset < 0:
                copy.offset = self.ends[copy.partition]
            self.ends[copy.partition] = copy.offset + copy.records
            self.copies.append(copy)
            if self.ack:
                self.flow.acked(copy)
        return refused


class Rig:
    """A flow between the stand-ins, its processes not started."""

    def __init__(self, cfg=MM2, *, logs=None, leaders=None, live_brokers=1,
                 target_leaders=None, log_end=0, refuse=0, ack=True, window=None,
                 pending=False, topics=(), flow_type=MirrorFlow):
        self.env = env = simpy.Environment()
        self.net = Net(env)
        self.events: list = []
        logs = logs if logs is not None else [[]]
        self.source = Source(env, logs, leaders or {}, live_brokers)
        self.target = Target(env, target_leaders or {2: "t-a", 3: "t-b"}, log_end, refuse,
                             ack)
        world = SimpleNamespace(
            topology=SimpleNamespace(zones={"dst": ["t-a", "t-b"]}.get,
                                     spec=SimpleNamespace(tcp_window=window)),
            workload=SimpleNamespace(topics=list(topics)))
        owner = SimpleNamespace(env=env, net=self.net, world=world, partitions=len(logs),
                                failover=SimpleNamespace(failover_pending=lambda _c: pending),
                                ctx=SimpleNamespace(recorder=SimpleNamespace(
                                    emit=self.events.append)))
        self.flow = flow_type(owner, 0, self.source, self.target, BASE, cfg)
        self.target.flow = self.flow

    def start(self, *, commits: bool = False) -> Rig:
        self.env.process(self.flow.run())
        if commits:
            self.env.process(self.flow.run_commits())
        return self

    def run(self, until: float) -> Rig:
        self.env.run(until=until)
        return self

    def later(self, t: float, fn) -> None:
        """Call ``fn()`` at ``t``."""
        def proc():
            yield self.env.timeout(t - self.env.now)
            fn()
        self.env.process(proc())

    def copied(self) -> list[tuple]:
        return [(at(e.t), e.partition, e.upstream_end, e.downstream_end, e.records, e.bytes)
                for e in self.events if isinstance(e, MirrorCopied)]


def request(t: float, zone: str, partitions: int) -> tuple:
    return (t, HOME, zone, FETCH_REQUEST_BYTES + FETCH_PARTITION_BYTES * partitions)


def response(t: float, zone: str, nbytes: int) -> tuple:
    return (t, zone, HOME, nbytes + FETCH_REQUEST_BYTES)


def produced(rig: Rig) -> list[tuple]:
    """The messages from the fetcher to the target's leaders."""
    return [m for m in rig.net.sent if m[1] == HOME and m[2].startswith("t-")]


# --- the fetch cycle ----------------------------------------------------------------

def two_zones(cfg: MirrorConfig = MM2, **kw) -> Rig:
    """Partition 0 (rows of 5 records, 100 bytes each, twice) led in s-a; partition 1
    (one row of 3 records, 50 bytes) led in s-b; fetch.max.bytes 1000."""
    return Rig(replace(cfg, fetch_max_bytes=1000),
               logs=[rows((5, 100), (5, 100)), [row(0, 3, 50, partition=1)]],
               leaders={0: "s-a", 1: "s-b"}, **kw)


def test_a_fetch_cycle_waits_for_the_slowest_zone_then_produces_the_copies():
    # Requests at 0 reach s-a at 0.010 and s-b at 0.030: both answer at the slower,
    # 0.030; their responses (200 and 50 bytes of rows, plus the header) take 10 and
    # 30 ms, so the copies leave at 0.060, grouped by target leader zone, and arrive
    # at 0.061 (t-a) and 0.062 (t-b). The next cycle's requests leave at once.
    rig = two_zones(ack=False).start().run(0.065)
    assert rig.net.sent == [
        request(0.0, "s-a", 1), request(0.0, "s-b", 1),
        response(0.03, "s-a", 200), response(0.03, "s-b", 50),
        (0.06, HOME, "t-a", 200), (0.06, HOME, "t-b", 50),
        request(0.06, "s-a", 1), request(0.06, "s-b", 1)]
    assert rig.source.asks == [(0.03, 0, 0, 1000), (0.03, 1, 0, 1000)]
    # MirrorMaker 2's copies carry no offset (-1): the target appends them at its end
    assert rig.target.arrivals == [(0.061, 2, -1, 5, 0), (0.061, 2, -1, 5, 0),
                                   (0.062, 3, -1, 3, 0)]
    assert [r.partition for r in rig.target.copies] == [2, 2, 3]
    assert [st.position for st in rig.flow.parts] == [10, 3]


def test_cluster_linking_copies_keep_the_source_offsets():
    rig = Rig(LINK, logs=[rows((5, 100), (4, 100))], log_end=99, ack=False).start().run(0.03)
    assert rig.target.arrivals == [(0.021, 2, 0, 5, 0), (0.021, 2, 5, 4, 0)]


@pytest.mark.parametrize(("fetch_max_bytes", "tasks", "live_brokers", "partitions", "share"), [
    (1000, 2, 3, 2, 3000),   # 1000 a connection, 2 tasks x 3 brokers, halved
    (1000, 1, 0, 3, 333),    # no live broker counts as one connection; whole bytes
    (1000, 1, 1, 1, 1000),   # one partition takes it all
    (2, 1, 1, 3, 1),         # at least a byte each
])
def test_each_partition_asked_of_a_zone_gets_an_even_share_of_its_response_budget(
        fetch_max_bytes, tasks, live_brokers, partitions, share):
    rig = Rig(MirrorConfig(fetch_max_bytes=fetch_max_bytes, tasks=tasks),
              logs=[[] for _ in range(partitions)], live_brokers=live_brokers)
    rig.start().run(0.011)
    assert rig.net.sent == [request(0.0, "s-a", partitions)]
    assert rig.source.asks == [(0.01, i, 0, share) for i in range(partitions)]


def test_partitions_of_topics_not_mirrored_are_never_asked_for():
    topics = [SimpleNamespace(mirror=True, ids=(0, 2)), SimpleNamespace(mirror=False, ids=(1,))]
    rig = Rig(MirrorConfig(fetch_max_bytes=1000), logs=[[], [], []], topics=topics)
    rig.start().run(0.011)
    assert rig.net.sent == [request(0.0, "s-a", 2)]
    assert rig.source.asks == [(0.01, 0, 0, 500), (0.01, 2, 0, 500)]


def test_without_any_leader_the_flow_asks_again_after_the_request_timeout():
    rig = Rig(MirrorConfig(request_timeout=2.0), logs=[rows((5, 100))], leaders={0: None})
    rig.later(1.0, lambda: rig.source.leaders.update({0: "s-a"}))
    rig.start().run(2.05)
    assert rig.net.sent[:2] == [request(2.0, "s-a", 1), response(2.01, "s-a", 100)]
    assert rig.target.arrivals == [(2.021, 2, -1, 5, 0)]


def test_a_lost_request_is_sent_again_after_the_request_timeout():
    rig = Rig(MirrorConfig(request_timeout=2.0), logs=[rows((5, 100))])
    rig.net.cut.add((HOME, "s-a"))
    rig.later(1.0, rig.net.cut.clear)
    rig.start().run(2.05)
    assert rig.net.sent[:3] == [request(0.0, "s-a", 1), request(2.0, "s-a", 1),
                                response(2.01, "s-a", 100)]
    assert rig.source.asks[0] == (2.01, 0, 0, 52428800)


def test_a_zone_whose_request_is_lost_is_left_out_of_the_cycle():
    # s-b's request is lost: the cycle asks s-a only, and is as slow as s-a
    rig = two_zones(ack=False)
    rig.net.cut.add((HOME, "s-b"))
    rig.start().run(0.025)
    assert rig.source.asks == [(0.01, 0, 0, 1000)]
    assert rig.target.arrivals == [(0.021, 2, -1, 5, 0), (0.021, 2, -1, 5, 0)]


def test_a_lost_response_fails_the_whole_fetch_and_it_is_asked_again_after_the_timeout():
    # s-b's response (at 0.030) is lost: nothing of s-a's is copied either; the next
    # cycle starts at 0.030 + 2.0 and asks from the same positions.
    rig = two_zones(MirrorConfig(request_timeout=2.0))
    rig.net.cut.add(("s-b", HOME))
    rig.later(1.0, rig.net.cut.clear)
    rig.start().run(2.1)
    assert rig.source.asks == [(0.03, 0, 0, 1000), (0.03, 1, 0, 1000),
                               (2.06, 0, 0, 1000), (2.06, 1, 0, 1000)]
    assert rig.target.arrivals == [(2.091, 2, -1, 5, 0), (2.091, 2, -1, 5, 0),
                                   (2.092, 3, -1, 3, 0)]


def test_with_nothing_new_the_source_holds_the_fetch_for_fetch_max_wait():
    # empty at 0.010: asked again 0.5 s later, answered (a bare header) at 0.520
    rig = Rig(logs=[[]]).start().run(0.53)
    assert rig.source.asks == [(0.01, 0, 0, 52428800), (0.51, 0, 0, 52428800)]
    assert rig.net.sent == [request(0.0, "s-a", 1), response(0.51, "s-a", 0),
                            request(0.52, "s-a", 1)]


def test_an_append_at_the_source_ends_the_wait():
    # the leader zone's append at 0.2 wakes the held fetch: the row is read at 0.2
    # and reaches the target at 0.2 + 0.010 + 0.001
    rig = Rig(logs=[[]])
    event = rig.source.appended["s-a"] = rig.env.event()

    def append():
        rig.source.logs[0].append(row(0, 5, 100))
        event.succeed()
    rig.later(0.2, append)
    rig.start().run(0.25)
    assert rig.source.asks[:2] == [(0.01, 0, 0, 52428800), (0.2, 0, 0, 52428800)]
    assert rig.target.arrivals == [(0.211, 2, -1, 5, 0)]


@pytest.mark.parametrize(("tasks", "arrival"), [
    # 250 bytes over one 100-byte window: two windows beyond the first, each a 20 ms
    # round trip: the response takes 10 + 40 ms
    (1, 0.061),
    (3, 0.021),   # three connections' windows hold it: no wait
])
def test_a_response_beyond_the_connections_windows_waits_a_round_trip_per_window(
        tasks, arrival):
    rig = Rig(MirrorConfig(tasks=tasks), logs=[rows((5, 250))], window=100)
    rig.start().run(0.07)
    assert rig.target.arrivals == [(arrival, 2, -1, 5, 0)]


@pytest.mark.parametrize("zone", ["s-a", HOME])
def test_a_response_whose_source_or_fetcher_went_down_on_the_way_is_dropped(zone):
    rig = Rig(logs=[rows((5, 100))])
    rig.later(0.015, lambda: rig.net.down.add(zone))
    rig.start().run(0.5)
    assert rig.target.arrivals == [] and rig.flow.parts[0].position == 0


# --- the task: its worker's zone going down and up ------------------------------------

def test_a_response_reaching_a_dead_worker_is_lost_and_the_restarted_task_fetches_again():
    # the worker dies at 0.015, during the response's trip: nothing is produced; it
    # restarts at 0.05 from its last commit (0) and fetches the row again
    rig = Rig(logs=[rows((5, 100))])
    rig.later(0.015, lambda: rig.flow.worker_state(False))
    rig.later(0.05, lambda: rig.flow.worker_state(True))
    rig.start().run(0.049)
    assert rig.net.sent == [request(0.0, "s-a", 1), response(0.01, "s-a", 100)]
    rig.run(0.08)
    assert rig.source.asks == [(0.01, 0, 0, 52428800), (0.06, 0, 0, 52428800)]
    assert rig.target.arrivals == [(0.071, 2, -1, 5, 0)]
    assert rig.flow.task_restarts == 1


def test_a_fetch_answered_after_its_task_restarted_is_lost_with_the_old_task():
    # One row a fetch (fetch.max.bytes 100). The second fetch reads from 5 at 0.030;
    # the worker goes down at 0.032 and up at 0.035, so the new task starts from the
    # last commit, 0; the answer (at 0.040) belonged to the old task and is dropped.
    # The new task reads 0..5 again (a duplicate, arriving at 0.061), then 5..10.
    rig = Rig(MirrorConfig(fetch_max_bytes=100), logs=[rows((5, 100), (5, 100))])
    rig.later(0.032, lambda: rig.flow.worker_state(False))
    rig.later(0.035, lambda: rig.flow.worker_state(True))
    rig.start().run(0.1)
    assert [(t, start) for t, _i, start, _budget in rig.source.asks[:4]] == [
        (0.01, 0), (0.03, 5), (0.05, 0), (0.07, 5)]
    assert [a[0] for a in rig.target.arrivals] == [0.021, 0.061, 0.081]
    st = rig.flow.parts[0]
    assert (st.position, st.acked, st.copied, st.ahead) == (10, 10, 10, {})
    assert rig.flow.duplicate_records == 5


@pytest.mark.parametrize("how", ["worker down", "stopped"])
def test_copies_reaching_the_target_after_the_flow_stopped_are_not_appended(how):
    rig = Rig(logs=[rows((5, 100))])
    if how == "stopped":
        rig.later(0.0205, lambda: setattr(rig.flow, "stopped", True))
    else:
        rig.later(0.0205, lambda: rig.flow.worker_state(False))
    rig.start().run(0.1)
    assert rig.target.arrivals == []


def test_a_worker_restarted_before_the_flow_ever_waited_for_it_just_restarts():
    rig = Rig(logs=[rows((5, 100))])
    rig.flow.worker_state(False)
    rig.flow.worker_state(True)
    rig.flow.worker_state(True)   # already running: no second restart
    assert rig.flow.alive and rig.flow.task_restarts == 1
    rig.start().run(0.03)
    assert rig.target.arrivals == [(0.021, 2, -1, 5, 0)]


def restarted(cfg: MirrorConfig) -> Rig:
    """Four rows of 5 records (100 bytes), one a fetch (fetch.max.bytes 100): their
    copies are acknowledged at 0.021, 0.041, 0.061; the task commits every 0.045 s (at
    0.045 the acknowledged end is 10; at 0.09 its worker is down); the worker goes
    down at 0.07 (the fourth row's response, at 0.080, is lost) and up at 0.1."""
    rig = Rig(replace(cfg, fetch_max_bytes=100, offset_flush_interval=0.045),
              logs=[rows((5, 100), (5, 100), (5, 100), (5, 100))])
    rig.later(0.07, lambda: rig.flow.worker_state(False))
    rig.later(0.1, lambda: rig.flow.worker_state(True))
    return rig.start(commits=True)


def test_a_restarted_mm2_task_copies_again_from_its_last_commit():
    # From the commit at 0.045 (upstream 10): the third row is written again (a
    # duplicate, ending at 15 = the copied end), the fourth for the first time; the
    # commit at 0.135 takes the acknowledged end, 15.
    rig = restarted(MirrorConfig()).run(0.17)
    flow = rig.flow
    assert [a[0] for a in rig.target.arrivals] == [0.021, 0.041, 0.061, 0.121, 0.141]
    assert (flow.duplicate_records, flow.duplicate_bytes) == (5, 100)
    assert (flow.copied_bytes, flow.rows_mirrored, flow.task_restarts) == (400, 5, 1)
    st = flow.parts[0]
    assert (st.position, st.acked, st.copied, st.committed) == (20, 20, 20, 15)
    assert rig.copied()[3:] == [(0.121, 0, 15, 20, 5, 100), (0.141, 0, 20, 25, 5, 100)]


def test_a_restarted_mm2_task_syncs_its_first_copy_at_once():
    # offset.lag.max 100: after the first sync (5, 5) each sync waits for a commit
    # ((10, 10) at 0.045); the new task's first copy (15, 20) syncs at once, at 0.121
    rig = restarted(MirrorConfig()).run(0.13)
    assert list(rig.flow.offsets.parts[0].syncs) == [(5, 5), (10, 10), (15, 20)]
    syncs = [m for m in rig.net.sent if m[3] == OFFSET_SYNC_BYTES]
    assert syncs == [(0.021, HOME, "s-a", OFFSET_SYNC_BYTES),
                     (0.045, HOME, "s-a", OFFSET_SYNC_BYTES),
                     (0.121, HOME, "s-a", OFFSET_SYNC_BYTES)]


def test_a_restarted_cluster_link_resumes_from_what_its_target_holds():
    rig = restarted(LINK).run(0.2)
    flow = rig.flow
    assert rig.target.arrivals == [(0.021, 2, 0, 5, 0), (0.041, 2, 5, 5, 0),
                                   (0.061, 2, 10, 5, 0), (0.121, 2, 15, 5, 0)]
    assert (flow.duplicate_records, flow.rows_mirrored, flow.task_restarts) == (0, 4, 1)
    assert (flow.parts[0].acked, flow.parts[0].copied) == (20, 20)


# --- acknowledgements ----------------------------------------------------------------

def test_acknowledgements_advance_in_upstream_order():
    # Two copies appended at target offsets 7 and 12 (the target held 7 records): the
    # second acknowledged first waits for the first; then both are emitted in order.
    rig = Rig(logs=[rows((5, 100), (5, 100))], log_end=7, ack=False).start().run(0.03)
    first, second = rig.target.copies
    flow, st = rig.flow, rig.flow.parts[0]
    flow.acked(second)
    assert (st.acked, st.copied, rig.copied()) == (0, 0, [])
    flow.acked(first)
    assert rig.copied() == [(0.03, 0, 5, 12, 5, 100), (0.03, 0, 10, 17, 5, 100)]
    assert (st.acked, st.copied, flow.rows_mirrored, flow.copied_bytes) == (10, 10, 2, 200)
    assert list(flow.offsets.parts[0].pairs) == [(5, 12), (10, 17)]
    flow.acked(first)                     # answered twice: counted once
    assert len(rig.copied()) == 2 and flow.rows_mirrored == 2


def test_rows_the_flow_does_not_copy_are_passed_over_once_the_copies_before_are_acked():
    class SkipThrees(MirrorFlow):
        def copies(self, r: Row) -> bool:
            return r.records != 3

    # rows 0..5 (copied), 5..8 (passed over), 8..13 (copied): the target gets two
    # copies (at 0 and 5) and the acknowledged end passes 8 without an emission
    rig = Rig(logs=[rows((5, 100), (3, 60), (5, 100))], flow_type=SkipThrees)
    rig.start().run(0.03)
    assert rig.target.arrivals == [(0.021, 2, -1, 5, 0), (0.021, 2, -1, 5, 0)]
    assert rig.copied() == [(0.021, 0, 5, 5, 5, 100), (0.021, 0, 13, 10, 5, 100)]
    st = rig.flow.parts[0]
    assert (st.position, st.acked, st.copied, rig.flow.rows_mirrored) == (13, 13, 13, 2)


def test_mm2_skips_a_batch_the_source_rewrote_below_its_position():
    # Copied to 10; then the source's log is rewritten from 5 (an unclean election):
    # 8 records at 5..13. The held fetch reads it at 0.53: the records are counted
    # diverged, the acknowledged end moves past them (13), nothing is copied.
    rig = Rig(logs=[rows((5, 100), (5, 100))]).start()
    rig.later(0.1, lambda: rig.source.logs[0].__setitem__(1, row(5, 8, 100)))
    rig.run(0.6)
    st = rig.flow.parts[0]
    # read at 0.53, answered at 0.54; the next fetch asks from 13
    assert rig.source.asks[-2:] == [(0.53, 0, 10, 52428800), (0.55, 0, 13, 52428800)]
    assert rig.flow.diverged_records == 8
    assert (st.position, st.acked, st.copied) == (13, 13, 13)
    assert len(rig.target.arrivals) == 2 and len(rig.copied()) == 2


def test_a_cluster_link_stops_mirroring_a_partition_whose_source_log_diverged():
    # The same rewrite under a mirror topic, which keeps the source's offsets: the
    # diverged batch is counted once and the partition is asked for no more (the
    # mirror topic's truncation that would resume it is not modelled), nor is the row
    # after it in the same answer (13..18) copied past the gap.
    rig = Rig(LINK, logs=[rows((5, 100), (5, 100))]).start()
    rig.later(0.1, lambda: rig.source.logs[0].extend([row(5, 8, 100), row(13, 5, 100)]) or
              rig.source.logs[0].pop(1))
    rig.run(1.6)
    st = rig.flow.parts[0]
    assert rig.source.asks[-1] == (0.53, 0, 10, 52428800)
    assert (rig.flow.diverged_records, rig.flow.halted) == (8, {0})
    assert (st.position, st.acked, st.copied) == (10, 10, 10)
    assert len(rig.target.arrivals) == 2


# --- produce failures and retries -----------------------------------------------------

def test_a_refused_copy_is_sent_again_after_a_doubling_backoff_capped_at_a_second():
    # refused 5 times: resent 0.1, 0.2, 0.4, 0.8, then 1.0 (not 1.6) s after each
    # refusal, each trip 1 ms
    rig = Rig(logs=[rows((5, 100))], refuse=5).start().run(3.0)
    assert rig.target.arrivals == [(0.021, 2, -1, 5, 0), (0.122, 2, -1, 5, 1),
                                   (0.323, 2, -1, 5, 2), (0.724, 2, -1, 5, 3),
                                   (1.525, 2, -1, 5, 4), (2.526, 2, -1, 5, 5)]
    assert rig.flow.produce_retries == 5
    assert rig.copied() == [(2.526, 0, 5, 5, 5, 100)]


def test_a_copy_without_a_target_leader_is_retried():
    rig = Rig(logs=[rows((5, 100))], target_leaders={2: None})
    rig.later(0.05, lambda: rig.target.leaders.update({2: "t-a"}))
    rig.start().run(0.2)
    assert produced(rig) == [(0.12, HOME, "t-a", 100)]
    assert rig.target.arrivals == [(0.121, 2, -1, 5, 1)]
    assert rig.flow.produce_retries == 1


def test_a_copy_lost_on_the_way_to_the_target_is_retried():
    rig = Rig(logs=[rows((5, 100))])
    rig.net.cut.add((HOME, "t-a"))
    rig.later(0.05, rig.net.cut.clear)
    rig.start().run(0.2)
    assert produced(rig) == [(0.02, HOME, "t-a", 100), (0.12, HOME, "t-a", 100)]
    assert rig.target.arrivals == [(0.121, 2, -1, 5, 1)]


@pytest.mark.parametrize("how", ["worker down", "stopped"])
def test_a_copy_failing_after_the_flow_stopped_is_not_retried(how):
    rig = Rig(logs=[rows((5, 100))], ack=False).start().run(0.03)
    if how == "stopped":
        rig.flow.stopped = True
    else:
        rig.flow.worker_state(False)
    rig.flow.failed(rig.target.copies[0], "request timed out")
    rig.run(1.0)
    assert rig.flow.produce_retries == 0 and len(rig.target.arrivals) == 1


def test_a_retry_due_after_the_task_restarted_is_not_sent():
    # refused at 0.021 (resend due at 0.121); the worker dies at 0.05 and restarts at
    # 0.06 from its last commit (0) while the fetch loop holds its next fetch (0.03 to
    # 0.53); that fetch reads from the new position, 0, so the row's copy arrives
    # again at 0.541; the old resend is dropped
    rig = Rig(logs=[rows((5, 100))], refuse=1)
    rig.later(0.05, lambda: rig.flow.worker_state(False))
    rig.later(0.06, lambda: rig.flow.worker_state(True))
    rig.start().run(0.6)
    assert rig.target.arrivals == [(0.021, 2, -1, 5, 0), (0.541, 2, -1, 5, 0)]


# --- retention and progress ----------------------------------------------------------

@pytest.mark.parametrize(("cfg", "committed", "copied", "hold"), [
    (MirrorConfig(), 0, 0, 0),       # a new flow needs everything
    (MirrorConfig(), 4, 9, 4),       # a restarted MM2 task reads from its last commit
    (LINK, 4, 9, 9),                 # a cluster link from what its target holds
])
def test_the_source_keeps_what_a_restarted_task_would_read(cfg, committed, copied, hold):
    rig = Rig(cfg, logs=[[], []])
    st = rig.flow.parts[0]
    st.committed, st.copied = committed, copied
    [source_hold] = rig.source.holds
    assert source_hold(0) == hold
    assert source_hold(2) == math.inf          # not a partition of the flow's topic
    rig.flow.stopped = True
    assert source_hold(0) == math.inf


@pytest.mark.parametrize(("pending", "checkpoints", "expected"), [
    (False, {}, [math.inf, math.inf, math.inf, math.inf]),
    # before failover a target partition without checkpoints keeps everything
    (True, {}, [math.inf, 0, 0, math.inf]),
    (True, {1: [(12, 8), (3, 2)]}, [math.inf, 8, 2, math.inf]),
])
def test_the_target_keeps_what_a_failed_over_group_may_start_from(pending, checkpoints,
                                                                  expected):
    rig = Rig(logs=[[], []], pending=pending)
    rig.flow.offsets.checkpoints = checkpoints
    [target_hold] = rig.target.holds
    assert [target_hold(pid) for pid in (1, 2, 3, 4)] == expected


@pytest.mark.parametrize(("hw", "caught_up"), [(10, True), (11, False)])
def test_caught_up_when_the_target_holds_all_the_source_committed(hw, caught_up):
    topics = [SimpleNamespace(mirror=True, ids=(0,)), SimpleNamespace(mirror=False, ids=(1,))]
    rig = Rig(logs=[[], []], topics=topics)
    rig.source.parts[0].hw, rig.source.parts[1].hw = hw, 50   # 1 is never mirrored
    rig.flow.parts[0].copied = 10
    assert rig.flow.caught_up() is caught_up
