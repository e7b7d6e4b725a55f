"""Measurement phases of a run: warmup, before, during, after and drain.

Given the warmup end, the fault windows and the end of production, time ``t`` is in

- ``warmup`` if ``t < warmup``;
- ``before`` if ``t <`` the first fault's start (steady state);
- ``during`` if ``t <`` the last fault's end, where a fault whose end equals its
  start (a destruction: permanent) lasts until ``production_end``;
- ``after`` if ``t < production_end``;
- ``drain`` otherwise (producers have stopped; consumers read what is left).

With no faults, everything between warmup and ``production_end`` is ``before``.
Boundaries are forced to be non-decreasing from the right: a fault starting inside
the warmup cuts the warmup short, a fault lasting past ``production_end`` makes
``during`` end there.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

PHASES: tuple[str, ...] = ("warmup", "before", "during", "after", "drain")


@dataclass(frozen=True, slots=True)
class PhaseClock:
    """Maps a time to its phase index in :data:`PHASES` with one bisection."""

    bounds: tuple[float, float, float, float]
    first_fault_start: float | None
    last_fault_end: float | None

    @classmethod
    def build(cls, warmup: float, fault_windows: Sequence[tuple[float, float]],
              production_end: float) -> PhaseClock:
        """Phase boundaries from the run's parameters (see the module docstring)."""
        if not fault_windows:
            end = float(production_end)
            return cls((min(float(warmup), end), end, end, end), None, None)
        first = min(float(start) for start, _ in fault_windows)
        last = max(float(end) if end > start else float(production_end)
                   for start, end in fault_windows)
        b3 = float(production_end)
        b2 = min(last, b3)
        b1 = min(first, b2)
        b0 = min(float(warmup), b1)
        return cls((b0, b1, b2, b3), first, last)

    def index(self, t: float) -> int:
        """Index into :data:`PHASES` of the phase containing time ``t``."""
        return bisect_right(self.bounds, t)

    def phase(self, t: float) -> str:
        return PHASES[bisect_right(self.bounds, t)]

    def span(self, phase: str) -> tuple[float, float]:
        """``(start, end)`` of a phase (``-inf``/``inf`` at the open ends)."""
        i = PHASES.index(phase)
        edges = (-float("inf"), *self.bounds, float("inf"))
        return edges[i], edges[i + 1]
