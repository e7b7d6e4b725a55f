"""Jepsen-style checks on acknowledged writes and deliveries (domain.md §7).

**Deliveries**, per (consumer group, partition): rows must arrive at contiguous
base offsets, each row starting where the previous one ended. A row starting
below that point starts a *re-read*: the records it shares with what the group
already received (below the highest offset delivered so far) are delivered
twice. They count as ``redelivered_after_rebalance`` if the group rebalanced
since the partition's previous delivery (a new owner resuming from the last
committed offset), else as ``duplicates``; a re-read keeps its cause until it
catches up. A row starting above the highest offset delivered so far skips the
records in between (``skips``). A group's first row on a partition only sets the
starting point (it may legally start anywhere).

**Acknowledgements**, per (producer fleet, partition): acked rows must have
increasing sequence numbers at increasing offsets. An ack whose (seq, offset)
contradicts an earlier one (a later seq at a lower offset, or the reverse)
counts one ``reorder``; the same seq acked again at a different offset counts its
records as ``duplicate_writes`` (the same offset again is an idempotent
re-acknowledgement, not an anomaly). To keep memory bounded the comparison uses
the most recent ``window`` to ``2 * window`` seqs acked per (fleet, partition)
(older ones are dropped in batches); an ack below them is compared with the
lowest kept entry only, so a duplicate that old is reported as a reorder.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left

from geosim.core.events import Rebalanced, Row
from geosim.metrics.report import CheckReport


class ConsistencyChecker:
    """Streaming duplicate / skip / reorder detection with bounded memory."""

    def __init__(self, *, window: int = 128):
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.window = window
        # (group, partition) -> [cursor, highest end, last delivery time, rebalance flag]
        self._delivery: dict[tuple[int, int], list] = {}
        # (group, partition) -> when it last resumed from its committed offset
        self._rebalanced_at: dict[tuple[int, int], float] = {}
        # (fleet, partition) -> ([seq ascending], [offset], highest evicted seq)
        self._acks: dict[tuple[int, int], list] = {}
        self.report = CheckReport()

    def on_rebalanced(self, ev: Rebalanced) -> None:
        """The partitions ``ev`` names resume from their commits: what their next
        owner reads again is re-delivered after a rebalance, not duplicated."""
        at = self._rebalanced_at
        for p in ev.reassigned:
            at[(ev.group, p)] = ev.t

    def on_delivered(self, t: float, group: int, row: Row) -> None:
        """One delivered row (hot path)."""
        offset = row.offset
        if offset < 0:
            return
        end = offset + row.records
        key = (group, row.partition)
        st = self._delivery.get(key)
        if st is None:
            # equivalent: the flag is read only after a rewind, which sets it first
            self._delivery[key] = [end, end, t, False]  # mutate: equivalent
            return
        cursor, high, last_t, after_rebalance = st
        if offset < cursor:  # rewound: a new re-read begins
            after_rebalance = self._rebalanced_at.get(key, -math.inf) >= last_t
        # equivalent: at offset == high a re-read would add min(end, high) - offset = 0
        if offset < high:  # mutate: equivalent
            again = min(end, high) - offset
            if after_rebalance:
                self.report.redelivered_after_rebalance += again
            else:
                self.report.duplicates += again
        elif offset > high:  # mutate: equivalent: at offset == high, >= adds 0 skips
            self.report.skips += offset - high
        st[0] = end
        if end > high:  # mutate: equivalent: at end == high it writes the same value
            st[1] = end
        st[2] = t
        st[3] = after_rebalance

    def on_acked(self, fleet: int, row: Row) -> None:
        """One acknowledged row (hot path)."""
        offset = row.offset
        if offset < 0:
            return
        seq = row.seq
        key = (fleet, row.partition)
        st = self._acks.get(key)
        if st is None:
            # array('q') keeps 8 bytes per entry (a list of ints would take ~36).
            # equivalent: seqs are >= 0, so any negative means none evicted yet
            self._acks[key] = [array("q", (seq,)), array("q", (offset,)), -1]  # mutate: equivalent
            return
        seqs, offsets, evicted = st
        if seq > seqs[-1]:  # the common case: acks in seq order
            if offset > offsets[-1]:
                seqs.append(seq)
                offsets.append(offset)
                if len(seqs) > 2 * self.window:
                    drop = len(seqs) - self.window
                    st[2] = seqs[drop - 1]
                    del seqs[:drop]
                    del offsets[:drop]
            else:
                self.report.reorders += 1
            return
        i = bisect_left(seqs, seq)
        if seqs[i] == seq:
            if offsets[i] != offset:
                self.report.duplicate_writes += row.records
            return
        consistent = offset < offsets[i] and (i == 0 or offsets[i - 1] < offset)
        if not consistent:
            self.report.reorders += 1
        elif seq > evicted:
            # Keep the window ordered both ways; an ack at or below the highest evicted
            # seq is not stored (every kept seq is above it).
            seqs.insert(i, seq)
            offsets.insert(i, offset)
