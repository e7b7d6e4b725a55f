"""Offset translation across a replication flow (geosim.kafka.offset_sync), exact.

Hand-built copy logs: each ``copied(i, u_end, d_end)`` says the target acknowledged the
copy of source partition ``i`` up to upstream offset ``u_end``, ending at ``d_end``
there. MirrorMaker 2 translates a committed offset through the offset syncs its
``OffsetSyncStore`` still holds (tests/test_kafka_offset_sync_store.py); Cluster Linking
keeps offsets, capped at what it mirrored.
"""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace

import pytest
import simpy

from geosim.core.events import TranslationAvailable
from geosim.core.offset_pairs import map_offset
from geosim.kafka.offset_sync import OffsetSyncs
from geosim.kafka.wire import CHECKPOINT_BYTES, FETCH_REQUEST_BYTES, OFFSET_SYNC_BYTES


def syncs_of(*, offset_preserving: bool = False, offset_lag_max: int = 100,
             copied: int = 0, sync_group_offsets: bool = False) -> OffsetSyncs:
    """An OffsetSyncs over a one-partition flow whose offset-syncs topic is always
    reachable (no leader zone: nothing crosses the network)."""
    cfg = SimpleNamespace(offset_preserving=offset_preserving, offset_lag_max=offset_lag_max,
                          sync_group_offsets=sync_group_offsets)
    flow = SimpleNamespace(cfg=cfg, env=None, net=None, n=1,
                           source=SimpleNamespace(leader_zone=lambda _p: None),
                           parts=[SimpleNamespace(copied=copied)])
    return OffsetSyncs(flow)


PAIRS = deque([(10, 4), (20, 9), (30, 15)])  # (upstream end, downstream end), newest last


@pytest.mark.parametrize(("offset", "expected"), [
    (0, 0), (9, 0),            # below every pair: from the start of the target
    (10, 4), (11, 4), (19, 4),  # a pair's own offset maps; one past it does not move
    (20, 9), (29, 9), (30, 15), (10_000, 15),
])
def test_forward_mapping_is_the_newest_pair_at_or_below(offset, expected):
    assert map_offset(PAIRS, offset) == expected


@pytest.mark.parametrize(("downstream", "expected"), [
    (0, 0), (3, 0), (4, 10), (8, 10), (9, 20), (14, 20), (15, 30), (99, 30),
])
def test_backward_mapping_is_the_newest_pair_at_or_below_downstream(downstream, expected):
    assert map_offset(PAIRS, downstream, backward=True) == expected


def test_mapping_an_empty_log_starts_from_zero():
    assert map_offset(deque(), 50) == 0
    assert map_offset(deque(), 50, backward=True) == 0


def test_offset_syncs_are_spaced_by_offset_lag_max():
    # offset.lag.max 10: the first copy syncs at once (d 5); the next sync needs the
    # downstream offset 10 past the previous sync's next offset: d - (5 + 1) >= 10,
    # so d 16 syncs and d 15 does not; then d 26 (26 - 17 = 9) waits as the delayed
    # sync and d 27 (27 - 17 = 10) syncs.
    s = syncs_of(offset_lag_max=10)
    for u, d in [(7, 5), (12, 10), (17, 15), (18, 16), (30, 26)]:
        s.copied(0, u, d)
    st = s.parts[0]
    assert list(st.syncs) == [(7, 5), (18, 16)]
    assert st.delayed == (30, 26)
    assert list(st.pairs) == [(7, 5), (12, 10), (17, 15), (18, 16), (30, 26)]
    s.copied(0, 31, 27)
    assert list(st.syncs) == [(7, 5), (18, 16), (31, 27)]
    assert st.delayed is None
    # A task commit publishes the delayed sync, once.
    s.copied(0, 32, 28)
    s.publish_delayed(0)
    assert list(st.syncs) == [(7, 5), (18, 16), (31, 27), (32, 28)]
    s.publish_delayed(0)
    assert len(st.syncs) == 4


