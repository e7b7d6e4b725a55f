"""Consumer offsets across a Replicator flow, translated by record timestamp.

Confluent Replicator does not map offsets through offset-sync records (MirrorMaker 2,
:mod:`geosim.kafka.offset_sync`). Its copies keep the source records' timestamps
(``CreateTime``, the producer's send time); consumers run the
``ConsumerTimestampsInterceptor``, which writes, at each offset commit, the timestamp of
the last record consumed per partition into ``__consumer_timestamps`` in the source
cluster. The Replicator tasks that translate (``offset.translator.tasks.max``: -1 all, 0
none) read that topic and, for each group, look up in the destination the first offset
whose timestamp is at or after the consumed one (Kafka's ``offsetsForTimes``: "the
earliest offset whose timestamp is greater than or equal to the given timestamp"), and
commit it to the group in the destination, which a failed-over group starts from.
Sources: docs.confluent.io/platform/current/multi-dc-deployments/replicator/
replicator-failover.html (consumer offset translation, the interceptor) and
.../replicator/configuration_options.html (``offset.translator.*``); apache/kafka
``KafkaConsumer#offsetsForTimes``.

Model choices (stated as assumptions in docs/replicator.md):

* A batch row's records have timestamps spread evenly from ``send_first`` to
  ``send_last``; the interceptor's timestamp is that of the record just before the
  group's committed offset. Translation runs every ``offset.translator.batch.period.ms``
  (one round trip to the source to read the timestamps, one commit to the destination).
* A lookup finds nothing when the destination holds no record at or after the timestamp
  yet (the copy lags); the previous translation is kept (no group offset goes backwards
  for lack of data).
* Because the destination holds the last consumed record's copy at or after the start,
  a failed-over group re-reads at least that record and never skips a copied record it
  had not consumed, as long as the copies keep the source's order. Records appended to
  the destination before that copy with a later timestamp (non-monotonic ``CreateTime``,
  or the destination's own producers with kept topic names) are read again too.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import TYPE_CHECKING

from geosim.core.events import Row, TranslationAvailable
from geosim.kafka.offset_sync import Marks, read_source_groups
from geosim.kafka.wire import ACK_BYTES, CHECKPOINT_BYTES

if TYPE_CHECKING:
    from geosim.kafka.partition import PartitionState
    from geosim.kafka.replicator_flow import ReplicatorFlow


def record_timestamp(row: Row, offset: int) -> float:
    """The timestamp of the record at ``offset`` of ``row`` (evenly spread send times)."""
    if row.records <= 1:
        return row.send_last
    step = (row.send_last - row.send_first) / (row.records - 1)
    return row.send_first + (offset - row.offset) * step


def consumed_timestamp(part: PartitionState, committed: int) -> float | None:
    """The timestamp of the last record before ``committed`` (what the interceptor
    writes), or None if nothing was consumed or that row is no longer held."""
    k = bisect_right(part.ends, committed - 1)
    if k >= len(part.rows):
        return None
    row = part.rows[k]
    if row.offset > committed - 1:   # not held (nothing consumed: committed <= 0)
        return None
    return record_timestamp(row, committed - 1)


def offset_for_time(part: PartitionState, t: float, upto: int) -> int | None:
    """The first offset below ``upto`` whose record timestamp is >= ``t``, or None."""
    for row in part.rows:
        if row.offset >= upto:
            break
        if row.send_last < t:
            continue
        if row.send_first >= t or row.records <= 1:
            return row.offset
        # send_first < t <= send_last here, so step > 0 and 0 <= k <= records - 1
        step = (row.send_last - row.send_first) / (row.records - 1)
        return row.offset + math.ceil((t - row.send_first) / step - 1e-9)
    return None


class TimestampOffsets:
    """The consumer offset translation of one Replicator flow (the ``offsets`` of a
    :class:`~geosim.kafka.replicator_flow.ReplicatorFlow`); offers what the engine asks
    of a flow's offsets (:class:`~geosim.kafka.offset_sync.OffsetSyncs`)."""

    def __init__(self, flow: ReplicatorFlow):
        self.flow = flow
        self.env = flow.env
        self.net = flow.net
        # per source group (by subscription): per partition (source committed offset,
        # translated destination offset), as committed into the destination group
        self.checkpoints: dict[int, Marks] = {}
        self.first_checkpoint: float | None = None
        self.translations = 0

    # --- what the flow's copy path tells (nothing to keep: no offset syncs) -----------
    def copied(self, i: int, u_end: int, d_end: int) -> None:
        return None

    def publish_delayed(self, i: int) -> None:
        return None

    def task_restarted(self) -> None:
        return None

    # --- the translator ---------------------------------------------------------------
    def run_checkpoints(self, interval: float):
        """Every ``offset.translator.batch.period.ms`` while a translating task runs:
        read the source groups' consumed timestamps (a round trip to the source), look
        each up in the destination and commit the offsets into the destination groups
        (a round trip to a destination broker). Emits ``TranslationAvailable`` at the
        first translation."""
        flow = self.flow
        n = flow.n
        while not flow.stopped:
            yield self.env.timeout(interval)
            if flow.stopped:
                return
            if not flow.translating():
                continue
            groups = read_source_groups(flow, self.net)
            if not groups:
                continue
            target = flow.target
            local = target.leader_zone(flow.base) or target.zones[0]
            if self.net.round_trip(flow.zone, local, CHECKPOINT_BYTES * n * len(groups),
                                   ACK_BYTES, "mirror",
                                   stream=f"{flow.name}.translated-offsets") is None:
                continue
            for group in groups:
                marks = self.checkpoints.setdefault(group.subscription, [None] * n)
                for i in range(n):
                    committed = group.partitions[i].committed
                    t = consumed_timestamp(flow.source.parts[i], committed)
                    if t is None:
                        continue
                    part = target.parts[flow.base + i]
                    start = offset_for_time(part, t, part.hw)
                    if start is not None:
                        marks[i] = (committed, start)
                        self.translations += 1
            if self.first_checkpoint is None and any(
                    m is not None for marks in self.checkpoints.values() for m in marks):
                self.first_checkpoint = self.env.now
                flow.owner.ctx.recorder.emit(TranslationAvailable(self.env.now, flow.name))

    def start_marks(self, subscription: int) -> Marks | None:
        """The destination group's offsets a failed-over group starts from."""
        return self.checkpoints.get(subscription)

    def target_hold(self, i: int) -> float:
        """The lowest destination offset of partition ``i`` a failed-over group may
        start from (the destination keeps its rows from there)."""
        low = math.inf
        for marks in self.checkpoints.values():
            mark = marks[i]
            low = min(low, mark[1] if mark is not None else 0)
        return low

    def upstream_of(self, i: int, downstream: int) -> int | None:
        """Replicator translates only toward the destination of its flow: a group that
        read this flow's copies in the destination has no translated offset back in the
        source (None; ``auto.offset.reset`` decides)."""
        return None


__all__ = ["TimestampOffsets", "consumed_timestamp", "offset_for_time", "record_timestamp"]
