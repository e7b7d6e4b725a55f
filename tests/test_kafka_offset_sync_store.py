"""MirrorMaker 2's offset sync store (geosim.kafka.offset_sync.SyncStore), exact.

The store ports Kafka 3.5+'s ``OffsetSyncStore`` (KAFKA-14666): 64 slots per partition,
slot 0 the latest sync, older syncs kept ever more sparsely behind it. The model feeds
it syncs as (u_end, d_end), end offsets; Kafka's ``OffsetSync`` is the last record of
the copy, (u_end - 1, d_end - 1). ``kafka(store, u, d)`` below feeds a sync in Kafka's
coordinates, so values can be compared with the Java directly.
"""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace

import simpy

from geosim.core.offset_pairs import map_offset
from geosim.kafka.offset_sync import SYNCS_PER_PARTITION, OffsetSyncs, SyncStore


def kafka(store: SyncStore, upstream: int, downstream: int) -> None:
    """Feed Kafka's OffsetSync(upstream, downstream) to the store."""
    store.add(upstream + 1, downstream + 1)


def assert_invariants(store: SyncStore) -> None:
    """Invariants B and C of the OffsetSyncStore class comment, for every pair of
    slots holding distinct offsets (as OffsetSyncStoreTest.assertSparseSyncInvariant)."""
    offsets = store.upstream_offsets()
    assert offsets is not None and len(offsets) == SYNCS_PER_PARTITION
    for j in range(SYNCS_PER_PARTITION):
        for i in range(j):
            if offsets[i] == offsets[j]:
                continue
            assert offsets[i] >= offsets[j] + (1 << max(i - 2, 0))
            assert offsets[i] <= offsets[j] + (1 << j) - (1 << i)


def test_three_syncs_ten_apart_fill_the_slots_as_update_sync_array_does():
    """updateSyncArray, worked by hand from the Java for upstream 0, 10, 20.

    0: createInitialSyncs puts it in all 64 slots. 10: slot 0 takes it; slots 1-4 fail
    invariantB against 0 (bounds 1, 2, 4, 8) and take 10; slot 5 (bound 0 + 2^5 -
    2^4 = 16) holds, so the pass stops. 20: slots 1-4 fail against 10 (bounds 11, 12,
    14, 18) and take 20; at slot 5 the old 10 is recent (10 + 2^5 - 2^4 = 26 >= 20)
    and apart from both neighbours, so it is promoted there; slot 6 keeps 0
    (0 + 2^6 - 2^5 = 32 >= 10).
    """
    store = SyncStore()
    kafka(store, 0, 0)
    assert store.upstream_offsets() == [0] * 64
    kafka(store, 10, 10)
    assert store.upstream_offsets() == [10] * 5 + [0] * 59
    kafka(store, 20, 20)
    assert store.upstream_offsets() == [20] * 5 + [10] + [0] * 58
    assert store.pairs() == [(1, 1), (11, 11), (21, 21)]   # model (u_end, d_end)


def test_a_sync_too_close_to_an_older_one_is_dropped():
    """updateSyncArray's invariantC, worked by hand for upstream 2, 3, 8: after 3,
    slot 1 keeps 2 (invariantB: 2 + 2 - 1 = 3 >= 3). With 8, slots 1-3 take 8
    (bounds 3, 4, 6 against 2); the old 3 is never promoted, since at slot 4 it is not
    2^2 past the 2 after it (invariantC: 3 < 2 + 4), and slot 4 keeps 2 (2 + 2^4 - 2^3
    = 10 >= 8). So 3 is gone."""
    store = SyncStore()
    for offset in (2, 3):
        kafka(store, offset, offset)
    assert store.upstream_offsets() == [3] + [2] * 63
    kafka(store, 8, 8)
    assert store.upstream_offsets() == [8] * 4 + [2] * 60
    assert_invariants(store)


