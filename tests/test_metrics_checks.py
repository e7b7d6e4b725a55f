"""The Jepsen-style checks (geosim.metrics.checks.ConsistencyChecker) on hand-built rows,
with exact counts: every rule of the module docstring, at its boundaries."""

from __future__ import annotations

import pytest

from geosim.core.events import Rebalanced, Row
from geosim.metrics.checks import ConsistencyChecker


def row(offset: int, records: int = 10, *, seq: int = 0, partition: int = 0) -> Row:
    return Row(fleet=1, partition=partition, seq=seq, records=records,
               bytes_uncompressed=records, bytes_compressed=records,
               send_first=0.0, send_last=0.0, offset=offset)


def counts(checker: ConsistencyChecker) -> dict[str, int]:
    r = checker.report
    return {"duplicates": r.duplicates, "skips": r.skips, "reorders": r.reorders,
            "duplicate_writes": r.duplicate_writes,
            "redelivered_after_rebalance": r.redelivered_after_rebalance}


def test_the_window_must_be_at_least_one():
    assert ConsistencyChecker(window=1).window == 1
    with pytest.raises(ValueError, match="window must be >= 1, got 0"):
        ConsistencyChecker(window=0)


# --- deliveries -------------------------------------------------------------------

def test_rows_without_an_offset_are_not_checked_and_offset_zero_is():
    c = ConsistencyChecker()
    c.on_delivered(1.0, 1, row(-1))
    c.on_delivered(1.0, 1, row(0))       # the first row at offset 0: the starting point
    c.on_delivered(2.0, 1, row(0))       # the same 10 records again
    assert counts(c)["duplicates"] == 10


def test_a_re_read_keeps_its_cause_until_it_catches_up():
    c = ConsistencyChecker()
    c.on_delivered(1.0, 1, row(0))
    c.on_delivered(2.0, 1, row(10))
    c.on_delivered(3.0, 1, row(5, 5))    # rewound without a rebalance: 5 duplicates
    c.on_rebalanced(Rebalanced(3.5, 1, (0,), "session timeout", (0,)))
    c.on_delivered(4.0, 1, row(10, 5))   # the re-read goes on: still duplicates
    c.on_delivered(5.0, 1, row(15, 10))  # 15..19 again, then new records 20..24
    assert counts(c) == {"duplicates": 15, "skips": 0, "reorders": 0,
                         "duplicate_writes": 0, "redelivered_after_rebalance": 0}
    c.on_delivered(6.0, 1, row(25, 5))   # contiguous after catching up: nothing
    # a new rewind: the group's last rebalance (3.5 s) came before its previous
    # delivery (6 s), so these are duplicates
    c.on_delivered(7.0, 1, row(10, 5))
    assert counts(c)["duplicates"] == 20


def test_a_rebalance_at_the_previous_delivery_or_later_marks_the_re_read():
    c = ConsistencyChecker()
    c.on_delivered(1.0, 1, row(0))
    c.on_delivered(2.0, 1, row(10))
    c.on_rebalanced(Rebalanced(2.0, 1, (0,), "member 1 joined", (0,)))  # same instant
    c.on_delivered(3.0, 1, row(12, 3))   # the new owner resumes from a committed offset
    assert counts(c)["redelivered_after_rebalance"] == 3
    assert counts(c)["duplicates"] == 0
    c.on_delivered(4.0, 1, row(15, 10))  # 15..19 again, same cause; 20..24 new
    assert counts(c)["redelivered_after_rebalance"] == 8
    c.on_delivered(5.0, 2, row(0))       # another group is independent
    c.on_delivered(5.0, 1, row(0, 5, partition=1))   # so is another partition
    assert counts(c)["redelivered_after_rebalance"] == 8


def test_a_jump_past_the_highest_end_skips_the_records_between():
    c = ConsistencyChecker()
    c.on_delivered(1.0, 1, row(0))
    c.on_delivered(2.0, 1, row(3, 2))    # re-read 3..4 (2 duplicates), cursor 5
    c.on_delivered(3.0, 1, row(10))      # back at the highest end (10): no skip
    c.on_delivered(4.0, 1, row(27, 3))   # 20..26 skipped
    assert counts(c)["duplicates"] == 2 and counts(c)["skips"] == 7


# --- acknowledgements -----------------------------------------------------------------

def test_acks_at_offset_zero_are_checked_and_unassigned_ones_are_not():
    c = ConsistencyChecker()
    c.on_acked(1, row(-1, seq=5))
    c.on_acked(1, row(0, seq=0))
    c.on_acked(1, row(0, seq=1))         # a later seq at the same offset
    assert counts(c)["reorders"] == 1


