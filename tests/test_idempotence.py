"""Idempotent producers' sequence checks and offsets (geosim.kafka.idempotence), exact:
each rule of ``PartitionLog.append`` and ``truncate`` on hand-built rows."""

from __future__ import annotations

from geosim.clients.sequences import EPOCH_SHIFT
from geosim.core.events import Row
from geosim.kafka.idempotence import PartitionLog


def row(n: int, *, epoch: int = 0, fleet: int = 1, partition: int = 0, records: int = 10,
        offset: int = -1) -> Row:
    return Row(fleet=fleet, partition=partition, seq=epoch << EPOCH_SHIFT | n,
               records=records, bytes_uncompressed=records, bytes_compressed=records,
               send_first=0.0, send_last=0.0, offset=offset)


def outcome(log: PartitionLog, *rows: Row) -> tuple[list, list, list]:
    """(appended (seq n, offset), rejected seq n, duplicate seq n)."""
    appended, rejected, duplicates = log.append(list(rows))
    mask = (1 << EPOCH_SHIFT) - 1
    return ([(r.seq & mask, r.offset) for r in appended], [r.seq & mask for r in rejected],
            [r.seq & mask for r in duplicates])


def test_a_producer_starts_at_sequence_zero_in_any_epoch():
    log = PartitionLog(1)
    assert outcome(log, row(1)) == ([], [1], [])
    assert outcome(log, row(0, epoch=3)) == ([(0, 0)], [], [])


def test_within_an_epoch_the_next_sequence_is_appended_a_repeat_is_a_duplicate_a_gap_rejected():
    log = PartitionLog(1)
    assert outcome(log, row(0), row(1), row(2, records=5)) == (
        [(0, 0), (1, 10), (2, 20)], [], [])
    assert log.next_offset == [25]
    # a retry of 1 (its ack was lost), then 4 (3 is missing), then 3
    assert outcome(log, row(1), row(2), row(4), row(3)) == ([(3, 25)], [4], [1, 2])
    assert log.next_offset == [35]


def test_a_new_epoch_restarts_at_zero_and_an_older_one_is_fenced():
    log = PartitionLog(1)
    outcome(log, row(0), row(1))
    assert outcome(log, row(1, epoch=1)) == ([], [1], [])     # must start at 0
    assert outcome(log, row(0, epoch=1)) == ([(0, 20)], [], [])
    assert outcome(log, row(2, epoch=0)) == ([], [2], [])     # the old epoch: fenced
    assert outcome(log, row(0, epoch=0)) == ([], [0], [])


def test_fleets_and_partitions_keep_their_own_sequences_and_offsets():
    log = PartitionLog(2)
    assert outcome(log, row(0, fleet=1), row(0, fleet=2), row(0, fleet=1, partition=1),
                   row(1, fleet=2, records=3)) == ([(0, 0), (0, 10), (0, 0), (1, 20)], [], [])
    assert log.next_offset == [23, 10]


def test_a_row_written_before_under_another_epoch_is_appended_as_a_second_copy():
    log = PartitionLog(1)
    [first], _, _ = log.append([row(0)])
    assert first.offset == 0
    # the producer bumped its epoch and renumbered the row it never heard back about
    first.seq = 1 << EPOCH_SHIFT
    [copy], _, _ = log.append([first])
    assert copy is not first and (first.offset, copy.offset) == (0, 10)


def test_truncation_rebuilds_the_producers_state_from_the_rows_left():
    log = PartitionLog(2)
    rows = [row(0, fleet=1), row(0, fleet=2), row(1, fleet=1), row(1, fleet=2),
            row(2, fleet=1)]
    log.append(rows)
    log.append([row(0, fleet=3, partition=1)])
    # the log of partition 0 now ends at 30: fleet 1's last row left is seq 1, fleet
    # 2's seq 0 (its seq 1 at 30 was cut)
    log.truncate(0, 30, rows[:3])
    assert log.next_offset == [30, 10]
    assert outcome(log, row(1, fleet=1), row(2, fleet=1), row(1, fleet=2)) == (
        [(2, 30), (1, 40)], [], [1])
    # everything of partition 0 cut: every fleet starts afresh there, not on partition 1
    log.truncate(0, 0, [])
    assert outcome(log, row(0, fleet=1), row(5, fleet=2)) == ([(0, 0)], [5], [])
    assert outcome(log, row(0, fleet=3, partition=1)) == ([], [], [0])
