"""Fixed-width time bins of per-region sums.

Each (region, metric) pair owns a growable ``array('d')`` of bin sums: bin ``k``
holds what happened in ``[k * bin_width, (k + 1) * bin_width)``. Memory grows
with simulated duration / bin width, never with the number of events.
"""

from __future__ import annotations

import math
from array import array

import numpy as np


def bump(column: array, index: int, value: float) -> None:
    """Add ``value`` to bin ``index`` of ``column``, growing it with zeros as needed."""
    if index >= len(column):
        column.frombytes(bytes(8 * (index + 1 - len(column) + 64)))
    column[index] += value


class BinnedSeries:
    """Sums per (region, metric) in bins of ``bin_width`` seconds."""

    def __init__(self, bin_width: float):
        if not bin_width > 0:
            raise ValueError(f"bin_width must be > 0, got {bin_width}")
        self.bin_width = float(bin_width)
        #: ``t * inv_width`` rounds down to a time's bin: one rule for every series (the
        #: collector's hot paths inline it), ``t // bin_width`` differing from it when the
        #: width is not a binary fraction (``0.3 // 0.1`` is 2.0, ``0.3 * 10.0`` is 3.0...)
        self.inv_width = 1.0 / self.bin_width
        self._columns: dict[tuple[str, str], array] = {}

    def index(self, t: float) -> int:
        """Bin index of time ``t`` (negative times go to bin 0)."""
        return max(int(t * self.inv_width), 0)

    def column(self, region: str, metric: str) -> array:
        """The live column of a (region, metric) pair, created empty if new."""
        key = (region, metric)
        col = self._columns.get(key)
        if col is None:
            col = self._columns[key] = array("d")
        return col

    def add(self, region: str, metric: str, t: float, value: float) -> None:
        bump(self.column(region, metric), self.index(t), value)

    def has(self, region: str, metric: str) -> bool:
        col = self._columns.get((region, metric))
        return col is not None and any(col)

    def values(self, region: str, metric: str, nbins: int) -> np.ndarray:
        """Bin sums of a pair as a float array of exactly ``nbins`` entries."""
        out = np.zeros(nbins)
        col = self._columns.get((region, metric))
        if col is not None and len(col):
            data = np.frombuffer(col, dtype=np.float64)[:nbins]
            out[:len(data)] = data
        return out

    def nbins(self, t_end: float) -> int:
        """Bins needed to cover ``[0, t_end)``."""
        return max(int(math.ceil(t_end / self.bin_width - 1e-9)), 1)

    def regions(self) -> list[str]:
        return sorted({region for region, _ in self._columns})
