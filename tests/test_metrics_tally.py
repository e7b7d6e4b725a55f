"""The unavailability and loss tally (geosim.metrics.tally), with hand-made intervals."""

from __future__ import annotations

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
