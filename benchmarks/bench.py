"""Benchmark: simulation speed and memory of a scenario (default: the flagship).

Reports, measured in one process:
  * simulated seconds per wall second (the run, metrics included);
  * events per wall second, next to SimPy's raw timeout throughput measured here, as a
    ratio (how much model work each event carries);
  * peak traced memory (tracemalloc) for two simulated durations, to show whether memory
    grows with simulated time. Objects awaiting their asynchronous cross-region copy are
    state the model must keep (a destruction loses exactly them), so memory grows until
    the replication window is full (about an hour with GCS's default SLA); a second pair
    of runs with a 1-minute window shows that beyond it memory is flat.

Usage: python benchmarks/bench.py [SCENARIO] [--duration 60s] [--seed N] [--set KEY=VALUE ...]

``--set`` applies scenario overrides as ``geosim run --set`` does, e.g.
``--set strategy.brokers_per_writer=6`` to measure the flagship simulated in writers.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from pathlib import Path

import simpy

from geosim.core.units import format_bytes, parse_duration
from geosim.runner import run
from geosim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def simpy_timeouts_per_second(n: int = 300_000) -> float:
    env = simpy.Environment()

    def proc(env):
        for _ in range(n):
            yield env.timeout(0.001)

    env.process(proc(env))
    start = time.perf_counter()
    env.run()
    return n / (time.perf_counter() - start)


SHORT_WINDOW = ["object_store.replication.preset=custom", "object_store.replication.p50=10s",
                "object_store.replication.p999=50s", "object_store.replication.max=60s"]


def measure(path: Path, duration: float, seed: int, memory: bool = False,
            extra: list[str] = ()) -> dict:
    # Steady state only: the fault timeline is dropped so any duration is valid.
    scenario = load_scenario(path, ["faults=[]", f"simulation.duration={duration}",
                                    "simulation.drain=0", "simulation.warmup=10", *extra])
    gc.collect()
    start = time.perf_counter()
    result = run(scenario, seed, measure_memory=memory)
    wall = time.perf_counter() - start
    events = result.run_info["events"]
    return {"duration": duration, "wall": wall, "events": events,
            "peak": result.run_info.get("peak_memory_bytes"),
            "live": result.run_info.get("live_memory_bytes")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?",
                        default=str(ROOT / "scenarios" / "bufstream-multi-region.yaml"))
    parser.add_argument("--duration", default="60s")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="scenario override (repeatable)")
    args = parser.parse_args()
    duration = parse_duration(args.duration)
    raw = simpy_timeouts_per_second()
    speed = measure(Path(args.scenario), duration, args.seed, memory=False,
                    extra=args.overrides)
    events_per_s = speed["events"] / speed["wall"]
    print(f"scenario: {args.scenario}" + "".join(f" --set {o}" for o in args.overrides))
    print(f"simulated {duration:.0f} s (no faults) in {speed['wall']:.2f} s wall: "
          f"{duration / speed['wall']:.1f} simulated s per wall s")
    print(f"events: {speed['events']} = {events_per_s:,.0f}/s wall; raw SimPy timeouts "
          f"{raw:,.0f}/s; ratio {events_per_s / raw:.3f}")
    for label, extra in (("default replication window", []),
                         ("1-minute replication window", SHORT_WINDOW)):
        at_t, at_2t = live_memory_growth(Path(args.scenario), duration, args.seed,
                                         [*args.overrides, *extra])
        print(f"live memory ({label}), one run: {format_bytes(at_t)} at {duration:.0f} s, "
              f"{format_bytes(at_2t)} at {2 * duration:.0f} s (ratio {at_2t / at_t:.2f})")


def live_memory_growth(path: Path, duration: float, seed: int,
                       extra: list[str]) -> tuple[int, int]:
    """Reachable memory (after a full collection) at ``duration`` and at twice it, in
    one run, so both readings hold the same model and differ only in simulated time."""
    scenario = load_scenario(path, ["faults=[]", f"simulation.duration={2 * duration}",
                                    "simulation.drain=0", "simulation.warmup=10", *extra])
    readings: dict[float, int] = {}

    def progress(now: float, _end: float) -> None:
        if now in (duration, 2 * duration):
            gc.collect()
            readings[now] = tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        run(scenario, seed, progress=progress)
    finally:
        tracemalloc.stop()
    return readings[duration], readings[2 * duration]


if __name__ == "__main__":
    main()
