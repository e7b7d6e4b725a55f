"""``geosim sweep``: run a scenario over a grid of fields and seeds (:mod:`geosim.sweep`).

::

    geosim sweep FILE --grid KEY=V1,V2 ... [--seeds 1-20] [--jobs N | --scheduler ADDR]
                 [--max-runs N] [--out DIR] [--set KEY=VALUE ...] [--no-progress] [--quiet]

Bad input (a malformed ``--grid`` or ``--seeds``, more runs than ``--max-runs``
(default 1,000,000), a key or value the scenario rejects, a grid point whose build
fails, an unreachable scheduler) is a one-line error with exit status 2 and nothing
runs. A plan of more than :data:`PLAN_NOTICE` runs is announced on stderr, with its run
count, before its grid points are checked.
Ctrl-C stops the sweep, keeps the runs already finished (each written atomically) and
exits with status 130; running the same command again executes only the missing runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from geosim.cli.common import (
    UserError,
    add_budget_arguments,
    add_scenario_arguments,
    budget_from_args,
    check_writable,
    parse_jobs,
    scenario_from_args,
)

#: Plans of more runs than this take seconds or more to resolve: say so on stderr first.
PLAN_NOTICE = 1000


def add_sweep_command(commands: Any) -> None:
    """Register ``sweep`` on the ``geosim`` sub-command parser."""
    sweep = commands.add_parser("sweep", help="run a scenario over a grid of fields and seeds")
    add_scenario_arguments(sweep)
    add_budget_arguments(sweep)
    sweep.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                       help="a factor: a scenario field (dotted path, as --set) and its "
                       "values (repeatable; runs are the cartesian product)")
    sweep.add_argument("--seeds", metavar="RANGE", help="seeds, e.g. 1-20 or 1,3,5-7 "
                       "(default: the scenario's simulation.seed)")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=parse_jobs, default=1, metavar="N",
                       help="local worker processes (default 1)")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="run on this Dask distributed cluster")
    sweep.add_argument("--max-runs", type=parse_jobs, default=None, metavar="N",
                       help="allow a plan of up to N runs (grid points x seeds; default "
                       "1,000,000)")
    sweep.add_argument("--out", metavar="DIR", help="sweep directory "
                       "(default: results/<scenario name>/sweep/)")
    sweep.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    sweep.add_argument("--quiet", action="store_true", help="print only the table's path")
    sweep.set_defaults(handler=cmd_sweep)


def cmd_sweep(args: argparse.Namespace, out: TextIO) -> int:
    """Plan the sweep, run the runs not yet stored, write the tables; 1 if a run failed."""
    from geosim.scenario.errors import ScenarioError
    from geosim.sweep.driver import run_sweep
    from geosim.sweep.executors import ExecutorError, make_executor
    from geosim.sweep.grid import (
        MAX_RUNS,
        GridError,
        check_size,
        parse_factors,
        parse_seeds,
        plan,
    )

    max_runs = args.max_runs or MAX_RUNS
    try:
        factors = parse_factors(args.grid)
        seeds = parse_seeds(args.seeds, max_runs) if args.seeds is not None else None
        runs = check_size(factors, seeds, max_runs)
    except GridError as exc:
        raise UserError(str(exc)) from None
    scenario = scenario_from_args(args)  # file-level problems, reported as `geosim run` does
    if runs > PLAN_NOTICE and not args.quiet:
        points = runs // (len(seeds) if seeds is not None else 1)
        print(f"sweep: planning {runs:,} runs ({_describe_plan(factors, seeds)}): checking "
              f"and building {points:,} grid point{'s' if points != 1 else ''}",
              file=sys.stderr, flush=True)
    try:
        budget = budget_from_args(args)
        specs = plan(args.file, factors, seeds, args.overrides, max_runs=max_runs,
                     budget=budget)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    out_dir = Path(args.out) if args.out else Path("results") / scenario.name / "sweep"
    check_writable(out_dir)
    try:
        executor = make_executor(args.jobs, args.scheduler)
    except ExecutorError as exc:
        raise UserError(str(exc)) from None

    bar: Any = None
    show = not (args.no_progress or args.quiet)

    def on_start(to_run: int, skipped: int) -> None:
        nonlocal bar
        if not args.quiet:
            print(f"sweep: {len(specs)} runs ({_describe(factors, specs)}) on "
                  f"{executor.description}; {skipped} already done, {to_run} to run",
                  file=out)
        if show and to_run:
            from tqdm import tqdm
            bar = tqdm(total=to_run, unit="run", desc="sweep", file=sys.stderr,
                       dynamic_ncols=True, smoothing=0.1)

    def on_outcome(result: dict[str, Any]) -> None:
        if result["status"] != "ok" and not args.quiet:
            message = f"run {result['run_id']} failed: {result['error']}"
            (bar.write(message, file=sys.stderr) if bar is not None
             else print(message, file=sys.stderr))
        if bar is not None:
            bar.update(1)

    description = {"scenario_file": str(args.file), "overrides": list(args.overrides),
                   "grid": {f.key: list(f.values) for f in factors},
                   "seeds": sorted({spec.seed for spec in specs})}
    try:
        result = run_sweep(specs, out_dir, executor, description=description,
                           on_start=on_start, on_outcome=on_outcome, budget=budget)
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        print(f"geosim: interrupted; finished runs are saved in {out_dir / 'runs'}; run the "
              f"same command again to finish the others", file=sys.stderr)
        return 130
    finally:
        if bar is not None:
            bar.close()
    table_path = out_dir / "results.parquet"
    if args.quiet:
        print(table_path, file=out)
    else:
        failed = f", {len(result.failed)} failed" if result.failed else ""
        print(f"done: {result.ran} run, {result.skipped} skipped{failed}", file=out)
        print(f"results: {table_path} (and results.csv)", file=out)
    return 1 if result.failed else 0


def _describe(factors: list, specs: list) -> str:
    return _describe_counts(factors, len({spec.seed for spec in specs}))


def _describe_plan(factors: list, seeds: list[int] | None) -> str:
    return _describe_counts(factors, len(seeds) if seeds is not None else 1)


def _describe_counts(factors: list, seeds: int) -> str:
    parts = [f"{f.key} x{len(f.values)}" for f in factors]
    return ", ".join([*parts, f"{seeds:,} seed{'s' if seeds != 1 else ''}"])
