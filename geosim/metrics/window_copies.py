"""A flow's copies computed by the window engine, for the mirror fold's lag samples.

The window engine reports a window's copies at its hand-back
(:class:`~geosim.core.events.WindowMirrored`): per source row, when its producer heard
the ack, when the flow's acknowledged position passed its copy, and its compressed
bytes. :class:`WindowCopies` answers what of them was acknowledged and not yet copied
at an instant: for the samples the fold took inside the window, and for those it takes
until the last is copied.
"""

from __future__ import annotations

import math

import numpy as np


class WindowCopies:
    """Windows of rows (ack times, copy times, compressed bytes), each as arrays."""

    def __init__(self) -> None:
        self._windows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def __bool__(self) -> bool:
        return bool(self._windows)

    def add(self, acked, copied, size) -> None:
        """One window's rows (array-likes of equal length; none: nothing added)."""
        if len(copied):
            self._windows.append((np.asarray(acked), np.asarray(copied), np.asarray(size)))

    def last_copy(self) -> float:
        """When the last of the rows is copied (-inf if none)."""
        return max((float(c.max()) for _a, c, _s in self._windows), default=-math.inf)

    def uncopied(self, at: float) -> tuple[int, float]:
        """The compressed bytes of the rows acknowledged by ``at`` and not yet copied
        then, and the oldest of their ack times (inf if none)."""
        nbytes, oldest = 0, math.inf
        for acked, copied, size in self._windows:
            held = (acked <= at) & (copied > at)
            if held.any():
                nbytes += int(size[held].sum())
                oldest = min(oldest, float(acked[held].min()))
        return nbytes, oldest

    def forget(self, now: float) -> None:
        """Drop the windows whose rows were all copied by ``now``."""
        self._windows = [w for w in self._windows if float(w[1].max()) > now]

    def extend(self, other: WindowCopies) -> None:
        self._windows.extend(other._windows)


__all__ = ["WindowCopies"]
