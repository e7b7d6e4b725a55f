"""From a run to its bill: when to snapshot the counters, and the windows to price.

The steady state is from the end of warmup to the first fault's start (or to the end of
production when there is no fault, or the fault starts within the warmup). The outage
window is from the first fault's start to the end of production, so that catch-up after
the fault is part of it; its extra cost is its usage minus the steady rate over it.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from geosim.cost.bill import Bill, compute_bill
from geosim.cost.deployment import resolve_deployment
from geosim.cost.prices import load_price_book
from geosim.cost.usage import CounterSnapshots, usage_between
from geosim.scenario.schema import Scenario


def windows(scenario: Scenario) -> tuple[tuple[float, float], tuple[float, float] | None]:
    """(steady window, outage window or None), in simulated seconds."""
    sim = scenario.simulation
    starts = [f.at for f in scenario.faults]
    first = min(starts) if starts else None
    if first is None or first <= sim.warmup:
        steady = (sim.warmup, sim.duration)
    else:
        steady = (sim.warmup, first)
    outage = (first, sim.duration) if first is not None and first < sim.duration else None
    return steady, outage


def snapshot_times(scenario: Scenario) -> list[float]:
    steady, outage = windows(scenario)
    return sorted({*steady, *(outage or ())})


def acked_bytes(timeseries: pd.DataFrame, start: float, end: float) -> float:
    """Acknowledged uncompressed bytes in bins starting in ``[start, end)``."""
    if timeseries.empty:
        return 0.0
    rows = timeseries[(timeseries["metric"] == "acked_bytes") & (timeseries["t"] >= start)
                      & (timeseries["t"] < end)]
    return float(rows["value"].sum())


def bill_run(scenario: Scenario, snapshots: CounterSnapshots, timeseries: pd.DataFrame, *,
             compression_ratio: float, broker_counts: Mapping[str, int]) -> Bill | None:
    """The bill of a finished run, or None without a provider (``topology.provider: none``)."""
    deployment = resolve_deployment(scenario, broker_counts=broker_counts)
    if deployment is None:
        return None
    book = load_price_book(deployment.provider, scenario.cost.prices)
    steady_window, outage_window = windows(scenario)

    def usage(window: tuple[float, float]):
        return usage_between(snapshots[window[0]], snapshots[window[1]],
                             written_bytes=acked_bytes(timeseries, *window),
                             compression_ratio=compression_ratio)

    steady = usage(steady_window)
    excess = None
    if outage_window is not None:
        during = usage(outage_window)
        excess = during.minus(steady.per_second().scaled(during.seconds, during.seconds))
    return compute_bill(deployment, book, steady, outage_excess=excess,
                        steady_window=steady_window)
