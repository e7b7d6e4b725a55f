"""LatencyHistogram: smears, quantiles against numpy, merge additivity, serialisation."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geosim.metrics import histogram
from geosim.metrics.histogram import BINS_PER_DECADE, LatencyHistogram, bin_edges

# One bin spans a ratio of 10**(1/230); a sample and the value read back from its
# bin can differ by at most that.
BIN_RATIO = 10 ** (1 / BINS_PER_DECADE)


def test_uniform_smear_quantiles_are_exact():
    h = LatencyHistogram()
    h.add_uniform(0.1, 0.5, 1000)
    assert h.count == 1000
    assert h.mean == pytest.approx(0.3, rel=1e-12)
    assert h.max == 0.5 and h.min == 0.1
    for q, expected in [(0.01, 0.104), (0.5, 0.3), (0.9, 0.46), (0.99, 0.496), (0.999, 0.4996)]:
        assert h.quantile(q) == pytest.approx(expected, rel=1e-9)
    assert h.quantile(0.0) == 0.1 and h.quantile(1.0) == 0.5


def test_smear_over_many_decades_and_the_underflow_bin():
    h = LatencyHistogram()
    h.add_uniform(0.0, 10.0, 4.0)  # starts in the underflow bin [0, 1 µs)
    assert h.quantile(0.5) == pytest.approx(5.0, rel=1e-9)
    assert h.quantile(0.25) == pytest.approx(2.5, rel=1e-9)
    assert h.quantile(1e-8) == pytest.approx(1e-7, rel=1e-6)
    assert h.counts.sum() == pytest.approx(4.0, rel=1e-12)


def test_two_smears_weighted_by_records():
    h = LatencyHistogram()
    h.add_uniform(1.0, 2.0, 300)
    h.add_uniform(3.0, 4.0, 100)
    # 75 % of the records are in [1, 2]: the median is at 1 + 0.5 / 0.75.
    assert h.quantile(0.5) == pytest.approx(1 + 0.5 / 0.75, rel=1e-9)
    assert h.quantile(0.875) == pytest.approx(3.5, rel=1e-9)
    assert h.mean == pytest.approx((300 * 1.5 + 100 * 3.5) / 400)


def test_degenerate_smear_falls_back_to_a_point_and_clamps():
    h = LatencyHistogram()
    h.add_uniform(0.25, 0.25, 10)
    h.add(-1.0, 5)       # negative latency is clamped to 0
    h.add(2e5, 5)        # beyond 1e5 s: the overflow bin
    h.add_uniform(1.0, 1.0, 0)  # zero weight is ignored
    assert h.count == 20
    assert h.quantile(0.5) == pytest.approx(0.25, rel=0.011)
    assert h.min == 0.0 and h.max == 2e5
    assert h.quantile(0.99) <= 2e5


def test_a_smear_below_zero_is_clamped_to_zero_and_reversed_bounds_are_swapped():
    h = LatencyHistogram()
    h.add_uniform(-0.5, 0.5, 10)      # spread over [0, 0.5]: the negative part clamps
    assert h.count == 10 and h.min == 0.0 and h.max == 0.5
    assert h.mean == pytest.approx(0.25, rel=1e-12)
    g = LatencyHistogram()
    g.add_uniform(-2.0, -1.0, 4)      # wholly negative: a point at 0
    assert g.count == 4 and g.max == 0.0
    r = LatencyHistogram()
    r.add_uniform(0.5, 0.1, 1000)     # bounds given in reverse
    assert r.quantile(0.5) == pytest.approx(0.3, rel=1e-9) and r.min == 0.1


def test_empty_histogram_reads_as_nan():
    h = LatencyHistogram()
    assert h.empty and h.count == 0
    assert math.isnan(h.quantile(0.5)) and math.isnan(h.max) and math.isnan(h.mean)
    x, y = h.cdf_points()
    assert x.size == 0 and y.size == 0
    with pytest.raises(ValueError):
        h.quantile(1.5)


def test_quantiles_of_samples_match_numpy_within_one_bin():
    rng = np.random.default_rng(7)
    samples = rng.lognormal(mean=-1.0, sigma=1.5, size=20_000)
    h = LatencyHistogram()
    for value in samples:
        h.add(float(value))
    for q in (0.01, 0.1, 0.5, 0.9, 0.99, 0.999):
        expected = np.quantile(samples, q, method="inverted_cdf")
        got = h.quantile(q)
        assert expected / BIN_RATIO <= got <= expected * BIN_RATIO, (q, got, expected)
    assert h.mean == pytest.approx(samples.mean(), rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=1e-5, max_value=1e3), min_size=1, max_size=200),
       st.sampled_from([0.1, 0.5, 0.9, 0.99]))
def test_point_quantiles_within_bin_resolution(values, q):
    h = LatencyHistogram()
    for v in values:
        h.add(v)
    expected = float(np.quantile(np.array(values), q, method="inverted_cdf"))
    got = h.quantile(q)
    assert expected / BIN_RATIO * (1 - 1e-12) <= got <= expected * BIN_RATIO * (1 + 1e-12)


_smears = st.lists(
    st.tuples(st.floats(min_value=0.0, max_value=50.0),    # lo
              st.floats(min_value=0.0, max_value=50.0),    # width
              st.integers(min_value=1, max_value=10_000)),  # records
    min_size=0, max_size=30)


def _fill(smears) -> LatencyHistogram:
    h = LatencyHistogram()
    for lo, width, weight in smears:
        h.add_uniform(lo, lo + width, weight)
    return h


@settings(max_examples=80, deadline=None)
@given(_smears, _smears)
def test_merge_is_additive(a, b):
    together = _fill(a + b)
    merged = _fill(a).merge(_fill(b))
    assert merged.count == together.count
    np.testing.assert_allclose(merged.counts, together.counts, rtol=1e-9, atol=1e-6)
    if together.count:
        assert merged.max == together.max and merged.min == together.min
        assert merged.mean == pytest.approx(together.mean, rel=1e-9)
        for q in (0.5, 0.9, 0.99):
            assert merged.quantile(q) == pytest.approx(together.quantile(q), rel=1e-6)
    # Each smear's weight lands entirely in the histogram.
    assert together.counts.sum() == pytest.approx(sum(w for *_, w in a + b), rel=1e-9)


def test_merged_of_many_equals_sum_of_counts():
    parts = [_fill([(0.1 * i, 0.2, 10 * i)]) for i in range(1, 6)]
    total = LatencyHistogram.merged(parts)
    assert total.count == sum(p.count for p in parts)
    np.testing.assert_allclose(total.counts, sum(p.counts for p in parts))


def test_to_dict_round_trip_is_json_and_lossless():
    h = _fill([(0.2, 0.3, 100), (1.0, 0.0, 7), (5.0, 20.0, 3)])
    data = json.loads(json.dumps(h.to_dict()))
    back = LatencyHistogram.from_dict(data)
    assert back.count == h.count and back.max == h.max and back.mean == h.mean
    np.testing.assert_array_equal(back.counts, h.counts)
    for q in (0.1, 0.5, 0.999):
        assert back.quantile(q) == h.quantile(q)
    with pytest.raises(ValueError):
        LatencyHistogram.from_dict({**data, "scheme": {"low": 1e-3}})


def test_cdf_points_are_monotone_and_reach_one():
    h = _fill([(0.1, 0.4, 50), (2.0, 1.0, 50)])
    x, y = h.cdf_points()
    assert x[0] == pytest.approx(0.1) and y[0] == 0.0
    assert x[-1] == pytest.approx(3.0) and y[-1] == pytest.approx(1.0)
    assert np.all(np.diff(x) >= 0) and np.all(np.diff(y) >= 0)
    # Half the records are below 0.5 s.
    assert np.interp(0.5, x, y) == pytest.approx(0.5, abs=0.01)


def test_repr_names_an_empty_histogram_and_a_single_records_quantiles():
    empty = LatencyHistogram()
    assert repr(empty) == "LatencyHistogram(empty)"
    one = LatencyHistogram()
    one.add(0.01)
    # one record: every quantile is clamped to the recorded minimum and maximum
    assert repr(one) == "LatencyHistogram(count=1, p50=0.01s, p99=0.01s, max=0.01s)"


def test_every_reader_of_an_empty_histogram_says_empty():
    """The empty case of every reader (``min`` was the one not checked; mutation round
    six): NaN extremes, mean and quantiles, no CDF points, ``None`` extremes in the
    serialised form, and merging nothing changes nothing. Weight 0 adds nothing."""
    for h in (LatencyHistogram(), LatencyHistogram.from_dict(LatencyHistogram().to_dict())):
        h.add(0.25, 0.0)
        h.add_uniform(0.1, 0.2, 0.0)
        assert h.empty and h.count == 0.0
        assert math.isnan(h.min) and math.isnan(h.max) and math.isnan(h.mean)
        assert all(math.isnan(h.quantile(q)) for q in (0.0, 0.5, 1.0))
        x, y = h.cdf_points()
        assert x.size == 0 and y.size == 0
        d = h.to_dict()
        assert d["bins"] == [] and d["counts"] == [] and d["count"] == 0.0
        assert d["min"] is None and d["max"] is None
        assert repr(h) == "LatencyHistogram(empty)"
    full = LatencyHistogram()
    full.add(0.5, 4)
    full.merge(LatencyHistogram())
    assert (full.count, full.min, full.max, full.mean) == (4.0, 0.5, 0.5, 0.5)
    into_empty = LatencyHistogram().merge(full)
    assert (into_empty.count, into_empty.min, into_empty.max) == (4.0, 0.5, 0.5)



@pytest.mark.parametrize("weight", [1.0, 0.25])
def test_a_histogram_of_one_small_weight_reads_as_that_value(weight):
    """The other side of ``empty``: any positive weight, one record or a fraction of
    one, makes every reader read the value added (the empty checks compare the total
    with 0, not with 1)."""
    h = LatencyHistogram()
    h.add(0.125, weight)
    assert not h.empty and h.count == weight
    assert (h.min, h.max, h.mean) == (0.125, 0.125, 0.125)
    assert [h.quantile(q) for q in (0.0, 0.5, 1.0)] == [0.125] * 3
    x, y = h.cdf_points()
    assert x.tolist() == [0.125, 0.125] and y.tolist() == [0.0, 1.0]
    d = h.to_dict()
    assert (d["count"], d["min"], d["max"]) == (weight, 0.125, 0.125)
    back = LatencyHistogram.from_dict(d)
    assert (back.count, back.min, back.max, back.mean) == (weight, 0.125, 0.125, 0.125)
    assert repr(h).startswith(f"LatencyHistogram(count={weight:g}, p50=0.125s")
    merged = LatencyHistogram().merge(h)
    assert (merged.count, merged.min, merged.max) == (weight, 0.125, 0.125)

def test_bin_edges_are_the_documented_log_scale():
    """230 bins a decade from LOW = 1 us to HIGH = 1e5 s, the first and last regular
    edges exactly LOW and HIGH, an underflow bin [0, LOW) and an overflow bin
    [HIGH, inf): bin k (1..2530) is [LOW 10**((k-1)/230), LOW 10**(k/230))."""
    lower, upper = bin_edges()
    assert len(lower) == len(upper) == 11 * BINS_PER_DECADE + 2
    assert (lower[0], upper[0]) == (0.0, 1e-6)
    assert (lower[-1], upper[-1]) == (1e5, math.inf)
    assert upper[-2] == 1e5 and lower[1] == 1e-6
    k = np.arange(1, 11 * BINS_PER_DECADE + 1)
    assert np.allclose(upper[1:-1], 1e-6 * 10.0 ** (k / BINS_PER_DECADE), rtol=1e-12, atol=0)
    assert np.array_equal(lower[1:], upper[:-1])


def test_bin_edges_are_libms_powers_to_the_bit():
    """The edges come from libm's pow, as Python's ``**`` computes it, so they are the
    same on every CPU (numpy's vectorised kernels may differ in the last bit)."""
    _, upper = bin_edges()
    expected = [1e-6 * 10.0 ** (k / BINS_PER_DECADE) for k in range(1, 11 * BINS_PER_DECADE)]
    assert upper[1:-2].tolist() == expected


def test_a_distribution_split_exactly_at_q_gives_the_lower_modes_top(monkeypatch):
    """Half the records at 10 ms, half at 1 s: p50 is the top of the 10 ms bin (the
    smallest latency with half the records at or below it), however the bins' float
    weights round. Without the tie tolerance, some of these splits of the lower mode's
    weight sum to a last bit that sends p50 to the upper mode."""
    top = 0.010 * 10 ** (1 / BINS_PER_DECADE)  # no further than the bin's upper edge

    def p50s() -> list[float]:
        out = []
        for parts in ([0.1] * 10, [0.1, 0.1, 0.1, 0.7], [0.7, 0.2, 0.1], [0.1, 0.2, 0.7],
                      [1.0]):
            h = LatencyHistogram()
            for weight in parts:
                h.add(0.010, weight)
            h.add(1.0, 1.0)
            out.append(h.quantile(0.5))
        return out

    assert all(0.010 <= p50 <= top for p50 in p50s())
    monkeypatch.setattr(histogram, "TIE_TOLERANCE", 0.0)
    assert any(p50 > 0.5 for p50 in p50s())


def test_a_quantile_past_the_tie_tolerance_is_not_a_tie():
    """A target one record in a million past the lower mode's weight lands in the upper mode."""
    h = LatencyHistogram()
    h.add(0.010, 500_000.0)
    h.add(1.0, 500_001.0)
    assert h.quantile(0.5) > 0.5


def test_the_bins_are_230_per_decade_from_a_microsecond_to_a_day_and_more():
    from geosim.metrics.histogram import BINS_PER_DECADE, HIGH, LOW, NBINS

    lower, upper = bin_edges()
    assert BINS_PER_DECADE == 230 and NBINS == 230 * 11 + 2 == len(lower) == len(upper)
    ratios = upper[1:-1] / lower[1:-1]
    assert np.allclose(ratios, 10 ** (1 / 230), rtol=1e-12)      # about 1 % each
    h = LatencyHistogram()
    h.add(2 * HIGH)
    h.add(LOW / 2)
    counts = h.counts
    assert counts[-1] == 1 and counts[0] == 1 and counts.sum() == 2   # overflow last


def test_zero_weight_changes_nothing():
    h = LatencyHistogram()
    h.add(1.0)
    h.add(5.0, 0.0)
    h.add_uniform(0.001, 9.0, 0.0)
    h.add_uniform(-3.0, -1.0, 0.0)
    assert (h.count, h.min, h.max, h.mean) == (1.0, 1.0, 1.0, 1.0)
    empty = LatencyHistogram()
    assert h.merge(empty) is h and (h.count, h.min, h.max) == (1.0, 1.0, 1.0)


def test_bins_stay_exactly_empty_across_flushes():
    h = LatencyHistogram()
    h.add_uniform(0.010, 0.020, 10.0)
    first = np.flatnonzero(h.counts)
    h.add(1.0)
    h.add_uniform(0.010, 0.0101, 1.0)             # two adjacent bins at most
    nonzero = np.flatnonzero(h.counts)
    assert set(nonzero) == set(first) | {int(np.searchsorted(bin_edges()[1], 1.0, "right"))}
    assert len(h.cdf_points()[0]) == len(nonzero) + 1


def test_the_top_quantile_is_the_maximum_even_of_a_sliver():
    h = LatencyHistogram()
    h.add(0.001, 1e12)
    h.add(5.0, 1.0)                                # 1e-12 of the weight
    assert h.quantile(1.0) == 5.0
    assert h.quantile(0.5) == pytest.approx(0.001, rel=0.011)


def test_quantiles_in_the_overflow_and_the_first_bins_interpolate_inside_them():
    h = LatencyHistogram()
    h.add(1.0)
    h.add(2e5)                                     # above the last regular bin (1e5 s)
    # the overflow bin is [1e5, inf) clamped to the maximum: halfway is 1.5e5
    assert h.quantile(0.75) == pytest.approx(1.5e5, rel=1e-12)
    h = LatencyHistogram()
    h.add(0.0)
    h.add(1.005e-6)                                # bin 1: [1e-6, 1.01e-6)
    assert h.quantile(0.75) == pytest.approx(1.0025e-6, rel=1e-9)
    h = LatencyHistogram()
    h.add(0.0)
    h.add(5e-7)                                    # both in the underflow bin [0, 1e-6)
    assert h.quantile(0.5) == pytest.approx(2.5e-7, rel=1e-9)


def test_the_tie_tolerance_is_relative_to_the_total_weight():
    # A million records split in two modes, the summed weights off by 1e-6 records
    # (1e-12 of the total, within the tolerance): the median is the lower mode's top.
    h = LatencyHistogram()
    h.add(0.001, 500_000 - 1e-6)
    h.add(1.0, 500_000 + 1e-6)
    assert h.quantile(0.5) == pytest.approx(0.001, rel=0.011)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(-0.01, 20.0), st.floats(-0.01, 20.0),
                          st.integers(0, 10**6)), min_size=1, max_size=40))
