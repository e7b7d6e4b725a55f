"""Build a scenario into a world and run it: ``run(scenario, seed) -> Result``.

The run is a pure function of the (resolved) scenario and the seed: nothing reads the
wall clock except the run-info timings, which are kept out of the summary.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field

from geosim.budget import Budget, Watch, check_before, check_events
from geosim.clients.rate_control import RateControl
from geosim.clients.workload import resolve_workload
from geosim.components.metadata_store import MetadataStore, place_voters
from geosim.components.object_store import ObjectStore
from geosim.core.context import Context
from geosim.core.events import Recorder
from geosim.cost.from_run import bill_run, snapshot_times
from geosim.cost.usage import CounterSnapshots
from geosim.metrics.collector import MetricsCollector
from geosim.metrics.sections import sections_of
from geosim.metrics.summary import build_summary
from geosim.scenario.schema import Scenario
from geosim.scenario.seed import settle_seed
from geosim.strategies import registry
from geosim.strategies.base import World
from geosim.version import __version__
from geosim.world.faults import FaultInjector, fault_target, fault_window
from geosim.world.network import Network
from geosim.world.topology import Topology

PROGRESS_STEP = 1.0  # simulated seconds between progress callbacks
#: At most this many progress callbacks (and budget checks) per run: a run of simulated
#: days (an edge fleet) would otherwise spend its time stepping SimPy a second at a time.
PROGRESS_CALLS = 2000


def _topics(workload) -> tuple[list[str], list[int]] | None:
    """Declared topics' names and each partition's topic, for the per-topic fold."""
    topic_of = workload.topic_of()
    if topic_of is None:
        return None
    return [t.name for t in workload.topics], topic_of


@dataclass
class Result:
    """What a run produced: the deterministic summary, the metrics, and run info."""

    scenario: Scenario
    seed: int
    summary: dict
    report: object  # geosim.metrics.collector.MetricsReport
    run_info: dict = field(default_factory=dict)
    bill: object = None  # geosim.cost.Bill, or None without a price book

    def to_dataframe(self, what: str = "timeseries"):
        """The run as a pandas DataFrame: by default the tidy time series (t, region,
        metric, value); ``"latency"``: percentiles in seconds per kind, region and phase;
        ``"row"``: the headline metrics as one row (as in a sweep table); the name of a
        report section of the strategy: its frame (:mod:`geosim.metrics.sections`)."""
        from geosim.output.frames import result_frame
        return result_frame(self, what)

    def to_row(self) -> dict:
        """The headline metrics as one flat row, as a sweep table has them
        (:func:`geosim.output.frames.summary_row`)."""
        from geosim.output.frames import summary_row
        return summary_row(self.summary)


def build(scenario: Scenario, seed: int) -> tuple[Context, World, object]:
    """Wire every component of a scenario; nothing runs yet."""
    ctx = Context(seed=seed)
    topology = Topology(scenario.topology)
    network = Network(ctx, topology, bin_width=scenario.simulation.bin)
    store = ObjectStore(ctx, network, scenario.object_store, scenario.topology.provider)
    voters = place_voters(scenario.metadata, topology.zones)
    metadata = MetadataStore(ctx, network, scenario.metadata, voters)
    workload = resolve_workload(scenario, topology)
    world = World(ctx, scenario, topology, network, store, metadata, workload)
    strategy = registry()[scenario.strategy.name](world)
    return ctx, world, strategy


def run(scenario: Scenario, seed: int | None = None, *,
        progress: Callable[[float, float], None] | None = None,
        measure_memory: bool = False,
        subscribe: Callable[[Recorder], None] | None = None,
        budget: Budget | None = None) -> Result:
    """Run a scenario once. ``seed`` defaults to ``scenario.simulation.seed``
    (:func:`~geosim.scenario.seed.settle_seed`).

    ``subscribe``, if given, is called with the run's event recorder once the world is
    built and before anything runs, so that probes outside the model (coverage probes of
    ``geosim.testing``, a notebook's own counters) can subscribe to its typed events.
    They are called after the metrics collector for each event.

    ``budget`` (:mod:`geosim.budget`): refuse, with :class:`~geosim.budget.BudgetExceeded`,
    a run whose estimated memory exceeds it before building or whose estimated wall
    time (its strategy's event estimate) exceeds it once built, before its clock starts,
    and stop one whose projected wall time or peak memory exceeds it while running.
    None: no limits.
    """
    seed = settle_seed(scenario, seed)
    if budget is not None:
        check_before(scenario, budget)
    wall_start = time.perf_counter()
    if measure_memory:
        tracemalloc.start()
    ctx, world, strategy = build(scenario, seed)
    if budget is not None:
        check_events(strategy.estimate_events(), budget)
    sim = scenario.simulation
    windows = [fault_window(f) for f in scenario.faults]
    collector = MetricsCollector(
        ctx.recorder, regions=world.topology.regions, warmup=sim.warmup,
        fault_windows=windows, production_end=sim.duration, bin_width=sim.bin,
        offered_bytes_per_s=strategy.offered_bytes_per_s(),
        # An ack can only follow its object's commit within the producer's
        # delivery.timeout.ms; past that the collector stops waiting for one.
        ack_grace=world.workload.producer.delivery_timeout,
        # Reordering can only involve rows in flight together: a few per partition.
        check_window=8,
        topics=_topics(world.workload),
        sections=sections_of(scenario.strategy.name))
    if subscribe is not None:
        subscribe(ctx.recorder)
    injector = FaultInjector(world, strategy)
    # Cost: cumulative counters at the bounds of the steady state and of the outage.
    snapshots = CounterSnapshots(
        ctx.env, lambda: (world.network.bytes,
                          {**world.object_store.counters, **world.metadata.counters}),
        snapshot_times(scenario))
    strategy.start()
    injector.start()
    if world.workload.max_rate:
        RateControl(ctx.env, ctx.recorder, strategy.client_fleets,
                    world.workload.start_rate, sim.duration).start()
    end = sim.end
    env = ctx.env
    t = 0.0
    # The model allocates many short-lived objects and keeps a large live heap; full
    # collections of that heap dominated the run time, so collect less often.
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, 20, 20)
    watch = Watch(budget, end, time.perf_counter()) if budget is not None else None
    step = max(PROGRESS_STEP, end / PROGRESS_CALLS) if progress or watch else end
    try:
        while t < end:
            t = min(t + step, end)
            env.run(until=t)
            if progress:
                progress(t, end)
            if watch is not None:
                watch.check(t, time.perf_counter())
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
    snapshots.finish()
    live_memory = None
    if measure_memory:
        gc.collect()  # count what is reachable, not garbage awaiting a full collection
        live_memory = tracemalloc.get_traced_memory()[0]
    counters = {**world.object_store.counters, **world.metadata.counters,
                **strategy.counters(), "network_messages": world.network.messages}
    report = collector.finalize(end, bytes_by_pair=dict(world.network.bytes),
                                zone_region=dict(world.topology.zone_region),
                                counters=counters,
                                interconnects=world.network.interconnect_usage())
    meta = {
        "scenario": scenario.name, "strategy": scenario.strategy.name, "seed": seed,
        "geosim_version": __version__, "simulated_seconds": end,
        "faults": [{"kind": f.kind, "target": fault_target(f), "start": w[0],
                    "end": None if f.kind == "region-destruction" else w[1]}
                   for f, w in zip(scenario.faults, windows, strict=True)],
        "counters": counters,
        "resolution": strategy.resolution(),
    }
    bill = bill_run(scenario, snapshots, report.timeseries,
                    compression_ratio=world.workload.compression_ratio,
                    broker_counts=world.workload.broker_counts)
    meta["cost"] = bill.to_dict() if bill is not None else None
    summary = build_summary(report, meta=meta)
    wall = time.perf_counter() - wall_start
    run_info = {"wall_seconds": wall, "simulated_seconds": end,
                "sim_seconds_per_wall_second": end / wall if wall > 0 else None,
                # SimPy numbers every scheduled event; the next id is their count.
                "events": next(env._eid), **strategy.run_notes()}
    if measure_memory:
        run_info["peak_memory_bytes"] = tracemalloc.get_traced_memory()[1]
        # Memory held by the model and metrics when the simulation ends, before the
        # summary is built: what must not grow with simulated time.
        run_info["live_memory_bytes"] = live_memory
        tracemalloc.stop()
    return Result(scenario, seed, summary, report, run_info, bill)