def test_two_hundred_syncs_every_ten_offsets_keep_nine():
    """updateSyncArray over Kafka upstream offsets 0, 10, ..., 1990 (200 syncs): nine
    distinct syncs stay, dense at the head (1990, 1980) and spaced out behind it
    (1950, 1920, 1800, 1680, 1440, 960), with the first sync, 0, in the last slot
    (invariant D: nothing after the first sync rewinds). Invariants B and C hold after
    every update."""
    store = SyncStore()
    for k in range(200):
        kafka(store, 10 * k, 10 * k)
        assert_invariants(store)
    assert store.upstream_offsets() == ([1990] * 5 + [1980, 1950, 1920, 1800, 1680, 1440, 960]
                                        + [0] * 52)


def test_kafkas_own_past_offset_translation_case():
    """translateDownstream over updateSyncArray, as OffsetSyncStoreTest's
    testPastOffsetTranslationWithoutInitializationReadToEnd expects: syncs every 10
    offsets from 0 to 1000, then from 1000 (again) to 10000. Each kept sync translates
    exactly, one below it translates through the previous kept sync (+1)."""
    store = SyncStore()
    for offset in [*range(0, 1001, 10), *range(1000, 10001, 10)]:
        kafka(store, offset, offset)
    kept = [0, 3840, 7680, 8640, 9120, 9600, 9840, 9900, 9960, 9990, 10000]
    assert sorted(set(store.upstream_offsets() or [])) == kept
    for previous, sync in zip(kept, kept[1:], strict=False):
        assert store.translate(sync - 1) == previous + 1
        assert store.translate(sync) == sync
        assert store.translate(sync + 1) == sync + 1
        assert store.translate(sync + 2) == sync + 1


def test_a_group_at_the_head_translates_as_before():
    """translateDownstream at or past the latest sync (slot 0 in lookupLatestSync):
    in the model's end offsets, committed >= u_end -> d_end, as the old translation
    through every published sync gave."""
    store = SyncStore()
    published = deque()
    for k in range(1, 201):
        store.add(100 * k, 100 * k + 7)
        published.append((100 * k, 100 * k + 7))
    for committed in (20_000, 20_001, 20_099, 50_000):
        assert store.translate(committed) == 20_007 == map_offset(published, committed)


def test_a_group_lagging_3000_behind_the_latest_sync_rereads_900():
    """translateDownstream through lookupLatestSync for a lagging group. Copies of 100
    records, each synced: model syncs (100k, 100k), k = 1..200 (Kafka's upstream
    100k - 1), the latest at 20,000. A group committed at 17,000 (3,000 behind) finds
    no sync between 16,099 and 17,000 any more: the newest kept at or below it is
    16,099, so it translates to 16,099 + 1 = 16,100 and re-reads 900 records after
    failover (the old model, holding every sync, gave 17,000: none)."""
    store = SyncStore()
    for k in range(1, 201):
        store.add(100 * k, 100 * k)
    assert sorted(set(store.upstream_offsets() or [])) == [
        99, 12_899, 16_099, 17_699, 18_499, 19_299, 19_699, 19_899, 19_999]
    assert store.translate(17_000) == 16_100
    assert 17_000 - store.translate(17_000) == 900
    # further behind, sparser still: 4,000 behind goes back to 12,900 (3,100 re-read)
    assert store.translate(16_000) == 12_900


def test_an_upstream_rewind_clears_the_store():
    """updateSyncArray: a sync whose upstream offset is below slot 0's rewinds, and
    clearSyncArray puts it in every slot; below it nothing translates (-1 in
    translateDownstream), at it exactly, past it one past its copy (as
    OffsetSyncStoreTest.testPastOffsetTranslation after its rewind to 1500)."""
    store = SyncStore()
    for k in range(1, 201):
        store.add(100 * k, 100 * k)
    kafka(store, 1500, 11_000)
    assert store.upstream_offsets() == [1500] * 64
    assert store.pairs() == [(1501, 11_001)]
    assert store.translate(1499) is None
    assert store.translate(1500) == 11_000
    assert store.translate(2000) == 11_001


