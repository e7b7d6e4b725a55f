"""Rate-based recovery time (the second RTO of domain.md §7), from binned byte counts.

The baseline is the mean rate over the whole bins inside ``[warmup, fault_start)``.
From the bin holding the fault start up to the last whole bin before the end of
production, rates are averaged over sliding windows of ``sustain`` consecutive bins,
so that the quantization of flushes into bins (a bin catching one flush more or
less) is not mistaken for an outage. The region has *dropped* if some window's mean
is below ``(1 - tolerance) * baseline``. It has *recovered* at the first bin ``k``,
at or after the first dropped window, such that the ``sustain`` windows starting at
``k, k + 1, ...`` all have means within ``tolerance * baseline`` of the baseline:
requiring consecutive windows keeps a window that averages a silent stretch with a
catch-up burst from passing for a recovery, and a burst above the band is not yet
"back to normal". The recovery time is bin ``k``'s start minus the fault start,
never negative; 0 if the rate never dropped; ``None`` if it never recovered before
the end of production or there is no baseline.
"""

from __future__ import annotations

import math

import numpy as np


def _bins(bins: np.ndarray, first: int, stop: int) -> np.ndarray:
    """A copy of ``bins[first:stop]`` as floats, zero past the end of ``bins``."""
    window = np.zeros(stop - first)
    data = bins[first:stop]
    window[:len(data)] = data
    return window


def baseline_rate(bins: np.ndarray, bin_width: float, warmup: float,
                  fault_start: float) -> float | None:
    """Mean rate (per second) over whole bins in ``[warmup, fault_start)``; None if none."""
    first = int(math.ceil(warmup / bin_width - 1e-9))
    stop = int(math.floor(fault_start / bin_width + 1e-9))
    if stop <= first:
        return None
    return float(_bins(bins, first, stop).mean() / bin_width)


def rate_recovery_time(bins: np.ndarray, bin_width: float, fault_start: float,
                       production_end: float, baseline: float | None, *,
                       tolerance: float = 0.1, sustain: int = 5) -> float | None:
    """Seconds from ``fault_start`` until the binned rate is back near ``baseline``."""
    if baseline is None or not baseline > 0:
        return None
    start = max(int(math.floor(fault_start / bin_width + 1e-9)), 0)
    stop = int(math.floor(production_end / bin_width + 1e-9))
    # equivalent: at stop == start there are no rates, and the size check returns None
    if stop <= start:  # mutate: equivalent
        return None
    rates = _bins(bins, start, stop) / bin_width
    if rates.size < sustain:
        return None
    means = np.convolve(rates, np.full(sustain, 1.0 / sustain), "valid")
    dropped = np.flatnonzero(means < (1.0 - tolerance) * baseline)
    if dropped.size == 0:
        return 0.0
    within = np.abs(means - baseline) <= tolerance * baseline
    # equivalent: at within.size == sustain the one run starts at a dropped window: None
    if within.size < sustain:  # mutate: equivalent
        return None
    sustained = np.convolve(within.astype(np.int64), np.ones(sustain, dtype=np.int64),
                            "valid") == sustain
    candidates = np.flatnonzero(sustained[dropped[0]:])
    if candidates.size == 0:
        return None
    first_ok = start + dropped[0] + int(candidates[0])
    return max(0.0, first_ok * bin_width - fault_start)
