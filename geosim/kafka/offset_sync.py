"""Offsets across a replication flow: offset syncs, checkpoints and their translation.

MirrorMaker 2 emits an offset sync (upstream -> downstream offset) once the downstream
offset moved ``offset.lag.max`` past the previous sync, and publishes the latest
pending one at every task commit (``offset.flush.interval.ms``). Every
``emit.checkpoints.interval.seconds`` the checkpoint task reads each source group's
committed offsets and translates them through the latest sync at or below them, so a
translated offset is never ahead of the true position; with
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
from geosim.kafka.wire import CHECKPOINT_BYTES, FETCH_REQUEST_BYTES, OFFSET_SYNC_BYTES

if TYPE_CHECKING:
    from geosim.kafka.mirror_flow import MirrorFlow

Marks = list[tuple[int, int] | None]  # per partition: (source offset, target offset)


@dataclass
class SyncState:
    """A flow's offset map for one partition of the source's local topic."""

    pairs: deque = field(default_factory=deque)  # (u_end, d_end) of acknowledged copies
    syncs: deque = field(default_factory=deque)  # published offset syncs (u_end, d_end)
    last_sync_d: int | None = None   # the last published sync's downstream end
    delayed: tuple[int, int] | None = None


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
                                                 "mirror") is None:
            return
        st.syncs.append(pair)
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
        ``TranslationAvailable`` at the first."""
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
                    marks[i] = (committed, self.translate(i, committed))
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
        """Forget syncs and copy pairs below every group's latest checkpoint."""
        for i, st in enumerate(self.parts):
            committed = [mark[0] for marks in self.checkpoints.values()
                         if (mark := marks[i]) is not None]
            if not committed:
                continue  # no group has a checkpoint of it: everything may be needed
            low = min(committed)
            for dq in (st.pairs, st.syncs):
                while len(dq) > 1 and dq[1][0] <= low:
                    dq.popleft()

    def target_hold(self, i: int) -> float:
        """The lowest target offset of partition ``i`` a failed-over group may start
        from (the target keeps its rows)."""
        low = math.inf
        for marks in (*self.checkpoints.values(), *self.synced.values()):
            mark = marks[i]
            low = min(low, mark[1] if mark is not None else 0)
        return low

    # ==================================================================== translation
    def translate(self, i: int, committed: int) -> int:
        """The target offset for a source committed offset: through the latest offset
        sync at or below it (never ahead of the true position); offsets are unchanged
        on an offset-preserving mirror, capped at what it holds."""
        if self.cfg.offset_preserving:
            return min(committed, self.flow.parts[i].copied)
        return _mapped(self.parts[i].syncs, committed)

    def upstream_of(self, i: int, downstream: int) -> int:
        """The source offset whose records the copy below ``downstream`` holds."""
        return _mapped(self.parts[i].pairs, downstream, backward=True)


def read_source_groups(flow, net) -> list:
    """The source cluster's consumer groups as a flow's checkpoint task reads their
    committed offsets: one round trip to a source leader zone. Empty when there are
    none or the trip was lost."""
    groups = flow.owner.groups_on(flow.source)
    if not groups:
        return []
    leader = flow.source.leader_zone(0) or flow.source.zones[0]
    if net.round_trip(flow.zone, leader, FETCH_REQUEST_BYTES,
                      CHECKPOINT_BYTES * flow.n * len(groups), "mirror") is None:
        return []
    return groups


def _mapped(pairs: deque, offset: int, *, backward: bool = False) -> int:
    """Map an offset through (upstream end, downstream end) pairs, newest last: the
    downstream end of the newest pair whose upstream end is at or below ``offset``
    (``backward``: the upstream end of the newest pair whose downstream end is); 0 if
    none. Never ahead of the true position: records past the pair are read again."""
    key, value = (1, 0) if backward else (0, 1)
    for pair in reversed(pairs):
        if pair[key] <= offset:
            return pair[value]
    return 0


__all__ = ["Marks", "OffsetSyncs", "SyncState", "read_source_groups"]
