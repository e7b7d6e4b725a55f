"""Replicator's timestamp translation (geosim.kafka.timestamp_translation), worked by
hand: record timestamps spread over a row, the interceptor's consumed timestamp, the
destination lookup (Kafka's offsetsForTimes), and the translator's loop on a SimPy
clock with a recording network."""

from __future__ import annotations

from types import SimpleNamespace

import simpy

from geosim.core.events import Row, TranslationAvailable
from geosim.kafka.offset_sync import FETCH_REQUEST_BYTES
from geosim.kafka.partition import PartitionState
from geosim.kafka.timestamp_translation import (
    TimestampOffsets,
    consumed_timestamp,
    offset_for_time,
    record_timestamp,
)
from geosim.kafka.wire import ACK_BYTES, CHECKPOINT_BYTES


def row(offset: int, records: int, first: float, last: float) -> Row:
    return Row(fleet=0, partition=0, seq=0, records=records, bytes_uncompressed=records,
               bytes_compressed=records, send_first=first, send_last=last, offset=offset)


def log(*rows: Row, pid: int = 0) -> PartitionState:
    p = PartitionState(pid, [0])
    for r in rows:
        p.append(r, 0.0)
    return p


# Offsets 0-4 at 1.0, 1.25, 1.5, 1.75, 2.0; 5 at 3.0 (one record: its last send);
# 6-9 all at 4.0; 10-12 at 5.0, 5.5, 6.0.
ROWS = (row(0, 5, 1.0, 2.0), row(5, 1, 2.5, 3.0), row(6, 4, 4.0, 4.0), row(10, 3, 5.0, 6.0))


def test_a_rows_records_are_stamped_evenly_from_its_first_to_its_last_send():
    r0, r1, r2, r3 = ROWS
    assert [record_timestamp(r0, o) for o in range(5)] == [1.0, 1.25, 1.5, 1.75, 2.0]
    assert record_timestamp(r1, 5) == 3.0
    assert record_timestamp(r2, 8) == 4.0
    assert record_timestamp(r3, 12) == 6.0
    two = row(20, 2, 7.0, 8.0)
    assert (record_timestamp(two, 20), record_timestamp(two, 21)) == (7.0, 8.0)


def test_the_consumed_timestamp_is_that_of_the_record_before_the_committed_offset():
    p = log(*ROWS)
    assert consumed_timestamp(p, 0) is None        # nothing consumed
    assert consumed_timestamp(p, 1) == 1.0
    assert consumed_timestamp(p, 5) == 2.0
    assert consumed_timestamp(p, 6) == 3.0
    assert consumed_timestamp(p, 13) == 6.0
    assert consumed_timestamp(p, 14) is None       # beyond the log
    pruned = log(*ROWS[1:])                        # offsets 0-4 no longer held
    assert consumed_timestamp(pruned, 3) is None
    assert consumed_timestamp(pruned, 5) is None   # offset 4, the last pruned
    assert consumed_timestamp(pruned, 0) is None
    assert consumed_timestamp(pruned, 6) == 3.0


def test_the_lookup_finds_the_first_offset_stamped_at_or_after_the_time_below_upto():
    p = log(*ROWS)
    assert [offset_for_time(p, t, 13) for t in (0.5, 1.0, 1.3, 1.5, 2.0, 2.2, 3.0)] == [
        0, 0, 2, 2, 4, 5, 5]
    assert [offset_for_time(p, t, 13) for t in (3.5, 4.0, 5.2, 5.5, 6.0, 6.5)] == [
        6, 6, 11, 11, 12, None]
    assert offset_for_time(p, 5.2, 10) is None     # offset 10 on are not below upto
    assert offset_for_time(p, 1.3, 0) is None
    two = log(row(0, 2, 7.0, 8.0))
    assert offset_for_time(two, 7.5, 2) == 1


class Net:
    """Records every round trip; those to a zone in ``down`` are lost."""

    def __init__(self, down=()):
        self.down = set(down)
        self.sent: list[tuple] = []

    def round_trip(self, a, z, request, response, purpose, *, stream=None):
        self.sent.append((a, z, request, response, purpose))
        return None if z in self.down else 0.002


def group(subscription: int, *committed: int) -> SimpleNamespace:
    return SimpleNamespace(subscription=subscription,
                           partitions=[SimpleNamespace(committed=c) for c in committed])