def test_no_sync_or_a_group_behind_the_oldest_sync_has_no_translation():
    """translateDownstream: no syncs for the partition (empty) or the oldest held
    sync ahead of the group (lookupLatestSync falls back to slot 63; -1)."""
    store = SyncStore()
    assert store.translate(0) is None and store.pairs() == []
    store.add(50, 40)                       # Kafka's OffsetSync(49, 39)
    assert store.translate(48) is None
    assert store.translate(49) == 39
    assert store.translate(50) == 40


def offsets_of(groups: list) -> tuple[OffsetSyncs, simpy.Environment]:
    """An MM2 flow of one partition whose offset-syncs topic and source groups are
    always reachable (no leader zone, a network that never loses anything)."""
    env = simpy.Environment()
    source = SimpleNamespace(zones=["src-a"], leader_zone=lambda _p: None)
    net = SimpleNamespace(round_trip=lambda *_a, **_k: 0.001)
    owner = SimpleNamespace(groups_on=lambda cluster: groups if cluster is source else [],
                            ctx=SimpleNamespace(recorder=SimpleNamespace(emit=lambda _e: None)))
    cfg = SimpleNamespace(offset_preserving=False, offset_lag_max=0, sync_group_offsets=False)
    flow = SimpleNamespace(cfg=cfg, env=env, net=net, n=1, source=source, zone="dst-a",
                           stopped=False, alive=True, owner=owner, name="a->b",
                           parts=[SimpleNamespace(copied=0)])
    return OffsetSyncs(flow), env


def test_a_checkpoint_that_would_go_back_is_not_emitted():
    """MirrorCheckpointTask.checkpointIsMoreRecent: a group standing at 17,000 is
    checkpointed at 17,000 while that sync is the latest; as syncs go on, its
    translation falls to 16,900 and then 16,100 (sparser syncs), which Kafka does not
    emit (no upstream rewind, no downstream advance): the checkpoint stays."""
    g = SimpleNamespace(subscription=1, partitions=[SimpleNamespace(committed=17_000)])
    s, env = offsets_of([g])
    env.process(s.run_checkpoints(1.0))
    for k in range(1, 171):
        s.copied(0, 100 * k, 100 * k)
    env.run(until=1.5)
    assert s.checkpoints == {1: [(17_000, 17_000)]}
    for k in range(171, 201):
        s.copied(0, 100 * k, 100 * k)
    assert s.translate(0, 17_000) == 16_100
    env.run(until=2.5)
    assert s.checkpoints == {1: [(17_000, 17_000)]}
    # an upstream rewind of the group is emitted even though it goes back
    g.partitions[0].committed = 16_000
    env.run(until=3.5)
    assert s.checkpoints == {1: [(16_000, 12_900)]}


def test_a_group_behind_every_sync_keeps_its_previous_checkpoint():
    """translateDownstream -1 / MirrorCheckpointTask.checkpointsForGroup: after an
    upstream rewind clears the store to upstream 1,500 a group at 1,000 gets no
    checkpoint; its previous one (or none) stays. The rewind comes from a restarted
    source task, which syncs its first copy at once."""
    g = SimpleNamespace(subscription=1, partitions=[SimpleNamespace(committed=1_000)])
    s, env = offsets_of([g])
    env.process(s.run_checkpoints(1.0))
    env.run(until=1.5)
    assert s.checkpoints == {1: [None]}          # no sync yet: nothing to translate
    s.copied(0, 900, 900)
    env.run(until=2.5)
    assert s.checkpoints == {1: [(1_000, 900)]}
    s.copied(0, 2_000, 2_000)
    s.task_restarted()
    s.copied(0, 1_501, 1_501)                    # rewind: the store holds 1,500 only
    assert s.parts[0].syncs == [(1_501, 1_501)]
    env.run(until=3.5)
    assert s.translate(0, 1_000) is None
    assert s.checkpoints == {1: [(1_000, 900)]}
