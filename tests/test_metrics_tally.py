"""The unavailability and loss tally (geosim.metrics.tally), with hand-made intervals."""

from __future__ import annotations

import math

from geosim.metrics.tally import Tally


def test_the_longest_interval_of_any_writer_is_the_reports_max():
    """Each writer's ``max_seconds`` is its longest unreadable interval (closed ones, and
    open ones ending at the report); the report's is the longest of them all."""
    tally = Tally()
    tally.close("us-west1", 10.0, 40.0)      # 30 s
    tally.close("us-west1", 42.0, 44.0)      # 2 s
    tally.close("us-west2", 20.0, 25.0)      # 5 s
    _loss, unavailable = tally.report(50.0, holders=[])
    assert unavailable.max_seconds == 30.0
    assert {w: u.max_seconds for w, u in unavailable.by_region.items()} == {
        "us-west1": 30.0, "us-west2": 5.0}
    # an open interval of us-west2 since 8 s, still unreadable at 50 s: 42 s
    _loss, unavailable = tally.report(50.0, holders=[("us-west2", 8.0, 10)])
    assert unavailable.max_seconds == 42.0
    assert unavailable.by_region["us-west2"].max_seconds == 42.0
    assert unavailable.open_records == 10


def test_a_cohort_counted_unavailable_again_adds_only_its_rows_not_yet_counted():
    """Mutation round seven (``tally.py:54 - -> +``): a cohort's unavailable records and
    bytes are counted once per row. Two rows (10 records / 100 bytes, 20 / 200) counted:
    30 and 300; counted again with nothing new: still 30 and 300; a third row (5 / 50)
    then counted: 35 and 350."""
    from geosim.metrics.holders import Cohort

    tally = Tally()
    cohort = Cohort("us-west1", frozenset({"us-west1"}), ("us-west2",))
    cohort.append([10.0, 100.0, 1.0, 0.0, 0.0, 60.0])
    cohort.append([20.0, 200.0, 2.0, 0.0, 0.0, 61.0])
    totals = []
    for new_row in (None, None, [5.0, 50.0, 3.0, 0.0, 0.0, 62.0]):
        if new_row is not None:
            cohort.append(new_row)
        tally.count_holder_unavailable(cohort)
        entry = tally.unavailable["us-west1"]
        totals.append((entry.records, entry.bytes))
    assert totals == [(30, 300), (30, 300), (35, 350)]


def test_a_copy_group_counts_only_what_it_gained_since_it_was_last_counted():
    from geosim.metrics.holders import CopyGroup

    tally = Tally()
    group = CopyGroup("us-west1", frozenset({"us-west1"}), records=40, bytes=400,
                      counted_records=10, counted_bytes=150)
    tally.count_holder_unavailable(group)
    assert (tally.unavailable["us-west1"].records, tally.unavailable["us-west1"].bytes) == (
        30, 250)
    assert (group.counted_records, group.counted_bytes) == (40, 400)
    tally.count_holder_unavailable(group)           # nothing new: no change, no entry
    other = CopyGroup("us-west2", frozenset({"us-west2"}))
    tally.count_holder_unavailable(other)
    assert set(tally.unavailable) == {"us-west1"}
    assert tally.unavailable["us-west1"].records == 30
    # records without bytes (or the reverse) still count
    tally.count_holder_unavailable(CopyGroup("us-west2", frozenset(), records=5))
    tally.count_holder_unavailable(CopyGroup("us-east1", frozenset(), bytes=7))
    assert (tally.unavailable["us-west2"].records, tally.unavailable["us-east1"].bytes) == (5, 7)


def test_a_loss_has_an_rpo_only_with_records_and_an_ack():
    """RPO = the start of the fault that caused the loss less the oldest lost record's
    first ack (domain.md §7), never negative; the region's is the largest of its
    losses."""
    tally = Tally(fault_starts=[100.0, 30.0])
    tally.count_lost("us-west1", 10, 100, first_ack=80.0, t_loss=120.0)   # 100 - 80
    assert tally.lost["us-west1"].rpo_seconds == 20.0
    tally.count_lost("us-west1", 5, 50, first_ack=95.0, t_loss=130.0)     # 5: smaller
    tally.count_lost("us-west1", 0, 0, first_ack=10.0, t_loss=130.0)      # no records
    tally.count_lost("us-west1", 3, 30, first_ack=math.inf, t_loss=130.0)  # never acked
    assert (tally.lost["us-west1"].records, tally.lost["us-west1"].rpo_seconds) == (18, 20.0)
    tally.count_lost("us-west2", 1, 10, first_ack=40.0, t_loss=50.0)      # fault at 30
    # no fault begun by then: measured from the loss itself, 25 - 20
    tally.count_lost("us-east1", 1, 10, first_ack=20.0, t_loss=25.0)
    assert tally.lost["us-west2"].rpo_seconds == 0.0      # acked after its fault: 0
    assert tally.lost["us-east1"].rpo_seconds == 5.0
    assert tally.fault_start(25.0) == 25.0 and tally.fault_start(30.0) == 30.0


def test_a_loss_withdraws_what_was_counted_unavailable():
    tally = Tally()
    tally.count_unavailable("us-west1", 50, 500)
    tally.lose("us-west1", 20, 200, math.inf, since=10.0, counted_records=20,
               counted_bytes=0, t=60.0)
    tally.lose("us-west1", 5, 50, math.inf, since=None, counted_records=0,
               counted_bytes=50, t=60.0)
    assert (tally.unavailable["us-west1"].records, tally.unavailable["us-west1"].bytes) == (
        30, 450)
    assert (tally.lost["us-west1"].records, tally.lost["us-west1"].bytes) == (25, 250)


def test_an_interval_closed_twice_keeps_its_latest_end_and_an_open_one_ends_at_the_report():
    tally = Tally()
    tally.close("us-west1", 10.0, 40.0)
    tally.close("us-west1", 10.0, 25.0)
    tally.close("us-west2", 8.0, 20.0)
    # us-west2's interval since 8 s is open again at the report (60 s): it ends there
    _loss, unavailable = tally.report(60.0, holders=[("us-west2", 8.0, 3),
                                                     ("us-west1", None, 9),
                                                     ("us-east1", 50.0, 0)])
    assert {w: u.max_seconds for w, u in unavailable.by_region.items()} == {
        "us-west1": 30.0, "us-west2": 52.0}
    assert unavailable.open_records == 3
    assert unavailable.intervals == [(8.0, 60.0)]


def test_an_empty_tally_reports_nothing():
    loss, unavailable = Tally().report(60.0, holders=[])
    assert (loss.records, loss.bytes, loss.rpo_seconds, loss.untracked_records,
            loss.by_region) == (0, 0, 0.0, 0, {})
    assert (unavailable.records, unavailable.bytes, unavailable.intervals,
            unavailable.max_seconds, unavailable.open_records, unavailable.by_region) == (
        0, 0, [], 0.0, 0, {})
