"""Driving a sweep: skip what is finished, execute the rest, record each run, tabulate.

:func:`run_sweep` is what ``geosim sweep`` calls; :func:`sweep` is the same for a
notebook, with the grid as a dict.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geosim.sweep.executors import Executor, LocalExecutor, make_executor
from geosim.sweep.grid import MAX_RUNS, Factor, RunSpec, plan
from geosim.sweep.store import SweepStore


@dataclass
class SweepOutcome:
    """What one invocation of a sweep did, and the resulting table."""

    out_dir: Path
    planned: int
    skipped: int
    ran: int
    failed: list[str] = field(default_factory=list)  # run ids that failed this time
    table: pd.DataFrame | None = None


def run_sweep(specs: Sequence[RunSpec], out_dir: str | Path, executor: Executor, *,
              description: Mapping[str, Any] | None = None,
              on_outcome: Callable[[dict[str, Any]], None] | None = None,
              on_start: Callable[[int, int], None] | None = None,
              budget: Any = None) -> SweepOutcome:
    """Execute the runs of ``specs`` not yet finished in ``out_dir``; write the tables.

    Each run's directory is written, and its line appended to ``timings.csv``, as soon
    as its outcome arrives, so an interrupted sweep (KeyboardInterrupt propagates, after
    the executor is closed) keeps its finished runs and their timings, and rerunning it
    executes only the others. ``on_start(to_run,
    skipped)`` is called once before executing, ``on_outcome`` after each run is saved.
    The executor is closed on return. ``budget`` (:class:`geosim.budget.Budget`) applies
    to each run: a run over it ends as an error of that run, and the sweep goes on.
    """
    from geosim.version import __version__

    store = SweepStore(out_dir)
    store.open()
    store.write_plan({**(description or {}), "runs": len(specs),
                      "run_ids": [spec.run_id for spec in specs]})
    done = store.finished(specs, __version__)
    # Two grid points may resolve to the same scenario: the run is executed once.
    todo = list({spec.run_id: spec for spec in specs if spec.run_id not in done}.values())
    by_id = {spec.run_id: spec for spec in todo}
    outcome = SweepOutcome(Path(out_dir), planned=len(specs),
                           skipped=len({s.run_id for s in specs} & done), ran=0)
    if on_start:
        on_start(len(todo), outcome.skipped)
    try:
        limits = asdict(budget) if budget is not None else None
        tasks = [{"run_id": spec.run_id, "scenario_yaml": spec.scenario_yaml,
                  "budget": limits} for spec in todo]
        for result in executor.map_unordered(tasks):
            spec = by_id[result["run_id"]]
            # The timing line first: if the sweep dies before the run directory is in
            # place, reopening the store drops the line and the run is executed again.
            store.append_timing(spec.run_id, {
                "status": result["status"], "wall_seconds": result.get("wall_seconds"),
                "worker": result.get("worker"),
                "executor": getattr(executor, "description", "")})
            store.write_run(spec, result, __version__)
            outcome.ran += 1
            if result["status"] != "ok":
                outcome.failed.append(spec.run_id)
            if on_outcome:
                on_outcome(result)
    finally:
        executor.close()
    outcome.table = store.write_tables(specs)
    return outcome


def _as_text(value: Any) -> str:
    """A grid value as ``--set`` text: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def sweep(path: str | Path, grid: Mapping[str, Iterable[Any]] | None = None,
          seeds: Iterable[int] | None = None, *, out: str | Path, jobs: int = 1,
          scheduler: str | None = None, overrides: Sequence[str] = (),
          max_runs: int | None = MAX_RUNS) -> pd.DataFrame:
    """Run a sweep from Python and return its results table.

    A plan of more than ``max_runs`` runs (None: no bound) raises
    :class:`~geosim.sweep.grid.GridError` before anything is loaded.

    >>> table = sweep("scenarios/quickstart.yaml",                 # doctest: +SKIP
    ...               {"strategy.flush_interval": ["100ms", "250ms"]},
    ...               seeds=range(1, 4), out="results/qs-sweep", jobs=2)
    """
    factors = [Factor(key, tuple(_as_text(v) for v in values))
               for key, values in (grid or {}).items()]
    specs = plan(path, factors, list(seeds) if seeds is not None else None, overrides,
                 max_runs=max_runs)
    executor = make_executor(jobs, scheduler) if scheduler else LocalExecutor(jobs)
    description = {"scenario_file": str(path), "overrides": list(overrides),
                   "grid": {f.key: list(f.values) for f in factors},
                   "seeds": sorted({s.seed for s in specs})}
    result = run_sweep(specs, out, executor, description=description)
    assert result.table is not None
    return result.table
