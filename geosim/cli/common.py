"""What every ``geosim`` sub-command shares: the one-line user error, the argument parser
that raises it, argument types, loading the scenario named on the command line and
checking that an output directory can be written.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, NoReturn

PROG = "geosim"


class UserError(Exception):
    """A mistake in the user's input; reported as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and raise :class:`UserError`."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix(PROG).strip()
        raise UserError(f"{command}: {message}" if command else message)


def _integer_at_least(text: str, minimum: int, expected: str) -> int:
    """``text`` as an integer >= ``minimum``; else an argparse error: expected ``expected``."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def parse_seed(text: str) -> int:
    """A root random seed (``--seed``): a non-negative integer."""
    return _integer_at_least(text, 0, "a non-negative integer")


def parse_jobs(text: str) -> int:
    """A number of worker processes (``--jobs``): a positive integer."""
    return _integer_at_least(text, 1, "a positive integer")


def add_seed_argument(sub: argparse.ArgumentParser) -> None:
    """``--seed N``: the run's root seed; without it, the scenario's (settled by
    :func:`geosim.scenario.seed.settle_seed`)."""
    sub.add_argument("--seed", type=parse_seed, help="root random seed "
                     "(default: the scenario's simulation.seed)")


def _duration(text: str) -> float:
    from geosim.core.units import UnitError, parse_duration
    try:
        value = parse_duration(text)
    except UnitError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive duration, got {text!r}")
    return value


def _size(text: str) -> int:
    from geosim.core.units import UnitError, parse_size
    try:
        value = parse_size(text)
    except (UnitError, OverflowError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive size, got {text!r}")
    return value


def add_budget_arguments(sub: argparse.ArgumentParser) -> None:
    """``--max-wall``, ``--max-memory``, ``--no-budget``: the run's resource budget
    (:mod:`geosim.budget`)."""
    sub.add_argument("--max-wall", type=_duration, metavar="DURATION",
                     help="stop a run projected to take longer (default 6h)")
    sub.add_argument("--max-memory", type=_size, metavar="SIZE",
                     help="refuse or stop a run needing more memory (default: 80%% of "
                     "this machine's)")
    sub.add_argument("--no-budget", action="store_true",
                     help="no wall-time or memory limit")


def budget_from_args(args: argparse.Namespace) -> Any:
    """The :class:`geosim.budget.Budget` the arguments ask for (None: no budget)."""
    from dataclasses import replace

    from geosim.budget import default_budget
    if getattr(args, "no_budget", False):
        return None
    budget = default_budget()
    if getattr(args, "max_wall", None) is not None:
        budget = replace(budget, wall_seconds=args.max_wall)
    if getattr(args, "max_memory", None) is not None:
        budget = replace(budget, memory_bytes=args.max_memory)
    return budget


def add_scenario_arguments(sub: argparse.ArgumentParser) -> None:
    """The scenario file and its ``--set`` overrides, common to the commands that load one."""
    sub.add_argument("file", metavar="FILE", help="scenario YAML file")
    sub.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="KEY=VALUE", help="override a scenario field by its dotted "
                     "path, e.g. simulation.duration=10m (repeatable)")
    sub.add_argument("--overlay", dest="overlays", action="append", default=[],
                     metavar="FILE", help="apply an overlay file's --set items (e.g. a fit "
                     "written by geosim calibrate) before any --set (repeatable)")


def expand_overlays(args: argparse.Namespace) -> None:
    """Put the items of ``--overlay`` files before the ``--set`` items of ``args``."""
    from geosim.scenario.errors import ScenarioError
    from geosim.scenario.overlay import read_overlay

    items: list[str] = []
    for path in getattr(args, "overlays", None) or ():
        if not Path(path).is_file():
            raise UserError(f"--overlay {path}: no such file")
        try:
            items += read_overlay(path)
        except ScenarioError as exc:
            raise UserError(str(exc)) from None
    if items:
        args.overrides = [*items, *args.overrides]


def scenario_from_args(args: argparse.Namespace, seed: int | None = None) -> Any:
    """The scenario of ``args.file`` with ``--set`` overrides; user errors as UserError."""
    from geosim.scenario.errors import ScenarioError
    from geosim.scenario.loader import load_scenario

    path = Path(args.file)
    if not path.is_file():
        reason = "is a directory" if path.is_dir() else "no such file"
        raise UserError(f"{args.file}: {reason}")
    try:
        return load_scenario(path, args.overrides, seed=seed)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"{args.file}: {exc.strerror or exc}") from None


def check_writable(out_dir: Path) -> None:
    """Raise :class:`UserError` unless ``out_dir`` could be created or replaced."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out {out_dir}: exists and is not a directory")
    ancestor = out_dir.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UserError(f"--out {out_dir}: {ancestor} is not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UserError(f"--out {out_dir}: {ancestor} is not writable")
