"""The function every executor runs: one scenario, one seed, one summary.

It takes and returns plain data (the resolved scenario as YAML text, the summary as a
dict), so it runs the same in this process, in a local worker process or on a Dask
worker on another machine, and needs nothing there but geosim itself. It never raises
for a failing run: the error is returned, and recorded, so one bad run does not abort
a sweep.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from typing import Any

#: Lines of traceback kept with a failed run.
TRACEBACK_LINES = 12


def execute(task: dict[str, Any]) -> dict[str, Any]:
    """Run ``task`` (``run_id``, ``scenario_yaml``) and return its outcome.

    The outcome has ``run_id``, ``status`` (``ok`` or ``error``), ``summary`` (the
    summary dict, or None), ``error`` (``Type: message``, or None), ``traceback`` and
    ``wall_seconds`` and ``worker`` (wall-clock facts, kept out of the results table).
    """
    started = time.perf_counter()
    outcome: dict[str, Any] = {"run_id": task["run_id"], "status": "ok", "summary": None,
                               "error": None, "traceback": None,
                               "worker": f"{socket.gethostname()}:{os.getpid()}"}
    try:
        outcome["summary"] = run_task(task)
    except Exception as exc:  # recorded with the run; the sweep goes on
        outcome["status"] = "error"
        message = str(exc).splitlines()[0] if str(exc) else ""
        outcome["error"] = f"{type(exc).__name__}: {message}".rstrip(": ")
        lines = traceback.format_exc().rstrip().splitlines()
        outcome["traceback"] = "\n".join(lines[-TRACEBACK_LINES:])
    outcome["wall_seconds"] = time.perf_counter() - started
    return outcome


def run_task(task: dict[str, Any]) -> dict:
    """The summary of the run ``task`` describes (raises whatever the run raises)."""
    import yaml

    from geosim.budget import Budget
    from geosim.runner import run
    from geosim.scenario.loader import scenario_from_dict

    scenario = scenario_from_dict(yaml.safe_load(task["scenario_yaml"]),
                                  source=f"<run {task['run_id']}>")
    limits = task.get("budget")
    return run(scenario, budget=Budget(**limits) if limits is not None else None).summary


def identity() -> dict[str, str]:
    """The geosim a worker imports: version and location (checked by the Dask executor)."""
    import geosim

    return {"version": geosim.__version__, "path": os.path.dirname(geosim.__file__)}
