"""``geosim strategies``: list the registered replication strategies, one a line, with
the first line of each one's description."""

from __future__ import annotations

import argparse
from typing import Any, TextIO


def add_strategies_command(commands: Any) -> None:
    """Register ``strategies`` on the ``geosim`` sub-command parser."""
    strategies = commands.add_parser("strategies", help="list the replication strategies")
    strategies.set_defaults(handler=cmd_strategies)


def strategy_registry() -> dict[str, Any]:
    """The strategy plug-ins by name (each with its ``description``); no model is imported."""
    from geosim.scenario.plugins import plugins

    return plugins()


def cmd_strategies(args: argparse.Namespace, out: TextIO) -> int:
    """Print ``name  description`` per strategy, sorted by name."""
    registered = strategy_registry()
    width = max((len(name) for name in registered), default=0)
    for name in sorted(registered):
        description = (getattr(registered[name], "description", "") or "").strip()
        first_line = description.splitlines()[0] if description else ""
        print(f"{name:<{width}}  {first_line}".rstrip(), file=out)
    return 0
