"""Fixed-width bins of per-region sums (geosim.metrics.timeseries), exact."""

from __future__ import annotations

import math
from array import array

import numpy as np
import pytest

from geosim.metrics.timeseries import BinnedSeries, bump


def test_bump_grows_a_column_with_zeros_and_64_bins_to_spare():
    column = array("d")
    bump(column, 0, 2.5)
    assert list(column) == [2.5] + [0.0] * 64
    bump(column, 64, 1.0)                 # the last spare bin: no growth
    assert len(column) == 65 and column[64] == 1.0
    bump(column, 65, 3.0)                 # one past: 65 + 1 + 64 bins
    assert len(column) == 130 and column[65] == 3.0
    bump(column, 0, 0.5)
    assert column[0] == 3.0 and sum(column) == 7.0


@pytest.mark.parametrize("width", [0, -1.0, math.nan])
def test_a_bin_width_must_be_positive(width):
    with pytest.raises(ValueError, match="bin_width must be > 0"):
        BinnedSeries(width)


def test_times_fall_in_half_open_bins_and_negative_ones_in_the_first():
    s = BinnedSeries(2.0)
    assert [s.index(t) for t in (-5.0, 0.0, 1.999, 2.0, 3.9, 4.0)] == [0, 0, 0, 1, 1, 2]
    assert [s.nbins(t) for t in (0.0, 0.5, 2.0, 2.0 + 1e-12, 2.1, 6.0)] == [1, 1, 1, 1, 2, 3]


def test_a_width_that_is_not_a_binary_fraction_puts_decimal_edges_in_the_bin_they_start():
    # 0.3 // 0.1 is 2.0 and 0.7 // 0.1 is 6.0 in binary floating point
    s = BinnedSeries(0.1)
    assert [s.index(t) for t in (0.3, 0.7, 1.0, 0.29999)] == [3, 7, 10, 2]


def test_sums_by_region_and_metric():
    s = BinnedSeries(1.0)
    s.add("us-west1", "acked_records", 0.5, 10)
    s.add("us-west1", "acked_records", 0.9, 5)
    s.add("us-west1", "acked_records", 2.0, 7)
    s.add("us-east1", "acked_records", 1.0, 0)
    assert s.column("us-west1", "acked_records") is s.column("us-west1", "acked_records")
    assert s.values("us-west1", "acked_records", 4).tolist() == [15.0, 0.0, 7.0, 0.0]
    assert s.values("us-west1", "acked_records", 2).tolist() == [15.0, 0.0]   # cut
    assert s.values("us-west1", "failed_records", 3).tolist() == [0.0, 0.0, 0.0]
    assert s.has("us-west1", "acked_records") and not s.has("us-east1", "acked_records")
    assert not s.has("us-west1", "failed_records")
    assert s.regions() == ["us-east1", "us-west1"]
    s.column("eu-west1", "x")                         # an empty column: zeros
    assert np.array_equal(s.values("eu-west1", "x", 2), np.zeros(2))
