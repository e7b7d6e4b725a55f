"""Record-weighted latency histogram with log-spaced bins.

Bins are log-spaced from 1 µs to 1e5 s at :data:`BINS_PER_DECADE` bins per decade,
so every bin spans a ratio of 10**(1/230) ~= 1.0101: a quantile read from the
histogram is within ~1 % (relative) of the true quantile. Values below 1 µs fall in
an underflow bin ``[0, 1 µs)``, values at or above 1e5 s in an overflow bin
``[1e5 s, max]``; negative values are clamped to 0.

Weights are record counts (domain.md §3): geosim simulates rows, not records, and a
row's records are spread uniformly over its send interval, so its latency is
uniform over an interval. :meth:`LatencyHistogram.add_uniform` spreads a weight
uniformly over ``[lo, hi]``.

Hot path: ``add_uniform`` is O(1). The two partially covered end bins receive their
share directly; the fully covered bins in between receive a constant *density*
(weight per second), which is recorded as a difference (``+d`` at the first
interior bin, ``-d`` after the last) and integrated lazily with one prefix sum
when the histogram is read. This is equivalent to adding ``d * bin_width`` to each
interior bin, without touching them one by one. Densities are kept as exact
fixed-point integers (``d * 2**64``, Python ints): with floats, ``+d`` and ``-d``
of a narrow, dense smear would not cancel exactly, and the residue would leak
phantom weight into every later bin up to 1e5 s.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from itertools import accumulate
from typing import Any

import numpy as np

BINS_PER_DECADE = 230
LOW = 1e-6    # lower edge of the first regular bin, s
HIGH = 1e5    # upper edge of the last regular bin, s
_REGULAR = BINS_PER_DECADE * round(math.log10(HIGH / LOW))

# _EDGES[k] is the upper edge of bin k (k = 0 is the underflow bin [0, LOW)), so a
# regular bin k in 1.._REGULAR covers [_EDGES[k-1], _EDGES[k]); bin _REGULAR + 1
# is the overflow bin [HIGH, inf).
# libm's pow (as for the draws in geosim.core.distributions): the same edges on every CPU.
_EDGES = np.array([LOW * 10.0 ** (k / BINS_PER_DECADE) for k in range(_REGULAR + 1)])
_EDGES[0], _EDGES[-1] = LOW, HIGH
_EDGE_LIST: list[float] = _EDGES.tolist()
NBINS = _REGULAR + 2
# Widths used to integrate densities: only regular bins can be interior to a smear.
_WIDTHS = np.zeros(NBINS)
_WIDTHS[1:_REGULAR + 1] = np.diff(_EDGES)
_LOWER = np.concatenate(([0.0], _EDGES))          # lower edge of each bin
_UPPER = np.concatenate((_EDGES, [math.inf]))     # upper edge of each bin
# equivalent: another scale as large moves counts only below a float's resolution
_SCALE = float(2**64)  # mutate: equivalent
#: Relative tolerance of a quantile's target against a bin's cumulative weight: the
#: summed float weights carry rounding of about 1e-16 per addition, far below it, while a
#: record of a billion-record run is 1e-9 of the count.
TIE_TOLERANCE = 1e-11


# _PADDED[k] is the lower edge of bin k and _PADDED[k + 1] its upper edge
_PADDED = np.concatenate(([-math.inf], _EDGES, [math.inf]))
_DECADES_BELOW_ONE = -math.log10(LOW)
_UNITS = float(2**62)  # the fixed-point units of a bulk add's summed interior density


def _bins_of(values: np.ndarray) -> np.ndarray:
    """Each value's bin, ``searchsorted(_EDGES, values, side="right")``, from its
    logarithm: the estimate is within a bin of the true one (numpy's log10 errs by far
    less than a bin's width), and one comparison with each edge around it settles it, so
    the bins are the same on every CPU whatever the last bit of its log10."""
    with np.errstate(invalid="ignore"):
        k = np.floor((np.log10(np.maximum(values, LOW)) + _DECADES_BELOW_ONE)
                     * BINS_PER_DECADE)
    # infinity and NaN go to the overflow bin, as searchsorted puts them
    k = np.nan_to_num(np.clip(k, 0, _REGULAR), nan=_REGULAR).astype(np.int64) + 1
    k += values >= _PADDED[k + 1]
    k -= values < _PADDED[k]
    np.minimum(k, _REGULAR + 1, out=k)
    k[np.isnan(values)] = _REGULAR + 1
    return k


def _interior(first: np.ndarray, end: np.ndarray, density: np.ndarray) -> np.ndarray:
    """Each bin's weight from the smears whose interior covers it (bins ``first`` to
    ``end - 1``, at ``density``): a running density over a difference array, so the
    work is per smear and per bin, not per bin each smear covers. Densities are summed
    as fixed-point integers, as the one-by-one path's are, so a smear's +d and -d
    cancel exactly (with floats, a dense narrow smear's residue leaked weight into
    every later bin and swamped a sparse wide one's density where they overlapped);
    smears are grouped by their densities' binary exponents (eight to a group), each
    group in units of 2**-62 of its own sum, so each density is within about 2**-40 of
    itself for up to 2**14 smears a group and bin."""
    out = np.zeros(NBINS)
    _mantissa, exponent = np.frexp(density)
    group = exponent >> 3  # densities within a factor of 2**8 of each other
    order = np.argsort(group, kind="stable")
    group = group[order]
    cuts = np.flatnonzero(np.diff(group)) + 1
    for sel in np.split(order, cuts):
        d = density[sel]
        total = float(d.sum())
        if not math.isfinite(total) or total <= 0.0:
            running_f = np.cumsum(np.bincount(first[sel], weights=d, minlength=NBINS)
                                  - np.bincount(end[sel], weights=d, minlength=NBINS))
            out += np.maximum(running_f, 0.0) * _WIDTHS
            continue
        unit = total / _UNITS
        fixed = np.rint(d / unit).astype(np.int64)
        # two float sums of 31-bit halves are exact (below 2**53 for up to 2**22
        # smears a bin), and so is their int64 recombination
        high, low = fixed >> 31, fixed & (2**31 - 1)
        running = np.cumsum(_summed(first[sel], high, low) - _summed(end[sel], high, low))
        out += running * unit * _WIDTHS
    return out


def _summed(at: np.ndarray, high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Per bin, the int64 sum of ``(high << 31) + low`` over the entries at it."""
    return ((np.bincount(at, weights=high, minlength=NBINS).astype(np.int64) << 31)
            + np.bincount(at, weights=low, minlength=NBINS).astype(np.int64))


def _zeros() -> array:
    return array("d", bytes(8 * NBINS))


class LatencyHistogram:
    """Record-weighted histogram of latencies in seconds (~1 % relative resolution).

    ``count`` is the total weight (records), ``mean`` the exact weighted mean (not
    binned), ``min``/``max`` the exact extremes of what was added (for a smear, its
    interval ends). Quantiles interpolate linearly inside a bin whose ends are
    clamped to ``[min, max]``.
    """

    __slots__ = ("_counts", "_direct", "_density", "_dirty", "_total", "_sum", "_min", "_max")

    def __init__(self) -> None:
        self._counts = np.zeros(NBINS)
        # Pending additions, folded into _counts on read (see module docstring).
        self._direct = _zeros()
        self._density = [0] * NBINS
        # equivalent: flushing nothing pending adds zeros
        self._dirty = False  # mutate: equivalent
        self._total = 0.0
        self._sum = 0.0
        self._min = math.inf
        self._max = -math.inf

    # --- adding -----------------------------------------------------------------

    def add(self, value: float, weight: float = 1.0) -> None:
        """Add ``weight`` records at latency ``value`` seconds."""
        if weight <= 0:
            return
        if value < 0.0:  # mutate: equivalent: at 0.0 the clamp writes 0.0
            value = 0.0
        self._direct[bisect_right(_EDGE_LIST, value)] += weight
        self._dirty = True
        self._total += weight
        self._sum += weight * value
        if value < self._min:  # mutate: equivalent: at equality it writes the same value
            self._min = value
        if value > self._max:  # mutate: equivalent: at equality it writes the same value
            self._max = value

    def add_uniform(self, lo: float, hi: float, weight: float) -> None:
        """Add ``weight`` records spread uniformly over latencies ``[lo, hi]`` seconds."""
        if weight <= 0:
            return
        if hi < lo:  # mutate: equivalent: swapping equal bounds changes nothing
            lo, hi = hi, lo
        if lo < 0.0:  # mutate: equivalent: at 0.0 the clamp writes 0.0
            lo = 0.0
            if hi < 0.0:  # mutate: equivalent: at 0.0 the clamp writes 0.0
                hi = 0.0
        # equivalent: a smear of equal bounds in one bin is that point (below)
        if hi <= lo:  # mutate: equivalent
            self.add(lo, weight)
            return
        i = bisect_right(_EDGE_LIST, lo)
        j = bisect_right(_EDGE_LIST, hi)
        if i == j:
            self._direct[i] += weight
        else:
            density = weight / (hi - lo)
            direct = self._direct
            direct[i] += density * (_EDGE_LIST[i] - lo)
            direct[j] += density * (hi - _EDGE_LIST[j - 1])
            if j - i > 1:   # bins strictly between (a fast path: for none the two cancel)
                fixed = int(density * _SCALE)
                self._density[i + 1] += fixed
                self._density[j] -= fixed
        self._dirty = True
        self._total += weight
        self._sum += weight * 0.5 * (lo + hi)
        if lo < self._min:  # mutate: equivalent: at equality it writes the same value
            self._min = lo
        if hi > self._max:  # mutate: equivalent: at equality it writes the same value
            self._max = hi

    def add_uniform_many(self, lo: np.ndarray, hi: np.ndarray, weight: np.ndarray) -> None:
        """:meth:`add_uniform` for many smears at once (arrays of equal length): the
        same bins, and weights within about 2**-40 of each smear's own (the interior
        bins' shares through one fixed-point running density per group of densities of
        similar size, :func:`_interior`)."""
        lo = np.asarray(lo, dtype=float)
        hi = np.asarray(hi, dtype=float)
        w = np.asarray(weight, dtype=float)
        keep = w > 0
        if not keep.all():
            lo, hi, w = lo[keep], hi[keep], w[keep]
        if not len(w):
            return
        lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
        lo = np.maximum(lo, 0.0)
        hi = np.maximum(hi, 0.0)
        i = _bins_of(lo)
        j = _bins_of(hi)
        add = np.zeros(NBINS)
        point = (hi <= lo) | (i == j)
        if point.any():
            add += np.bincount(i[point], weights=w[point], minlength=NBINS)
        spread = ~point
        if spread.any():
            i_s, j_s, lo_s, hi_s = i[spread], j[spread], lo[spread], hi[spread]
            density = w[spread] / (hi_s - lo_s)
            add += np.bincount(i_s, weights=density * (_EDGES[i_s] - lo_s), minlength=NBINS)
            add += np.bincount(j_s, weights=density * (hi_s - _EDGES[j_s - 1]),
                               minlength=NBINS)
            inner = j_s - i_s > 1
            if inner.any():
                add += _interior(i_s[inner] + 1, j_s[inner], density[inner])
        self._counts += add
        self._total += float(w.sum())
        mid = np.where(hi <= lo, lo, 0.5 * (lo + hi))
        self._sum += float((w * mid).sum())
        self._min = min(self._min, float(lo.min()))
        self._max = max(self._max, float(hi.max()))

    def _flush(self) -> np.ndarray:
        if self._dirty:
            direct = np.frombuffer(self._direct, dtype=np.float64)
            running = np.array([float(x) for x in accumulate(self._density)]) / _SCALE
            self._counts += direct + running * _WIDTHS
            self._direct = _zeros()
            self._density = [0] * NBINS
            # equivalent: a flush with nothing pending adds zeros
            self._dirty = False  # mutate: equivalent
        return self._counts

    # --- reading ------------------------------------------------------------------

    @property
    def counts(self) -> np.ndarray:
        """Weight per bin (a copy), bins as in :func:`bin_edges`."""
        return self._flush().copy()

    @property
    def count(self) -> float:
        """Total weight added (records)."""
        return self._total

    @property
    def empty(self) -> bool:
        return self._total <= 0.0

    @property
    def max(self) -> float:
        """Largest latency added (s); NaN when empty."""
        return self._max if self._total > 0 else math.nan

    @property
    def min(self) -> float:
        """Smallest latency added (s); NaN when empty."""
        return self._min if self._total > 0 else math.nan

    @property
    def mean(self) -> float:
        """Exact record-weighted mean latency (s); NaN when empty."""
        return self._sum / self._total if self._total > 0 else math.nan

    def quantile(self, q: float) -> float:
        """The ``q``-quantile (0 <= q <= 1) in seconds; NaN when empty.

        The bin holding the ``q * count``-th record is found from the cumulative
        weights and the value is interpolated linearly inside it. A target within
        ``TIE_TOLERANCE`` of the count from a bin's cumulative weight is taken as equal to
        it: the quantile is then the smallest latency with at least ``q`` of the records at
        or below it. Without this, a distribution split exactly at ``q`` (a bimodal p50
        with half the records in each mode, common in failover runs) would be decided by
        the last bit of the summed weights, which varies between machines' numpy builds.
        """
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile must be in [0, 1], got {q}")
        if self._total <= 0:
            return math.nan
        if q == 0.0:
            return self._min
        if q == 1.0:
            return self._max
        counts = self._flush()
        cumulative = np.cumsum(counts)
        total = cumulative[-1]
        target = q * total
        # The first bin whose cumulative weight reaches the target (within the tie
        # tolerance): never an empty one, whose cumulative equals its predecessor's,
        # except bin 0 for a target at 0 (then any fraction gives the minimum, below).
        k = int(np.searchsorted(cumulative, target - TIE_TOLERANCE * total, side="left"))
        before = cumulative[k - 1] if k > 0 else 0.0
        lo = max(_LOWER[k], self._min)
        hi = min(_UPPER[k], self._max)
        # An empty bin is bin 0 without the minimum in it: any fraction gives the minimum.
        if counts[k] > 0:  # mutate: equivalent: an empty bin's inf fraction is clamped as 1
            fraction = (target - before) / counts[k]
        else:
            fraction = 1.0  # mutate: equivalent: any fraction in [0, 1] gives the minimum
        fraction = min(max(fraction, 0.0), 1.0)
        return float(min(max(lo + fraction * (hi - lo), self._min), self._max))

    def quantiles(self, qs: list[float]) -> list[float]:
        return [self.quantile(q) for q in qs]

    def cdf_points(self) -> tuple[np.ndarray, np.ndarray]:
        """``(latency_s, cumulative_fraction)`` at the upper edge of each non-empty bin.

        Starts at ``(min, 0)`` and ends at ``(max, 1)``; suitable for a step or line
        plot of the CDF. Empty arrays when the histogram is empty.
        """
        if self._total <= 0:
            return np.empty(0), np.empty(0)
        counts = self._flush()
        nonzero = np.flatnonzero(counts)
        cumulative = np.cumsum(counts)[nonzero] / counts.sum()
        x = np.minimum(_UPPER[nonzero], self._max)
        x = np.maximum(x, self._min)
        return np.concatenate(([self._min], x)), np.concatenate(([0.0], cumulative))

    # --- combining and serialising -------------------------------------------------

    def merge(self, other: LatencyHistogram) -> LatencyHistogram:
        """Add ``other``'s content into this histogram; returns ``self``."""
        if other._total <= 0:  # mutate: equivalent: merging an empty one adds zeros
            return self
        self._flush()
        self._counts += other._flush()
        self._total += other._total
        self._sum += other._sum
        self._min = min(self._min, other._min)
        self._max = max(self._max, other._max)
        return self

    @classmethod
    def merged(cls, histograms: list[LatencyHistogram]) -> LatencyHistogram:
        """A new histogram holding the sum of ``histograms``."""
        out = cls()
        for histogram in histograms:
            out.merge(histogram)
        return out

    def to_dict(self) -> dict[str, Any]:
        """A sparse, JSON-ready form (non-empty bins only)."""
        counts = self._flush()
        nonzero = np.flatnonzero(counts)
        return {
            "scheme": {"low": LOW, "high": HIGH, "bins_per_decade": BINS_PER_DECADE},
            "bins": nonzero.tolist(),
            "counts": counts[nonzero].tolist(),
            "count": self._total,
            "sum": self._sum,
            "min": self._min if self._total > 0 else None,
            "max": self._max if self._total > 0 else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LatencyHistogram:
        """Inverse of :meth:`to_dict`."""
        scheme = data.get("scheme", {})
        expected = {"low": LOW, "high": HIGH, "bins_per_decade": BINS_PER_DECADE}
        if scheme != expected:
            raise ValueError(f"histogram scheme {scheme} differs from this version's {expected}")
        out = cls()
        out._counts[np.asarray(data["bins"], dtype=int)] = np.asarray(data["counts"], dtype=float)
        out._total = float(data["count"])
        out._sum = float(data["sum"])
        if out._total > 0:
            out._min = float(data["min"])
            out._max = float(data["max"])
        return out

    def __repr__(self) -> str:
        if self._total <= 0:
            return "LatencyHistogram(empty)"
        return (f"LatencyHistogram(count={self._total:g}, p50={self.quantile(0.5):.6g}s, "
                f"p99={self.quantile(0.99):.6g}s, max={self._max:.6g}s)")


def bin_edges() -> tuple[np.ndarray, np.ndarray]:
    """``(lower, upper)`` edges of every bin, in seconds (overflow upper edge = inf)."""
    return _LOWER.copy(), _UPPER.copy()
