"""Benchmark: wall time of one sweep with 1 and 2 local jobs (and optionally on Dask),
and a check that every executor produced the same results table.

The sweep (default): the quickstart scenario, ``strategy.flush_interval`` in
{100ms, 250ms} x seeds 1-20 = 40 runs. Each executor writes to its own fresh directory,
so nothing is skipped. Wall time is measured around the whole sweep (planning, worker
start-up, runs, tables), as a user sees it.

Usage:
    python benchmarks/sweep_speedup.py [--scenario FILE] [--grid KEY=V1,V2] [--seeds 1-20]
                                       [--jobs 1,2] [--dask] [--scheduler tcp://HOST:PORT]

``--dask`` starts a local Dask cluster with 2 single-threaded worker processes (workers
import geosim from this tree); ``--scheduler`` uses an existing one.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geosim.sweep import (  # noqa: E402 (after making this tree importable)
    DaskExecutor,
    LocalExecutor,
    parse_factors,
    parse_seeds,
    plan,
    run_sweep,
)


def timed_sweep(specs, executor, out: Path) -> tuple[float, bytes]:
    """Wall seconds of the sweep and its results.csv; prints the run-time sum and load.

    The sum of the runs' own wall times over the sweep's wall time is the concurrency
    achieved; on a machine shared with other work it stays well below the job count.
    """
    import pandas as pd

    load = os.getloadavg()[0]
    start = time.perf_counter()
    outcome = run_sweep(specs, out, executor)
    wall = time.perf_counter() - start
    assert outcome.ran == len({s.run_id for s in specs}) and not outcome.failed, outcome
    busy = pd.read_csv(out / "timings.csv")["wall_seconds"].sum()
    print(f"    ({getattr(executor, 'description', '')}: runs' own wall time summed "
          f"{busy:.1f} s, concurrency {busy / wall:.2f}; 1-min load average "
          f"{load:.1f} before, {os.getloadavg()[0]:.1f} after)")
    return wall, (out / "results.csv").read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "quickstart.yaml"))
    parser.add_argument("--grid", action="append",
                        default=None, help="default: strategy.flush_interval=100ms,250ms")
    parser.add_argument("--seeds", default="1-20")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--jobs", default="1,2", help="local job counts to time")
    parser.add_argument("--dask", action="store_true", help="also time a local Dask cluster")
    parser.add_argument("--scheduler", help="also time this Dask cluster")
    args = parser.parse_args()

    grid = args.grid or ["strategy.flush_interval=100ms,250ms"]
    specs = plan(args.scenario, parse_factors(grid), parse_seeds(args.seeds), args.overrides)
    print(f"sweep: {len(specs)} runs of {Path(args.scenario).name} ({', '.join(grid)}, "
          f"seeds {args.seeds}); {os.cpu_count()} CPUs")
    times: dict[str, float] = {}
    tables: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for jobs in (int(j) for j in args.jobs.split(",")):
            name = f"local --jobs {jobs}"
            times[name], tables[name] = timed_sweep(specs, LocalExecutor(jobs),
                                                    Path(tmp) / f"jobs-{jobs}")
            print(f"  {name:<28} {times[name]:7.1f} s")
        cluster = None
        scheduler = args.scheduler
        if args.dask and not scheduler:
            from distributed import LocalCluster
            os.environ["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=40)
            scheduler = cluster.scheduler_address
        if scheduler:
            name = f"dask ({scheduler})"
            times[name], tables[name] = timed_sweep(specs, DaskExecutor(scheduler),
                                                    Path(tmp) / "dask")
            print(f"  {name:<28} {times[name]:7.1f} s")
        if cluster is not None:
            cluster.close()
    base = times.get("local --jobs 1")
    if base:
        for name, wall in times.items():
            print(f"  speed-up of {name} over --jobs 1: {base / wall:.2f}x")
    identical = len(set(tables.values())) == 1
    print(f"  results tables identical across executors: {'yes' if identical else 'NO'}")
    if not identical:
        sys.exit(1)


if __name__ == "__main__":
    main()
