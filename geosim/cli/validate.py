"""``geosim validate``: load and check a scenario, run nothing.

::

    geosim validate FILE [--set KEY=VALUE ...]

Loads the scenario with the checks ``geosim run`` applies, then builds it without
starting the clock (:func:`geosim.preflight.preflight`: topology, links, placements,
workload, the strategy's model), so what ``validate`` accepts ``run`` can start. Prints
``ok: <name> (<strategy>, <n> regions, <n> faults)``; a scenario the loader, its checks
or the build reject is a one-line error with exit status 2.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from geosim.cli.common import (
    UserError,
    add_budget_arguments,
    add_scenario_arguments,
    budget_from_args,
    scenario_from_args,
)


def add_validate_command(commands: Any) -> None:
    """Register ``validate`` on the ``geosim`` sub-command parser."""
    validate = commands.add_parser("validate", help="load and check a scenario, run nothing")
    add_scenario_arguments(validate)
    add_budget_arguments(validate)
    validate.set_defaults(handler=cmd_validate)


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    """Load ``args.file`` with its overrides, build it, and print one line about it."""
    from geosim.preflight import preflight
    from geosim.scenario.errors import ScenarioError

    scenario = scenario_from_args(args)
    try:
        preflight(scenario, source=str(args.file), budget=budget_from_args(args))
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    print(f"ok: {scenario.name} ({scenario.strategy.name}, "
          f"{_plural(len(scenario.topology.regions), 'region')}, "
          f"{_plural(len(scenario.faults), 'fault')})", file=out)
    return 0


def _plural(count: int, noun: str) -> str:
    """``1 region``, ``3 regions``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
