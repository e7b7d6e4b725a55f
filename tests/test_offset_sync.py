"""Offset translation across a replication flow (geosim.kafka.offset_sync), exact.

Hand-built copy logs: each ``copied(i, u_end, d_end)`` says the target acknowledged the
copy of source partition ``i`` up to upstream offset ``u_end``, ending at ``d_end``
there. MirrorMaker 2 translates a committed offset through the newest offset sync at or
below it; Cluster Linking keeps offsets, capped at what it mirrored.
"""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace

import pytest

from geosim.kafka.offset_sync import OffsetSyncs, _mapped


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
    assert _mapped(PAIRS, offset) == expected


@pytest.mark.parametrize(("downstream", "expected"), [
    (0, 0), (3, 0), (4, 10), (8, 10), (9, 20), (14, 20), (15, 30), (99, 30),
])
def test_backward_mapping_is_the_newest_pair_at_or_below_downstream(downstream, expected):
    assert _mapped(PAIRS, downstream, backward=True) == expected


def test_mapping_an_empty_log_starts_from_zero():
    assert _mapped(deque(), 50) == 0
    assert _mapped(deque(), 50, backward=True) == 0


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
    for u, d in [(3, 2), (4, 3), (9, 8)]:
        s.copied(0, u, d)
    assert list(s.parts[0].syncs) == [(3, 2), (4, 3), (9, 8)]


def test_a_restarted_task_syncs_its_first_copy_at_once():
    s = syncs_of(offset_lag_max=10)
    s.copied(0, 7, 5)
    s.task_restarted()
    s.copied(0, 8, 6)  # 6 - (5 + 1) = 0 < 10, but the new task has no previous sync
    assert list(s.parts[0].syncs) == [(7, 5), (8, 6)]


def test_mm2_checkpoint_translation_is_through_the_latest_sync_at_or_below():
    # Syncs (7, 5) and (18, 16). A group committed at upstream 17 resumes at 5: the
    # records of upstream 7..16 are read again (the 11 target records 5..15).
    s = syncs_of(offset_lag_max=10)
    for u, d in [(7, 5), (12, 10), (17, 15), (18, 16)]:
        s.copied(0, u, d)
    assert s.translate(0, 6) == 0
    assert s.translate(0, 7) == 5
    assert s.translate(0, 17) == 5
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
