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

A latency sample's phase is its record's send time (:func:`add_latencies`): a row's
send window that crosses a bound is cut there.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from geosim.core.events import Row

if TYPE_CHECKING:
    from geosim.metrics.histogram import LatencyHistogram

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


def add_latencies(histograms: list[LatencyHistogram], bounds: Sequence[float], t: float,
                  rows: Iterable[Row]) -> None:
    """Add the rows' records, at latencies ``t - send`` spread over each row's send
    window, to the histogram of the phase each record was sent in. Consecutive rows
    with the same window (rows cut at one flush: a writer's object carries one per
    broker) are added as one spread; a row whose window crosses a phase bound (records
    a producer held from before a fault into it) is cut there (:func:`_add_across`)."""
    first = last = math.nan  # equal to no row's window
    weight = 0
    phase = 0
    across = False
    for row in rows:
        if row.send_first != first or row.send_last != last:
            if weight:
                histograms[phase].add_uniform(t - last, t - first, weight)
                weight = 0
            first, last = row.send_first, row.send_last
            phase = bisect_right(bounds, first)
            across = phase < len(bounds) and bounds[phase] <= last
        if across:
            _add_across(histograms, bounds, t, row, phase)
        else:
            weight += row.records
    if weight:
        histograms[phase].add_uniform(t - last, t - first, weight)


def _add_across(histograms: list[LatencyHistogram], bounds: Sequence[float], t: float,
                row: Row, phase: int) -> None:
    """A row whose send window starts in ``phase`` and crosses one or more phase
    bounds: each phase gets its share of the records over its part of the window
    (:func:`sent_before`)."""
    first, last, records = row.send_first, row.send_last, row.records
    done = 0
    lo = first
    while phase < len(bounds) and bounds[phase] <= last:
        bound = bounds[phase]
        before = sent_before(first, last, records, bound)
        if before > done:
            histograms[phase].add_uniform(t - bound, t - lo, before - done)
            done = before
        lo = bound
        phase += 1
    if records > done:
        histograms[phase].add_uniform(t - last, t - lo, records - done)


def sent_before(first: float, last: float, records: int, t: float) -> int:
    """Of ``records`` sent uniformly over ``[first, last]`` (as the latency spreads take
    them), how many were sent before ``t``: the window's share before ``t``, rounded
    to a whole record (half up). A window ending at ``t`` was sent wholly before it."""
    if last <= t:
        return records if last < t or first < last else 0
    if first >= t:
        return 0
    return math.floor(records * (t - first) / (last - first) + 0.5)


def sent_from(row: Row, t: float) -> bool:
    """Whether any of ``row``'s records was sent at or after ``t`` (as
    :func:`sent_before` shares them out)."""
    return sent_before(row.send_first, row.send_last, row.records, t) < row.records
