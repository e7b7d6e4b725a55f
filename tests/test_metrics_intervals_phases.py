"""Interval unions (geosim.metrics.intervals) and measurement phases
(geosim.metrics.phases), exact: each rule of their docstrings at its boundary."""

from __future__ import annotations

import dataclasses
import math

import pytest

from geosim.metrics.intervals import union_intervals, union_keyed
from geosim.metrics.phases import PHASES, PhaseClock


@pytest.mark.parametrize(("spans", "union"), [
    ([], []),
    ([(5.0, 7.0)], [(5.0, 7.0)]),
    ([(5.0, 7.0), (1.0, 2.0)], [(1.0, 2.0), (5.0, 7.0)]),          # sorted
    ([(1.0, 3.0), (3.0, 4.0)], [(1.0, 4.0)]),                      # touching: merged
    ([(1.0, 3.0), (3.5, 4.0)], [(1.0, 3.0), (3.5, 4.0)]),          # a gap: kept apart
    ([(1.0, 10.0), (2.0, 4.0), (4.0, 6.0)], [(1.0, 10.0)]),        # inside: no shrink
    ([(1.0, 3.0), (2.0, 5.0), (5.0, 6.0), (8.0, 9.0)], [(1.0, 6.0), (8.0, 9.0)]),
])
def test_the_union_of_intervals_merges_overlapping_and_touching_ones(spans, union):
    assert union_intervals(spans) == union


def test_keyed_intervals_are_united_whatever_their_writer():
    items = {("us-west1", 10.0): 20.0, ("us-west2", 15.0): 30.0, ("us-west1", 40.0): 41.0}
    assert union_keyed(items.items()) == [(10.0, 30.0), (40.0, 41.0)]


def phases_at(clock: PhaseClock, *times: float) -> list[str]:
    assert [PHASES[clock.index(t)] for t in times] == [clock.phase(t) for t in times]
    return [clock.phase(t) for t in times]


def test_without_faults_everything_after_warmup_is_before_until_production_ends():
    clock = PhaseClock.build(30, [], 300)
    assert clock.bounds == (30.0, 300.0, 300.0, 300.0)
    assert clock.first_fault_start is None and clock.last_fault_end is None
    assert phases_at(clock, 0.0, 29.999, 30.0, 299.999, 300.0) == [
        "warmup", "warmup", "before", "before", "drain"]
    # a warmup longer than production ends with it
    assert PhaseClock.build(500, [], 300).bounds == (300.0, 300.0, 300.0, 300.0)


def test_faults_bound_the_during_phase_from_the_first_start_to_the_last_end():
    clock = PhaseClock.build(30, [(120, 140), (100, 160)], 300)
    assert clock.bounds == (30.0, 100.0, 160.0, 300.0)
    assert (clock.first_fault_start, clock.last_fault_end) == (100.0, 160.0)
    assert phases_at(clock, 99.999, 100.0, 159.999, 160.0, 299.999, 300.0) == [
        "before", "during", "during", "after", "after", "drain"]
    assert clock.span("warmup") == (-math.inf, 30.0)
    assert clock.span("during") == (100.0, 160.0)
    assert clock.span("drain") == (300.0, math.inf)


def test_a_destruction_lasts_until_production_ends():
    clock = PhaseClock.build(30, [(200, 200), (100, 150)], 300)
    assert clock.bounds == (30.0, 100.0, 300.0, 300.0)
    assert clock.last_fault_end == 300.0
    assert phases_at(clock, 299.0) == ["during"]


def test_boundaries_are_non_decreasing_from_the_right():
    # a fault inside the warmup cuts it short
    assert PhaseClock.build(30, [(10, 50)], 300).bounds == (10.0, 10.0, 50.0, 300.0)
    # a fault past the end of production: during ends there, its end is still reported
    clock = PhaseClock.build(30, [(250, 400)], 300)
    assert clock.bounds == (30.0, 250.0, 300.0, 300.0) and clock.last_fault_end == 400.0
    # a fault starting after production: no during, no after
    assert PhaseClock.build(30, [(350, 360)], 300).bounds == (30.0, 300.0, 300.0, 300.0)


def test_a_clock_cannot_be_changed_once_built():
    clock = PhaseClock.build(30, [], 300)
    with pytest.raises(dataclasses.FrozenInstanceError):
        clock.bounds = (0.0, 0.0, 0.0, 0.0)  # type: ignore[misc]
