"""``geosim cost``: a quick monthly cost estimate from a short steady-state run.

::

    geosim cost FILE [--seed N] [--duration D] [--warmup D] [--full] [--json]
                [--set KEY=VALUE ...] [--no-progress]

Without ``--full`` the scenario runs without faults for ``--warmup`` plus ``--duration``
and no drain; with it, as written, and the outage is priced too. A scenario without a
provider is a one-line error.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from geosim.cli.common import (
    UserError,
    add_budget_arguments,
    add_scenario_arguments,
    add_seed_argument,
    budget_from_args,
    scenario_from_args,
)
from geosim.cli.progress import run_with_progress


def add_cost_command(commands: Any) -> None:
    """Register ``cost`` on the ``geosim`` sub-command parser."""
    cost = commands.add_parser("cost", help="a quick monthly cost estimate from a short "
                               "steady-state run (no faults)")
    add_scenario_arguments(cost)
    add_seed_argument(cost)
    add_budget_arguments(cost)
    cost.add_argument("--duration", default="20s", metavar="DURATION",
                      help="steady-state time to measure after the warmup (default 20s)")
    cost.add_argument("--warmup", metavar="DURATION", help="warmup before measuring "
                      "(default: the scenario's, at most 10s)")
    cost.add_argument("--full", action="store_true", help="run the scenario as written "
                      "(faults, durations) and also price the outage")
    cost.add_argument("--json", action="store_true", help="print the cost block of "
                      "summary.json instead of the table")
    cost.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    cost.set_defaults(handler=cmd_cost)


def cmd_cost(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``args.file`` (shortened unless ``--full``) and print its monthly bill."""
    import json

    from geosim.core.units import UnitError, parse_duration
    from geosim.output.table import format_cost
    from geosim.scenario.seed import settle_seed

    if not args.full:
        scenario = scenario_from_args(args, seed=args.seed)
        try:
            duration = parse_duration(args.duration)
            warmup = (min(scenario.simulation.warmup, 10.0) if args.warmup is None
                      else parse_duration(args.warmup))
        except UnitError as exc:
            raise UserError(f"cost: {exc}") from None
        if duration <= 0:
            raise UserError(f"cost: --duration must be > 0, got {args.duration!r}")
        args.overrides = [*args.overrides, "faults=[]", f"simulation.warmup={warmup}",
                          f"simulation.duration={warmup + duration}", "simulation.drain=0"]
    scenario = scenario_from_args(args, seed=args.seed)
    if scenario.cost.provider is None and scenario.topology.provider == "none":
        raise UserError(f"{args.file}: cost.provider: must be set (gcp, aws or azure): "
                        f"topology.provider is none")
    seed = settle_seed(scenario, args.seed)
    result = run_with_progress(scenario, seed,
                               not args.no_progress and scenario.simulation.progress,
                               budget_from_args(args))
    cost = result.summary.get("cost")
    if args.json:
        print(json.dumps(cost, indent=2, sort_keys=True), file=out)
    else:
        print("\n".join(format_cost(result.summary)), file=out)
    return 0
