"""Row arithmetic of the availability fold's holders (geosim.metrics.holders)."""

from __future__ import annotations

import math

import numpy as np

from geosim.metrics.holders import DUE, totals


def test_totals_sum_the_rows_and_take_the_earliest_first_ack():
    # columns: records, bytes, first ack, counted records, counted bytes, one due time
    rows = np.array([[3, 300, 12.5, 1, 100, 20.0],
                     [2, 250, 11.0, 2, 250, 21.0]], dtype=float)
    assert rows.shape[1] == DUE + 1
    assert totals(rows) == (5, 550, 11.0, 3, 350)


def test_totals_of_no_rows_are_nothing_and_no_first_ack():
    assert totals(np.empty((0, DUE + 1))) == (0, 0, math.inf, 0, 0)


def _row(records: float, counted: float = 0.0, due: float = 60.0) -> list[float]:
    return [records, records * 10, 1.0, counted, counted * 10, due]


def test_a_cohort_keeps_its_rows_in_order_through_appends_growth_and_filtering():
    from geosim.metrics.holders import Cohort

    cohort = Cohort("us-west1", frozenset({"us-west1"}), ("us-west2",))
    assert (cohort.size, cohort.rows().shape) == (0, (0, DUE + 1))
    for k in range(10):
        cohort.append(_row(k))
    assert cohort.size == 10                       # appended rows count before a read
    cohort.extend(np.array([_row(k) for k in range(10, 40)]))   # past 16: grows
    cohort.append(_row(40))
    rows = cohort.rows()
    assert rows[:, 0].tolist() == list(range(41)) and cohort.size == 41
    cohort.keep(rows[:, 0] % 10 == 3)              # 3, 13, 23, 33
    assert cohort.rows()[:, 0].tolist() == [3, 13, 23, 33]
    for k in range(200):
        cohort.append(_row(100 + k))
    cohort.keep(cohort.rows()[:, 0] >= 298)        # most rows gone: a smaller array
    assert cohort.rows()[:, 0].tolist() == [298, 299]
    assert cohort.rows()[:, 1].tolist() == [2980, 2990]


def test_a_holder_is_counted_once_any_of_its_records_was_counted_unavailable():
    from geosim.metrics.holders import Cohort, CopyGroup, counted

    assert not counted(CopyGroup("us-west1", frozenset()))
    assert counted(CopyGroup("us-west1", frozenset(), counted_records=1))
    assert counted(CopyGroup("us-west1", frozenset(), counted_bytes=1))
    cohort = Cohort("us-west1", frozenset(), ("us-west2",))
    assert not counted(cohort)
    cohort.append(_row(5))
    assert not counted(cohort)
    cohort.append(_row(5, counted=2))
    assert counted(cohort)


def test_a_new_tracked_object_holds_nothing_yet():
    from geosim.metrics.holders import NONE, TrackedObject

    obj = TrackedObject(7, "us-west1", 12.5)
    assert (obj.oid, obj.writer, obj.t_store) == (7, "us-west1", 12.5)
    assert (obj.existing, obj.pending, obj.blocked) == ([], [], NONE)
    assert (obj.records, obj.bytes, obj.first_ack, obj.rows_acked) == (0, 0, math.inf, 0)
    assert (obj.counted_records, obj.counted_bytes, obj.since, obj.due) == (0, 0, None, None)
    assert (obj.lost, obj.released) == (False, False)


def test_a_cohort_shrunk_with_more_rows_than_its_minimum_keeps_them_all():
    from geosim.metrics.holders import Cohort

    cohort = Cohort("us-west1", frozenset(), ("us-west2",))
    cohort.extend(np.array([_row(k) for k in range(300)]))
    cohort.keep(cohort.rows()[:, 0] >= 280)        # 20 of 300 left: reallocated
    assert cohort.rows()[:, 0].tolist() == list(range(280, 300))
