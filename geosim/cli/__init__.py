"""The ``geosim`` command line: run, validate, estimate cost, list strategies, sweep,
compare, advise.

::

    geosim run scenarios/x.yaml --seed 3 --set simulation.duration=10m
    geosim validate scenarios/x.yaml
    geosim cost scenarios/x.yaml --duration 30s
    geosim strategies
    geosim sweep scenarios/x.yaml --grid strategy.flush_interval=100ms,250ms --seeds 1-20
    geosim compare scenarios/x.yaml --strategies diskless-bucket,diskless-quorum
    geosim advise scenarios/x.yaml --objectives scenarios/x.objectives.yaml

One module per sub-command (:mod:`~geosim.cli.run`, :mod:`~geosim.cli.validate`,
:mod:`~geosim.cli.cost`, :mod:`~geosim.cli.strategies`, :mod:`~geosim.cli.sweep`,
:mod:`~geosim.cli.compare`, :mod:`~geosim.cli.advise`), each registering its parser
with ``add_<name>_command``;
what they share is in :mod:`geosim.cli.common` and :mod:`geosim.cli.progress`.

A mistake the user can fix (a bad scenario, a missing file, a malformed ``--set``, an
output directory that cannot be written) is reported as one line on stderr,
``geosim: error: <message>``, with exit status 2 and no traceback; nothing is written.
Results are written only after a run has finished. Anything else is a bug in geosim:
exit status 1, a one-line message, and the traceback when ``GEOSIM_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from geosim.cli.advise import add_advise_command
from geosim.cli.calibrate import add_calibrate_command
from geosim.cli.common import PROG, Parser, UserError, expand_overlays
from geosim.cli.compare import add_compare_command
from geosim.cli.cost import add_cost_command
from geosim.cli.run import add_run_command
from geosim.cli.strategies import add_strategies_command
from geosim.cli.sweep import add_sweep_command
from geosim.cli.validate import add_validate_command

__all__ = ["UserError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``geosim`` command."""
    parser = Parser(prog=PROG, description="Discrete-event simulator of geo-replicated "
                    "streaming clusters.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=Parser)
    add_run_command(commands)
    add_validate_command(commands)
    add_cost_command(commands)
    add_strategies_command(commands)
    add_sweep_command(commands)
    add_compare_command(commands)
    add_advise_command(commands)
    add_calibrate_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``geosim`` command with ``argv`` (default: ``sys.argv[1:]``); return status."""
    try:
        args = build_parser().parse_args(argv)
        expand_overlays(args)
        return args.handler(args, sys.stdout)
    except UserError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing written", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug in geosim, not the user's mistake
        if os.environ.get("GEOSIM_DEBUG") == "1":
            traceback.print_exc()
        else:
            message = str(exc).splitlines()[0] if str(exc) else ""
            print(f"{PROG}: internal error: {type(exc).__name__}: {message} "
                  f"(set GEOSIM_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1
