"""Offsets across a replication flow: offset syncs, checkpoints and their translation.

MirrorMaker 2 emits an offset sync (upstream -> downstream offset) once the downstream
offset moved ``offset.lag.max`` past the previous sync, and publishes the latest
pending one at every task commit (``offset.flush.interval.ms``). Every
``emit.checkpoints.interval.seconds`` the checkpoint task reads each source group's
committed offsets and translates them through the offset syncs it still holds: like
Kafka 3.5+ (KAFKA-14666, ``OffsetSyncStore``) a bounded array of 64 syncs per
partition, dense near the latest sync and exponentially sparser behind it
(:class:`SyncStore`), so a translated offset is never ahead of the true position and a
group lagging N records behind the latest sync re-reads on the order of N; with
``sync.group.offsets.enabled`` the checkpoints are also written into the target's
groups every ``sync.group.offsets.interval.seconds``. Cluster Linking copies group
offsets unchanged every ``consumer.offset.sync.ms`` (capped at what was mirrored).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from geosim.core.events import TranslationAvailable
from geosim.core.offset_pairs import map_offset
from geosim.kafka.wire import CHECKPOINT_BYTES, FETCH_REQUEST_BYTES, OFFSET_SYNC_BYTES

if TYPE_CHECKING:
    from geosim.kafka.mirror_flow import MirrorFlow

Marks = list[tuple[int, int] | None]  # per partition: (source offset, target offset)


SYNCS_PER_PARTITION = 64  # OffsetSyncStore.SYNCS_PER_PARTITION (Long.SIZE)


class _Sync:
    """One offset sync in Kafka's coordinates (``OffsetSync``): the upstream and
    downstream offsets of the last record of a copy, i.e. the model's (u_end, d_end)
    less one each. Compared by identity, as Kafka compares ``OffsetSync`` objects."""

    __slots__ = ("downstream", "upstream")

    def __init__(self, upstream: int, downstream: int):
        self.upstream = upstream
        self.downstream = downstream

    def pair(self) -> tuple[int, int]:
        """The model's (u_end, d_end)."""
        return self.upstream + 1, self.downstream + 1


def _invariant_b(i_sync: _Sync, j_sync: _Sync, i: int, j: int) -> bool:
    """``OffsetSyncStore.invariantB``: the sync at index ``i`` is at most
    2^j - 2^i offsets after the one at the later index ``j`` (``j`` recent enough)."""
    bound = j_sync.upstream + (1 << j) - (1 << i)
    return i_sync is j_sync or bound < 0 or i_sync.upstream <= bound


def _invariant_c(i_sync: _Sync, j_sync: _Sync, i: int) -> bool:
    """``OffsetSyncStore.invariantC``: the sync at index ``i`` is at least
    2^max(i-2, 0) offsets after ``j_sync`` (distinct syncs are spread apart)."""
    bound = j_sync.upstream + (1 << max(i - 2, 0))
    return i_sync is j_sync or (bound >= 0 and i_sync.upstream >= bound)


