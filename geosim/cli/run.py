"""``geosim run``: run one scenario, print its summary table and write its results.

::

    geosim run FILE [--seed N] [--out DIR] [--set KEY=VALUE ...] [--no-progress] [--quiet]

The output directory is checked before the run starts and written only after it has
finished (atomically, by :func:`geosim.output.writer.write_results`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from geosim.cli.common import (
    UserError,
    add_budget_arguments,
    add_scenario_arguments,
    add_seed_argument,
    budget_from_args,
    check_writable,
    scenario_from_args,
)
from geosim.cli.progress import run_with_progress


def add_run_command(commands: Any) -> None:
    """Register ``run`` on the ``geosim`` sub-command parser."""
    run = commands.add_parser("run", help="run a scenario and write its results")
    add_scenario_arguments(run)
    add_seed_argument(run)
    add_budget_arguments(run)
    run.add_argument("--out", metavar="DIR", help="results directory "
                     "(default: results/<scenario name>/seed-<n>/)")
    run.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    run.add_argument("--history", metavar="FILE",
                     help="also write a Jepsen-style history (EDN) of sampled probe records "
                          "to FILE (docs/histories.md)")
    run.add_argument("--history-probes", metavar="N", type=int, default=None,
                     help="probe records in the history (default 5000)")
    run.add_argument("--quiet", action="store_true",
                     help="print only the results path (no table, no progress bar)")
    run.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``args.file``; print the summary table (unless ``--quiet``) and the results path."""
    from geosim.output.table import format_summary
    from geosim.output.writer import write_results
    from geosim.scenario.seed import settle_seed

    scenario = scenario_from_args(args, seed=args.seed)
    seed = settle_seed(scenario, args.seed)
    out_dir = Path(args.out) if args.out else Path("results") / scenario.name / f"seed-{seed}"
    check_writable(out_dir)
    history = _history_recorder(args)

    result = run_with_progress(
        scenario, seed, not (args.no_progress or args.quiet) and scenario.simulation.progress,
        budget_from_args(args), subscribe=history.subscribe if history else None)

    if not args.quiet:
        print(format_summary(result.summary), file=out)
    try:
        path = write_results(result, out_dir)
    except OSError as exc:
        raise UserError(f"--out {out_dir}: cannot write results: "
                        f"{exc.strerror or exc}") from None
    print(f"results: {path}" if not args.quiet else str(path), file=out)
    if history is not None:
        try:
            count = history.write(args.history)
        except OSError as exc:
            raise UserError(f"--history {args.history}: cannot write: "
                            f"{exc.strerror or exc}") from None
        if not args.quiet:
            print(f"history: {args.history} ({count:,} operations, "
                  f"{len(history.probes):,} probes)", file=out)
    return 0


def _history_recorder(args: argparse.Namespace) -> Any:
    """The history recorder ``--history`` asks for (None without it), its file checked
    before the run."""
    from geosim.output.history import DEFAULT_PROBES, HistoryRecorder
    if args.history_probes is not None and args.history is None:
        raise UserError("--history-probes: needs --history FILE")
    if args.history is None:
        return None
    probes = DEFAULT_PROBES if args.history_probes is None else args.history_probes
    if not 1 <= probes <= 10_000_000:
        raise UserError(f"--history-probes: must be between 1 and 10,000,000, got {probes}")
    target = Path(args.history)
    parent = target.parent if str(target.parent) else Path(".")
    if target.is_dir() or not parent.is_dir():
        raise UserError(f"--history {args.history}: expected a file path in an existing "
                        f"folder")
    return HistoryRecorder(probes)
