"""An idempotent producer fleet's sequence numbers, epochs and retry queues.

A row's ``seq`` is ``epoch << 32 | n``: the producer epoch and the n-th row of the
partition in that epoch. A restarted producer takes a new epoch for every partition; a
partition whose sequence broke (a row expired, or was rejected out of order with
nothing earlier unanswered) takes a new epoch alone and numbers its pending rows afresh
from 0 (KIP-360, ``TransactionManager.canRetry`` and
``requestIdempotentEpochBumpForPartition``). Retries wait per partition in sequence
order (``RecordAccumulator.reenqueue``).
"""

from __future__ import annotations

from collections import deque

from geosim.core.events import Row

EPOCH_SHIFT = 32  # seq = producer epoch << 32 | sequence number within the epoch


class Sequences:
    """One fleet's sequence numbers and rows waiting to be retried."""

    __slots__ = ("epoch", "_base_epoch", "_pepoch", "_seq", "retry")

    def __init__(self) -> None:
        # The newest producer epoch; each partition numbers its rows in its own
        # (``_pepoch``, default ``_base_epoch``, the epoch of the last full bump).
        self.epoch = 0
        self._base_epoch = 0
        self._pepoch: dict[int, int] = {}
        self._seq: dict[int, int] = {}
        # Rows waiting to be retried, per partition in sequence order: (due time, row).
        self.retry: dict[int, deque[tuple[float, Row]]] = {}

    def next(self, partition: int) -> int:
        """The next row's ``seq`` in ``partition``."""
        n = self._seq.get(partition, 0)
        self._seq[partition] = n + 1
        return self._pepoch.get(partition, self._base_epoch) << EPOCH_SHIFT | n

    def bump(self, partitions: set[int] | None = None) -> None:
        """A new producer epoch, for ``partitions`` (default: all, as after a restart):
        their sequences restart at 0 and their pending retries are renumbered."""
        self.epoch += 1
        if partitions is None:
            self._base_epoch = self.epoch
            self._pepoch = {}
            self._seq = {}
        else:
            for p in partitions:
                self._pepoch[p] = self.epoch
                self._seq.pop(p, None)
        for p, queue in self.retry.items():
            if partitions is None or p in partitions:
                for _due, row in queue:
                    row.seq = self.next(p)

    def requeue(self, row: Row, due: float) -> None:
        """``row`` waits to be retried at ``due``, in its partition's sequence order."""
        queue = self.retry.get(row.partition)
        if queue is None:
            queue = self.retry[row.partition] = deque()
        queue.append((due, row))
        if len(queue) > 1 and queue[-2][1].seq > row.seq:
            self._sort(row.partition)

    def renumber_stale(self, rows: list[Row]) -> None:
        """Rows sent before an epoch bump of their partition, now waiting to be retried,
        take sequences of the new epoch (their queues stay in sequence order)."""
        renumbered = set()
        for row in rows:
            p = row.partition
            if row.seq >> EPOCH_SHIFT != self._pepoch.get(p, self._base_epoch):
                row.seq = self.next(p)
                renumbered.add(p)
        for p in renumbered:
            if len(self.retry[p]) > 1:
                self._sort(p)

    def earlier_unanswered(self, row: Row, sent_to: dict[tuple[int, int], int]) -> bool:
        """Whether a row of ``row``'s partition with a lower sequence of its epoch is in
        flight (``sent_to``) or waiting to be retried (Kafka: ``row`` is not the next
        sequence)."""
        p, seq = row.partition, row.seq
        epoch = seq >> EPOCH_SHIFT
        for q, s in sent_to:
            if q == p and s < seq and s >> EPOCH_SHIFT == epoch:
                return True
        return any(r.seq < seq and r.seq >> EPOCH_SHIFT == epoch
                   for _due, r in self.retry.get(p, ()) if r is not row)

    def _sort(self, partition: int) -> None:
        self.retry[partition] = deque(sorted(self.retry[partition],
                                             key=lambda item: item[1].seq))


__all__ = ["EPOCH_SHIFT", "Sequences"]