class SyncStore:
    """The offset syncs the checkpoint task holds for one partition: Kafka's
    ``OffsetSyncStore`` (3.5+, KAFKA-14666), ported.

    A fixed array of :data:`SYNCS_PER_PARTITION` slots; slot 0 is always the latest
    sync, and each later slot may hold an older one, the allowed age growing about as
    2^index (``invariantB``) while distinct neighbours stay at least 2^(index-2) apart
    (``invariantC``). The first sync fills every slot (``createInitialSyncs``); each
    later one goes through ``updateSyncArray``, which clears the array to the new sync
    when its upstream offset is below slot 0's (an upstream rewind, e.g. a restarted
    source task syncing a record it copies again). Kafka also keeps only the latest
    sync while its checkpoint task first reads the offset-syncs topic
    (``initializationMustReadToEnd``); the model's store lives as long as the flow and
    is never re-read, so that branch does not arise.
    """

    __slots__ = ("_syncs",)

    def __init__(self) -> None:
        self._syncs: list[_Sync] | None = None

    def add(self, u_end: int, d_end: int) -> None:
        """A published sync, in the model's end offsets (``handleRecord``)."""
        sync = _Sync(u_end - 1, d_end - 1)
        if self._syncs is None:
            self._syncs = [sync] * SYNCS_PER_PARTITION   # createInitialSyncs
            return
        original = self._syncs
        syncs = list(original)                           # updateExistingSyncs' copy
        _update_sync_array(syncs, original, sync)
        self._syncs = syncs

    def upstream_offsets(self) -> list[int] | None:
        """Kafka's upstream offset of every slot, slot 0 first (for inspection)."""
        return None if self._syncs is None else [s.upstream for s in self._syncs]

    def pairs(self) -> list[tuple[int, int]]:
        """The distinct syncs held, oldest first, as the model's (u_end, d_end)."""
        if self._syncs is None:
            return []
        out: list[tuple[int, int]] = []
        previous = None
        for sync in reversed(self._syncs):
            if sync is not previous:
                out.append(sync.pair())
            previous = sync
        return out

    def translate(self, committed: int) -> int | None:
        """``translateDownstream`` with ``lookupLatestSync``: the first slot (latest
        first) whose sync is at or below the committed offset, else the oldest slot.
        None where Kafka emits no checkpoint: no sync yet (empty result) or the oldest
        sync held is ahead of the group ("too far in the past", -1).

        A group exactly at the synced record (committed == Kafka's upstream offset)
        starts at its copy; a group past it, one past the copy (the +1 step). In the
        model's end offsets, sync (u_end, d_end): committed >= u_end -> d_end, as the
        model translated before, and committed == u_end - 1 -> d_end - 1.
        """
        syncs = self._syncs
        if syncs is None:
            return None
        sync = syncs[-1]
        for candidate in syncs:
            if candidate.upstream <= committed:
                sync = candidate
                break
        if sync.upstream > committed:
            return None
        return sync.downstream + (0 if committed == sync.upstream else 1)


def _update_sync_array(syncs: list[_Sync], original: list[_Sync], sync: _Sync) -> None:
    """``OffsetSyncStore.updateSyncArray`` (its ``readToEnd`` branch aside, see
    :class:`SyncStore`): ``sync`` becomes slot 0; each later slot that no longer
    satisfies ``invariantB`` against its predecessor takes a replacement, preferably
    a sync of the old array that satisfies both invariants, else the value carried from
    the slot before; the first slot that still satisfies ``invariantB`` ends the pass."""
    if sync.upstream < syncs[0].upstream:      # upstream rewind: start over
        syncs[:] = [sync] * SYNCS_PER_PARTITION
        return
    replacement = sync
    k = 0                                      # next candidate in the old array
    syncs[0] = sync
    for current in range(1, SYNCS_PER_PARTITION):
        previous = current - 1
        while True:
            old = original[k]
            recent = _invariant_b(syncs[previous], old, previous, current)
            apart_prev = _invariant_c(syncs[previous], old, previous)
            nxt = current + 1
            apart_next = nxt >= SYNCS_PER_PARTITION or _invariant_c(old, syncs[nxt], current)
            duplicate = k + 1 < SYNCS_PER_PARTITION and old is original[k + 1]
            promote = recent and apart_prev and apart_next
            if promote:
                replacement = old
            skip = duplicate or not apart_prev
            if promote or skip:
                k += 1
            if not (k < current and skip):
                break
        if _invariant_b(syncs[previous], syncs[current], previous, current):
            break                              # later slots still hold
        syncs[current] = replacement