def test_offset_lag_max_zero_syncs_every_copy():
    s = syncs_of(offset_lag_max=0)
    published = []
    for u, d in [(3, 2), (4, 3), (9, 8)]:
        s.copied(0, u, d)
        published.append(s.parts[0].last_sync_d)
    assert published == [2, 3, 8]
    # the store keeps (3, 2) and (9, 8): (4, 3) (Kafka's upstream 3) is too close to
    # (3, 2) (upstream 2) for slot 4 once (9, 8) arrives (invariantC: 2 + 2^2 > 3)
    assert list(s.parts[0].syncs) == [(3, 2), (9, 8)]


def test_a_restarted_task_syncs_its_first_copy_at_once():
    s = syncs_of(offset_lag_max=10)
    s.copied(0, 7, 5)
    s.task_restarted()
    s.copied(0, 8, 6)  # 6 - (5 + 1) = 0 < 10, but the new task has no previous sync
    assert list(s.parts[0].syncs) == [(7, 5), (8, 6)]


def test_mm2_checkpoint_translation_is_through_the_latest_sync_at_or_below():
    # Syncs (7, 5) and (18, 16), Kafka's OffsetSync(6, 4) and (17, 15). A group
    # committed at upstream 16 resumes at 5: the records of upstream 7..15 are read
    # again (the 10 target records 5..14). A group exactly at a synced record (upstream
    # 6 or 17) starts at its copy (translateDownstream); below the oldest sync there is
    # no translation (None: no checkpoint).
    s = syncs_of(offset_lag_max=10)
    for u, d in [(7, 5), (12, 10), (17, 15), (18, 16)]:
        s.copied(0, u, d)
    assert s.translate(0, 5) is None
    assert s.translate(0, 6) == 4
    assert s.translate(0, 7) == 5
    assert s.translate(0, 16) == 5
    assert s.translate(0, 17) == 15
    assert s.translate(0, 18) == 16
    assert s.translate(0, 500) == 16
    # The copy below target offset 10 holds the source's records below 12.
    assert s.upstream_of(0, 10) == 12
    assert s.upstream_of(0, 9) == 7


def test_cluster_linking_keeps_offsets_capped_at_what_it_mirrored():
    s = syncs_of(offset_preserving=True, copied=40)
    s.copied(0, 40, 40)
    assert list(s.parts[0].syncs) == []  # no offset syncs: offsets are the same
    assert s.translate(0, 0) == 0
    assert s.translate(0, 39) == 39
    assert s.translate(0, 40) == 40
    assert s.translate(0, 41) == 40
    assert s.translate(0, 1_000) == 40


def test_start_marks_prefer_synced_group_offsets_only_for_mm2_with_group_sync():
    s = syncs_of(sync_group_offsets=True)
    s.checkpoints[3] = [(17, 5)]
    assert s.start_marks(3) is None  # nothing written into the target group yet
    s.synced = {3: [(12, 4)]}
    assert s.start_marks(3) == [(12, 4)]
    linked = syncs_of(offset_preserving=True, sync_group_offsets=True)
    linked.checkpoints[3] = [(17, 17)]
    assert linked.start_marks(3) == [(17, 17)]


def test_target_hold_is_the_lowest_start_any_group_may_take():
    s = syncs_of()
    s.checkpoints = {1: [(30, 20)], 2: [(12, 8)]}
    s.synced = {1: [(20, 11)]}
    assert s.target_hold(0) == 8
    s.checkpoints[4] = [None]  # a group without a checkpoint starts from 0
    assert s.target_hold(0) == 0


# --- the flow's processes: checkpoints, group offset sync, pruning ---------------------

