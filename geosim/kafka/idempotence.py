"""Partition offsets and idempotent producers' sequence checks (Kafka engine, diskless).

Kafka's broker keeps, per producer and partition, the last sequence number it
appended; a batch must carry the next one (KIP-98, KIP-360 for epochs).
"""

from __future__ import annotations

from dataclasses import replace

from geosim.clients.sequences import EPOCH_SHIFT
from geosim.core.events import Row

SEQ_MASK = (1 << EPOCH_SHIFT) - 1


class PartitionLog:
    """Offsets of every partition and the idempotent producers' sequence numbers."""

    def __init__(self, partitions: int):
        self.next_offset = [0] * partitions
        self._last_seq: dict[tuple[int, int], int] = {}

    def append(self, rows: list[Row]) -> tuple[list[Row], list[Row], list[Row]]:
        """Assign offsets; returns (appended, rejected, duplicates).

        Idempotence per (producer fleet, partition): within an epoch a row must carry
        the next sequence number; a repeat is a duplicate of a row already in the log
        (a retry after a lost ack): it is not appended again, and the producer gets a
        success for it, as Kafka answers a duplicate sequence; a gap is rejected as out
        of order; a newer epoch must start at 0; an older epoch is fenced (rejected).
        """
        appended, rejected, duplicates = [], [], []
        last_seq = self._last_seq
        for row in rows:
            key = (row.fleet, row.partition)
            epoch, n = row.seq >> EPOCH_SHIFT, row.seq & SEQ_MASK
            last = last_seq.get(key)
            if last is None:
                ok = n == 0
            else:
                last_epoch, last_n = last >> EPOCH_SHIFT, last & SEQ_MASK
                if epoch == last_epoch:
                    if n <= last_n:
                        duplicates.append(row)  # keeps the offset of its first append
                        continue
                    ok = n == last_n + 1
                else:
                    newer = epoch > last_epoch  # mutate: equivalent: the two epochs differ here
                    ok = newer and n == 0
            if not ok:
                rejected.append(row)
                continue
            last_seq[key] = row.seq
            if row.offset >= 0:
                # Written before under another epoch (a retry after an unknown outcome):
                # a second copy of the data, with its own offset; the first stays put.
                row = replace(row)
            row.offset = self.next_offset[row.partition]
            self.next_offset[row.partition] += row.records
            appended.append(row)
        return appended, rejected, duplicates

    def truncate(self, partition: int, offset: int, remaining: list[Row]) -> None:
        """The partition's log now ends at ``offset``; ``remaining`` are its rows still
        held. Producer state is rebuilt from them, as a broker does from its log after
        truncation: a fleet whose rows were all cut off starts afresh."""
        self.next_offset[partition] = offset
        last: dict[int, int] = {}
        for row in remaining:
            last[row.fleet] = row.seq
        for key in [k for k in self._last_seq if k[1] == partition]:
            fleet = key[0]
            if fleet in last:
                self._last_seq[key] = last[fleet]
            else:
                del self._last_seq[key]


__all__ = ["PartitionLog"]
