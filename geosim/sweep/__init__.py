"""Sweeps: many runs over a grid of scenario fields and seeds, on a chosen executor.

``geosim sweep FILE --grid key=v1,v2 --seeds 1-20 [--jobs N | --scheduler ADDR]``;
from Python, :func:`sweep`; a saved table, :func:`geosim.output.frames.load_sweep`.
See docs/sweep.md.
"""

from geosim.sweep.driver import SweepOutcome, run_sweep, sweep
from geosim.sweep.executors import DaskExecutor, ExecutorError, LocalExecutor, make_executor
from geosim.sweep.grid import Factor, GridError, RunSpec, parse_factors, parse_seeds, plan

__all__ = ["DaskExecutor", "ExecutorError", "Factor", "GridError", "LocalExecutor",
           "RunSpec", "SweepOutcome", "make_executor", "parse_factors", "parse_seeds",
           "plan", "run_sweep", "sweep"]
