"""``geosim compare``: one scenario under several strategies, side by side
(:mod:`geosim.compare`).

::

    geosim compare FILE --strategies NAME,NAME,... [--seed N] [--out DIR] [--jobs N]
                   [--set KEY=VALUE ...]

Names are ``compare:`` entries of the scenario file or the scenario's own strategy
(see :mod:`geosim.compare.variants`). An unknown name, a strategy without parameters or
a variant the scenario checks reject is a one-line error with exit status 2.
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
    add_seed_argument,
    budget_from_args,
    check_writable,
    parse_jobs,
)


def add_compare_command(commands: Any) -> None:
    """Register ``compare`` on the ``geosim`` sub-command parser."""
    compare = commands.add_parser("compare", help="run a scenario under several strategies "
                                  "and write a side-by-side report")
    add_scenario_arguments(compare)
    compare.add_argument("--strategies", required=True, metavar="NAME,NAME,...",
                         help="variants to compare: entries of the scenario's compare: "
                         "block, or its own strategy's name")
    add_seed_argument(compare)
    add_budget_arguments(compare)
    compare.add_argument("--jobs", type=parse_jobs, default=1, metavar="N",
                         help="run variants in N local processes (default 1)")
    compare.add_argument("--out", metavar="DIR", help="report directory "
                         "(default: results/<scenario name>/compare-seed-<n>/)")
    compare.add_argument("--no-plots", action="store_true", help="write no PNG files")
    compare.add_argument("--quiet", action="store_true", help="print only the report's path")
    compare.set_defaults(handler=cmd_compare)


def cmd_compare(args: argparse.Namespace, out: TextIO) -> int:
    """Resolve the variants, run them, write the report directory; print its path."""
    from geosim.budget import BudgetExceeded
    from geosim.compare.report import run_variants, write_report
    from geosim.compare.variants import parse_names, resolve_variants
    from geosim.scenario.errors import ScenarioError
    from geosim.scenario.seed import settle_seed

    path = Path(args.file)
    if not path.is_file():
        raise UserError(f"{args.file}: {'is a directory' if path.is_dir() else 'no such file'}")
    try:
        names = parse_names(args.strategies)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    try:
        variants = resolve_variants(path, names, args.overrides, seed=args.seed)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    first = variants[0].scenario
    # Loading wrote --seed, if given, into every variant; each runs with its own seed.
    seed = settle_seed(first)
    out_dir = Path(args.out) if args.out else (
        Path("results") / first.name / f"compare-seed-{seed}")
    check_writable(out_dir)
    if not args.quiet:
        print(f"compare: {', '.join(names)} on {first.name}, seed {seed}", file=out)

    def progress(name: str) -> None:
        if not args.quiet:
            print(f"  {name}: done", file=sys.stderr)

    try:
        results = run_variants(variants, jobs=args.jobs, progress=progress,
                               budget=budget_from_args(args))
    except BudgetExceeded as exc:
        raise UserError(str(exc)) from None
    try:
        path = write_report(results, out_dir, plots=not args.no_plots,
                            descriptions={v.name: v.description for v in variants})
    except OSError as exc:
        raise UserError(f"--out {out_dir}: cannot write the report: "
                        f"{exc.strerror or exc}") from None
    print(path / "report.md" if args.quiet else f"report: {path / 'report.md'}", file=out)
    return 0