class Net:
    """Records every message; those to a zone in ``down`` are lost."""

    def __init__(self, down=()):
        self.down = set(down)
        self.sent: list[tuple] = []

    def delay(self, a, z, size, purpose, *, stream=None):
        self.sent.append(("one-way", a, z, size, purpose))
        return None if z in self.down else 0.001

    def round_trip(self, a, z, request, response, purpose, *, stream=None):
        self.sent.append(("round trip", a, z, request, response, purpose))
        return None if z in self.down else 0.002


def group(subscription: int, *committed: int) -> SimpleNamespace:
    return SimpleNamespace(subscription=subscription,
                           partitions=[SimpleNamespace(committed=c) for c in committed])


def live_syncs(net: Net, groups: list, *, leaders=("src-b", "src-c")):
    """An MM2 flow of two partitions running in ``dst-a`` on a SimPy clock, reading a
    source whose partition p is led in ``leaders[p]`` (``None``: no leader), and
    syncing every copy (``offset.lag.max`` 0)."""
    env = simpy.Environment()
    events: list = []
    source = SimpleNamespace(zones=["src-a", "src-b"],
                             leader_zone=lambda p: leaders[p] if leaders else None)
    owner = SimpleNamespace(groups_on=lambda cluster: groups if cluster is source else [],
                            ctx=SimpleNamespace(recorder=SimpleNamespace(emit=events.append)))
    cfg = SimpleNamespace(offset_preserving=False, offset_lag_max=0,
                          sync_group_offsets=True)
    flow = SimpleNamespace(cfg=cfg, env=env, net=net, n=2, source=source, zone="dst-a",
                           stopped=False, alive=True, owner=owner, name="west->central",
                           parts=[SimpleNamespace(copied=0) for _ in range(2)])
    return OffsetSyncs(flow), env, events


def test_offset_syncs_go_to_the_leader_of_the_sources_first_partition_and_may_be_lost():
    # The offset-syncs topic (one partition) is taken as led where the source's
    # partition 0 is: src-b, not src-c. A sync lost on the way is not published, and
    # the next copy syncs at once (there is still no previous sync).
    net = Net(down={"src-b"})
    s, _env, _events = live_syncs(net, [])
    s.copied(1, 5, 4)
    assert net.sent == [("one-way", "dst-a", "src-b", OFFSET_SYNC_BYTES, "mirror")]
    st = s.parts[1]
    assert list(st.syncs) == [] and st.last_sync_d is None and st.delayed is None
    net.down.clear()
    s.copied(1, 6, 5)
    assert list(st.syncs) == [(6, 5)] and st.last_sync_d == 5


def test_checkpoints_translate_every_groups_offsets_each_interval_and_announce_the_first():
    net = Net()
    # two groups; partition 0 committed at 17 and 7, partition 1 at 40 by both
    s, env, events = live_syncs(net, [group(1, 17, 40), group(2, 7, 40)])
    for u, d in [(3, 1), (7, 5), (12, 6), (18, 16)]:
        s.copied(0, u, d)
    for u, d in [(3, 2), (40, 30)]:
        s.copied(1, u, d)
    net.sent.clear()
    env.process(s.run_checkpoints(10.0))
    env.run(until=25.0)
    # each committed offset through the store's latest sync at or below it: partition
    # 0's store holds Kafka's upstream 2, 11 and 17 ((7, 5), upstream 6, is dropped
    # when (12, 6) arrives, invariantC); 17 is the synced record itself (-> 15), 7
    # translates through upstream 2 (-> 0 + 1)
    assert s.checkpoints == {1: [(17, 15), (40, 30)], 2: [(7, 1), (40, 30)]}
    assert s.first_checkpoint == 10.0
    assert [(type(e), e.t, e.flow) for e in events] == [
        (TranslationAvailable, 10.0, "west->central")]     # announced once, at the first
    # one read per checkpoint, from the source's partition 0 leader zone: a request,
    # and a checkpoint record per group and partition back
    read = ("round trip", "dst-a", "src-b", FETCH_REQUEST_BYTES, CHECKPOINT_BYTES * 2 * 2,
            "mirror")
    assert net.sent == [read, read]
    # what no group can go back to is forgotten: below partition 0's lowest checkpoint
    # (upstream 7) only (3, 1) goes; (12, 6) stays although its downstream end is below
    # 7; partition 1's checkpoints are both at 40, so one pair is left. The offset
    # syncs are not pruned (their store is bounded).
    assert list(s.parts[0].pairs) == [(7, 5), (12, 6), (18, 16)]
    assert list(s.parts[0].syncs) == [(3, 1), (12, 6), (18, 16)]
    assert list(s.parts[1].pairs) == [(40, 30)]
    assert list(s.parts[1].syncs) == [(3, 2), (40, 30)]