@dataclass
class SyncState:
    """A flow's offset map for one partition of the source's local topic."""

    pairs: deque = field(default_factory=deque)  # (u_end, d_end) of acknowledged copies
    store: SyncStore = field(default_factory=SyncStore)  # the offset syncs held
    last_sync_d: int | None = None   # the last published sync's downstream end
    delayed: tuple[int, int] | None = None

    @property
    def syncs(self) -> list[tuple[int, int]]:
        """The distinct offset syncs the store holds, oldest first (u_end, d_end)."""
        return self.store.pairs()


class OffsetSyncs:
    """The offset syncs, checkpoints and synced group offsets of one flow."""

    def __init__(self, flow: MirrorFlow):
        self.flow = flow
        self.cfg = flow.cfg
        self.env = flow.env
        self.net = flow.net
        self.parts = [SyncState() for _ in range(flow.n)]
        # Per consumer group of the source (by subscription): the latest checkpoint,
        # per partition (source committed offset, translated target offset).
        self.checkpoints: dict[int, Marks] = {}
        # With sync.group.offsets.enabled: the checkpoints last written into the target's
        # consumer groups, which a failed-over group resumes from.
        self.synced: dict[int, Marks] = {}
        self.first_checkpoint: float | None = None

    # =================================================================== offset syncs
    def copied(self, i: int, u_end: int, d_end: int) -> None:
        """The target acknowledged the copy of partition ``i`` up to ``u_end``, ending
        at ``d_end`` there (in upstream order)."""
        st = self.parts[i]
        st.pairs.append((u_end, d_end))
        if self.cfg.offset_preserving:
            return
        # OffsetSyncWriter: a sync at once when the downstream offset moved offset.lag.max
        # past the previous one, else kept as the delayed sync for the next task commit.
        last = st.last_sync_d
        if last is None or d_end - (last + 1) >= self.cfg.offset_lag_max:
            self._publish(st, (u_end, d_end))
        else:
            st.delayed = (u_end, d_end)

    def _publish(self, st: SyncState, pair: tuple[int, int]) -> None:
        # The offset-syncs topic lives in the source cluster (offset-syncs.topic.location).
        flow = self.flow
        leader = flow.source.leader_zone(0)
        if leader is not None and self.net.delay(flow.zone, leader, OFFSET_SYNC_BYTES,
                                                 "mirror", stream=f"{flow.name}.sync") is None:
            return
        st.store.add(*pair)
        st.last_sync_d = pair[1]
        st.delayed = None

    def publish_delayed(self, i: int) -> None:
        """A task commit publishes partition ``i``'s delayed offset sync."""
        st = self.parts[i]
        if st.delayed is not None:
            self._publish(st, st.delayed)

    def task_restarted(self) -> None:
        """A new task syncs its first record at once."""
        for st in self.parts:
            st.last_sync_d = None

    # ==================================================================== checkpoints
    def run_checkpoints(self, interval: float):
        """Every ``interval`` the checkpoint task reads the source groups' committed
        offsets (a round trip to the source) and stores their translations; emits
        ``TranslationAvailable`` at the first.

        Where MirrorMaker 2 emits no checkpoint for a partition, the group's previous
        checkpoint of it stays (None if there was none): the checkpoints topic is
        compacted per group and partition, so that earlier record is what
        ``RemoteClusterUtils`` and the group offset sync still read, and what a
        failed-over group starts from (:meth:`start_marks`; None falls back to
        ``auto.offset.reset``); :meth:`target_hold` keeps the target's records from it.
        MirrorMaker 2 emits none (``MirrorCheckpointTask.checkpointsForGroup``) when
        ``translateDownstream`` gives nothing (no sync yet) or -1 (the group is behind
        the oldest sync held), and when ``checkpointIsMoreRecent`` declines it: the
        upstream offset did not rewind and the downstream offset did not advance (a
        sparser sync may translate a lagging group lower than before; checkpoints are
        kept monotonic instead). Cluster Linking copies every offset as it is."""
        flow = self.flow
        n = flow.n
        while not flow.stopped:
            yield self.env.timeout(interval)
            if flow.stopped:
                return
            groups = read_source_groups(flow, self.net)
            if not groups:
                continue
            for group in groups:
                marks = self.checkpoints.setdefault(group.subscription, [None] * n)
                for i in range(n):
                    committed = group.partitions[i].committed
                    target = self.translate(i, committed)
                    if target is None:
                        continue
                    last = marks[i]
                    if (last is not None and not self.cfg.offset_preserving
                            and committed >= last[0] and target <= last[1]):
                        continue   # checkpointIsMoreRecent: no rewind, no advance
                    marks[i] = (committed, target)
            if self.first_checkpoint is None:
                self.first_checkpoint = self.env.now
                flow.owner.ctx.recorder.emit(TranslationAvailable(self.env.now, flow.name))
            self._prune()

    def run_group_sync(self, interval: float):
        """Every ``sync.group.offsets.interval.seconds``: the latest checkpoints are
        written as the target groups' committed offsets (the groups are not active in
        the target before a failover)."""
        flow = self.flow
        while not flow.stopped:
            yield self.env.timeout(interval)
            if flow.alive and not flow.stopped:
                self.synced = {sub: list(marks) for sub, marks in self.checkpoints.items()}

    def start_marks(self, subscription: int) -> Marks | None:
        """Where a group failing over to the target starts: the offsets synced into
        the target group (``sync.group.offsets.enabled``), else the latest checkpoint,
        which the application translates at failover (RemoteClusterUtils)."""
        if self.cfg.sync_group_offsets and not self.cfg.offset_preserving:
            return self.synced.get(subscription)
        return self.checkpoints.get(subscription)

    def _prune(self) -> None:
        """Forget copy pairs below every group's latest checkpoint (the offset syncs
        are bounded by their store)."""
        for i, st in enumerate(self.parts):
            committed = [mark[0] for marks in self.checkpoints.values()
                         if (mark := marks[i]) is not None]
            if not committed:
                continue  # no group has a checkpoint of it: everything may be needed
            low = min(committed)
            pairs = st.pairs
            while len(pairs) > 1 and pairs[1][0] <= low:
                pairs.popleft()

    def target_hold(self, i: int) -> float:
        """The lowest target offset of partition ``i`` a failed-over group may start
        from (the target keeps its rows)."""
        low = math.inf
        for marks in (*self.checkpoints.values(), *self.synced.values()):
            mark = marks[i]
            low = min(low, mark[1] if mark is not None else 0)
        return low

    # ==================================================================== translation
    def translate(self, i: int, committed: int) -> int | None:
        """The target offset for a source committed offset: through the offset sync
        store (:meth:`SyncStore.translate`, never ahead of the true position; None
        where MirrorMaker 2 cannot translate); offsets are unchanged on an
        offset-preserving mirror, capped at what it holds."""
        if self.cfg.offset_preserving:
            return min(committed, self.flow.parts[i].copied)
        return self.parts[i].store.translate(committed)

    def upstream_of(self, i: int, downstream: int) -> int:
        """The source offset whose records the copy below ``downstream`` holds."""
        return map_offset(self.parts[i].pairs, downstream, backward=True)


def read_source_groups(flow, net) -> list:
    """The source cluster's consumer groups as a flow's checkpoint task reads their
    committed offsets: one round trip to a source leader zone. Empty when there are
    none or the trip was lost."""
    groups = flow.owner.groups_on(flow.source)
    if not groups:
        return []
    leader = flow.source.leader_zone(0) or flow.source.zones[0]
    if net.round_trip(flow.zone, leader, FETCH_REQUEST_BYTES,
                      CHECKPOINT_BYTES * flow.n * len(groups), "mirror",
                      stream=f"{flow.name}.group-offsets") is None:
        return []
    return groups


__all__ = ["SYNCS_PER_PARTITION", "Marks", "OffsetSyncs", "SyncState", "SyncStore",
           "read_source_groups"]
