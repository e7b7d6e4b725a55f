"""Resource budgets of a run: refuse what would exhaust memory or outlast the user.

A run is refused, with a one-line :class:`BudgetExceeded` naming what drives its size and
the flag that lifts the limit, when

* **before it starts**, the estimated memory of its model exceeds the memory budget.
  The estimate is :data:`BYTES_PER_PARTITION_REGION` per partition and per region of
  the topology: the Kafka engine holds each partition's replica state, log rows and
  consumer positions (about 3.4 KiB per partition measured on ``stretch-3-regions`` with
  100,000 partitions; ``tests/test_budget.py`` checks the figure), and a cross-cluster
  run holds the partitions once per cluster region. Other strategies hold less; the
  estimate is an upper bound for them;
* **while it runs**, after :attr:`Budget.grace_seconds` of wall time, the projected wall
  time (the measured simulated seconds per wall second applied to what is left) exceeds
  the wall-time budget, or the process's peak memory exceeds the memory budget.

Nothing here changes a result: a run within its budget is the same run. The library's
:func:`geosim.runner.run` applies a budget only when given one; the command line
applies :func:`default_budget` unless ``--no-budget``.
"""

from __future__ import annotations

import os
import resource
import sys
from dataclasses import dataclass

from geosim.core.units import format_bytes, format_duration

#: Estimated model memory per partition and per topology region (bytes).
BYTES_PER_PARTITION_REGION = 4096
#: Default wall-time budget of one run: six hours.
DEFAULT_WALL_SECONDS = 6 * 3600.0
#: Default memory budget: this share of the machine's physical memory.
DEFAULT_MEMORY_SHARE = 0.8


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


class Watch:
    """Checks a running simulation against a budget at each step of the run loop."""

    def __init__(self, budget: Budget, end: float, now: float):
        self.budget = budget
        self.end = end
        self.started = now

    def check(self, t: float, now: float) -> None:
        """``t``: simulated time reached; ``now``: the wall clock (perf_counter)."""
        budget = self.budget
        elapsed = now - self.started
        if budget.memory_bytes is not None:
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


__all__ = ["BYTES_PER_PARTITION_REGION", "Budget", "BudgetExceeded", "Watch",
           "check_before", "default_budget", "estimated_memory", "physical_memory"]
