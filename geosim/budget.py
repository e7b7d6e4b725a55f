"""Resource budgets of a run: refuse what would exhaust memory or outlast the user.

A run is refused, with a one-line :class:`BudgetExceeded` naming what drives its size and
the flag that lifts the limit, when

* **before it starts**, the estimated memory of its model exceeds the memory budget.
  The estimate is :data:`BYTES_PER_PARTITION_REGION` per partition and per region of
  the topology: the Kafka engine holds each partition's replica state, log rows and
  consumer positions (4.0 to 4.15 KiB per partition measured on ``stretch-3-regions``
  from the difference of builds with 2,000 and 20,000 partitions;
  ``tests/test_budget.py`` checks the figure), and a cross-cluster
  run holds the partitions once per cluster region. Other strategies hold less; the
  estimate is an upper bound for them;
* **before its clock starts**, the estimated wall time exceeds the wall-time budget:
  the strategy counts the SimPy events its built model will schedule
  (:meth:`geosim.strategies.base.Strategy.estimate_events`, a sum of terms: a structural
  count such as fetch loops or send clocks, times their cycle rate, times the simulated
  seconds they run, times the events a cycle schedules; ``docs/budgets.md``), and the
  wall time is that count over :data:`EVENTS_PER_WALL_SECOND`. The error names the
  largest term, the scenario field its seconds come from, and the flags;
* **while it runs**, after :attr:`Budget.grace_seconds` of wall time, the projected wall
  time (the measured simulated seconds per wall second applied to what is left) exceeds
  the wall-time budget, or the process's peak memory exceeds the memory budget.

Nothing here changes a result: a run within its budget is the same run. The library's
:func:`geosim.runner.run` applies a budget only when given one; the command line
applies :func:`default_budget` unless ``--no-budget``.
"""

from __future__ import annotations

import math
import os
import resource
import sys
from dataclasses import dataclass

from geosim.core.estimate import EventEstimate
from geosim.core.units import format_bytes, format_duration

#: Estimated model memory per partition and per topology region (bytes): an upper bound
#: of the Kafka engine's measured 4.0 to 4.15 KiB per partition of stretch-3-regions
#: (``tests/test_budget.py``; 3.4 KiB before the fetch pairs kept their session's order
#: and the engine its later state).
BYTES_PER_PARTITION_REGION = 4608
#: Events per wall second assumed by the pre-run wall-time estimate: a conservative
#: constant, not a measurement at start. The bundled scenarios ran at 28,000 (the
#: flagship ``kafka-stretch-seed000``, the slowest per event) to 180,000 events per wall
#: second on a 2-core machine shared with other work (``tests/test_event_estimate.py``
#: records how to measure them); the slowest, rounded down, keeps the estimate on the
#: long side. A measurement at start (SimPy's raw throughput, as ``benchmarks/bench.py``
#: takes it) would follow the machine but not the model's work per event, which varies
#: more (1 to 6 times) than machines do, and would cost every run a second.
EVENTS_PER_WALL_SECOND = 25_000
#: Default wall-time budget of one run: six hours.
DEFAULT_WALL_SECONDS = 6 * 3600.0
#: Default memory budget: this share of the machine's physical memory.
DEFAULT_MEMORY_SHARE = 0.8
#: Wall seconds between two reads of the run's peak memory (:class:`Watch`).
MEMORY_CHECK_INTERVAL = 1.0


class BudgetExceeded(Exception):
    """A run would exceed its budget; the message is one line."""


@dataclass(frozen=True)
class Budget:
    """Limits of one run; ``None`` means unlimited."""

    wall_seconds: float | None = DEFAULT_WALL_SECONDS
    memory_bytes: int | None = None
    grace_seconds: float = 5.0   # wall time before the first projection


def physical_memory() -> int | None:
    """The machine's physical memory in bytes, if the platform says."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def default_budget() -> Budget:
    """Six hours of wall time, 80% of the machine's physical memory."""
    memory = physical_memory()
    return Budget(memory_bytes=int(memory * DEFAULT_MEMORY_SHARE) if memory else None)


