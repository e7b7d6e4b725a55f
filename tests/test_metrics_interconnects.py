"""Utilisation of shared interconnects (geosim.metrics.interconnects), exact."""

from __future__ import annotations

import numpy as np
import pytest

from geosim.metrics.interconnects import interconnect_series, interconnect_summary

# 1,000 bytes/s in 2 s bins: 2,000 bytes fill a bin
USAGE = {"gw": (1000.0, ([2000, 1000, 500, 1500], [0, 100])),
         "backbone": (500.0, ([], [1000]))}


def test_the_series_is_each_bins_bytes_over_what_the_capacity_moves_in_a_bin():
    series = interconnect_series(USAGE, nbins=3, bin_width=2.0)
    assert [(name, metric) for name, metric, _v in series] == [
        ("backbone", "utilisation_forward"), ("backbone", "utilisation_reverse"),
        ("gw", "utilisation_forward"), ("gw", "utilisation_reverse")]
    values = {(n, m): v.tolist() for n, m, v in series}
    assert values[("gw", "utilisation_forward")] == [1.0, 0.5, 0.25]   # cut at 3 bins
    assert values[("gw", "utilisation_reverse")] == [0.0, 0.05, 0.0]   # padded
    assert values[("backbone", "utilisation_forward")] == [0.0, 0.0, 0.0]
    assert values[("backbone", "utilisation_reverse")] == [1.0, 0.0, 0.0]
    assert all(isinstance(v, np.ndarray) and len(v) == 3 for _n, _m, v in series)


def test_the_summary_gives_bytes_the_largest_bin_and_the_mean_over_production():
    summary = interconnect_summary(USAGE, bin_width=2.0, production_end=6.0)
    assert list(summary) == ["backbone", "gw"]
    gw = summary["gw"]
    assert gw["bandwidth"] == 1000.0
    # the 1,500 bytes of the fourth bin (a backlog sent after production) count in the
    # bytes, not in the mean over the 3 production bins
    assert gw["forward"] == {"bytes": 5000, "max_utilisation": 1.0,
                             "mean_utilisation": 3500 / 6000}
    assert gw["reverse"] == {"bytes": 100, "max_utilisation": 0.05,
                             "mean_utilisation": 100 / 6000}
    assert summary["backbone"]["forward"] == {"bytes": 0, "max_utilisation": 0.0,
                                              "mean_utilisation": 0.0}
    # a production period shorter than a bin still has one bin
    short = interconnect_summary(USAGE, bin_width=2.0, production_end=0.5)
    assert short["gw"]["forward"]["mean_utilisation"] == 1.0


def test_an_interconnect_without_both_directions_is_an_error():
    broken = {"gw": (1000.0, ([2000, 1000],))}
    with pytest.raises(ValueError, match="zip"):
        interconnect_series(broken, nbins=2, bin_width=2.0)
    with pytest.raises(ValueError, match="zip"):
        interconnect_summary(broken, bin_width=2.0, production_end=4.0)
