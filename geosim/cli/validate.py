"""``geosim validate``: load and check a scenario, run nothing.

::

    geosim validate FILE [--set KEY=VALUE ...]

Prints ``ok: <name> (<strategy>, <n> regions, <n> faults)``; a scenario the loader or
its checks reject is a one-line error with exit status 2.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from geosim.cli.common import add_scenario_arguments, scenario_from_args


def add_validate_command(commands: Any) -> None:
    """Register ``validate`` on the ``geosim`` sub-command parser."""
    validate = commands.add_parser("validate", help="load and check a scenario, run nothing")
    add_scenario_arguments(validate)
    validate.set_defaults(handler=cmd_validate)


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    """Load ``args.file`` with its overrides and print one line about it."""
    scenario = scenario_from_args(args)
    print(f"ok: {scenario.name} ({scenario.strategy.name}, "
          f"{_plural(len(scenario.topology.regions), 'region')}, "
          f"{_plural(len(scenario.faults), 'fault')})", file=out)
    return 0


def _plural(count: int, noun: str) -> str:
    """``1 region``, ``3 regions``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