def estimated_memory(scenario) -> tuple[int, str]:
    """(bytes, what drives them) of a scenario's model, before it is built."""
    omb = scenario.workload.omb
    partitions = getattr(omb, "topics", 1) * getattr(omb, "partitionsPerTopic", 1)
    regions = len(scenario.topology.regions)
    driver = (f"{partitions:,} partitions (workload.omb topics x partitionsPerTopic) over "
              f"{regions} region(s)")
    return BYTES_PER_PARTITION_REGION * partitions * regions, driver


def peak_memory() -> int:
    """This process's peak resident memory (bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def check_before(scenario, budget: Budget) -> None:
    """Refuse a scenario whose estimated model memory exceeds the budget."""
    if budget.memory_bytes is None:
        return
    need, driver = estimated_memory(scenario)
    if need > budget.memory_bytes:
        raise BudgetExceeded(
            f"the model would need about {format_bytes(need)} of memory for {driver}, "
            f"over the budget of {format_bytes(budget.memory_bytes)}; reduce the "
            f"workload, or raise --max-memory (or --no-budget)")


def estimated_wall(estimate: EventEstimate) -> float:
    """Wall seconds a run of ``estimate``'s events is expected to take."""
    return estimate.total / EVENTS_PER_WALL_SECOND


def check_events(estimate: EventEstimate | None, budget: Budget) -> None:
    """Refuse a built model whose estimated wall time exceeds the budget (before its
    clock starts). ``estimate``: the strategy's (None: it gives none; nothing checked)."""
    if budget.wall_seconds is None or estimate is None:
        return
    wall = estimated_wall(estimate)
    if wall <= budget.wall_seconds:
        return
    driver = estimate.driver()
    what = f", driven by {driver.describe()}" if driver is not None else ""
    raise BudgetExceeded(
        f"the run would take about {format_duration(wall)} of wall time: about "
        f"{estimate.total:,.0f} events{what}, at {EVENTS_PER_WALL_SECOND:,} events per "
        f"wall s; over the budget of {format_duration(budget.wall_seconds)}; shorten "
        f"simulation.duration or the workload, or raise --max-wall (or --no-budget)")


class Watch:
    """Checks a running simulation against a budget at each step of the run loop."""

    def __init__(self, budget: Budget, end: float, now: float):
        self.budget = budget
        self.end = end
        self.started = now
        self._memory_at = -math.inf  # wall clock of the last memory check

    def check(self, t: float, now: float) -> None:
        """``t``: simulated time reached; ``now``: the wall clock (perf_counter). Memory
        is read at most every ``MEMORY_CHECK_INTERVAL`` wall seconds: reading the peak
        resident size costs milliseconds in some sandboxes (2.3 ms a call measured on the
        project's machine), against microseconds for the rest of a check."""
        budget = self.budget
        elapsed = now - self.started
        if budget.memory_bytes is not None and now - self._memory_at >= MEMORY_CHECK_INTERVAL:
            self._memory_at = now
            peak = peak_memory()
            if peak > budget.memory_bytes:
                raise BudgetExceeded(
                    f"the run reached {format_bytes(peak)} of memory at {t:g} of "
                    f"{self.end:g} simulated s, over the budget of "
                    f"{format_bytes(budget.memory_bytes)}; reduce the workload, or raise "
                    f"--max-memory (or --no-budget)")
        if budget.wall_seconds is None or elapsed < budget.grace_seconds or t <= 0:
            return
        rate = t / elapsed
        projected = elapsed + (self.end - t) / rate
        if projected > budget.wall_seconds:
            raise BudgetExceeded(
                f"the run would take about {format_duration(projected)} of wall time "
                f"({rate:.3g} simulated s per wall s measured over the first "
                f"{elapsed:.0f} s, for {self.end:g} simulated s), over the budget of "
                f"{format_duration(budget.wall_seconds)}; shorten simulation.duration or "
                f"the workload, or raise --max-wall (or --no-budget)")


__all__ = ["BYTES_PER_PARTITION_REGION", "EVENTS_PER_WALL_SECOND", "MEMORY_CHECK_INTERVAL",
           "Budget", "BudgetExceeded", "Watch", "check_before", "check_events", "default_budget",
           "estimated_memory", "estimated_wall", "physical_memory"]
