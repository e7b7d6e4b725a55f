"""Rate-based recovery time (the second RTO of domain.md §7), from binned byte counts.

The baseline is the mean rate over the whole bins inside ``[warmup, fault_start)``.
From the bin holding the fault start up to the last whole bin before the end of
production, rates are averaged over windows of ``sustain`` consecutive bins, so that
the quantization of flushes into bins is not mistaken for an outage. The region has
*dropped* if some window's mean rate is below ``(1 - tolerance) * baseline`` and has
*recovered* at the start of the first later window whose mean is within
``tolerance * baseline`` of the baseline (a catch-up burst above the band is not yet
"back to normal"). The recovery time is that bin's start minus the
fault start, never negative; 0 if the rate never dropped; ``None`` if it never
recovered or there is no baseline.
"""

from __future__ import annotations

import math

import numpy as np


def baseline_rate(bins: np.ndarray, bin_width: float, warmup: float,
                  fault_start: float) -> float | None:
    """Mean rate (per second) over whole bins in ``[warmup, fault_start)``; None if none."""
    first = int(math.ceil(warmup / bin_width - 1e-9))
    stop = int(math.floor(fault_start / bin_width + 1e-9))
    if stop <= first:
        return None
    window = np.zeros(stop - first)
    data = bins[first:stop]
    window[:len(data)] = data
    return float(window.mean() / bin_width)


def rate_recovery_time(bins: np.ndarray, bin_width: float, fault_start: float,
                       production_end: float, baseline: float | None, *,
                       tolerance: float = 0.1, sustain: int = 5) -> float | None:
    """Seconds from ``fault_start`` until the binned rate is back near ``baseline``."""
    if baseline is None or not baseline > 0:
        return None
    start = max(int(math.floor(fault_start / bin_width + 1e-9)), 0)
    stop = int(math.floor(production_end / bin_width + 1e-9))
    if stop <= start:
        return None
    rates = np.zeros(stop - start)
    data = bins[start:stop]
    rates[:len(data)] = data
    rates /= bin_width
    if rates.size < sustain:
        return None
    means = np.convolve(rates, np.full(sustain, 1.0 / sustain), "valid")
    dropped = np.flatnonzero(means < (1.0 - tolerance) * baseline)
    if dropped.size == 0:
        return 0.0
    within = np.abs(means - baseline) <= tolerance * baseline
    candidates = np.flatnonzero(within[dropped[0]:])
    if candidates.size == 0:
        return None
    first_ok = start + dropped[0] + int(candidates[0])
    return max(0.0, first_ok * bin_width - fault_start)