def translator(net: Net, groups: list, *, target_leader: str | None = "dst-b"):
    """A Replicator flow of two partitions, running in ``dst-a``, copying into the
    destination's partitions 2 and 3 (its base is 2): source partition 0's log is
    ROWS, partition 1's one row at offsets 0-9 (sent 1.0 to 5.5); the destination's
    partition 2 holds copies of ROWS' first three rows (its HW at 10), partition 3
    nothing (its partition 1, another flow's, all of ROWS)."""
    env = simpy.Environment()
    events: list = []
    source = SimpleNamespace(zones=["src-a"], leader_zone=lambda _p: "src-b",
                             parts=[log(*ROWS), log(row(0, 10, 1.0, 5.5), pid=1)])
    target = SimpleNamespace(zones=["dst-a", "dst-c"],
                             leader_zone=lambda p: target_leader if p == 2 else "dst-x",
                             parts=[log(), log(*ROWS, pid=1), log(*ROWS[:3], pid=2),
                                   log(pid=3)])
    for part in target.parts:
        part.hw = part.log_end      # lookups go up to the high watermark
    owner = SimpleNamespace(groups_on=lambda cluster: groups if cluster is source else [],
                            ctx=SimpleNamespace(recorder=SimpleNamespace(emit=events.append)))
    flow = SimpleNamespace(env=env, net=net, n=2, base=2, source=source, target=target,
                           zone="dst-a", stopped=False, owner=owner, name="west->central",
                           translating=lambda: True)
    return TimestampOffsets(flow), env, events


def test_each_period_translates_every_groups_offsets_and_announces_the_first():
    net = Net()
    # group 1 committed 6 of partition 0 (its last record, offset 5, at 3.0) and 5 of
    # partition 1 (offset 4, at 3.0); group 2 committed 2 (offset 1, at 1.25) and 0
    t, env, events = translator(net, [group(1, 6, 5), group(2, 2, 0)])
    env.process(t.run_checkpoints(10.0))
    env.run(until=25.0)
    # partition 0: 3.0 is offset 5 in the destination, 1.25 is offset 1; partition 1's
    # destination (partition 3) holds nothing yet: no mark
    assert t.checkpoints == {1: [(6, 5), None], 2: [(2, 1), None]}
    assert t.translations == 4                     # two periods, two marks each
    assert t.first_checkpoint == 10.0
    assert [(type(e), e.t, e.flow) for e in events] == [
        (TranslationAvailable, 10.0, "west->central")]
    read = ("dst-a", "src-b", FETCH_REQUEST_BYTES, CHECKPOINT_BYTES * 2 * 2, "mirror")
    commit = ("dst-a", "dst-b", CHECKPOINT_BYTES * 2 * 2, ACK_BYTES, "mirror")
    assert net.sent == [read, commit, read, commit]
    # the destination keeps its rows from the lowest mark; a partition without one
    # from 0; none at all without checkpoints
    assert (t.target_hold(0), t.target_hold(1)) == (1, 0)
    assert t.start_marks(1) == [(6, 5), None] and t.start_marks(3) is None
    assert t.upstream_of(0, 5) is None


def test_no_mark_no_announcement_and_the_destinations_first_zone_without_a_leader():
    net = Net()
    t, env, events = translator(net, [group(1, 0, 0)], target_leader=None)
    env.process(t.run_checkpoints(10.0))
    env.run(until=15.0)
    assert t.checkpoints == {1: [None, None]} and t.translations == 0
    assert t.first_checkpoint is None and events == []
    assert net.sent[1][1] == "dst-a"               # the commit to the first zone
    assert t.target_hold(0) == 0
    fresh, _env, _events = translator(Net(), [])
    assert fresh.target_hold(0) == float("inf")


def test_a_lost_commit_keeps_the_previous_marks_and_a_stopped_flow_stops():
    net = Net()
    groups = [group(1, 6, 5)]
    t, env, _events = translator(net, groups)
    process = env.process(t.run_checkpoints(10.0))
    env.run(until=15.0)
    assert t.checkpoints == {1: [(6, 5), None]}
    groups[0].partitions[0].committed = 13          # consumed further
    net.down.add("dst-b")                           # the commit is lost
    env.run(until=25.0)
    assert t.checkpoints == {1: [(6, 5), None]}
    t.flow.stopped = True
    net.down.clear()
    env.run(until=45.0)
    assert not process.is_alive and t.checkpoints == {1: [(6, 5), None]}