def test_a_later_seq_must_land_at_a_higher_offset():
    c = ConsistencyChecker()
    c.on_acked(1, row(10, seq=1))
    c.on_acked(1, row(10, seq=2))        # same offset, later seq: reorder
    c.on_acked(1, row(5, seq=3))         # lower offset, later seq: reorder
    c.on_acked(1, row(20, seq=4))        # in order
    c.on_acked(2, row(0, seq=9))         # another fleet: independent
    assert counts(c)["reorders"] == 2
    assert c._acks[(1, 0)][0].tolist() == [1, 4]


def test_the_same_seq_again_is_a_duplicate_write_only_at_another_offset():
    c = ConsistencyChecker()
    for seq, offset in [(1, 10), (2, 20), (3, 30)]:
        c.on_acked(1, row(offset, seq=seq))
    c.on_acked(1, row(20, seq=2))        # an idempotent re-acknowledgement
    assert counts(c)["duplicate_writes"] == 0
    c.on_acked(1, row(40, 7, seq=2))     # seq 2 written a second time
    assert counts(c)["duplicate_writes"] == 7 and counts(c)["reorders"] == 0
    c.on_acked(1, row(30, seq=3))        # the newest seq re-acknowledged: nothing
    assert counts(c) == {"duplicates": 0, "skips": 0, "reorders": 0,
                         "duplicate_writes": 7, "redelivered_after_rebalance": 0}
    c.on_acked(1, row(50, 4, seq=3))     # the newest seq at a higher offset
    assert counts(c)["duplicate_writes"] == 11 and counts(c)["reorders"] == 0


@pytest.mark.parametrize(("seq", "offset", "reorders", "stored"), [
    (5, 15, 0, True),    # between (1, 10) and (10, 20): consistent, kept
    (5, 20, 1, False),   # at the next entry's offset: contradicts it
    (5, 10, 1, False),   # at the previous entry's offset: contradicts it
    (5, 25, 1, False),   # above a later seq's offset
    (0, 5, 0, True),     # below the first kept entry, nothing evicted yet: kept
    (0, 10, 1, False),   # at the first entry's offset
])
def test_an_out_of_order_ack_is_kept_if_consistent_both_ways(seq, offset, reorders, stored):
    c = ConsistencyChecker()
    for s, o in [(1, 10), (10, 20), (20, 30)]:
        c.on_acked(1, row(o, seq=s))
    c.on_acked(1, row(offset, seq=seq))
    assert counts(c)["reorders"] == reorders
    assert (seq in c._acks[(1, 0)][0].tolist()) is stored


def test_memory_keeps_the_newest_window_to_twice_the_window_of_seqs():
    # window 2: the fifth ack (more than 2 x 2) drops all but the newest 2; the highest
    # dropped seq (20) is remembered, so an ack below the kept ones (30, 40) is stored
    # only above it
    c = ConsistencyChecker(window=2)
    for s in (0, 10, 20, 30):
        c.on_acked(1, row(s, seq=s))
    assert c._acks[(1, 0)][0].tolist() == [0, 10, 20, 30]
    c.on_acked(1, row(40, seq=40))
    seqs, offsets, evicted = c._acks[(1, 0)]
    assert (seqs.tolist(), offsets.tolist(), evicted) == ([30, 40], [30, 40], 20)
    c.on_acked(1, row(25, seq=25))       # above the evicted 20: kept
    c.on_acked(1, row(15, seq=15))       # below it: compared, not kept
    assert c._acks[(1, 0)][0].tolist() == [25, 30, 40]
    c.on_acked(1, row(20, seq=20))       # the highest evicted seq itself: not kept
    assert c._acks[(1, 0)][0].tolist() == [25, 30, 40]
    c.on_acked(1, row(26, seq=25))       # seq 25 again elsewhere: a duplicate write
    c.on_acked(1, row(16, seq=15))       # too old to tell: consistent with 25, nothing
    c.on_acked(1, row(21, seq=20))       # the same
    assert counts(c)["duplicate_writes"] == 1 * 10 and counts(c)["reorders"] == 0


def test_the_default_window_is_128_seqs():
    c = ConsistencyChecker()
    for s in range(257):
        c.on_acked(1, row(s, 1, seq=s))
    seqs, _offsets, evicted = c._acks[(1, 0)]
    assert (len(seqs), seqs[0], evicted) == (128, 129, 128)
    c = ConsistencyChecker()
    for s in range(256):
        c.on_acked(1, row(s, 1, seq=s))
    assert len(c._acks[(1, 0)][0]) == 256
