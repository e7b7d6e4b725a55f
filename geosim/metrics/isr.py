"""ISR size over time, from the controller's :class:`PartitionChanged` events.

For the timeline plot (``isr_size`` rows of the time series): per bin, the smallest ISR
of the partitions whose leader is in a region at the end of the bin, and under ``all``
the smallest over every partition (an offline partition, without a leader, counts as
0). A partition counts from its first event on; strategies without partitions (diskless)
emit none, so their time series has no ``isr_size`` rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geosim.core.events import PartitionChanged

METRIC = "isr_size"


class IsrSeries:
    """Collects partition states; :meth:`frame` samples them at each bin's end."""

    def __init__(self, bin_width: float):
        self.bin_width = float(bin_width)
        self._changes: list[tuple[float, int, str | None, int]] = []

    def on_partition(self, ev: PartitionChanged) -> None:
        self._changes.append((ev.t, ev.partition, ev.leader_region, ev.isr_size))

    def frame(self, nbins: int) -> pd.DataFrame:
        """Rows ``t, region, metric, value`` (``t`` the bin start), sorted by t, region."""
        columns = ["t", "region", "metric", "value"]
        if not self._changes:
            return pd.DataFrame(columns=columns)
        state: dict[int, tuple[str | None, int]] = {}
        rows: list[tuple[float, str, str, float]] = []
        changes = self._changes  # emitted in time order
        index = 0
        current: dict[str, float] = {}
        for k in range(nbins):
            end = (k + 1) * self.bin_width
            moved = False
            while index < len(changes) and changes[index][0] < end:
                _, partition, leader, isr = changes[index]
                state[partition] = (leader, isr)
                index += 1
                moved = True
            if moved:
                current = {}
                for leader, isr in state.values():
                    if leader is not None:
                        current[leader] = min(current.get(leader, np.inf), isr)
                current["all"] = min(isr if leader is not None else 0
                                     for leader, isr in state.values())
            start = k * self.bin_width
            rows.extend((start, region, METRIC, float(value))
                        for region, value in sorted(current.items()))
        return pd.DataFrame(rows, columns=columns)