def test_a_checkpoint_needs_groups_and_the_read_of_their_offsets():
    # no group on the source: nothing to checkpoint
    s, env, events = live_syncs(Net(), [])
    env.process(s.run_checkpoints(10.0))
    env.run(until=25.0)
    assert s.checkpoints == {} and s.first_checkpoint is None and events == []
    # the read lost (no leader: the source's first zone, src-a, is out)
    net = Net(down={"src-a"})
    s, env, events = live_syncs(net, [group(1, 4, 4)], leaders=None)
    env.process(s.run_checkpoints(10.0))
    env.run(until=25.0)
    assert [m[2] for m in net.sent] == ["src-a", "src-a"]
    assert s.checkpoints == {} and events == []
    net.down.clear()
    env.run(until=35.0)
    # read: the round counts, but with no offset sync yet MirrorMaker 2 translates
    # nothing (translateDownstream is empty): no checkpoint for either partition
    assert s.checkpoints == {1: [None, None]} and s.first_checkpoint == 30.0


def test_a_stopped_flow_takes_no_more_checkpoints():
    s, env, _events = live_syncs(Net(), [group(1, 3, 3)])
    s.copied(0, 3, 2)
    process = env.process(s.run_checkpoints(10.0))
    env.run(until=15.0)
    assert s.checkpoints == {1: [(3, 2), None]}     # partition 1 has no sync yet
    s.flow.stopped = True
    s.flow.owner.groups_on = lambda _cluster: [group(1, 9, 9)]
    env.run(until=50.0)
    assert not process.is_alive and s.checkpoints == {1: [(3, 2), None]}


def test_group_offsets_are_synced_only_while_the_flow_runs():
    s, env, _events = live_syncs(Net(), [])
    s.checkpoints = {1: [(17, 6), (40, 30)]}
    process = env.process(s.run_group_sync(30.0))
    env.run(until=31.0)
    assert s.synced == {1: [(17, 6), (40, 30)]}
    assert s.synced[1] is not s.checkpoints[1]      # a copy, not the live marks
    s.checkpoints = {1: [(20, 9), (41, 31)]}
    s.flow.alive = False                            # its worker is out
    env.run(until=61.0)
    assert s.synced == {1: [(17, 6), (40, 30)]}
    s.flow.alive = True
    env.run(until=91.0)
    assert s.synced == {1: [(20, 9), (41, 31)]}
    s.flow.stopped = True
    s.checkpoints = {1: [(50, 40), (50, 40)]}
    env.run(until=200.0)
    assert not process.is_alive and s.synced == {1: [(20, 9), (41, 31)]}


def test_pruning_keeps_what_a_partition_without_checkpoints_may_need():
    s, _env, _events = live_syncs(Net(), [])
    for u, d in [(3, 1), (7, 5), (12, 6)]:
        s.copied(0, u, d)
        s.copied(1, u, d)
    s.checkpoints = {1: [None, (12, 6)], 2: [None, (7, 5)]}
    s._prune()
    assert list(s.parts[0].pairs) == [(3, 1), (7, 5), (12, 6)]   # no group's mark
    assert list(s.parts[1].pairs) == [(7, 5), (12, 6)]           # below 7 goes
