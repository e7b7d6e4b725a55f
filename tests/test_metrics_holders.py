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