def test_adding_many_smears_at_once_is_adding_them_one_by_one(smears):
    """add_uniform_many (the window engine's bulk path) gives add_uniform's bins,
    count, mean and extremes: the bins to a relative 1e-9 (a bin's interior share is
    added as density x width directly rather than through the fixed-point running
    sum), the rest exactly up to float summation order."""
    one, many = LatencyHistogram(), LatencyHistogram()
    for lo, hi, w in smears:
        one.add_uniform(lo, hi, w)
    lo, hi, w = (np.array(col) for col in zip(*smears, strict=True))
    many.add_uniform_many(lo, hi, w)  # weights are records: whole numbers
    assert many.count == pytest.approx(one.count, rel=1e-12)
    if one.count:
        assert np.allclose(many.counts, one.counts, rtol=1e-9, atol=1e-9 * one.count)
        assert many.mean == pytest.approx(one.mean, rel=1e-9)
        assert (many.min, many.max) == (one.min, one.max)
        for q in (0.01, 0.5, 0.99):
            assert many.quantile(q) == pytest.approx(one.quantile(q), rel=1e-6, abs=1e-12)


def test_adding_many_smears_leaks_no_weight_beyond_them():
    """The bulk path's running density: where no smear is open, not even the float
    residue of the smears' +d and -d is left in the bins (fifty dense smears between
    0.1 ms and 10 ms, whose summed densities do not cancel exactly in floats)."""
    rng = np.random.default_rng(1)
    lo = 1e-4 * 10 ** rng.uniform(0.0, 1.0, 50)
    hi = lo * 10 ** rng.uniform(0.01, 1.0, 50)
    w = np.round(rng.uniform(1.0, 1e9, 50))
    h = LatencyHistogram()
    h.add_uniform_many(lo, hi, w)
    lower, _upper = bin_edges()
    beyond = lower >= hi.max()
    assert beyond.any() and not h.counts[beyond].any()
    assert h.counts.sum() == pytest.approx(w.sum(), rel=1e-12)


def test_adding_many_points_at_the_bin_edges_bins_them_as_one_by_one():
    """The bulk path finds a value's bin from its logarithm and settles it against the
    edges: values at every edge, a float either side of it, zero and past the last
    edge land in the bins add() gives them."""
    lower, upper = bin_edges()
    edges = upper[:-1]
    values = np.concatenate([edges, np.nextafter(edges, 0.0), np.nextafter(edges, np.inf),
                             [0.0, 1e-300, 1e5, 1e7]])
    one, many = LatencyHistogram(), LatencyHistogram()
    for v in values.tolist():
        one.add(v, 1.0)
    many.add_uniform_many(values, values, np.ones(len(values)))
    assert np.array_equal(many.counts, one.counts)
