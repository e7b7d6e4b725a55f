"""Utilisation of shared interconnects (``topology.interconnects``).

The network counts the bytes each interconnect carries, per direction and per time bin:
a message queues behind the earlier ones (FIFO) and its bytes leave at the full rate
between its start and its end, so a bin's **utilisation** (those bytes over what the
capacity moves in a bin, ``bandwidth x bin width``) is at most 1; a demand above the
capacity shows as bins at 1 and as later deliveries. The summary gives, per
interconnect and direction, the bytes carried (a backlog left at the end of the run is
included, as sent), the largest bin's utilisation and the mean over the bins of the
production period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

DIRECTIONS = ("forward", "reverse")


def interconnect_series(usage: Mapping[str, tuple[float, Sequence[Sequence[float]]]],
                        nbins: int, bin_width: float) -> list[tuple[str, str, np.ndarray]]:
    """(interconnect, ``utilisation_<direction>``, utilisation per bin) for every
    interconnect and direction; ``usage``: name -> (bandwidth, bytes per bin per
    direction)."""
    out = []
    for name, (bandwidth, directions) in sorted(usage.items()):
        for direction, counted in zip(DIRECTIONS, directions, strict=True):
            values = np.zeros(nbins)
            n = min(len(counted), nbins)
            values[:n] = np.asarray(counted[:n], dtype=float)
            out.append((name, f"utilisation_{direction}", values / (bandwidth * bin_width)))
    return out


def interconnect_summary(usage: Mapping[str, tuple[float, Sequence[Sequence[float]]]],
                         bin_width: float, production_end: float) -> dict[str, dict]:
    """Per interconnect: its bandwidth, and per direction the bytes, the largest bin's
    utilisation and the mean utilisation over the production period."""
    out: dict[str, dict] = {}
    production_bins = max(int(round(production_end / bin_width)), 1)
    for name, (bandwidth, directions) in sorted(usage.items()):
        entry: dict = {"bandwidth": bandwidth}
        per_bin = bandwidth * bin_width
        for direction, counted in zip(DIRECTIONS, directions, strict=True):
            values = np.asarray(counted, dtype=float)
            entry[direction] = {
                "bytes": int(round(values.sum())),
                "max_utilisation": float(values.max() / per_bin) if len(values) else 0.0,
                "mean_utilisation": float(values[:production_bins].sum()
                                          / (per_bin * production_bins)),
            }
        out[name] = entry
    return out


__all__ = ["DIRECTIONS", "interconnect_series", "interconnect_summary"]
