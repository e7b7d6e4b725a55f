"""The rate-based RTO (geosim.metrics.recovery), on hand-made bins: each rule of the
module docstring worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from geosim.metrics.recovery import baseline_rate, rate_recovery_time

B = np.array


@pytest.mark.parametrize(("bins", "width", "warmup", "fault", "rate"), [
    ([0, 0, 10, 20, 30, 99], 1.0, 2.0, 5.0, 20.0),     # bins 2..4
    ([0, 0, 10, 20, 30, 99], 1.0, 1.5, 4.5, 15.0),     # whole bins only: 2..3
    ([0, 8, 12, 16, 99], 2.0, 2.0, 7.0, 5.0),          # bins 1..2 of 2 s: (8 + 12) / 2 / 2
    ([10, 10], 1.0, 0.0, 4.0, 5.0),                    # bins past the data count as 0
    ([0, 0, 0, 40, 40], 0.1, 0.3, 0.5, 400.0),         # 0.3 / 0.1 is 2.99..96: bin 3
    ([10, 10, 10], 1.0, 2.0, 2.9, None),               # no whole bin: no baseline
    ([10, 10, 10], 1.0, 2.0, 2.0, None),
])
def test_the_baseline_is_the_mean_rate_of_the_whole_bins_before_the_fault(
        bins, width, warmup, fault, rate):
    got = baseline_rate(B(bins, dtype=float), width, warmup, fault)
    assert got == (None if rate is None else pytest.approx(rate))


OUTAGE = [10] * 5 + [0, 0] + [10] * 8           # out in bins 5 and 6, back from 7


@pytest.mark.parametrize(("bins", "fault", "end", "baseline", "expected"), [
    ([10] * 15, 5.0, 15.0, 10.0, 0.0),             # never dropped
    (OUTAGE, 5.0, 15.0, 10.0, 2.0),                # window means 0, 5, 10, ...: bin 7
    ([10] * 5 + [0, 0, 30] + [10] * 7, 5.0, 15.0, 10.0, 3.0),   # a burst is not back
    ([10] * 5 + [0] * 10, 5.0, 15.0, 10.0, None),  # never back
    (OUTAGE, 5.0, 15.0, None, None),               # no baseline
    (OUTAGE, 5.0, 15.0, 0.0, None),
    (OUTAGE, 15.0, 15.0, 10.0, None),              # nothing after the fault
    (OUTAGE, 14.0, 15.0, 10.0, None),              # fewer bins than one window
    ([10] * 5 + [0, 0], 5.0, 7.0, 10.0, None),     # one window: no two to agree
    (OUTAGE, 5.5, 15.0, 10.0, 1.5),                # from the fault's bin: 7 - 5.5
    (OUTAGE, 6.7, 15.0, 10.0, 0.3),                # bin 6 holds it: back at 7
    ([0] + [10] * 9, -2.0, 10.0, 10.0, 3.0),       # a fault before 0: from bin 0
    ([10] * 7, 5.0, 7.0, 10.0, 0.0),               # exactly one window, never dropped
    ([10] * 5 + [14] + [10] * 9, 5.0, 15.0, 10.0, 0.0),   # a burst alone is no drop
    # window means 12, 9, 10, ...: 9 is at the band's edge, not below it
    ([10] * 5 + [14, 10, 8, 12] + [10] * 6, 5.0, 15.0, 10.0, 0.0),
    ([10] * 5 + [0, 0] + [9] * 8, 5.0, 15.0, 10.0, 2.0),  # back at the edge: within
    # the rate drops two bins after the fault (the first dropped window starts at bin
    # 6) and is back from bin 9
    ([10] * 5 + [10, 10, 0, 0] + [10] * 6, 5.0, 15.0, 10.0, 4.0),
    ([0.5] * 5 + [0, 0] + [0.5] * 8, 5.0, 15.0, 0.5, 2.0),   # any positive baseline
])
def test_recovery_is_the_first_bin_from_which_sustained_windows_are_within_tolerance(
        bins, fault, end, baseline, expected):
    got = rate_recovery_time(B(bins, dtype=float), 1.0, fault, end, baseline, sustain=2)
    assert got == (None if expected is None else pytest.approx(expected))


def test_the_defaults_are_a_tenth_of_the_baseline_and_five_bins():
    # out for bins 5-7: window means of 5 bins 4, 6, 8, then 10 from bin 8
    bins = B([10] * 5 + [0] * 3 + [10] * 12, dtype=float)
    assert rate_recovery_time(bins, 1.0, 5.0, 20.0, 10.0) == 3.0
    # a quarter of the baseline: the mean 8 of bin 7's window is back already
    assert rate_recovery_time(bins, 1.0, 5.0, 20.0, 10.0, tolerance=0.25) == 2.0
    # bins of 2 s: the same data recover in bin 8 of 2 s
    assert rate_recovery_time(bins, 2.0, 10.0, 40.0, 5.0) == 6.0
    # production ending after 12 bins still leaves five windows of five from bin 8
    assert rate_recovery_time(bins, 1.0, 5.0, 17.0, 10.0) == 3.0


def test_the_last_whole_bin_before_the_end_of_production_counts():
    # 0.1 s bins: the fault at 0.3 s is bin 3 and production ends at 0.7 s (0.7 / 0.1
    # is 6.99..9 in floats), so bins 3 to 6; the rate is back from bin 4 and the two
    # windows (4, 5) and (5, 6) agree only with bin 6
    bins = B([10, 10, 10, 0, 10, 10, 10, 0, 0], dtype=float)
    assert rate_recovery_time(bins, 0.1, 0.3, 0.7, 100.0, sustain=2) == pytest.approx(0.1)
